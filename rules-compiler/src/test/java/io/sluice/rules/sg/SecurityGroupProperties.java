package io.sluice.rules.sg;

import io.sluice.rules.model.CloudConfig;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.PlatformLayer;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.VmInterface;
import io.sluice.rules.reference.ReferenceSecurityGroups;
import io.sluice.rules.reference.ReferenceSecurityGroups.Decision;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

import java.util.ArrayList;
import java.util.List;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.Generate.intArrays;
import static org.quicktheories.generators.SourceDSL.integers;

/**
 * Security-group tables (platform denies + allow-union over groups, remote groups expanded,
 * mixed families, any-protocol rules) agree with the model-level oracle; incremental updates
 * give exactly the table a compile from scratch gives.
 */
class SecurityGroupProperties {
    static final int TRIES = 10_000;

    private static Gen<int[]> codes(int max) {
        return intArrays(integers().between(0, max), integers().between(0, 1 << 20));
    }

    static String mismatch(CloudConfig cfg, SecurityGroupTable t, String iface, int[] pc) {
        for (int i = 0; i < 24; i++) {
            IpFamily f = i % 2 == 0 ? IpFamily.V4 : IpFamily.V6;
            Direction dir = (i / 2) % 2 == 0 ? Direction.INGRESS : Direction.EGRESS;
            long[] p = SgGen.packet(pc, i * 5, f);
            int proto = (int) p[2], sport = (int) p[3], dport = (int) p[4];
            Decision want = ReferenceSecurityGroups.evaluate(cfg, iface, dir, f, proto, p[0], p[1], sport, dport);
            int d;
            if (f == IpFamily.V4) {
                int remote = (int) p[1], local = 0x0A0000FE;
                d = dir == Direction.INGRESS ? t.lookupV4(dir, proto, remote, local, sport, dport) : t.lookupV4(dir, proto, local, remote, sport, dport);
            } else {
                long lh = 0x20010db800000000L, ll = 0xFEL;
                d = dir == Direction.INGRESS ? t.lookupV6(dir, proto, p[0], p[1], lh, ll, sport, dport) : t.lookupV6(dir, proto, lh, ll, p[0], p[1], sport, dport);
            }
            boolean allowed = SecurityGroupTable.allowed(d);
            String id = t.ruleId(dir, f, d);
            if (allowed != want.allowed() || !java.util.Objects.equals(id, want.ruleId())) {
                return iface + " " + dir + " " + f + " remote=" + Long.toHexString(p[0]) + ":" + Long.toHexString(p[1]) + " proto=" + proto
                        + " sport=" + sport + " dport=" + dport + ": oracle " + want + ", table " + allowed + "/" + id;
            }
        }
        return null;
    }

    @Test
    void compiledTablesEqualTheModelOracle() {
        SecurityGroupCompiler sgc = new SecurityGroupCompiler();
        qt().withExamples(TRIES).forAll(codes(80), codes(40)).checkAssert((cc, pc) -> {
            CloudConfig cfg = SgGen.config(cc);
            for (String iface : cfg.interfaces().keySet()) {
                String m = mismatch(cfg, sgc.compileFromScratch(cfg, iface), iface, pc);
                if (m != null) throw new AssertionError(m + "\nconfig: " + cfg);
            }
        });
    }

    /** Random update sequences through the incremental compiler end in the from-scratch tables. */
    @Test
    void incrementalUpdatesEqualRebuildFromScratch() {
        qt().withExamples(TRIES).forAll(codes(60), codes(30), codes(20)).checkAssert((cc, uc, pc) -> {
            SecurityGroupCompiler inc = new SecurityGroupCompiler();
            CloudConfig cfg = SgGen.config(cc);
            inc.apply(cfg);
            for (int u = 0; u + 2 < uc.length; u += 3) {
                cfg = mutate(cfg, uc[u], uc[u + 1], uc[u + 2]);
                inc.apply(cfg);
            }
            assertEqualsScratch(inc, cfg, pc, "");
        });
    }

    /** Every interface's published table: the same trees as a compile from scratch (no overlay left) and the oracle's answers. */
    private static void assertEqualsScratch(SecurityGroupCompiler inc, CloudConfig cfg, int[] pc, String what) {
        SecurityGroupCompiler scratch = new SecurityGroupCompiler();
        for (String iface : cfg.interfaces().keySet()) {
            SecurityGroupTable a = inc.slot(iface).get();
            SecurityGroupTable b = scratch.compileFromScratch(cfg, iface);
            for (Direction d : Direction.values()) {
                for (IpFamily f : IpFamily.values()) {
                    if (a.classifier(d, f).overlay() != null) throw new AssertionError(what + iface + " " + d + " " + f + ": still an overlay");
                    if (!a.classifier(d, f).sameTrees(b.classifier(d, f))) throw new AssertionError(what + iface + " " + d + " " + f + " differs from scratch");
                }
            }
            String m = mismatch(cfg, a, iface, pc);
            if (m != null) throw new AssertionError(what + m);
        }
    }

