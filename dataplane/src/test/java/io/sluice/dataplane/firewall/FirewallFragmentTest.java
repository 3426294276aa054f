package io.sluice.dataplane.firewall;

import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static io.sluice.dataplane.firewall.FwTopology.EXT1;
import static io.sluice.dataplane.firewall.FwTopology.VM1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * IP fragments through parse -> arp -> l2 -> firewall (native frames, no DPDK), IPv4 and IPv6:
 * the first fragment decides for its datagram (shallow virtual reassembly, {@link FragmentTable}).
 */
class FirewallFragmentTest {
    static final int UDP = 17, TCP = 6;
    static final String RULES = "        - { id: dns, direction: ingress, protocol: udp, ports: 7000 }\n"
            + "        - { id: ping, direction: ingress, protocol: icmp, icmp-type: 8 }\n"
            + "        - { id: ping6, direction: ingress, protocol: icmpv6, icmp-type: 128 }\n";

    final FirewallStageTest t = new FirewallStageTest();

    @AfterEach
    void close() { t.close(); }

    /** The topology with IPv6 addresses on the VM ports and extra {@code security-groups} keys. */
    void setUp(String cut, String extra) throws Exception {
        t.cfg = FwTopology.config("slfwu", cut, RULES);
        String y = FwTopology.yaml("slfwu", cut, RULES)
                .replace("addresses: [10.77.0.1]", "addresses: [10.77.0.1, \"fd00::1\"]")
                .replace("addresses: [10.77.0.2]", "addresses: [10.77.0.2, \"fd00::2\"]")
                .replace("  max-connections-per-vm: 4096\n", "  max-connections-per-vm: 4096\n" + extra);
        t.fw = new FirewallState(4, FirewallConfigLoader.parseDocument("x.yaml", y, t.cfg));
        t.stages = FirewallPipelines.l2(t.cfg, t.fw);
    }

    FirewallStage stage() { return (FirewallStage) t.stages[t.stages.length - 1]; }

    long drops(DropReason r) { return t.fw.drops(VM1, r); }

    static byte[][] frags(int family, int from, int to, int proto, int id, byte[] datagram) {
        return Frames.fragments(family, from, to, proto, id, datagram, 1480);
    }

    static int echoType(int family) { return family == 4 ? 8 : 128; }

    static int icmp(int family) { return family == 4 ? 1 : 58; }

    @Test
    void inOrderPassBothWaysV4AndV6() throws Exception {
        setUp("keep", "");
        for (int family : new int[] {4, 6}) {
            // VM1 -> EXT1, 4000 bytes of UDP (default/egress allows): 3 fragments
            byte[][] out = frags(family, VM1, EXT1, UDP, 0x1234, Frames.udpDatagram(5000, 53, 4000));
            assertEquals(3, out.length);
            for (byte[] f : out) t.passes(f, VM1);
            // the reply, fragmented too, is established
            for (byte[] f : frags(family, EXT1, VM1, UDP, 0x99, Frames.udpDatagram(53, 5000, 3000))) t.passes(f, EXT1);
            // ping -s 4000 from outside, allowed by the ping rule, and its reply
            for (byte[] f : frags(family, EXT1, VM1, icmp(family), 7, Frames.echoDatagram(echoType(family), 77, 4000))) t.passes(f, EXT1);
            for (byte[] f : frags(family, VM1, EXT1, icmp(family), 8, Frames.echoDatagram(echoType(family) == 8 ? 0 : 129, 77, 4000))) t.passes(f, VM1);
        }
        assertEquals(16, t.fw.fragmentsPassed());
        assertEquals(0, stage().fragments().size(), "every datagram complete: entries freed early");
        assertEquals(8, stage().fragments().completed());
    }

    @Test
    void laterBeforeFirstIsDroppedTheRestPasses() throws Exception {
        setUp("keep", "");
        for (int family : new int[] {4, 6}) {
            byte[][] f = frags(family, EXT1, VM1, UDP, 0x4242, Frames.udpDatagram(40000, 7000, 4000));
            t.drops(f[2], EXT1, DropReason.FW_FRAGMENT_UNKNOWN);     // overtook its first fragment by a burst
            t.passes(f[0], EXT1);
            t.passes(f[1], EXT1);
            assertEquals(1, stage().fragments().size(), "not complete: the last fragment was dropped");
            t.passes(f[2], EXT1);                                    // (a duplicate of it) completes the datagram
            assertEquals(0, stage().fragments().size());
        }
        assertEquals(2, drops(DropReason.FW_FRAGMENT_UNKNOWN));
    }

