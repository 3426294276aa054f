package io.sluice.dataplane.netns;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.demo.TcpProbe;
import io.sluice.dataplane.nat.NatHarness;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Floating IPs and a VM's own firewall through the control API, with real hosts: NatNetnsTest's
 * host ({@code Main run} in a child JVM: web holds 203.0.113.10 in the file, job is outbound-only,
 * the pool is .10-.11, SNAT address .5) plus project red (a remote VM only) and the API.
 * <ol>
 *   <li>before any host exists: red allocates .11 (operator); blue gets 404 for it on GET and DELETE
 *       and 409 on PUT and on a POST asking for it, and 409 when the pool is exhausted; blue
 *       reassigns .10 to job; a SIGHUP reload of the unchanged file applies nothing (the API's change
 *       is replayed over the file's public access); a restart replays it: the same floating IPs and generation;</li>
 *   <li>with the hosts: the server reaches job at .10 (the replayed association is live); while the
 *       server holds a connection to .10, a PUT moves it back to web: the held connection is cut
 *       (OSSN-0020: its segments reach web, where they belong to no connection: judged by web's own rules, mid-stream pickup), web answers, job is outbound-only again (the server sees
 *       the SNAT address); a detach leaves nobody answering; associate again;</li>
 *   <li>the VM firewall: web's port 8080 is closed by its groups (one {@code fw_no_rule}); a PUT of
 *       {@code …/vms/web/firewall} with TCP 8080 in opens it for the next connection, GET returns
 *       it, an empty PUT closes it again, and web's security groups are unchanged throughout;</li>
 *   <li>release to the pool; the audit log holds allocate, reassign, detach, associate, release.</li>
 * </ol>
 */
class ControlApiFloatingIpNetnsTest {
    static final String FIP = "203.0.113.10", FIP2 = "203.0.113.11", SNAT = "203.0.113.5", SERVER = NatNetnsTest.SERVER;
    static final String OP = ControlApiNetnsTest.OPERATOR_KEY, BLUE = ControlApiNetnsTest.BLUE_KEY;
    static final String BASE = "/v1/projects/blue/floating-ips";

    static Path config(OverlayHosts h) throws Exception {
        String[] taps = new String[5];
        String[] names = {"up", "ext", "web", "job", "vault"};
        for (int k = 0; k < 5; k++) taps[k] = "net_tap" + k + ",iface=" + h.tap(names[k]);
        String y = NatHarness.yaml(64, 4, taps, new String[] {NatNetnsTest.WEB, NatNetnsTest.JOB, NatNetnsTest.VAULT})
                .replace("eal: [\"--no-huge\"]", "eal: [\"--no-huge\", \"-m\", \"1024\", \"--no-pci\", \"--no-shconf\", \"-l\", \"0\"]\nmbufs: 16383\n"
                        + "counters-file: " + h.dir.resolve("counters.dat"))
                .replace("security-groups:", """
                            - name: red
                              vni: 200
                              cidr: 10.0.0.0/16
                              subnets: [{name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1}]
                              vms: [{name: ghost, subnet: a, mac: "02:b3:00:00:81:12", ip: 10.0.1.12, vtep: 192.168.50.2}]
                        security-groups:""")
                + ControlApiNetnsTest.apiSection(h.dir, "  sync: none\n");
        Path f = h.dir.resolve("sluice.yaml");
        Files.writeString(f, y);
        return f;
    }

    static ControlApiNetnsTest.Reply post(ControlApiNetnsTest.Started s, String path, String key, String body) throws Exception {
        return body == null ? s.call("POST", path, key, null, null) : s.call("POST", path, key, "application/json", body);
    }

    static JsonNode ok(ControlApiNetnsTest.Reply r) throws Exception {
        assertEquals(200, r.status(), r.toString());
        return r.json();
    }

    @Test
    void floatingIpsAndTheVmFirewallThroughTheApi() throws Exception {
        List<Process> servers = new ArrayList<>();
        try (OverlayHosts h = new OverlayHosts()) {
            Path cfg = config(h);
            Path counters = h.dir.resolve("counters.dat");
            long gen;
            try (ControlApiNetnsTest.Started s = ControlApiNetnsTest.start(cfg)) {
                JsonNode list = ok(s.get(BASE, BLUE));
                assertEquals(1, list.path("floating_ips").size(), list.toString());
                assertEquals("web", list.path("floating_ips").get(0).path("vm").asText(), "the file's floating IP is blue's");
                // red allocates the pool's other address; to blue it is someone else's
                JsonNode red = ok(post(s, "/v1/projects/red/floating-ips", OP, null));
                assertEquals(FIP2, red.path("ip").asText(), red.toString());
                assertTrue(red.path("vm").isNull(), red.toString());
                ControlApiNetnsTest.Reply r = s.get(BASE + "/" + FIP2, BLUE);
                assertEquals(404, r.status(), r.toString());
                assertEquals(r.error(), s.get(BASE + "/203.0.113.99", BLUE).error().replace("203.0.113.99", FIP2), "the same answer as for no such address");
                assertEquals(404, s.call("DELETE", BASE + "/" + FIP2, BLUE, null, null).status());
                r = s.put(BASE + "/" + FIP2, BLUE, "{\"vm\":\"job\"}");
                assertEquals(409, r.status(), r.toString());
                assertEquals("floating IP 203.0.113.11 is allocated to another project", r.error());
                assertEquals(409, post(s, BASE, BLUE, "{\"ip\":\"" + FIP2 + "\"}").status());
                r = post(s, BASE, BLUE, "{}");
                assertEquals(409, r.status(), r.toString());
                assertEquals("the floating-IP pool is exhausted (2 address(es), all allocated)", r.error());
                r = s.put(BASE + "/" + FIP, BLUE, "{\"vm\":\"nosuch\"}");
                assertEquals(400, r.status(), r.toString());
                assertEquals("vm: no VM 'nosuch' in project blue", r.error());
                assertEquals(400, s.put(BASE + "/" + FIP, BLUE, "{\"vm\":\"job\",\"x\":1}").status());
                // reassign before the hosts exist; a restart replays it
                JsonNode moved = ok(s.put(BASE + "/" + FIP, BLUE, "{\"vm\":\"job\"}"));
                assertEquals("job", moved.path("vm").asText(), moved.toString());
                gen = moved.path("generation").asLong();
                // a reload of the unchanged file keeps the API's floating IPs (replayed over the file's)
                s.child().signal("HUP");
                assertTrue(s.child().await(l -> l.startsWith("sluice: reload (SIGHUP): nothing applied; security-groups unchanged; generation " + gen0(moved)), 10_000) != null,
                        s.child().output());
                assertEquals("job", ok(s.get(BASE + "/" + FIP, BLUE)).path("vm").asText());
                s.child().signal("TERM");
                assertEquals(0, s.child().awaitExit(30), s.child().output());
            }
            try (ControlApiNetnsTest.Started s = ControlApiNetnsTest.start(cfg)) {
                assertEquals(gen, s.get("/v1/health", null).json().path("generation").asLong(), "the generation after the restart");
                assertEquals("job", ok(s.get(BASE + "/" + FIP, BLUE)).path("vm").asText());
                assertTrue(ok(s.get("/v1/projects/red/floating-ips/" + FIP2, OP)).path("vm").isNull());

                String[] ns = NatNetnsTest.internet(h, servers);
                String server = ns[1], web = ns[2], job = ns[3];
                assertTrue(hello(h, server).contains("hello job"), "the replayed association is live: " + hello(h, server));

                // a held connection to job through .10; the PUT moves .10 back to web
                Path trigger = h.dir.resolve("go");
                Path out = h.dir.resolve("hold.txt");
                Process hold = h.netns.spawn(server, out, "python3", "-c", NatNetnsTest.HOLD_CLIENT, FIP, "22", trigger.toString());
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (!Files.readString(out).contains("greeting") && System.nanoTime() < deadline) Thread.sleep(50);
                assertTrue(Files.readString(out).contains("greeting hello job"), Files.readString(out));
                        java.util.Map<String, Long> c0 = Counters.read(counters);
                JsonNode back = ok(s.put(BASE + "/" + FIP, BLUE, "{\"vm\":\"web\"}"));
                assertEquals(gen + 1, back.path("generation").asLong(), back.toString());
                Files.writeString(trigger, "go");
                assertTrue(hold.waitFor(60, TimeUnit.SECONDS), "held client did not finish");
                assertTrue(Files.readString(out).contains("cut"), "the old holder's connection is cut:\n" + Files.readString(out));
                // the held connection's segments now reach web, where they belong to no connection: web's
                // own rules judge them (mid-stream pickup, tcp-pickup on by default; its default group lets
                // 22 in, so web's stack sees the segment and resets it: "cut" above), never job's connection
                String created = "firewall connections created";
                assertTrue(awaitCounter(counters, created, c0.getOrDefault(created, 0L) + 1) > c0.getOrDefault(created, 0L),
                        "picked up on web's port by web's rules");
                assertTrue(hello(h, server).contains("hello web"), "the new holder answers");
                assertEquals("peer " + SNAT, peer(h, job), "job is outbound-only again");
                assertEquals("peer " + FIP, peer(h, web), "web leaves with its floating IP");

                // detach: nobody answers at .10, web is outbound-only; associate again
                JsonNode det = ok(s.put(BASE + "/" + FIP, BLUE, "{\"vm\":null}"));
                assertTrue(det.path("vm").isNull(), det.toString());
                assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(h, server, FIP, 22), "a detached address answers nothing");
                assertEquals("peer " + SNAT, peer(h, web));
                ok(s.put(BASE + "/" + FIP, BLUE, "{\"vm\":\"web\"}"));
                assertTrue(hello(h, server).contains("hello web"));

                // the VM's own firewall: 8080 on web
                Process s8080 = h.netns.spawn(web, null, TcpProbe.serve(8080));
                servers.add(s8080);
                TcpProbe.awaitReady(s8080);
                String noRule = "firewall port web drop fw_no_rule";
                long d0 = counter(counters, noRule);
                assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(h, server, FIP, 8080), "8080 is not in web's groups");
                assertTrue(awaitCounter(counters, noRule, d0 + 1) >= d0 + 1);
                JsonNode groupsBefore = ok(s.get("/v1/projects/blue/vms/web/security-groups", BLUE)).path("groups");
                JsonNode fw = ok(s.put("/v1/projects/blue/vms/web/firewall", BLUE,
                        "{\"inbound_rules\":[{\"description\":\"app\",\"protocol\":\"tcp\",\"port\":8080,\"source_cidr\":\"0.0.0.0/0\"}]}"));
                assertEquals(8080, fw.path("inbound_rules").get(0).path("port").asInt(), fw.toString());
                assertEquals(TcpProbe.Outcome.CONNECTED, connect(h, server, FIP, 8080), "the next connection after the VM firewall's 200");
                JsonNode got = ok(s.get("/v1/projects/blue/vms/web/firewall", BLUE));
                assertEquals("app", got.path("inbound_rules").get(0).path("description").asText(), got.toString());
                assertEquals(groupsBefore, ok(s.get("/v1/projects/blue/vms/web/security-groups", BLUE)).path("groups"),
                        "the VM's own group is not one of its security groups");
                assertTrue(!ok(s.get("/v1/projects/blue/security-groups", BLUE)).toString().contains("@"), "nor listed among the project's");
                ok(s.put("/v1/projects/blue/vms/web/firewall", BLUE, "{\"inbound_rules\":[]}"));
                long d1 = counter(counters, noRule);
                assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(h, server, FIP, 8080), "closed again");
                assertTrue(awaitCounter(counters, noRule, d1 + 1) >= d1 + 1);

                // release to the pool: red's goes back, blue allocates it, and releases it
                assertEquals(FIP2, ok(s.call("DELETE", "/v1/projects/red/floating-ips/" + FIP2, OP, null, null)).path("released").asText());
                // ... and blue takes it with ./sluice ctl, assigns it to job (the server reaches job there), releases it
                java.util.Map<String, String> env = java.util.Map.of("SLUICE_API", s.base().toString(), "SLUICE_API_KEY", BLUE);
                CtlNetnsTest.Out o = CtlNetnsTest.ctl(env, "fip", "allocate", "blue");
                assertEquals(0, o.code(), o.toString());
                assertTrue(o.out().startsWith("IP            PROJECT  VM\n203.0.113.11  blue     -\n"), o.out());
                o = CtlNetnsTest.ctl(env, "fip", "assign", "blue", FIP2, "job");
                assertTrue(o.out().contains("203.0.113.11  blue     job"), o.toString());
                assertTrue(h.netns.exec(server, 10, TcpProbe.connect(FIP2, 22)).output().contains("hello job"), "job answers at .11");
                o = CtlNetnsTest.ctl(env, "fips", "blue");
                assertTrue(o.out().contains("203.0.113.10  blue     web\n203.0.113.11  blue     job\n"), o.out());
                o = CtlNetnsTest.ctl(env, "fip", "release", "blue", FIP2);
                assertTrue(o.code() == 0 && o.out().startsWith("released: 203.0.113.11, generation "), o.toString());
                assertEquals(new CtlNetnsTest.Out(1, "", "no floating IP '203.0.113.11' in project blue\n"), CtlNetnsTest.ctl(env, "fip", "release", "blue", FIP2));
                assertEquals(1, ok(s.get(BASE, BLUE)).path("floating_ips").size());

                JsonNode audit = ok(s.get("/v1/audit-log?limit=200&action_prefix=floating_ip", OP)).path("records");
                List<String> actions = new ArrayList<>();
                for (JsonNode a : audit) if (a.path("status").asInt() == 200) actions.add(a.path("action").asText());
                for (String a : List.of("allocate", "reassign", "detach", "associate", "release", "list", "get")) {
                    assertTrue(actions.contains("floating_ip." + a), "audit has floating_ip." + a + ": " + actions);
                }
                s.child().signal("TERM");
                assertEquals(0, s.child().awaitExit(30), s.child().output());
            } finally {
                for (Process p : servers) p.destroyForcibly();
            }
        }
    }

    static long gen0(JsonNode r) {
        return r.path("generation").asLong();
    }

    static String hello(OverlayHosts h, String server) {
        return h.netns.exec(server, 10, TcpProbe.connect(FIP, 22)).output();
    }

    static TcpProbe.Outcome connect(OverlayHosts h, String ns, String ip, int port) {
        Netns.Result r = h.netns.exec(ns, 10, TcpProbe.connect(ip, port));
        return TcpProbe.outcome(r.exit(), r.output());
    }

    static String peer(OverlayHosts h, String ns) {
        return h.netns.exec(ns, 15, TcpProbe.askPeer(SERVER, 8000)).output().trim();
    }

    /** The sum of every counter whose label ends with {@code suffix}. */
    static long counter(Path file, String suffix) {
        long n = 0;
        for (var e : Counters.read(file).entrySet()) if (e.getKey().endsWith(suffix)) n += e.getValue();
        return n;
    }

    static long awaitCounter(Path file, String label, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + 3_000_000_000L;
        long v;
        while ((v = counter(file, label)) < atLeast && System.nanoTime() < deadline) Thread.sleep(20);
        return v;
    }
}
