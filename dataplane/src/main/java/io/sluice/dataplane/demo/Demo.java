package io.sluice.dataplane.demo;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.overlay.OverlayPipeline;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./sluice demo}: the data plane on the embedded default configuration (an uplink and six
 * VM TAP ports, the overlay pipeline with security groups), namespaces as VMs of two projects that
 * both use 10.0.0.0/16, and checks that each project reaches its own VMs within and across subnets,
 * never the other's, that what must be dropped is dropped and counted by its reason, and that the
 * security groups let through what their rules say (real TCP connections and pings), and the three
 * kinds of public access through NAT with an "internet" behind the external port (a floating IP, an
 * outbound-only VM, a private VM, a floating IP reassigned at runtime). Exits 0 only
 * when every check passed; always cleans up (namespaces, TAP devices).
 */
public final class Demo {
    /** One check's outcome. */
    record Check(String name, boolean passed, String detail) {}

    /** {@code ./sluice explain} on the demo's snapshots (docs/operations.md). */
    private io.sluice.dataplane.debug.Explain explain;

    /** A VM: namespace suffix, TAP interface, MAC, address, gateway, port name (default.yaml). */
    record Vm(String name, String iface, String mac, String ip, String gateway, String port) {}

    static final Vm BLUE_WEB = new Vm("blue-web", "sldemo1", "02:5c:00:00:01:10", "10.0.1.10", "10.0.1.1", "blue-web");
    static final Vm BLUE_APP = new Vm("blue-app", "sldemo2", "02:5c:00:00:01:11", "10.0.1.11", "10.0.1.1", "blue-app");
    static final Vm BLUE_DB = new Vm("blue-db", "sldemo3", "02:5c:00:00:02:10", "10.0.2.10", "10.0.2.1", "blue-db");
    static final Vm BLUE_LB = new Vm("blue-lb", "sldemo6", "02:5c:00:00:01:12", "10.0.1.12", "10.0.1.1", "blue-lb");
    static final Vm RED_WEB = new Vm("red-web", "sldemo4", "02:5c:00:00:81:10", "10.0.1.10", "10.0.1.1", "red-web");
    static final Vm RED_DB = new Vm("red-db", "sldemo5", "02:5c:00:00:82:10", "10.0.2.10", "10.0.2.1", "red-db");
    static final List<Vm> VMS = List.of(BLUE_WEB, BLUE_APP, BLUE_DB, BLUE_LB, RED_WEB, RED_DB);
    static final String UPLINK_IFACE = "sldemo0";
    static final String ROUTER_MAC = "02:5c:00:00:ff:01";

    private final List<Check> checks = new ArrayList<>();
    /** The flow log (on for every project, in a temp directory). */
    private DemoFlowLog flowLog;
    private final PrintStream out;
    private final Map<Vm, String> ns = new java.util.HashMap<>();

    private Demo(PrintStream out) {
        this.out = out;
    }

    /**
     * Runs the demo. The demo's namespaces, TAP devices and addresses have fixed names (they are
     * what the printed table shows), so two demos at once (two checkouts, or a demo beside
     * {@code ./sluice test}) would tear down each other's hosts: the second one waits for the first,
     * on an exclusive lock of {@link #LOCK_FILE}.
     */
    public static int run(PrintStream out) throws Exception {
        return exclusively(out, () -> new Demo(out).go());
    }

    /** Where concurrent demos queue: a file lock, released by the kernel if the holder dies. */
    static final Path LOCK_FILE = Path.of(System.getProperty("java.io.tmpdir"), "sluice-demo.lock");

    /** Runs {@code body} while holding the demo lock (waiting for it, and saying so, if taken). */
    static <T> T exclusively(PrintStream out, java.util.concurrent.Callable<T> body) throws Exception {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(LOCK_FILE,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.channels.FileLock lock = ch.tryLock();
            if (lock == null) {
                out.println("another Sluice demo is running on this host (lock " + LOCK_FILE + "); waiting for it to end");
                lock = ch.lock();
            }
            try {
                return body.call();
            } finally {
                lock.release();
            }
        }
    }

    /** The demo without taking the lock: for a caller that holds it already. */
    static int runHoldingLock(PrintStream out) throws Exception {
        return new Demo(out).go();
    }

