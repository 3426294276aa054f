package io.sluice.rules.cli;

import io.sluice.rules.classbench.ClassBench;
import io.sluice.rules.classbench.ClassBenchFormatException;
import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.compile.FlatRules;
import io.sluice.rules.table.Classifier;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * {@code sluice rules classify --rules FILE --trace FILE}: prints, for each trace header, the
 * 0-based index of the first matching rule or -1; build time and table memory go to stderr.
 * Exit codes: 0 ok, 2 bad arguments or input.
 */
public final class RulesCli {
    private RulesCli() {}

    /** Entry point. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the CLI; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || !args[0].equals("classify")) {
            err.println("usage: sluice rules classify --rules FILE --trace FILE");
            return 2;
        }
        String rulesFile = null, traceFile = null;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if ((a.equals("--rules") || a.equals("--trace")) && i + 1 < args.length) {
                if (a.equals("--rules")) rulesFile = args[++i]; else traceFile = args[++i];
            } else {
                err.println("sluice rules classify: unexpected argument '" + a + "'");
                err.println("usage: sluice rules classify --rules FILE --trace FILE");
                return 2;
            }
        }
        if (rulesFile == null || traceFile == null) {
            err.println("sluice rules classify: both --rules FILE and --trace FILE are required");
            return 2;
        }
        try {
            FlatRules rules = ClassBench.readRules(Path.of(rulesFile));
            int[] trace = ClassBench.readTrace(Path.of(traceFile));
            long t0 = System.nanoTime();
            Classifier c = new CutTreeCompiler().compile(rules);
            long buildNs = System.nanoTime() - t0;
            PrintStream o = new PrintStream(new BufferedOutputStream(out, 1 << 16), false);
            StringBuilder sb = new StringBuilder(16);
            for (int off = 0; off < trace.length; off += 5) {
                sb.setLength(0);
                o.append(sb.append(c.classify(trace, off)).append('\n'));
            }
            o.flush();
            err.printf("rules=%d headers=%d trees=%d build_ms=%.3f memory_bytes=%d%n",
                    rules.size(), trace.length / 5, c.trees(), buildNs / 1e6, c.memoryBytes());
            return 0;
        } catch (ClassBenchFormatException e) {
            err.println("sluice rules classify: " + e.getMessage());
            return 2;
        } catch (NoSuchFileException e) {
            err.println("sluice rules classify: " + e.getFile() + ": no such file");
            return 2;
        } catch (IOException e) {
            err.println("sluice rules classify: " + e.getMessage());
            return 2;
        }
    }
}
