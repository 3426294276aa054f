package io.sluice.dataplane.demo;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.overlay.OverlayPipeline;
import io.sluice.dataplane.port.LinkMonitor;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code ./sluice demo --vms qemu} (docs/vms.md): the demo's overlay and security groups with four
 * real QEMU guests on vhost-user ports (Sluice the client, QEMU the socket server) instead of
 * namespaces on TAP ports: blue web, blue app and blue lb in project blue (lb in group web only),
 * red web in project red with blue web's address. Checks ARP and ping through the data plane, an
 * iperf3 TCP transfer whose received bytes the ports' counters account for, isolation between the
 * projects (counted), the security groups (SSH only from outside the default group, TCP 25 refused,
 * pings as the rules say; every drop by its counter), the ports' link state, and a guest whose QEMU
 * is killed and started again on the same socket getting its connectivity back with nothing done to
 * the data plane. Names are per process (sockets in /tmp/slvm-PID), so no lock is needed; everything
 * started is stopped and removed, also when a check fails. Exits 0 only when every check passed.
 */
public final class VmDemo {
    static final String RESOURCE = "/io/sluice/dataplane/config/vms.yaml";
    static final String ROUTER_MAC = "02:5c:00:00:ff:01";
    /** Seconds a guest may take to boot (TCG on a shared machine: 4-13 s alone, more when loaded). */
    static final int BOOT_SECONDS = 240;

    private final PrintStream out;
    private final List<Demo.Check> checks = new ArrayList<>();
    private Counters counters;
    private Guests.Guest web, app, lb, red;

    private VmDemo(PrintStream out) {
        this.out = out;
    }

    /** {@code demo --vms qemu}. */
    public static int run(PrintStream out) throws Exception {
        return new VmDemo(out).go();
    }

    /** The VM demo's configuration with its sockets in {@code dir}. */
    static SluiceConfig config(Path dir) throws Exception {
        String text;
        try (InputStream in = VmDemo.class.getResourceAsStream(RESOURCE)) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        text = text.replace("@DIR@", dir.toString()).replace("@COUNTERS@", dir.resolve("counters.dat").toString());
        return ConfigLoader.parse("embedded:vms.yaml", text);
    }

    private int go() throws Exception {
        long pid = ProcessHandle.current().pid();
        Path dir = Path.of("/tmp/slvm-" + pid);
        Path logs = Path.of("/tmp/slvm-" + pid + "-logs");
        Files.createDirectories(dir);
        SluiceConfig cfg = config(dir);
        FirewallState fw = new FirewallState(cfg.ports().size(), cfg.firewall());
        out.println("Sluice demo with QEMU guests: overlay data plane with security groups on " + (cfg.ports().size() - 1)
                + " vhost-user ports (Sluice the client, QEMU the server; sockets in " + dir + "); projects blue (web, app, lb)"
                + " and red (web, blue web's address 10.0.1.10); blue lb in group web only; guest consoles in " + logs);
        long t0 = System.nanoTime();
        try (Guests guests = Guests.open(Guests.home(), logs);
             Counters c = Counters.create(cfg.countersFile(), 4096)) {
            counters = c;
            OverlayPipeline pipeline = OverlayPipeline.create(cfg, counters, fw);
            try (Dataplane dp = Dataplane.start(cfg, (cf, w) -> pipeline.stages(w), counters)) {
                web = guests.start("blue-web", dir.resolve("blue-web.sock"), "02:5c:00:00:01:10", "10.0.1.10/24", "10.0.1.1");
                app = guests.start("blue-app", dir.resolve("blue-app.sock"), "02:5c:00:00:01:11", "10.0.1.11/24", "10.0.1.1");
                lb = guests.start("blue-lb", dir.resolve("blue-lb.sock"), "02:5c:00:00:01:12", "10.0.1.12/24", "10.0.1.1");
                red = guests.start("red-web", dir.resolve("red-web.sock"), "02:5c:00:00:81:10", "10.0.1.10/24", "10.0.1.1");
                boolean ready = true;
                for (Guests.Guest g : List.of(web, app, lb, red)) ready &= g.awaitReady(BOOT_SECONDS);
                check("four QEMU guests boot and configure eth0 on their vhost-user ports",
                        ready, String.format("%.1f s", (System.nanoTime() - t0) / 1e9));
                if (ready) {
                    out.println("guests up after " + String.format("%.1f s", (System.nanoTime() - t0) / 1e9) + "; counters in "
                            + cfg.countersFile() + " (./sluice stats " + cfg.countersFile() + ")");
                    runChecks(guests);
                } else {
                    out.println("a guest did not boot in " + BOOT_SECONDS + " s: see " + logs);
                }
            }
            out.println();
            out.println("Counters (summed over workers; zero drop counters omitted):");
            Counters.print(counters.snapshot(), out);
        } finally {
            deleteTree(dir);
            if (checks.stream().allMatch(Demo.Check::passed) && !checks.isEmpty()) deleteTree(logs);
        }
        return Demo.report(out, checks, String.format(" (%.0f s)", (System.nanoTime() - t0) / 1e9));
    }

