package io.sluice.bench.api;

import io.sluice.dataplane.counters.Counters;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.Stream;

/**
 * {@code ./sluice bench api} (issue 13): the time from a control API request sent to its answer
 * received (by the API's contract: journaled, applied, taken by every worker) against a running
 * data plane ({@code Main run}, one worker, busy-spin) that forwards all the while: port "app"
 * is {@code net_pcap infinite_rx} of UDP frames from VM app to VM db (allowed by the default
 * group), "db", "web" and the uplink are {@code net_null} sinks.
 *
 * <p>The host holds {@code 10 x R} rules: groups g0..g9 of R rules each (TCP, a port and a /16
 * source per rule); app is in [default, g0..g3], db in [default, g4..g7], web in [default, g8, g9].
 * Cases, each after a warm-up:
 * <ul>
 *   <li>{@code one_rule}: PUT g0 with its first rule's port alternating 80/81 (one rule changed in
 *       an R-rule group; the body is the whole group, as PUT replaces the resource);</li>
 *   <li>{@code replace}: PUT g0 alternating between two sets of R rules that share none;</li>
 *   <li>{@code membership}: PUT web's groups alternating [default, g8, g9] and [default, g8, g9, small]
 *       (small: 10 rules);</li>
 * </ul>
 * once with {@code api.sync: msync} (the default) and once with {@code none}, in the same run.
 * Per case: p50/p99/p99.9/max of the client's time, changes per second (one client, one change
 * at a time), the server's phases (Server-Timing) as p50/p99, and the forwarding rate (db tx
 * packets per second) during the changes against the same number of seconds without changes.
 *
 * <pre>java $JVM_FLAGS -Dsluice.native.lib=LIB -cp benchmarks.jar io.sluice.bench.api.ApiLatencyBench SLUICE_JAR [R] [N_ONE_RULE] [N_REPLACE] [N_MEMBERSHIP] [SYNCS]</pre>
 * Prints, last, {@code one_rule_p99_ms=} of the msync run.
 */
public final class ApiLatencyBench {
    private ApiLatencyBench() {}

    public static void main(String[] args) throws Exception {
        // SLUICE_JAR or LABEL=JAR,LABEL=JAR...: the first is the build measured (one_rule_p99_ms), the others peers in the same run
        Map<String, String> jars = new LinkedHashMap<>();
        for (String j : args[0].split(",")) {
            int eq = j.indexOf('=');
            jars.put(eq < 0 ? "this" : j.substring(0, eq), eq < 0 ? j : j.substring(eq + 1));
        }
        int rules = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int nOne = args.length > 2 ? Integer.parseInt(args[2]) : 10_000;
        int nReplace = args.length > 3 ? Integer.parseInt(args[3]) : 2000;
        int nMember = args.length > 4 ? Integer.parseInt(args[4]) : 2000;
        List<String> syncs = List.of((args.length > 5 ? args[5] : "msync,none").split(","));
        System.out.printf("host rules=%d (10 groups x %d), one worker forwarding app->db; changes: one_rule=%d replace=%d membership=%d; builds %s%n",
                10 * rules, rules, nOne, nReplace, nMember, jars);
        double p99Msync = Double.NaN;
        String first = jars.keySet().iterator().next();
        for (String sync : syncs) {
            for (Map.Entry<String, String> j : jars.entrySet()) {
                double p = run(j.getValue(), j.getKey() + " sync=" + sync, sync, rules, nOne, nReplace, nMember);
                if (sync.equals("msync") && j.getKey().equals(first)) p99Msync = p;
            }
        }
        System.out.printf("one_rule_p99_ms=%.3f%n", p99Msync);
    }

