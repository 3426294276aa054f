package io.sluice.bench.api;

import io.sluice.dataplane.control.CrashLoop;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code ./sluice bench api-crash}: the control API's crash loop ({@link CrashLoop}: changes
 * streamed, SIGKILL at a random moment after the round's first acknowledgement, restart, every
 * acknowledged change present and none half there, the audit chain intact) KILLS times, on the
 * control plane alone ({@code ControlOnly}: configuration, journal, audit, API and change path;
 * no EAL or ports) started from a class-data archive of itself, in batches of BATCH kills, each
 * batch on a fresh journal. Prints one line per batch and a summary.
 *
 * <pre>java $JVM_FLAGS -cp benchmarks.jar io.sluice.bench.api.ApiCrashBench SLUICE_JAR [KILLS] [BATCH] [SYNC]</pre>
 */
public final class ApiCrashBench {
    public static void main(String[] args) throws Exception {
        String jar = args[0];
        int kills = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        String sync = args.length > 3 ? args[3] : "msync";
        long seed = Long.getLong("sluice.api.seed", System.nanoTime());
        Random rnd = new Random(seed);
        Path work = Files.createTempDirectory("sluice-api-crash");
        try {
            List<String> cmd = archived(jar, work);
            int done = 0;
            long acked = 0;
            long audit = 0;
            List<Long> starts = new ArrayList<>();
            long t0 = System.nanoTime();
            System.out.println("seed=" + seed + " sync=" + sync + " batch=" + batch);
            while (done < kills) {
                int n = Math.min(batch, kills - done);
                Path dir = Files.createTempDirectory(work, "batch");
                Path cfg = ApiLatencyBench.config(dir, sync);
                List<String> c = new ArrayList<>(cmd);
                c.add(cfg.toString());
                long b0 = System.nanoTime();
                CrashLoop.Result r = CrashLoop.run(k -> c, dir.resolve("audit"), ApiLatencyBench.KEY, n, rnd);
                if (r.failure() != null) {
                    System.out.println("FAILED after " + (done + r.kills()) + " kills: " + r.failure());
                    System.exit(1);
                }
                done += n;
                acked += r.acked();
                audit += r.auditRecords();
                starts.addAll(r.startMillis());
                System.out.printf("kills=%d acknowledged=%d audit_records=%d batch_s=%.1f%n", done, acked, audit, (System.nanoTime() - b0) / 1e9);
                delete(dir);
            }
            starts.sort(Comparator.naturalOrder());
            System.out.printf("crash_kills=%d acknowledged_changes=%d lost=0 half_applied=0 audit_chain=intact start_to_api_p50_ms=%d p99_ms=%d total_s=%.0f%n",
                    done, acked, starts.get(starts.size() / 2), starts.get((int) (starts.size() * 0.99)), (System.nanoTime() - t0) / 1e9);
        } finally {
            delete(work);
        }
    }

    /** The ControlOnly command (without its configuration argument), with a class-data archive dumped by one graceful run. */
    static List<String> archived(String jar, Path work) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--") || a.startsWith("-D")) cmd.add(a);
        }
        cmd.addAll(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto", "-cp", jar, "io.sluice.dataplane.control.ControlOnly"));
        Path jsa = work.resolve("control-only.jsa");
        Path dir = Files.createTempDirectory(work, "archive");
        List<String> dump = new ArrayList<>(cmd);
        dump.add(1, "-XX:ArchiveClassesAtExit=" + jsa);
        dump.add(ApiLatencyBench.config(dir, "none").toString());
        Path out = dir.resolve("out.txt");
        Process p = new ProcessBuilder(dump).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        try {
            URI base = null;
            long deadline = System.nanoTime() + 90_000_000_000L;
            while (base == null && System.nanoTime() < deadline && p.isAlive()) {
                for (String l : Files.readAllLines(out)) if (l.startsWith("sluice: control API on ")) base = URI.create(l.substring(23).split(" ")[0]);
                Thread.sleep(50);
            }
            if (base == null) throw new IllegalStateException("ControlOnly did not start:\n" + Files.readString(out));
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(base.resolve("/v1/projects/blue/security-groups/warm"))
                    .header("X-API-Key", ApiLatencyBench.KEY).header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":1}]}")).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) throw new IllegalStateException("warm-up PUT: " + r.statusCode() + " " + r.body());
        } finally {
            p.destroy(); // SIGTERM: the archive is written at exit
            if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
        }
        if (Files.exists(jsa)) cmd.add(1, "-XX:SharedArchiveFile=" + jsa);
        return cmd;
    }

    private static void delete(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
