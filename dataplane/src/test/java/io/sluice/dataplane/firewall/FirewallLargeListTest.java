package io.sluice.dataplane.firewall;

import io.sluice.dataplane.config.FirewallConfig;
import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.PlatformLayer;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.SgRule;
import io.sluice.rules.sg.EffectiveRules;
import io.sluice.rules.sg.SecurityGroupCompiler;
import io.sluice.rules.sg.SecurityGroupTable;
import io.sluice.rules.table.Classifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A VM port with a large rule list ({@link SecurityGroupCompiler#DEFER_FROM} rules or more): a
 * one-rule change takes effect in the snapshot {@link FirewallState#apply} publishes, before the
 * list's trees are updated; the refresh thread then publishes the updated trees with the same
 * epoch, and they are the compile from scratch.
 */
@Timeout(120)
class FirewallLargeListTest {
    private static final int RULES = SecurityGroupCompiler.DEFER_FROM + 500;

    private static int src(int i) { return 0x0A000000 | (i << 8) | 7; } // 10.(i >> 8).(i & 255).7

    private static FirewallConfig config(int changed, int newPort) {
        List<SgRule> rules = new ArrayList<>();
        for (int i = 0; i < RULES; i++) {
            int port = i == changed ? newPort : 1000 + i;
            IpPrefix from = IpPrefix.parse("10." + (i >> 8) + "." + (i & 255) + ".0/24");
            rules.add(new SgRule("big/r" + i, Direction.INGRESS, IpFamily.V4, 6, port, port, -1, -1, from, null));
        }
        SecurityGroup big = new SecurityGroup("big", rules);
        List<FirewallConfig.VmPort> vms = List.of(new FirewallConfig.VmPort(0, "vm0", List.of(IpPrefix.parse("192.168.0.5/32")), List.of("big"), 1));
        return new FirewallConfig(Map.of("big", big), Map.of("big", false), vms, PlatformLayer.defaults(), 1024, 1024, 64, 1000, true, null);
    }

    private static int decide(FirewallState fw, int i, int port) {
        return fw.current().table(0).lookupV4(Direction.INGRESS, 6, src(i), 0xC0A80005, 40000, port);
    }

    @Test
    void aOneRuleChangeTakesEffectBeforeTheTreesAndTheUpdatedTreesFollowWithTheSameEpoch() throws Exception {
        FirewallState fw = new FirewallState(1, config(-1, 0));
        assertTrue(SecurityGroupTable.allowed(decide(fw, 700, 1700)), "rule 700 allows its port");

        fw.apply(config(700, 5000));
        assertEquals(1, fw.lastDeferredLists(), "the large list's trees are updated after the change took effect");
        int epoch = fw.current().epoch();
        assertTrue(SecurityGroupTable.allowed(decide(fw, 700, 5000)), "in effect when apply returns: the new port");
        assertFalse(SecurityGroupTable.allowed(decide(fw, 700, 1700)), "in effect when apply returns: not the old port");
        assertTrue(SecurityGroupTable.allowed(decide(fw, 701, 1701)), "the other rules unchanged");

        // the refresh thread publishes the updated trees on its own
        long until = System.nanoTime() + 60_000_000_000L;
        while (fw.current().table(0).classifier(Direction.INGRESS, IpFamily.V4).overlay() != null && System.nanoTime() < until) Thread.sleep(5);
        Classifier c = fw.current().table(0).classifier(Direction.INGRESS, IpFamily.V4);
        assertNull(c.overlay(), "the refresh thread published the updated trees");
        assertEquals(epoch, fw.current().epoch(), "same rules, same epoch: no connection is re-checked");
        assertTrue(SecurityGroupTable.allowed(decide(fw, 700, 5000)));
        assertFalse(SecurityGroupTable.allowed(decide(fw, 700, 1700)));
        Classifier scratch = new CutTreeCompiler().compile(EffectiveRules.of(config(700, 5000).cloud(), "vm0", Direction.INGRESS, IpFamily.V4).rules());
        assertTrue(c.sameTrees(scratch), "the updated trees are the compile from scratch");

        // several changes in a row, then settled explicitly
        for (int k = 0; k < 5; k++) {
            fw.apply(config(100 + k, 6000 + k));
            assertTrue(SecurityGroupTable.allowed(decide(fw, 100 + k, 6000 + k)), "change " + k + " in effect");
            assertFalse(SecurityGroupTable.allowed(decide(fw, 700, 5000)), "change " + k + ": the earlier change undone (rule 700 back to 1700)");
            assertTrue(SecurityGroupTable.allowed(decide(fw, 700, 1700)), "change " + k + ": rule 700 back at its port");
        }
        fw.settleTables();
        c = fw.current().table(0).classifier(Direction.INGRESS, IpFamily.V4);
        assertNull(c.overlay(), "settled: plain trees");
        assertTrue(c.sameTrees(new CutTreeCompiler().compile(EffectiveRules.of(config(104, 6004).cloud(), "vm0", Direction.INGRESS, IpFamily.V4).rules())));
        assertTrue(SecurityGroupTable.allowed(decide(fw, 104, 6004)));
        assertFalse(SecurityGroupTable.allowed(decide(fw, 103, 6003)), "only the last change holds");
    }
}
