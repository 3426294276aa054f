package io.sluice.bench.latency;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The rule churn of {@code ./sluice bench latency}: rule changes applied to a running data plane
 * through its control API (docs/api.md), at a steady offered rate.
 *
 * <p>Set-up (at once): PUT the group {@code churn} of project {@code blue} (UDP 1001 in from
 * 10.0.0.0/8, one TCP rule) and make VM {@code db} (the generator's B side) a member beside
 * {@code default}, so every change recompiles a table that the measured traffic goes through. Then,
 * from {@code --start-ms} (epoch ms) for {@code --seconds}, one PUT of the whole group every
 * 1/{@code --rate} s, each changing its TCP rule's port ({@code on_rule_change: keep}), open loop
 * (at most {@code --inflight} outstanding; a slot that finds them all busy is counted as skipped,
 * not queued). Prints {@code churn offered= done= failed= skipped= rate_per_s= answer_p50_ms=
 * answer_p99_ms= answer_max_ms=}.
 *
 * <pre>java LatencyChurn --api http://127.0.0.1:PORT --key KEY --start-ms T --seconds 10 --rate 100</pre>
 */
public final class LatencyChurn {
    private LatencyChurn() {}

    static String group(int port) {
        return "{\"description\":\"latency bench churn\",\"on_rule_change\":\"keep\","
                + "\"inbound_rules\":[{\"protocol\":\"udp\",\"port\":" + LatencyGen.SERVICE_PORT + ",\"source_cidr\":\"10.0.0.0/8\"},"
                + "{\"protocol\":\"tcp\",\"port\":" + port + ",\"source_cidr\":\"192.0.2.0/24\"}],"
                + "\"outbound_rules\":[{\"protocol\":\"all\"}]}";
    }

    public static void main(String[] args) throws Exception {
        String api = null, key = null;
        long startMs = System.currentTimeMillis();
        int seconds = 10, rate = 100, inflight = 4;
        for (int i = 0; i < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--api" -> api = v;
                case "--key" -> key = v;
                case "--start-ms" -> startMs = Long.parseLong(v);
                case "--seconds" -> seconds = Integer.parseInt(v);
                case "--rate" -> rate = Integer.parseInt(v);
                case "--inflight" -> inflight = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (api == null || key == null) throw new IllegalArgumentException("--api and --key are required");
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        URI groupUri = URI.create(api + "/v1/projects/blue/security-groups/churn");
        put(http, groupUri, key, group(2000));
        put(http, URI.create(api + "/v1/projects/blue/vms/db/security-groups"), key, "{\"groups\":[\"default\",\"churn\"]}");
        System.out.println("churn: group blue/churn set up, VM db in it; waiting for the churn phase");
        long wait = startMs - System.currentTimeMillis();
        if (wait > 0) Thread.sleep(wait);
        Semaphore slots = new Semaphore(inflight);
        AtomicLong done = new AtomicLong(), failed = new AtomicLong();
        ConcurrentLinkedQueue<Long> answers = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        long period = 1_000_000_000L / rate, t0 = System.nanoTime(), end = t0 + seconds * 1_000_000_000L;
        long offered = 0, skipped = 0;
        for (long next = t0; next < end; next += period) {
            long d = next - System.nanoTime();
            if (d > 0) Thread.sleep(d / 1_000_000, (int) (d % 1_000_000));
            offered++;
            if (!slots.tryAcquire()) { skipped++; continue; }
            long s = System.nanoTime();
            HttpRequest rq = HttpRequest.newBuilder(groupUri).header("X-API-Key", key).header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(10)).PUT(HttpRequest.BodyPublishers.ofString(group(2001 + (int) (offered % 1000)))).build();
            http.sendAsync(rq, HttpResponse.BodyHandlers.ofString()).whenComplete((r, e) -> {
                if (e == null && r.statusCode() == 200) { done.incrementAndGet(); answers.add(System.nanoTime() - s); }
                else { failed.incrementAndGet(); if (errors.size() < 5) errors.add(e != null ? e.toString() : r.statusCode() + " " + r.body()); }
                slots.release();
            });
        }
        slots.acquire(inflight);     // every outstanding change answered
        double secs = (System.nanoTime() - t0) / 1e9;
        long[] a = answers.stream().mapToLong(Long::longValue).sorted().toArray();
        for (String e : errors) System.out.println("churn error: " + e);
        System.out.printf("churn offered=%d done=%d failed=%d skipped=%d rate_per_s=%.1f answer_p50_ms=%.2f answer_p99_ms=%.2f answer_max_ms=%.2f%n",
                offered, done.get(), failed.get(), skipped, done.get() / secs, q(a, 0.5), q(a, 0.99), a.length == 0 ? Double.NaN : a[a.length - 1] / 1e6);
    }

    private static double q(long[] sorted, double q) {
        if (sorted.length == 0) return Double.NaN;
        return sorted[(int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] / 1e6;
    }

    private static void put(HttpClient http, URI uri, String key, String body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).header("X-API-Key", key).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IllegalStateException("PUT " + uri + ": " + r.statusCode() + " " + r.body());
    }
}
