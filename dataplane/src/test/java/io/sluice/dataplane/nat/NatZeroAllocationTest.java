package io.sluice.dataplane.nat;

import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static io.sluice.dataplane.nat.NatHarness.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 100K bursts of 16 packets through every stage with the NAT (parse, external in, route, firewall
 * with the NAT hook, external out, counter publishing, out) allocate nothing on the worker thread:
 * SNAT out and back, floating IP out and back, ICMP echo through SNAT, unsolicited inbound, a refused
 * port on the floating IP, a private VM's packet, ARP for a floating IP, a new SNAT connection that
 * expires and returns its port every burst (conntrack expiry with the NAT release).
 */
class NatZeroAllocationTest {
    static final int N = 20;

    @Test
    void natPathAllocatesNothing() throws Exception {
        allocatesNothing(Integer.MAX_VALUE); // each packet tracked on its own (the default at this size)
    }

    /** The same with the firewall preparing every burst (Conntrack.prepare; by default only from 16384 connections). */
    @Test
    void preparedNatPathAllocatesNothing() throws Exception {
        allocatesNothing(0);
    }

    static void allocatesNothing(int prepareFrom) throws Exception {
        try (NatHarness h = new NatHarness(64, 4)) {
            NatBurstProperties.firewall(h).preparedBursts(prepareFrom);
            long bcast = 0xFFFF_FFFF_FFFFL;
            // learn the gateway, open the flows once
            h.run(EXT, arp(h.frame(0), EXT_MAC, GW_MAC, 2, GW_MAC, GW, EXT_MAC, SNAT));
            h.run(JOB, udp(h.frame(0), ROUTER, JOB_MAC, JOB_IP, SERVER, 5000, 53, 32, false));
            int snatPort = Mem.u16(h.frame(0) + 34);
            h.run(JOB, echo(h.frame(0), ROUTER, JOB_MAC, JOB_IP, SERVER, 8, 99, 1));
            int echoId = Mem.u16(h.frame(0) + 38);
            h.run(WEB, udp(h.frame(0), ROUTER, WEB_MAC, WEB_IP, SERVER, 7000, 53, 32, false));

            var s0 = h.pipeline.state().current();
            h.run(EXT, nd(h.frame(0), EXT_MAC, GW6_MAC, GW6, new long[] {s0.extLl6Hi, s0.extLl6Lo}, 136, GW6));
            long base = h.frame(N); // templates at frames N.., work frames 0..N-1
            int[] len = new int[N];
            int[] port = new int[N];
            for (int i = 0; i < N; i++) {
                long d = h.frame(N + i);
                switch (i % 8) {
                    case 0 -> { len[i] = udp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 5000, 53, 32, false); port[i] = JOB; }
                    case 1 -> { len[i] = udp(d, EXT_MAC, GW_MAC, SERVER, SNAT, 53, snatPort, 32, false); port[i] = EXT; }
                    case 2 -> { len[i] = udp(d, ROUTER, WEB_MAC, WEB_IP, SERVER, 7000, 53, 32, false); port[i] = WEB; }
                    case 3 -> { len[i] = udp(d, EXT_MAC, GW_MAC, SERVER, FIP, 53, 7000, 32, false); port[i] = EXT; }
                    case 4 -> { len[i] = echo(d, EXT_MAC, GW_MAC, SERVER, SNAT, 0, echoId, 1); port[i] = EXT; }
                    case 5 -> { len[i] = tcp(d, EXT_MAC, GW_MAC, SERVER, i == 5 ? SNAT : FIP, 4000, i == 5 ? 2000 : 8080, 0x02, 1, 0, 0); port[i] = EXT; }
                    case 6 -> { len[i] = udp(d, ROUTER, VAULT_MAC, VAULT_IP, SERVER, 5000, 53, 32, false); port[i] = VAULT; }
                    default -> { len[i] = arp(d, bcast, GW_MAC, 1, GW_MAC, GW, 0, FIP); port[i] = EXT; }
                }
            }
            // hairpin (web to its own floating IP, a new connection each burst), IPv6 out / in, NS for web's address
            len[16] = tcp(h.frame(N + 16), ROUTER, WEB_MAC, WEB_IP, FIP, 30000, 22, 0x02, 1, 0, 0);
            port[16] = WEB;
            len[17] = tcp6(h.frame(N + 17), ROUTER, JOB_MAC, JOB6, SERVER6, 42000, 80, 0x02, 1, 0);
            port[17] = JOB;
            len[18] = tcp6(h.frame(N + 18), EXT_MAC, GW6_MAC, SERVER6, WEB6, 50000, 22, 0x02, 1, 0);
            port[18] = EXT;
            len[19] = nd(h.frame(N + 19), EXT_MAC, GW6_MAC, GW6, ip6("ff02::1:ff00:2"), 135, WEB6);
            port[19] = EXT;
            len[12] = echo(h.frame(N + 12), ROUTER, JOB_MAC, JOB_IP, SERVER, 8, 99, 1); // keeps the echo binding
            port[12] = JOB;
            // a fresh SNAT connection each burst (job's source port cycles: its 4 blocks of 64 fill up, then
            // the exhaustion path runs); every 1000th burst every connection expires and returns its port
            int[] cycle = {0};
            long far = 1_000_000L * 1_000_000_000L;
            Runnable burst = () -> {
                if (cycle[0] % 1000 == 500) h.ct.expire(System.nanoTime() + far, h.ct.capacity());
                Mem.copy(base, h.frame(0), 4096L * N);
                Mem.put16(h.frame(8) + 34, 20000 + (cycle[0]++ & 0x3FF)); // slot 8: job, new source port (UDP checksum off)
                Mem.put16(h.frame(8) + 40, 0);
                int hp = 30000 + (cycle[0] & 0x3FF); // slot 16: web's hairpin, new source port (TCP checksum adjusted)
                Mem.put16(h.frame(16) + 34, hp);
                Mem.put16(h.frame(16) + 50, io.sluice.dataplane.packet.Checksum.update16(Mem.u16(h.frame(16) + 50), 30000, hp));
                for (int i = 0; i < N; i++) h.b.reset(i, 0, h.frame(i), len[i], port[i]);
                h.b.count = N;
                for (Stage s : h.stages) s.process(h.b);
            };
            for (int k = 0; k < 20_000; k++) burst.run();
            assertEquals(Next.TX, h.b.next[0]);
            assertEquals(Next.TX, h.b.next[1]);
            assertEquals(JOB, h.b.outPort[1]);
            assertEquals(Next.TX, h.b.next[2]);
            assertEquals(Next.TX, h.b.next[3]);
            assertEquals(Next.TX, h.b.next[4], () -> DropReason.of(h.b.dropReason[4]).name());
            assertEquals(DropReason.NAT_NO_MAPPING.ordinal(), h.b.dropReason[5]);
            assertEquals(DropReason.NAT_NO_PUBLIC_ACCESS.ordinal(), h.b.dropReason[6]);
            assertEquals(Next.TX, h.b.next[7]);
            assertEquals(DropReason.NAT_EXHAUSTED.ordinal(), h.b.dropReason[8], "499 new connections since the last expiry: job holds its 4 blocks of 64");
            assertEquals(DropReason.FW_NO_RULE.ordinal(), h.b.dropReason[13], "8080 on the floating IP");
            assertEquals(Next.TX, h.b.next[16], () -> "hairpin: " + DropReason.of(h.b.dropReason[16]));
            assertEquals(WEB, h.b.outPort[16], "turned around to web");
            assertEquals(Next.TX, h.b.next[17], () -> "IPv6 out: " + DropReason.of(h.b.dropReason[17]));
            assertEquals(EXT, h.b.outPort[17]);
            assertEquals(Next.TX, h.b.next[18], () -> "IPv6 in: " + DropReason.of(h.b.dropReason[18]));
            assertEquals(WEB, h.b.outPort[18]);
            assertEquals(Next.TX, h.b.next[19], () -> "NA: " + DropReason.of(h.b.dropReason[19]));

            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long tid = Thread.currentThread().threadId();
            long before = mx.getThreadAllocatedBytes(tid);
            for (int k = 0; k < 100_000; k++) burst.run();
            long allocated = mx.getThreadAllocatedBytes(tid) - before;
            System.out.println("nat path: " + allocated + " bytes allocated in 100000 bursts of " + N);
            assertTrue(allocated < 64 * 1024, "allocated " + allocated + " bytes in 100K bursts");
            assertTrue(h.nat.snatCreated > 100 * 256, "SNAT connections created and returned: " + h.nat.snatCreated);
            assertTrue(h.nat.ports.releasedCount() > 100 * 256, "ports returned: " + h.nat.ports.releasedCount());
            assertTrue(h.nat.drops(DropReason.NAT_EXHAUSTED) > 50_000, "exhaustion path: " + h.nat.drops(DropReason.NAT_EXHAUSTED));
            assertTrue(h.nat.hairpinned > 100_000 && h.nat.ipv6Out > 100_000 && h.nat.ipv6In > 100_000 && h.nat.ndReplies > 100_000,
                    "hairpin / IPv6 paths ran: " + h.nat.hairpinned + " / " + h.nat.ipv6Out + " / " + h.nat.ipv6In + " / " + h.nat.ndReplies);
        }
    }
}
