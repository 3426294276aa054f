package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.Net;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;

import static io.sluice.dataplane.overlay.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * 100K bursts of 32 mixed packets (L2, L3, TTL expiry, encap, decap, ARP, ND, gateway ping,
 * spoofed, too big)
 * through all overlay stages, the firewall (security groups, conntrack, exported counters) and
 * {@link OverlayPipeline.Out} allocate nothing on the worker thread.
 */
class OverlayZeroAllocationTest {
    private static final int BURST = 32;

    @Test
    void fastPathAllocatesNothing() throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            Buffers templates = new Buffers(arena, BURST);
            Buffers work = new Buffers(arena, BURST);
            // with security groups: b3 in group "web" only, so b1 -> b3 is refused (FW_NO_RULE) in every
            // burst; everything else is a tracked connection after the first burst; counters exported
            io.sluice.dataplane.firewall.FirewallState fw = new io.sluice.dataplane.firewall.FirewallState(5,
                    OverlayFirewallTest.parse(OverlayFirewallTest.SECTION.replace("{ vm: blue/b3, groups: [default, web] }", "{ vm: blue/b3, groups: [web] }")
                            .replace("{ port: p1, groups: [web] }", "{ port: p2 }")));
            fw.exportCounters(io.sluice.dataplane.counters.Counters.inMemory(512), OverlayFirewallTest.cfg().portNames());
            Pipeline host1 = new Pipeline(compile(host1Model(-1)), BURST, fw);
            Burst t = new Burst(BURST);
            int[] lens = new int[BURST];
            int[] ports = new int[BURST];
            long[] offs = new long[BURST];
            for (int i = 0; i < BURST; i++) {
                long d = templates.frame(i);
                switch (i % 9) {
                    case 0 -> udp4(t, i, d, 1, B2_MAC, B1_MAC, B1_IP, B2_IP, 64, 64);
                    case 1 -> udp4(t, i, d, 1, ROUTER, B1_MAC, B1_IP, B3_IP, 64, 64);
                    case 2 -> udp4(t, i, d, 1, ROUTER, B1_MAC, B1_IP, B3_IP, 1, 64);
                    case 3 -> udp4(t, i, d, 1, B4_MAC, B1_MAC, B1_IP, B4_IP, 64, 64);
                    case 4 -> arp(t, i, d, 1, Net.BROADCAST_MAC, B1_MAC, 1, B1_MAC, B1_IP, 0, GW_A);
                    case 5 -> udp4(t, i, d, 1, B2_MAC, B1_MAC, B2_IP, B2_IP, 64, 64);
                    case 6 -> udp4(t, i, d, 1, B4_MAC, B1_MAC, B1_IP, B4_IP, 64, 1460);
                    case 7 -> ns(t, i, d, 1, B1_MAC, B1_IP6, GW6_A);
                    default -> {
                        udp4(t, i, d, 1, ROUTER, B1_MAC, B1_IP, GW_A, 64, 32);
                        Mem.put8(d + 23, 1);
                        Mem.put16(d + 24, 0);
                        Mem.put16(d + 24, Net.checksum(d + 14, 20));
                        Mem.put32(d + 34, 0x0800_0000);
                        Mem.put16(d + 36, Net.checksum(d + 34, t.length[i] - 34));
                        t.ipProto[i] = 1;
                        t.flags[i] = io.sluice.dataplane.pipeline.PacketFlags.IPV4 | io.sluice.dataplane.pipeline.PacketFlags.ICMP;
                    }
                }
                lens[i] = t.length[i];
                ports[i] = t.inPort[i];
                offs[i] = d - templates.base;
            }
            // one decapsulated packet per burst: encapsulate a b4 -> b1 frame on host 2
            Pipeline host2 = new Pipeline(compile(host2Model(NEXT_HOP_MAC)), 1);
            Burst one = new Burst(1);
            long vd = templates.frame(BURST - 1);
            udp4(one, 0, vd, 1, B1_MAC, B4_MAC, B4_IP, B1_IP, 64, 64);
            one.count = 1;
            host2.run(one);
            assertEquals(Next.TX, one.next[0]);
            offs[BURST - 1] = one.data[0] - templates.base;
            lens[BURST - 1] = one.length[0];
            ports[BURST - 1] = UPLINK;
            // next hop learned once so encapsulation proceeds
            host1.neighbours.learn(HOST2, UNDERLAY_MAC2, 0);

            // the DPDK pipeline's last stage too: leftovers, refresh check, counter publishing
            OverlayPipeline.Out out = new OverlayPipeline.Out(host1.state, host1.meta, host1.neighbours,
                    io.sluice.dataplane.counters.Counters.inMemory(256), 0);
            Burst b = new Burst(BURST);
            Runnable burst = () -> {
                Mem.copy(templates.base, work.base, (long) Buffers.SLOT * BURST);
                for (int i = 0; i < BURST; i++) {
                    b.reset(i, 0, work.base + offs[i], lens[i], ports[i]);
                    b.etherType[i] = t.etherType[i];
                    b.l3Offset[i] = 14;
                    b.l4Offset[i] = t.l4Offset[i];
                    b.ipProto[i] = t.ipProto[i];
                    b.flags[i] = t.flags[i];
                }
                b.l4Offset[BURST - 1] = 34;
                b.ipProto[BURST - 1] = 17;
                b.flags[BURST - 1] = io.sluice.dataplane.pipeline.PacketFlags.IPV4 | io.sluice.dataplane.pipeline.PacketFlags.UDP;
                b.etherType[BURST - 1] = (short) Net.ETHERTYPE_IPV4;
                b.count = BURST;
                host1.meta.nowNs += 1000;
                host1.run(b);
                out.process(b);
            };
            for (int k = 0; k < 20_000; k++) {
                burst.run();
            }
            // sanity: the mix does what it says
            assertEquals(Next.TX, b.next[0]);
            assertEquals(io.sluice.dataplane.pipeline.DropReason.FW_NO_RULE.ordinal(), b.dropReason[1], () -> "b1 -> b3 (web only): " + b.next[1]);
            assertTrue(fw.drops(3, io.sluice.dataplane.pipeline.DropReason.FW_NO_RULE) > 20_000, "refused in every burst");
            assertEquals(Next.TX, b.next[3]);
            assertEquals(Next.DROP, b.next[5]);
            assertEquals(Next.TX, b.next[8], () -> "ping: " + host1.reason(8));
            assertEquals(Next.TX, b.next[7], () -> "ND: " + host1.reason(7));
            assertEquals(Next.TX, b.next[2], () -> "TTL: " + host1.reason(2));
            assertEquals(Next.TX, b.next[BURST - 1], () -> "decap: " + host1.reason(BURST - 1));
            assertEquals(1, b.outPort[BURST - 1]);

            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long tid = Thread.currentThread().threadId();
            long before = mx.getThreadAllocatedBytes(tid);
            for (int k = 0; k < 100_000; k++) {
                burst.run();
            }
            long allocated = mx.getThreadAllocatedBytes(tid) - before;
            System.out.println("overlay fast path: " + allocated + " bytes allocated in 100000 bursts of " + BURST);
            // one object per burst would be >= 1.6 MB; allow a little for the measurement itself
            assertTrue(allocated < 64 * 1024, "allocated " + allocated + " bytes in 100K bursts");
        }
    }
}
