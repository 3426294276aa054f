package io.sluice.dataplane.handoff;

import io.sluice.dataplane.pipeline.Burst;

/**
 * The hand-off rings of one data plane: one {@link HandoffRing} per ordered (from, to) pair of
 * workers, {@code workers * (workers - 1)} rings of {@link #capacity()} packets, all allocated
 * at construction. Worker {@code w} is the only producer of rings {@code (w, *)} and the only
 * consumer of rings {@code (*, w)}.
 *
 * <p>A packet travels with its burst metadata (the owner does not re-parse: the frame may already
 * have been decapsulated, and the stages before steer have decided its out-port), one 64-byte slot:
 * <pre>
 *   0 mbuf                       1 data (absolute address of the frame)
 *   2 length | inPort &lt;&lt; 32     3 outPort | flags &lt;&lt; 32
 *   4 l3Offset | l4Offset &lt;&lt; 16 | etherType &lt;&lt; 32 | vlan &lt;&lt; 48
 *   5 ipProto | next &lt;&lt; 16 | offload &lt;&lt; 24 | tailLen &lt;&lt; 32
 *   6, 7 the pipeline's {@link HandoffExtra} words (0 without)
 * </pre>
 * {@code dropReason} is 0 on arrival (only undecided or TX packets are handed off).
 */
public final class Handoff {
    /** Default ring capacity (packets per ordered worker pair). */
    public static final int DEFAULT_CAPACITY = 1024;
    /**
     * Default longest time a worker holds off its rx queues because a ring to another worker has
     * no room for a burst ({@link SteerStage#mayReceive}); past it, it receives again and a full
     * ring drops ({@link io.sluice.dataplane.pipeline.DropReason#HANDOFF_FULL}). docs/decisions.md.
     */
    public static final long DEFAULT_PAUSE_LIMIT_NS = 10_000_000L;

    private final int workers;
    private final int capacity;
    /** rings[from][to]; null on the diagonal. */
    private final HandoffRing[][] rings;
    /** Per producer: whether ring (from, to) has claimed, unpublished slots. */
    private final boolean[][] dirty;
    /** Per consumer: the producer to drain first next time (round robin). */
    private final int[] nextFrom;
    /** See {@link #DEFAULT_PAUSE_LIMIT_NS}; read by a worker only while it holds off rx. */
    private volatile long pauseLimitNs = DEFAULT_PAUSE_LIMIT_NS;

    public Handoff(int workers) {
        this(workers, DEFAULT_CAPACITY);
    }

    public Handoff(int workers, int capacity) {
        if (workers < 2 || workers > 64) {
            throw new IllegalArgumentException("a hand-off needs 2..64 workers, was " + workers);
        }
        this.workers = workers;
        this.capacity = capacity;
        this.rings = new HandoffRing[workers][workers];
        this.dirty = new boolean[workers][workers];
        this.nextFrom = new int[workers * 16]; // one int per worker, 64 bytes apart
        for (int f = 0; f < workers; f++) {
            for (int t = 0; t < workers; t++) {
                if (f != t) {
                    rings[f][t] = new HandoffRing(capacity);
                }
            }
        }
    }

    /** The hand-off for a data plane of {@code workers} workers, or null when there is one. */
    public static Handoff forWorkers(int workers) {
        return workers > 1 ? new Handoff(workers) : null;
    }

    public int workers() { return workers; }

    public int capacity() { return capacity; }

    /** Longest time a worker holds off rx for want of room in a ring ({@link #DEFAULT_PAUSE_LIMIT_NS}). */
    public long pauseLimitNs() { return pauseLimitNs; }

    /** Sets {@link #pauseLimitNs()} (any thread; 0: never hold off, a full ring drops at once). */
    public void pauseLimitNs(long ns) {
        if (ns < 0) throw new IllegalArgumentException("pause limit must be >= 0 ns, was " + ns);
        this.pauseLimitNs = ns;
    }

    /**
     * Whether every ring from worker {@code from} has room for {@code n} more packets, so a burst
     * of {@code n} it receives cannot find a ring full (worker {@code from}'s thread only).
     */
    public boolean hasRoom(int from, int n) {
        HandoffRing[] out = rings[from];
        for (int t = 0; t < workers; t++) {
            if (t != from && !out[t].hasRoom(n)) {
                return false;
            }
        }
        return true;
    }

