package io.sluice.dataplane.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** trackBurst gives, packet for packet, what track would have given in the same order. */
class BurstTest {
    @Test
    void burstEqualsOneByOne() {
        ConnLimits la = new ConnLimits(100_000, 2, 100_000), lb = new ConnLimits(100_000, 2, 100_000);
        try (Conntrack a = new Conntrack(5000, CtTimeouts.defaults(), la, 4);
             Conntrack b = new Conntrack(5000, CtTimeouts.defaults(), lb, 4)) {
            SplittableRandom r = new SplittableRandom(12);
            CtPacket[] burst = new CtPacket[64];
            for (int i = 0; i < burst.length; i++) burst[i] = new CtPacket();
            Verdict[] out = new Verdict[64];
            CtPacket c = new CtPacket();
            long now = 0;
            for (int round = 0; round < 2000; round++) {
                int n = 1 + r.nextInt(64);
                for (int i = 0; i < n; i++) {
                    CtPacket p = burst[i];
                    int flow = r.nextInt(300), dir = r.nextInt(2);
                    int x = 0x0A000000 + flow, y = 0x0B000000 + flow % 7;
                    p.v4(1, dir == 0 ? x : y, dir == 0 ? y : x);
                    switch (r.nextInt(4)) {
                        case 0 -> p.udp(dir == 0 ? 1000 : 53, dir == 0 ? 53 : 1000, 1);
                        case 1 -> p.tcp(dir == 0 ? 2000 : 80, dir == 0 ? 80 : 2000,
                                new int[] {TcpFlags.SYN, TcpFlags.ACK, TcpFlags.SYN | TcpFlags.ACK, TcpFlags.RST}[r.nextInt(4)],
                                r.nextInt(3), r.nextInt(3), 65535, 0);
                        case 2 -> p.icmp(dir == 0 ? 8 : 0, 0, flow);
                        default -> p.icmp(3, 1, 0).quoted(0, p.dstLo, 0, p.srcLo, CtPacket.IPPROTO_UDP, 1000, 53, 0);
                    }
                }
                now += r.nextInt(3) * 20_000_000_000L;
                a.trackBurst(burst, n, out, now);
                for (int i = 0; i < n; i++) {
                    Verdict want = b.track(burst[i], now);
                    assertEquals(want, out[i], "round " + round + " packet " + i + " " + burst[i]);
                }
                // commit some NEWs in both, outside the burst (the pipeline's rule check sits between)
                for (int i = 0; i < n; i++) {
                    if (out[i] == Verdict.NEW && r.nextBoolean()) {
                        c.set(burst[i]);
                        assertEquals(b.commit(c, 0, now), a.commit(c, 0, now));
                    }
                }
                a.expire(now, 64);
                b.expire(now, 64);
                assertEquals(b.size(), a.size());
            }
            // the mix reached every verdict kind
            assertEquals(true, a.created() > 200 && a.relatedCount() > 50 && a.invalidCount() > 500 && a.expiredCount() > 50,
                    a.created() + " created, " + a.relatedCount() + " related, " + a.invalidCount() + " invalid, " + a.expiredCount() + " expired");
        }
    }
}
