package io.sluice.rules;

import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.compile.FlatRules;
import io.sluice.rules.reference.LinearClassifier;
import io.sluice.rules.table.Classifier;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

import java.util.Arrays;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.Generate.intArrays;
import static org.quicktheories.generators.SourceDSL.integers;

/** The compiled classifier agrees with the linear oracle on random rules and edge-biased keys. */
class ClassifierProperties {
    static final int TRIES = 10_000;
    static final int KEYS = 64;

    private static Gen<int[]> codes(int maxRules, int dims) {
        return intArrays(integers().between(0, maxRules * dims * 2), integers().between(0, 1 << 20));
    }

    /** Small leaves and cut limits so that random sets of a few dozen rules still grow real trees. */
    private static CutTreeCompiler compiler(int knob) {
        int k = Math.floorMod(knob, 4);
        return new CutTreeCompiler(new CutTreeCompiler.Params(1 + k, 2.0 + k, 1 + k * 3, k == 3 ? -1 : 4 + 4 * k));
    }

    private static String firstMatchMismatch(FlatRules rules, int[] keyCodes, int knob) {
        Classifier c = compiler(knob).compile(rules);
        LinearClassifier oracle = new LinearClassifier(rules);
        int[] keys = RuleGen.keys(rules, keyCodes, KEYS);
        int[] burst = new int[KEYS];
        c.classifyBurst(keys, 0, KEYS, burst);
        int dims = rules.dims();
        for (int i = 0; i < KEYS; i++) {
            int want = oracle.firstMatch(keys, i * dims);
            int got = c.classify(keys, i * dims);
            if (got != want || burst[i] != want) {
                return "key " + Arrays.toString(Arrays.copyOfRange(keys, i * dims, (i + 1) * dims))
                        + " oracle=" + want + " classify=" + got + " burst=" + burst[i];
            }
            if (want >= 0 && (c.ruleId(got) != rules.id(want) || c.allows(got) != (rules.action(want) == FlatRules.ALLOW))) {
                return "id/action of " + got;
            }
        }
        return null;
    }

    @Test
    void firstMatchV4EqualsOracle() {
        qt().withExamples(TRIES).forAll(codes(40, 5), codes(8, 5), integers().between(0, 3))
                .checkAssert((rc, kc, knob) -> {
                    FlatRules rules = RuleGen.rules(rc, FlatRules.v4Dims(), FlatRules.v4PartitionDims(), new byte[] {1, 0, 1});
                    String m = firstMatchMismatch(rules, kc, knob);
                    if (m != null) throw new AssertionError(rules.size() + " rules: " + m);
                });
    }

    @Test
    void firstMatchV6EqualsOracle() {
        qt().withExamples(TRIES).forAll(codes(20, 11), codes(8, 11), integers().between(0, 3))
                .checkAssert((rc, kc, knob) -> {
                    FlatRules rules = RuleGen.rules(rc, FlatRules.v6Dims(), FlatRules.v6PartitionDims(), new byte[] {0, 1});
                    String m = firstMatchMismatch(rules, kc, knob);
                    if (m != null) throw new AssertionError(rules.size() + " rules: " + m);
                });
    }

    /** Allow-union: allowed iff some rule matches, and the reported deciding rule does match. */
    @Test
    void allowUnionEqualsOracle() {
        qt().withExamples(TRIES).forAll(codes(40, 5), codes(8, 5), integers().between(0, 3))
                .checkAssert((rc, kc, knob) -> {
                    FlatRules rules = RuleGen.rules(rc, FlatRules.v4Dims(), FlatRules.v4PartitionDims(), null);
                    Classifier c = compiler(knob).compile(rules);
                    LinearClassifier oracle = new LinearClassifier(rules);
                    int[] keys = RuleGen.keys(rules, kc, KEYS);
                    for (int i = 0; i < KEYS; i++) {
                        int got = c.classify(keys, i * 5);
                        boolean allowed = got >= 0 && c.allows(got);
                        if (allowed != oracle.anyMatch(keys, i * 5)) throw new AssertionError("verdict differs at key " + i);
                        if (got >= 0 && !oracle.matches(got, keys, i * 5)) throw new AssertionError("deciding rule " + got + " does not match");
                    }
                });
    }
}