    /** Runs every case with {@code sync} against {@code jar}; returns the one-rule case's p99 (ms). */
    static double run(String jar, String label, String sync, int rules, int nOne, int nReplace, int nMember) throws Exception {
        Path dir = Files.createTempDirectory("sluice-api-bench");
        Path pcap = dir.resolve("app.pcap");
        writePcap(pcap, 64);
        Path file = forwardingConfig(dir, sync, pcap);
        List<String> cmd = new ArrayList<>();
        // every build's server starts on all cpus: a process inherits its parent's affinity, and this
        // client pins itself away from the worker's core once the first server runs
        if (pinning()) cmd.addAll(List.of("taskset", "-c", "0-" + (CPUS - 1)));
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--") || a.startsWith("-XX:") || a.startsWith("-D")) cmd.add(a);
        }
        String extra = System.getenv("API_SERVER_JVM"); // e.g. -XX:StartFlightRecording=... to profile the server
        if (extra != null && !extra.isBlank()) cmd.addAll(List.of(extra.trim().split("\\s+")));
        // the conntrack shard goes to the scratch directory, never into a real data plane's /run/sluice
        cmd.addAll(List.of("-Xmx1g", "-Dsluice.conntrack.dir=" + dir, "-cp", jar, "io.sluice.dataplane.Main", "run", file.toString()));
        Path out = dir.resolve("out.txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            URI base = awaitApi(p, out);
            HttpClient http = HttpClient.newHttpClient();
            Path schedstat = workerSchedstat(p.pid());
            pinAwayFromWorker(p.pid(), schedstat.getParent());
            Client c = new Client(http, base, dir.resolve("counters.dat"), schedstat);
            for (int g = 0; g < 10; g++) c.put("/v1/projects/blue/security-groups/g" + g, group(rules, 1000 * g, g == 0 ? 80 : 1));
            StringBuilder small = new StringBuilder("{\"inbound_rules\":[");
            for (int i = 0; i < 10; i++) small.append(i == 0 ? "" : ",").append("{\"protocol\":\"udp\",\"port\":").append(7000 + i).append("}");
            c.put("/v1/projects/blue/security-groups/small", small.append("]}").toString());
            c.put("/v1/projects/blue/vms/app/security-groups", "{\"groups\":[\"default\",\"g0\",\"g1\",\"g2\",\"g3\"]}");
            c.put("/v1/projects/blue/vms/db/security-groups", "{\"groups\":[\"default\",\"g4\",\"g5\",\"g6\",\"g7\"]}");
            c.put("/v1/projects/blue/vms/web/security-groups", "{\"groups\":[\"default\",\"g8\",\"g9\"]}");
            String[] one = {group(rules, 0, 80), group(rules, 0, 81)};
            String[] whole = {group(rules, 0, 80), group(rules, 30_000, 443)};
            String[] member = {"{\"groups\":[\"default\",\"g8\",\"g9\",\"small\"]}", "{\"groups\":[\"default\",\"g8\",\"g9\"]}"};
            c.health(label, Math.min(nOne, 2000));
            double p99 = c.measure(label, "one_rule", "/v1/projects/blue/security-groups/g0", i -> one[i & 1], nOne);
            c.measure(label, "replace", "/v1/projects/blue/security-groups/g0", i -> whole[i & 1], nReplace);
            c.measure(label, "membership", "/v1/projects/blue/vms/web/security-groups", i -> member[i & 1], nMember);
            return p99;
        } finally {
            p.destroy(); // SIGTERM: drains and exits
            if (!p.waitFor(30, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
            if (System.getenv("API_KEEP") == null) {
                try (Stream<Path> s = Files.walk(dir)) {
                    s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            } else {
                System.out.println("kept " + dir);
            }
        }
    }

    /**
     * The worker runs on lcore 0 (EAL {@code -l 0}); every other thread of the data plane process
     * (the API's, created after EAL init, inherit core 0) and of this client go to the other cores,
     * so the changes compete with the worker only through what they share (caches, memory), as on a
     * host whose control plane has its own core. {@code API_PIN=0} leaves scheduling to the kernel.
     */
    static void pinAwayFromWorker(long pid, Path workerTask) throws Exception {
        if (!pinning()) return;
        String others = "1-" + (CPUS - 1);
        List<String> done = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                if (t.equals(workerTask)) continue;
                if (taskset("-pc", others, t.getFileName().toString())) done.add(t.getFileName().toString()); // else: the thread ended
            }
        }
        if (!taskset("-apc", others, Long.toString(ProcessHandle.current().pid()))) throw new IllegalStateException("taskset of this client failed");
        System.out.println("pinned: worker on cpu 0; " + done.size() + " other data plane threads and this client on cpus " + others);
    }

