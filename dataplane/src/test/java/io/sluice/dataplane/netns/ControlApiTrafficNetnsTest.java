package io.sluice.dataplane.netns;

import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.demo.TcpProbe;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A rule changed through the control API holds for the next connection, with real hosts: the data
 * plane ({@code Main run} in a child JVM, overlay + security groups + API) with VMs app and db of
 * project blue as namespaces on its TAP ports. db is in {@code web} (TCP 80 in only): app's
 * connection to db:8443 times out (one {@code fw_no_rule} on db's port); once
 * {@code PUT /v1/projects/blue/security-groups/web} adds TCP 8443 from 10.0.1.0/24 and answers
 * 200, the very next connection gets through; after a PUT without it, the next one is dropped again.
 * Then an open connection allowed by the rule: removed with {@code on_rule_change: keep} it goes on;
 * removed with {@code cut} its next segment is dropped ({@code fw_cut}, charged to the sender's port, app).
 */
class ControlApiTrafficNetnsTest {
    static final String WEB_80 = "{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":80}]}";
    static final String WEB_80_8443 = "{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":80},"
            + "{\"description\":\"tls from the subnet\",\"protocol\":\"tcp\",\"port\":8443,\"source_cidr\":\"10.0.1.0/24\"}]}";

    @Test
    void aRuleAddedByPutLetsTheNextConnectionThrough() throws Exception {
        try (OverlayHosts h = new OverlayHosts()) {
            Path cfg = ControlApiNetnsTest.config(h.netns, h.dir, "");
            Path counters = h.dir.resolve("counters.dat");
            try (ControlApiNetnsTest.Started s = ControlApiNetnsTest.start(cfg)) {
                String[] vms = hosts(h);
                String app = vms[0];
                String db = vms[1];
                Process server = h.netns.spawn(db, h.dir.resolve("srv-db.txt"), TcpProbe.serve(8443));
                try {
                    h.waitListening(db, 8443);
                    String drop = "firewall port db drop fw_no_rule";
                    long d0 = counter(counters, drop);
                    assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(h, app), "before the PUT");
                    awaitCounter(counters, drop, d0 + 1);

                    ControlApiNetnsTest.Reply r = s.put("/v1/projects/blue/security-groups/web", ControlApiNetnsTest.BLUE_KEY, WEB_80_8443);
                    assertEquals(200, r.status(), r.toString());
                    assertEquals(TcpProbe.Outcome.CONNECTED, connect(h, app), "the next connection after the PUT's 200");
                    assertEquals(1, counter(counters, "firewall rule blue:web/in1 connections"), "hits of the new rule");

                    r = s.put("/v1/projects/blue/security-groups/web", ControlApiNetnsTest.BLUE_KEY, WEB_80);
                    assertEquals(200, r.status(), r.toString());
                    long d2 = counter(counters, drop);
                    assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(h, app), "the next connection after the rule was removed");
                    awaitCounter(counters, drop, d2 + 1);
                } finally {
                    server.destroyForcibly();
                }

                // an open connection when its rule goes: keep lets it continue, cut ends it
                Path scripts = h.dir;
                java.nio.file.Files.writeString(scripts.resolve("echo.py"), ECHO);
                java.nio.file.Files.writeString(scripts.resolve("session.py"), SESSION);
                Process echo = h.netns.spawn(db, h.dir.resolve("echo.txt"), "python3", scripts.resolve("echo.py").toString(), "9443");
                try {
                    h.waitListening(db, 9443);
                    assertEquals("second ok", session(h, s, app, "keep"), "keep: the open connection goes on");
                    long cut0 = counter(counters, "firewall port app drop fw_cut");
                    assertEquals("second timeout", session(h, s, app, "cut"), "cut: the open connection ends");
                    awaitCounter(counters, "firewall port app drop fw_cut", cut0 + 1);
                } finally {
                    echo.destroyForcibly();
                }
                s.child().signal("TERM");
                assertEquals(0, s.child().awaitExit(30), s.child().output());
            }
        }
    }

    /** Project blue's VMs app and db as namespaces on the running data plane's TAP ports (the uplink's parked); returns {app, db}. */
    static String[] hosts(OverlayHosts h) throws Exception {
        OverlayHosts.awaitLink(h.tap("up"));
        String ul = h.netns.create("ul");
        Netns.run("ip", "link", "set", "dev", h.tap("up"), "netns", ul);
        String app = h.vm("app", h.tap("app"), "02:b3:00:00:01:11", "10.0.1.11/24", "10.0.1.1", 1500);
        String db = h.vm("db", h.tap("db"), "02:b3:00:00:01:12", "10.0.1.12/24", "10.0.1.1", 1500);
        return new String[] {app, db};
    }

    /** Echoes lines on a TCP port (argv[1]), one thread per connection. */
    static final String ECHO = String.join("\n",
            "import socket, sys, threading",
            "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(16)",
            "def serve(c):",
            "    while True:",
            "        d = c.recv(100)",
            "        if not d: break",
            "        c.sendall(d)",
            "while True:",
            "    c, _ = s.accept()",
            "    threading.Thread(target=serve, args=(c,), daemon=True).start()",
            "");

    /** Connects (argv 1, 2), echoes one line ("first ok"), waits for file argv[3], echoes another within 2 s ("second ok" / "second timeout"). */
    static final String SESSION = String.join("\n",
            "import socket, sys, os, time",
            "c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)",
            "c.sendall(b'1\\n'); assert c.recv(10) == b'1\\n'",
            "print('first ok', flush=True)",
            "t = time.time()",
            "while not os.path.exists(sys.argv[3]) and time.time() - t < 20: time.sleep(0.02)",
            "c.settimeout(2)",
            "try:",
            "    c.sendall(b'2\\n'); print('second ok' if c.recv(10) == b'2\\n' else 'second wrong', flush=True)",
            "except (socket.timeout, OSError):",
            "    print('second timeout', flush=True)",
            "");

    /**
     * Allows 9443 in {@code web} with {@code on_rule_change: mode}, opens a session from app, removes the
     * rule while the session is open (the API's 200 first), then lets the session send again; returns its last line.
     */
    private static String session(OverlayHosts h, ControlApiNetnsTest.Started s, String app, String mode) throws Exception {
        String with = "{\"on_rule_change\":\"" + mode + "\",\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":80},"
                + "{\"protocol\":\"tcp\",\"port\":9443,\"source_cidr\":\"10.0.1.0/24\"}]}";
        String without = "{\"on_rule_change\":\"" + mode + "\",\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":80}]}";
        ControlApiNetnsTest.Reply r = s.put("/v1/projects/blue/security-groups/web", ControlApiNetnsTest.BLUE_KEY, with);
        assertEquals(200, r.status(), r.toString());
        Path marker = h.dir.resolve("go-" + mode);
        Path out = h.dir.resolve("session-" + mode + ".txt");
        Process p = h.netns.spawn(app, out, "python3", h.dir.resolve("session.py").toString(), "10.0.1.12", "9443", marker.toString());
        try {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!read(out).contains("first ok") && System.nanoTime() < deadline && p.isAlive()) Thread.sleep(20);
            assertEquals(true, read(out).contains("first ok"), mode + ": session did not start: " + read(out));
            r = s.put("/v1/projects/blue/security-groups/web", ControlApiNetnsTest.BLUE_KEY, without);
            assertEquals(200, r.status(), r.toString());
            java.nio.file.Files.writeString(marker, "go");
            p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            String[] lines = read(out).strip().split("\n");
            return lines[lines.length - 1];
        } finally {
            p.destroyForcibly();
        }
    }

    private static String read(Path f) throws java.io.IOException {
        return java.nio.file.Files.exists(f) ? java.nio.file.Files.readString(f) : "";
    }

    private static TcpProbe.Outcome connect(OverlayHosts h, String fromNs) {
        Netns.Result r = h.netns.exec(fromNs, 10, TcpProbe.connect("10.0.1.12", 8443));
        return TcpProbe.outcome(r.exit(), r.output());
    }

    private static long counter(Path file, String label) {
        Map<String, Long> m = Counters.read(file);
        return m.getOrDefault(label, 0L);
    }

    private static long awaitCounter(Path file, String label, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + 3_000_000_000L;
        long v;
        while ((v = counter(file, label)) < atLeast && System.nanoTime() < deadline) Thread.sleep(20);
        if (v < atLeast) {
            StringBuilder nz = new StringBuilder();
            Counters.read(file).forEach((k, x) -> { if (x != 0 && k.contains("drop")) nz.append(k).append('=').append(x).append(", "); });
            throw new AssertionError(label + " = " + v + ", expected at least " + atLeast + "; non-zero drops: " + nz);
        }
        return v;
    }
}
