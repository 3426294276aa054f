package io.sluice.dataplane.handoff;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SPSC ring: full, wrap-around, FIFO order, publish visibility, and a two-thread stress run. */
class HandoffRingTest {
    static void put(HandoffRing r, long v) {
        int s = r.claim();
        assertTrue(s >= 0, "ring full at " + v);
        for (int k = 0; k < HandoffRing.SLOT_LONGS; k++) r.slots()[s + k] = v * 10 + k;
    }

    static long get(HandoffRing r, int k) {
        int s = r.base(k);
        long v = r.slots()[s] / 10;
        for (int j = 0; j < HandoffRing.SLOT_LONGS; j++) assertEquals(v * 10 + j, r.slots()[s + j], "slot word " + j);
        return v;
    }

    @Test
    void capacityMustBeAPowerOfTwo() {
        assertThrows(IllegalArgumentException.class, () -> new HandoffRing(1000));
        assertThrows(IllegalArgumentException.class, () -> new HandoffRing(1));
        assertEquals(1024, new HandoffRing(1024).capacity());
    }

    @Test
    void fullRingRefusesUntilTheConsumerReleases() {
        HandoffRing r = new HandoffRing(4);
        for (int v = 0; v < 4; v++) put(r, v);
        assertEquals(-1, r.claim(), "a fifth claim on a ring of 4");
        assertEquals(0, r.available(32), "nothing visible before publish");
        r.publish();
        assertEquals(4, r.available(32));
        assertEquals(2, r.available(2), "at most max");
        assertEquals(0, get(r, 0));
        r.consume(1);
        assertTrue(r.claim() >= 0, "one slot free again after consume(1)");
        assertEquals(-1, r.claim(), "and only one");
    }

    @Test
    void wrapsAroundInOrder() {
        HandoffRing r = new HandoffRing(8);
        long next = 0, expect = 0;
        for (int round = 0; round < 1000; round++) {
            int n = 1 + round % 7; // 1..7 per round: positions wrap at every offset
            for (int k = 0; k < n; k++) put(r, next++);
            r.publish();
            int avail = r.available(64);
            assertEquals(n, avail);
            for (int k = 0; k < avail; k++) assertEquals(expect++, get(r, k), "FIFO order");
            r.consume(avail);
            assertEquals(0, r.size());
        }
        assertEquals(next, expect);
    }

    @Test
    void twoThreadsLoseNothingAndKeepOrder() throws Exception {
        HandoffRing r = new HandoffRing(64);
        final long total = 500_000;
        // both sides yield when they cannot move: on a loaded machine the two threads may share one CPU,
        // and a side spinning out its time slice would make every 64-slot exchange cost a slice
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread producer = new Thread(() -> {
            long v = 0;
            while (v < total && !stop.get()) {
                int batch = 0;
                while (batch < 16 && v < total) {
                    int s = r.claim();
                    if (s < 0) break;
                    for (int k = 0; k < HandoffRing.SLOT_LONGS; k++) r.slots()[s + k] = v * 10 + k;
                    v++;
                    batch++;
                }
                r.publish();
                if (batch == 0) Thread.yield();
            }
        });
        producer.start();
        long expect = 0;
        long deadline = System.nanoTime() + 300_000_000_000L; // only a failing run waits it out
        try {
            while (expect < total && System.nanoTime() < deadline) {
                int n = r.available(32);
                for (int k = 0; k < n; k++) assertEquals(expect++, get(r, k));
                if (n > 0) r.consume(n);
                else Thread.yield();
            }
        } finally {
            stop.set(true); // a consumer that failed or gave up must not leave the producer spinning on a full ring
            producer.join(60_000);
        }
        assertEquals(total, expect, "every slot arrived once, in order");
        assertTrue(!producer.isAlive(), "the producer did not finish");
    }
}
