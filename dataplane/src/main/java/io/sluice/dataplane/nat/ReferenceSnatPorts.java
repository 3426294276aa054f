package io.sluice.dataplane.nat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The obviously-right twin of {@link SnatPorts}: bindings in a map, blocks in lists, the same
 * policy written as plainly as possible (lowest free port in the VM's blocks in the order it took
 * them, else the lowest free block of the pool — on the address of its first block, paired pooling —
 * at most blocksPerVm). Not for the fast path.
 * Answers in external terms: (address index, class, external port).
 */
public final class ReferenceSnatPorts {
    /** An external endpoint: SNAT address index, protocol class, port. */
    public record External(int addr, int cls, int port) {}

    private record Binding(int vm, int cls, int internalPort) {}

    private final int addresses, blocksPerAddress, blockSize, blocksPerVm;
    /** Global block → owning VM. */
    private final TreeMap<Integer, Integer> owner = new TreeMap<>();
    private final Map<Integer, List<Integer>> vmBlocks = new HashMap<>();
    private final Map<Binding, External> bound = new HashMap<>();
    private final Map<External, Binding> reverse = new HashMap<>();
    private final Map<External, Integer> refs = new HashMap<>();

    public ReferenceSnatPorts(int addresses, int blocksPerAddress, int blockSize, int blocksPerVm) {
        this.addresses = addresses;
        this.blocksPerAddress = blocksPerAddress;
        this.blockSize = blockSize;
        this.blocksPerVm = blocksPerVm;
    }

    private External at(int blk, int cls, int offset) {
        return new External(blk / blocksPerAddress, cls, SnatPorts.PORT_MIN + (blk % blocksPerAddress) * blockSize + offset);
    }

    /** The external endpoint of (vm, class, internal port), bound now if needed; null when exhausted. */
    public External acquire(int vm, int cls, int port) {
        Binding b = new Binding(vm, cls, port);
        External e = bound.get(b);
        if (e == null) {
            List<Integer> mine = vmBlocks.computeIfAbsent(vm, x -> new ArrayList<>());
            e = freeIn(mine, cls);
            if (e == null && mine.size() < blocksPerVm) {
                for (int blk = 0; blk < addresses * blocksPerAddress; blk++) {
                    boolean sameAddress = mine.isEmpty() || blk / blocksPerAddress == mine.get(0) / blocksPerAddress;
                    if (!owner.containsKey(blk) && sameAddress) {
                        owner.put(blk, vm);
                        mine.add(blk);
                        e = at(blk, cls, 0);
                        break;
                    }
                }
            }
            if (e == null) return null;
            bound.put(b, e);
            reverse.put(e, b);
        }
        refs.merge(e, 1, Integer::sum);
        return e;
    }

    private External freeIn(List<Integer> blocks, int cls) {
        for (int blk : blocks) {
            for (int off = 0; off < blockSize; off++) {
                External e = at(blk, cls, off);
                if (!reverse.containsKey(e)) return e;
            }
        }
        return null;
    }

    /**
     * Warm restart: a kept entry names external endpoint {@code e} for (vm, class, internal port);
     * rebuild that binding (or count one more user), or false when it cannot be (the rules of
     * {@link SnatPorts#adopt}, written out plainly).
     */
    public boolean adopt(int vm, int cls, int port, External e) {
        if (e.addr() < 0 || e.addr() >= addresses || e.cls() != cls || e.port() < SnatPorts.PORT_MIN
                || (e.port() - SnatPorts.PORT_MIN) / blockSize >= blocksPerAddress) return false;
        Binding b = new Binding(vm, cls, port);
        Binding has = reverse.get(e);
        if (has != null) {
            if (!has.equals(b)) return false;
            refs.merge(e, 1, Integer::sum);
            return true;
        }
        if (bound.containsKey(b)) return false;
        int blk = e.addr() * blocksPerAddress + (e.port() - SnatPorts.PORT_MIN) / blockSize;
        List<Integer> mine = vmBlocks.computeIfAbsent(vm, x -> new ArrayList<>());
        Integer o = owner.get(blk);
        if (o == null) {
            if (mine.size() == blocksPerVm || (!mine.isEmpty() && mine.get(0) / blocksPerAddress != blk / blocksPerAddress)) return false;
            owner.put(blk, vm);
            mine.add(blk);
        } else if (o != vm) {
            return false;
        }
        bound.put(b, e);
        reverse.put(e, b);
        refs.put(e, 1);
        return true;
    }

    /** Users of {@code e} (0: free). */
    public int refs(External e) { return refs.getOrDefault(e, 0); }

    /** One user of {@code e} is gone. */
    public void release(External e) {
        int left = refs.merge(e, -1, Integer::sum);
        if (left > 0) return;
        refs.remove(e);
        Binding b = reverse.remove(e);
        bound.remove(b);
        int blk = e.addr() * blocksPerAddress + (e.port() - SnatPorts.PORT_MIN) / blockSize;
        boolean used = false;
        for (External x : reverse.keySet()) {
            if (x.addr() * blocksPerAddress + (x.port() - SnatPorts.PORT_MIN) / blockSize == blk) used = true;
        }
        if (!used) {
            owner.remove(blk);
            vmBlocks.get(b.vm()).remove(Integer.valueOf(blk));
        }
    }

    /** (vm, internal port) that an external endpoint is bound to as {vm, port}, or null. */
    public int[] inbound(External e) {
        Binding b = reverse.get(e);
        return b == null ? null : new int[] {b.vm(), b.internalPort()};
    }

    public int blocksOf(int vm) { return vmBlocks.getOrDefault(vm, List.of()).size(); }

    public int bindings() { return bound.size(); }
}
