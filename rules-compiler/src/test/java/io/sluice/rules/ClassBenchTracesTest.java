package io.sluice.rules;

import io.sluice.rules.classbench.ClassBench;
import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.compile.FlatRules;
import io.sluice.rules.reference.LinearClassifier;
import io.sluice.rules.table.Classifier;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every ClassBench rule set classifies its whole trace exactly as the linear oracle does. */
class ClassBenchTracesTest {
    static Path dir() {
        return Path.of(System.getProperty("sluice.classbench.dir", "../../shared/classbench"));
    }

    @TestFactory
    List<DynamicTest> everyTraceMatchesOracle() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        try (var files = Files.list(dir())) {
            List<Path> rules = files.filter(p -> p.getFileName().toString().matches("[a-z]+\\d+_\\d+k")).sorted().toList();
            assertTrue(rules.size() >= 7, "expected the ClassBench sets in " + dir());
            for (Path r : rules) {
                Path trace = r.resolveSibling(r.getFileName() + "_trace");
                tests.add(DynamicTest.dynamicTest(r.getFileName().toString(), () -> check(r, trace)));
            }
        }
        return tests;
    }

    private static void check(Path rulesFile, Path traceFile) throws Exception {
        FlatRules rules = ClassBench.readRules(rulesFile);
        // acl1_10k ships without a trace: use every rule's two corners and midpoint instead
        int[] keys = Files.exists(traceFile) ? ClassBench.readTrace(traceFile) : RuleGen.keys(rules, new int[0], rules.size() * 3);
        Classifier c = new CutTreeCompiler().compile(rules);
        LinearClassifier oracle = new LinearClassifier(rules);
        int n = keys.length / 5;
        int[] burst = new int[n];
        c.classifyBurst(keys, 0, n, burst);
        int matched = 0;
        for (int i = 0; i < n; i++) {
            int want = oracle.firstMatch(keys, i * 5);
            assertEquals(want, c.classify(keys, i * 5), () -> rulesFile.getFileName() + " header " + 0);
            assertEquals(want, burst[i], "burst result");
            if (want >= 0) matched++;
        }
        if (Files.exists(traceFile)) assertEquals(n, matched, "every ClassBench header matches some rule");
    }
}