    private int go() throws Exception {
        SluiceConfig cfg = ConfigLoader.loadDefault();
        FirewallState fw = new FirewallState(cfg.ports().size(), cfg.firewall());
        out.println("Sluice demo: overlay data plane on " + cfg.ports().size() + " TAP ports; projects blue and red"
                + " both on 10.0.0.0/16 (subnets 10.0.1.0/24, 10.0.2.0/24); namespaces as VMs; security groups:"
                + " every VM in its project's default group, blue lb in group web only; NAT: an internet router and server"
                + " behind the external port, blue web has floating IP 203.0.113.10, blue app is outbound only, the rest private");
        try (Hosts hosts = new Hosts("sldemo-");
             Counters counters = Counters.create(cfg.countersFile(), 4096);
             DemoFlowLog flows = DemoFlowLog.open(cfg, fw, counters)) {
            flowLog = flows;
            hosts.removeStale();
            OverlayPipeline pipeline = OverlayPipeline.create(cfg, counters, fw);
            explain = new io.sluice.dataplane.debug.Explain(cfg.portNames(), pipeline, fw);
            try (Dataplane dp = Dataplane.start(cfg, (c, w) -> pipeline.stages(w), counters)) {
                hosts.awaitInterface(UPLINK_IFACE, 10_000);
                String ul = hosts.namespace("uplink");
                hosts.plug(UPLINK_IFACE, ul, "02:5c:00:00:aa:02", "192.168.50.2/24");
                for (Vm vm : VMS) {
                    hosts.awaitInterface(vm.iface(), 10_000);
                    String n = hosts.namespace(vm.name());
                    hosts.plug(vm.iface(), n, vm.mac(), vm.ip() + "/24");
                    must(hosts.in(n, 5, "ip", "route", "add", "default", "via", vm.gateway()), "default route in " + n);
                    ns.put(vm, n);
                }
                internet(hosts);
                out.println("VMs: " + String.join(", ", ns.values()) + "; counters in " + cfg.countersFile()
                        + " (./sluice stats " + cfg.countersFile() + ")");
                runChecks(hosts, counters);
                try (DemoApi api = DemoApi.start(cfg, fw, pipeline, dp, out)) {
                    publicAccess(hosts, counters, api);
                }
            }
            out.println();
            out.println("Counters (summed over workers; zero drop counters omitted):");
            Counters.print(counters.snapshot(), out);
        }
        return report(out, checks, "");
    }

    /** Prints the table of checks and "N passed, N failed" + {@code suffix}; 0 when every check passed (and there was one). */
    static int report(PrintStream out, List<Check> checks, String suffix) {
        out.println();
        int passed = (int) checks.stream().filter(Check::passed).count();
        out.printf("%-86s %s%n", "CHECK", "RESULT");
        for (Check c : checks) {
            out.printf("%-86s %s%s%n", c.name(), c.passed() ? "PASS" : "FAIL",
                    c.detail().isEmpty() ? "" : "  (" + c.detail() + ")");
        }
        out.println();
        out.println(passed + " passed, " + (checks.size() - passed) + " failed" + suffix);
        return passed == checks.size() && !checks.isEmpty() ? 0 : 1;
    }

    static final String INTERNET_IFACE = "sldemo7";
    static final String FIP = "203.0.113.10", SNAT = "203.0.113.5", SERVER = "198.51.100.10";
    private String router, server;

