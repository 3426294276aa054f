package io.sluice.dataplane.conntrack;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Off-heap (or flat primitive array) open-addressing table of connection entries: linear probing, a separate array of
 * 32-bit hash tags (0 = empty) scanned before any entry is touched, backward-shift deletion (no
 * tombstones, so probe chains never rot). One writer; no locks; nothing allocated after
 * construction. Home slot = {@code (tag * capacity) >>> 32}, so any capacity works.
 *
 * <pre>
 * Entry (128 bytes, 64-aligned: two cache lines; a tag array of 4 bytes per slot beside it)
 *  0 aHi        8   canonical endpoint A address (IPv4: hi = 0)
 *  8 aLo        8
 * 16 bHi        8   endpoint B address
 * 24 bLo        8
 * 32 portsZone  8   aPort &lt;&lt; 48 | bPort &lt;&lt; 32 | zone   (ICMP: id &lt;&lt; 48 | requesterIsA &lt;&lt; 32 | zone)
 * 40 protoFam   2   proto | family &lt;&lt; 8
 * 42 state      1   TcpState or PseudoState ordinal
 * 43 flags      1   bit 0: the initiator is endpoint A
 * 44 vm         4   VM charged for the entry (ConnLimits)
 * 48 deadline   8   nowNs + timeout of the state; expired when now - deadline &gt;= 0
 * 56 dir[0]    16   original direction: end 4, maxEnd 4, maxWin 4, wscale 1, wflags 1, synEnd low 2
 * 72 dir[1]    16   reply direction, same layout, synEnd high 2 (synEnd: end sequence of the last
 *                   original SYN passed unchanged on an open connection, Linux's last_end)
 * 88 label      4   free for the pipeline (e.g. the rule id that admitted the connection)
 * 92 nat        4   NAT of the connection (0: none; the NAT stage's word, docs/nat.md)
 * 96 bytes[0]   8   accounting (as Linux conntrack acct): L3 bytes in the original direction
 *104 bytes[1]   8   L3 bytes in the reply direction
 *112 pkts[0]    4   packets in the original direction (since the window start; a flow-log record resets)
 *116 pkts[1]    4   packets in the reply direction
 *120 start      4   second (nanoTime / 1e9, 32 bits) the current accounting window started
 *124 rule       4   flow-log word of the pipeline (the admitting rule's counter index + 1; 0 none)
 * </pre>
 */
final class ConnTable implements AutoCloseable {
    static final int SLOT = 128;
    static final int O_AHI = 0, O_ALO = 8, O_BHI = 16, O_BLO = 24, O_PZ = 32, O_PF = 40, O_STATE = 42,
            O_FLAGS = 43, O_VM = 44, O_DEADLINE = 48, O_DIR = 56, DIR_SIZE = 16, O_LABEL = 88, O_NAT = 92,
            O_BYTES = 96, O_PKTS = 112, O_START = 120, O_RULE = 124;
    static final int D_END = 0, D_MAXEND = 4, D_MAXWIN = 8, D_SCALE = 12, D_WFLAGS = 13, D_PAD = 14;

    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfShort S = ValueLayout.JAVA_SHORT;
    private static final ValueLayout.OfByte B = ValueLayout.JAVA_BYTE;

    private final Arena arena;
    private final MemorySegment slots;
    private final MemorySegment tags;
    /** Closed with the table (a shard file's channel, holding its lock); null for memory tables. */
    private final AutoCloseable owner;
    final int capacity;
    int size;

    /**
     * A table over memory someone else laid out (a mapped {@link ShardFile}): {@code tags} holds
     * {@code capacity} ints, {@code slots} {@code capacity} entries; live entries (tag != 0) are
     * counted. {@code arena} (the mapping) and {@code owner} are closed by {@link #close}.
     */
    ConnTable(int capacity, MemorySegment slots, MemorySegment tags, Arena arena, AutoCloseable owner) {
        if (slots.byteSize() < (long) capacity * SLOT || tags.byteSize() < (long) capacity * 4) {
            throw new IllegalArgumentException("segments too small for " + capacity + " slots");
        }
        this.capacity = capacity;
        this.slots = slots;
        this.tags = tags;
        this.arena = arena;
        this.owner = owner;
        int n = 0;
        for (int i = 0; i < capacity; i++) if (tags.getAtIndex(I, i) != 0) n++;
        this.size = n;
    }

    /** Empties the table (every tag 0). Control path. */
    void clear() {
        tags.fill((byte) 0);
        size = 0;
    }

    /**
     * @param onHeap false: native memory from a shared {@link Arena} (freed by {@link #close});
     *               true: segments over a {@code long[]} and an {@code int[]}, which the JVM backs with
     *               huge pages under {@code -XX:+UseTransparentHugePages} or {@code -XX:+UseLargePages}
     *               (primitive arrays: the GC never scans them)
     */
    ConnTable(int capacity, boolean onHeap) {
        if (capacity < 2) throw new IllegalArgumentException("capacity must be >= 2, was " + capacity);
        this.capacity = capacity;
        this.owner = null;
        if (onHeap) {
            this.arena = null;
            this.slots = MemorySegment.ofArray(new long[Math.multiplyExact(capacity, SLOT / 8)]);
            this.tags = MemorySegment.ofArray(new int[capacity]);
        } else {
            this.arena = Arena.ofShared();
            this.slots = arena.allocate((long) capacity * SLOT, 64);
            this.tags = arena.allocate((long) capacity * 4, 64);
        }
    }

    /** Bytes of off-heap memory the table holds (entries + tags). */
    long bytes() { return slots.byteSize() + tags.byteSize(); }

    int home(int tag) { return (int) (((tag & 0xFFFF_FFFFL) * capacity) >>> 32); }

    private int nextSlot(int i) { return i + 1 == capacity ? 0 : i + 1; }

    int tagAt(int i) { return tags.getAtIndex(I, i); }

    /** Loads the tag and the first word of the key's home slot (a software prefetch); returns a value to keep. */
    long touch(int tag) {
        int h = home(tag);
        return tags.getAtIndex(I, h) + slots.get(L, (long) h * SLOT + O_ALO);
    }

    /** {@link #touch}, and the home entry's second cache line (label, NAT word). */
    long touchBoth(int tag) {
        int h = home(tag);
        long o = (long) h * SLOT;
        return tags.getAtIndex(I, h) + slots.get(L, o + O_ALO) + slots.get(I, o + O_NAT);
    }

    /** The slot holding the key, or {@code ~emptySlot} (negative) where it would be inserted. */
    int find(int tag, long aHi, long aLo, long bHi, long bLo, long pz, int pf) {
        MemorySegment t = tags, s = slots;
        int i = home(tag);
        while (true) {
            int x = t.getAtIndex(I, i);
            if (x == 0) return ~i;
            if (x == tag) {
                long o = (long) i * SLOT;
                if (s.get(L, o + O_ALO) == aLo && s.get(L, o + O_BLO) == bLo && s.get(L, o + O_PZ) == pz
                        && s.get(L, o + O_AHI) == aHi && s.get(L, o + O_BHI) == bHi
                        && (s.get(S, o + O_PF) & 0xFFFF) == pf) {
                    return i;
                }
            }
            i = nextSlot(i);
        }
    }

    /** Writes a fresh entry's key at an empty slot found by {@link #find}; every other field is zeroed. */
    void insert(int i, int tag, long aHi, long aLo, long bHi, long bLo, long pz, int pf) {
        long o = (long) i * SLOT;
        MemorySegment s = slots;
        for (long z = O_PF; z < SLOT; z += 8) s.set(L, o + z, 0L); // no asSlice: it would allocate
        s.set(L, o + O_AHI, aHi);
        s.set(L, o + O_ALO, aLo);
        s.set(L, o + O_BHI, bHi);
        s.set(L, o + O_BLO, bLo);
        s.set(L, o + O_PZ, pz);
        s.set(S, o + O_PF, (short) pf);
        tags.setAtIndex(I, i, tag);
        size++;
    }

    /** Deletes slot i and shifts later members of its probe run back (no tombstones). */
    void remove(int i) {
        MemorySegment t = tags;
        int hole = i;
        int j = nextSlot(i);
        while (true) {
            int x = t.getAtIndex(I, j);
            if (x == 0) break;
            int h = home(x);
            boolean stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
            if (!stays) {
                MemorySegment.copy(slots, (long) j * SLOT, slots, (long) hole * SLOT, SLOT);
                t.setAtIndex(I, hole, x);
                hole = j;
            }
            j = nextSlot(j);
        }
        t.setAtIndex(I, hole, 0);
        size--;
    }

    // ---- field access ----
    private static long off(int i) { return (long) i * SLOT; }
    private static long dirOff(int i, int dir) { return (long) i * SLOT + O_DIR + dir * DIR_SIZE; }

    int state(int i) { return slots.get(B, off(i) + O_STATE); }
    void state(int i, int v) { slots.set(B, off(i) + O_STATE, (byte) v); }
    int flags(int i) { return slots.get(B, off(i) + O_FLAGS); }
    void flags(int i, int v) { slots.set(B, off(i) + O_FLAGS, (byte) v); }
    int vm(int i) { return slots.get(I, off(i) + O_VM); }
    void vm(int i, int v) { slots.set(I, off(i) + O_VM, v); }
    long deadline(int i) { return slots.get(L, off(i) + O_DEADLINE); }
    void deadline(int i, long v) { slots.set(L, off(i) + O_DEADLINE, v); }
    int label(int i) { return slots.get(I, off(i) + O_LABEL); }
    void label(int i, int v) { slots.set(I, off(i) + O_LABEL, v); }
    int nat(int i) { return slots.get(I, off(i) + O_NAT); }
    void nat(int i, int v) { slots.set(I, off(i) + O_NAT, v); }
    int protoFamily(int i) { return slots.get(S, off(i) + O_PF) & 0xFFFF; }
    long key(int i, int o) { return slots.get(L, off(i) + o); }

    /** Counts one packet of {@code len} L3 bytes in direction d. */
    void account(int i, int d, int len) {
        long o = off(i);
        slots.set(I, o + O_PKTS + 4L * d, slots.get(I, o + O_PKTS + 4L * d) + 1);
        slots.set(L, o + O_BYTES + 8L * d, slots.get(L, o + O_BYTES + 8L * d) + len);
    }
    /** Packets in direction d (unsigned 32 bits). */
    long packets(int i, int d) { return slots.get(I, off(i) + O_PKTS + 4L * d) & 0xFFFF_FFFFL; }
    long bytes(int i, int d) { return slots.get(L, off(i) + O_BYTES + 8L * d); }
    /** Zeroes the counts and starts a new accounting window at second {@code sec}. */
    void resetAccounting(int i, int sec) {
        long o = off(i);
        slots.set(L, o + O_BYTES, 0L);
        slots.set(L, o + O_BYTES + 8, 0L);
        slots.set(L, o + O_PKTS, 0L);
        slots.set(I, o + O_START, sec);
    }
    int start(int i) { return slots.get(I, off(i) + O_START); }
    void start(int i, int v) { slots.set(I, off(i) + O_START, v); }
    int rule(int i) { return slots.get(I, off(i) + O_RULE); }
    void rule(int i, int v) { slots.set(I, off(i) + O_RULE, v); }

    int end(int i, int d) { return slots.get(I, dirOff(i, d) + D_END); }
    void end(int i, int d, int v) { slots.set(I, dirOff(i, d) + D_END, v); }
    int maxEnd(int i, int d) { return slots.get(I, dirOff(i, d) + D_MAXEND); }
    void maxEnd(int i, int d, int v) { slots.set(I, dirOff(i, d) + D_MAXEND, v); }
    int maxWin(int i, int d) { return slots.get(I, dirOff(i, d) + D_MAXWIN); }
    void maxWin(int i, int d, int v) { slots.set(I, dirOff(i, d) + D_MAXWIN, v); }
    /** Window scale 0..14 (low nibble; the high nibbles hold part of the passed SYN's window and scale, {@link #synWin}). */
    int scale(int i, int d) { return slots.get(B, dirOff(i, d) + D_SCALE) & 0x0F; }
    void scale(int i, int d, int v) {
        long o = dirOff(i, d) + D_SCALE;
        slots.set(B, o, (byte) ((slots.get(B, o) & 0xF0) | (v & 0x0F)));
    }
    /** End sequence of the last SYN passed unchanged (IGNORE) on this entry: its low half in dir[0]'s pad, high half in dir[1]'s. */
    int synEnd(int i) {
        return (slots.get(S, dirOff(i, 0) + D_PAD) & 0xFFFF) | (slots.get(S, dirOff(i, 1) + D_PAD) << 16);
    }
    void synEnd(int i, int v) {
        slots.set(S, dirOff(i, 0) + D_PAD, (short) v);
        slots.set(S, dirOff(i, 1) + D_PAD, (short) (v >>> 16));
    }
    /** Window flags: bit 0 only (the other 7 bits hold part of the passed SYN's window, {@link #synWin}). */
    int wflags(int i, int d) { return slots.get(B, dirOff(i, d) + D_WFLAGS) & 1; }
    void wflags(int i, int d, int v) {
        long o = dirOff(i, d) + D_WFLAGS;
        slots.set(B, o, (byte) ((slots.get(B, o) & 0xFE) | (v & 1)));
    }

    /*
     * The window (16 bits) and window-scale option (offered flag + shift) of the last SYN passed
     * unchanged, packed into the spare bits of the direction records: window bits 0-6 in wflags[0]
     * bits 1-7, bits 7-13 in wflags[1] bits 1-7, bits 14-15 in scale[0] bits 4-5; offered in
     * scale[0] bit 6; shift in scale[1] bits 4-7.
     */
    int synWin(int i) {
        int w0 = slots.get(B, dirOff(i, 0) + D_WFLAGS) & 0xFE, w1 = slots.get(B, dirOff(i, 1) + D_WFLAGS) & 0xFE;
        int s0 = slots.get(B, dirOff(i, 0) + D_SCALE) & 0x30;
        return (w0 >>> 1) | (w1 << 6) | (s0 << 10);
    }

    /** The passed SYN's window-scale shift, or -1 when it carried no option. */
    int synWscale(int i) {
        if ((slots.get(B, dirOff(i, 0) + D_SCALE) & 0x40) == 0) return -1;
        return (slots.get(B, dirOff(i, 1) + D_SCALE) >>> 4) & 0x0F;
    }

    void synWindow(int i, int win, int wscale) {
        long f0 = dirOff(i, 0) + D_WFLAGS, f1 = dirOff(i, 1) + D_WFLAGS, s0 = dirOff(i, 0) + D_SCALE, s1 = dirOff(i, 1) + D_SCALE;
        slots.set(B, f0, (byte) ((slots.get(B, f0) & 1) | ((win & 0x7F) << 1)));
        slots.set(B, f1, (byte) ((slots.get(B, f1) & 1) | (((win >>> 7) & 0x7F) << 1)));
        int hi = ((win >>> 14) & 3) << 4 | (wscale >= 0 ? 0x40 : 0);
        slots.set(B, s0, (byte) ((slots.get(B, s0) & 0x0F) | hi));
        slots.set(B, s1, (byte) ((slots.get(B, s1) & 0x0F) | (Math.max(wscale, 0) & 0x0F) << 4));
    }

    /** Forgets direction d's window record (end, maxEnd, maxWin, scale, flags), keeping the passed SYN's bits. */
    void clearDirection(int i, int d) {
        end(i, d, 0);
        maxEnd(i, d, 0);
        maxWin(i, d, 0);
        scale(i, d, 0);
        wflags(i, d, 0);
    }

    @Override
    public void close() {
        if (arena != null) arena.close();
        if (owner != null) {
            try {
                owner.close();
            } catch (Exception ignored) {
                // closing a file channel: nothing to do about it
            }
        }
    }
}