    private void runChecks(Guests guests) throws Exception {
        // link state: every guest's port is up once its QEMU has connected
        StringBuilder links = new StringBuilder();
        boolean allUp = true;
        for (String p : List.of("blue-web", "blue-app", "blue-lb", "red-web")) {
            long up = awaitValue(LinkMonitor.upLabel(p), 1, 10);
            allUp &= up == 1;
            links.append(p).append('=').append(up).append(' ');
        }
        check("every vhost-user port's link is up (port NAME link up = 1 in ./sluice stats)", allUp, links.toString());

        Guests.Result arp = web.exec(15, "arping -c 2 -w 4 -I eth0 10.0.1.1");
        check("blue web: ARP for gateway 10.0.1.1 answered with the router MAC",
                arp.ok() && arp.out().toLowerCase().contains(ROUTER_MAC), Demo.firstLine(grep(arp.out(), "reply")));
        ping(web, app.ip(), "blue web -> blue app 10.0.1.11");
        ping(web, "10.0.1.1", "blue web -> its gateway 10.0.1.1");
        ping(red, "10.0.1.1", "red web (10.0.1.10, blue web's address) -> red's gateway");

        iperf();
        isolation();
        securityGroups();
        restart();
    }

    /** iperf3 TCP blue web -> blue app; the bytes it says were received went out of blue app's port. */
    private void iperf() {
        app.background("iperf3 -s -D");
        Map<String, Long> before = counters.snapshot();
        Guests.Result r = web.exec(60, "iperf3 -c " + app.ip() + " -t 3 -J");
        if (jsonBytes(r.out(), "sum_received") <= 0) {
            web.exec(10, "sleep 2"); // the server may still be starting
            r = web.exec(60, "iperf3 -c " + app.ip() + " -t 3 -J");
        }
        long received = jsonBytes(r.out(), "sum_received");
        long sent = jsonBytes(r.out(), "sum_sent");
        double secs = jsonSeconds(r.out(), "sum_received");
        Map<String, Long> after = counters.snapshot();
        long txBytes = after.getOrDefault("port blue-app tx bytes", 0L) - before.getOrDefault("port blue-app tx bytes", 0L);
        long rxBytes = after.getOrDefault("port blue-web rx bytes", 0L) - before.getOrDefault("port blue-web rx bytes", 0L);
        check("iperf3 TCP blue web -> blue app through Sluice: bytes received, all through blue app's port",
                r.ok() && received > (1 << 20) && received <= sent && txBytes >= received && rxBytes >= received,
                String.format("iperf3 sent %d B, received %d B (%.2f Gbit/s); port blue-web rx +%d B, blue-app tx +%d B",
                        sent, received, secs > 0 ? received * 8 / secs / 1e9 : 0, rxBytes, txBytes));
    }

