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
 * no EAL or ports) started from an AOT cache of itself (JDK 25, -XX:AOTCacheOutput / -XX:AOTCache: classes loaded and linked, method profiles), in batches of BATCH kills, each
 * batch on a fresh journal. Prints one line per batch and a summary.
 *
 * PARALLEL loops run side by side, each on its own batches; the child snapshots its journal every
 * SNAPSHOT_EVERY changes ({@code api.snapshot-every}), so kills land around snapshots too.
 *
 * <pre>java $JVM_FLAGS -cp benchmarks.jar io.sluice.bench.api.ApiCrashBench SLUICE_JAR [KILLS] [BATCH] [SYNC] [PARALLEL] [SNAPSHOT_EVERY]</pre>
 */
public final class ApiCrashBench {
    public static void main(String[] args) throws Exception {
        String jar = args[0];
        int kills = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        String sync = args.length > 3 ? args[3] : "msync";
        int parallel = args.length > 4 ? Integer.parseInt(args[4]) : 1;
        int snapshotEvery = args.length > 5 ? Integer.parseInt(args[5]) : 7;
        long seed = Long.getLong("sluice.api.seed", System.nanoTime());
        Random rnd = new Random(seed);
        Path work = Files.createTempDirectory("sluice-api-crash");
        try {
            List<String> cmd = archived(jar, work);
            java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicLong acked = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicLong audit = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicLong fromSnapshot = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicReference<String> failed = new java.util.concurrent.atomic.AtomicReference<>();
            List<Long> starts = java.util.Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            System.out.println("seed=" + seed + " sync=" + sync + " batch=" + batch + " parallel=" + parallel + " snapshot_every=" + snapshotEvery
                    + " (api.snapshot-every of the child: snapshots are taken, and killed into, all the while)");
            // PARALLEL loops at once, each on its own batches (its own journal, audit log and port): a round waits
            // for a JVM start, a kill and the client's notice, so loops side by side share the cores
            List<Thread> loops = new ArrayList<>();
            for (int l = 0; l < parallel; l++) {
                Thread t = new Thread(() -> {
                    try {
                        while (failed.get() == null) {
                            int from = next.getAndAdd(batch);
                            if (from >= kills) return;
                            int n = Math.min(batch, kills - from);
                            Path dir = Files.createTempDirectory(work, "batch");
                            Path cfg = ApiLatencyBench.config(dir, sync);
                            if (snapshotEvery > 0) Files.writeString(cfg, "  snapshot-every: " + snapshotEvery + "\n", java.nio.file.StandardOpenOption.APPEND);
                            List<String> c = new ArrayList<>(cmd);
                            c.add(cfg.toString());
                            long b0 = System.nanoTime();
                            CrashLoop.Result r = CrashLoop.run(k -> c, dir.resolve("audit"), ApiLatencyBench.KEY, n, rnd);
                            if (r.failure() != null) {
                                failed.compareAndSet(null, "FAILED after " + (done.get() + r.kills()) + " kills (batch from " + from + "): " + r.failure());
                                return;
                            }
                            starts.addAll(r.startMillis());
                            fromSnapshot.addAndGet(r.snapshotStarts());
                            synchronized (ApiCrashBench.class) {
                                System.out.printf("kills=%d acknowledged=%d audit_records=%d batch_s=%.1f%n", done.addAndGet(n), acked.addAndGet(r.acked()),
                                        audit.addAndGet(r.auditRecords()), (System.nanoTime() - b0) / 1e9);
                            }
                            delete(dir);
                        }
                    } catch (Exception e) {
                        failed.compareAndSet(null, "FAILED: " + e);
                    }
                }, "crash-loop-" + l);
                loops.add(t);
                t.start();
            }
            for (Thread t : loops) t.join();
            if (failed.get() != null) {
                System.out.println(failed.get());
                System.exit(1);
            }
            List<Long> sorted = new ArrayList<>(starts);
            sorted.sort(Comparator.naturalOrder());
            System.out.printf("crash_kills=%d acknowledged_changes=%d lost=0 half_applied=0 audit_chain=intact starts_from_snapshot=%d start_to_api_p50_ms=%d p99_ms=%d total_s=%.0f%n",
                    done.get(), acked.get(), fromSnapshot.get(), sorted.get(sorted.size() / 2), sorted.get((int) (sorted.size() * 0.99)), (System.nanoTime() - t0) / 1e9);
        } finally {
            delete(work);
        }
    }

    /** The ControlOnly command (without its configuration argument), with an AOT cache (-XX:AOTCache) written by one graceful training run. */
    static List<String> archived(String jar, Path work) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String a : java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--") || a.startsWith("-D")) cmd.add(a);
        }
        cmd.addAll(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", jar, "io.sluice.dataplane.control.ControlOnly"));
        Path jsa = work.resolve("control-only.aot");
        Path dir = Files.createTempDirectory(work, "archive");
        List<String> dump = new ArrayList<>(cmd);
        dump.add(1, "-XX:AOTCacheOutput=" + jsa);
        Path trainCfg = ApiLatencyBench.config(dir, "none");
        // a journal snapshot every 7 changes, and 8 changes: the snapshot path is in the archive too
        Files.writeString(trainCfg, "  snapshot-every: 7\n", java.nio.file.StandardOpenOption.APPEND);
        dump.add(trainCfg.toString());
        String failed = CrashLoop.trainArchive(dump, ApiLatencyBench.KEY);
        if (failed != null) throw new IllegalStateException(failed);
        if (Files.exists(jsa)) cmd.add(1, "-XX:AOTCache=" + jsa);
        return cmd;
    }

    private static void delete(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