    @Test
    void firstDroppedByTheRulesDropsTheLaterOnes() throws Exception {
        setUp("keep", "");
        for (int family : new int[] {4, 6}) {
            byte[][] f = frags(family, EXT1, VM1, UDP, 0x77, Frames.udpDatagram(40001, 7001, 4000));
            t.drops(f[0], EXT1, DropReason.FW_NO_RULE);
            t.drops(f[1], EXT1, DropReason.FW_FRAGMENT_UNKNOWN);
            t.drops(f[2], EXT1, DropReason.FW_FRAGMENT_UNKNOWN);
            // a passed datagram, then a denied one reusing its id: the later fragments are refused
            byte[][] ok = frags(family, EXT1, VM1, UDP, 0x78, Frames.udpDatagram(40002, 7000, 4000));
            byte[][] bad = frags(family, EXT1, VM1, UDP, 0x78, Frames.udpDatagram(40002, 7002, 4000));
            t.passes(ok[0], EXT1);
            t.drops(bad[0], EXT1, DropReason.FW_NO_RULE);
            t.drops(bad[1], EXT1, DropReason.FW_FRAGMENT_UNKNOWN);
        }
        assertEquals(4, drops(DropReason.FW_NO_RULE));
        assertEquals(6, drops(DropReason.FW_FRAGMENT_UNKNOWN));
        assertEquals(0, t.fw.fragmentsPassed());
    }

    @Test
    void aFirstFragmentCutAfterARuleChangeForgetsItsDatagram() throws Exception {
        setUp("cut", "");
        byte[][] f = frags(4, EXT1, VM1, UDP, 5, Frames.udpDatagram(40050, 7000, 4000));
        t.passes(f[0], EXT1);                               // web/dns admits the flow, datagram 5 recorded
        t.change("cut", "");                                // the rule is gone; web cuts
        t.drops(f[0], EXT1, DropReason.FW_CUT);             // the same datagram sent again: its connection is cut
        t.drops(f[1], EXT1, DropReason.FW_FRAGMENT_UNKNOWN);
        assertEquals(0, stage().fragments().size());
    }

    @Test
    void laterFragmentsAfterTheTimeoutAreDropped() throws Exception {
        setUp("keep", "  fragment-timeout-ms: 50\n");
        for (int family : new int[] {4, 6}) {
            byte[][] f = frags(family, EXT1, VM1, UDP, 0x99, Frames.udpDatagram(40003, 7000, 4000));
            t.passes(f[0], EXT1);
            t.passes(f[1], EXT1);
            Thread.sleep(120);
            t.drops(f[2], EXT1, DropReason.FW_FRAGMENT_UNKNOWN);
        }
        assertEquals(0, stage().fragments().size());
        assertEquals(2, stage().fragments().expired());
    }

