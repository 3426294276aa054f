package io.sluice.dataplane.firewall;

import io.sluice.dataplane.config.FirewallConfig;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.PlatformLayer;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.SgRule;
import io.sluice.rules.sg.EffectiveRules;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.Generate.intArrays;
import static org.quicktheories.generators.SourceDSL.integers;

/**
 * {@link FirewallState#apply} reuses a port's hit-counter and cut arrays when its list's expansion
 * did not change: after every step of random change sequences (rules of a group replaced, a group's
 * {@code on-rule-change} flipped, memberships changed, one rule inserted, removed or changed with
 * the other rules kept, nothing changed), every position of every
 * VM port's snapshot arrays must equal its twin, computed from scratch: the rule id of the fresh
 * expansion at that position ({@link FirewallState#ruleName} of the hit index) and its group's cut
 * setting.
 */
class FirewallStateReuseProperties {
    private static final String[] GROUPS = {"default", "g1", "g2"};

    @Test
    void hitAndCutArraysMatchAFreshExpansionAfterEveryChange() {
        int[] reused = new int[1];
        qt().withExamples(400).forAll(intArrays(integers().between(0, 40), integers().between(0, 1 << 16))).checkAssert(ops -> {
            Map<String, SecurityGroup> groups = new LinkedHashMap<>();
            Map<String, Boolean> cut = new LinkedHashMap<>();
            for (String g : GROUPS) {
                groups.put(g, group(g, 2, 0));
                cut.put(g, false);
            }
            List<List<String>> member = new ArrayList<>(List.of(List.of("default"), List.of("default", "g1"), List.of("g2")));
            FirewallConfig cfg = config(groups, cut, member);
            FirewallState fw = new FirewallState(3, cfg);
            check(fw, cfg, -1);
            for (int i = 0; i < ops.length; i++) {
                int op = ops[i], g = (op >> 2) % GROUPS.length, v = (op >> 4) % 3;
                FirewallSnapshot before = fw.current();
                switch (op & 7) {
                    case 0 -> groups.put(GROUPS[g], group(GROUPS[g], 1 + (op >> 6) % 4, op >> 8));
                    case 1 -> cut.put(GROUPS[g], !cut.get(GROUPS[g]));
                    case 2 -> member.set(v, (op >> 6) % 2 == 0 ? List.of("default", GROUPS[g]) : List.of(GROUPS[g]));
                    case 3, 4, 5 -> groups.put(GROUPS[g], edit(groups.get(GROUPS[g]), op & 7, op >> 6, i));
                    default -> { } // nothing changed
                }
                cfg = config(groups, cut, member);
                fw.apply(cfg);
                check(fw, cfg, i);
                for (int p = 0; p < 3; p++) for (int l = 0; l < 4; l++) if (fw.current().hitIndex[p][l] == before.hitIndex[p][l]) reused[0]++;
            }
        });
        if (reused[0] == 0) throw new AssertionError("no array was ever reused: the property checked only fresh arrays");
    }

    private static void check(FirewallState fw, FirewallConfig cfg, int step) {
        FirewallSnapshot s = fw.current();
        for (FirewallConfig.VmPort v : cfg.vmPorts()) {
            int l = 0;
            for (Direction d : Direction.values()) {
                for (IpFamily f : IpFamily.values()) {
                    List<String> names = EffectiveRules.of(cfg.cloud(), v.name(), d, f).names();
                    int[] hit = s.hitIndex[v.port()][l];
                    boolean[] c = s.cut[v.port()][l];
                    if (hit.length != names.size() || c.length != names.size()) {
                        throw new AssertionError("step " + step + " " + v.name() + " list " + l + ": " + hit.length + " hit indexes for " + names);
                    }
                    for (int k = 0; k < names.size(); k++) {
                        String group = names.get(k).substring(0, names.get(k).indexOf('/'));
                        if (!fw.ruleName(hit[k]).equals(names.get(k)) || c[k] != cfg.cuts(group)) {
                            throw new AssertionError("step " + step + " " + v.name() + " list " + l + " position " + k + ": counter of "
                                    + fw.ruleName(hit[k]) + " cut " + c[k] + ", want " + names.get(k) + " cut " + cfg.cuts(group));
                        }
                    }
                    l++;
                }
            }
        }
    }

    /**
     * One rule of {@code g} inserted (3), removed (4) or given another port under its id (5), the
     * other rules the same objects (as the control API's rule edits and the compiler's patched
     * expansions keep them: the arrays are then patched, not made again).
     */
    private static SecurityGroup edit(SecurityGroup g, int kind, int x, int step) {
        List<SgRule> rules = new ArrayList<>(g.rules());
        int at = Math.floorMod(x, rules.size() + (kind == 3 ? 1 : 0));
        IpFamily f = x % 2 == 0 ? IpFamily.V4 : IpFamily.V6;
        int port = 1 + Math.floorMod(x * 13 + step, 60000);
        switch (kind) {
            case 3 -> rules.add(at, new SgRule(g.id() + "/new" + step + "-" + x, Direction.INGRESS, f, 6, port, port, -1, -1, null, null));
            case 4 -> { if (rules.size() > 1) rules.remove(at); }
            default -> {
                SgRule r = rules.get(at);
                if (r.direction() == Direction.INGRESS) rules.set(at, new SgRule(r.id(), r.direction(), r.family(), 6, port, port, -1, -1, null, null));
            }
        }
        return new SecurityGroup(g.id(), rules);
    }

    /** {@code n} TCP ingress rules (IPv4 and IPv6 alternating), ports from {@code seed}. */
    private static SecurityGroup group(String g, int n, int seed) {
        List<SgRule> rules = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            IpFamily f = i % 2 == 0 ? IpFamily.V4 : IpFamily.V6;
            int port = 1 + Math.floorMod(seed * 7 + i, 60000);
            rules.add(new SgRule(g + "/r" + seed % 5 + "-" + i, Direction.INGRESS, f, 6, port, port, -1, -1, null, null));
        }
        rules.add(SgRule.any(g + "/out", Direction.EGRESS, IpFamily.V4, 17));
        return new SecurityGroup(g, rules);
    }

    private static FirewallConfig config(Map<String, SecurityGroup> groups, Map<String, Boolean> cut, List<List<String>> member) {
        List<FirewallConfig.VmPort> vms = new ArrayList<>();
        for (int v = 0; v < 3; v++) {
            vms.add(new FirewallConfig.VmPort(v, "vm" + v, List.of(IpPrefix.parse("10.0.0." + (v + 1) + "/32")), member.get(v), 1));
        }
        return new FirewallConfig(Map.copyOf(groups), Map.copyOf(cut), vms, PlatformLayer.defaults(), 1024, 1024, 64, 1000, true, null);
    }
}
