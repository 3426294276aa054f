package io.sluice.dataplane.netns;

import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.debug.AdminServer;
import io.sluice.dataplane.debug.DebugCli;
import io.sluice.dataplane.demo.TcpProbe;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.overlay.OverlayPipeline;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./sluice trace}, {@code capture} and {@code explain} against a running overlay data plane
 * with real hosts (namespaces app, db, lb of project blue; lb in group "web": HTTP in): through the
 * admin socket and the command-line client ({@link DebugCli}), as an operator runs them.
 * <ul>
 *   <li>the trace of a real connection app -> lb:80 names the rule that allowed it (blue:web/http)
 *       and its tx port; the trace of a refused one (lb:8080) names fw_no_rule, and the firewall's
 *       drop counter moved by one;</li>
 *   <li>explain says the same for both, and no counter moves;</li>
 *   <li>a capture on app's port, read by {@code tcpdump -r}, holds exactly the frames the namespace
 *       sent (tcpdump inside the namespace), byte for byte.</li>
 * </ul>
 * Names are prefixed "slt&lt;pid&gt;" and removed in {@link #cleanup}.
 */
class DebugNetnsTest {
    static final OverlayHosts H = OverlayHosts.create();
    static final String APP = FirewallOverlayNetnsTest.APP;
    static final String APP_IP = FirewallOverlayNetnsTest.APP_IP, DB_IP = FirewallOverlayNetnsTest.DB_IP, LB_IP = FirewallOverlayNetnsTest.LB_IP;
    static FirewallState fw;
    static AdminServer admin;
    static Path sock;
    static String app, db, lb;
    static final List<Process> servers = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        String yaml = FirewallOverlayNetnsTest.config(H); // app, db in blue's default group; lb in web (http, ping in)
        OverlayPipeline p = H.startPipeline(yaml);
        fw = p.firewall();
        sock = H.dir.resolve("admin.sock");
        admin = AdminServer.start(sock, H.dp.tap(), ConfigLoader.parse("t.yaml", yaml).portNames(), p, fw);
        String[] vms = FirewallOverlayNetnsTest.plugHosts(H);
        app = vms[0];
        db = vms[1];
        lb = vms[2];
        servers.add(H.netns.spawn(lb, H.dir.resolve("srv-lb.txt"), TcpProbe.serve(80, 8080)));
        H.waitListening(lb, 8080);
    }

    @AfterAll
    static void cleanup() {
        for (Process s : servers) s.destroyForcibly();
        if (admin != null) admin.close();
        H.close();
        assertFalse(Netns.run("ip", "netns", "list").contains(H.netns.prefix()), "namespaces left behind");
    }

    record Cli(int exit, String out, String err) {}

    static Cli cli(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.add("--socket");
        a.add(sock.toString());
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int rc = DebugCli.run(a.toArray(String[]::new), new ByteArrayInputStream(new byte[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Cli(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Runs a trace/capture client in the background and waits until the data plane has armed it. */
    static CompletableFuture<Cli> armed(int mode, String... args) throws InterruptedException {
        CompletableFuture<Cli> f = CompletableFuture.supplyAsync(() -> cli(args));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while ((H.dp.tap().mode() & mode) == 0 && System.nanoTime() < deadline && !f.isDone()) Thread.sleep(10);
        assertTrue((H.dp.tap().mode() & mode) != 0, () -> "not armed: " + (f.isDone() ? f.join() : "(client still running)"));
        return f;
    }

    static Map<String, Long> firewallCounters() {
        Map<String, Long> m = new java.util.TreeMap<>();
        H.counters.snapshot().forEach((k, v) -> {
            if (k.startsWith("firewall") && !k.contains("tracked")) m.put(k, v);
        });
        return m;
    }

    @Test
    void traceNamesTheAllowingRuleAndTheDropReason() throws Exception {
        CompletableFuture<Cli> t = armed(1, "trace", "--vm", "blue/app", "--match", "tcp and dst 10.0.1.12 and dport 80", "--count", "1");
        assertEquals(TcpProbe.Outcome.CONNECTED, connect(app, LB_IP, 80), H.nonZero());
        Cli ok = t.get(15, TimeUnit.SECONDS);
        System.out.println(ok.out());
        assertEquals(0, ok.exit(), ok.err());
        assertTrue(ok.out().contains("ingress allowed by blue:web/http"), ok.out());
        assertTrue(ok.out().contains("conntrack new"), ok.out());
        assertTrue(ok.out().contains("fate: tx lb"), ok.out());
        assertTrue(ok.out().contains("tcp ") && ok.out().contains(" > 80 [S]"), ok.out());

        long noRule0 = H.counter("firewall port lb drop fw_no_rule");
        CompletableFuture<Cli> r = armed(1, "trace", "--vm", "blue/app", "--match", "tcp dport 8080", "--count", "1");
        assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(app, LB_IP, 8080), H.nonZero());
        Cli refused = r.get(15, TimeUnit.SECONDS);
        System.out.println(refused.out());
        assertEquals(0, refused.exit(), refused.err());
        assertTrue(refused.out().contains("fate: drop fw_no_rule"), refused.out());
        assertTrue(refused.out().contains("firewall:        DROP fw_no_rule"), refused.out());
        assertTrue(H.awaitCounter("firewall port lb drop fw_no_rule", noRule0 + 1) >= noRule0 + 1, H.nonZero());
        assertEquals(0, H.dp.tap().mode(), "disarmed after --count packets");
    }

    @Test
    void explainAgreesAndMovesNoCounter() throws Exception {
        Map<String, Long> before = firewallCounters();
        Cli allow = cli("explain", "--vm", "blue/app", "--to", LB_IP, "--proto", "tcp", "--dport", "80");
        assertEquals(0, allow.exit(), allow.err());
        List<String> lines = allow.out().lines().toList();
        assertEquals("ALLOW by blue:web/http (egress: blue:default/egress)", lines.get(lines.size() - 1), allow.out());
        System.out.println(allow.out());
        Cli deny = cli("explain", "--vm", "blue/app", "--to", LB_IP, "--proto", "tcp", "--dport", "5432");
        System.out.println(deny.out());
        lines = deny.out().lines().toList();
        assertEquals("DROP fw_no_rule (no rule in [web] allows tcp/5432 from 10.0.1.11)", lines.get(lines.size() - 1), deny.out());
        Cli in = cli("explain", "--vm", "blue/app", "--direction", "in", "--from", LB_IP, "--proto", "tcp", "--dport", "22");
        lines = in.out().lines().toList();
        assertTrue(lines.get(lines.size() - 1).startsWith("ALLOW by blue:default/"), in.out());
        Cli spoof = cli("explain", "--vm", "blue/app", "--from", "10.0.1.99", "--to", DB_IP, "--proto", "udp", "--dport", "53");
        lines = spoof.out().lines().toList();
        assertTrue(lines.get(lines.size() - 1).startsWith("DROP overlay_spoof_src_ip"), spoof.out());
        Thread.sleep(50);
        assertEquals(before, firewallCounters(), "explain moved a counter");
        Cli bad = cli("explain", "--vm", "blue/nope", "--to", LB_IP, "--proto", "tcp", "--dport", "80");
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("no VM 'blue/nope'"), bad.err());
        Cli badMatch = cli("trace", "--match", "tcp dprt 80");
        assertEquals(2, badMatch.exit());
        assertTrue(badMatch.err().contains("word 2 'dprt'"), badMatch.err());
    }

    @Test
    void captureHoldsExactlyTheFramesTheNamespaceSent() throws Exception {
        Path ours = H.dir.resolve("sluice.pcapng");
        Path theirs = H.dir.resolve("ns-dump.txt");
        Process dump = H.netns.spawn(app, theirs, "tcpdump", "-l", "-n", "-t", "-xx", "-i", H.tap("app"),
                "udp and dst port 7777 and ether src " + APP); // what the namespace sent, as tcpdump sees it there
        java.io.BufferedReader err = new java.io.BufferedReader(new java.io.InputStreamReader(dump.getErrorStream(), StandardCharsets.UTF_8));
        StringBuilder said = new StringBuilder();
        for (String l; (l = err.readLine()) != null && !l.contains("listening on"); ) said.append(l).append('\n');
        Thread.ofVirtual().start(() -> {
            try {
                err.transferTo(java.io.Writer.nullWriter());
            } catch (Exception ignored) {
                // tcpdump ended
            }
        });
        CompletableFuture<Cli> c = armed(2, "capture", "app", "--match", "udp and dport 7777 and in", "--count", "5", "-w", ours.toString());
        String py = "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                + "for k in range(5): s.sendto(bytes([k])*(100+k*37),('" + DB_IP + "',7777))\n";
        Netns.Result send = H.netns.exec(app, 10, "python3", "-c", py);
        assertTrue(send.ok(), send.output());
        Cli done = c.get(15, TimeUnit.SECONDS);
        assertEquals(0, done.exit(), done.err());
        Thread.sleep(300);
        dump.destroy();
        dump.waitFor(5, TimeUnit.SECONDS);
        List<String> a = frames(ours), b = hexFrames(Files.readString(theirs));
        assertEquals(5, a.size(), () -> "sluice capture: " + a);
        String there = Files.readString(theirs);
        assertEquals(b, a, () -> "the frames the namespace sent vs sluice's capture; tcpdump said: " + said + there);
    }

    /** Each frame of a capture file as tcpdump -r -xx prints it (hex of every byte). */
    static List<String> frames(Path file) throws Exception {
        assertTrue(Files.size(file) > 0, file + " empty");
        Netns.Result r = Netns.runResult(List.of("tcpdump", "-r", file.toString(), "-n", "-t", "-xx"), 10);
        return hexFrames(r.output());
    }

    /** The frames of tcpdump -xx text: one hex string per packet. */
    static List<String> hexFrames(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = null;
        for (String l : text.split("\n")) {
            if (l.startsWith("\t0x")) {
                if (cur != null) cur.append(l.substring(l.indexOf(':') + 1).replace(" ", ""));
            } else if (l.contains("IP ") || l.contains("UDP")) {
                if (cur != null) out.add(cur.toString());
                cur = new StringBuilder();
            }
        }
        if (cur != null) out.add(cur.toString());
        return out;
    }

    static TcpProbe.Outcome connect(String fromNs, String ip, int port) {
        Netns.Result r = H.netns.exec(fromNs, 10, TcpProbe.connect(ip, port));
        return TcpProbe.outcome(r.exit(), r.output());
    }
}
