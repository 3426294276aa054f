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
    static final int N = 16;

    @Test
    void natPathAllocatesNothing() throws Exception {
        try (NatHarness h = new NatHarness(64, 4)) {
            long bcast = 0xFFFF_FFFF_FFFFL;
            // learn the gateway, open the flows once
            h.run(EXT, arp(h.frame(0), EXT_MAC, GW_MAC, 2, GW_MAC, GW, EXT_MAC, SNAT));
            h.run(JOB, udp(h.frame(0), ROUTER, JOB_MAC, JOB_IP, SERVER, 5000, 53, 32, false));
            int snatPort = Mem.u16(h.frame(0) + 34);
            h.run(JOB, echo(h.frame(0), ROUTER, JOB_MAC, JOB_IP, SERVER, 8, 99, 1));
            int echoId = Mem.u16(h.frame(0) + 38);
            h.run(WEB, udp(h.frame(0), ROUTER, WEB_MAC, WEB_IP, SERVER, 7000, 53, 32, false));

            long base = h.frame(16); // templates at frames 16.., work frames 0..15
            int[] len = new int[N];
            int[] port = new int[N];
            for (int i = 0; i < N; i++) {
                long d = h.frame(16 + i);
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
            len[12] = echo(h.frame(16 + 12), ROUTER, JOB_MAC, JOB_IP, SERVER, 8, 99, 1); // keeps the echo binding
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
        }
    }
}