    /** Red web aims at blue app's MAC and address: dropped, counted; blue receives nothing. */
    private void isolation() {
        String unknown = "port red-web drop overlay_unknown_destination";
        long u0 = value(unknown);
        long blueTx = value("network blue tx packets");
        red.exec(5, "/usr/bin/ip neigh replace 10.0.1.11 lladdr " + app.mac() + " dev eth0 nud permanent");
        Guests.Result lost = red.exec(15, "/usr/bin/ping -c 3 -i 0.2 -W 1 10.0.1.11");
        long u1 = Demo.awaitCounter(counters, unknown, u0 + 3);
        long blueTxAfter = value("network blue tx packets");
        check("red web -> blue app's MAC and address: dropped (overlay_unknown_destination), blue receives nothing",
                !lost.ok() && u1 - u0 >= 3 && blueTxAfter == blueTx,
                Demo.summary(lost.out()) + "; " + unknown + " +" + (u1 - u0) + ", network blue tx +" + (blueTxAfter - blueTx));
    }

    private void securityGroups() {
        serve(app, 22, 8080, 25);
        String appNoRule = "firewall port blue-app drop fw_no_rule";
        String webPlatform = "firewall port blue-web drop fw_platform";
        tcp(lb, app, 22, "CONNECTED", "blue lb (group web only) -> blue app TCP 22: connects (default: SSH from anywhere)");
        long nr0 = value(appNoRule);
        tcp(lb, app, 8080, "TIMED_OUT", "blue lb -> blue app TCP 8080: times out (not a member of app's default group)");
        long nr1 = Demo.awaitCounter(counters, appNoRule, nr0 + 1);
        check("  ... its SYN dropped, counted for blue app's rules (fw_no_rule)", nr1 - nr0 >= 1, appNoRule + " +" + (nr1 - nr0));
        tcp(web, app, 8080, "CONNECTED", "blue web -> blue app TCP 8080: connects (same default group: any port)");
        long p0 = value(webPlatform);
        tcp(web, app, 25, "TIMED_OUT", "blue web -> blue app TCP 25: refused by the platform layer (no outbound SMTP)");
        long p1 = Demo.awaitCounter(counters, webPlatform, p0 + 1);
        check("  ... its SYN dropped, counted for blue web (fw_platform)", p1 - p0 >= 1, webPlatform + " +" + (p1 - p0));
        ping(app, lb.ip(), "blue app -> blue lb (web allows echo in; replies tracked)");
        long nr2 = value(appNoRule);
        Guests.Result noPing = lb.exec(15, "/usr/bin/ping -c 2 -i 0.2 -W 1 " + app.ip());
        long nr3 = Demo.awaitCounter(counters, appNoRule, nr2 + 2);
        check("ping blue lb -> blue app: no reply (no ICMP from non-members), counted +2",
                !noPing.ok() && nr3 - nr2 == 2, Demo.summary(noPing.out()) + "; " + appNoRule + " +" + (nr3 - nr2));
        ping(red, "10.0.1.1", "red web (same address as blue web) still reaches its own gateway");
    }