    /**
     * The "internet" (docs/nat.md): the external port's TAP in a router namespace (203.0.113.1, the
     * gateway), a server namespace (198.51.100.10) behind it over a veth pair.
     */
    private void internet(Hosts hosts) {
        hosts.awaitInterface(INTERNET_IFACE, 10_000);
        router = hosts.namespace("internet");
        hosts.plug(INTERNET_IFACE, router, "02:5c:00:00:99:01", "203.0.113.1/24");
        server = hosts.namespace("server");
        must(Hosts.run(5, "ip", "-n", router, "link", "add", "sldemo8", "type", "veth", "peer", "name", "sldemo9",
                "netns", server), "veth router-server");
        must(Hosts.run(5, "ip", "-n", router, "addr", "add", "198.51.100.1/24", "dev", "sldemo8"), "router address");
        must(Hosts.run(5, "ip", "-n", router, "link", "set", "dev", "sldemo8", "up"), "router veth up");
        must(Hosts.run(5, "ip", "-n", server, "addr", "add", SERVER + "/24", "dev", "sldemo9"), "server address");
        must(Hosts.run(5, "ip", "-n", server, "link", "set", "dev", "sldemo9", "up"), "server veth up");
        must(Hosts.run(5, "ip", "-n", server, "route", "add", "default", "via", "198.51.100.1"), "server route");
        must(hosts.in(router, 5, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"), "router forwarding");
    }

    /**
     * 9. Public access (NAT, docs/nat.md): blue web's floating IP from the internet under its groups,
     * as its source; blue app outbound only through the SNAT address, unreachable from outside; blue
     * db purely private; the floating IP reassigned to blue app at runtime.
     */
    private void publicAccess(Hosts hosts, Counters counters, DemoApi api) throws Exception {
        List<Process> servers = new ArrayList<>();
        try {
            servers.add(started(hosts.start(server, TcpProbe.servePeer(8000, null))));
            servers.add(started(hosts.start(ns.get(BLUE_WEB), TcpProbe.servePeer(22, "blue-web"))));
            servers.add(started(hosts.start(ns.get(BLUE_APP), TcpProbe.servePeer(22, "blue-app"))));
            Hosts.Result in = hosts.in(server, 10, TcpProbe.askPeer(FIP, 22));
            if (!in.ok()) in = hosts.in(server, 10, TcpProbe.askPeer(FIP, 22)); // the first SYN may wait for ARP
            check("internet -> blue web's floating IP " + FIP + " TCP 22: reaches blue web (default group: SSH)",
                    in.out().contains("hello blue-web"), firstLine(in.out()));
            String noRule = "firewall port blue-web drop fw_no_rule";
            long nr0 = counters.snapshot().getOrDefault(noRule, 0L);
            Hosts.Result refused = hosts.in(server, 10, TcpProbe.connect(FIP, 8080));
            long nr1 = awaitCounter(counters, noRule, nr0 + 1);
            check("internet -> " + FIP + " TCP 8080: times out, counted for blue web's rules",
                    TcpProbe.outcome(refused.exit(), refused.out()) == TcpProbe.Outcome.TIMED_OUT && nr1 - nr0 == 1, noRule + " +" + (nr1 - nr0));
            Hosts.Result webOut = hosts.in(ns.get(BLUE_WEB), 10, TcpProbe.askPeer(SERVER, 8000));
            check("blue web -> internet server: the server sees the floating IP " + FIP,
                    webOut.out().contains("peer " + FIP), firstLine(webOut.out()));
            Hosts.Result appOut = hosts.in(ns.get(BLUE_APP), 10, TcpProbe.askPeer(SERVER, 8000));
            check("blue app (outbound only) -> internet server: the server sees the SNAT address " + SNAT,
                    appOut.out().contains("peer " + SNAT), firstLine(appOut.out()));
            String unmapped = "port internet drop nat_no_mapping";
            long um0 = counters.snapshot().getOrDefault(unmapped, 0L);
            Hosts.Result unsolicited = hosts.in(server, 10, TcpProbe.connect(SNAT, 22));
            long um1 = awaitCounter(counters, unmapped, um0 + 1);
            check("internet -> SNAT address " + SNAT + " TCP 22: times out, counted (nat_no_mapping)",
                    TcpProbe.outcome(unsolicited.exit(), unsolicited.out()) == TcpProbe.Outcome.TIMED_OUT && um1 - um0 == 1,
                    unmapped + " +" + (um1 - um0));
            String priv = "nat vm blue/db no public access";
            long pv0 = counters.snapshot().getOrDefault(priv, 0L);
            Hosts.Result dbOut = hosts.in(ns.get(BLUE_DB), 10, "ping", "-c", "2", "-i", "0.2", "-W", "1", SERVER);
            long pv1 = awaitCounter(counters, priv, pv0 + 2);
            check("blue db (private) -> internet server: nothing leaves, counted", !dbOut.ok() && pv1 - pv0 == 2,
                    summary(dbOut.out()) + "; " + priv + " +" + (pv1 - pv0));

            // the changes below go through the control API (docs/api.md), as an orchestrator's would
            DemoApi.Reply fw = api.call("PUT", "/v1/projects/blue/vms/web/firewall", DemoApi.OPERATOR_KEY,
                    "{\"inbound_rules\":[{\"description\":\"app\",\"protocol\":\"tcp\",\"port\":8080,\"source_cidr\":\"0.0.0.0/0\"}]}");
            Hosts.Result opened = hosts.in(server, 10, TcpProbe.connect(FIP, 8080));
            check("API: PUT blue web's firewall (TCP 8080 in) -> 200; the next internet -> " + FIP + ":8080 reaches blue web (refused by its kernel)",
                    fw.status() == 200 && TcpProbe.outcome(opened.exit(), opened.out()) == TcpProbe.Outcome.REFUSED,
                    "HTTP " + fw.status() + " generation " + fw.body().path("generation").asLong() + "; " + firstLine(opened.out()));
            DemoApi.Reply denied = api.call("GET", "/v1/projects/red/security-groups", DemoApi.BLUE_KEY, null);
            check("API: blue's key asks for project red: 404, the same answer as for no such project",
                    denied.status() == 404 && denied.body().path("error").asText().equals("no project 'red'"),
                    "HTTP " + denied.status() + " " + denied.body().path("error").asText());
            DemoApi.Reply move = api.call("PUT", "/v1/projects/blue/floating-ips/" + FIP, DemoApi.OPERATOR_KEY, "{\"vm\":\"app\"}");
            Hosts.Result moved = hosts.in(server, 10, TcpProbe.askPeer(FIP, 22));
            Hosts.Result webNow = hosts.in(ns.get(BLUE_WEB), 10, TcpProbe.askPeer(SERVER, 8000));
            check("reassign " + FIP + " from blue web to blue app: the internet reaches blue app, blue web leaves by SNAT",
                    move.status() == 200 && moved.out().contains("hello blue-app") && webNow.out().contains("peer " + SNAT),
                    "API HTTP " + move.status() + "; " + firstLine(moved.out()) + "; blue web seen as " + firstLine(webNow.out()));
            DemoApi.Reply audit = api.call("GET", "/v1/audit-log?limit=10", DemoApi.OPERATOR_KEY, null);
            List<String> records = new java.util.ArrayList<>();
            for (var r : audit.body().path("records")) {
                records.add(r.path("key_id").asText() + " " + r.path("action").asText() + " " + r.path("target").asText() + " " + r.path("outcome").asText());
            }
            check("API audit log: the firewall PUT, the denied call and the reassign are records (newest first)",
                    records.contains("operator floating_ip.reassign blue/" + FIP + " accepted")
                            && records.contains("blue-admin security_group.list red denied")
                            && records.contains("operator vm.firewall.put blue/web accepted"),
                    String.join("; ", records.subList(0, Math.min(4, records.size()))));
        } finally {
            for (Process p : servers) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private static Process started(Process p) throws Exception {
        TcpProbe.awaitReady(p);
        return p;
    }

    private static void must(Hosts.Result r, String what) {
        if (!r.ok()) {
            throw new IllegalStateException(what + " failed: " + r.out().trim());
        }
    }

    private void runChecks(Hosts hosts, Counters counters) throws Exception {
        // 1. The data plane owns each subnet's gateway and answers ARP for it with the router MAC.
        Hosts.Result arp = hosts.in(ns.get(BLUE_WEB), 10, "arping", "-c", "2", "-w", "4", "-I", BLUE_WEB.iface(), "10.0.1.1");
        check("blue web: ARP for gateway 10.0.1.1 answered with the router MAC",
                arp.ok() && arp.out().toLowerCase().contains(ROUTER_MAC), firstLine(arp.out()));

        // 2. Within a project: same subnet (switched) and across subnets (routed), both projects.
        ping(hosts, BLUE_WEB, BLUE_APP.ip(), "blue web -> blue app 10.0.1.11 (same subnet)");
        ping(hosts, BLUE_WEB, BLUE_DB.ip(), "blue web -> blue db 10.0.2.10 (other subnet, routed)");
        ping(hosts, RED_WEB, RED_DB.ip(), "red web -> red db 10.0.2.10 (same addresses as blue)");
        ping(hosts, BLUE_WEB, "10.0.1.1", "blue web -> its gateway 10.0.1.1");

        // 3. A TCP transfer across subnets whose bytes arrive intact.
        tcpTransfer(hosts);
        flowLog.checkTransfer(this::check, BLUE_WEB.ip(), BLUE_DB.ip(), 5001, 4 << 20);

        // 4. Isolation: while red talks, blue receives nothing; red aiming at blue's MAC is dropped.
        Path capFile = Files.createTempFile("sldemo-capture", ".txt");
        Process capture = hosts.start(ns.get(BLUE_APP), "sh", "-c",
                "exec tcpdump -l -n -e -Q in -i " + BLUE_APP.iface() + " ip > " + capFile + " 2>/dev/null");
        Hosts.sleep(1000);
        long blueTx = counters.snapshot().getOrDefault("network blue tx packets", 0L);
        String unknown = "port red-web drop overlay_unknown_destination";
        long before = counters.snapshot().getOrDefault(unknown, 0L);
        hosts.in(ns.get(RED_WEB), 5, "ip", "neigh", "replace", "10.0.1.11", "lladdr", BLUE_APP.mac(),
                "dev", RED_WEB.iface(), "nud", "permanent");
        Hosts.Result lost = hosts.in(ns.get(RED_WEB), 10, "ping", "-c", "3", "-i", "0.2", "-W", "1", "10.0.1.11");
        Hosts.Result redOk = hosts.in(ns.get(RED_WEB), 10, "ping", "-c", "3", "-i", "0.2", "-W", "2", RED_DB.ip());
        long after = awaitCounter(counters, unknown, before + 3);
        long blueTxAfter = counters.snapshot().getOrDefault("network blue tx packets", 0L);
        Hosts.sleep(300);
        capture.destroy();
        capture.waitFor(5, TimeUnit.SECONDS);
        String captured = Files.readString(capFile);
        Files.deleteIfExists(capFile);
        long ipLines = captured.lines().filter(l -> l.contains("IPv4")).count();
        check("red web -> blue app's MAC: dropped (overlay_unknown_destination)",
                !lost.ok() && after - before >= 3, "ping failed as expected, " + unknown + " +" + (after - before));
        check("while red talks, blue receives nothing (tcpdump in blue app, counters)",
                redOk.ok() && ipLines == 0 && blueTxAfter == blueTx,
                "red ping " + (redOk.ok() ? "ok" : "FAILED") + ", " + ipLines + " IPv4 frames captured in blue app, "
                        + "network blue tx +" + (blueTxAfter - blueTx));

        // 5. Anti-spoofing: blue web forges blue app's source IP.
        String spoof = "port blue-web drop overlay_spoof_src_ip";
        long spoofBefore = counters.snapshot().getOrDefault(spoof, 0L);
        Hosts.Result forged = hosts.in(ns.get(BLUE_WEB), 10, "python3", "-c",
                udpScript(BLUE_WEB.iface(), ROUTER_MAC, BLUE_WEB.mac(), "10.0.1.11", "10.0.2.10"));
        long spoofAfter = awaitCounter(counters, spoof, spoofBefore + 1);
        check("blue web sends with blue app's IP: dropped (overlay_spoof_src_ip)",
                forged.ok() && spoofAfter - spoofBefore == 1, forged.ok() ? spoof + " +" + (spoofAfter - spoofBefore) : forged.out().trim());

        // 6. A malformed IPv4 header (IHL 3) is dropped with its reason by the parser.
        String ihlLabel = "port blue-web drop bad_ipv4_ihl";
        long ihlBefore = counters.snapshot().getOrDefault(ihlLabel, 0L);
        Hosts.Result sent = hosts.in(ns.get(BLUE_WEB), 10, "python3", "-c", rawFrameScript(BLUE_WEB.iface(), ROUTER_MAC, BLUE_WEB.mac()));
        long ihlAfter = awaitCounter(counters, ihlLabel, ihlBefore + 1);
        check("malformed IPv4 frame (IHL=3) dropped with reason bad_ipv4_ihl",
                sent.ok() && ihlAfter - ihlBefore == 1, sent.ok() ? ihlLabel + " +" + (ihlAfter - ihlBefore) : sent.out().trim());

        // 7. ARP for an address nobody owns gets no answer (no flooding).
        Hosts.Result noArp = hosts.in(ns.get(BLUE_WEB), 10, "arping", "-c", "2", "-w", "3", "-I", BLUE_WEB.iface(), "10.0.1.77");
        check("ARP for unconfigured 10.0.1.77 is not answered", !noArp.ok(), firstLine(noArp.out()));

        securityGroups(hosts, counters);
    }

    /**
     * 8. Security groups (default.yaml): every VM has its project's default group (SSH from
     * anywhere, anything from members, anything out) except blue lb (group web: HTTP and ping in,
     * anything out); the platform layer blocks outbound TCP 25. Real sockets ({@link TcpProbe}):
     * a refused connection times out (its SYN is dropped), one SYN per attempt.
     */
    private void securityGroups(Hosts hosts, Counters counters) throws Exception {
        List<Process> servers = new ArrayList<>();
        try {
            servers.add(server(hosts, BLUE_APP, 22, 8080));
            servers.add(server(hosts, BLUE_DB, 25, 587));
            servers.add(server(hosts, RED_DB, 8080));
            String appNoRule = "firewall port blue-app drop fw_no_rule";
            String webPlatform = "firewall port blue-web drop fw_platform";
            long noRule0 = counters.snapshot().getOrDefault(appNoRule, 0L);
            long platform0 = counters.snapshot().getOrDefault(webPlatform, 0L);

            tcp(hosts, BLUE_LB, BLUE_APP, 22, TcpProbe.Outcome.CONNECTED, "blue lb (group web only) -> blue app TCP 22: connects (default: SSH from anywhere)");
            tcp(hosts, BLUE_LB, BLUE_APP, 8080, TcpProbe.Outcome.TIMED_OUT, "blue lb -> blue app TCP 8080: times out (not a member of app's default group)");
            long noRule1 = awaitCounter(counters, appNoRule, noRule0 + 1);
            check("  ... its SYN dropped once, counted for blue app's rules", noRule1 - noRule0 == 1, appNoRule + " +" + (noRule1 - noRule0));
            List<String> why = explain.explain(new io.sluice.dataplane.debug.Explain.Request("blue/lb", BLUE_APP.ip(), null, "tcp", 40000, 8080, false));
            String verdict = why.get(why.size() - 1);
            check("  ... explain says why, no packet sent: " + verdict, verdict.equals("DROP fw_no_rule (no rule in [default] allows tcp/8080 from "
                    + BLUE_LB.ip() + ")") && awaitCounter(counters, appNoRule, noRule1) == noRule1, verdict);
            tcp(hosts, BLUE_WEB, BLUE_APP, 8080, TcpProbe.Outcome.CONNECTED, "blue web -> blue app TCP 8080: connects (same default group: any port)");
            tcp(hosts, RED_WEB, RED_DB, 8080, TcpProbe.Outcome.CONNECTED, "red web -> red db TCP 8080: connects (red's own default group)");
            tcp(hosts, BLUE_WEB, BLUE_DB, 25, TcpProbe.Outcome.TIMED_OUT, "blue web -> blue db TCP 25: times out (platform layer: no outbound SMTP)");
            long platform1 = awaitCounter(counters, webPlatform, platform0 + 1);
            check("  ... its SYN dropped once, counted for blue web", platform1 - platform0 == 1, webPlatform + " +" + (platform1 - platform0));
            tcp(hosts, BLUE_WEB, BLUE_DB, 587, TcpProbe.Outcome.CONNECTED, "blue web -> blue db TCP 587 (submission): connects");

            ping(hosts, BLUE_APP, BLUE_LB.ip(), "blue app -> blue lb (web allows echo in; replies tracked)");
            Hosts.Result noPing = hosts.in(ns.get(BLUE_LB), 10, "ping", "-c", "2", "-i", "0.2", "-W", "1", BLUE_APP.ip());
            long noRule2 = awaitCounter(counters, appNoRule, noRule1 + 2);
            check("ping blue lb -> blue app: no reply (no ICMP from non-members), counted +2",
                    !noPing.ok() && noRule2 - noRule1 == 2, summary(noPing.out()) + "; " + appNoRule + " +" + (noRule2 - noRule1));
        } finally {
            for (Process p : servers) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private Process server(Hosts hosts, Vm vm, int... ports) throws Exception {
        Process p = hosts.start(ns.get(vm), TcpProbe.serve(ports));
        TcpProbe.awaitReady(p);
        return p;
    }

    private void tcp(Hosts hosts, Vm from, Vm to, int port, TcpProbe.Outcome want, String what) {
        Hosts.Result r = hosts.in(ns.get(from), 10, TcpProbe.connect(to.ip(), port));
        TcpProbe.Outcome got = TcpProbe.outcome(r.exit(), r.out());
        check(what, got == want, firstLine(r.out()));
    }

    private void ping(Hosts hosts, Vm from, String dst, String what) {
        Hosts.Result r = hosts.in(ns.get(from), 15, "ping", "-c", "3", "-i", "0.2", "-W", "2", dst);
        check("ping " + what, r.ok(), summary(r.out()));
    }

    private void tcpTransfer(Hosts hosts) throws Exception {
        Path dir = Files.createTempDirectory("sldemo");
        Path src = dir.resolve("payload.bin");
        Path dst = dir.resolve("received.bin");
        byte[] payload = new byte[4 << 20];
        new Random(7).nextBytes(payload);
        Files.write(src, payload);
        try {
            Process server = hosts.start(ns.get(BLUE_DB), "sh", "-c", "exec nc -l -q 1 5001 > " + dst);
            Thread.sleep(300);
            Hosts.Result client = hosts.in(ns.get(BLUE_WEB), 30, "sh", "-c", "nc -N -w 5 " + BLUE_DB.ip() + " 5001 < " + src);
            boolean done = server.waitFor(15, TimeUnit.SECONDS);
            if (!done) {
                server.destroyForcibly();
            }
            String want = sha256(payload);
            String got = Files.exists(dst) ? sha256(Files.readAllBytes(dst)) : "(nothing received)";
            check("TCP blue web -> blue db (routed): 4 MiB, sha256 equal",
                    client.ok() && want.equals(got), "sha256 " + got.substring(0, Math.min(16, got.length())) + "…");
        } finally {
            Files.deleteIfExists(src);
            Files.deleteIfExists(dst);
            Files.deleteIfExists(dir);
        }
    }

    private static String rawFrameScript(String ifname, String dstMac, String srcMac) {
        return "import socket\n"
                + "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n"
                + "s.bind(('" + ifname + "',0))\n"
                + "d=bytes.fromhex('" + dstMac.replace(":", "") + "');m=bytes.fromhex('" + srcMac.replace(":", "") + "')\n"
                + "ip=bytes([0x43,0,0,40])+bytes(36)\n"
                + "s.send(d+m+b'\\x08\\x00'+ip)\n";
    }

    private static String udpScript(String ifname, String dstMac, String srcMac, String srcIp, String dstIp) {
        return "import socket,struct\n"
                + "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n"
                + "s.bind(('" + ifname + "',0))\n"
                + "d=bytes.fromhex('" + dstMac.replace(":", "") + "');m=bytes.fromhex('" + srcMac.replace(":", "") + "')\n"
                + "src=socket.inet_aton('" + srcIp + "');dst=socket.inet_aton('" + dstIp + "')\n"
                + "h=struct.pack('!BBHHHBBH4s4s',0x45,0,36,0,0x4000,64,17,0,src,dst)\n"
                + "c=sum(struct.unpack('!10H',h));c=(c&0xffff)+(c>>16);c=(c&0xffff)+(c>>16)\n"
                + "h=h[:10]+struct.pack('!H',~c&0xffff)+h[12:]\n"
                + "s.send(d+m+b'\\x08\\x00'+h+struct.pack('!HHHH',40000,5001,16,0)+b'spoofed!')\n";
    }

    static long awaitCounter(Counters counters, String label, long target) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        long v = 0;
        while (System.nanoTime() - deadline < 0) {
            Map<String, Long> snap = counters.snapshot();
            v = snap.getOrDefault(label, 0L);
            if (v >= target) {
                Hosts.sleep(200); // let anything extra arrive, so "exactly" checks see it
                return counters.snapshot().getOrDefault(label, 0L);
            }
            Hosts.sleep(50);
        }
        return v;
    }

    private void check(String name, boolean passed, String detail) {
        checks.add(new Check(name, passed, detail == null ? "" : detail.trim()));
        out.printf("  %s %s%n", passed ? "PASS" : "FAIL", name);
    }

    static String firstLine(String s) {
        return s.lines().filter(l -> !l.isBlank()).findFirst().orElse("");
    }

    static String summary(String pingOut) {
        return pingOut.lines().filter(l -> l.contains("packets transmitted")).findFirst().orElse(firstLine(pingOut));
    }

    private static String sha256(byte[] b) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
