package io.sluice.dataplane.control;

import io.sluice.dataplane.config.ApiSettings;
import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The control package without a data plane: the {@code api} section's errors (file:line: key), the
 * decoders' field paths, the changes on the desired state (404/409 and nothing changed), the
 * audit chain (a removed record is named) and the authentication limiter.
 */
class ControlModelTest {
    static final String KEY_HASH = "a".repeat(64);

    static String withApi(String api) {
        return ControlFixtures.OVERLAY + "api:\n" + api;
    }

    static String error(String text) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("t.yaml", text));
        return e.getMessage();
    }

    @Test
    void apiSectionErrorsNameFileLineAndKey() throws Exception {
        String ok = "  listen: 127.0.0.1:8080\n  keys: [{id: op, sha256: " + KEY_HASH + ", projects: [\"*\"]}]\n  journal: /tmp/j\n  audit: /tmp/a\n";
        ConfigLoader.parse("t.yaml", withApi(ok));
        ApiSettings s = ConfigLoader.parse("t.yaml", withApi(ok)).api();
        assertEquals(8080, s.port());
        assertTrue(s.keys().get(0).operator());
        assertTrue(s.msync(), "msync is the default");
        assertTrue(!ConfigLoader.parse("t.yaml", withApi(ok + "  sync: none\n")).api().msync());
        int line = ControlFixtures.OVERLAY.split("\n", -1).length; // the line of "api:"
        assertEquals("t.yaml:" + (line + 5) + ": api.sync: 'maybe' is not msync or none", error(withApi(ok + "  sync: maybe\n")));
        assertEquals(ApiSettings.DEFAULT_HOTPLUG_PORTS, s.hotplugPorts(), "hot-plug slots by default");
        assertEquals(0, ConfigLoader.parse("t.yaml", withApi(ok + "  hotplug-ports: 0\n")).api().hotplugPorts());
        assertTrue(error(withApi(ok + "  hotplug-ports: 65\n")).startsWith("t.yaml:" + (line + 5) + ": api.hotplug-ports: "),
                error(withApi(ok + "  hotplug-ports: 65\n")));
        // a file port named like a slot is refused when the slots are added
        io.sluice.dataplane.config.SluiceConfig named = ConfigLoader.parse("t.yaml", withApi(ok).replace("name: up,", "name: hotplug0,")
                .replace("uplink: up", "uplink: hotplug0"));
        ConfigException slot = assertThrows(ConfigException.class, () -> io.sluice.dataplane.port.HotPlug.withSlots(named, 2));
        assertTrue(slot.getMessage().contains("ports: 'hotplug0' is the name of a hot-plug slot"), slot.getMessage());
        assertEquals("t.yaml:" + (line + 2) + ": api.keys[0].sha256: not a SHA-256 in hex (64 characters; e.g. printf %s KEY | sha256sum)",
                error(withApi(ok.replace(KEY_HASH, "abc"))));
        assertEquals("t.yaml:" + (line + 2) + ": api.keys[0].projects[0]: no project 'green' (projects are overlay networks: [blue, red])",
                error(withApi(ok.replace("[\"*\"]", "[green]"))));
        assertEquals("t.yaml:" + (line + 1) + ": api.listen: 'localhost' is not host:port (e.g. 127.0.0.1:8080)",
                error(withApi(ok.replace("127.0.0.1:8080", "localhost"))));
        assertEquals("t.yaml:" + (line + 5) + ": api.tls: must be a mapping (key: value lines)", error(withApi(ok + "  tls: yes\n")));
        assertEquals("t.yaml:" + (line + 5) + ": api.tls.key: missing: a PEM file (tls needs cert and key)",
                error(withApi(ok + "  tls: {cert: /etc/hostname}\n")));
        assertEquals("t.yaml:" + (line + 5) + ": api.tls.cert: /nonexistent/cert.pem is not a readable file",
                error(withApi(ok + "  tls: {cert: /nonexistent/cert.pem, key: /etc/hostname}\n")));
        assertEquals(Path.of("/etc/hostname"), ConfigLoader.parse("t.yaml", withApi(ok + "  tls: {cert: /etc/hostname, key: /etc/hostname}\n"))
                .api().tls().cert());
        assertTrue(error(withApi(ok.replace("  audit: /tmp/a\n", ""))).endsWith("api.audit: missing: a directory for the audit (Chronicle Queue)"));
        String noOverlay = "ports: [{name: a, device: \"net_tap0,iface=x\"}]\napi:\n" + ok;
        assertEquals("t.yaml:3: api: needs an 'overlay' section and a 'security-groups' section (projects are overlay networks,"
                + " and the API changes their security groups)", error(noOverlay));
    }

    @Test
    void decodersNameTheFieldAndChangeNothingWhenRefused() throws Exception {
        DesiredState s = ControlFixtures.state();
        assertEquals("inbound_rules[1].port: 70000 is not a port (1-65535)", refusal(s, DesiredState.PUT_GROUP, "web",
                "{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":22},{\"protocol\":\"tcp\",\"port\":70000}]}", 400));
        assertEquals("outbound_rules[0].port: ports need protocol tcp or udp", refusal(s, DesiredState.PUT_GROUP, "web",
                "{\"outbound_rules\":[{\"protocol\":\"icmp\",\"port\":22}]}", 400));
        assertEquals("inbound_rules[0].source_cidr: '10.0.0.300/8' is not a CIDR like 10.0.0.0/8 or ::/0", refusal(s, DesiredState.PUT_GROUP, "web",
                "{\"inbound_rules\":[{\"source_cidr\":\"10.0.0.300/8\"}]}", 400));
        assertEquals("on_rule_change: 'sometimes' is not keep or cut", refusal(s, DesiredState.PUT_GROUP, "web", "{\"on_rule_change\":\"sometimes\"}", 400));
        assertEquals("body: must be a JSON object, not a list", refusal(s, DesiredState.PUT_GROUP, "web", "[]", 400));
        assertTrue(refusal(s, DesiredState.PUT_GROUP, "web", "{\"a\":1,\"a\":2}", 400).startsWith("body: not valid JSON: Duplicate field 'a'"));
        assertTrue(refusal(s, DesiredState.PUT_GROUP, "web", "{} {}", 400).startsWith("body: not valid JSON"));
        assertEquals("groups[1]: no group 'nosuch' in project blue (groups: [default, web])",
                refusal(s, DesiredState.PUT_MEMBERSHIP, "app", "{\"groups\":[\"web\",\"nosuch\"]}", 400));
        assertEquals("groups: at most 5 groups per VM, got 6",
                refusal(s, DesiredState.PUT_MEMBERSHIP, "app", "{\"groups\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}", 400));
        assertEquals("no VM 'ghost' in project blue", refusal(s, DesiredState.PUT_MEMBERSHIP, "ghost", "{\"groups\":[]}", 404));
        assertEquals("no security group 'nosuch' in project blue", refusal(s, DesiredState.DELETE_GROUP, "nosuch", null, 404));
        assertTrue(refusal(s, DesiredState.DELETE_GROUP, "web", null, 409).startsWith("security group 'web' still has VM blue/db"));
        assertTrue(refusal(s, DesiredState.DELETE_GROUP, "default", null, 409).startsWith("the default group cannot be deleted"));
    }

    private static String refusal(DesiredState s, String action, String name, String body, int status) throws Exception {
        JsonNode doc = null;
        ApiException e;
        try {
            if (body != null) doc = GroupCodec.parse(body.getBytes(StandardCharsets.UTF_8));
            DesiredState.Change c = new DesiredState.Change(action, "blue", name, doc);
            e = assertThrows(ApiException.class, () -> s.apply(c));
        } catch (ApiException parse) {
            e = parse;
        }
        assertEquals(status, e.status(), e.getMessage());
        return e.getMessage();
    }

    @Test
    void changesAreScopedToTheirProject() throws Exception {
        DesiredState s = ControlFixtures.state();
        JsonNode doc = GroupCodec.parse("{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":443,\"source_group\":\"web\"}]}".getBytes(StandardCharsets.UTF_8));
        DesiredState n = s.apply(new DesiredState.Change(DesiredState.PUT_GROUP, "blue", "web", doc));
        assertEquals(443, n.group("blue", "web").path("inbound_rules").get(0).path("port").asInt());
        assertEquals("web", n.group("blue", "web").path("inbound_rules").get(0).path("source_group").asText());
        assertEquals("blue:web", n.firewall().groups().get("blue:web").rules().get(0).remoteGroup());
        assertEquals(80, n.group("red", "web").path("inbound_rules").get(0).path("port").asInt(), "red's web changed");
        assertEquals(s.group("red", "web"), n.group("red", "web"));
        assertNotEquals(s.firewall(), n.firewall());
        DesiredState m = n.apply(new DesiredState.Change(DesiredState.PUT_MEMBERSHIP, "blue", "app",
                GroupCodec.parse("{\"groups\":[\"web\"]}".getBytes(StandardCharsets.UTF_8))));
        assertEquals(List.of("web"), m.vmGroups("blue", "app"));
        assertEquals(List.of("default"), n.vmGroups("blue", "app"), "a value was changed in place");
        assertEquals(List.of("default"), m.vmGroups("red", "ghost"));
    }

    @Test
    void auditVerifyNamesARemovedRecord(@TempDir Path dir) {
        Path a = dir.resolve("a");
        try (AuditLog log = AuditLog.open(a, false)) {
            for (int i = 0; i < 5; i++) log.append("k", "127.0.0.1", "blue", "security_group.put", "blue/g" + i, "accepted", 200, "r" + i);
        }
        long[] n = new long[1];
        assertNull(AuditLog.verify(a, n));
        assertEquals(5, n[0]);
        // the same queue rewritten without record 3
        Path b = dir.resolve("b");
        try (QueueLog from = QueueLog.openReadOnly(a); QueueLog to = QueueLog.open(b, true)) {
            List<QueueLog.Entry> all = from.readAll();
            for (int i = 0; i < all.size(); i++) if (i != 2) to.append(all.get(i).text());
        }
        String p = AuditLog.verify(b, n);
        assertTrue(p != null && p.startsWith("record 3 was removed: record 4 (queue index 0x"), p);
        // reopened, the chain continues
        try (AuditLog log = AuditLog.open(a, true)) {
            log.append("k", "127.0.0.1", "blue", "security_group.get", "blue/g", "accepted", 200, "r9");
            assertEquals(6, log.newest(10, "", null).get(0).path("seq").asLong());
            assertEquals(1, log.newest(10, "security_group.get", null).size());
            assertEquals(0, log.newest(10, "", java.util.Set.of("red")).size());
        }
        assertNull(AuditLog.verify(a, n));
        assertEquals(6, n[0]);
    }

    @Test
    void limiterBlocksAfterRepeatedFailuresUntilTheWindowPasses() {
        ControlApi.AuthLimiter l = new ControlApi.AuthLimiter(3, 60_000);
        long t = 1_000_000;
        l.failed("a", t);
        l.failed("a", t + 1000);
        assertEquals(0, l.blockedFor("a", t + 2000));
        l.failed("a", t + 2000);
        assertEquals(58_000, l.blockedFor("a", t + 2000));
        assertEquals(0, l.blockedFor("b", t + 2000), "another address is not blocked");
        assertEquals(0, l.blockedFor("a", t + 60_001), "the oldest failure left the window");
    }
}