    @Test
    void tinyFirstFragmentsAreDroppedByTheParser() throws Exception {
        setUp("keep", "");
        byte[] tcp = Frames.tcpSegment(40004, 443, 0x02, 1, 20, 100);
        t.drops(Frames.frag4(VM1, EXT1, TCP, 1, tcp, 0, 16, true), VM1, DropReason.TRUNCATED_TCP);   // flags in the next fragment
        t.drops(Frames.frag6(VM1, EXT1, TCP, 1, tcp, 0, 16, true), VM1, DropReason.TRUNCATED_TCP);
        byte[] tcpOpts = Frames.tcpSegment(40004, 443, 0x02, 1, 40, 100);
        t.drops(Frames.frag4(VM1, EXT1, TCP, 2, tcpOpts, 0, 32, true), VM1, DropReason.BAD_TCP_DATA_OFFSET); // options cut
        byte[] udp = Frames.udpDatagram(40005, 53, 100);
        t.drops(Frames.frag4(VM1, EXT1, UDP, 3, udp, 0, 4, true), VM1, DropReason.TRUNCATED_UDP);
        t.drops(Frames.frag6(VM1, EXT1, UDP, 3, udp, 0, 4, true), VM1, DropReason.TRUNCATED_UDP);
        byte[] echo = Frames.echoDatagram(8, 5, 100);
        t.drops(Frames.frag4(VM1, EXT1, 1, 4, echo, 0, 4, true), VM1, DropReason.TRUNCATED_ICMP);
        t.drops(Frames.frag6(VM1, EXT1, 58, 4, Frames.echoDatagram(128, 5, 100), 0, 4, true), VM1, DropReason.TRUNCATED_ICMPV6);
        // RFC 7112: the IPv6 header chain must be whole in the first fragment (a 16-byte destination
        // options header, then UDP: a first fragment of 8 bytes cuts the chain)
        byte[] chain = new byte[16 + 8 + 100];
        chain[0] = UDP;
        chain[1] = 1;
        System.arraycopy(Frames.udpDatagram(40006, 53, 100), 0, chain, 16, 108);
        t.drops(Frames.frag6(VM1, EXT1, 60, 5, chain, 0, 8, true), VM1, DropReason.TRUNCATED_IPV6_EXT);
        t.drops(Frames.frag6(VM1, EXT1, 60, 5, chain, 0, 16, true), VM1, DropReason.TRUNCATED_UDP);
        t.passes(Frames.frag6(VM1, EXT1, 60, 6, chain, 0, 24, true), VM1);                // chain + UDP header: fine
        t.drops(Frames.frag6(VM1, EXT1, 60, 6, chain, 1, 16, true), VM1, DropReason.FW_FRAGMENT_OVERLAP); // rewrites the UDP header
        assertEquals(0, stage().fragments().size(), "the overlap discarded the datagram (RFC 5722)");
    }

    @Test
    void tcpOffsetOneAndHeaderOverlapsAreDropped() throws Exception {
        setUp("keep", "");
        for (int family : new int[] {4, 6}) {
            byte[] seg = Frames.tcpSegment(40010 + family, 443, 0x02, 1, 40, 3000);
            byte[][] f = frags(family, VM1, EXT1, TCP, 21, seg);
            // offset 1 with no first fragment at all (RFC 1858: rewrites the flags)
            t.drops(family == 4 ? Frames.frag4(VM1, EXT1, TCP, 20, seg, 1, 64, true)
                    : Frames.frag6(VM1, EXT1, TCP, 20, seg, 1, 64, true), VM1, DropReason.FW_FRAGMENT_OVERLAP);
            t.passes(f[0], VM1);
            // offset 2 (16 bytes) lands inside the recorded 40-byte header: dropped, datagram forgotten
            t.drops(family == 4 ? Frames.frag4(VM1, EXT1, TCP, 21, seg, 2, 64, true)
                    : Frames.frag6(VM1, EXT1, TCP, 21, seg, 2, 64, true), VM1, DropReason.FW_FRAGMENT_OVERLAP);
            t.drops(f[1], VM1, DropReason.FW_FRAGMENT_UNKNOWN);
        }
        assertEquals(4, drops(DropReason.FW_FRAGMENT_OVERLAP));
        assertEquals(2, drops(DropReason.FW_FRAGMENT_UNKNOWN));
    }

    @Test
    void fullTableRefusesNewFirstFragments() throws Exception {
        setUp("keep", "  max-fragment-datagrams: 2\n");
        byte[][] a = frags(4, EXT1, VM1, UDP, 1, Frames.udpDatagram(40020, 7000, 4000));
        byte[][] b = frags(6, EXT1, VM1, UDP, 2, Frames.udpDatagram(40021, 7000, 4000));
        byte[][] c = frags(4, EXT1, VM1, UDP, 3, Frames.udpDatagram(40022, 7000, 4000));
        t.passes(a[0], EXT1);
        t.passes(b[0], EXT1);
        t.drops(c[0], EXT1, DropReason.FW_FRAGMENT_TABLE_FULL);
        t.drops(c[1], EXT1, DropReason.FW_FRAGMENT_UNKNOWN);
        t.passes(a[1], EXT1);
        t.passes(a[2], EXT1);                   // a complete: its entry is freed
        t.passes(c[0], EXT1);                   // room again (the connection exists since the refused try)
        t.passes(c[1], EXT1);
        t.passes(b[1], EXT1);
        assertEquals(1, drops(DropReason.FW_FRAGMENT_TABLE_FULL));
        assertEquals(2, stage().fragments().size());
    }

