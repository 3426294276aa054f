package io.sluice.dataplane.overlay;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class UnderlayNeighboursTest {
    private static final int A = Fixtures.HOST2;
    private static final int B = Fixtures.HOST3;

    @Test
    void entriesAgeRefreshAndRateLimitRequests() {
        UnderlayNeighbours n = new UnderlayNeighbours(16, 100, 60, 10);
        assertEquals(-1, n.lookup(A, 0));
        assertTrue(n.requestDue(A, 5), "first request");
        assertFalse(n.requestDue(A, 10), "within retry interval");
        assertTrue(n.requestDue(A, 15), "retry after 10 ns");
        n.learn(A, Fixtures.UNDERLAY_MAC2, 20);
        assertEquals(Fixtures.UNDERLAY_MAC2, n.lookup(A, 20));
        assertFalse(n.requestDue(A, 30), "fresh entry needs no request");
        int[] out = new int[4];
        assertEquals(0, n.refreshDue(70, out), "not yet stale");
        assertEquals(1, n.refreshDue(90, out), "stale after 60 ns");
        assertEquals(A, out[0]);
        assertEquals(0, n.refreshDue(95, out), "refresh request rate-limited");
        assertEquals(Fixtures.UNDERLAY_MAC2, n.lookup(A, 120), "still valid until the TTL");
        assertEquals(-1, n.lookup(A, 121), "expired");
        assertEquals(-1, n.lookup(B, 0));
        n.learn(B, Fixtures.UNDERLAY_MAC1, 0);
        assertEquals(Fixtures.UNDERLAY_MAC1, n.lookup(B, 0));
        assertEquals(Fixtures.UNDERLAY_MAC2, n.lookup(A, 100));
    }

    @Test
    void fullTableRefusesNewEntriesButKeepsOld() {
        UnderlayNeighbours n = new UnderlayNeighbours(2, 1000, 600, 10);
        int learned = 0;
        for (int ip = 1; ip <= 10; ip++) {
            if (n.learn(ip, 0x0200_0000_0000L | ip, 0)) {
                learned++;
            }
        }
        assertTrue(learned >= 2 && learned < 10, "learned " + learned);
        assertEquals(0x0200_0000_0001L, n.lookup(1, 0));
    }
}
