package io.sluice.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** bench/scripts/accept.py, the one acceptance rule of the same-run benches, run as the scripts run it. */
class AcceptRuleTest {
    static final Path SCRIPT = Path.of(System.getProperty("sluice.home", ".."), "bench", "scripts", "accept.py");

    record Out(int status, List<String> lines) {
        String last() { return lines.get(lines.size() - 1); }
    }

    static Out accept(String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 2];
        cmd[0] = "python3";
        cmd[1] = SCRIPT.toString();
        System.arraycopy(args, 0, cmd, 2, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Out(p.waitFor(), out.lines().toList());
    }

    static Path tsv(Path dir, String... rows) throws IOException {
        Path f = dir.resolve("runs.tsv");
        Files.writeString(f, String.join("\n", rows) + "\n");
        return f;
    }

    @Test
    void aRunIsRejectedForItsCoreShareForwardingOrCheck() throws Exception {
        assertEquals(new Out(0, List.of("ACCEPT")), accept("run", "0.96", "1000000", "1000000"));
        Out cpu = accept("run", "0.94", "1000000", "1000000");
        assertEquals(1, cpu.status());
        assertEquals("REJECT cpu 0.94 < 0.95", cpu.last());
        Out fwd = accept("run", "0.99", "1000000", "997000");
        assertEquals(1, fwd.status());
        assertEquals("REJECT forwarded 997000 < received 1000000", fwd.last());
        assertEquals("ACCEPT", accept("run", "0.99", "1000000", "998500").last(), "within the 0.2 % window tolerance");
        assertEquals("REJECT check: feature not armed", accept("run", "0.99", "10", "10", "feature not armed").last());
    }

    @Test
    void theReferenceIsTheBetterOvsAndACaseWithoutAnAcceptedRunIsNan(@TempDir Path d) throws Exception {
        Path f = tsv(d,
                "a\tovs-default\t1\tACCEPT\t4.0\t", "a\tovs-tuned\t1\tACCEPT\t5.0\t", "a\tsluice\t1\tACCEPT\t10.0\t",
                "a\tsluice\t2\tREJECT cpu 0.5 < 0.95\t99.0\t", "a\tsluice\t3\tACCEPT\t12.0\t");
        Out t = accept("table", f.toString(), "sluice", "ovs");
        assertTrue(t.lines().contains("| a | 4.000 (1/1) | 5.000 (1/1) | 11.000 (2/3) | ovs-tuned | 2.20 |"), String.join("\n", t.lines()));
        assertEquals("min_ratio=2.20", t.last());
        Files.writeString(f, "b\tovs-default\t1\tACCEPT\t4.0\t\nb\tsluice\t1\tREJECT cpu 0.5 < 0.95\t9.0\t\n", java.nio.file.StandardOpenOption.APPEND);
        assertEquals("min_ratio=nan", accept("table", f.toString(), "sluice", "ovs").last(), "never the minimum over fewer cases");
    }

    @Test
    void featureRatiosUseTheAcceptedMediansOfTheSameRun(@TempDir Path d) throws Exception {
        Path f = tsv(d,
                "est\tsluice\t1\tACCEPT\t10.0\t", "est\tsluice\t2\tACCEPT\t20.0\t",
                "est\tsluice+trace\t1\tACCEPT\t14.25\t", "est\tsluice+trace\t2\tREJECT cpu 0.2 < 0.95\t1.0\t",
                "est\tsluice+capture\t1\tREJECT cpu 0.2 < 0.95\t7.0\t",
                "new\tsluice\t1\tACCEPT\t2.0\t", "new\tsluice+trace\t1\tACCEPT\t1.9\t");
        Out r = accept("ratios", f.toString(), "sluice");
        assertEquals(0, r.status());
        assertTrue(r.lines().contains("| est | trace | 14.250 (1/2) | 15.000 (2/2) | 0.950 | 0.508 |"), String.join("\n", r.lines()));
        assertTrue(r.lines().contains("| est | capture | nan (0/1) | 15.000 (2/2) | nan | 0.467 |"), String.join("\n", r.lines()));
        assertTrue(r.lines().contains("feature_ratio_trace=0.950"), "lowest over the cases: est 0.950, new 0.950");
        assertTrue(r.lines().contains("feature_ratio_capture=nan"));
    }
}