    @Test
    void fragmentsOfOneDatagramInOneBurstInAnyOrder() throws Exception {
        for (String setting : new String[] {"keep", "cut"}) {       // batched and per-packet paths
            setUp(setting, "");
            for (int family : new int[] {4, 6}) {
                byte[][] f = frags(family, EXT1, VM1, UDP, 0x500, Frames.udpDatagram(40030, 7000, 4000));
                byte[][] g = frags(family, EXT1, VM1, UDP, 0x501, Frames.udpDatagram(40031, 7009, 2000));
                int[] r = t.sendBurst(new byte[][] {f[1], f[0], g[1], f[2], g[0]}, new int[] {EXT1, EXT1, EXT1, EXT1, EXT1});
                int unknown = DropReason.FW_FRAGMENT_UNKNOWN.ordinal();
                assertEquals(Arrays.toString(new int[] {-1, -1, unknown, -1, DropReason.FW_NO_RULE.ordinal()}), Arrays.toString(r),
                        setting + " v" + family);
            }
            assertEquals(0, stage().fragments().size(), setting);
        }
    }

    @Test
    void zeroAllocationWithFragmentsBatchedPath() throws Exception {
        zeroAllocation("keep");
    }

    @Test
    void zeroAllocationWithFragmentsPerPacketPath() throws Exception {
        zeroAllocation("cut");
    }

    void zeroAllocation(String setting) throws Exception {
        setUp(setting, "");
        byte[][] mix = new byte[32][];
        int k = 0;
        for (int family : new int[] {4, 6}) {
            for (byte[] f : frags(family, EXT1, VM1, UDP, 0x600 + family, Frames.udpDatagram(40040, 7000, 4000))) mix[k++] = f;
            for (byte[] f : frags(family, EXT1, VM1, icmp(family), 0x610 + family, Frames.echoDatagram(echoType(family), 9, 4000))) mix[k++] = f;
            for (byte[] f : frags(family, EXT1, VM1, UDP, 0x620 + family, Frames.udpDatagram(40041, 7001, 4000))) mix[k++] = f;  // denied
            byte[] seg = Frames.tcpSegment(40042, 443, 0x02, 1, 20, 3000);
            mix[k++] = family == 4 ? Frames.frag4(EXT1, VM1, TCP, 0x630, seg, 1, 64, true) : Frames.frag6(EXT1, VM1, TCP, 0x630, seg, 1, 64, true);
        }
        byte[][] lone = frags(4, EXT1, VM1, UDP, 0x640, Frames.udpDatagram(40043, 7000, 4000));
        while (k < 32) mix[k++] = lone[1 + k % 2];                  // first fragment never seen
        Burst b = new Burst(32);
        long[] addr = new long[32];
        for (int j = 0; j < 32; j++) addr[j] = t.frames.put(mix[j]);
        int rounds = 100_000;
        long allocated = FirewallStageTest.allocatedBytes(10_000, rounds, r -> {
            b.count = 32;
            for (int j = 0; j < 32; j++) b.reset(j, 0, addr[j], mix[j].length, EXT1);
            for (Stage s : t.stages) s.process(b);
        });
        System.out.println("firewall fragments (" + setting + "): " + rounds + " bursts of 32 allocated " + allocated + " bytes");
        assertTrue(allocated < 64 * 1024, "allocated " + allocated + " bytes over " + rounds + " bursts");
        long n = rounds + 10_000L;
        assertEquals(8 * n, t.fw.fragmentsPassed());
        assertTrue(drops(DropReason.FW_FRAGMENT_UNKNOWN) >= 4 * n && drops(DropReason.FW_FRAGMENT_OVERLAP) == 2 * n
                && drops(DropReason.FW_NO_RULE) == 2 * n);
    }
}
