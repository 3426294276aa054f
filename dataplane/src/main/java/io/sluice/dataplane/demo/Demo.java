package io.sluice.dataplane.demo;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.agent.PipelineFactory;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.stage.Pipelines;

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
 * {@code ./sluice demo}: the data plane on the embedded default configuration (three TAP ports),
 * three network namespaces as VMs, and checks that what must pass passes and what must be
 * dropped is dropped and counted. Exits 0 only when every check passed; always cleans up.
 */
public final class Demo {
    /** One check's outcome. */
    record Check(String name, boolean passed, String detail) {}

    private static final String[] VM = {"a", "b", "c"};
    private static final String[] IFACE = {"sldemo0", "sldemo1", "sldemo2"};
    private static final String[] MAC = {"02:5c:00:00:00:01", "02:5c:00:00:00:02", "02:5c:00:00:00:03"};
    private static final String[] IP = {"10.199.0.1", "10.199.0.2", "10.199.0.3"};

    private final List<Check> checks = new ArrayList<>();
    private final PrintStream out;

    private Demo(PrintStream out) {
        this.out = out;
    }

    public static int run(PrintStream out) throws Exception {
        return new Demo(out).go();
    }

    private int go() throws Exception {
        SluiceConfig cfg = ConfigLoader.loadDefault();
        out.println("Sluice demo: data plane on " + cfg.ports().size() + " TAP ports, namespaces as VMs");
        try (Hosts hosts = new Hosts("sldemo-");
             Counters counters = Counters.create(cfg.countersFile(), 1024)) {
            hosts.removeStale();
            try (Dataplane dp = Dataplane.start(cfg, PipelineFactory.of(Pipelines::l2), counters)) {
                String[] ns = new String[3];
                for (int i = 0; i < 3; i++) {
                    hosts.awaitInterface(IFACE[i], 10_000);
                    ns[i] = hosts.namespace(VM[i]);
                    hosts.plug(IFACE[i], ns[i], MAC[i], IP[i] + "/24");
                }
                out.println("VMs: " + String.join(", ", ns) + "; counters in " + cfg.countersFile()
                        + " (./sluice stats " + cfg.countersFile() + ")");
                runChecks(hosts, ns, counters);
            }
            out.println();
            out.println("Counters (summed over workers; zero drop counters omitted):");
            Counters.print(counters.snapshot(), out);
        }
        out.println();
        int passed = (int) checks.stream().filter(Check::passed).count();
        out.printf("%-62s %s%n", "CHECK", "RESULT");
        for (Check c : checks) {
            out.printf("%-62s %s%s%n", c.name(), c.passed() ? "PASS" : "FAIL",
                    c.detail().isEmpty() ? "" : "  (" + c.detail() + ")");
        }
        out.println();
        out.println(passed + " passed, " + (checks.size() - passed) + " failed");
        return passed == checks.size() && !checks.isEmpty() ? 0 : 1;
    }

    private void runChecks(Hosts hosts, String[] ns, Counters counters) throws Exception {
        // 1. The data plane answers ARP for an address it owns.
        Hosts.Result arp = hosts.in(ns[0], 10, "arping", "-c", "2", "-w", "4", "-I", IFACE[0], "10.199.0.254");
        check("ARP for gateway 10.199.0.254 answered by the data plane",
                arp.ok() && arp.out().toLowerCase().contains("02:5c:00:00:00:fe"), firstLine(arp.out()));

        // 2. ping between VMs through the data plane.
        Hosts.Result ping = hosts.in(ns[0], 15, "ping", "-c", "3", "-i", "0.2", "-W", "2", IP[1]);
        check("ping vm-a -> vm-b (10.199.0.2)", ping.ok(), summary(ping.out()));
        Hosts.Result ping2 = hosts.in(ns[2], 15, "ping", "-c", "3", "-i", "0.2", "-W", "2", IP[1]);
        check("ping vm-c -> vm-b (10.199.0.2)", ping2.ok(), summary(ping2.out()));

        // 3. A TCP transfer whose bytes arrive intact.
        tcpTransfer(hosts, ns);

        // 4. A frame to a MAC the table does not know is dropped and counted.
        String unknownLabel = "port vm-a drop l2_unknown_destination";
        long before = counters.snapshot().getOrDefault(unknownLabel, 0L);
        hosts.in(ns[0], 5, "ip", "neigh", "replace", "10.199.0.99", "lladdr", "02:5c:00:00:00:99",
                "dev", IFACE[0], "nud", "permanent");
        Hosts.Result lost = hosts.in(ns[0], 10, "ping", "-c", "3", "-i", "0.2", "-W", "1", "10.199.0.99");
        long after = awaitCounter(counters, unknownLabel, before + 3);
        check("frames to unknown MAC 02:5c:00:00:00:99 dropped and counted",
                !lost.ok() && after - before >= 3, "ping failed as expected, " + unknownLabel + " +" + (after - before));

        // 5. A malformed IPv4 header (IHL 3) is dropped with its reason.
        String ihlLabel = "port vm-a drop bad_ipv4_ihl";
        long ihlBefore = counters.snapshot().getOrDefault(ihlLabel, 0L);
        Hosts.Result sent = hosts.in(ns[0], 10, "python3", "-c", rawFrameScript(IFACE[0], MAC[1], MAC[0]));
        long ihlAfter = awaitCounter(counters, ihlLabel, ihlBefore + 1);
        check("malformed IPv4 frame (IHL=3) dropped with reason bad_ipv4_ihl",
                sent.ok() && ihlAfter - ihlBefore == 1, sent.ok() ? ihlLabel + " +" + (ihlAfter - ihlBefore) : sent.out().trim());

        // 6. ARP for an address nobody owns gets no answer (no flooding).
        Hosts.Result noArp = hosts.in(ns[0], 10, "arping", "-c", "2", "-w", "3", "-I", IFACE[0], "10.199.0.77");
        check("ARP for unconfigured 10.199.0.77 is not answered", !noArp.ok(), firstLine(noArp.out()));
    }

    private void tcpTransfer(Hosts hosts, String[] ns) throws Exception {
        Path dir = Files.createTempDirectory("sldemo");
        Path src = dir.resolve("payload.bin");
        Path dst = dir.resolve("received.bin");
        byte[] payload = new byte[4 << 20];
        new Random(7).nextBytes(payload);
        Files.write(src, payload);
        try {
            Process server = hosts.start(ns[1], "sh", "-c", "exec nc -l -q 1 5001 > " + dst);
            Thread.sleep(300);
            Hosts.Result client = hosts.in(ns[0], 30, "sh", "-c", "nc -N -w 5 " + IP[1] + " 5001 < " + src);
            boolean done = server.waitFor(15, TimeUnit.SECONDS);
            if (!done) {
                server.destroyForcibly();
            }
            String want = sha256(payload);
            String got = Files.exists(dst) ? sha256(Files.readAllBytes(dst)) : "(nothing received)";
            check("TCP vm-a -> vm-b: 4 MiB, sha256 of received bytes equal",
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

    private static long awaitCounter(Counters counters, String label, long target) {
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

    private static String firstLine(String s) {
        return s.lines().filter(l -> !l.isBlank()).findFirst().orElse("");
    }

    private static String summary(String pingOut) {
        return pingOut.lines().filter(l -> l.contains("packets transmitted")).findFirst().orElse(firstLine(pingOut));
    }

    private static String sha256(byte[] b) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
