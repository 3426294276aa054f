package io.sluice.bench.rules;

import io.sluice.rules.classbench.ClassBenchGen;
import io.sluice.rules.compile.FlatRules;

import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Generates a ClassBench-style trace: for each rule, {@code perRule} headers at random corners
 * or random interior points of the rule (the 7th column is the generating rule, as in
 * ClassBench). Used for acl1_10k, whose upstream trace is not in the shared directory.
 * {@code main(rulesFile, outFile)} writes the trace file.
 */
public final class TraceGen {
    private TraceGen() {}

    /** Headers as 5 ints each ({@link ClassBenchGen#trace}). */
    public static int[] trace(FlatRules r, int perRule, long seed) {
        return ClassBenchGen.trace(r, perRule, seed);
    }

    /** Writes a trace for a ClassBench rule file: {@code TraceGen RULES OUT}. */
    public static void main(String[] args) throws Exception {
        FlatRules r = io.sluice.rules.classbench.ClassBench.readRules(Path.of(args[0]));
        int[] t = trace(r, 10, 7);
        try (BufferedWriter w = Files.newBufferedWriter(Path.of(args[1]))) {
            for (int i = 0; i < t.length; i += 5) {
                w.write(Integer.toUnsignedString(t[i]) + "\t" + Integer.toUnsignedString(t[i + 1]) + "\t" + t[i + 2] + "\t" + t[i + 3]
                        + "\t" + t[i + 4] + "\t0\t" + (i / 50) + "\n");
            }
        }
    }
}
