package io.sluice.dataplane.firewall;

import io.sluice.dataplane.config.FirewallConfigLoader;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.flowlog.FlowLogRecord;
import io.sluice.dataplane.config.FlowLogSettings;
import io.sluice.dataplane.flowlog.FlowLogWiring;
import io.sluice.dataplane.flowlog.FlowLogs;
import io.sluice.dataplane.flowlog.FlowsCli;
import io.sluice.dataplane.packet.NativeFrames;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.sluice.dataplane.firewall.FwTopology.EXT1;
import static io.sluice.dataplane.firewall.FwTopology.EXT2;
import static io.sluice.dataplane.firewall.FwTopology.VM1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Flow logs through the real firewall stage (parse -> arp -> l2 -> firewall on frames in native
 * memory, no DPDK) into a real Chronicle Queue, read back as {@code ./sluice flows} reads it:
 * the end record of a TCP connection with its packet and byte counts both ways and the admitting
 * rule, interim records of a long connection, a SYN flood aggregated into one REJECT record per
 * source, config errors with file:line:key, and zero allocation per burst with flow logs on.
 */
class FlowLogStageTest {
    static final int SYN = 0x02, ACK = 0x10, SYNACK = 0x12, PSHACK = 0x18, FINACK = 0x11, RST = 0x04;
    static final String HTTP_ANY = "        - { id: http, direction: ingress, protocol: tcp, ports: 80, remote: 0.0.0.0/0 }\n";

    @TempDir
    Path tmp;
    final NativeFrames frames = new NativeFrames();
    FirewallState fw;
    Stage[] stages;
    FlowLogs logs;

    @AfterEach
    void close() {
        if (logs != null) logs.close();
        frames.close();
    }

    void setUp(String flowSection) throws Exception {
        String yaml = FwTopology.yaml("slfl", "keep", HTTP_ANY) + flowSection.replace("DIR", tmp.resolve("flows").toString());
        Path file = tmp.resolve("cfg.yaml");
        Files.writeString(file, yaml);
        SluiceConfig cfg = ConfigLoader.load(file);
        fw = new FirewallState(4, cfg.firewall());
        logs = FlowLogWiring.open(cfg, fw, null);
        stages = FirewallPipelines.l2(cfg, fw);
    }

    /** Runs one frame; returns its IP length when it passes, fails when dropped. */
    int pass(byte[] frame, int inPort) {
        Burst b = frames.burstOf(frame, frame.length, inPort);
        for (Stage s : stages) s.process(b);
        assertEquals(Next.TX, b.next[0], () -> "dropped " + DropReason.of(b.dropReason[0]));
        return ipLength(frame);
    }

    int drop(byte[] frame, int inPort, DropReason r) {
        Burst b = frames.burstOf(frame, frame.length, inPort);
        for (Stage s : stages) s.process(b);
        assertEquals(Next.DROP, b.next[0]);
        assertEquals(r.ordinal(), b.dropReason[0]);
        return ipLength(frame);
    }

    /** The IPv4 total length field: what the flow log counts (L3 bytes). */
    static int ipLength(byte[] frame) { return ((frame[16] & 0xFF) << 8) | (frame[17] & 0xFF); }

    FirewallStage firewall() { return (FirewallStage) stages[stages.length - 1]; }

    List<FlowLogRecord> records() {
        logs.close(); // last drain, then read the queue as ./sluice flows does
        logs = null;
        List<FlowLogRecord> out = new ArrayList<>();
        FlowsCli.read(tmp.resolve("flows"), false, out::add);
        return out;
    }

    @Test
    void tcpConnectionEndRecordHasCountsBothWaysAndTheRule() throws Exception {
        setUp("flow-logs:\n  directory: DIR\n");
        long out = 0, in = 0;
        int np = 0, nr = 0;
        out += pass(Frames.tcp(EXT1, VM1, 40000, 80, SYN, 1000, 0, 0), EXT1); np++;
        in += pass(Frames.tcp(VM1, EXT1, 80, 40000, SYNACK, 5000, 1001, 0), VM1); nr++;
        out += pass(Frames.tcp(EXT1, VM1, 40000, 80, ACK, 1001, 5001, 0), EXT1); np++;
        out += pass(Frames.tcp(EXT1, VM1, 40000, 80, PSHACK, 1001, 5001, 100), EXT1); np++;
        in += pass(Frames.tcp(VM1, EXT1, 80, 40000, PSHACK, 5001, 1101, 1400), VM1); nr++;
        in += pass(Frames.tcp(VM1, EXT1, 80, 40000, PSHACK, 6401, 1101, 1400), VM1); nr++;
        out += pass(Frames.tcp(EXT1, VM1, 40000, 80, FINACK, 1101, 7801, 0), EXT1); np++;
        in += pass(Frames.tcp(VM1, EXT1, 80, 40000, FINACK, 7801, 1102, 0), VM1); nr++;
        out += pass(Frames.tcp(EXT1, VM1, 40000, 80, ACK, 1102, 7802, 0), EXT1); np++; // TIME_WAIT: the end record
        // a second connection that another rule never admits: no ACCEPT record for it
        drop(Frames.tcp(EXT1, VM1, 40001, 81, SYN, 1, 0, 0), EXT1, DropReason.FW_NO_RULE);
        List<FlowLogRecord> recs = records();
        List<FlowLogRecord> accept = recs.stream().filter(r -> r.action().equals("ACCEPT")).toList();
        assertEquals(1, accept.size(), recs::toString);
        FlowLogRecord r = accept.get(0);
        assertEquals("closed", r.status());
        assertEquals("10.77.0.11", r.src());
        assertEquals(40000, r.sport());
        assertEquals("10.77.0.1", r.dst());
        assertEquals(80, r.dport());
        assertEquals(6, r.protocol());
        assertEquals(np, r.packets());
        assertEquals(out, r.bytes());
        assertEquals(nr, r.packetsReply());
        assertEquals(in, r.bytesReply());
        assertEquals("web/http", r.reason());
        assertEquals("vm1", r.iface());
        assertEquals(r.src(), r.natSrc()); // no NAT: post-NAT = pre-NAT
        assertTrue(Math.abs(r.end() - System.currentTimeMillis() / 1000) < 60, "end " + r.end());
        assertTrue(r.json().contains("\"bytes\":" + out), r.json());
    }

