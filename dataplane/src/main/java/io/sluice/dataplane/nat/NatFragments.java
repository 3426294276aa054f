package io.sluice.dataplane.nat;

/**
 * Which translation the later fragments of a datagram get through SNAT (docs/nat.md, "IP fragments"):
 * only the first fragment carries the ports that find the binding, so when it is translated its
 * datagram is recorded here — outbound: (out, private source, destination, protocol, id) → the SNAT
 * address index; inbound: (in, source, SNAT address, protocol, id) → the VM — and the later fragments
 * look it up (their IPv4 identification and addresses are the first fragment's).
 *
 * <p>Direct-mapped: one slot per hash; a record finding its slot held by another datagram that has
 * not timed out is refused (that datagram's later fragments are then dropped, never mistranslated);
 * an entry lives {@code timeoutNs} after its first fragment. One writer (the NAT's worker),
 * allocation-free; its plain twin is {@link ReferenceNatFragments}, which shares only {@link #slotOf}.
 */
public final class NatFragments {
    public static final int OUT = 0, IN = 1;
    private final int mask;
    private final long timeoutNs;
    private final long[] addrs;
    private final long[] rest;
    private final int[] value;
    private final long[] deadline;
    long refused;

    /** {@code slots} is rounded up to a power of two. */
    public NatFragments(int slots, long timeoutNs) {
        int n = Integer.highestOneBit(Math.max(2, slots - 1)) << 1;
        mask = n - 1;
        this.timeoutNs = timeoutNs;
        addrs = new long[n];
        rest = new long[n];
        value = new int[n];
        deadline = new long[n];
    }

    static long addrs(int src, int dst) { return ((long) src << 32) | (dst & 0xFFFF_FFFFL); }

    /** Direction, protocol and id, with bit 40 set so that an empty slot (0) never matches. */
    static long rest(int dir, int proto, int id) { return (1L << 40) | ((long) dir << 32) | ((long) (proto & 0xFF) << 16) | (id & 0xFFFF); }

    /** The slot of a key in a table of {@code mask + 1} slots. */
    public static int slotOf(long addrs, long rest, int mask) {
        long h = (addrs ^ (rest * 0x9E37_79B9_7F4A_7C15L)) * 0xBF58_476D_1CE4_E5B9L;
        return (int) (h >>> 40) & mask;
    }

    public int mask() { return mask; }

    /** Records a datagram's translation; false when its slot holds another live datagram. */
    public boolean record(int dir, int src, int dst, int proto, int id, int v, long now) {
        long a = addrs(src, dst), r = rest(dir, proto, id);
        int s = slotOf(a, r, mask);
        if (rest[s] != 0 && now - deadline[s] < 0 && (addrs[s] != a || rest[s] != r)) {
            refused++;
            return false;
        }
        addrs[s] = a;
        rest[s] = r;
        value[s] = v;
        deadline[s] = now + timeoutNs;
        return true;
    }

    /** The recorded value of a live datagram, or -1. */
    public long lookup(int dir, int src, int dst, int proto, int id, long now) {
        long a = addrs(src, dst), r = rest(dir, proto, id);
        int s = slotOf(a, r, mask);
        if (rest[s] != r || addrs[s] != a || now - deadline[s] >= 0) return -1;
        return value[s] & 0xFFFF_FFFFL;
    }

    public long refused() { return refused; }
}
