package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.config.OverlayModelException;
import io.sluice.dataplane.config.OverlayConfigLoader;
import io.sluice.dataplane.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class OverlayModelTest {
    private static final Map<String, Integer> PORTS = Map.of("up0", 0, "vm1", 1, "vm2", 2, "vm3", 3);

    private static final String GOOD = """
            overlay:
              uplink: up0
              underlay-ip: 192.168.50.1/24
              underlay-mac: "02:00:00:00:aa:01"
              router-mac: "02:00:00:00:ff:01"
              networks:
                - name: blue
                  vni: 100
                  cidr: 10.0.0.0/16
                  subnets:
                    - {name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1, cidr6: "fd00:1:1::/64", gateway6: "fd00:1:1::1"}
                    - {name: b, cidr: 10.0.2.0/24, gateway: 10.0.2.1}
                  vms:
                    - {name: v1, subnet: a, mac: "02:00:00:00:01:01", ip: 10.0.1.10, ip6: "fd00:1:1::10", port: vm1}
                    - {name: v2, subnet: b, mac: "02:00:00:00:01:02", ip: 10.0.2.10, port: vm2}
                    - {name: v3, subnet: a, mac: "02:00:00:00:01:03", ip: 10.0.1.11, vtep: 192.168.50.2}
                - name: red
                  vni: 200
                  cidr: 10.0.0.0/16
                  subnets:
                    - {name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1}
                  vms:
                    - {name: v1, subnet: a, mac: "02:00:00:00:01:01", ip: 10.0.1.10, port: vm3}
            """;

    @Test
    void goodModelParsesAndCompiles() throws Exception {
        OverlayModel m = OverlayConfigLoader.parseText("t.yaml", GOOD, PORTS);
        assertEquals(2, m.networks().size());
        assertEquals(1500, m.host().underlayMtu());
        assertEquals(-1, m.host().nextHopMac());
        OverlaySnapshot s = OverlaySnapshot.compile(m);
        assertEquals(1, s.zoneOfVni(100));
        assertEquals(2, s.zoneOfVni(200));
        assertEquals(0, s.zoneOfVni(300));
        // same MAC and IP in both networks (different networks may reuse them), different VMs
        int blue = s.vmByIp4(1, Fixtures.ip("10.0.1.10"));
        int red = s.vmByIp4(2, Fixtures.ip("10.0.1.10"));
        assertTrue(blue >= 0 && red >= 0 && blue != red);
        assertEquals(blue, s.vmByMac(1, Fixtures.mac("02:00:00:00:01:01")));
        assertEquals(red, s.vmByMac(2, Fixtures.mac("02:00:00:00:01:01")));
        assertEquals(blue, s.vmOfPort(1));
        assertEquals(red, s.vmOfPort(3));
        assertEquals(-1, s.vmOfPort(0));
        assertEquals(-1, s.vmOfPort(99));
        assertTrue(s.vtepAllowed(1, Fixtures.ip("192.168.50.2")));
        assertFalse(s.vtepAllowed(2, Fixtures.ip("192.168.50.2")));
        assertEquals(0, s.gatewayByIp4(1, Fixtures.ip("10.0.1.1")));
        assertEquals(blue, s.vmByIp6(1, OverlayModel.Ip6.parse("fd00:1:1::10").hi(), OverlayModel.Ip6.parse("fd00:1:1::10").lo()));
    }

    /** Each row: text to replace, replacement, expected "line: path: reason" fragment. */
    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> badRows() {
        String[][] rows = {
            {"cidr: 10.0.2.0/24, gateway: 10.0.2.1", "cidr: 10.1.2.0/24, gateway: 10.1.2.1", "t.yaml:12: overlay.networks[0].subnets[1].cidr: 10.1.2.0/24 is outside network 10.0.0.0/16"},
            {"cidr: 10.0.2.0/24, gateway: 10.0.2.1", "cidr: 10.0.0.0/22, gateway: 10.0.2.1", "t.yaml:12: overlay.networks[0].subnets[1].cidr: 10.0.0.0/22 overlaps subnet 'a' 10.0.1.0/24"},
            {"gateway: 10.0.2.1", "gateway: 10.0.3.1", "t.yaml:12: overlay.networks[0].subnets[1].gateway: gateway 10.0.3.1 is outside subnet 10.0.2.0/24"},
            {"vni: 200", "vni: 100", "t.yaml:18: overlay.networks[1].vni: VNI 100 is already used by network 'blue'"},
            {"ip: 10.0.2.10", "ip: 10.0.1.10", "t.yaml:15: overlay.networks[0].vms[1].ip: address 10.0.1.10 is outside subnet 10.0.2.0/24"},
            {"mac: \"02:00:00:00:01:02\"", "mac: \"02:00:00:00:01:01\"", "t.yaml:15: overlay.networks[0].vms[1].mac: duplicate MAC 02:00:00:00:01:01 in network 'blue' (VM 'v1')"},
            {"ip: 10.0.1.11", "ip: 10.0.1.10", "t.yaml:16: overlay.networks[0].vms[2].ip: duplicate IP 10.0.1.10 in network 'blue' (VM 'v1')"},
            {"ip: 10.0.1.11", "ip: 10.0.1.1", "t.yaml:16: overlay.networks[0].vms[2].ip: 10.0.1.1 is the gateway of subnet 'a'"},
            {"port: vm3", "port: vm1", "t.yaml:23: overlay.networks[1].vms[0].port: port 1 already belongs to VM blue/v1"},
            {"port: vm3", "port: up0", "t.yaml:23: overlay.networks[1].vms[0].port: port 0 is the uplink"},
            {"port: vm3", "port: nope", "t.yaml:23: overlay.networks[1].vms[0].port: no port named 'nope'"},
            {"subnet: b", "subnet: c", "t.yaml:15: overlay.networks[0].vms[1].subnet: no subnet 'c' in network 'blue'"},
            {"vni: 100\n      cidr: 10.0.0.0/16", "vni: 100\n      cidr: 10.0.0.1/16", "t.yaml:9: overlay.networks[0].cidr: 10.0.0.1/16 has host bits set (network is 10.0.0.0/16)"},
            {"ip6: \"fd00:1:1::10\"", "ip6: \"fd00:9::10\"", "t.yaml:14: overlay.networks[0].vms[0].ip6: fd00:9:0:0:0:0:0:10 is outside subnet"},
            {"vtep: 192.168.50.2", "vtep: 192.168.50.1", "t.yaml:16: overlay.networks[0].vms[2].vtep: 192.168.50.1 is this host's own underlay address"},
            {"vtep: 192.168.50.2", "vtep: 192.168.50.2, port: vm2", "t.yaml:16: overlay.networks[0].vms[2].port: give exactly one of"},
            {"router-mac: \"02:00:00:00:ff:01\"", "router-mac: \"03:00:00:00:ff:01\"", "t.yaml:5: overlay.router-mac: 03:00:00:00:ff:01 is a multicast/broadcast address"},
            {"uplink: up0", "uplink: up0\n  underlay-mtu: 900", "t.yaml:3: overlay.underlay-mtu: 900 is out of range 1280..9216"},
            {"uplink: up0", "uplink: up0\n  colour: blue", "t.yaml:3: overlay.colour: unknown key"},
            {"name: red", "name: blue", "t.yaml:17: overlay.networks[1].name: 'blue' is already the name of networks[0]"},
        };
        return java.util.Arrays.stream(rows).map(r -> org.junit.jupiter.params.provider.Arguments.of((Object[]) r));
    }

    /** Each row: text to replace, replacement, expected "file:line: path: reason" prefix. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("badRows")
    void badModelsAreRejectedWithFieldAndLine(String from, String to, String expected) {
        String text = GOOD.replace(from, to);
        assertNotEquals(GOOD, text, "test row must change the text");
        ConfigException e = assertThrows(ConfigException.class, () -> OverlayConfigLoader.parseText("t.yaml", text, PORTS));
        assertTrue(e.getMessage().startsWith(expected),
                () -> "got: " + e.getMessage() + "\nexpected: " + expected);
        assertTrue(e.getMessage().startsWith("t.yaml:"), e.getMessage());
    }

    @Test
    void parsesTheOverlayNodeOfALargerConfiguration() throws Exception {
        String text = "ports:\n  - {name: up0, device: net_null0}\n" + GOOD;
        org.snakeyaml.engine.v2.nodes.Node root = new org.snakeyaml.engine.v2.api.lowlevel.Compose(
                org.snakeyaml.engine.v2.api.LoadSettings.builder().build()).composeString(text).orElseThrow();
        org.snakeyaml.engine.v2.nodes.Node overlay = ((org.snakeyaml.engine.v2.nodes.MappingNode) root).getValue().stream()
                .filter(t -> ((org.snakeyaml.engine.v2.nodes.ScalarNode) t.getKeyNode()).getValue().equals("overlay"))
                .findFirst().orElseThrow().getValueNode();
        OverlayModel m = OverlayConfigLoader.parse("sluice.yaml", overlay, PORTS);
        assertEquals("red", m.networks().get(1).name());
        String bad = text.replace("vni: 200", "vni: 100");
        org.snakeyaml.engine.v2.nodes.Node root2 = new org.snakeyaml.engine.v2.api.lowlevel.Compose(
                org.snakeyaml.engine.v2.api.LoadSettings.builder().build()).composeString(bad).orElseThrow();
        org.snakeyaml.engine.v2.nodes.Node overlay2 = ((org.snakeyaml.engine.v2.nodes.MappingNode) root2).getValue().get(1).getValueNode();
        ConfigException e = assertThrows(ConfigException.class, () -> OverlayConfigLoader.parse("sluice.yaml", overlay2, PORTS));
        assertTrue(e.getMessage().startsWith("sluice.yaml:20: overlay.networks[1].vni: VNI 100 is already used"), e.getMessage());
    }

    @Test
    void modelErrorsNameFieldWithoutYaml() {
        OverlayModel good = Fixtures.host1Model(-1);
        OverlayModel bad = new OverlayModel(good.host(), java.util.List.of(good.networks().get(0),
                new OverlayModel.Network("red2", 100, Fixtures.ip("10.0.0.0"), 16, java.util.List.of(), java.util.List.of())));
        OverlayModelException e = assertThrows(OverlayModelException.class, bad::validate);
        assertEquals("overlay.networks[1].vni", e.path());
        assertTrue(e.reason().contains("already used"), e.reason());
        assertDoesNotThrow(() -> Fixtures.host1Model(-1).validate());
        assertDoesNotThrow(() -> Fixtures.host2Model(-1).validate());
    }
}
