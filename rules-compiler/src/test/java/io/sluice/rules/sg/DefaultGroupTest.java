package io.sluice.rules.sg;

import io.sluice.rules.model.CloudConfig;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.PlatformLayer;
import io.sluice.rules.model.Protocols;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.VmInterface;
import io.sluice.rules.table.TableSlot;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The default group and the platform layer behave as the issue specifies. */
class DefaultGroupTest {
    static final int A = 0x0A000001, B = 0x0A000002, OUTSIDE = 0xC6336401;

    static CloudConfig cloud(PlatformLayer pl) {
        return new CloudConfig(Map.of("default", SecurityGroup.defaultGroup("default"), "other", new SecurityGroup("other", List.of())),
                Map.of("a", new VmInterface("a", List.of(IpPrefix.v4Host(A), IpPrefix.parse("2001:db8::a/128")), List.of("default")),
                        "b", new VmInterface("b", List.of(IpPrefix.v4Host(B)), List.of("default")),
                        "c", new VmInterface("c", List.of(IpPrefix.v4Host(0x0A000003)), List.of("other"))),
                pl);
    }

    @Test
    void defaultGroupAndPlatformLayer() {
        SecurityGroupTable t = new SecurityGroupCompiler().compileFromScratch(cloud(PlatformLayer.defaults()), "a");
        // inbound: SSH from anywhere, everything from the same default group, nothing else
        assertTrue(SecurityGroupTable.allowed(t.lookupV4(Direction.INGRESS, Protocols.TCP, OUTSIDE, A, 40000, 22)));
        assertEquals("default/ssh-v4", t.ruleId(Direction.INGRESS, IpFamily.V4, t.lookupV4(Direction.INGRESS, Protocols.TCP, OUTSIDE, A, 40000, 22)));
        assertFalse(SecurityGroupTable.allowed(t.lookupV4(Direction.INGRESS, Protocols.TCP, OUTSIDE, A, 40000, 80)));
        assertEquals(SecurityGroupTable.DEFAULT_DENY, t.lookupV4(Direction.INGRESS, Protocols.UDP, OUTSIDE, A, 1, 53));
        int fromB = t.lookupV4(Direction.INGRESS, Protocols.UDP, B, A, 1, 53);
        assertTrue(SecurityGroupTable.allowed(fromB));
        assertEquals("default/self", t.ruleId(Direction.INGRESS, IpFamily.V4, fromB));
        assertFalse(SecurityGroupTable.allowed(t.lookupV4(Direction.INGRESS, Protocols.UDP, 0x0A000003, A, 1, 53)), "c is not in default");
        assertTrue(SecurityGroupTable.allowed(t.lookupV6(Direction.INGRESS, Protocols.TCP, 0x2a00L << 48, 1, 0x20010db800000000L, 0xa, 1, 22)));
        // outbound: all, except TCP 25 (platform); 465 and 587 stay open; UDP 25 is not TCP
        assertTrue(SecurityGroupTable.allowed(t.lookupV4(Direction.EGRESS, Protocols.TCP, A, OUTSIDE, 40000, 443)));
        int smtp = t.lookupV4(Direction.EGRESS, Protocols.TCP, A, OUTSIDE, 40000, 25);
        assertFalse(SecurityGroupTable.allowed(smtp));
        assertEquals("platform/smtp-25", t.ruleId(Direction.EGRESS, IpFamily.V4, smtp));
        assertFalse(SecurityGroupTable.allowed(t.lookupV6(Direction.EGRESS, Protocols.TCP, 0x20010db800000000L, 0xa, 0x2a00L << 48, 1, 4000, 25)));
        assertTrue(SecurityGroupTable.allowed(t.lookupV4(Direction.EGRESS, Protocols.TCP, A, OUTSIDE, 40000, 465)));
        assertTrue(SecurityGroupTable.allowed(t.lookupV4(Direction.EGRESS, Protocols.TCP, A, OUTSIDE, 40000, 587)));
        assertTrue(SecurityGroupTable.allowed(t.lookupV4(Direction.EGRESS, Protocols.UDP, A, OUTSIDE, 40000, 25)));
    }

    @Test
    void perVmExceptionAndPublishBySwap() {
        CloudConfig cfg = cloud(PlatformLayer.defaults());
        SecurityGroupCompiler sgc = new SecurityGroupCompiler();
        sgc.apply(cfg);
        TableSlot<SecurityGroupTable> slot = sgc.slot("a");
        SecurityGroupTable before = slot.get();
        assertFalse(SecurityGroupTable.allowed(before.lookupV4(Direction.EGRESS, Protocols.TCP, A, OUTSIDE, 1, 25)));
        SecurityGroupTable bBefore = sgc.slot("b").get();
        sgc.apply(new CloudConfig(cfg.groups(), cfg.interfaces(), cfg.platform().withExemption("platform/smtp-25", "a")));
        SecurityGroupTable after = slot.get();
        assertNotSame(before, after);
        assertTrue(SecurityGroupTable.allowed(after.lookupV4(Direction.EGRESS, Protocols.TCP, A, OUTSIDE, 1, 25)));
        assertFalse(SecurityGroupTable.allowed(before.lookupV4(Direction.EGRESS, Protocols.TCP, A, OUTSIDE, 1, 25)), "old table unchanged");
        assertSame(bBefore, sgc.slot("b").get(), "b's rules did not change: not republished");
    }
}