    @Test
    void synFloodBecomesOneRejectRecordPerSource() throws Exception {
        setUp("flow-logs:\n  directory: DIR\n  reject-interval-s: 1\n");
        int n = 2000;
        long bytes = 0;
        long t0 = System.nanoTime();
        for (int k = 0; k < n; k++) bytes += drop(Frames.tcp(EXT1, VM1, 1024 + k, 8080, SYN, k, 0, 0), EXT1, DropReason.FW_NO_RULE);
        for (int k = 0; k < 10; k++) drop(Frames.tcp(EXT2, VM1, 2000 + k, 8080, SYN, k, 0, 0), EXT2, DropReason.FW_NO_RULE);
        Thread.sleep(1100);
        firewall().idle(System.nanoTime()); // the interval is over: the aggregates go out
        long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
        List<FlowLogRecord> recs = records();
        // one record per source per interval (the flood may straddle interval ends on a loaded machine)
        List<FlowLogRecord> a = recs.stream().filter(r -> r.src().equals("10.77.0.11")).toList();
        assertTrue(!a.isEmpty() && a.size() <= seconds + 2, a.size() + " records in " + seconds + " s: " + a);
        assertEquals(n, a.stream().mapToLong(FlowLogRecord::packets).sum());
        assertEquals(bytes, a.stream().mapToLong(FlowLogRecord::bytes).sum());
        for (FlowLogRecord r : a) {
            assertEquals("REJECT", r.action());
            assertEquals("fw_no_rule", r.reason());
            assertEquals("aggregated", r.status());
            assertEquals(8080, r.dport());
        }
        List<FlowLogRecord> b = recs.stream().filter(r -> r.src().equals("10.77.0.12")).toList();
        assertEquals(10, b.stream().mapToLong(FlowLogRecord::packets).sum());
        assertEquals(a.size() + b.size(), recs.size(), recs::toString);
    }

    @Test
    void longConnectionGetsInterimRecordsWithTheCountsOfTheirWindow() throws Exception {
        setUp("flow-logs:\n  directory: DIR\n  interval-s: 1\n");
        pass(Frames.tcp(EXT1, VM1, 40000, 80, SYN, 1000, 0, 0), EXT1);
        pass(Frames.tcp(VM1, EXT1, 80, 40000, SYNACK, 5000, 1001, 0), VM1);
        pass(Frames.tcp(EXT1, VM1, 40000, 80, ACK, 1001, 5001, 0), EXT1);
        Thread.sleep(2100); // the window start is a whole second: 2 s later it is over by >= 1 s
        for (int k = 0; k < firewall().conntrack().capacity() / 64 + 2; k++) firewall().idle(System.nanoTime()); // one expiry pass
        int later = pass(Frames.tcp(EXT1, VM1, 40000, 80, PSHACK, 1001, 5001, 10), EXT1);
        later += pass(Frames.tcp(EXT1, VM1, 40000, 80, RST, 1011, 0, 0), EXT1); // RST: closed
        List<FlowLogRecord> recs = records();
        assertEquals(2, recs.size(), recs::toString);
        assertEquals("interim", recs.get(0).status());
        assertEquals(2, recs.get(0).packets());
        assertEquals(1, recs.get(0).packetsReply());
        assertEquals("closed", recs.get(1).status());
        assertEquals(2, recs.get(1).packets()); // the data segment and the RST: counts restart after an interim record
        assertEquals(later, recs.get(1).bytes());
        assertEquals(0, recs.get(1).packetsReply());
    }

