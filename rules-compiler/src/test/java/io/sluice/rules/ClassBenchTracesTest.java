package io.sluice.rules;

import io.sluice.rules.classbench.ClassBench;
import io.sluice.rules.classbench.ClassBenchGen;
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

/**
 * Every rule set classifies its whole trace exactly as the linear oracle does: the generated
 * acl/fw/ipc-like sets at 1K and 10K rules always (ClassBenchGen, so a bare clone runs them), and
 * the published ClassBench sets as extras when their directory exists ({@code sluice.classbench.dir},
 * which {@code ./sluice test} sets from {@code CLASSBENCH} or {@code ../shared/classbench}).
 */
class ClassBenchTracesTest {
    static Path dir() {
        return Path.of(System.getProperty("sluice.classbench.dir", "../../shared/classbench"));
    }

    @TestFactory
    List<DynamicTest> generatedSetsMatchOracle() {
        List<DynamicTest> tests = new ArrayList<>();
        for (ClassBenchGen.Kind kind : ClassBenchGen.Kind.values()) {
            for (int n : new int[] {1_000, 10_000}) {
                String name = kind.name().toLowerCase() + "_gen_" + n / 1000 + "k";
                tests.add(DynamicTest.dynamicTest(name, () -> {
                    FlatRules rules = ClassBenchGen.rules(kind, n, 1);
                    check(name, rules, ClassBenchGen.trace(rules, n >= 10_000 ? 2 : 10, 7), true);
                }));
            }
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> publishedSetsMatchOracleWhenPresent() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        if (!Files.isDirectory(dir())) {
            System.out.println("ClassBenchTracesTest: no published ClassBench sets in " + dir() + " (optional; the generated sets ran)");
            return tests;
        }
        try (var files = Files.list(dir())) {
            List<Path> rules = files.filter(p -> p.getFileName().toString().matches("[a-z]+\\d+_\\d+k")).sorted().toList();
            assertTrue(!rules.isEmpty(), "the directory exists but holds no ClassBench set: " + dir());
            for (Path r : rules) {
                Path trace = r.resolveSibling(r.getFileName() + "_trace");
                tests.add(DynamicTest.dynamicTest(r.getFileName().toString(), () -> {
                    FlatRules rs = ClassBench.readRules(r);
                    // acl1_10k ships without a trace: use every rule's two corners and midpoint instead
                    boolean hasTrace = Files.exists(trace);
                    check(r.getFileName().toString(), rs, hasTrace ? ClassBench.readTrace(trace) : RuleGen.keys(rs, new int[0], rs.size() * 3), hasTrace);
                }));
            }
        }
        return tests;
    }

    private static void check(String name, FlatRules rules, int[] keys, boolean everyHeaderMatches) {
        Classifier c = new CutTreeCompiler().compile(rules);
        LinearClassifier oracle = new LinearClassifier(rules);
        int n = keys.length / 5;
        int[] burst = new int[n];
        c.classifyBurst(keys, 0, n, burst);
        int matched = 0;
        for (int i = 0; i < n; i++) {
            int want = oracle.firstMatch(keys, i * 5);
            final int h = i;
            assertEquals(want, c.classify(keys, i * 5), () -> name + " header " + h);
            assertEquals(want, burst[i], () -> name + " burst result of header " + h);
            if (want >= 0) matched++;
        }
        if (everyHeaderMatches) assertEquals(n, matched, name + ": every trace header matches some rule");
    }
}
