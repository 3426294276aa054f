package io.sluice.dataplane.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Two workers, each owning one shard, route by {@link FlowKey#shardOf} of the symmetric hash:
 * both directions of every flow reach the same shard, and a shard never sees the other's flows.
 */
class ShardTest {
    private static final long SEED = 0x5EED;

    @Test
    void bothDirectionsOfEveryFlowReachTheSameShard() {
        FlowKey router = new FlowKey(SEED);
        CtPacket p = new CtPacket();
        SplittableRandom r = new SplittableRandom(8);
        int[] perShard = new int[2];
        for (int i = 0; i < 100_000; i++) {
            int kind = r.nextInt(4);
            boolean v6 = r.nextBoolean();
            long aHi = v6 ? r.nextLong() : 0, aLo = v6 ? r.nextLong() : r.nextInt() & 0xFFFF_FFFFL;
            long bHi = v6 ? r.nextLong() : 0, bLo = v6 ? r.nextLong() : r.nextInt() & 0xFFFF_FFFFL;
            int sp = r.nextInt(65536), dp = r.nextInt(65536), zone = r.nextInt(5);
            fill(p, v6, zone, aHi, aLo, bHi, bLo, kind, sp, dp, true);
            router.fromPacket(p);
            int fwd = FlowKey.shardOf(router.hash, 2);
            long h = router.hash;
            fill(p, v6, zone, bHi, bLo, aHi, aLo, kind, dp, sp, false);
            router.fromPacket(p);
            assertEquals(h, router.hash, "symmetric hash, flow " + i);
            assertEquals(fwd, FlowKey.shardOf(router.hash, 2));
            perShard[fwd]++;
        }
        assertTrue(perShard[0] > 45_000 && perShard[1] > 45_000, "balanced: " + perShard[0] + "/" + perShard[1]);
    }

    private static void fill(CtPacket p, boolean v6, int zone, long sHi, long sLo, long dHi, long dLo, int kind, int sp, int dp, boolean fwd) {
        if (v6) p.v6(zone, sHi, sLo, dHi, dLo); else p.v4(zone, (int) sLo, (int) dLo);
        switch (kind) {
            case 0 -> p.tcp(sp, dp, TcpFlags.ACK, 1, 1, 1, 0);
            case 1 -> p.udp(sp, dp, 0);
            case 2 -> p.icmp(fwd ? (v6 ? 128 : 8) : (v6 ? 129 : 0), 0, 4242);
            default -> { p.proto = 47; }
        }
    }

    @Test
    void twoWorkersTrackTheirOwnFlowsEndToEnd() {
        ConnLimits limits = new ConnLimits(100_000, 4, 100_000);
        try (Conntrack s0 = new Conntrack(10_000, CtTimeouts.defaults(), limits, SEED);
             Conntrack s1 = new Conntrack(10_000, CtTimeouts.defaults(), limits, SEED)) {
            Conntrack[] shards = {s0, s1};
            FlowKey router = new FlowKey(SEED);
            CtPacket p = new CtPacket();
            int n = 4000;
            for (int i = 0; i < n; i++) {
                int client = 0x0A000000 + i, server = 0x0A800000 + (i % 7);
                int cport = 1024 + i, isnC = i * 1000, isnS = i * 3000 + 17;
                p.v4(1, client, server).tcp(cport, 80, TcpFlags.SYN, isnC, 0, 65535, 0);
                Conntrack c = shards[route(router, p)];
                assertEquals(Verdict.NEW, c.commit(p, 0, 0));
                p.v4(1, server, client).tcp(80, cport, TcpFlags.SYN | TcpFlags.ACK, isnS, isnC + 1, 65535, 0);
                Conntrack r = shards[route(router, p)];
                assertEquals(c, r, "reply routed to the SYN's shard");
                assertEquals(Verdict.ESTABLISHED, r.track(p, 1));
                // the other shard knows nothing of it
                assertEquals(Verdict.INVALID, shards[1 - route(router, p)].track(p, 1));
                p.v4(1, client, server).tcp(cport, 80, TcpFlags.ACK, isnC + 1, isnS + 1, 65535, 0);
                assertEquals(Verdict.ESTABLISHED, shards[route(router, p)].track(p, 2));
            }
            assertEquals(n, s0.size() + s1.size());
            assertTrue(s0.size() > n / 3 && s1.size() > n / 3, s0.size() + " / " + s1.size());
        }
    }

    private static int route(FlowKey router, CtPacket p) {
        router.fromPacket(p);
        return FlowKey.shardOf(router.hash, 2);
    }
}