    /**
     * The same sequences with every list's trees updated on a folder thread after the change took
     * effect: after every apply the published tables answer as the oracle (through overlays, or the
     * plain trees when the folder was quicker); settled and refreshed, the same trees as scratch.
     */
    @Test
    void deferredUpdatesAnswerAsTheOracleAtEveryStepAndSettleToScratch() {
        java.util.concurrent.ExecutorService folder = io.sluice.rules.compile.DeferredClassifier.folderThread("sg-test-fold");
        int[] overlays = new int[1];
        try {
            qt().withExamples(TRIES / 5).forAll(codes(60), codes(30), codes(20)).checkAssert((cc, uc, pc) -> {
                SecurityGroupCompiler inc = new SecurityGroupCompiler(new io.sluice.rules.compile.CutTreeCompiler(), folder, null, 0);
                CloudConfig cfg = SgGen.config(cc);
                inc.apply(cfg);
                for (int u = 0; u + 2 < uc.length; u += 3) {
                    cfg = mutate(cfg, uc[u], uc[u + 1], uc[u + 2]);
                    inc.apply(cfg);
                    for (String iface : cfg.interfaces().keySet()) {
                        SecurityGroupTable t = inc.slot(iface).get();
                        for (Direction d : Direction.values()) for (IpFamily f : IpFamily.values()) if (t.classifier(d, f).overlay() != null) overlays[0]++;
                        String m = mismatch(cfg, t, iface, pc);
                        if (m != null) throw new AssertionError("after update " + u / 3 + ": " + m);
                    }
                }
                inc.settle();
                inc.refresh();
                assertEqualsScratch(inc, cfg, pc, "settled and refreshed: ");
            });
        } finally {
            folder.shutdownNow();
        }
        if (overlays[0] == 0) throw new AssertionError("no table was ever checked through an overlay: the property saw plain trees only");
    }

    /** One update: add/remove a rule, add/remove a member, or toggle a platform exemption. */
    static CloudConfig mutate(CloudConfig cfg, int kind, int a, int b) {
        int k = Math.floorMod(kind, 5);
        String g = "g" + (1 + Math.floorMod(a, 2));
        String vm = "vm" + Math.floorMod(b, 4);
        switch (k) {
            case 0 -> { // add a rule
                try {
                    SecurityGroup old = cfg.groups().get(g);
                    List<io.sluice.rules.model.SgRule> rules = new ArrayList<>(old.rules());
                    int at = Math.floorMod(b, rules.size() + 1);
                    rules.add(at, SgGen.rule(g + "/u" + Math.floorMod(a * 31 + b, 1 << 20), new int[] {a, b, a ^ b, a + b}, 0, 3));
                    return cfg.withGroup(new SecurityGroup(g, rules));
                } catch (IllegalArgumentException e) {
                    return cfg;
                }
            }
            case 1 -> { // remove a rule
                SecurityGroup old = cfg.groups().get(g);
                if (old.rules().isEmpty()) return cfg;
                List<io.sluice.rules.model.SgRule> rules = new ArrayList<>(old.rules());
                rules.remove(Math.floorMod(b, rules.size()));
                return cfg.withGroup(new SecurityGroup(g, rules));
            }
            case 2 -> { // toggle membership of a group (adds/removes member addresses)
                VmInterface v = cfg.interfaces().get(vm);
                String grp = "g" + Math.floorMod(a, 3);
                List<String> gl = new ArrayList<>(v.groups());
                if (!gl.remove(grp)) gl.add(grp);
                return cfg.withInterface(new VmInterface(vm, v.addresses(), gl));
            }
            case 3 -> { // change an address
                VmInterface v = cfg.interfaces().get(vm);
                List<IpPrefix> addrs = new ArrayList<>(v.addresses());
                addrs.set(0, IpPrefix.parse(SgGen.V4_HOSTS[Math.floorMod(a, SgGen.V4_HOSTS.length)]));
                return cfg.withInterface(new VmInterface(vm, addrs, v.groups()));
            }
            default -> {
                PlatformLayer pl = cfg.platform().exemptions().isEmpty() ? cfg.platform().withExemption("platform/smtp-25", vm) : PlatformLayer.defaults();
                return new CloudConfig(cfg.groups(), cfg.interfaces(), pl);
            }
        }
    }
}
