package io.sluice.dataplane.config;

import org.junit.jupiter.api.Test;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {

    private static final String GOOD = """
            eal: ["--no-huge", "-m", "1024", "-l", "0,1"]
            burst-size: 64
            idle-strategy: busy-spin
            ports:
              - name: a
                device: net_tap0,iface=x0
                rx-queues: 2
                tx-queues: 2
              - name: b
                device: net_ring0
                tx-queues: 2
                mac: "02:00:00:00:00:0b"
            workers:
              - lcore: 0
                rx: ["a:0", b]
              - lcore: 1
                rx: ["a:1"]
            mac-table:
              - { mac: "02:00:00:00:00:01", port: a }
            arp:
              - { ip: 10.1.2.3, mac: "02:00:00:00:00:fe", port: b }
              - { ip: 10.1.2.4, mac: "02:00:00:00:00:fe" }
            """;

    @Test
    void parsesEveryField() throws Exception {
        SluiceConfig c = ConfigLoader.parse("t.yaml", GOOD);
        assertEquals(64, c.burstSize());
        assertEquals("busy-spin", c.idleStrategy());
        assertEquals(2, c.ports().size());
        assertEquals("net_ring0", c.ports().get(1).devargs());
        assertEquals(0x02000000000bL, c.ports().get(1).mac());
        assertEquals(-1, c.ports().get(0).mac());
        assertEquals(2, c.workers().size());
        assertEquals(java.util.List.of(new WorkerSpec.RxQueue(0, 0), new WorkerSpec.RxQueue(1, 0)), c.workers().get(0).rxQueues());
        assertEquals(java.util.List.of(new WorkerSpec.RxQueue(0, 1)), c.workers().get(1).rxQueues());
        assertEquals(1, c.workers().get(1).txQueue());
        assertEquals(new SluiceConfig.MacEntry(0x020000000001L, 0), c.macTable().get(0));
        assertEquals(new SluiceConfig.ArpEntry(0x0a010203, 0x0200000000feL, 1), c.arp().get(0));
        assertEquals(-1, c.arp().get(1).port());
        assertEquals(1, c.portIndex("b"));
    }

    @Test
    void embeddedDefaultIsValid() throws Exception {
        SluiceConfig c = ConfigLoader.loadDefault();
        assertEquals(8, c.ports().size());
        assertEquals(1, c.workers().size());
        assertEquals(8, c.workers().get(0).rxQueues().size());
        assertEquals(c.portIndex("internet"), c.overlay().external().port(), "NAT: the external port");
        assertTrue(c.eal().contains("--no-huge"));
        assertEquals(2, c.overlay().networks().size()); // the demo: two projects on one CIDR
        // security groups next to the overlay: every VM in its project's default group, blue lb in web only
        io.sluice.dataplane.config.FirewallConfig fw = io.sluice.dataplane.config.FirewallConfigLoader.parseDocument(
                ConfigLoader.DEFAULT_NAME, ConfigLoader.defaultText(), c);
        assertEquals(6, fw.vmPorts().size());
        for (io.sluice.dataplane.config.FirewallConfig.VmPort v : fw.vmPorts()) {
            String net = v.name().substring(0, v.name().indexOf('/'));
            assertEquals(v.name().equals("blue/lb") ? List.of("blue:web") : List.of(net + ":default"), v.groups(), v.name());
            assertEquals(c.portIndex(net + "-" + v.name().substring(net.length() + 1)), v.port(), v.name());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "burst-size: 0|t.yaml:1: burst-size: 0 is out of range 1..256",
            "burst-size: lots|t.yaml:1: burst-size: 'lots' is not a whole number",
            "idle-strategy: nap|t.yaml:1: idle-strategy: 'nap' is not one of",
            "portz: []|t.yaml:1: portz: unknown key",
            "ports: []|t.yaml:1: ports: empty",
            "ports: [{name: a}]|t.yaml:1: ports[0].device: missing",
            "ports: [{name: 'a b', device: net_null0}]|t.yaml:1: ports[0].name: 'a b' must be",
            "ports: [{name: a, device: net_null0}, {name: a, device: net_null1}]|t.yaml:1: ports[1].name: 'a' is already the name of ports[0]",
            "ports: [{name: a, device: net_null0}, {name: b, device: 'net_null0,size=64'}]|t.yaml:1: ports[1].device: device 'net_null0' is used by another port",
            "ports: [{name: a, device: net_null0, mac: 'zz:00:00:00:00:00'}]|t.yaml:1: ports[0].mac: 'zz:00:00:00:00:00' is not a MAC address",
            "ports: [{name: a, device: net_null0, rx-queues: 65}]|t.yaml:1: ports[0].rx-queues: 65 is out of range 1..64",
            "eal: ['--vdev=net_null0']|t.yaml:1: eal: '--vdev=net_null0' is set by the data plane",
    })
    void rejectsBadValuesNamingFileLineAndKey(String yaml, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("t.yaml", yaml));
        assertTrue(e.getMessage().startsWith(expected), () -> "got: " + e.getMessage());
    }

    @Test
    void reportsTheLineOfTheBadKey() {
        String yaml = """
                ports:
                  - name: a
                    device: net_null0
                mac-table:
                  - mac: "02:00:00:00:00:01"
                    port: nope
                """;
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("cfg.yaml", yaml));
        assertTrue(e.getMessage().startsWith("cfg.yaml:6: mac-table[0].port: no port named 'nope'"), e.getMessage());
    }

    @Test
    void rejectsQueueOwnedTwiceAndTooFewTxQueues() {
        String twice = """
                ports: [{name: a, device: net_null0, tx-queues: 2}]
                workers:
                  - {lcore: 0, rx: [a]}
                  - {lcore: 1, rx: ["a:0"]}
                """;
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("w.yaml", twice));
        assertTrue(e.getMessage().startsWith("w.yaml:4: workers[1].rx: rx queue a:0 is already polled"), e.getMessage());

        String fewTx = """
                ports: [{name: a, device: net_null0, rx-queues: 2}]
                workers:
                  - {lcore: 0, rx: ["a:0"]}
                  - {lcore: 1, rx: ["a:1"]}
                """;
        e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("w.yaml", fewTx));
        assertTrue(e.getMessage().startsWith("w.yaml:1: ports[0].tx-queues: port 'a' has 1 tx queue(s) but there are 2 workers"), e.getMessage());
    }

    @Test
    void tapPortsNeedAnRxQueueForEveryTxQueueAndEveryQueuePolled() throws Exception {
        String fewRx = """
                ports:
                  - {name: a, device: "net_tap0,iface=x0", tx-queues: 2}
                workers:
                  - {lcore: 0, rx: [a]}
                  - {lcore: 1, rx: []}
                """;
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("w.yaml", fewRx));
        assertTrue(e.getMessage().startsWith("w.yaml:2: ports[0].rx-queues: TAP port 'a' has 1 rx queue(s) but 2 tx queue(s)"), e.getMessage());

        String unpolled = """
                ports:
                  - {name: a, device: "net_tap0,iface=x0", rx-queues: 2, tx-queues: 2}
                workers:
                  - {lcore: 0, rx: ["a:0"]}
                  - {lcore: 1, rx: []}
                """;
        e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("w.yaml", unpolled));
        assertTrue(e.getMessage().startsWith("w.yaml:4: workers: rx queue a:1 of TAP port 'a' is polled by no worker"), e.getMessage());

        // the same with a non-TAP device is fine (a NIC/ring queue nobody polls just stays empty or fills)
        ConfigLoader.parse("w.yaml", unpolled.replace("\"net_tap0,iface=x0\"", "net_ring0"));
        // and every queue polled, rx >= tx: accepted
        ConfigLoader.parse("w.yaml", unpolled.replace("rx: []", "rx: [\"a:1\"]"));
    }

    @Test
    void rejectsInvalidYamlWithLine() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("y.yaml", "ports:\n  - name: [a\n"));
        assertTrue(e.getMessage().startsWith("y.yaml:"), e.getMessage());
        assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
    }

    @Test
    void rejectsMulticastMacInTable() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("m.yaml",
                "ports: [{name: a, device: net_null0}]\nmac-table: [{mac: 'ff:ff:ff:ff:ff:ff', port: a}]\n"));
        assertTrue(e.getMessage().startsWith("m.yaml:2: mac-table[0].mac: is a multicast"), e.getMessage());
    }

    @Test
    void parsesAddresses() {
        assertEquals(0x0a000001L, ConfigLoader.parseIpv4("10.0.0.1"));
        assertEquals(-1, ConfigLoader.parseIpv4("10.0.0.256"));
        assertEquals(-1, ConfigLoader.parseIpv4("10.0.0"));
        assertEquals(-1, ConfigLoader.parseIpv4("010.0.0.1"));
        assertEquals(0xffffffffffffL, ConfigLoader.parseMac("ff:FF:ff:ff:ff:ff"));
        assertEquals(-1, ConfigLoader.parseMac("ff:ff:ff:ff:ff"));
        assertEquals("02:5c:00:00:00:fe", ConfigLoader.formatMac(0x025c000000feL));
        assertEquals("10.199.0.254", ConfigLoader.formatIpv4(0x0ac700fe));
    }
}
