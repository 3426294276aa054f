package io.sluice.dataplane.firewall;

import io.sluice.dataplane.conntrack.FlowKey;

/**
 * Shallow virtual reassembly for the firewall (as fd.io VPP's {@code ip4_sv_reass} /
 * {@code ip6_sv_reass}, without holding packets): one worker's table of fragmented datagrams whose
 * <b>first</b> fragment (offset 0, the only one with an L4 header) passed conntrack and the
 * security groups. A <b>later</b> fragment passes only when its datagram is in the table.
 *
 * <p>Key: zone, address family, source, destination, protocol (IPv4 protocol; IPv6: the Fragment
 * header's next header) and the IP identification (16 bits IPv4, 32 bits IPv6). Value: deadline
 * ({@code first + timeout}; not refreshed by later fragments), the byte offset where the L4
 * header ends in the fragmentable part (a later fragment starting before it overlaps the header:
 * RFC 1858 / 3128 / 5722), fragment bytes seen, and the datagram's length once its last fragment
 * (MF = 0) passed.
 *
 * <p>Early free: an entry is deleted as soon as the bytes seen reach the datagram's length (the
 * last fragment <i>and</i> every other byte passed), not when the last fragment arrives (fragments
 * are reordered: the last one often overtakes the middle ones). A duplicated fragment can make the
 * count reach the length early; then a still-missing fragment is dropped as unknown and the
 * datagram is lost (never let through unchecked). Otherwise entries expire after the timeout, by
 * {@link #expire} (incremental, a bounded number of slots per call) or when a lookup meets them.
 *
 * <p>Full table (live and not yet reclaimed entries): a new first fragment is refused ({@link #FULL});
 * nothing is evicted, so a flood of first fragments cannot push out the datagrams in flight.
 *
 * <p>Layout: open addressing, linear probing, backward-shift deletion, a tag array (0 = empty)
 * scanned before an entry is touched; one 64-byte line per slot in a {@code long[]}:
 * <pre>
 *  0 srcHi  1 srcLo  2 dstHi  3 dstLo        addresses (IPv4 in lo, hi = 0)
 *  4 zone &lt;&lt; 32 | id                         id: IPv4 16 bits, IPv6 32 bits
 *  5 family &lt;&lt; 40 | proto &lt;&lt; 32 | l4End
 *  6 deadline                                nanoTime; expired when now - deadline &gt;= 0
 *  7 seen &lt;&lt; 32 | total                      total: -1 until the last fragment passed
 * </pre>
 * One writer (the worker that owns the firewall stage); no lock, no allocation after construction.
 * Its slow twin is {@link ReferenceFragmentTable}.
 */
public final class FragmentTable {
    /** Results of {@link #later}. */
    public static final int PASS = 0, UNKNOWN = 1, OVERLAP = 2;
    /** Results of {@link #first}. */
    public static final int RECORDED = 0, FULL = 1;
    static final int TCP = 6;
    private static final int W = 8;

    private final int slots;
    private final int maxEntries;
    private final long timeoutNs;
    private final long seed;
    private final long[] e;
    private final int[] tags;
    private int size;
    private int cursor;

    // the key set by key(): one packet at a time
    private long kSrcHi, kSrcLo, kDstHi, kDstLo, kZoneId, kFamProto;
    private int kTag, kProto;

    /** Counters (single writer; read racily for stats). */
    long recorded, refusedFull, passedLater, unknown, overlaps, expired, completed;

    /**
     * @param maxEntries datagrams in flight at most (the table has {@code maxEntries / 0.75 + 1} slots)
     * @param timeoutNs  how long after its first fragment a datagram's later fragments may pass
     * @param seed       hash seed (random per table: keys are chosen by senders)
     */
    public FragmentTable(int maxEntries, long timeoutNs, long seed) {
        if (maxEntries < 1) throw new IllegalArgumentException("maxEntries must be >= 1, was " + maxEntries);
        if (timeoutNs <= 0) throw new IllegalArgumentException("timeout must be > 0");
        this.maxEntries = maxEntries;
        this.slots = (int) Math.min(Integer.MAX_VALUE / W, (long) Math.ceil(maxEntries / 0.75) + 1);
        this.timeoutNs = timeoutNs;
        this.seed = seed;
        this.e = new long[slots * W];
        this.tags = new int[slots];
    }

    /** Sets the key the next {@link #first}, {@link #forget} or {@link #later} works on. */
    public void key(int zone, int family, long srcHi, long srcLo, long dstHi, long dstLo, int proto, int id) {
        kSrcHi = srcHi;
        kSrcLo = srcLo;
        kDstHi = dstHi;
        kDstLo = dstLo;
        kZoneId = (long) zone << 32 | (id & 0xFFFF_FFFFL);
        kFamProto = (long) (family & 0xFF) << 8 | (proto & 0xFF);
        kProto = proto;
        int t = (int) (FlowKey.hash(seed, srcHi, srcLo, dstHi, dstLo, kZoneId, (int) kFamProto) >>> 32);
        kTag = t == 0 ? 1 : t;
    }