    /** The ring from worker {@code from} to worker {@code to} (tests, diagnostics). */
    public HandoffRing ring(int from, int to) { return rings[from][to]; }

    /**
     * Worker {@code from} copies packet {@code i} of its burst into the ring to {@code to}.
     * Returns false, changing nothing, when that ring is full. Visible to {@code to} after
     * {@link #publish(int)}.
     */
    public boolean push(int from, int to, Burst b, int i, HandoffExtra extra) {
        HandoffRing r = rings[from][to];
        int s = r.claim();
        if (s < 0) {
            return false;
        }
        long[] a = r.slots();
        a[s] = b.mbuf[i];
        a[s + 1] = b.data[i];
        a[s + 2] = (b.length[i] & 0xFFFF_FFFFL) | ((long) b.inPort[i] << 32);
        a[s + 3] = (b.outPort[i] & 0xFFFF_FFFFL) | ((long) b.flags[i] << 32);
        a[s + 4] = (b.l3Offset[i] & 0xFFFFL) | ((b.l4Offset[i] & 0xFFFFL) << 16)
                | ((b.etherType[i] & 0xFFFFL) << 32) | ((long) b.vlan[i] << 48);
        a[s + 5] = (b.ipProto[i] & 0xFFFFL) | ((b.next[i] & 0xFFL) << 16) | ((b.offload[i] & 0xFFL) << 24)
                | ((long) b.tailLen[i] << 32);
        a[s + 6] = extra == null ? 0 : extra.word0(i);
        a[s + 7] = extra == null ? 0 : extra.word1(i);
        dirty[from][to] = true;
        return true;
    }

    /** Publishes what worker {@code from} pushed since its last publish (one release store per ring used). */
    public void publish(int from) {
        boolean[] d = dirty[from];
        HandoffRing[] out = rings[from];
        for (int t = 0; t < workers; t++) {
            if (d[t]) {
                d[t] = false;
                out[t].publish();
            }
        }
    }

    /**
     * Worker {@code to} moves up to {@code b.capacity} packets from its incoming rings into
     * slots {@code 0..n-1} of {@code b} (every burst field written, {@code b.count = n}), taking
     * the producers round robin so none starves another. Returns n.
     */
    public int drain(int to, Burst b, HandoffExtra extra) {
        int n = 0;
        final int cap = b.capacity;
        int first = nextFrom[to * 16];
        for (int k = 0; k < workers && n < cap; k++) {
            int f = first + k;
            if (f >= workers) f -= workers;
            if (f == to) continue;
            n = take(rings[f][to], b, n, cap - n, extra);
        }
        nextFrom[to * 16] = first + 1 >= workers ? 0 : first + 1;
        b.count = n;
        return n;
    }

    private static int take(HandoffRing r, Burst b, int n, int room, HandoffExtra extra) {
        int avail = r.available(room);
        if (avail == 0) {
            return n;
        }
        long[] a = r.slots();
        for (int k = 0; k < avail; k++, n++) {
            int s = r.base(k);
            b.mbuf[n] = a[s];
            b.data[n] = a[s + 1];
            long w2 = a[s + 2], w3 = a[s + 3], w4 = a[s + 4], w5 = a[s + 5];
            b.length[n] = (int) w2;
            b.inPort[n] = (int) (w2 >>> 32);
            b.outPort[n] = (int) w3;
            b.flags[n] = (int) (w3 >>> 32);
            b.l3Offset[n] = (short) w4;
            b.l4Offset[n] = (short) (w4 >>> 16);
            b.etherType[n] = (short) (w4 >>> 32);
            b.vlan[n] = (short) (w4 >>> 48);
            b.ipProto[n] = (short) w5;
            b.next[n] = (byte) (w5 >>> 16);
            b.offload[n] = (byte) (w5 >>> 24);
            b.tailLen[n] = (int) (w5 >>> 32);
            b.dropReason[n] = 0;
            if (extra != null) {
                extra.restore(n, a[s + 6], a[s + 7]);
            }
        }
        r.consume(avail);
        return n;
    }
}
