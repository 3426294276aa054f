package io.sluice.dataplane.firewall;

import io.sluice.dataplane.config.FirewallConfig;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.SgRule;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The security-groups section: what it builds, and a file:line:key error for each kind of mistake. */
class FirewallConfigLoaderTest {
    static final String BASE = FwTopology.yaml("slfwc", "keep", "");

    static String withRules(String rules) { return FwTopology.yaml("slfwc", "keep", rules); }

    static String error(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("t.yaml", yaml));
        return e.getMessage();
    }

    @Test
    void parsesGroupsMembershipDefaultGroupAndSettings() throws Exception {
        String y = FwTopology.yaml("slfwc", "cut",
                "        - { id: http, direction: ingress, protocol: tcp, ports: 80, remote: 0.0.0.0/0 }\n"
                + "        - { direction: ingress, protocol: udp, ports: 5000-5010, remote-group: default }\n"
                + "        - { direction: egress, protocol: icmp, icmp-type: 8, icmp-code: 0 }\n");
        SluiceConfig cfg = ConfigLoader.parse("t.yaml", y);
        FirewallConfig fc = FirewallConfigLoader.parseDocument("t.yaml", y, cfg);
        assertTrue(fc.cuts("web"));
        assertFalse(fc.cuts("default"));
        assertEquals(FirewallConfig.DEFAULT_MAX_FRAGMENT_DATAGRAMS, fc.maxFragmentDatagrams());
        assertEquals(1000, fc.fragmentTimeoutMs());
        String f = y.replace("max-connections-per-vm: 4096", "max-connections-per-vm: 4096\n  max-fragment-datagrams: 77\n  fragment-timeout-ms: 250");
        FirewallConfig ff = FirewallConfigLoader.parseDocument("t.yaml", f, ConfigLoader.parse("t.yaml", f));
        assertEquals(77, ff.maxFragmentDatagrams());
        assertEquals(250, ff.fragmentTimeoutMs());
        assertTrue(fc.tcpPickup(), "mid-stream pickup is on by default");
        assertEquals("/run/sluice", fc.conntrackDir());
        String w = y.replace("max-connections-per-vm: 4096", "max-connections-per-vm: 4096\n  tcp-pickup: false\n  conntrack-dir: /tmp/x");
        FirewallConfig fw = FirewallConfigLoader.parseDocument("t.yaml", w, ConfigLoader.parse("t.yaml", w));
        assertFalse(fw.tcpPickup());
        assertEquals("/tmp/x", fw.conntrackDir());
        String off = y.replace("max-connections-per-vm: 4096", "max-connections-per-vm: 4096\n  conntrack-dir: off");
        assertNull(FirewallConfigLoader.parseDocument("t.yaml", off, ConfigLoader.parse("t.yaml", off)).conntrackDir());
        SgRule http = fc.groups().get("web").rules().get(0);
        assertEquals("web/http", http.id());
        assertEquals(Direction.INGRESS, http.direction());
        assertEquals(80, http.portMin());
        assertEquals("web/r1", fc.groups().get("web").rules().get(1).id());
        assertEquals(5010, fc.groups().get("web").rules().get(1).portMax());
        assertEquals(4, fc.groups().get("default").rules().size(), "built-in default group");
        assertEquals(2, fc.vmPorts().size());
        assertEquals(java.util.List.of("default"), fc.vmPorts().get(1).groups(), "no groups: the default group");
        assertEquals(16384, fc.maxConnections());
        assertNull(FirewallConfigLoader.parseDocument("t.yaml", "ports: []\n", cfg));
    }

    @Test
    void errorsNameFileLineAndKey() {
        assertEquals("t.yaml:27: security-groups.groups[0].rules[0].ports: 70000 is out of range 1..65535",
                error(withRules("        - { direction: ingress, protocol: tcp, ports: 70000 }\n")));
        assertTrue(error(withRules("        - { direction: ingress, protocol: tcp, ports: 90-80 }\n")).contains("rules[0].ports: reversed range 90-80"));
        assertTrue(error(withRules("        - { direction: sideways }\n")).contains("rules[0].direction: 'sideways' is not ingress or egress"));
        assertTrue(error(withRules("        - { direction: ingress, protocol: icmp, ports: 80 }\n")).contains("ports need protocol tcp or udp"));
        assertTrue(error(withRules("        - { direction: ingress, protocol: tcpp }\n")).contains("rules[0].protocol: 'tcpp'"));
        assertTrue(error(withRules("        - { direction: ingress, remote: 10.0.0.1/8 }\n")).contains("rules[0].remote:"));
        assertTrue(error(withRules("        - { direction: ingress, remote-group: nope }\n")).contains("no group named 'nope'"));
        assertTrue(error(withRules("        - { direction: ingress, colour: red }\n")).contains("rules[0].colour: unknown key"));
        assertTrue(error(withRules("        - { id: a, direction: ingress }\n        - { id: a, direction: egress }\n")).contains("used twice"));
        assertTrue(error(BASE.replace("on-rule-change: keep", "on-rule-change: sometimes")).contains("groups[0].on-rule-change: 'sometimes' is not keep or cut"));
        assertTrue(error(BASE.replace("port: vm2,", "port: vm9,")).contains("vm-ports[1].port: no port named 'vm9'"));
        assertTrue(error(BASE.replace("addresses: [10.77.0.2]", "addresses: [10.77.0.1]")).contains("already belongs to port vm1"));
        assertTrue(error(BASE.replace("groups: [default, web]", "groups: [default, nope]")).contains("vm-ports[0].groups[1]: no group named 'nope'"));
        assertTrue(error(BASE.replace("addresses: [10.77.0.2]", "addresses: [10.77.0.0/24]")).contains("not a host address"));
        assertTrue(error(BASE + "  platform:\n    exemptions:\n      - { rule: platform/smtp-26, ports: [vm1] }\n").contains("no platform rule 'platform/smtp-26'"));
        assertTrue(error(BASE + "  platform:\n    exemptions:\n      - { rule: platform/smtp-25, ports: [ext1] }\n").contains("'ext1' is not a VM port"));
        assertTrue(error(BASE + "  nonsense: 1\n").contains("security-groups.nonsense: unknown key"));
        assertTrue(error(BASE.replace("max-connections-per-vm: 4096", "max-connections-per-vm: 99999")).contains("above max-connections"));
        assertEquals("t.yaml:23: security-groups.fragment-timeout-ms: 0 is out of range 1..60000",
                error(BASE.replace("max-connections-per-vm: 4096", "max-connections-per-vm: 4096\n  fragment-timeout-ms: 0")));
        assertTrue(error(BASE.replace("max-connections-per-vm: 4096", "max-connections-per-vm: 4096\n  max-fragment-datagrams: many"))
                .contains("security-groups.max-fragment-datagrams: 'many' is not a whole number"));
        assertEquals("t.yaml:23: security-groups.tcp-pickup: 'yes' is not true or false",
                error(BASE.replace("max-connections-per-vm: 4096", "max-connections-per-vm: 4096\n  tcp-pickup: yes")));
        assertEquals("t.yaml:23: security-groups.conntrack-dir: 'run/sluice' is not an absolute directory or off",
                error(BASE.replace("max-connections-per-vm: 4096", "max-connections-per-vm: 4096\n  conntrack-dir: run/sluice")));
        String twoWorkers = "idle-strategy: backoff\nworkers:\n  - { lcore: 0, rx: [vm1, vm2] }\n  - { lcore: 1, rx: [ext1, ext2] }\n";
        // one tx queue per port is not enough for two workers: file, line and key
        assertTrue(error(BASE.replace("idle-strategy: backoff\n", twoWorkers))
                .matches("(?s)t\\.yaml:\\d+: ports\\[0\\]\\.tx-queues: port 'vm1' has 1 tx queue\\(s\\) but there are 2 workers.*"),
                error(BASE.replace("idle-strategy: backoff\n", twoWorkers)));
    }

    @Test
    void twoWorkersWithSecurityGroupsAreAccepted() throws Exception {
        String y = BASE.replaceAll("(device: \"[^\"]*\") }", "$1, rx-queues: 2, tx-queues: 2 }")
                .replace("idle-strategy: backoff\n", "idle-strategy: backoff\nworkers:\n  - { lcore: 0, rx: [vm1, vm2] }\n  - { lcore: 1, rx: [ext1, ext2] }\n");
        var cfg = ConfigLoader.parse("t.yaml", y);
        assertEquals(2, cfg.workers().size(), "shard hand-off: two workers with security groups");
        FirewallState fw = new FirewallState(4, FirewallConfigLoader.parseDocument("t.yaml", y, cfg));
        var factory = FirewallPipelines.l2Factory(fw);
        var w0 = factory.stages(cfg, 0);
        var w1 = factory.stages(cfg, 1);
        assertEquals(List.of("parse", "arp", "l2", "steer", "firewall"), java.util.Arrays.stream(w0).map(io.sluice.dataplane.pipeline.Stage::name).toList());
        var s0 = (io.sluice.dataplane.handoff.SteerStage) w0[3];
        var s1 = (io.sluice.dataplane.handoff.SteerStage) w1[3];
        assertSame(s0.handoff(), s1.handoff(), "one hand-off shared by the workers");
        assertEquals(0, s0.worker());
        assertEquals(1, s1.worker());
        // one worker: no steer stage at all
        var one = ConfigLoader.parse("t.yaml", BASE);
        assertEquals(List.of("parse", "arp", "l2", "firewall"),
                java.util.Arrays.stream(FirewallPipelines.l2Factory(new FirewallState(4, FirewallConfigLoader.parseDocument("t.yaml", BASE, one))).stages(one, 0))
                        .map(io.sluice.dataplane.pipeline.Stage::name).toList());
    }
}