    /**
     * A first fragment of the key's datagram passed the firewall: records it (or re-records: the
     * entry starts over, e.g. an IP id reused after its datagram was done).
     *
     * @param l4End   bytes from the start of the fragmentable part to the end of the L4 header
     * @param dataLen bytes of the fragmentable part this fragment carries
     * @return {@link #RECORDED}, or {@link #FULL} (the fragment must be dropped: its later fragments would be)
     */
    public int first(int l4End, int dataLen, long now) {
        int i = find();
        if (i < 0) {
            if (size >= maxEntries) {
                refusedFull++;
                return FULL;
            }
            i = ~i;
            int o = i * W;
            e[o] = kSrcHi;
            e[o + 1] = kSrcLo;
            e[o + 2] = kDstHi;
            e[o + 3] = kDstLo;
            e[o + 4] = kZoneId;
            tags[i] = kTag;
            size++;
        }
        int o = i * W;
        e[o + 5] = kFamProto << 32 | (l4End & 0xFFFF_FFFFL);
        e[o + 6] = now + timeoutNs;
        e[o + 7] = (long) dataLen << 32 | 0xFFFF_FFFFL;
        recorded++;
        return RECORDED;
    }

    /** A first fragment of the key's datagram was dropped: its later fragments must be too. */
    public void forget() {
        int i = find();
        if (i >= 0) delete(i);
    }

    /**
     * A later fragment (offset != 0) of the key's datagram.
     *
     * @param offset  fragment offset in 8-byte units (1..8191)
     * @param dataLen bytes of fragmentable data it carries
     * @param last    MF = 0 (the datagram ends with it)
     * @return {@link #PASS}, {@link #UNKNOWN} (first fragment not seen, dropped, refused or too long
     *         ago) or {@link #OVERLAP} (it would rewrite the L4 header: TCP offset 1 always; any
     *         offset inside the recorded L4 header, which also forgets the datagram)
     */
    public int later(int offset, int dataLen, boolean last, long now) {
        if (kProto == TCP && offset == 1) { // RFC 1858: rewrites the TCP flags whatever else we know
            overlaps++;
            return OVERLAP;
        }
        int i = find();
        if (i < 0) {
            unknown++;
            return UNKNOWN;
        }
        int o = i * W;
        if (now - e[o + 6] >= 0) {
            delete(i);
            expired++;
            unknown++;
            return UNKNOWN;
        }
        int start = offset << 3;
        if (start < (int) e[o + 5]) {
            delete(i); // RFC 5722: an overlapping fragment discards the whole datagram
            overlaps++;
            return OVERLAP;
        }
        long st = e[o + 7];
        int seen = (int) Math.min((st >>> 32) + dataLen, Integer.MAX_VALUE); // saturates: duplicates cannot wrap it
        int total = last ? start + dataLen : (int) st;
        passedLater++;
        if (total >= 0 && seen >= total) {
            delete(i);
            completed++;
        } else {
            e[o + 7] = (long) seen << 32 | (total & 0xFFFF_FFFFL);
        }
        return PASS;
    }

    /**
     * Incremental reclaim: looks at up to {@code maxSlots} slots from where the last call stopped
     * and deletes the expired entries there. A budget of {@link #slots()} with one {@code now} is
     * one full pass. Returns the entries deleted.
     */
    public int expire(long now, int maxSlots) {
        if (size == 0) return 0; // the common case: no fragmented datagram in flight
        int deleted = 0;
        int c = cursor;
        for (int n = 0; n < maxSlots; n++) {
            // a deletion shifts a later entry into slot c: look at c again (bounded by the run length)
            while (tags[c] != 0 && now - e[c * W + 6] >= 0) {
                delete(c);
                deleted++;
                expired++;
            }
            c = c + 1 == slots ? 0 : c + 1;
        }
        cursor = c;
        return deleted;
    }

    /** Slot of the key, or {@code ~slot} of the empty slot ending its probe run. */
    private int find() {
        int t = kTag;
        int i = (int) (((t & 0xFFFF_FFFFL) * slots) >>> 32);
        while (true) {
            int x = tags[i];
            if (x == 0) return ~i;
            if (x == t) {
                int o = i * W;
                if (e[o + 1] == kSrcLo && e[o + 3] == kDstLo && e[o + 4] == kZoneId && e[o] == kSrcHi
                        && e[o + 2] == kDstHi && (e[o + 5] >>> 32) == kFamProto) return i;
            }
            i = i + 1 == slots ? 0 : i + 1;
        }
    }

    /** Empties slot i; members of its probe run that may move back fill the hole (no tombstones). */
    private void delete(int i) {
        int hole = i;
        for (int j = hole + 1 == slots ? 0 : hole + 1; tags[j] != 0; j = j + 1 == slots ? 0 : j + 1) {
            int home = (int) (((tags[j] & 0xFFFF_FFFFL) * slots) >>> 32);
            boolean between = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (between) continue;
            System.arraycopy(e, j * W, e, hole * W, W);
            tags[hole] = tags[j];
            hole = j;
        }
        tags[hole] = 0;
        size--;
    }

    /** Datagrams in the table (live, and expired but not yet reclaimed). */
    public int size() { return size; }

    /** Slots (one full {@link #expire} pass). */
    public int slots() { return slots; }

    public int maxEntries() { return maxEntries; }

    public long timeoutNs() { return timeoutNs; }

    /** Later fragments passed. */
    public long passedLater() { return passedLater; }

    /** Entries deleted early because every byte of their datagram passed. */
    public long completed() { return completed; }

    /** Entries deleted because they expired (reclaim or lookup). */
    public long expired() { return expired; }

    /** Bytes the table holds (entries + tags). */
    public long bytes() { return (long) slots * (W * 8 + 4); }
}
