package io.sluice.bench.api;

import io.sluice.dataplane.control.QueueLog;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The cost of the control API's durability setting ({@code api.sync}, docs/api.md): the time of one
 * journal append (a 1-rule security group PUT record, ~240 bytes) with {@code msync} (forced to disk
 * before the answer) and with {@code none} (page cache only), alternating rounds in the same run on
 * the same file system.
 *
 * <pre>java $JVM_FLAGS -cp bench/target/benchmarks.jar io.sluice.bench.api.JournalSyncBench [DIR] [APPENDS] [ROUNDS]</pre>
 */
public final class JournalSyncBench {
    private JournalSyncBench() {}

    public static void main(String[] args) throws Exception {
        Path base = Path.of(args.length > 0 ? args[0] : "/var/tmp");
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        String rec = "{\"v\":1,\"gen\":%d,\"action\":\"security_group.put\",\"project\":\"blue\",\"name\":\"web\",\"body\":"
                + "{\"description\":\"web tier\",\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":443,\"source_cidr\":\"0.0.0.0/0\"}]}}";
        System.out.println("journal append, " + n + " appends per round, " + rounds + " rounds, dir " + base);
        System.out.println("mode    round  p50_us   p99_us   p99.9_us  mean_us");
        double[] p50 = new double[2];
        for (int r = 0; r < rounds; r++) {
            for (int m = 0; m < 2; m++) {
                boolean msync = m == 0;
                Path dir = Files.createTempDirectory(base, "sluice-journal-bench");
                long[] t = new long[n];
                try (QueueLog q = QueueLog.open(dir, msync)) {
                    for (int i = 0; i < 200; i++) q.append(rec.formatted(i)); // warm-up
                    for (int i = 0; i < n; i++) {
                        long t0 = System.nanoTime();
                        q.append(rec.formatted(i));
                        t[i] = System.nanoTime() - t0;
                    }
                } finally {
                    try (Stream<Path> s = Files.walk(dir)) {
                        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                    }
                }
                Arrays.sort(t);
                double mean = Arrays.stream(t).average().orElse(0) / 1000.0;
                System.out.printf("%-7s %5d  %7.1f  %7.1f  %8.1f  %7.1f%n", msync ? "msync" : "none", r,
                        t[n / 2] / 1000.0, t[(int) (n * 0.99)] / 1000.0, t[(int) (n * 0.999)] / 1000.0, mean);
                p50[m] += t[n / 2] / 1000.0 / rounds;
            }
        }
        System.out.printf("msync_p50_us=%.1f none_p50_us=%.1f msync_over_none=%.1f%n", p50[0], p50[1], p50[0] / p50[1]);
    }
}