    @Test
    void disabledByDefaultSettingWritesNothing() throws Exception {
        setUp("flow-logs:\n  directory: DIR\n  default: { enabled: false }\n");
        pass(Frames.tcp(EXT1, VM1, 40000, 80, SYN, 1000, 0, 0), EXT1);
        pass(Frames.tcp(EXT1, VM1, 40000, 80, RST, 1001, 0, 0), EXT1);
        drop(Frames.tcp(EXT1, VM1, 40001, 81, SYN, 1, 0, 0), EXT1, DropReason.FW_NO_RULE);
        assertEquals(0, records().size());
    }

    @Test
    void configErrorsNameFileLineAndKey() {
        String base = FwTopology.yaml("slfl", "keep", HTTP_ANY);
        int line = (int) base.lines().count() + 3;
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("f.yaml", base + "flow-logs:\n  directory: /tmp/x\n  interval-s: 0\n"));
        assertEquals("f.yaml:" + line + ": flow-logs.interval-s: 0 is out of range 1..86400", e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("f.yaml", base + "flow-logs:\n  directory: /tmp/x\n  default: { sample: 1.5 }\n"));
        assertEquals("f.yaml:" + line + ": flow-logs.default.sample: 1.5 is out of range (0, 1]", e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("f.yaml", base + "flow-logs:\n  directory: /tmp/x\n  retention: 3\n"));
        assertTrue(e.getMessage().startsWith("f.yaml:" + line + ": flow-logs.retention: unknown key"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("f.yaml", base + "flow-logs:\n  directory: /tmp/x\n  projects: { blue: {} }\n"));
        assertTrue(e.getMessage().startsWith("f.yaml:" + line + ": flow-logs.projects.blue: no project 'blue'"), e.getMessage());
    }

    @Test
    void zeroAllocationPerBurstWithFlowLogsOn() throws Exception {
        setUp("flow-logs:\n  directory: DIR\n  interval-s: 1\n  reject-interval-s: 1\n");
        // established both ways, new allowed connections closed by RST (end records), refused SYNs (rejects)
        int[] in = new int[32];
        byte[][] mix = new byte[32][];
        for (int k = 0; k < 32; k++) {
            switch (k % 4) {
                case 0 -> { mix[k] = Frames.tcp(EXT1, VM1, 50000 + k, 80, PSHACK, 1001, 5001, 0); in[k] = EXT1; }
                case 1 -> { mix[k] = Frames.tcp(VM1, EXT1, 80, 50000 + k - 1, PSHACK, 5001, 1001, 0); in[k] = VM1; }
                case 2 -> { mix[k] = Frames.tcp(EXT1, VM1, 52000 + k, 8080, SYN, 1, 0, 0); in[k] = EXT1; }
                default -> { mix[k] = Frames.tcp(EXT2, VM1, 53000 + k, 81, SYN, 1, 0, 0); in[k] = EXT2; }
            }
        }
        for (int k = 0; k < 32; k += 4) {
            pass(Frames.tcp(EXT1, VM1, 50000 + k, 80, SYN, 1000, 0, 0), EXT1);
            pass(Frames.tcp(VM1, EXT1, 80, 50000 + k, SYNACK, 5000, 1001, 0), VM1);
        }
        Burst b = new Burst(32);
        long[] addr = new long[32];
        for (int k = 0; k < 32; k++) addr[k] = frames.put(mix[k]);
        byte[] syn = Frames.tcp(EXT1, VM1, 0, 80, SYN, 7, 0, 0);
        byte[] rst = Frames.tcp(EXT1, VM1, 0, 80, RST, 8, 0, 0);
        long synAt = frames.put(syn), rstAt = frames.put(rst);
        int rounds = 50_000;
        long allocated = FirewallStageTest.allocatedBytes(10_000, rounds, r -> {
            b.count = 32;
            for (int k = 0; k < 32; k++) b.reset(k, 0, addr[k], mix[k].length, in[k]);
            for (Stage s : stages) s.process(b);
            // one connection opened and reset per round: an end record each
            int sport = 1024 + (r % 60000);
            io.sluice.dataplane.packet.Mem.put16(synAt + 34, sport);
            io.sluice.dataplane.packet.Mem.put16(rstAt + 34, sport);
            b.count = 1;
            b.reset(0, 0, synAt, syn.length, EXT1);
            for (Stage s : stages) s.process(b);
            b.count = 1;
            b.reset(0, 0, rstAt, rst.length, EXT1);
            for (Stage s : stages) s.process(b);
            if ((r & 1023) == 0) firewall().idle(System.nanoTime());
        });
        System.out.println("firewall with flow logs: " + rounds + " rounds allocated " + allocated + " bytes; written "
                + logs.written() + ", lost " + logs.lost());
        assertTrue(allocated < 64 * 1024, "allocated " + allocated + " bytes over " + rounds + " rounds");
        // 4096 connections fit the VM's cap (closed ones linger 10 s); later SYNs are refused (rejects)
        assertTrue(logs.written() + logs.lost() >= 4000, "records " + logs.written() + " + lost " + logs.lost());
    }
}
