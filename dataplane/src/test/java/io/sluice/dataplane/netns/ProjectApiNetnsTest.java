package io.sluice.dataplane.netns;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static io.sluice.dataplane.netns.ControlApiNetnsTest.BLUE_KEY;
import static io.sluice.dataplane.netns.ControlApiNetnsTest.OPERATOR_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Projects and VMs through the control API of a running data plane ({@code Main run} in a child
 * JVM on TAP ports, real HTTP client): operator-only changes (403 with a project key), a project
 * and a remote VM created with the generation, 409 for a project that still has VMs, 400 naming
 * {@code port.device} for a device DPDK cannot hot-plug, the changes replayed from the journal
 * across a restart (same VM, same generation), then deleted, and the audit records; then a project
 * with another after it deleted (a tombstone keeps the later one's zone), across a restart.
 */
class ProjectApiNetnsTest {
    static final String GREEN = "{\"cidr\":\"10.8.0.0/16\",\"vni\":300,\"subnets\":[{\"name\":\"web\",\"cidr\":\"10.8.1.0/24\"}]}";
    static final String G1 = "{\"subnet\":\"web\",\"mac\":\"02:00:00:00:08:01\",\"ipv4\":\"10.8.1.10\",\"remote_vtep\":\"192.168.50.7\"}";

    static String names(JsonNode projects) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (JsonNode p : projects.path("projects")) out.add(p.path("name").asText());
        return out.toString();
    }

    @Test
    void projectsAndRemoteVmsAreCreatedJournaledAndDeleted() throws Exception {
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            Path cfg = ControlApiNetnsTest.config(net, dir, "");
            try (ControlApiNetnsTest.Started s = ControlApiNetnsTest.start(cfg)) {
                ControlApiNetnsTest.Reply r = s.put("/v1/projects/green", BLUE_KEY, GREEN);
                assertEquals(403, r.status(), r.toString());
                r = s.put("/v1/projects/green", OPERATOR_KEY, GREEN.replace("300", "\"x\""));
                assertEquals(400, r.status(), r.toString());
                assertEquals("vni: must be a whole number, not a string", r.error());
                r = s.put("/v1/projects/green", OPERATOR_KEY, GREEN);
                assertEquals(200, r.status(), r.toString());
                assertEquals(2, r.json().path("generation").asLong(), r.toString());
                assertEquals("10.8.1.1", r.json().path("subnets").get(0).path("gateway").asText(), r.toString());
                r = s.put("/v1/projects/green/vms/g1", OPERATOR_KEY, G1);
                assertEquals(200, r.status(), r.toString());
                assertEquals(3, r.json().path("generation").asLong(), r.toString());
                assertEquals(404, s.get("/v1/projects/green/vms/g1", BLUE_KEY).status(), "a blue key does not see green");
                r = s.call("DELETE", "/v1/projects/green", OPERATOR_KEY, null, null);
                assertEquals(409, r.status(), r.toString());
                // a device DPDK cannot create (no such driver): 400 naming port.device, nothing plugged or journaled
                r = s.put("/v1/projects/blue/vms/b9", OPERATOR_KEY, G1.replace("\"subnet\":\"web\"", "\"subnet\":\"a\"")
                        .replace("10.8.1.10", "10.0.1.90").replace("\"remote_vtep\":\"192.168.50.7\"", "\"port\":{\"device\":\"net_bogus7,x=1\"}"));
                assertEquals(400, r.status(), r.toString());
                assertTrue(r.error().startsWith("port.device: DPDK could not create the device 'net_bogus7,x=1' (rte_dev_probe: "), r.toString());
                assertEquals(404, s.get("/v1/projects/blue/vms/b9", OPERATOR_KEY).status(), "the refused VM exists");
                assertEquals(3, s.get("/v1/health", null).json().path("generation").asLong(), "refused calls changed the generation");
            }
            // the journal rebuilds the same state and generation
            try (ControlApiNetnsTest.Started s = ControlApiNetnsTest.start(cfg)) {
                assertEquals(3, s.get("/v1/health", null).json().path("generation").asLong());
                JsonNode g1 = s.get("/v1/projects/green/vms/g1", OPERATOR_KEY).json();
                assertEquals("192.168.50.7", g1.path("remote_vtep").asText(), g1.toString());
                assertEquals("default", g1.path("security_groups").get(0).asText(), g1.toString());
                ControlApiNetnsTest.Reply r = s.call("DELETE", "/v1/projects/green/vms/g1", OPERATOR_KEY, null, null);
                assertEquals(200, r.status(), r.toString());
                r = s.call("DELETE", "/v1/projects/green", OPERATOR_KEY, null, null);
                assertEquals(200, r.status(), r.toString());
                assertEquals(5, r.json().path("generation").asLong(), r.toString());
                assertEquals(404, s.get("/v1/projects/green", OPERATOR_KEY).status());
                JsonNode audit = s.get("/v1/audit-log?limit=20&action_prefix=project", OPERATOR_KEY).json().path("records");
                assertEquals("project.get", audit.get(0).path("action").asText(), audit.toString());
                assertEquals(404, audit.get(0).path("status").asInt(), audit.toString());
                assertEquals("project.delete", audit.get(1).path("action").asText(), audit.toString());
                assertEquals("accepted", audit.get(1).path("outcome").asText(), audit.toString());
                assertEquals("conflict", audit.get(2).path("outcome").asText(), "the 409 is on record: " + audit);
                assertEquals("denied", audit.get(audit.size() - 1).path("outcome").asText(), "the 403 is on record: " + audit);
            }
            // a project with another after it is deleted as a tombstone: the later project keeps its zone, across a restart
            try (ControlApiNetnsTest.Started s = ControlApiNetnsTest.start(cfg)) {
                assertEquals(200, s.put("/v1/projects/green", OPERATOR_KEY, GREEN).status());
                ControlApiNetnsTest.Reply r = s.put("/v1/projects/yellow", OPERATOR_KEY, GREEN.replace("300", "301").replace("10.8.", "10.9."));
                assertEquals(200, r.status(), r.toString());
                r = s.call("DELETE", "/v1/projects/green", OPERATOR_KEY, null, null);
                assertEquals(200, r.status(), r.toString());
                assertEquals(8, r.json().path("generation").asLong(), r.toString());
                assertEquals("[blue, red, yellow]", names(s.get("/v1/projects", OPERATOR_KEY).json()));
                s.child().signal("TERM");
                assertEquals(0, s.child().awaitExit(30), s.child().output());
            }
            try (ControlApiNetnsTest.Started s = ControlApiNetnsTest.start(cfg)) {
                assertEquals(8, s.get("/v1/health", null).json().path("generation").asLong());
                assertEquals("[blue, red, yellow]", names(s.get("/v1/projects", OPERATOR_KEY).json()));
                assertEquals(404, s.get("/v1/projects/green", OPERATOR_KEY).status());
                assertEquals(404, s.get("/v1/projects/-3", OPERATOR_KEY).status(), "the tombstone is no project");
                assertEquals(301, s.get("/v1/projects/yellow", OPERATOR_KEY).json().path("vni").asInt());
                ControlApiNetnsTest.Reply r = s.call("DELETE", "/v1/projects/yellow", OPERATOR_KEY, null, null);
                assertEquals(200, r.status(), r.toString());
                assertEquals("[blue, red]", names(s.get("/v1/projects", OPERATOR_KEY).json()));
            }
        }
    }
}
