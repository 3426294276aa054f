package io.sluice.dataplane.nat;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.overlay.OverlaySnapshot;
import io.sluice.dataplane.config.OverlayModelException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The external network and per-VM public access in the configuration: the model, and file:line: key errors. */
class NatConfigTest {
    static final String YAML = NatHarness.yaml(64, 4);

    @Test
    void externalNetworkAndPublicAccessBecomeTheModel() throws Exception {
        SluiceConfig c = ConfigLoader.parse("nat.yaml", YAML);
        OverlayModel.External e = c.overlay().external();
        assertEquals(1, e.port());
        assertEquals(NatHarness.EXT_MAC, e.mac());
        assertEquals(NatHarness.GW, e.gateway());
        assertEquals(-1, e.gatewayMac(), "resolved by ARP");
        assertEquals(List.of(NatHarness.FIP, NatHarness.FIP2), e.floatingIps(), "the range is expanded");
        assertEquals(List.of(NatHarness.SNAT), e.snatAddresses());
        assertEquals(64, e.portBlock());
        assertEquals(4, e.blocksPerVm());
        assertEquals((65536 - 1024) / 64, e.blocksPerAddress());
        List<OverlayModel.Vm> vms = c.overlay().networks().get(0).vms();
        assertEquals(OverlayModel.Access.FLOATING, vms.get(0).access());
        assertEquals(NatHarness.FIP, vms.get(0).floatingIp());
        assertEquals(OverlayModel.Access.OUTBOUND, vms.get(1).access());
        assertEquals(OverlayModel.Access.PRIVATE, vms.get(2).access(), "default");
        OverlaySnapshot s = OverlaySnapshot.compile(c.overlay());
        assertEquals(OverlaySnapshot.OWNED_FIP | 0, s.owned(NatHarness.FIP));
        assertEquals(OverlaySnapshot.OWNED_FIP | 1, s.owned(NatHarness.FIP2));
        assertEquals(OverlaySnapshot.OWNED_SNAT | 0, s.owned(NatHarness.SNAT));
        assertEquals(-1, s.owned(NatHarness.GW));
        assertEquals(0, s.vmFip[0]);
        assertEquals(-1, s.fipVm[1], "in the pool, unassigned");
    }

    /** Replaces {@code from} by {@code to} in the test configuration; the error must name the file, the line of {@code to} and the key. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "port: ext|port: up|overlay.external.port: port 0 is the uplink|",
            "port: ext|port: web|overlay.external.port: port 2 belongs to VM blue/web|",
            "gateway: 203.0.113.1|gateway: 203.0.114.1|overlay.external.gateway: gateway 203.0.114.1 is outside subnet 203.0.113.0/24|",
            "snat-addresses: [203.0.113.5]|snat-addresses: [203.0.113.10]|overlay.external.floating-ips[0]: 203.0.113.10 is already overlay.external.snat-addresses[0]|floating-ips:",
            "snat-addresses: [203.0.113.5]|snat-addresses: [203.0.113.1]|overlay.external.snat-addresses[0]: 203.0.113.1 is the gateway|",
            "floating-ips: [203.0.113.10-203.0.113.11]|floating-ips: [198.51.100.1]|overlay.external.floating-ips[0]: address 198.51.100.1 is outside subnet 203.0.113.0/24|",
            "floating-ips: [203.0.113.10-203.0.113.11]|floating-ips: [203.0.113.11-203.0.113.10]|overlay.external.floating-ips[0]: '203.0.113.11-203.0.113.10' is not a range|",
            "port-block: 64|port-block: 0|overlay.external.port-block: 0 is out of range 1..64512|",
            "blocks-per-vm: 4|blocks-per-vm: 0|overlay.external.blocks-per-vm: 0 is out of range 1..1024|",
            "blocks-per-vm: 4|blocks-per-vm: 4\\n    color: red|overlay.external.color: unknown key|color: red",
            "public: 203.0.113.10}|public: 203.0.113.99}|overlay.networks[0].vms[0].public: 203.0.113.99 is not in overlay.external.floating-ips|",
            "public: outbound}|public: 203.0.113.10}|overlay.networks[0].vms[1].public: floating IP 203.0.113.10 is already VM blue/web's|{name: job, subnet",
            "public: outbound}|public: sometimes}|overlay.networks[0].vms[1].public: 'sometimes' is not 'private', 'outbound' or a floating IP|",
            "ip6: \"2001:db8:1::4\", port: vault}|ip6: \"2001:db8:1::4\", vtep: 192.168.50.2, public: outbound}|overlay.networks[0].vms[2].public: only a VM on this host|",
            "gateway6: \"2001:db8:ee::1\"|gateway6: \"ff02::1\"|overlay.external.gateway6: ff02:0:0:0:0:0:0:1 is not a unicast address of a router|",
            "gateway6: \"2001:db8:ee::1\"|gateway6: 203.0.113.1|overlay.external.gateway6: '203.0.113.1' is not an IPv6 address|",
    })
    void errorsNameFileLineAndKey(String from, String to, String want, String at) {
        assertTrue(YAML.contains(from), from);
        String yaml = YAML.replace(from, to.replace("\\n", "\n"));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("nat.yaml", yaml));
        int line = lineOf(yaml, at != null ? at : to);
        assertTrue(e.getMessage().startsWith("nat.yaml:" + line + ": " + want), () -> "line " + line + ": " + e.getMessage());
    }

    @Test
    void natNeedsSecurityGroupsAndOneWorker() {
        String noFw = YAML.substring(0, YAML.indexOf("security-groups:"));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("nat.yaml", noFw));
        assertTrue(e.getMessage().startsWith("nat.yaml:" + (lineOf(noFw, "external:") + 1) + ": overlay.external: needs a 'security-groups' section"),
                e.getMessage());
        String two = YAML.replace("ports:\n", """
                workers:
                  - {lcore: 0, rx: [up, ext, web]}
                  - {lcore: 1, rx: [job, vault]}
                ports:
                """).replace("device: \"net_null", "tx-queues: 2, device: \"net_null");
        ConfigException w = assertThrows(ConfigException.class, () -> ConfigLoader.parse("nat.yaml", two));
        assertTrue(w.getMessage().contains("overlay.external: NAT runs on one worker today; the configuration has 2 workers"), w.getMessage());
    }

    @Test
    void publicAccessWithoutAnExternalNetworkIsRejected() {
        OverlayModel m = assertDoesNotThrow(() -> ConfigLoader.parse("nat.yaml", YAML)).overlay();
        OverlayModel noExt = new OverlayModel(m.host(), m.networks());
        OverlayModelException e = assertThrows(OverlayModelException.class, noExt::validate);
        assertEquals("overlay.networks[0].vms[0].public", e.path());
    }

    static int lineOf(String yaml, String text) {
        String[] lines = yaml.split("\n", -1);
        for (int i = 0; i < lines.length; i++) if (lines[i].contains(text)) return i + 1;
        throw new AssertionError(text);
    }
}
