package io.sluice.bench.api;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * First cut of {@code ./sluice bench api} (issue 13): the time from a control API request sent to
 * its answer received (by the API's contract: journaled, applied, taken by every worker) for one
 * rule changed in a group of R rules that both local VMs are in, against a running data plane
 * ({@code Main run} on two TAP VM ports and an uplink, one worker, no traffic), once with
 * {@code api.sync: msync} and once with {@code none}, in the same run.
 *
 * <pre>java $JVM_FLAGS -Dsluice.native.lib=LIB -cp benchmarks.jar io.sluice.bench.api.ApiLatencyBench SLUICE_JAR [RULES] [CHANGES]</pre>
 * Prints percentiles per case and, last, {@code one_rule_p99_ms=} of the default (msync) case.
 */
public final class ApiLatencyBench {
    private ApiLatencyBench() {}

    public static void main(String[] args) throws Exception {
        String jar = args[0];
        int rules = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int changes = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
        double p99Msync = 0;
        for (String sync : List.of("msync", "none")) {
            double[] r = run(jar, sync, rules, changes);
            System.out.printf("sync=%-5s rules=%d changes=%d p50_ms=%.3f p99_ms=%.3f p99.9_ms=%.3f max_ms=%.3f changes_per_s=%.0f%n",
                    sync, rules, changes, r[0], r[1], r[2], r[3], r[4]);
            if (sync.equals("msync")) p99Msync = r[1];
        }
        System.out.printf("one_rule_p99_ms=%.3f%n", p99Msync);
    }

    static double[] run(String jar, String sync, int rules, int changes) throws Exception {
        Path dir = Files.createTempDirectory("sluice-api-bench");
        String key = KEY;
        Path file = config(dir, sync);
        List<String> cmd = new ArrayList<>();

        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--") || a.startsWith("-XX:") || a.startsWith("-D")) cmd.add(a);
        }
        cmd.addAll(List.of("-Xmx512m", "-cp", jar, "io.sluice.dataplane.Main", "run", file.toString()));
        Path out = dir.resolve("out.txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            URI base = awaitApi(p, out);
            HttpClient http = HttpClient.newHttpClient();
            StringBuilder body = new StringBuilder("{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":%d,\"source_cidr\":\"10.0.0.0/8\"}");
            for (int i = 1; i < rules; i++) {
                body.append(",{\"protocol\":\"tcp\",\"port\":").append(1000 + i).append(",\"source_cidr\":\"10.").append(i % 250).append(".0.0/16\"}");
            }
            body.append("],\"outbound_rules\":[{\"protocol\":\"all\"}]}");
            String template = body.toString();
            put(http, base, key, "/v1/projects/blue/security-groups/bench", template.formatted(80));
            put(http, base, key, "/v1/projects/blue/vms/app/security-groups", "{\"groups\":[\"default\",\"bench\"]}");
            put(http, base, key, "/v1/projects/blue/vms/db/security-groups", "{\"groups\":[\"default\",\"bench\"]}");
            for (int i = 0; i < 100; i++) put(http, base, key, "/v1/projects/blue/security-groups/bench", template.formatted(81 + (i & 1))); // warm-up
            long[] t = new long[changes];
            PHASES.clear();
            long start = System.nanoTime();
            for (int i = 0; i < changes; i++) {
                String b = template.formatted(80 + (i & 1)); // one rule changed each time
                long t0 = System.nanoTime();
                put(http, base, key, "/v1/projects/blue/security-groups/bench", b);
                t[i] = System.nanoTime() - t0;
            }
            double secs = (System.nanoTime() - start) / 1e9;
            StringBuilder where = new StringBuilder("  mean per change (Server-Timing):");
            PHASES.forEach((k, v) -> where.append(String.format(" %s=%.3fms", k, v / changes)));
            System.out.println("sync=" + sync + where);
            Arrays.sort(t);
            return new double[] {t[changes / 2] / 1e6, t[(int) (changes * 0.99)] / 1e6, t[Math.min(changes - 1, (int) (changes * 0.999))] / 1e6,
                    t[changes - 1] / 1e6, changes / secs};
        } finally {
            p.destroy(); // SIGTERM: drains and exits
            if (!p.waitFor(30, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** The operator key of {@link #config}. */
    static final String KEY = "bench-key";

    /** Main run's configuration: TAP ports up/app/db, project blue with VMs app and db, the API (operator key {@link #KEY}) with {@code sync}. */
    static Path config(Path dir, String sync) throws Exception {
        String tag = "sab" + (ProcessHandle.current().pid() % 10000);
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(KEY.getBytes(StandardCharsets.UTF_8)));
        String cfg = """
                eal: ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "-l", "0"]
                mbufs: 4095
                counters-file: %s
                ports:
                  - {name: up,  device: "net_tap0,iface=%su"}
                  - {name: app, device: "net_tap1,iface=%sa"}
                  - {name: db,  device: "net_tap2,iface=%sd"}
                overlay:
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
                        - {name: app, subnet: a, mac: "02:b3:00:00:01:11", ip: 10.0.1.11, port: app}
                        - {name: db,  subnet: a, mac: "02:b3:00:00:01:12", ip: 10.0.1.12, port: db}
                security-groups: {}
                api:
                  listen: 127.0.0.1:0
                  keys: [{id: bench, sha256: %s, projects: ["*"]}]
                  journal: %s
                  audit: %s
                  sync: %s
                """.formatted(dir.resolve("counters.dat"), tag, tag, tag, hash, dir.resolve("journal"), dir.resolve("audit"), sync);
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, cfg);
        return file;
    }

    /** Sum of the Server-Timing phases (ms) of the measured changes, by name, in the order first seen. */
    static final java.util.LinkedHashMap<String, Double> PHASES = new java.util.LinkedHashMap<>();

    private static void put(HttpClient http, URI base, String key, String path, String body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve(path)).header("X-API-Key", key)
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IllegalStateException(path + ": " + r.statusCode() + " " + r.body());
        for (String part : r.headers().firstValue("Server-Timing").orElse("").split(",")) {
            String[] nv = part.trim().split(";dur=");
            if (nv.length == 2) PHASES.merge(nv[0], Double.parseDouble(nv[1]), Double::sum);
        }
    }

    private static URI awaitApi(Process p, Path out) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 90_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.exists(out)) {
                for (String l : Files.readAllLines(out)) {
                    if (l.startsWith("sluice: control API on ")) return URI.create(l.substring(23).split(" ")[0]);
                }
            }
            if (!p.isAlive()) throw new IllegalStateException("data plane exited:\n" + Files.readString(out));
            Thread.sleep(50);
        }
        throw new IllegalStateException("no control API within 90 s:\n" + Files.readString(out));
    }
}
