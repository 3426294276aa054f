package io.sluice.rules.sg;

import io.sluice.rules.model.CloudConfig;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.PlatformLayer;
import io.sluice.rules.model.Protocols;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.SgRule;
import io.sluice.rules.model.VmInterface;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** At 10K rules, one changed rule or one changed member rebuilds one partition of one list. */
class IncrementalScaleTest {
    /** One interface with 10,000 tenant rules: 9,999 CIDR rules and one remote-group rule over a 2,000-member group. */
    static CloudConfig big(int members) {
        List<SgRule> rules = new ArrayList<>();
        for (int i = 0; i < 9_999; i++) {
            int net = 0x0A000000 | (i << 8);
            rules.add(new SgRule("web/r" + i, Direction.INGRESS, IpFamily.V4, Protocols.TCP, 1 + i % 1000, 1 + i % 1000, -1, -1,
                    new IpPrefix(IpFamily.V4, 0, Integer.toUnsignedLong(net), 24), null));
        }
        rules.add(new SgRule("web/peers", Direction.INGRESS, IpFamily.V4, Protocols.ANY, 0, 0, -1, -1, null, "peers"));
        Map<String, VmInterface> vms = new HashMap<>();
        vms.put("vm", new VmInterface("vm", List.of(IpPrefix.v4Host(0xC0A80001)), List.of("web")));
        for (int m = 0; m < members; m++) {
            vms.put("p" + m, new VmInterface("p" + m, List.of(IpPrefix.v4Host(0xAC100000 + m)), List.of("peers")));
        }
        return new CloudConfig(Map.of("web", new SecurityGroup("web", rules), "peers", new SecurityGroup("peers", List.of())), vms, PlatformLayer.defaults());
    }

    @Test
    void oneRuleOrOneMemberRebuildsOnlyItsPartition() {
        CloudConfig cfg = big(2_000);
        SecurityGroupCompiler sgc = new SecurityGroupCompiler();
        sgc.apply(cfg);
        SecurityGroupTable t0 = sgc.slot("vm").get();
        assertEquals(11_999, t0.classifier(Direction.INGRESS, IpFamily.V4).size(), "9,999 CIDR rules + 2,000 expanded members");

        // change one rule's port
        List<SgRule> rules = new ArrayList<>(cfg.groups().get("web").rules());
        SgRule r = rules.get(5000);
        rules.set(5000, new SgRule(r.id(), r.direction(), r.family(), r.protocol(), 8080, 8080, -1, -1, r.remoteCidr(), null));
        CloudConfig cfg2 = cfg.withGroup(new SecurityGroup("web", rules));
        long t = System.nanoTime();
        sgc.apply(cfg2);
        long ruleNs = System.nanoTime() - t;
        assertEquals(1, sgc.lastRebuiltPartitions(), "one partition rebuilt");
        assertTrue(sgc.lastUnchangedLists() >= 3 + 4 * 2_000, "other lists untouched");
        int d = sgc.slot("vm").get().lookupV4(Direction.INGRESS, Protocols.TCP, 0x0A138801, 0xC0A80001, 1, 8080);
        assertEquals("web/r5000", sgc.slot("vm").get().ruleId(Direction.INGRESS, IpFamily.V4, d));

        // add one member to the remote group
        CloudConfig cfg3 = cfg2.withInterface(new VmInterface("p-new", List.of(IpPrefix.v4Host(0xAC10FFFF)), List.of("peers")));
        t = System.nanoTime();
        sgc.apply(cfg3);
        long memberNs = System.nanoTime() - t;
        assertEquals(1 + 2, sgc.lastRebuiltPartitions(), "vm's ingress v4 list rebuilds one partition; the new p-new compiles its two platform-egress lists");
        assertTrue(SecurityGroupTable.allowed(sgc.slot("vm").get().lookupV4(Direction.INGRESS, Protocols.UDP, 0xAC10FFFF, 0xC0A80001, 1, 53)));
        System.out.printf("10K-rule interface: one-rule update %.1f ms, one-member update %.1f ms (whole apply over %d interfaces)%n",
                ruleNs / 1e6, memberNs / 1e6, cfg3.interfaces().size());
    }
}
