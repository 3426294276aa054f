package io.sluice.dataplane.netns;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.overlay.OverlayPipeline;
import io.sluice.dataplane.overlay.UnderlayNeighbours;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shared plumbing of the overlay namespace tests: the data plane with the overlay pipeline on DPDK
 * TAP ports (one per VM, one uplink), namespaces as VMs, tcpdump captures, TCP transfers with
 * sha256, counters. Every name starts with the {@link Netns} prefix ("slt" + pid); everything is
 * removed by {@link #close()} (and by Netns' shutdown hook when a test dies half way).
 */
final class OverlayHosts implements AutoCloseable {
    final Netns netns = new Netns();
    final Counters counters = Counters.inMemory(4096);
    final Path dir;
    Dataplane dp;
    private final List<Process> captures = new ArrayList<>();

    OverlayHosts() throws Exception {
        dir = netns.tempDir();
    }

    /** For a test class's static field: a failure to create the temp dir fails class initialisation. */
    static OverlayHosts create() {
        try {
            return new OverlayHosts();
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** TAP interface name of a port (in the root namespace until moved). */
    String tap(String suffix) {
        return netns.name(suffix);
    }

    /** Parses the YAML (ports + overlay) and starts the overlay data plane. */
    void start(String yaml) throws Exception {
        SluiceConfig cfg = ConfigLoader.parse("test-overlay.yaml", yaml);
        dp = Dataplane.start(cfg, OverlayPipeline.factory(cfg, counters), counters);
    }

    /** Parses the YAML (ports + overlay + security-groups) and starts the overlay data plane with the firewall. */
    FirewallState startWithSecurityGroups(String yaml) throws Exception {
        SluiceConfig cfg = ConfigLoader.parse("test-overlay.yaml", yaml);
        FirewallState fw = new FirewallState(cfg.ports().size(), FirewallConfigLoader.parseDocument("test-overlay.yaml", yaml, cfg));
        dp = Dataplane.start(cfg, OverlayPipeline.factory(cfg, counters, fw), counters);
        return fw;
    }

    /** As {@link #startWithSecurityGroups}, returning the overlay pipeline (NAT tests change public access through it). */
    OverlayPipeline startPipeline(String yaml) throws Exception {
        SluiceConfig cfg = ConfigLoader.parse("test-overlay.yaml", yaml);
        FirewallState fw = new FirewallState(cfg.ports().size(), FirewallConfigLoader.parseDocument("test-overlay.yaml", yaml, cfg));
        OverlayPipeline p = OverlayPipeline.create(cfg, counters, fw);
        dp = Dataplane.start(cfg, (c, w) -> p.stages(w), counters);
        return p;
    }

    /** Same, with a given underlay neighbour cache (short ageing to see refreshes). */
    void start(String yaml, UnderlayNeighbours neighbours) throws Exception {
        SluiceConfig cfg = ConfigLoader.parse("test-overlay.yaml", yaml);
        OverlayPipeline p = new OverlayPipeline(cfg.overlay(), counters, neighbours);
        dp = Dataplane.start(cfg, (c, w) -> p.stages(w), counters);
    }

    /** Turns IPv6 on in {@code ns} for {@code ifname} (no router advertisements) and adds {@code cidr6} without DAD. */
    void ipv6(String ns, String ifname, String cidr6, String gateway6) {
        netns.exec(ns, 5, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=0");
        netns.exec(ns, 5, "sysctl", "-q", "-w", "net.ipv6.conf." + ifname + ".accept_ra=0");
        netns.exec(ns, 5, "sysctl", "-q", "-w", "net.ipv6.conf." + ifname + ".disable_ipv6=0");
        Netns.run("ip", "-n", ns, "-6", "addr", "add", cidr6, "dev", ifname, "nodad");
        Netns.run("ip", "-n", ns, "-6", "route", "add", "default", "via", gateway6, "dev", ifname);
    }

    /** A namespace with the TAP {@code ifname} moved in: MAC, address, MTU, default route, no IPv6. */
    String vm(String suffix, String ifname, String mac, String cidr, String gateway, int mtu) throws Exception {
        awaitLink(ifname);
        String ns = netns.create(suffix);
        netns.exec(ns, 5, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
        netns.exec(ns, 5, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1");
        Netns.run("ip", "link", "set", "dev", ifname, "netns", ns);
        Netns.run("ip", "-n", ns, "link", "set", "dev", ifname, "address", mac, "mtu", String.valueOf(mtu));
        Netns.run("ip", "-n", ns, "addr", "add", cidr, "dev", ifname);
        Netns.run("ip", "-n", ns, "link", "set", "dev", ifname, "up");
        if (gateway != null) {
            Netns.run("ip", "-n", ns, "route", "add", "default", "via", gateway, "dev", ifname);
        }
        return ns;
    }

    /**
     * The remote host of the kernel VXLAN interop (the data plane's uplink TAP {@code ul} moved into
     * namespace "rh", 192.168.50.2/24; {@code vx0 type vxlan id 100 remote 192.168.50.1} in a bridge
     * with a veth to namespace "rvm": MAC {@code rvmMac}, 10.0.1.20/24, MTU 1450, default route via
     * 10.0.1.1). Returns {rh, rvm, the veth's name in rvm}.
     */
    String[] kernelVxlanRemote(String ul, String rvmMac) throws Exception {
        awaitLink(ul);
        String rh = netns.create("rh");
        netns.exec(rh, 5, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
        netns.exec(rh, 5, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1");
        Netns.run("ip", "link", "set", "dev", ul, "netns", rh);
        Netns.run("ip", "-n", rh, "link", "set", "dev", ul, "address", "02:00:00:00:aa:02");
        Netns.run("ip", "-n", rh, "addr", "add", "192.168.50.2/24", "dev", ul);
        Netns.run("ip", "-n", rh, "link", "set", "dev", ul, "up");
        String vx = netns.name("vx");
        String br = netns.name("br");
        String vh = netns.name("vh");
        String vv = netns.name("vv");
        Netns.run("ip", "-n", rh, "link", "add", vx, "type", "vxlan", "id", "100", "remote", "192.168.50.1",
                "local", "192.168.50.2", "dstport", "4789", "dev", ul);
        Netns.run("ip", "-n", rh, "link", "add", br, "type", "bridge");
        Netns.run("ip", "-n", rh, "link", "set", vx, "master", br, "up");
        String rvm = netns.create("rvm");
        netns.exec(rvm, 5, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
        netns.exec(rvm, 5, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1");
        Netns.run("ip", "-n", rh, "link", "add", vh, "type", "veth", "peer", "name", vv, "netns", rvm);
        Netns.run("ip", "-n", rh, "link", "set", vh, "master", br, "up");
        Netns.run("ip", "-n", rh, "link", "set", br, "up");
        Netns.run("ip", "-n", rvm, "link", "set", vv, "address", rvmMac, "mtu", "1450");
        Netns.run("ip", "-n", rvm, "addr", "add", "10.0.1.20/24", "dev", vv);
        Netns.run("ip", "-n", rvm, "link", "set", vv, "up");
        Netns.run("ip", "-n", rvm, "route", "add", "default", "via", "10.0.1.1", "dev", vv);
        return new String[] {rh, rvm, vv};
    }

    static void awaitLink(String ifname) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() - deadline < 0) {
            if (Netns.linkExists(null, ifname)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("TAP " + ifname + " did not appear");
    }

    Netns.Result ping(String ns, String dst, int count) {
        return netns.exec(ns, 10 + count, "ping", "-c", String.valueOf(count), "-i", "0.2", "-W", "2", dst);
    }

    void assertPings(String ns, String dst) {
        Netns.Result r = ping(ns, dst, 3);
        assertTrue(r.ok() && r.output().contains(" 0% packet loss"), "ping " + dst + " from " + ns + ":\n" + r.output()
                + "\ncounters: " + nonZero());
    }

    /** Starts tcpdump (text, link-level headers) on {@code ifname} in {@code ns}; returns its output file. */
    Path capture(String ns, String ifname, String name, String... filter) throws Exception {
        Path out = dir.resolve(name + ".txt");
        List<String> cmd = new ArrayList<>(List.of("tcpdump", "-l", "-n", "-e", "-vv", "-i", ifname));
        cmd.addAll(List.of(filter));
        Process p = netns.spawn(ns, out, cmd.toArray(String[]::new));
        captures.add(p);
        // tcpdump says "listening on ..." on stderr once the capture runs
        BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + 10_000_000_000L;
        String line;
        while ((line = err.readLine()) != null) {
            if (line.contains("listening on")) {
                break;
            }
            if (System.nanoTime() - deadline > 0) {
                break;
            }
        }
        Thread.ofVirtual().start(() -> {
            try {
                err.transferTo(java.io.Writer.nullWriter());
            } catch (Exception ignored) {
                // capture ended
            }
        });
        return out;
    }

    /** Stops every running capture (SIGTERM: tcpdump flushes) and waits for them. */
    void stopCaptures() throws Exception {
        Thread.sleep(300);
        for (Process p : captures) {
            p.destroy();
        }
        for (Process p : captures) {
            p.waitFor(5, TimeUnit.SECONDS);
        }
        captures.clear();
    }

    /** Sends {@code bytes} random bytes from {@code client} to {@code server}:{@code port} over TCP; asserts equal sha256. */
    void tcp(String client, String server, String serverIp, int port, int bytes) throws Exception {
        byte[] payload = new byte[bytes];
        new Random(port).nextBytes(payload);
        Path in = dir.resolve("in" + port + ".bin");
        Path out = dir.resolve("out" + port + ".bin");
        Files.write(in, payload);
        Process srv = netns.spawn(server, out, "nc", "-l", "-s", serverIp, "-p", String.valueOf(port));
        waitListening(server, port);
        Netns.Result send = netns.exec(client, 60, "sh", "-c", "nc -N -w 10 " + serverIp + " " + port + " < " + in);
        assertTrue(send.ok(), "nc client " + client + " -> " + serverIp + ": " + send.output() + "\ncounters: " + nonZero());
        assertTrue(srv.waitFor(30, TimeUnit.SECONDS), "nc server in " + server + " did not finish");
        assertEquals(sha256(payload), sha256(Files.readAllBytes(out)),
                "TCP " + client + " -> " + server + ": received bytes differ (" + Files.size(out) + " of " + bytes + ")");
    }

    void waitListening(String ns, int port) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            Netns.Result r = netns.exec(ns, 5, "ss", "-ltn");
            if (r.output().contains(":" + port + " ")) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("nothing listens on " + port + " in " + ns);
    }

    /** Sends raw Ethernet frames (hex strings) out of {@code ifname} in {@code ns} with a python AF_PACKET socket. */
    void sendRaw(String ns, String ifname, List<String> framesHex) {
        StringBuilder py = new StringBuilder("import socket,time\ns=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n")
                .append("s.bind(('").append(ifname).append("',0))\n");
        for (String f : framesHex) {
            py.append("s.send(bytes.fromhex('").append(f).append("'))\ntime.sleep(0.02)\n");
        }
        Netns.Result r = netns.exec(ns, 10, "python3", "-c", py.toString());
        assertTrue(r.ok(), "raw send failed: " + r.output());
    }

    long counter(String label) {
        return counters.snapshot().getOrDefault(label, 0L);
    }

    /** Waits until {@code label} reaches at least {@code target} (counters are published once per duty cycle). */
    long awaitCounter(String label, long target) throws InterruptedException {
        long deadline = System.nanoTime() + 3_000_000_000L;
        long v = counter(label);
        while (v < target && System.nanoTime() - deadline < 0) {
            Thread.sleep(20);
            v = counter(label);
        }
        Thread.sleep(100);
        return counter(label);
    }

    /** Non-zero counters, for failure messages. */
    String nonZero() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Long> e : counters.snapshot().entrySet()) {
            if (e.getValue() != 0) {
                sb.append("\n  ").append(e.getKey()).append(" = ").append(e.getValue());
            }
        }
        return sb.toString();
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static String hex(String mac) {
        return mac.replace(":", "");
    }

    static String ipHex(String ip) {
        StringBuilder sb = new StringBuilder();
        for (String p : ip.split("\\.")) {
            sb.append(String.format("%02x", Integer.parseInt(p)));
        }
        return sb.toString();
    }

    /** An Ethernet + IPv4 + UDP frame (valid IPv4 checksum, UDP checksum 0) with 16 bytes of payload. */
    static String udpFrame(String dstMac, String srcMac, String srcIp, String dstIp) {
        int total = 20 + 8 + 16;
        // 45 00 | total length | id 0000 | DF 4000 | TTL 64 | proto 17 | checksum (0 while summing) | src | dst
        String h = String.format("4500%04x0000400040110000", total) + ipHex(srcIp) + ipHex(dstIp);
        int sum = 0;
        for (int k = 0; k < h.length(); k += 4) {
            sum += Integer.parseInt(h.substring(k, k + 4), 16);
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        String ip = h.substring(0, 20) + String.format("%04x", (~sum) & 0xFFFF) + h.substring(24);
        String udp = "d431" + "1389" + String.format("%04x", 8 + 16) + "0000" + "73706f6f662d746573742d7061636b74";
        return hex(dstMac) + hex(srcMac) + "0800" + ip + udp;
    }

    /** A broadcast ARP request: sender (mac, ip) asks for target ip (gratuitous when equal). */
    static String arpFrame(String srcMac, String senderMac, String senderIp, String targetIp) {
        return "ffffffffffff" + hex(srcMac) + "0806" + "0001080006040001" + hex(senderMac) + ipHex(senderIp)
                + "000000000000" + ipHex(targetIp) + "00".repeat(18);
    }

    @Override
    public void close() {
        try {
            stopCaptures();
        } catch (Exception ignored) {
            // best effort
        }
        if (dp != null) {
            dp.close();
        }
        netns.close();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        } catch (Exception ignored) {
            // temp files only
        }
    }
}
