package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * The crash-safety loop of the control API (ControlApiCrashNetnsTest, {@code ./sluice bench
 * api-crash}): a child process serving the API (its command per round) is sent a stream of changes
 * and killed with SIGKILL at a random moment after the first acknowledgement of the round, then
 * started again on the same journal. After each restart, every acknowledged change is there, an
 * unacknowledged one is there whole or not at all (each change sets two rules, ports n and n+1,
 * together), and the generation is at least the last acknowledged one. At the end the audit chain
 * is verified. The first failure stops the loop and is the result's {@code failure}.
 * <p>
 * Every {@value #SNAPSHOT_ROUND}th round waits, before its random kill, until the child reports a
 * journal snapshot written ({@code GET /v1/health}, {@code journal.last_snapshot}; only when the
 * child's {@code journal.snapshot_every} is 1 to {@value #SNAPSHOT_WAIT_CHANGES}): the next start must
 * then come from a snapshot at least that new. So kills land after
 * snapshots whatever the machine's speed, and a start-up that ignores its snapshots fails the loop
 * instead of going unnoticed; the other rounds kill before, during and after snapshots at random.
 */
public final class CrashLoop {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * @param kills         kills made
     * @param acked         changes acknowledged over all rounds
     * @param auditRecords  records in the audit chain at the end
     * @param startMillis   per round, from the child's start to its API line
     * @param failure       the first broken promise, or null
     * @param snapshotStarts rounds whose child started from a journal snapshot (its API line says
     *                       {@code snapshot of generation N}) rather than the whole journal
     */
    public record Result(int kills, long acked, long auditRecords, List<Long> startMillis, String failure, int snapshotStarts) {
        Result(int kills, long acked, long auditRecords, List<Long> startMillis, String failure) {
            this(kills, acked, auditRecords, startMillis, failure, 0);
        }
    }

    /** Every this many rounds, the kill waits for a journal snapshot first (see the class comment). */
    public static final int SNAPSHOT_ROUND = 5;
    /** Such a round waits only when the child snapshots at least every this many changes. */
    private static final long SNAPSHOT_WAIT_CHANGES = 100;
    /** How long such a round waits for the snapshot before it fails the loop. */
    private static final long SNAPSHOT_WAIT_MS = 60_000;
    /** A start slower than this prints the child's output (what it waited for). */
    private static final long SLOW_START_MS = 10_000;

    private CrashLoop() {}

    /**
     * @param command the child's command line for round {@code k} (0..kills); it prints
     *                {@code sluice: control API on http://HOST:PORT …} once it serves
     * @param key     a key of project blue; the group changed is {@code blue/crash}
     */
    public static Result run(IntFunction<List<String>> command, Path auditDir, String key, int kills, Random rnd) throws Exception {
        AtomicLong sent = new AtomicLong();
        AtomicLong acked = new AtomicLong();
        AtomicLong ackedGen = new AtomicLong();
        long totalAcked = 0;
        List<Long> starts = new ArrayList<>();
        int fromSnapshot = 0;
        long mustStartFrom = 0; // a snapshot of at least this generation was written before the last kill
        for (int k = 0; k <= kills; k++) {
            long t0 = System.nanoTime();
            Process child = new ProcessBuilder(command.apply(k)).redirectErrorStream(true).start();
            try {
                StringBuilder out = new StringBuilder();
                URI base = awaitApi(child, out, 60_000);
                if (base == null) return new Result(k, totalAcked, 0, starts, "round " + k + ": no API line:\n" + out);
                long startMs = (System.nanoTime() - t0) / 1_000_000;
                starts.add(startMs);
                if (startMs > SLOW_START_MS) {
                    synchronized (out) {
                        System.out.println("crash loop: round " + k + ": " + startMs + " ms to the API line; the child printed:\n" + out.toString().strip());
                    }
                }
                String apiLine;
                synchronized (out) {
                    int at = out.indexOf("sluice: control API on ");
                    apiLine = out.substring(at, out.indexOf("\n", at));
                }
                if (apiLine.contains(", snapshot of generation ")) fromSnapshot++;
                JsonNode health = json(call(base, "GET", "/v1/health", null, null));
                long started = health.path("journal").path("started_from_snapshot").asLong();
                if (mustStartFrom > 0 && started < mustStartFrom) {
                    return fail(k, totalAcked, starts, "a snapshot of generation " + mustStartFrom + " was written before the kill, but start-up used "
                            + (started == 0 ? "none (the whole journal replayed)" : "the one of generation " + started) + ":\n" + text(out));
                }
                long gen = health.path("generation").asLong();
                if (gen < ackedGen.get()) return fail(k, totalAcked, starts, "generation " + gen + " < last acknowledged " + ackedGen.get());
                HttpResponse<String> r = call(base, "GET", "/v1/projects/blue/security-groups/crash", key, null);
                if (acked.get() == 0) {
                    if (!(r.statusCode() == 404 || r.statusCode() == 200 && sent.get() > 0)) return fail(k, totalAcked, starts, "unexpected " + r.statusCode() + " " + r.body());
                } else {
                    if (r.statusCode() != 200) return fail(k, totalAcked, starts, "acknowledged group missing: " + r.statusCode() + " " + r.body());
                    JsonNode in = json(r).path("inbound_rules");
                    if (in.size() != 2) return fail(k, totalAcked, starts, "not two rules: " + r.body());
                    int port = in.get(0).path("port").asInt();
                    if (in.get(1).path("port").asInt() != port + 1) return fail(k, totalAcked, starts, "half a change: " + r.body());
                    if (port < acked.get() || port > sent.get()) {
                        return fail(k, totalAcked, starts, "port " + port + ", acknowledged " + acked.get() + ", sent " + sent.get());
                    }
                    // what is there now counts as acknowledged from here on
                    acked.set(port);
                    sent.set(port);
                }
                if (k == kills) break;
                URI b = base;
                Thread streamer = new Thread(() -> {
                    try {
                        while (true) {
                            long n = sent.incrementAndGet();
                            String body = "{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":" + n + "},{\"protocol\":\"tcp\",\"port\":" + (n + 1) + "}]}";
                            HttpResponse<String> a = call(b, "PUT", "/v1/projects/blue/security-groups/crash", key, body);
                            if (a.statusCode() != 200) return; // refused: the check after the restart names it
                            acked.set(n);
                            ackedGen.set(json(a).path("generation").asLong());
                        }
                    } catch (Exception expected) {
                        // the child was killed under the request
                    }
                }, "api-streamer");
                long before = acked.get();
                streamer.start();
                long flowing = System.nanoTime() + 30_000_000_000L;
                while (acked.get() == before && streamer.isAlive() && System.nanoTime() < flowing) Thread.sleep(2);
                mustStartFrom = 0;
                long every = health.path("journal").path("snapshot_every").asLong();
                if (every > 0 && every <= SNAPSHOT_WAIT_CHANGES && k % SNAPSHOT_ROUND == SNAPSHOT_ROUND - 1) {
                    // this round's kill comes after a snapshot: wait for the child to report one
                    long until = System.nanoTime() + SNAPSHOT_WAIT_MS * 1_000_000L;
                    while (streamer.isAlive() && System.nanoTime() < until) {
                        long last = json(call(base, "GET", "/v1/health", null, null)).path("journal").path("last_snapshot").asLong();
                        if (last > 0) {
                            mustStartFrom = last;
                            break;
                        }
                        Thread.sleep(20);
                    }
                    if (mustStartFrom == 0) {
                        return fail(k, totalAcked, starts, "no journal snapshot written within " + SNAPSHOT_WAIT_MS / 1000 + " s of streaming changes ("
                                + (acked.get() - before) + " acknowledged this round):\n" + text(out));
                    }
                }
                Thread.sleep(rnd.nextInt(300));
                child.destroyForcibly(); // SIGKILL
                child.waitFor();
                streamer.join(15_000);
                if (streamer.isAlive()) return fail(k, totalAcked, starts, "the client did not notice the kill");
                if (acked.get() <= before) return fail(k, totalAcked, starts, "no change acknowledged before the kill:\n" + out);
                totalAcked += acked.get() - before;
            } finally {
                child.destroyForcibly();
                child.waitFor(10, TimeUnit.SECONDS);
            }
        }
        long[] n = new long[1];
        String broken = AuditLog.verify(auditDir, n);
        if (broken != null) return new Result(kills, totalAcked, n[0], starts, "audit chain: " + broken);
        if (n[0] < totalAcked) return new Result(kills, totalAcked, n[0], starts, "audit records " + n[0] + " < acknowledged changes " + totalAcked);
        return new Result(kills, totalAcked, n[0], starts, null, fromSnapshot);
    }

    private static Result fail(int k, long acked, List<Long> starts, String what) {
        return new Result(k, acked, 0, starts, "after kill " + k + ": " + what);
    }

    /** Reads the child's output (kept in {@code out}) until its API line; the base URI, or null. */
    private static URI awaitApi(Process child, StringBuilder out, long timeoutMs) throws InterruptedException {
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = r.readLine()) != null) {
                    synchronized (out) {
                        out.append(l).append('\n'); // all of it, after the API line too (a failure shows it)
                    }
                    lines.add(l);
                }
            } catch (Exception ignored) {
                // the child is gone
            }
            lines.add("\u0000eof");
        }, "crash-child-output");
        reader.setDaemon(true);
        reader.start();
        long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
        while (System.nanoTime() < deadline) {
            String l = lines.poll(100, TimeUnit.MILLISECONDS);
            if (l == null) continue;
            if (l.equals("\u0000eof")) return null;
            if (l.startsWith("sluice: control API on ")) return URI.create(l.substring("sluice: control API on ".length()).split(" ")[0]);
        }
        return null;
    }

    /**
     * The training run of the child's JDK AOT cache ({@code dump}: the child's command with
     * {@code -XX:AOTCacheOutput} and a configuration on a journal of its own that snapshots every 7
     * changes): waits for its API line, makes 8 changes and waits (up to 60 s) for its first journal
     * snapshot, so the change and snapshot paths are in the cache, then stops it with SIGTERM (the
     * cache is written at exit). Returns null, or why the child did not serve (its output).
     */
    public static String trainArchive(List<String> dump, String key) throws Exception {
        Process p = new ProcessBuilder(dump).redirectErrorStream(true).start();
        try {
            StringBuilder out = new StringBuilder();
            URI base = awaitApi(p, out, 90_000);
            if (base == null) return "the archiving child did not start:\n" + text(out);
            for (int i = 1; i <= 8; i++) {
                HttpResponse<String> r = call(base, "PUT", "/v1/projects/blue/security-groups/warm", key,
                        "{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":" + i + "}]}");
                if (r.statusCode() != 200) return "warm-up PUT: " + r.statusCode() + " " + r.body();
            }
            long until = System.nanoTime() + 60_000_000_000L;
            while (System.nanoTime() < until && json(call(base, "GET", "/v1/health", null, null)).path("journal").path("last_snapshot").asLong() == 0) {
                Thread.sleep(20);
            }
            return null;
        } finally {
            p.destroy(); // SIGTERM: the archive is written at exit
            if (!p.waitFor(60, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
        }
    }

    private static String text(StringBuilder out) {
        synchronized (out) {
            return out.toString().strip();
        }
    }

    private static HttpResponse<String> call(URI base, String method, String path, String key, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10));
        if (key != null) b.header("X-API-Key", key);
        if (body != null) b.header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return GroupCodec.JSON.readTree(r.body());
    }
}
