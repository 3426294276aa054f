package io.sluice.dataplane.netns;

import io.sluice.dataplane.control.ControlFixtures;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.flowlog.FlowLogRecord;
import io.sluice.dataplane.flowlog.FlowsCli;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Flow logs with real hosts: the data plane ({@code Main run} in a child JVM: overlay, security
 * groups, flow logs) between VMs app and db in namespaces.
 * <ul>
 *   <li>an nc transfer app -> db:80 gets one ACCEPT record whose packet counts equal what the two
 *       kernels say they sent on that connection ({@code /proc/net/snmp} Tcp OutSegs + RetransSegs
 *       of each namespace) and whose byte counts are the payload plus 40..60 header bytes per packet;</li>
 *   <li>a SYN flood app -> db:9999 (no rule) gives REJECT records aggregated per source, at most one
 *       per second (the reject interval) instead of one per packet, whose packets add up to the
 *       firewall's own drop counter;</li>
 *   <li>after {@code kill -9} of the data plane the queue is still readable ({@code ./sluice flows}).</li>
 * </ul>
 */
class FlowLogNetnsTest {
    static final int BYTES = 3_000_000;

    @Test
    void transferFloodAndKillNine() throws Exception {
        try (OverlayHosts h = new OverlayHosts()) {
            Path flows = h.dir.resolve("flows");
            Path counters = h.dir.resolve("counters.dat");
            String y = """
                    eal: ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "-l", "0"]
                    mbufs: 4095
                    counters-file: %s
                    metrics: { listen: "127.0.0.1:0" }
                    dpdk-log: { file: %s, level: info }
                    %sflow-logs:
                      directory: %s
                      reject-interval-s: 1
                    """.formatted(counters, h.dir.resolve("dpdk.log"), ControlFixtures.overlay(h.tap("up"), h.tap("app"), h.tap("db")), flows);
            Path cfg = h.dir.resolve("sluice.yaml");
            Files.writeString(cfg, y);
            try (ServiceChild c = ServiceChild.run(cfg)) {
                c.awaitReady(60_000);
                quietStart(c, h);
                OverlayHosts.awaitLink(h.tap("up"));
                String ul = h.netns.create("ul");
                Netns.run("ip", "link", "set", "dev", h.tap("up"), "netns", ul);
                String app = h.vm("app", h.tap("app"), "02:b3:00:00:01:11", "10.0.1.11/24", "10.0.1.1", 1500);
                String db = h.vm("db", h.tap("db"), "02:b3:00:00:01:12", "10.0.1.12/24", "10.0.1.1", 1500);

                // 1. a transfer: the kernels' own segment counts against the record's
                long[] app0 = segments(h, app), db0 = segments(h, db);
                h.tcp(app, db, "10.0.1.12", 80, BYTES);
                Thread.sleep(300); // the last ACK of the close
                long sentByApp = segments(h, app)[0] - app0[0], sentByDb = segments(h, db)[0] - db0[0];
                FlowLogRecord t = await(flows, r -> r.action().equals("ACCEPT") && r.dport() == 80 && r.status().equals("closed"), 15_000);
                assertEquals("10.0.1.11", t.src());
                assertEquals("10.0.1.12", t.dst());
                assertEquals("blue/app", t.vm()); // charged to the initiating VM's interface
                assertEquals("blue", t.project());
                assertEquals("blue:web/http", t.reason());
                assertEquals(sentByApp, t.packets(), "packets app -> db: the record vs app's kernel (OutSegs + RetransSegs): " + t);
                assertEquals(sentByDb, t.packetsReply(), "packets db -> app: the record vs db's kernel: " + t);
                long retrans = segments(h, app)[1] - app0[1];
                assertTrue(t.bytes() >= BYTES + 40 * t.packets() && t.bytes() <= BYTES + 60 * t.packets() + 1500 * retrans,
                        "bytes app -> db: payload " + BYTES + " + headers of " + t.packets() + " packets, record " + t.bytes());
                assertTrue(t.bytesReply() >= 40 * t.packetsReply() && t.bytesReply() <= 60 * t.packetsReply(), "reply bytes " + t);
                assertTrue(t.start() <= t.end() && Math.abs(t.end() - System.currentTimeMillis() / 1000) < 120, t.toString());

                // 2. a SYN flood to a port no rule allows: aggregated REJECT records
                long flood0 = System.nanoTime();
                Netns.Result f = h.netns.exec(app, 30, "python3", "-c", FLOOD, "10.0.1.12", "9999", "300");
                assertTrue(f.ok(), f.output());
                Thread.sleep(2500); // every aggregate flushed (1 s interval)
                long seconds = (System.nanoTime() - flood0) / 1_000_000_000L;
                long dropped = Counters.read(counters).getOrDefault("firewall port db drop fw_no_rule", 0L);
                List<FlowLogRecord> rejects = new ArrayList<>();
                FlowsCli.read(flows, false, r -> { if (r.action().equals("REJECT")) rejects.add(r); });
                assertTrue(dropped >= 300, "fw_no_rule drops " + dropped);
                assertEquals(dropped, rejects.stream().mapToLong(FlowLogRecord::packets).sum(), "REJECT packets vs drop counter: " + rejects);
                assertTrue(rejects.size() <= seconds + 2, rejects.size() + " REJECT records for " + dropped + " packets in " + seconds + " s");
                for (FlowLogRecord r : rejects) {
                    assertEquals("10.0.1.11", r.src());
                    assertEquals("fw_no_rule", r.reason());
                    assertEquals("blue/db", r.vm());
                }

                // 3. kill -9: the queue is still there and readable, records intact
                c.process.destroyForcibly();
                c.process.waitFor();
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                int rc = FlowsCli.run(new String[] {"flows", "--dir", flows.toString(), "--json"},
                        new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
                String json = out.toString(StandardCharsets.UTF_8);
                assertEquals(0, rc);
                assertTrue(json.contains("\"action\":\"ACCEPT\"") && json.contains("\"packets\":" + t.packets())
                        && json.contains("\"action\":\"REJECT\""), json);
                assertEquals(1 + rejects.size(), json.lines().count(), json);
            }
            // 4. the killed queue takes new records: a restarted data plane appends to it; its stop prints a summary
            try (ServiceChild c = ServiceChild.run(cfg)) {
                c.awaitReady(60_000);
                c.signal("TERM");
                assertEquals(0, c.awaitExit(30), c.output());
                String out = c.output();
                for (String port : List.of("up", "app", "db")) {
                    assertTrue(out.lines().anyMatch(l -> l.matches("sluice: port " + port + ": rx \\d+ packets, tx \\d+ packets, dropped \\d+")), out);
                }
                assertTrue(out.lines().anyMatch(l -> l.startsWith("sluice: summary: up ")), out);
                noDpdkNoise(out);
            }
            List<FlowLogRecord> all = new ArrayList<>();
            FlowsCli.read(flows, false, all::add);
            assertTrue(all.size() >= 2, all.toString());
        }
    }

    /** One line per port, worker and listener once ready; DPDK's own messages only in its log file. */
    static void quietStart(ServiceChild c, OverlayHosts h) throws Exception {
        assertTrue(c.await(l -> l.startsWith("sluice: metrics: http://"), 20_000) != null, c.output());
        String out = c.output();
        for (String port : List.of("up", "app", "db")) {
            assertEquals(1, out.lines().filter(l -> l.startsWith("sluice: port " + port + ": net_tap")).count(), out);
        }
        assertEquals(1, out.lines().filter(l -> l.startsWith("sluice: worker 0: lcore ")).count(), out);
        assertEquals(1, out.lines().filter(l -> l.startsWith("sluice: flow logs: ")).count(), out);
        assertEquals(1, out.lines().filter(l -> l.startsWith("sluice: DPDK log: ")).count(), out);
        noDpdkNoise(out);
        String dpdk = Files.readString(h.dir.resolve("dpdk.log"));
        assertTrue(dpdk.contains("EAL: "), "EAL's messages go to the DPDK log file: " + dpdk);
    }

    /** Every line the data plane printed is its own ("sluice: ..."): none of EAL's or a driver's. */
    static void noDpdkNoise(String out) {
        for (String l : out.lines().toList()) {
            assertTrue(l.startsWith("sluice: ") || l.startsWith("WARNING: ") || l.isBlank(), "not a sluice line: '" + l + "' in\n" + out);
            assertTrue(!l.contains("EAL:") && !l.contains("qdisc") && !l.contains("TELEMETRY") && !l.contains("tap_mp"), l);
        }
    }

    /** Sends argv[3] SYNs to argv[1]:argv[2] (non-blocking connects from as many source ports), then closes them. */
    static final String FLOOD = String.join("\n",
            "import socket, sys, time",
            "ss = []",
            "for i in range(int(sys.argv[3])):",
            "    s = socket.socket(); s.setblocking(False)",
            "    try: s.connect((sys.argv[1], int(sys.argv[2])))",
            "    except BlockingIOError: pass",
            "    ss.append(s)",
            "time.sleep(0.3)",
            "for s in ss:",
            "    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00'); s.close()",
            "");

    /** {OutSegs + RetransSegs, RetransSegs} of a namespace's TCP (its kernel's counts). */
    static long[] segments(OverlayHosts h, String ns) {
        String snmp = h.netns.exec(ns, 5, "cat", "/proc/net/snmp").output();
        String[] names = null;
        for (String l : snmp.split("\n")) {
            if (!l.startsWith("Tcp:")) continue;
            String[] f = l.trim().split("\\s+");
            if (names == null) {
                names = f;
                continue;
            }
            long out = 0, re = 0;
            for (int i = 0; i < f.length; i++) {
                if (names[i].equals("OutSegs")) out = Long.parseLong(f[i]);
                if (names[i].equals("RetransSegs")) re = Long.parseLong(f[i]);
            }
            return new long[] {out + re, re};
        }
        throw new AssertionError("no Tcp line in /proc/net/snmp of " + ns + ": " + snmp);
    }

    static FlowLogRecord await(Path dir, java.util.function.Predicate<FlowLogRecord> p, long ms) throws InterruptedException {
        long deadline = System.nanoTime() + Math.max(ms, ServiceChild.MIN_WAIT_MS) * 1_000_000L;
        List<FlowLogRecord> seen = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            seen.clear();
            if (Files.isDirectory(dir)) FlowsCli.read(dir, false, seen::add);
            for (FlowLogRecord r : seen) if (p.test(r)) return r;
            Thread.sleep(200);
        }
        throw new AssertionError("no such flow record within " + ms + " ms; records: " + seen);
    }

}