    /**
     * The machine's cpus, read once before this client pins itself: after that the JVM counts only
     * the cpus it may run on (1 on a 2-cpu machine), and a count taken then turned the pinning off
     * for every build after the first (their workers shared a core with the changes: rejected).
     */
    private static final int CPUS = Runtime.getRuntime().availableProcessors();

    private static boolean pinning() {
        return CPUS >= 2 && !"0".equals(System.getenv("API_PIN"));
    }

    private static boolean taskset(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("taskset"));
        cmd.addAll(List.of(args));
        Process t = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return t.waitFor() == 0;
    }

    /** The schedstat file of the data plane's worker thread (comm {@code sluice-worker-0}) in process {@code pid}. */
    static Path workerSchedstat(long pid) throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks.toList()) {
                if (Files.readString(t.resolve("comm")).trim().equals("sluice-worker-0")) return t.resolve("schedstat");
            }
        }
        throw new IllegalStateException("no thread sluice-worker-0 in process " + pid);
    }

    /** A group of {@code n} TCP rules, ports from {@code base + 1000}, the first rule's port {@code first}. */
    static String group(int n, int base, int first) {
        StringBuilder b = new StringBuilder("{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":").append(first).append(",\"source_cidr\":\"10.0.0.0/8\"}");
        for (int i = 1; i < n; i++) {
            b.append(",{\"protocol\":\"tcp\",\"port\":").append(1000 + (base + i) % 60_000).append(",\"source_cidr\":\"10.")
                    .append((base / 1000 + i) % 250).append(".0.0/16\"}");
        }
        return b.append("],\"outbound_rules\":[{\"protocol\":\"all\"}]}").toString();
    }

    /** Sends changes and keeps the client's time and the server's phases of each. */
    static final class Client {
        final HttpClient http;
        final URI base;
        final Path counters;
        final Map<String, double[]> phases = new LinkedHashMap<>();
        int at;

        final Path schedstat;

        Client(HttpClient http, URI base, Path counters, Path schedstat) {
            this.http = http;
            this.base = base;
            this.counters = counters;
            this.schedstat = schedstat;
        }

        /** CPU time (ns) the worker thread has run, from the kernel's schedstat. */
        long workerCpu() throws IOException {
            return Long.parseLong(Files.readString(schedstat).trim().split("\\s+")[0]);
        }

        /** Packets per CPU-microsecond of the worker (Mpps per CPU-second), its share of the core, packets per wall microsecond. */
        private static String rate(long pkts, long cpuNs, long wallNs) {
            double share = cpuNs / (double) wallNs;
            return String.format("%.3f/%.2f/%.3f", pkts / (cpuNs / 1e3), share, pkts / (wallNs / 1e3));
        }

        long forwarded() {
            return Counters.read(counters).getOrDefault("port db tx packets", 0L);
        }

        double measure(String label, String name, String path, IntFunction<String> body, int n) throws Exception {
            for (int i = 0; i < Math.min(n, 300); i++) put(path, body.apply(i + 1)); // warm-up
            // the forwarding rate without changes (2 s), then during them
            long f0 = forwarded(), c0 = workerCpu(), q0 = System.nanoTime();
            Thread.sleep(2000);
            long f1 = forwarded(), c1 = workerCpu(), q1 = System.nanoTime();
            long[] t = new long[n];
            phases.clear();
            long g0 = forwarded(), d0 = workerCpu(), start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                at = i;
                String b = body.apply(i);
                long t0 = System.nanoTime();
                put(path, b, n);
                t[i] = System.nanoTime() - t0;
            }
            long end = System.nanoTime(), d1 = workerCpu(), g1 = forwarded();
            double secs = (end - start) / 1e9;
            double idleShare = (c1 - c0) / (double) (q1 - q0), busyShare = (d1 - d0) / (double) (end - start);
            double ratio = ((g1 - g0) / (double) (d1 - d0)) / ((f1 - f0) / (double) (c1 - c0));
            // the acceptance rule of bench/scripts/accept.py: a window where the worker got < 0.95 of its core is rejected
            String accept = idleShare >= 0.95 && busyShare >= 0.95 ? "ACCEPT" : "REJECT(worker got " + String.format("%.2f/%.2f", idleShare, busyShare) + " of its core)";
            Arrays.sort(t);
            double p99 = pct(t, 0.99) / 1e6;
            System.out.printf("build=%s case=%-10s changes=%d p50_ms=%.3f p99_ms=%.3f p99.9_ms=%.3f max_ms=%.3f changes_per_s=%.0f%n",
                    label, name, n, pct(t, 0.5) / 1e6, p99, pct(t, 0.999) / 1e6, t[n - 1] / 1e6, n / secs);
            System.out.printf("build=%s case=%-10s forwarding (per-CPU Mpps/core share/wall Mpps): without_changes=%s during_changes=%s"
                            + " per_cpu_ratio=%.3f %s%n", label, name, rate(f1 - f0, c1 - c0, q1 - q0), rate(g1 - g0, d1 - d0, end - start),
                    ratio, accept);
            StringBuilder where = new StringBuilder("build=" + label + " case=" + name + " server phases (ms p50/p99):");
            for (Map.Entry<String, double[]> e : phases.entrySet()) {
                double[] v = e.getValue().clone();
                Arrays.sort(v);
                where.append(String.format(" %s=%.3f/%.3f", e.getKey(), v[n / 2], v[Math.min(n - 1, (int) (n * 0.99))]));
            }
            System.out.println(where);
            return p99;
        }

        /** The HTTP round trip alone: GET /v1/health (no body, no change), as the floor under every case. */
        void health(String label, int n) throws Exception {
            HttpRequest req = HttpRequest.newBuilder(base.resolve("/v1/health")).GET().build();
            for (int i = 0; i < 300; i++) http.send(req, HttpResponse.BodyHandlers.ofString());
            long[] t = new long[n];
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                t[i] = System.nanoTime() - t0;
                if (r.statusCode() != 200) throw new IllegalStateException("health: " + r.statusCode());
            }
            Arrays.sort(t);
            System.out.printf("build=%s case=%-10s requests=%d p50_ms=%.3f p99_ms=%.3f p99.9_ms=%.3f max_ms=%.3f (HTTP round trip, no change)%n",
                    label, "health", n, pct(t, 0.5) / 1e6, pct(t, 0.99) / 1e6, pct(t, 0.999) / 1e6, t[n - 1] / 1e6);
        }

        private static long pct(long[] sorted, double q) {
            return sorted[Math.min(sorted.length - 1, (int) (sorted.length * q))];
        }

        void put(String path, String body) throws Exception {
            put(path, body, 0);
        }

        private void put(String path, String body, int n) throws Exception {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve(path)).header("X-API-Key", KEY)
                    .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) throw new IllegalStateException(path + ": " + r.statusCode() + " " + r.body());
            if (n == 0) return;
            for (String part : r.headers().firstValue("Server-Timing").orElse("").split(",")) {
                String[] nv = part.trim().split(";dur=");
                if (nv.length == 2) phases.computeIfAbsent(nv[0], k -> new double[n])[at] = Double.parseDouble(nv[1]);
            }
        }
    }

    /** The operator key of {@link #config}. */
    static final String KEY = "bench-key";

    /** Main run's configuration without traffic (ApiCrashBench): TAP ports up/app/db, project blue with VMs app and db, the API (operator key {@link #KEY}) with {@code sync}. */
    static Path config(Path dir, String sync) throws Exception {
        String tag = "sab" + (ProcessHandle.current().pid() % 10000);
        return config(dir, sync, "", List.of("net_tap0,iface=" + tag + "u", "net_tap1,iface=" + tag + "a", "net_tap2,iface=" + tag + "d"));
    }

    /** The forwarding configuration of {@link #run}: app replays {@code pcap}, db, web and up are sinks; one busy-spinning worker. */
    static Path forwardingConfig(Path dir, String sync, Path pcap) throws Exception {
        return config(dir, sync, "idle-strategy: busy-spin\n",
                List.of("net_null0,no-rx=1", "net_pcap0,rx_pcap=" + pcap + ",infinite_rx=1", "net_null1,no-rx=1", "net_null2,no-rx=1"));
    }

    /**
     * Ports up, app, db (and web with a fourth device) on {@code devices}; project blue with a VM on
     * each of app, db (web); the API (operator key {@link #KEY}) with {@code sync}.
     */
    private static Path config(Path dir, String sync, String host, List<String> devices) throws Exception {
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(KEY.getBytes(StandardCharsets.UTF_8)));
        String[] names = {"up", "app", "db", "web"};
        StringBuilder ports = new StringBuilder();
        StringBuilder vms = new StringBuilder();
        for (int i = 0; i < devices.size(); i++) {
            ports.append("  - {name: ").append(names[i]).append(", device: \"").append(devices.get(i)).append("\"}\n");
            if (i > 0) {
                vms.append("        - {name: ").append(names[i]).append(", subnet: a, mac: \"02:b3:00:00:01:1").append(i)
                        .append("\", ip: 10.0.1.1").append(i).append(", port: ").append(names[i]).append("}\n");
            }
        }
        String cfg = """
                eal: ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "-l", "0"]
                mbufs: 4095
                %scounters-file: %s
                ports:
                %soverlay:
                  uplink: up
                  underlay-ip: 192.168.50.1/24
                  underlay-mac: "02:00:00:00:aa:01"
                  router-mac: "02:00:00:00:ff:01"
                  networks:
                    - name: blue
                      vni: 100
                      cidr: 10.0.0.0/16
                      subnets: [{name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1}]
                      vms:
                %ssecurity-groups: {}
                api:
                  listen: 127.0.0.1:0
                  keys: [{id: bench, sha256: %s, projects: ["*"]}]
                  journal: %s
                  audit: %s
                  sync: %s
                """.formatted(host, dir.resolve("counters.dat"), ports, vms, hash, dir.resolve("journal"), dir.resolve("audit"), sync);
        // API_SNAPSHOT_EVERY (bench/scripts/api.sh): the server's api.snapshot-every (default: the configuration's, 1000)
        Integer every = Integer.getInteger("sluice.api.snapshotEvery");
        if (every != null) cfg += "  snapshot-every: " + every + "\n";
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, cfg);
        return file;
    }

    /** {@code flows} UDP frames app (10.0.1.11) -> db (10.0.1.12), destination ports 5000.., 64 bytes. */
    static void writePcap(Path file, int flows) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(24 + flows * (16 + 60)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(1);
        for (int f = 0; f < flows; f++) {
            b.putInt(0).putInt(0).putInt(60).putInt(60);
            byte[] fr = new byte[60];
            ByteBuffer e = ByteBuffer.wrap(fr);
            e.put(new byte[] {2, (byte) 0xb3, 0, 0, 1, 0x12}).put(new byte[] {2, (byte) 0xb3, 0, 0, 1, 0x11}).putShort((short) 0x0800);
            e.put((byte) 0x45).put((byte) 0).putShort((short) 46).putShort((short) f).putShort((short) 0).put((byte) 64).put((byte) 17)
                    .putShort((short) 0).put(new byte[] {10, 0, 1, 11}).put(new byte[] {10, 0, 1, 12});
            int sum = 0;
            for (int i = 14; i < 34; i += 2) sum += ((fr[i] & 0xff) << 8) | (fr[i + 1] & 0xff);
            while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
            e.putShort(24, (short) ~sum);
            e.position(34);
            e.putShort((short) (40000 + f)).putShort((short) (5000 + f)).putShort((short) 26).putShort((short) 0);
            b.put(fr);
        }
        try (OutputStream o = Files.newOutputStream(file)) {
            o.write(b.array(), 0, b.position());
        }
    }

    private static URI awaitApi(Process p, Path out) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.exists(out)) {
                for (String l : Files.readAllLines(out)) {
                    if (l.startsWith("sluice: control API on ")) return URI.create(l.substring(23).split(" ")[0]);
                }
            }
            if (!p.isAlive()) throw new IllegalStateException("data plane exited:\n" + Files.readString(out));
            Thread.sleep(50);
        }
        throw new IllegalStateException("no control API within 120 s:\n" + Files.readString(out));
    }
}
