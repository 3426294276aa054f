package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.dataplane.config.OverlayModel;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Floating IPs and the VM firewall on the desired state, without a data plane (NAT's test host:
 * web holds 203.0.113.10 in the file, job is outbound-only, vault private, pool .10-.11): allocation
 * order and the journaled address, associate / reassign / detach / release as public access, the
 * refusals (400 naming the field, 404, 409) changing nothing, and the VM's own group kept apart
 * from its security groups.
 */
class FloatingIpModelTest {
    static final int FIP = (int) FloatingIps.parse("203.0.113.10"), FIP2 = (int) FloatingIps.parse("203.0.113.11");

    static JsonNode json(String s) throws ApiException {
        return GroupCodec.parse(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    static DesiredState.Change put(String ip, String body) throws ApiException {
        return new DesiredState.Change(FloatingIps.PUT, "blue", ip, json(body));
    }

    static OverlayModel.Vm vm(DesiredState s, String name) {
        return s.overlay().networks().get(0).vms().stream().filter(v -> v.name().equals(name)).findFirst().orElseThrow();
    }

    static ApiException refused(DesiredState s, DesiredState.Change c, int status) {
        ApiException e = assertThrows(ApiException.class, () -> s.apply(s.resolve(c)));
        assertEquals(status, e.status(), e.getMessage());
        return e;
    }

    @Test
    void allocateAssociateReassignDetachRelease() throws Exception {
        DesiredState s = ControlFixtures.natState();
        assertEquals("blue", s.floating().get(FIP), "the file's floating IP is its VM's project's");
        // allocation: the journaled change names the address
        DesiredState.Change a = s.resolve(new DesiredState.Change(FloatingIps.ALLOCATE, "blue", "", null));
        assertEquals("203.0.113.11", a.name());
        assertEquals("203.0.113.11", a.body().path("ip").asText());
        DesiredState s1 = s.apply(a);
        assertEquals("blue", s1.floating().get(FIP2));
        assertNull(s.floating().get(FIP2), "never changed in place");
        assertSame(s.firewall(), s1.firewall(), "a floating-IP change leaves the firewall alone");
        assertEquals("the floating-IP pool is exhausted (2 address(es), all allocated)",
                refused(s1, new DesiredState.Change(FloatingIps.ALLOCATE, "blue", "", null), 409).getMessage());

        // reassign .10 from web to job: web becomes outbound-only
        assertEquals("floating_ip.reassign", FloatingIps.putAction(s1, "blue", FloatingIps.parse("203.0.113.10"), "job"));
        DesiredState s2 = s1.apply(put("203.0.113.10", "{\"vm\":\"job\"}"));
        assertEquals(OverlayModel.Access.FLOATING, vm(s2, "job").access());
        assertEquals(FIP, vm(s2, "job").floatingIp());
        assertEquals(OverlayModel.Access.OUTBOUND, vm(s2, "web").access());
        // associate .11 with job: job moves to .11, .10 stays blue's, held by nobody
        assertEquals("floating_ip.associate", FloatingIps.putAction(s2, "blue", FloatingIps.parse("203.0.113.11"), "job"));
        DesiredState s3 = s2.apply(put("203.0.113.11", "{\"vm\":\"job\"}"));
        assertEquals(FIP2, vm(s3, "job").floatingIp());
        assertNull(FloatingIps.holder(s3, "blue", FIP));
        assertEquals("blue", s3.floating().get(FIP));
        // detach: outbound-only
        assertEquals("floating_ip.detach", FloatingIps.putAction(s3, "blue", FloatingIps.parse("203.0.113.11"), null));
        DesiredState s4 = s3.apply(put("203.0.113.11", "{\"vm\":null}"));
        assertEquals(OverlayModel.Access.OUTBOUND, vm(s4, "job").access());
        assertTrue(FloatingIps.encode(s4, "blue", FIP2).path("vm").isNull());
        // release: back to the pool, its holder outbound-only
        DesiredState s5 = s2.apply(new DesiredState.Change(FloatingIps.RELEASE, "blue", "203.0.113.10", null));
        assertNull(s5.floating().get(FIP));
        assertEquals(OverlayModel.Access.OUTBOUND, vm(s5, "job").access());
        assertEquals(java.util.List.of(FIP2), FloatingIps.of(s5, "blue"));
        // a PUT of a free pool address allocates it to the project
        DesiredState s6 = s5.apply(put("203.0.113.10", "{\"vm\":\"vault\"}"));
        assertEquals("blue", s6.floating().get(FIP));
        assertEquals(OverlayModel.Access.FLOATING, vm(s6, "vault").access());
    }

    @Test
    void refusalsNameTheFieldAndChangeNothing() throws Exception {
        DesiredState s = ControlFixtures.natState();
        assertEquals("vm: no VM 'nosuch' in project blue", refused(s, put("203.0.113.10", "{\"vm\":\"nosuch\"}"), 400).getMessage());
        assertEquals("vm: missing (a VM of the project, or null to detach)", refused(s, put("203.0.113.10", "{}"), 400).getMessage());
        assertTrue(refused(s, put("203.0.113.10", "{\"vm\":1}"), 400).getMessage().startsWith("vm: "));
        assertTrue(refused(s, put("203.0.113.10", "{\"vm\":\"web\",\"port\":1}"), 400).getMessage().startsWith("port: unknown field"));
        assertEquals("ip: '10.0.0.300' is not an IPv4 address",
                refused(s, new DesiredState.Change(FloatingIps.ALLOCATE, "blue", "", json("{\"ip\":\"10.0.0.300\"}")), 400).getMessage());
        assertEquals("ip: 198.51.100.1 is not in the floating-IP pool (overlay.external.floating-ips)",
                refused(s, new DesiredState.Change(FloatingIps.ALLOCATE, "blue", "", json("{\"ip\":\"198.51.100.1\"}")), 400).getMessage());
        assertEquals("floating IP 203.0.113.10 is already allocated",
                refused(s, new DesiredState.Change(FloatingIps.ALLOCATE, "blue", "", json("{\"ip\":\"203.0.113.10\"}")), 409).getMessage());
        assertEquals("no floating IP '203.0.113.11' in project blue",
                refused(s, new DesiredState.Change(FloatingIps.RELEASE, "blue", "203.0.113.11", null), 404).getMessage());
        assertEquals("no floating IP '1.2.3.4' in the pool", refused(s, put("1.2.3.4", "{\"vm\":\"web\"}"), 404).getMessage());
        assertEquals("no floating IP 'x' in the pool", refused(s, put("x", "{\"vm\":\"web\"}"), 404).getMessage());
        // the overlay's own check: public access needs a VM on this host
        DesiredState cf = ControlFixtures.state();
        assertEquals("no floating-IP pool on this host (overlay.external.floating-ips)",
                refused(cf, new DesiredState.Change(FloatingIps.ALLOCATE, "blue", "", null), 409).getMessage());
    }

    @Test
    void vmFirewallIsTheVmsOwnGroupBesideItsSecurityGroups() throws Exception {
        DesiredState s = ControlFixtures.state();
        java.util.List<String> groups = s.vmGroups("blue", "db");
        String doc = "{\"description\":\"db only\",\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":5432,\"source_group\":\"web\"}]}";
        DesiredState s1 = s.apply(new DesiredState.Change(VmFirewall.PUT, "blue", "db", json(doc)));
        assertEquals(groups, s1.vmGroups("blue", "db"), "its security groups unchanged");
        assertTrue(s1.firewall().groups().containsKey("blue:@db"));
        assertTrue(s1.firewall().vmPorts().stream().anyMatch(v -> v.name().equals("blue/db") && v.groups().contains("blue:@db")));
        assertEquals(s.groups("blue"), s1.groups("blue"), "not listed as a security group");
        assertNull(s1.group("blue", "@db"));
        JsonNode got = VmFirewall.encode(s1, "blue", "db");
        assertEquals("db only", got.path("description").asText());
        assertEquals("web", got.path("inbound_rules").get(0).path("source_group").asText());
        // a membership PUT keeps the VM's own rules
        DesiredState s2 = s1.apply(new DesiredState.Change(DesiredState.PUT_MEMBERSHIP, "blue", "db", json("{\"groups\":[\"default\"]}")));
        assertTrue(s2.firewall().vmPorts().stream().anyMatch(v -> v.name().equals("blue/db") && v.groups().contains("blue:@db")));
        // the group cannot be deleted as a security group; an empty PUT removes it
        assertEquals(404, assertThrows(ApiException.class, () -> s1.apply(new DesiredState.Change(DesiredState.DELETE_GROUP, "blue", "@db", null))).status());
        DesiredState s3 = s1.apply(new DesiredState.Change(VmFirewall.PUT, "blue", "db", json("{}")));
        assertEquals(s.firewall(), s3.firewall(), "back to the start");
        assertEquals(0, VmFirewall.encode(s3, "blue", "db").path("inbound_rules").size());
        // refusals
        assertEquals("inbound_rules[0].source_group: no group 'nosuch' in project blue (groups: [default, web])",
                assertThrows(ApiException.class, () -> s.apply(new DesiredState.Change(VmFirewall.PUT, "blue", "db",
                        json("{\"inbound_rules\":[{\"source_group\":\"nosuch\"}]}")))).getMessage());
        assertEquals(404, assertThrows(ApiException.class, () -> s.apply(new DesiredState.Change(VmFirewall.PUT, "blue", "nosuch", json("{}")))).status());
    }
}
