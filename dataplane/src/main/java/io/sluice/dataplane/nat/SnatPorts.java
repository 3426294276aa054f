package io.sluice.dataplane.nat;

import org.agrona.collections.Long2LongHashMap;

import java.util.Arrays;

/**
 * SNAT port blocks for outbound-only VMs (docs/nat.md, "Port allocation"), the platforms' way:
 * each SNAT address's ports {@value #PORT_MIN}..65535 are cut into blocks of {@code blockSize};
 * a VM takes a block when it needs one, up to {@code blocksPerVm}; its new flows get an external
 * port inside its own blocks only. The mapping is endpoint-independent (RFC 4787 REQ-1): a binding
 * (VM, protocol, internal port) → external (address, port) is shared by every flow of that internal
 * port, counted by the conntrack entries that use it, and returned when the last one ends; a block
 * with no binding left goes back to the pool. Nothing is ever taken from another VM or from a live
 * binding: when the VM's blocks are full and it holds its limit, {@link #acquire} fails (exhaustion).
 * IP address pooling is paired (RFC 4787 REQ-2): every block a VM holds is on one SNAT address (the
 * one its first block is on), so all its flows leave with one address; a VM whose address has no
 * free block left is exhausted even if another address has one.
 *
 * <p>A <em>slot</em> is one (block, protocol class, offset): {@code ((block * 3 + class) * blockSize + offset)};
 * block = address index * blocksPerAddress + block number. TCP, UDP and ICMP echo identifiers
 * (class 0, 1, 2) are separate port spaces, as in Linux. Deterministic: the lowest free offset in
 * the VM's blocks in the order it took them, then the lowest free block of the pool.
 * {@link ReferenceSnatPorts} is the obviously-right twin; property tests hold them equal.
 *
 * <p>One writer (the worker that owns the conntrack entries); allocation-free after construction.
 */
public final class SnatPorts {
    public static final int PORT_MIN = 1024;
    public static final int CLASSES = 3;

    private final int addresses, blocksPerAddress, blockSize, blocksPerVm;
    private final int[] blockOwner;
    private final int[] blockUsed;
    /** Per (block, class): free slots. */
    private final int[] classFree;
    private final int[] slotPort;
    private final int[] slotRefs;
    private final int[] vmBlocks;
    private final int[] vmBlockCount;
    private final int[] addrBlocks;
    private final Long2LongHashMap bindings;
    private long acquired, released;

    public SnatPorts(int addresses, int blocksPerAddress, int blockSize, int blocksPerVm, int vms) {
        this.addresses = addresses;
        this.blocksPerAddress = blocksPerAddress;
        this.blockSize = blockSize;
        this.blocksPerVm = blocksPerVm;
        int blocks = addresses * blocksPerAddress;
        blockOwner = new int[blocks];
        Arrays.fill(blockOwner, -1);
        blockUsed = new int[blocks];
        classFree = new int[blocks * CLASSES];
        Arrays.fill(classFree, blockSize);
        long slots = (long) blocks * CLASSES * blockSize;
        if (slots > Integer.MAX_VALUE / 2) throw new IllegalArgumentException("too many SNAT slots: " + slots);
        slotPort = new int[(int) slots];
        Arrays.fill(slotPort, -1);
        slotRefs = new int[(int) slots];
        vmBlocks = new int[Math.max(1, vms) * blocksPerVm];
        vmBlockCount = new int[Math.max(1, vms)];
        addrBlocks = new int[Math.max(1, addresses)];
        long most = Math.min(slots, (long) Math.max(1, vms) * blocksPerVm * blockSize * CLASSES);
        bindings = new Long2LongHashMap((int) Math.min(1 << 30, most * 2 + 16), 0.65f, -1L);
    }

    /** Protocol class of an IP protocol (TCP 0, UDP 1, ICMP 2), or -1: not translated by SNAT. */
    public static int protoClass(int proto) {
        return proto == NatRewrite.TCP ? 0 : proto == NatRewrite.UDP ? 1 : proto == NatRewrite.ICMP ? 2 : -1;
    }

