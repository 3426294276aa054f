package io.sluice.rules.sg;

import io.sluice.rules.model.CloudConfig;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.RuleValidationException;
import io.sluice.rules.model.SecurityGroup;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.Generate.intArrays;
import static org.quicktheories.generators.SourceDSL.integers;

/**
 * {@link EffectiveRules.Cache} (what the incremental compiler and the firewall state expand with,
 * patching the previous list when one group's value changed) against its twin, a fresh
 * {@link EffectiveRules#of} every time; {@link EffectiveRules#check}
 * (the control API's validation) against what {@code of} throws.
 */
class EffectiveRulesCacheProperties {
    private static Gen<int[]> codes(int max) {
        return intArrays(integers().between(0, max), integers().between(0, 1 << 20));
    }

    /** After every step of a random update sequence, each list from the cache equals a fresh expansion. */
    @Test
    void cachedExpansionEqualsAFreshOneAfterEveryUpdate() {
        int[] hits = new int[1], patches = new int[1];
        qt().withExamples(3000).forAll(codes(60), codes(40)).checkAssert((cc, uc) -> {
            EffectiveRules.Cache cache = new EffectiveRules.Cache();
            CloudConfig cfg = SgGen.config(cc);
            compare(cache, cfg, -1);
            for (int u = 0; u + 2 < uc.length; u += 3) {
                // a step that changes nothing (the same value again) or one update
                if (Math.floorMod(uc[u], 4) != 0) cfg = SecurityGroupProperties.mutate(cfg, uc[u], uc[u + 1], uc[u + 2]);
                if (Math.floorMod(uc[u + 1], 3) == 0) cfg = changeInPlace(cfg, uc[u + 1], uc[u + 2]);
                compare(cache, cfg, u);
                cache.retain(cfg);
            }
            hits[0] += cache.hits();
            patches[0] += cache.patches();
        });
        if (hits[0] == 0) throw new AssertionError("the cache never answered: the property compared nothing but fresh expansions");
        if (patches[0] == 0) throw new AssertionError("no list was patched: the property never compared a patched expansion");
    }

    /** One rule of g1 or g2 replaced by another at the same position (same id). */
    private static CloudConfig changeInPlace(CloudConfig cfg, int a, int b) {
        String g = "g" + (1 + Math.floorMod(a, 2));
        SecurityGroup old = cfg.groups().get(g);
        if (old.rules().isEmpty()) return cfg;
        java.util.List<io.sluice.rules.model.SgRule> rules = new java.util.ArrayList<>(old.rules());
        int at = Math.floorMod(b, rules.size());
        try {
            rules.set(at, SgGen.rule(rules.get(at).id(), new int[] {b, a, a + b, a ^ b}, 0, 3));
            return cfg.withGroup(new SecurityGroup(g, rules));
        } catch (IllegalArgumentException e) {
            return cfg;
        }
    }

    private static void compare(EffectiveRules.Cache cache, CloudConfig cfg, int step) {
        for (String iface : cfg.interfaces().keySet()) {
            for (Direction d : Direction.values()) {
                for (IpFamily f : IpFamily.values()) {
                    EffectiveRules want = EffectiveRules.of(cfg, iface, d, f);
                    EffectiveRules got = cache.of(cfg, iface, d, f);
                    if (!got.rules().sameRules(want.rules()) || !got.names().equals(want.names())) {
                        throw new AssertionError("step " + step + ": " + iface + " " + d + " " + f + ": cached " + got.names() + " vs fresh "
                                + want.names() + "\nconfig: " + cfg);
                    }
                }
            }
        }
    }

    /** With groups missing (an interface naming one, a rule naming one as remote), check throws exactly what of throws. */
    @Test
    void checkThrowsWhatExpandingThrows() {
        int[] thrown = new int[1];
        qt().withExamples(3000).forAll(codes(60), integers().between(0, 7)).checkAssert((cc, drop) -> {
            CloudConfig full = SgGen.config(cc);
            Map<String, SecurityGroup> gs = new LinkedHashMap<>(full.groups());
            for (int g = 0; g < 3; g++) if ((drop >> g & 1) != 0) gs.remove("g" + g);
            CloudConfig cfg = new CloudConfig(gs, full.interfaces(), full.platform());
            EffectiveRules.Cache cache = new EffectiveRules.Cache();
            for (String iface : new String[] {"vm0", "vm1", "vm2", "vm3", "nope"}) {
                for (Direction d : Direction.values()) {
                    for (IpFamily f : IpFamily.values()) {
                        String want = outcome(() -> EffectiveRules.of(cfg, iface, d, f));
                        String checked = outcome(() -> EffectiveRules.check(cfg, iface, d, f));
                        String cached = outcome(() -> cache.of(cfg, iface, d, f));
                        if (!want.equals(checked) || !want.equals(cached)) {
                            throw new AssertionError(iface + " " + d + " " + f + ": of " + want + ", check " + checked + ", cache " + cached + "\nconfig: " + cfg);
                        }
                        if (!want.equals("ok")) thrown[0]++;
                    }
                }
            }
        });
        if (thrown[0] == 0) throw new AssertionError("no configuration was refused: the property compared only successes");
    }

    private static String outcome(Runnable r) {
        try {
            r.run();
            return "ok";
        } catch (RuleValidationException e) {
            return e.field() + ": " + e.reason();
        }
    }
}
