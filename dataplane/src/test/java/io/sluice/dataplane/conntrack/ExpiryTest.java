package io.sluice.dataplane.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Incremental expiry: bounded work per call, nothing live lost, deadlines by subtraction, timeouts configurable. */
class ExpiryTest {
    private static final long S = 1_000_000_000L;

    @Test
    void boundedIncrementalReclaimKeepsLiveEntries() {
        ConnLimits limits = new ConnLimits(100_000, 2, 100_000);
        try (Conntrack ct = new Conntrack(20_000, CtTimeouts.defaults(), limits, 11)) {
            CtPacket p = new CtPacket();
            // 10000 UDP flows (30 s) and 5000 established TCP-ish flows kept alive by replies (UDP stream, 180 s)
            for (int i = 0; i < 15_000; i++) ct.commit(p.v4(1, 0x0A000001, 0x0B000000 + i).udp(1000, 53, 0), 0, 0);
            for (int i = 10_000; i < 15_000; i++) {
                ct.track(p.v4(1, 0x0B000000 + i, 0x0A000001).udp(53, 1000, 0), S);
                ct.track(p.v4(1, 0x0A000001, 0x0B000000 + i).udp(1000, 53, 0), S);
            }
            long now = 40 * S;
            int calls = 0, total = 0;
            while (true) {
                int n = ct.expire(now, 64);
                assertTrue(n <= 64, "at most the budget per call");
                total += n;
                calls++;
                if (calls * 64L > 2L * ct.capacity()) break;
            }
            assertEquals(10_000, total);
            assertEquals(5000, ct.size());
            assertEquals(5000, limits.hostCount());
            for (int i = 10_000; i < 15_000; i++) {
                assertEquals(Verdict.ESTABLISHED, ct.track(p.v4(1, 0x0B000000 + i, 0x0A000001).udp(53, 1000, 0), now), "live entry " + i);
            }
            assertEquals(10_000, ct.expiredCount());
        }
    }

    @Test
    void oneCallNeverTouchesMoreThanItsBudget() {
        try (Conntrack ct = new Conntrack(1000, CtTimeouts.defaults(), new ConnLimits(1000, 1, 1000), 1)) {
            CtPacket p = new CtPacket();
            for (int i = 0; i < 1000; i++) ct.commit(p.v4(1, 1, i).udp(1, 1, 0), 0, 0);
            int n = ct.expire(100 * S, 16);
            assertTrue(n > 0 && n <= 16, "reclaimed " + n + " with a budget of 16 slots");
            assertEquals(1000 - n, ct.size());
            assertEquals(0, ct.expire(100 * S, 0));
            // ceil(capacity / 16) calls of 16 make one complete pass
            int calls = (ct.capacity() + 15) / 16;
            for (int i = 0; i < calls; i++) ct.expire(100 * S, 16);
            assertEquals(0, ct.size());
        }
    }

    @Test
    void deadlinesCompareBySubtractionAcrossNanoTimeWrap() {
        try (Conntrack ct = new Conntrack(10, CtTimeouts.defaults(), new ConnLimits(10, 1, 10), 1)) {
            CtPacket p = new CtPacket();
            long t0 = Long.MAX_VALUE - 5 * S; // the deadline (t0 + 30 s) wraps negative
            ct.commit(p.v4(1, 1, 2).udp(1, 2, 0), 0, t0);
            assertEquals(Verdict.ESTABLISHED, ct.track(p, t0 + 20 * S));
            assertEquals(0, ct.expire(t0 + 40 * S, 100), "refreshed at t0+20s: alive until t0+50s");
            assertEquals(1, ct.expire(t0 + 50 * S, 100));
        }
    }

    @Test
    void timeoutsAreConfigurableAndFollowTheState() {
        CtTimeouts d = CtTimeouts.defaults();
        CtTimeouts t = new CtTimeouts(Duration.ofSeconds(5), d.tcpSynRecv(), Duration.ofSeconds(100), d.tcpFinWait(),
                d.tcpCloseWait(), d.tcpLastAck(), Duration.ofSeconds(7), d.tcpClose(), d.udpFirst(), d.udpReplied(),
                d.udpStream(), d.icmpFirst(), d.icmpReply(), d.otherFirst(), d.otherReplied());
        try (Conntrack ct = new Conntrack(10, t, new ConnLimits(10, 1, 10), 1)) {
            TcpDriver a = new TcpDriver(ct, 1, 0, 1, 1, 2, 2, 100, 200);
            a.now = 0;
            a.send(0, TcpFlags.SYN, 0);
            a.now = 5 * S;
            assertEquals("NONE", a.stateName(), "SYN_SENT timeout 5 s");
            TcpDriver b = new TcpDriver(ct, 1, 0, 1, 3, 2, 2, 100, 200);
            b.now = 0;
            b.send(0, TcpFlags.SYN, 0);
            b.send(1, TcpFlags.SYN | TcpFlags.ACK, 0);
            b.send(0, TcpFlags.ACK, 0);
            b.now = 99 * S;
            assertEquals("ES", b.stateName());
            assertEquals(Verdict.ESTABLISHED, b.send(0, TcpFlags.ACK, 10));
            b.now = 198 * S;
            assertEquals("ES", b.stateName(), "refreshed by the last segment");
            b.now = 199 * S;
            assertEquals("NONE", b.stateName());
        }
    }

    @Test
    void churnWithRandomDeletesKeepsEveryEntryFindable() {
        // small table, heavy collisions: backward-shift deletion must keep probe runs intact
        SplittableRandom r = new SplittableRandom(3);
        ConnLimits limits = new ConnLimits(1000, 1, 1000);
        try (Conntrack ct = new Conntrack(48, CtTimeouts.defaults(), limits, 2)) {
            java.util.Set<Integer> live = new java.util.HashSet<>();
            CtPacket p = new CtPacket();
            for (int step = 0; step < 20_000; step++) {
                int k = r.nextInt(200);
                if (live.contains(k) && r.nextBoolean()) {
                    assertTrue(ct.kill(p.v4(1, k, 7).udp(9, 9, 0)));
                    live.remove(k);
                } else if (!live.contains(k) && live.size() < 48) {
                    assertEquals(Verdict.NEW, ct.commit(p.v4(1, k, 7).udp(9, 9, 0), 0, 0));
                    live.add(k);
                }
                if (step % 997 == 0) {
                    for (int j = 0; j < 200; j++) {
                        assertEquals(live.contains(j) ? 0 : -1, ct.peekState(p.v4(1, 7, j).udp(9, 9, 0), 1), "key " + j + " at step " + step);
                    }
                }
            }
            assertEquals(live.size(), ct.size());
        }
    }
}