    private static long key(int vm, int cls, int port) { return ((long) vm << 20) | ((long) cls << 16) | port; }

    /**
     * The slot of (vm, class, internal port): its existing binding, or a new one; its reference
     * count goes up by one (one per conntrack entry). -1: exhausted (the VM's blocks are full and it
     * holds {@code blocksPerVm} blocks, or its address — the pool, for its first block — has no free block).
     */
    public int acquire(int vm, int cls, int port) {
        long k = key(vm, cls, port);
        long found = bindings.get(k);
        if (found >= 0) {
            slotRefs[(int) found]++;
            acquired++;
            return (int) found;
        }
        int base = vm * blocksPerVm;
        int n = vmBlockCount[vm];
        for (int b = 0; b < n; b++) {
            int blk = vmBlocks[base + b];
            if (classFree[blk * CLASSES + cls] > 0) return bind(blk, cls, port, k);
        }
        if (n == blocksPerVm) return -1;
        int blk = -1;
        // paired pooling (RFC 4787 REQ-2): a VM's blocks are all on the address of its first block
        int from = n == 0 ? 0 : vmBlocks[base] / blocksPerAddress * blocksPerAddress;
        int to = n == 0 ? blockOwner.length : from + blocksPerAddress;
        for (int x = from; x < to; x++) {
            if (blockOwner[x] < 0) {
                blk = x;
                break;
            }
        }
        if (blk < 0) return -1;
        take(vm, blk);
        return bind(blk, cls, port, k);
    }

    /** The free block {@code blk} becomes the VM's (its next one). */
    private void take(int vm, int blk) {
        int n = vmBlockCount[vm];
        blockOwner[blk] = vm;
        vmBlocks[vm * blocksPerVm + n] = blk;
        INTS.setRelease(vmBlockCount, vm, n + 1); // read by the control thread: busy()
        addrBlocks[blk / blocksPerAddress]++;
    }

    private int bind(int blk, int cls, int port, long k) {
        int slot = (blk * CLASSES + cls) * blockSize;
        while (slotPort[slot] >= 0) slot++;
        bindAt(slot, blk, cls, port, k);
        return slot;
    }

    /** The free {@code slot} (of the VM's block {@code blk}) is bound to internal {@code port}, one user. */
    private void bindAt(int slot, int blk, int cls, int port, long k) {
        slotPort[slot] = port;
        slotRefs[slot] = 1;
        classFree[blk * CLASSES + cls]--;
        blockUsed[blk]++;
        bindings.put(k, slot);
        acquired++;
    }

    /**
     * Warm restart (docs/conntrack.md, "Limits and NAT"): one kept conntrack entry names {@code slot}
     * (its NAT word) for (vm, class, internal port); the binding is rebuilt (or, when another kept
     * entry rebuilt it already, its reference count goes up), and so are the block's owner and the
     * VM's block list. False (nothing changed; the entry must go) when the slot cannot be that
     * binding: out of range, another class, bound to another port or VM, its block owned by another
     * VM, the VM's port already bound elsewhere, more than {@code blocksPerVm} blocks or two addresses.
     * A VM's blocks are listed in the order their first entry is adopted.
     */
    public boolean adopt(int vm, int cls, int port, int slot) {
        if (slot < 0 || slot >= slotPort.length || vm < 0 || vm >= vmBlockCount.length || cls < 0 || cls >= CLASSES
                || cls != classOf(slot) || port < 0 || port > 0xFFFF) return false;
        int blk = slot / (CLASSES * blockSize);
        if (slotPort[slot] >= 0) {
            if (slotPort[slot] != port || blockOwner[blk] != vm) return false;
            slotRefs[slot]++;
            acquired++;
            return true;
        }
        long k = key(vm, cls, port);
        if (bindings.get(k) >= 0) return false;
        if (blockOwner[blk] < 0) {
            int n = vmBlockCount[vm];
            if (n == blocksPerVm || (n > 0 && vmBlocks[vm * blocksPerVm] / blocksPerAddress != blk / blocksPerAddress)) return false;
            take(vm, blk);
        } else if (blockOwner[blk] != vm) {
            return false;
        }
        bindAt(slot, blk, cls, port, k);
        return true;
    }