    /** Blue app's QEMU is killed and started again on the same socket: the port goes down, comes back, traffic resumes. */
    private void restart() throws IOException {
        String up = LinkMonitor.upLabel("blue-app"), changes = LinkMonitor.changesLabel("blue-app");
        long ch0 = value(changes);
        long t0 = System.nanoTime();
        app.kill();
        long down = awaitValue(up, 0, 10);
        Guests.Result lost = web.exec(15, "/usr/bin/ping -c 2 -i 0.2 -W 1 " + app.ip());
        check("blue app's QEMU killed: its port's link goes down, blue web's pings to it are lost",
                down == 0 && !lost.ok() && value(changes) == ch0 + 1, up + " = " + down + ", " + changes + " +" + (value(changes) - ch0));
        app.restart();
        boolean ready = app.awaitReady(BOOT_SECONDS);
        long upAgain = awaitValue(up, 1, 20);
        Guests.Result back = null;
        for (int i = 0; i < 10 && (back == null || !back.ok()); i++) {
            back = web.exec(15, "/usr/bin/ping -c 2 -i 0.2 -W 2 " + app.ip());
        }
        check(String.format("blue app's QEMU started again on the same socket: link up, ping from blue web answered (%.0f s, nothing done to the data plane)",
                        (System.nanoTime() - t0) / 1e9),
                ready && upAgain == 1 && back.ok() && value(changes) == ch0 + 2,
                up + " = " + upAgain + ", " + changes + " +" + (value(changes) - ch0) + "; " + Demo.summary(back.out()));
        serve(app, 22);
        tcp(lb, app, 22, "CONNECTED", "  ... and blue lb -> blue app TCP 22 connects again (security groups unchanged)");

        // a reboot inside the guest: QEMU stays, the guest's driver resets the device and sets it up again
        String redChanges = LinkMonitor.changesLabel("red-web");
        long rc0 = value(redChanges);
        long t1 = System.nanoTime();
        boolean rebooted = red.reboot(BOOT_SECONDS);
        Guests.Result after = null;
        for (int i = 0; i < 10 && (after == null || !after.ok()); i++) {
            after = red.exec(15, "/usr/bin/ping -c 2 -i 0.2 -W 2 10.0.1.1");
        }
        long rc1 = value(redChanges);
        check(String.format("red web reboots (reboot -f in the guest): the device is reset and set up again, its pings answered (%.0f s)",
                        (System.nanoTime() - t1) / 1e9),
                rebooted && after.ok() && value(LinkMonitor.upLabel("red-web")) == 1,
                redChanges + " +" + (rc1 - rc0) + "; " + Demo.summary(after.out()));
    }

    /** Busybox nc listeners in {@code g} that greet each connection with "hello PORT". */
    private static void serve(Guests.Guest g, int... ports) {
        for (int p : ports) {
            g.background("while :; do echo hello " + p + " | nc -l -p " + p + "; done");
        }
        g.exec(10, "sleep 1");
    }

    /** A TCP connection attempt from {@code from} to {@code to}:{@code port}: CONNECTED, REFUSED or TIMED_OUT. */
    private void tcp(Guests.Guest from, Guests.Guest to, int port, String want, String what) {
        Guests.Result r = from.exec(20, "sleep 1 | nc -w 2 " + to.ip() + " " + port);
        String got = r.out().contains("hello " + port) ? "CONNECTED" : r.out().toLowerCase().contains("refused") ? "REFUSED" : "TIMED_OUT";
        check(what, got.equals(want), got + (Demo.firstLine(r.out()).isEmpty() ? "" : ": " + Demo.firstLine(r.out())));
    }

    private void ping(Guests.Guest from, String dst, String what) {
        Guests.Result r = from.exec(20, "/usr/bin/ping -c 3 -i 0.2 -W 2 " + dst);
        if (!r.ok()) r = from.exec(20, "/usr/bin/ping -c 3 -i 0.2 -W 2 " + dst); // a first ARP under load
        check("ping " + what, r.ok(), Demo.summary(r.out()));
    }

    private long value(String label) {
        return counters.snapshot().getOrDefault(label, 0L);
    }

    /** Waits until {@code label} equals {@code want} (at most {@code seconds}); returns the last value. */
    private long awaitValue(String label, long want, int seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long v = value(label);
        while (v != want && System.nanoTime() - deadline < 0) {
            Hosts.sleep(50);
            v = value(label);
        }
        return v;
    }

    static long jsonBytes(String json, String sum) {
        Matcher m = Pattern.compile("\"" + sum + "\"\\s*:\\s*\\{[^}]*?\"bytes\"\\s*:\\s*(\\d+)", Pattern.DOTALL).matcher(json);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    static double jsonSeconds(String json, String sum) {
        Matcher m = Pattern.compile("\"" + sum + "\"\\s*:\\s*\\{[^}]*?\"seconds\"\\s*:\\s*([0-9.eE+-]+)", Pattern.DOTALL).matcher(json);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    private static String grep(String s, String word) {
        return s.lines().filter(l -> l.toLowerCase().contains(word)).findFirst().orElse(s);
    }

    private void check(String name, boolean passed, String detail) {
        checks.add(new Demo.Check(name, passed, detail == null ? "" : detail.trim()));
        out.printf("  %s %s%n", passed ? "PASS" : "FAIL", name);
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
