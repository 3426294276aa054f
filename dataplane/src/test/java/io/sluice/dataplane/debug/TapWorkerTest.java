package io.sluice.dataplane.debug;

import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.counters.WorkerCounters;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.firewall.FirewallPipelines;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.firewall.FwTopology;
import io.sluice.dataplane.packet.NativeFrames;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The worker's side of trace and capture on the L2 firewall pipeline (frames in native memory, no
 * DPDK): what lands in the ring for an allowed and a refused packet, read back as the admin server
 * reads it; and a full ring loses records, counted, without touching the packets' fates.
 */
class TapWorkerTest {
    static final int VM1 = 0, EXT1 = 2, EXT2 = 3;
    final NativeFrames mem = new NativeFrames();

    /** Ethernet (MACs of FwTopology's ports) + IPv4 + TCP SYN from port {@code from} to port {@code to}. */
    static byte[] syn(int from, int to, int dport) {
        byte[] f = MatchTest.ipv4(6, ip(from), 40000 + dport, ip(to), dport);
        f[5] = (byte) (to + 1);
        f[11] = (byte) (from + 1);
        for (int k : new int[] {0, 6}) {
            f[k] = 0x02;
            f[k + 1] = 0x5f;
        }
        f[14 + 2] = 0;
        f[14 + 3] = 40;
        f[14 + 8] = 64;
        f[34 + 12] = 0x50;
        f[34 + 13] = 0x02;
        f[34 + 15] = (byte) 0xff;
        return f;
    }

    static String ip(int port) { return "10.77.0." + (port < 2 ? port + 1 : port + 9); }

    @Test
    void traceNamesTheRuleAndCaptureKeepsRxAndDropsWithTheirReason() throws Exception {
        String rules = "        - { id: http, direction: ingress, protocol: tcp, ports: 80, remote: 0.0.0.0/0 }\n";
        String yaml = FwTopology.yaml("sltw", "keep", rules);
        SluiceConfig cfg = ConfigLoader.parse("t.yaml", yaml);
        FirewallState fw = new FirewallState(4, FirewallConfigLoader.parseDocument("t.yaml", yaml, cfg));
        Stage[] stages = FirewallPipelines.l2(cfg, fw);
        List<String> names = Arrays.stream(stages).map(Stage::name).toList();
        WorkerCounters wc = Counters.inMemory(4096).worker(0, cfg.portNames(), names);
        Tap tap = new Tap(1);
        tap.stages(0, names);
        TapWorker w = new TapWorker(tap, 0, stages);
        tap.armTrace(Match.parse("tcp dport 80"), -1);
        tap.armCapture(Match.parse("tcp"), EXT1, 65535);

        byte[] ok = syn(EXT1, VM1, 80), no = syn(EXT1, VM1, 8080);
        Burst b = new Burst(2);
        b.count = 2;
        b.reset(0, 0, mem.put(ok), ok.length, EXT1);
        b.reset(1, 0, mem.put(no), no.length, EXT1);
        w.run(tap.mode(), b, stages, 0, wc, 123L, true);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(Next.DROP, b.next[1]);

        List<TraceRecord> traces = new ArrayList<>();
        List<AdminServer.Capture> caps = new ArrayList<>();
        tap.ring(0).read((type, buf, idx, len) -> {
            if (type == Tap.MSG_TRACE) traces.add(TraceRecord.read(buf, idx));
            if (type == Tap.MSG_CAPTURE) {
                byte[] f = new byte[buf.getInt(idx + 20)];
                buf.getBytes(idx + TapWorker.CAP_HEADER, f);
                int dr = buf.getInt(idx + 12);
                caps.add(new AdminServer.Capture(buf.getLong(idx), buf.getInt(idx + 8), dr & 0xFF, dr >>> 8, buf.getInt(idx + 16), f));
            }
        });
        TraceRecord.Names n = new TraceRecord.Names(cfg.portNames(), tap, fw, null);
        assertEquals(1, traces.size(), "only the packet to port 80 matches the trace");
        TraceRecord t = traces.get(0);
        assertEquals("tx vm1", t.fate(n));
        assertEquals(List.of("web/http"), t.allowingRules(n));
        assertArrayEquals(ok, t.in());
        assertEquals(names.size(), t.stepWord().length);
        String text = String.join("\n", t.lines(1, n));
        assertTrue(text.contains("firewall:        tx vm1; conntrack new, ingress allowed by web/http"), text);

        assertEquals(3, caps.size(), "rx of both packets, then the drop: " + caps);
        assertEquals(0, caps.get(0).dir());
        assertArrayEquals(ok, caps.get(0).frame());
        assertEquals(0, caps.get(1).dir());
        assertEquals(2, caps.get(2).dir());
        assertEquals(DropReason.FW_NO_RULE.ordinal(), caps.get(2).reason());
        assertArrayEquals(no, caps.get(2).frame());
        assertEquals(123L, caps.get(2).nanos());

        // a full ring: records are lost and counted, the packets' fates are unchanged
        tap.disarmTrace();
        long lost0 = tap.lost(0);
        int bursts = Tap.RING_BYTES / (TapWorker.CAP_HEADER + ok.length) + 1000; // more rx records than the ring holds
        for (int k = 0; k < bursts; k++) {
            byte[] again = syn(EXT1, EXT2, 80); // between two non-VM ports: no firewall, no connection limit
            b.count = 1;
            b.reset(0, 0, mem.put(again), again.length, EXT1);
            w.run(tap.mode(), b, stages, 0, wc, 0L, true);
            assertEquals(Next.TX, b.next[0]);
        }
        assertTrue(tap.lost(0) - lost0 > 0, "a full ring loses records and counts them");
    }
}