    /** Number of slots (the range of a NAT word's slot). */
    public int slots() { return slotPort.length; }

    /** One conntrack entry using {@code slot} is gone; the last one returns the port (and an empty block). */
    public void release(int slot) {
        if (slot < 0 || slot >= slotPort.length || slotPort[slot] < 0) {
            throw new IllegalStateException("release of free SNAT slot " + slot);
        }
        released++;
        if (--slotRefs[slot] > 0) return;
        int blk = slot / (CLASSES * blockSize);
        int cls = (slot / blockSize) % CLASSES;
        int vm = blockOwner[blk];
        bindings.remove(key(vm, cls, slotPort[slot]));
        slotPort[slot] = -1;
        classFree[blk * CLASSES + cls]++;
        if (--blockUsed[blk] > 0) return;
        blockOwner[blk] = -1;
        addrBlocks[blk / blocksPerAddress]--;
        int base = vm * blocksPerVm;
        int n = vmBlockCount[vm];
        int b = 0;
        while (vmBlocks[base + b] != blk) b++;
        System.arraycopy(vmBlocks, base + b + 1, vmBlocks, base + b, n - b - 1);
        INTS.setRelease(vmBlockCount, vm, n - 1);
    }

    /** The live slot that external (address index, class, port) is bound to, or -1 (no mapping). */
    public int inbound(int addr, int cls, int extPort) {
        if (addr < 0 || addr >= addresses || cls < 0 || extPort < PORT_MIN) return -1;
        int j = (extPort - PORT_MIN) / blockSize;
        if (j >= blocksPerAddress) return -1;
        int blk = addr * blocksPerAddress + j;
        int slot = (blk * CLASSES + cls) * blockSize + (extPort - PORT_MIN) % blockSize;
        return slotPort[slot] >= 0 ? slot : -1;
    }

    public int vmOf(int slot) { return blockOwner[slot / (CLASSES * blockSize)]; }

    public int internalPort(int slot) { return slotPort[slot]; }

    public int classOf(int slot) { return (slot / blockSize) % CLASSES; }

    public int addressIndex(int slot) { return slot / (CLASSES * blockSize) / blocksPerAddress; }

    public int externalPort(int slot) {
        int blk = slot / (CLASSES * blockSize);
        return PORT_MIN + (blk % blocksPerAddress) * blockSize + slot % blockSize;
    }

    /** Conntrack entries holding the slot. */
    public int refs(int slot) { return slotPort[slot] >= 0 ? slotRefs[slot] : 0; }

    /** Blocks the VM holds. */
    public int blocksOf(int vm) { return vmBlockCount[vm]; }

    private static final java.lang.invoke.VarHandle INTS = java.lang.invoke.MethodHandles.arrayElementVarHandle(int[].class);

    /**
     * Control thread: whether NAT VM slot {@code vm} still holds a block (a binding of a live
     * connection), so it may not be given to another VM yet ({@code NatSlots}). Read while the worker
     * writes: once no snapshot in use gives the slot a VM, its count only goes down, so a stale read
     * only says busy for longer.
     */
    public boolean busy(int vm) { return vm >= 0 && vm < vmBlockCount.length && (int) INTS.getAcquire(vmBlockCount, vm) > 0; }

    /** Blocks in use on SNAT address {@code addr}. */
    public int blocksInUse(int addr) { return addrBlocks[addr]; }

    /** Live bindings. */
    public int bindings() { return bindings.size(); }

    public long acquiredCount() { return acquired; }

    public long releasedCount() { return released; }
}
