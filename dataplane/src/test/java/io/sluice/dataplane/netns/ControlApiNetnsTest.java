package io.sluice.dataplane.netns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.dataplane.control.AuditLog;
import io.sluice.dataplane.control.ControlFixtures;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The control API against a running data plane ({@code Main run}, what {@code ./sluice run} execs,
 * in a child JVM on TAP ports) with a real HTTP client: one case per error class (401, 403, 404
 * across projects, 405, 409, 413, 415, 400 naming the field, 429 with Retry-After), changes
 * applied with the generation shared with SIGHUP reloads, the journal replayed across a restart
 * (same rules, same generation), a corrupt journal stopping start-up, and {@code audit verify}
 * finding an edited record.
 */
class ControlApiNetnsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String OPERATOR_KEY = "op-secret-1";
    static final String BLUE_KEY = "blue-secret-2";
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    /** An overlay with project blue (two local VMs) and red (one remote VM), security groups, and the API. */
    static Path config(Netns net, Path dir, String extraApi) throws Exception {
        String y = """
                eal: ["--no-huge", "-m", "512", "--no-pci", "--no-shconf", "-l", "0"]
                mbufs: 4095
                counters-file: %s
                %s""".formatted(dir.resolve("counters.dat"), ControlFixtures.overlay(net.name("up"), net.name("app"), net.name("db")))
                + apiSection(dir, "  max-body-bytes: 4096\n" + extraApi);
        Path f = dir.resolve("sluice.yaml");
        Files.writeString(f, y);
        return f;
    }

    /** The {@code api:} section: the operator and blue keys, journal and audit under {@code dir}, then {@code extra} lines. */
    static String apiSection(Path dir, String extra) throws Exception {
        return """
                api:
                  listen: 127.0.0.1:0
                  keys:
                    - {id: operator, sha256: %s, projects: ["*"]}
                    - {id: blue-admin, sha256: %s, projects: [blue]}
                  journal: %s
                  audit: %s
                %s""".formatted(sha256(OPERATOR_KEY), sha256(BLUE_KEY), dir.resolve("journal"), dir.resolve("audit"), extra);
    }

    /** Starts {@code Main run}, waits for ready and the API line; returns the child and the API's base URI. */
    static Started start(Path cfg) throws Exception {
        ServiceChild c = ServiceChild.run(cfg);
        try {
            c.awaitReady(60_000);
            ServiceChild.Line l = c.await(s -> s.startsWith("sluice: control API on http"), 20_000);
            assertNotNull(l, "no control API line:\n" + c.output());
            String url = l.text().substring("sluice: control API on ".length()).split(" ")[0];
            return new Started(c, URI.create(url));
        } catch (Throwable t) {
            c.close();
            throw t;
        }
    }

    record Started(ServiceChild child, URI base) implements AutoCloseable {
        Reply call(String method, String path, String key, String contentType, String body) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10));
            if (key != null) b.header("X-API-Key", key);
            if (contentType != null) b.header("Content-Type", contentType);
            b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.body(), r.headers().firstValue("Retry-After").orElse(null));
        }

        Reply get(String path, String key) throws Exception {
            return call("GET", path, key, null, null);
        }

        Reply put(String path, String key, String body) throws Exception {
            return call("PUT", path, key, "application/json", body);
        }

        @Override
        public void close() throws InterruptedException {
            child.close();
        }
    }

    record Reply(int status, String body, String retryAfter) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }

        String error() throws IOException {
            return json().path("error").asText();
        }

        @Override
        public String toString() {
            return status + " " + body;
        }
    }

    static final String WEB = """
            {"description":"web tier","on_rule_change":"keep",
             "inbound_rules":[{"description":"https","protocol":"tcp","port":443,"source_cidr":"0.0.0.0/0"},
                              {"protocol":"tcp","port_range":"8000-8100","source_group":"default"}],
             "outbound_rules":[{"protocol":"all","destination_cidr":"0.0.0.0/0"}]}""";

    @Test
    void contractErrorsJournalReplayAndAudit() throws Exception {
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            Path cfg = config(net, dir, "  max-auth-failures: 4\n");
            long gen;
            JsonNode webAfter;
            try (Started s = start(cfg)) {
                Reply h = s.get("/v1/health", null);
                assertEquals(200, h.status(), h.toString());
                assertEquals("ok", h.json().path("status").asText());
                assertEquals(1, h.json().path("generation").asLong(), h.toString());
                assertTrue(s.get("/v1/openapi.json", null).json().path("paths").has("/v1/projects/{p}/security-groups/{g}"));

                // 401: missing and wrong key
                Reply r = s.get("/v1/projects/blue/security-groups/web", null);
                assertEquals(401, r.status(), r.toString());
                assertEquals("missing X-API-Key header", r.error());
                r = s.get("/v1/projects/blue/security-groups/web", "not-a-key");
                assertEquals(401, r.status(), r.toString());

                // the file's groups through the API
                r = s.get("/v1/projects/blue/security-groups/web", BLUE_KEY);
                assertEquals(200, r.status(), r.toString());
                assertEquals(80, r.json().path("inbound_rules").get(0).path("port").asInt(), r.toString());

                // 403: operator-only with a project key; the operator may
                r = s.get("/v1/projects", BLUE_KEY);
                assertEquals(403, r.status(), r.toString());
                assertEquals(200, s.get("/v1/projects", OPERATOR_KEY).status());

                // 404 across projects: the same answer as for a project that does not exist
                Reply other = s.get("/v1/projects/red/security-groups/default", BLUE_KEY);
                Reply none = s.get("/v1/projects/nope/security-groups/default", BLUE_KEY);
                assertEquals(404, other.status(), other.toString());
                assertEquals(404, none.status(), none.toString());
                assertEquals(other.error().replace("red", "X"), none.error().replace("nope", "X"));
                assertEquals(200, s.get("/v1/projects/red/security-groups/default", OPERATOR_KEY).status());
                assertEquals(404, s.get("/v1/projects/blue/security-groups/nosuch", BLUE_KEY).status());

                // 400 naming the field, 415, 413, 405: nothing changes
                r = s.put("/v1/projects/blue/security-groups/web", BLUE_KEY,
                        "{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":22},{\"protocol\":\"tcp\",\"port\":70000}]}");
                assertEquals(400, r.status(), r.toString());
                assertEquals("inbound_rules[1].port: 70000 is not a port (1-65535)", r.error());
                r = s.put("/v1/projects/blue/security-groups/web", BLUE_KEY, "{\"inbound_rules\":[{\"source_group\":\"nosuch\"}]}");
                assertEquals(400, r.status(), r.toString());
                assertTrue(r.error().startsWith("inbound_rules[0].source_group: no group 'nosuch' in project blue"), r.toString());
                r = s.put("/v1/projects/blue/security-groups/web", BLUE_KEY, "{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":1}], \"x\": 1}");
                assertEquals(400, r.status(), r.toString());
                assertTrue(r.error().startsWith("x: unknown field"), r.toString());
                r = s.call("PUT", "/v1/projects/blue/security-groups/web", BLUE_KEY, "text/plain", WEB);
                assertEquals(415, r.status(), r.toString());
                r = s.put("/v1/projects/blue/security-groups/web", BLUE_KEY, "{\"description\":\"" + "x".repeat(5000) + "\"}");
                assertEquals(413, r.status(), r.toString());
                r = s.call("POST", "/v1/projects/blue/security-groups/web", BLUE_KEY, "application/json", WEB);
                assertEquals(405, r.status(), r.toString());
                assertEquals(1, s.get("/v1/health", null).json().path("generation").asLong(), "a refused call changed the generation");
                assertEquals(401, s.call("POST", "/v1/health", null, null, null).status(), "only GET /v1/health is open");

                // accepted changes: generation +1 each, the answer after they apply
                r = s.put("/v1/projects/blue/security-groups/web", BLUE_KEY, WEB);
                assertEquals(200, r.status(), r.toString());
                assertEquals(2, r.json().path("generation").asLong(), r.toString());
                webAfter = s.get("/v1/projects/blue/security-groups/web", BLUE_KEY).json();
                assertEquals("web tier", webAfter.path("description").asText());
                assertEquals("8000-8100", webAfter.path("inbound_rules").get(1).path("port_range").asText(), webAfter.toString());
                assertEquals("default", webAfter.path("inbound_rules").get(1).path("source_group").asText());
                r = s.put("/v1/projects/blue/vms/app/security-groups", BLUE_KEY, "{\"groups\":[\"default\",\"web\"]}");
                assertEquals(200, r.status(), r.toString());
                assertEquals(3, r.json().path("generation").asLong());
                assertEquals(List.of("default", "web"), JSON.convertValue(s.get("/v1/projects/blue/vms/app/security-groups", BLUE_KEY).json().path("groups"), List.class));
                r = s.put("/v1/projects/blue/security-groups/tmp", BLUE_KEY, "{\"inbound_rules\":[{\"protocol\":\"udp\",\"port\":53}]}");
                assertEquals(4, r.json().path("generation").asLong(), r.toString());
                r = s.call("DELETE", "/v1/projects/blue/security-groups/tmp", BLUE_KEY, null, null);
                assertEquals(200, r.status(), r.toString());
                assertEquals(5, r.json().path("generation").asLong(), r.toString());

                // 409: the default group, and a group a VM still uses
                r = s.call("DELETE", "/v1/projects/blue/security-groups/default", BLUE_KEY, null, null);
                assertEquals(409, r.status(), r.toString());
                r = s.call("DELETE", "/v1/projects/blue/security-groups/web", BLUE_KEY, null, null);
                assertEquals(409, r.status(), r.toString());
                assertTrue(r.error().contains("still has VM blue/"), r.toString());

                // SIGHUP reload shares the counter and keeps the API's changes
                s.child().signal("HUP");
                assertNotNull(s.child().await(l -> l.startsWith("sluice: reload (SIGHUP): nothing applied; security-groups unchanged; generation 5"), 10_000),
                        s.child().output());
                // a reload that changes the file applies it with the API's changes on top: +1, journaled
                String text = Files.readString(cfg);
                Path next = cfg.resolveSibling("sluice.yaml.new");
                Files.writeString(next, text.replace("  groups:\n    - name: web\n",
                        "  groups:\n    - name: extra\n      rules: [{id: dns, direction: ingress, protocol: udp, ports: 53}]\n    - name: web\n"));
                assertTrue(Files.readString(next).contains("name: extra"), Files.readString(next));
                Files.move(next, cfg, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                assertNotNull(s.child().await(l -> l.startsWith("sluice: reload (file renamed into place): applied security-groups")
                        && l.endsWith("; generation 6"), 10_000), s.child().output());
                assertEquals(53, s.get("/v1/projects/blue/security-groups/extra", BLUE_KEY).json().path("inbound_rules").get(0).path("port").asInt());
                JsonNode webNow = s.get("/v1/projects/blue/security-groups/web", BLUE_KEY).json();
                assertEquals("web tier", webNow.path("description").asText(), "the reload undid the API's change: " + webNow);

                // audit: a project key sees only its projects' records; the operator sees all
                JsonNode mine = s.get("/v1/audit-log?limit=1000", BLUE_KEY).json().path("records");
                assertTrue(mine.size() > 10, mine.toString());
                for (JsonNode rec : mine) assertEquals("blue", rec.path("project").asText(), rec.toString());
                JsonNode all = s.get("/v1/audit-log?limit=1000", OPERATOR_KEY).json().path("records");
                assertTrue(Stream.of(all).flatMap(a -> java.util.stream.StreamSupport.stream(a.spliterator(), false))
                        .anyMatch(rec -> rec.path("project").asText().equals("red")), all.toString());
                JsonNode puts = s.get("/v1/audit-log?limit=5&action_prefix=security_group.put", BLUE_KEY).json().path("records");
                assertEquals(5, puts.size(), puts.toString());
                assertEquals("accepted", puts.get(0).path("outcome").asText(), puts.toString()); // newest first: tmp
                assertEquals("blue/tmp", puts.get(0).path("target").asText(), puts.toString());
                assertEquals("blue-admin", puts.get(0).path("key_id").asText());
                assertFalse(all.toString().contains(BLUE_KEY) || all.toString().contains(OPERATOR_KEY), "a key in the audit log");

                // 429 after repeated failures from one address; then even a good key waits
                Reply last = null;
                for (int i = 0; i < 5; i++) last = s.get("/v1/projects/blue/security-groups/web", "wrong-" + i);
                assertEquals(429, last.status(), last.toString());
                assertNotNull(last.retryAfter());
                assertTrue(Integer.parseInt(last.retryAfter()) >= 1 && Integer.parseInt(last.retryAfter()) <= 60, last.retryAfter());
                assertEquals(429, s.get("/v1/projects/blue/security-groups/web", BLUE_KEY).status());
                assertEquals(200, s.get("/v1/health", null).status(), "health is not rate limited");
                gen = s.get("/v1/health", null).json().path("generation").asLong();
                s.child().signal("TERM");
                assertEquals(0, s.child().awaitExit(30), s.child().output());
            }

            // restart: the same rules and generation from the file plus the journal
            try (Started s = start(cfg)) {
                assertTrue(s.child().output().contains(" 4 change(s) replayed from "), s.child().output());
                assertEquals(53, s.get("/v1/projects/blue/security-groups/extra", BLUE_KEY).json().path("inbound_rules").get(0).path("port").asInt());
                assertEquals(gen, s.get("/v1/health", null).json().path("generation").asLong());
                JsonNode web = s.get("/v1/projects/blue/security-groups/web", BLUE_KEY).json();
                assertEquals(gen, web.path("generation").asLong());
                ((com.fasterxml.jackson.databind.node.ObjectNode) web).remove("generation");
                ((com.fasterxml.jackson.databind.node.ObjectNode) webAfter).remove("generation");
                assertEquals(webAfter, web);
                assertEquals(List.of("default", "web"), JSON.convertValue(s.get("/v1/projects/blue/vms/app/security-groups", BLUE_KEY).json().path("groups"), List.class));
                assertEquals(404, s.get("/v1/projects/blue/security-groups/tmp", BLUE_KEY).status());
                s.child().signal("TERM");
                assertEquals(0, s.child().awaitExit(30), s.child().output());
            }

            // the audit chain is intact; an edited record is named
            long[] n = new long[1];
            assertNull(AuditLog.verify(dir.resolve("audit"), n));
            assertTrue(n[0] > 30, "records: " + n[0]);
            Path cq4 = queueFile(dir.resolve("audit"));
            byte[] b = Files.readAllBytes(cq4);
            int at = indexOf(b, "\"target\":\"blue/tmp\"".getBytes(StandardCharsets.UTF_8));
            assertTrue(at > 0);
            b[at + 15] = 'x'; // blue/tmp -> blue/xmp
            Files.write(cq4, b);
            String problem = AuditLog.verify(dir.resolve("audit"), n);
            assertNotNull(problem, "an edited record was not found");
            assertTrue(problem.matches("record \\d+ \\(queue index 0x[0-9a-f]+\\) was changed: .*"), problem);

            // a corrupt journal stops start-up, and is left as it is
            Path jq = queueFile(dir.resolve("journal"));
            byte[] j = Files.readAllBytes(jq);
            int w = indexOf(j, "\"port\":443".getBytes(StandardCharsets.UTF_8));
            assertTrue(w > 0);
            j[w + 8] = '5';
            Files.write(jq, j);
            try (ServiceChild c = ServiceChild.run(cfg)) {
                assertEquals(2, c.awaitExit(60), c.output());
                assertTrue(c.output().contains("is corrupt: its checksum does not match its bytes. Start-up stopped; the journal is left as it is"),
                        c.output());
            }
            assertTrue(java.util.Arrays.equals(j, Files.readAllBytes(jq)), "the journal was changed");
        }
    }

    static Path queueFile(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> l = s.filter(p -> p.toString().endsWith(".cq4")).toList();
            assertEquals(1, l.size(), "queue files in " + dir + ": " + l);
            return l.get(0);
        }
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int k = 0; k < needle.length; k++) if (hay[i + k] != needle[k]) continue outer;
            return i;
        }
        return -1;
    }
}
