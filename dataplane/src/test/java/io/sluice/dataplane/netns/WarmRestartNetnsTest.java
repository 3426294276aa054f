package io.sluice.dataplane.netns;

import io.sluice.dataplane.counters.Counters;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Warm restart with real hosts (issue 17, docs/conntrack.md): the data plane ({@code Main run} in a
 * child JVM: L2 + security groups on two TAP ports) between a VM (namespace, port vm1, group web:
 * TCP 5201 and, by the default group, 22 in) and an outside host (port ext1). An iperf3 TCP stream
 * ext1 -> vm1:5201 and an interactive session (a line echoed on port 22, then, after the restart,
 * another) are open when the data plane is killed with SIGKILL. A new data plane on the same
 * configuration attaches the conntrack shard file ({@code conntrack-dir}, this test's directory)
 * and says how many connections it kept; the namespaces get their (new) TAPs back; both
 * connections go on: iperf3 ends successfully, the session's second line comes back. Mid-stream
 * pickup is <b>off</b> here ({@code tcp-pickup: false}), so only the kept table can carry them.
 * A connection the rules do not allow (ext1 -> vm1:8080) is dropped before and after the
 * restart, each time counted {@code fw_no_rule} on vm1's port. Then a second {@code kill -9}, the
 * shard file deleted (the state lost) and pickup switched on: the session's third line still
 * comes back (its ACK picked up, allowed by port 22's rule), nothing is dropped {@code fw_invalid},
 * and 8080 stays dropped {@code fw_no_rule}.
 */
class WarmRestartNetnsTest {
    static final String VM_IP = "10.77.9.1", EXT_IP = "10.77.9.11";
    static final String VM_MAC = "02:5f:09:00:00:01", EXT_MAC = "02:5f:09:00:00:0b";

    @Test
    void openConnectionsSurviveKillNineAndDisallowedOnesStayDropped() throws Exception {
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            String tapVm = net.name("wv"), tapExt = net.name("we");
            Path counters = dir.resolve("counters.dat");
            Path cfg = config(dir, tapVm, tapExt);
            String vm = net.create("wvm"), ext = net.create("wex");
            Files.writeString(dir.resolve("echo.py"), ControlApiTrafficNetnsTest.ECHO);
            Files.writeString(dir.resolve("session.py"), SESSION);
            Path marker = dir.resolve("go");
            Path sessionOut = dir.resolve("session.txt");
            Path perfOut = dir.resolve("iperf3.json");
            Process perf;
            Process session;
            try (ServiceChild c = ServiceChild.run(cfg)) {
                c.awaitReady(60_000);
                plug(net, tapVm, vm, VM_MAC, VM_IP, tapExt, ext, EXT_MAC);
                net.spawn(vm, dir.resolve("iperf3-server.txt"), "iperf3", "-s", "-1", "-p", "5201", "-B", VM_IP);
                net.spawn(vm, dir.resolve("echo.txt"), "python3", dir.resolve("echo.py").toString(), "22");
                awaitListening(net, vm, 5201);
                awaitListening(net, vm, 22);

                long noRule0 = counter(counters, "firewall port vm1 drop fw_no_rule");
                assertTrue(!connects(net, ext, 8080), "8080 is not open");
                awaitCounter(counters, "firewall port vm1 drop fw_no_rule", noRule0 + 1);

                session = net.spawn(ext, sessionOut, "python3", dir.resolve("session.py").toString(), VM_IP, "22", marker.toString());
                perf = net.spawn(ext, perfOut, "iperf3", "-c", VM_IP, "-p", "5201", "-t", "10", "-b", "20M", "-J");
                long deadline = System.nanoTime() + 15_000_000_000L;
                while (!read(sessionOut).contains("first ok") && System.nanoTime() < deadline && session.isAlive()) Thread.sleep(20);
                assertTrue(read(sessionOut).contains("first ok"), "session did not start: " + read(sessionOut) + "\n" + c.output());
                // the stream flows: two established connections on 5201 (iperf3's control and data) seen by the VM
                deadline = System.nanoTime() + 15_000_000_000L;
                while (established(net, vm, ":5201") < 2 && System.nanoTime() < deadline) Thread.sleep(50);
                assertTrue(established(net, vm, ":5201") >= 2, net.exec(vm, 5, "ss", "-tn").output());
                Thread.sleep(1500);

                c.process.destroyForcibly(); // SIGKILL
                c.process.waitFor();
            }
            try (ServiceChild c = ServiceChild.run(cfg)) {
                c.awaitReady(60_000);
                ServiceChild.Line kept = keptLine(c);
                Matcher m = Pattern.compile("sluice: conntrack (\\S+): (\\d+) connection\\(s\\) kept").matcher(kept.text());
                assertTrue(m.find(), kept.text());
                assertEquals(dir.resolve("ct").resolve("conntrack-0.shard").toString(), m.group(1));
                assertTrue(Integer.parseInt(m.group(2)) >= 3, "iperf3 control + data and the session kept: " + kept.text());
                assertTrue(!c.output().contains("not kept"), c.output());
                plug(net, tapVm, vm, VM_MAC, VM_IP, tapExt, ext, EXT_MAC);

                Files.writeString(marker, "go");
                awaitLine(sessionOut, "second ", session);
                assertTrue(read(sessionOut).contains("second ok"), "the interactive session after the restart:\n" + read(sessionOut)
                        + "\ncounters: " + nonZeroDrops(counters));
                assertTrue(perf.waitFor(90, TimeUnit.SECONDS), "iperf3 still running:\n" + read(perfOut));
                String json = read(perfOut);
                assertEquals(0, perf.exitValue(), "iperf3 failed:\n" + json + "\ncounters: " + nonZeroDrops(counters));
                Matcher rx = Pattern.compile("\"sum_received\"\\s*:\\s*\\{[^}]*\"bytes\"\\s*:\\s*(\\d+)").matcher(json);
                assertTrue(rx.find() && Long.parseLong(rx.group(1)) > 1_000_000, "iperf3 received: " + json);

                // not allowed before, not allowed after: the drop counter of the new process proves it
                long noRule1 = counter(counters, "firewall port vm1 drop fw_no_rule");
                assertTrue(!connects(net, ext, 8080), "8080 is still not open after the restart");
                awaitCounter(counters, "firewall port vm1 drop fw_no_rule", noRule1 + 1);
                c.process.destroyForcibly(); // SIGKILL again
                c.process.waitFor();
            }
            // the state is lost (the shard file deleted) but mid-stream pickup is on: the session's
            // next segment is an ACK the rules allow (port 22 in), so it creates the connection again
            Files.delete(dir.resolve("ct").resolve("conntrack-0.shard"));
            Files.writeString(cfg, Files.readString(cfg).replace("tcp-pickup: false", "tcp-pickup: true"));
            try (ServiceChild c = ServiceChild.run(cfg)) {
                c.awaitReady(60_000);
                plug(net, tapVm, vm, VM_MAC, VM_IP, tapExt, ext, EXT_MAC);
                Files.writeString(dir.resolve("go2"), "go");
                awaitLine(sessionOut, "third ", session);
                assertTrue(read(sessionOut).contains("third ok"), "the session after its state was lost, picked up:\n" + read(sessionOut)
                        + "\ncounters: " + nonZeroDrops(counters));
                assertTrue(session.waitFor(60, TimeUnit.SECONDS));
                assertEquals(0, counter(counters, "firewall port ext1 drop fw_invalid") + counter(counters, "firewall port vm1 drop fw_invalid"),
                        "nothing of the session dropped as invalid: " + nonZeroDrops(counters));
                long noRule2 = counter(counters, "firewall port vm1 drop fw_no_rule");
                assertTrue(!connects(net, ext, 8080), "8080 is still not open with pickup on");
                awaitCounter(counters, "firewall port vm1 drop fw_no_rule", noRule2 + 1);
                c.signal("TERM");
                assertEquals(0, c.awaitExit(30), c.output());
            }
        }
    }

    /** The external network's router and the server behind it (docs/nat.md), as in {@link NatNetnsTest}. */
    static final String SNAT_IP = "203.0.113.5", SERVER_IP = "198.51.100.10", ROUTER_MAC = "02:b5:00:00:99:01", JOB_MAC = "02:b5:00:00:01:03";
    /** Holds one connection: prints the greeting, waits for the file argv[3], sends a line, prints the echo (15 s to come). */
    static final String HOLD = String.join("\n",
            "import socket, sys, os, time",
            "s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)",
            "print('greeting', s.recv(64).decode().strip(), flush=True)",
            "t = time.time()",
            "while not os.path.exists(sys.argv[3]) and time.time() - t < 120: time.sleep(0.02)",
            "s.settimeout(15)",
            "try:",
            "    s.sendall(b'ping\\n'); d = s.recv(64); print('echo', d.decode().strip() if d else 'closed', flush=True)",
            "except Exception as e:",
            "    print('echo failed', type(e).__name__, flush=True)",
            "");

    /**
     * NAT across a restart (docs/conntrack.md, "Limits and NAT"): an outbound-only VM (job, SNAT
     * address 203.0.113.5, overlay with an external network, {@code Main run} in a child JVM) holds a
     * TCP session with a server behind the external network's router; the server sees the SNAT
     * address. The data plane is killed with SIGKILL and started again on the same configuration:
     * the kept shard's SNAT'd entry is taken back (the line says "with NAT (bindings rebuilt)", none
     * dropped) and the session's next line is echoed: the server's answer to the SNAT address and
     * port comes back in through the rebuilt binding. Pickup is off, so only the kept entry and the
     * rebuilt binding can carry it (before this, the entry was deleted at attach and the answer was
     * dropped with no mapping).
     */
    @Test
    void snatConnectionOfAnOutboundOnlyVmSurvivesKillNine() throws Exception {
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            String tapUp = net.name("nu"), tapExt = net.name("nx"), tapJob = net.name("nj");
            Path counters = dir.resolve("counters.dat");
            Path cfg = natConfig(dir, tapUp, tapExt, tapJob, net.name("nw"), net.name("nv"));
            String ul = net.create("nul"), router = net.create("nrt"), server = net.create("nsv"), job = net.create("njb");
            String rs = net.name("nrs"), sr = net.name("nsr");
            for (String ns : new String[] {router, server, job, ul}) net.exec(ns, 5, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
            Netns.run("ip", "-n", router, "link", "add", rs, "type", "veth", "peer", "name", sr, "netns", server);
            Netns.run("ip", "-n", router, "addr", "add", "198.51.100.1/24", "dev", rs);
            Netns.run("ip", "-n", router, "link", "set", "dev", rs, "up");
            Netns.run("ip", "-n", server, "addr", "add", SERVER_IP + "/24", "dev", sr);
            Netns.run("ip", "-n", server, "link", "set", "dev", sr, "up");
            Netns.run("ip", "-n", server, "route", "add", "default", "via", "198.51.100.1");
            net.exec(router, 5, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
            Files.writeString(dir.resolve("echo.py"), NatNetnsTest.ECHO_SERVER);
            Files.writeString(dir.resolve("hold.py"), HOLD);
            net.spawn(server, dir.resolve("server.txt"), "python3", dir.resolve("echo.py").toString(), "7000", "srv");
            awaitListening(net, server, 7000);
            Path marker = dir.resolve("go-nat");
            Path out = dir.resolve("hold.txt");
            Process hold;
            try (ServiceChild c = ServiceChild.run(cfg)) {
                c.awaitReady(60_000);
                plugNat(net, tapUp, ul, tapExt, router, tapJob, job);
                hold = net.spawn(job, out, "python3", dir.resolve("hold.py").toString(), SERVER_IP, "7000", marker.toString());
                awaitLine(out, "greeting", hold);
                assertTrue(read(out).contains("greeting hello srv " + SNAT_IP), "the server sees the SNAT address: " + read(out)
                        + "\ncounters: " + nonZeroDrops(counters) + "\n" + c.output());
                Thread.sleep(500);
                c.process.destroyForcibly(); // SIGKILL
                c.process.waitFor();
            }
            try (ServiceChild c = ServiceChild.run(cfg)) {
                c.awaitReady(60_000);
                ServiceChild.Line kept = keptLine(c);
                assertTrue(kept.text().contains(", 1 with NAT (bindings rebuilt)") && !kept.text().contains("dropped"), kept.text());
                plugNat(net, tapUp, ul, tapExt, router, tapJob, job);
                Files.writeString(marker, "go");
                awaitLine(out, "echo", hold);
                assertTrue(read(out).contains("echo ping"), "the SNAT'd session after the restart:\n" + read(out)
                        + "\ncounters: " + nonZeroDrops(counters));
                assertEquals(0, counter(counters, "port ext drop nat_no_mapping") + counter(counters, "port ext drop nat_unsolicited"),
                        nonZeroDrops(counters));
                c.signal("TERM");
                assertEquals(0, c.awaitExit(30), c.output());
            }
        }
    }

    /**
     * {@link io.sluice.dataplane.nat.NatHarness}'s host (ports up, ext, web, job, vault; job outbound-only
     * on 203.0.113.5) on TAP ports, as {@link NatNetnsTest#config()} but for {@code Main run}: counters
     * file, its own DPDK log, and the security groups keeping the shard in this test's directory,
     * pickup off. Only up, ext and job are plugged; web's and vault's TAPs stay unused in the root
     * namespace (they go with the process).
     */
    static Path natConfig(Path dir, String tapUp, String tapExt, String tapJob, String tapWeb, String tapVault) throws Exception {
        String[] taps = {tapUp, tapExt, tapWeb, tapJob, tapVault};
        for (int k = 0; k < 5; k++) taps[k] = "net_tap" + k + ",iface=" + taps[k];
        String y = io.sluice.dataplane.nat.NatHarness.yaml(8, 2, taps, new String[] {"02:b5:00:00:01:02", JOB_MAC, "02:b5:00:00:01:04"})
                .replace("eal: [\"--no-huge\"]", "eal: [\"--no-huge\", \"-m\", \"512\", \"--no-pci\", \"--no-shconf\", \"-l\", \"0\"]\n"
                        + "idle-strategy: backoff\nmbufs: 8191\ncounters-file: " + dir.resolve("counters.dat") + "\n"
                        + "metrics: { listen: \"127.0.0.1:0\" }\ndpdk-log: { file: " + dir.resolve("dpdk.log") + ", level: info }")
                .replace("security-groups:\n", "security-groups:\n  tcp-pickup: false\n  conntrack-dir: " + dir.resolve("ct") + "\n");
        Path f = dir.resolve("sluice-nat.yaml");
        Files.writeString(f, y);
        return f;
    }

    /** Moves the data plane's (new) TAPs into place: the uplink parked, the external one in the router, job's in the VM. */
    static void plugNat(Netns net, String tapUp, String ul, String tapExt, String router, String tapJob, String job) throws Exception {
        for (String t : new String[] {tapUp, tapExt, tapJob}) OverlayHosts.awaitLink(t);
        Netns.run("ip", "link", "set", "dev", tapUp, "netns", ul);
        Netns.run("ip", "link", "set", "dev", tapExt, "netns", router);
        Netns.run("ip", "-n", router, "link", "set", "dev", tapExt, "address", ROUTER_MAC);
        Netns.run("ip", "-n", router, "addr", "add", "203.0.113.1/24", "dev", tapExt);
        Netns.run("ip", "-n", router, "link", "set", "dev", tapExt, "up");
        Netns.run("ip", "link", "set", "dev", tapJob, "netns", job);
        Netns.run("ip", "-n", job, "link", "set", "dev", tapJob, "address", JOB_MAC);
        Netns.run("ip", "-n", job, "addr", "add", "10.0.1.3/24", "dev", tapJob);
        Netns.run("ip", "-n", job, "link", "set", "dev", tapJob, "up");
        Netns.run("ip", "-n", job, "route", "add", "default", "via", "10.0.1.1", "dev", tapJob);
    }

    /**
     * Connects (argv 1, 2), echoes one line ("first ok"); waits for file argv[3], echoes another
     * ("second ok" / "second timeout"); waits for argv[3] + "2", echoes a third ("third ...").
     */
    static final String SESSION = String.join("\n",
            "import socket, sys, os, time",
            "c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)",
            "c.sendall(b'1\\n'); assert c.recv(10) == b'1\\n'",
            "print('first ok', flush=True)",
            "for name, marker in (('second', sys.argv[3]), ('third', os.path.join(os.path.dirname(sys.argv[3]), 'go2'))):",
            "    t = time.time()",
            "    while not os.path.exists(marker) and time.time() - t < 60: time.sleep(0.02)",
            "    c.settimeout(5)",
            "    try:",
            "        c.sendall(name.encode() + b'\\n'); print(name + (' ok' if c.recv(10) == name.encode() + b'\\n' else ' wrong'), flush=True)",
            "    except (socket.timeout, OSError) as e:",
            "        print(name + ' timeout ' + str(e), flush=True)",
            "");

    /** The restarted data plane's line about its kept shard ({@code sluice: conntrack FILE: N connection(s) kept...}). */
    private static ServiceChild.Line keptLine(ServiceChild c) throws InterruptedException {
        ServiceChild.Line kept = c.await(l -> l.startsWith("sluice: conntrack ") && l.contains("kept"), 10_000);
        assertNotNull(kept, c.output());
        return kept;
    }

    private static void awaitLine(Path out, String prefix, Process p) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!read(out).contains(prefix) && System.nanoTime() < deadline && p.isAlive()) Thread.sleep(20);
        assertTrue(read(out).contains(prefix), "no '" + prefix + "' line: " + read(out));
    }

    static Path config(Path dir, String tapVm, String tapExt) throws Exception {
        String y = """
                eal: ["--no-huge", "-m", "256", "--no-pci", "--no-shconf", "-l", "0"]
                idle-strategy: backoff
                mbufs: 4095
                counters-file: %s
                metrics: { listen: "127.0.0.1:0" }
                dpdk-log: { file: %s, level: info }
                ports:
                  - { name: vm1, device: "net_tap0,iface=%s" }
                  - { name: ext1, device: "net_tap1,iface=%s" }
                mac-table:
                  - { mac: "%s", port: vm1 }
                  - { mac: "%s", port: ext1 }
                security-groups:
                  tcp-pickup: false
                  conntrack-dir: %s
                  groups:
                    - name: web
                      rules:
                        - { id: perf, direction: ingress, protocol: tcp, ports: 5201, remote: 0.0.0.0/0 }
                  vm-ports:
                    - { port: vm1, addresses: [%s], groups: [default, web] }
                """.formatted(dir.resolve("counters.dat"), dir.resolve("dpdk.log"), tapVm, tapExt, VM_MAC, EXT_MAC,
                dir.resolve("ct"), VM_IP);
        Path f = dir.resolve("sluice.yaml");
        Files.writeString(f, y);
        return f;
    }

    /** Moves the data plane's (new) TAPs into the namespaces, with the hosts' MACs, addresses and static neighbours. */
    static void plug(Netns net, String tapVm, String vm, String vmMac, String vmIp, String tapExt, String ext, String extMac) throws Exception {
        OverlayHosts.awaitLink(tapVm);
        OverlayHosts.awaitLink(tapExt);
        for (String[] h : new String[][] {{tapVm, vm, vmMac, vmIp, EXT_IP, EXT_MAC}, {tapExt, ext, extMac, EXT_IP, vmIp, vmMac}}) {
            net.exec(h[1], 5, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
            Netns.run("ip", "link", "set", "dev", h[0], "netns", h[1]);
            Netns.run("ip", "-n", h[1], "link", "set", "dev", h[0], "address", h[2]);
            Netns.run("ip", "-n", h[1], "addr", "add", h[3] + "/24", "dev", h[0]);
            Netns.run("ip", "-n", h[1], "link", "set", "dev", h[0], "up");
            Netns.run("ip", "-n", h[1], "neigh", "replace", h[4], "lladdr", h[5], "dev", h[0], "nud", "permanent");
        }
    }

    static void awaitListening(Netns net, String ns, int port) throws InterruptedException {
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (net.exec(ns, 5, "ss", "-ltn").output().contains(":" + port + " ")) return;
            Thread.sleep(50);
        }
        throw new AssertionError("nothing listens on " + port + " in " + ns);
    }

    private static int established(Netns net, String ns, String port) {
        return (int) net.exec(ns, 5, "ss", "-tn", "state", "established").output().lines().filter(l -> l.contains(VM_IP + port)).count();
    }

    /** A TCP connect ext -> vm:port: true when it connects; a refusal fails (only a timeout is a firewall drop). */
    private static boolean connects(Netns net, String ext, int port) {
        long t0 = System.nanoTime();
        Netns.Result r = net.exec(ext, 10, "nc", "-z", "-w", "2", VM_IP, String.valueOf(port));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (r.ok()) return true;
        assertTrue(ms >= 1500, "connect to " + port + " failed after " + ms + " ms (a refusal, not a firewall drop): " + r.output());
        return false;
    }

    private static String read(Path f) throws java.io.IOException {
        return Files.exists(f) ? Files.readString(f) : "";
    }

    private static long counter(Path file, String label) {
        return Files.exists(file) ? Counters.read(file).getOrDefault(label, 0L) : 0L;
    }

    private static void awaitCounter(Path file, String label, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        long v;
        while ((v = counter(file, label)) < atLeast && System.nanoTime() < deadline) Thread.sleep(20);
        assertTrue(v >= atLeast, label + " = " + v + ", expected at least " + atLeast + "; drops: " + nonZeroDrops(file));
    }

    private static String nonZeroDrops(Path file) {
        StringBuilder nz = new StringBuilder();
        if (Files.exists(file)) Counters.read(file).forEach((k, x) -> { if (x != 0 && k.contains("drop")) nz.append(k).append('=').append(x).append(", "); });
        return nz.toString();
    }
}
