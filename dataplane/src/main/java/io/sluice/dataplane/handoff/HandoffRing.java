package io.sluice.dataplane.handoff;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bounded single-producer / single-consumer ring of fixed-width slots of {@link #SLOT_LONGS}
 * {@code long}s (one 64-byte cache line per packet), in one plain {@code long[]} allocated once.
 * One ring per ordered (from, to) worker pair: the producer is worker {@code from}'s thread, the
 * consumer worker {@code to}'s. No lock, no CAS, no allocation after construction.
 *
 * <pre>
 *   producer                                   consumer
 *   base = claim()   (-1: full)                n = available(max)
 *   slots[base .. base+7] = packet             read slots[base(k) .. +7], k = 0..n-1
 *   ... more claims ...                        consume(n)      (release store of head)
 *   publish()        (release store of tail)
 * </pre>
 *
 * The positions are 64-bit counters that never wrap in practice (2^63 packets); a slot's index is
 * {@code position & mask}. The tail is written only by the producer and the head only by the
 * consumer, each with a release store and read by the other side with an acquire load, so the
 * slot contents written before {@code publish()} are visible to the consumer that sees the new
 * tail, and a slot is reused only after the consumer has released it. Each side keeps a cached
 * copy of the other's position and re-reads it only when the ring looks full (producer) or empty
 * (consumer). The four positions sit 64 bytes apart in a padded array, so the two threads never
 * write the same cache line (no false sharing).
 *
 * <p>Why hand-written and not Agrona's {@code OneToOneRingBuffer}: that ring carries
 * variable-length messages with a header per record and copies through a buffer API; a hand-off
 * is a fixed 64-byte record per packet, and the producer fills it in place field by field from
 * the burst's arrays. {@link HandoffRingTest} covers wrap-around, full, ordering and a two-thread
 * stress run.
 */
public final class HandoffRing {
    /** Longs per slot: one cache line. */
    public static final int SLOT_LONGS = 8;
    private static final VarHandle POS = MethodHandles.arrayElementVarHandle(long[].class);
    // indices into pos[]: 8 longs (64 bytes) apart, the first one past the array header's line
    private static final int TAIL = 8, PRODUCER_TAIL = 9, HEAD_CACHE = 10;
    private static final int HEAD = 24, CONSUMER_HEAD = 25, TAIL_CACHE = 26;

    private final long[] slots;
    private final long[] pos = new long[40];
    private final int capacity;
    private final int mask;

    /** @param capacity slots; a power of two, 2..65536 */
    public HandoffRing(int capacity) {
        if (capacity < 2 || capacity > 65536 || Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("ring capacity must be a power of two in 2..65536, was " + capacity);
        }
        this.capacity = capacity;
        this.mask = capacity - 1;
        this.slots = new long[capacity * SLOT_LONGS];
    }

    public int capacity() { return capacity; }

    /** The slot array: slot {@code k} is {@code [base, base + SLOT_LONGS)}. */
    public long[] slots() { return slots; }

    // ---- producer ----

    /**
     * Claims the next slot; returns its base index in {@link #slots()}, or -1 when the ring is
     * full. The slot becomes visible to the consumer at the next {@link #publish()}.
     */
    public int claim() {
        final long[] p = pos;
        long t = p[PRODUCER_TAIL];
        if (t - p[HEAD_CACHE] >= capacity) {
            p[HEAD_CACHE] = (long) POS.getAcquire(p, HEAD);
            if (t - p[HEAD_CACHE] >= capacity) {
                return -1;
            }
        }
        p[PRODUCER_TAIL] = t + 1;
        return (int) (t & mask) * SLOT_LONGS;
    }

    /**
     * Whether {@code n} more slots can be claimed now (producer only). Reads the consumer's
     * position (acquire) only when the cached copy says there is not enough room, as
     * {@link #claim()} does; a true answer stays true until this producer claims (the consumer
     * only frees slots).
     */
    public boolean hasRoom(int n) {
        final long[] p = pos;
        long t = p[PRODUCER_TAIL];
        if (capacity - (t - p[HEAD_CACHE]) >= n) {
            return true;
        }
        p[HEAD_CACHE] = (long) POS.getAcquire(p, HEAD);
        return capacity - (t - p[HEAD_CACHE]) >= n;
    }

    /** Makes every claimed slot visible to the consumer (one release store). */
    public void publish() {
        final long[] p = pos;
        long t = p[PRODUCER_TAIL];
        if (t != p[TAIL]) {
            POS.setRelease(p, TAIL, t);
        }
    }

    // ---- consumer ----

    /** Number of published slots ready to read, at most {@code max}. */
    public int available(int max) {
        final long[] p = pos;
        long h = p[CONSUMER_HEAD];
        long n = p[TAIL_CACHE] - h;
        if (n < max) {
            p[TAIL_CACHE] = (long) POS.getAcquire(p, TAIL);
            n = p[TAIL_CACHE] - h;
        }
        return (int) Math.min(n, max);
    }

    /** Base index in {@link #slots()} of the k-th readable slot (k &lt; {@link #available}). */
    public int base(int k) {
        return (int) ((pos[CONSUMER_HEAD] + k) & mask) * SLOT_LONGS;
    }

    /** Releases the first {@code n} readable slots to the producer (one release store). */
    public void consume(int n) {
        final long[] p = pos;
        long h = p[CONSUMER_HEAD] + n;
        p[CONSUMER_HEAD] = h;
        POS.setRelease(p, HEAD, h);
    }

    /** Slots published and not yet consumed (racy; diagnostics and tests). */
    public long size() {
        return (long) POS.getAcquire(pos, TAIL) - (long) POS.getAcquire(pos, HEAD);
    }
}
