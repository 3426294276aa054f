package io.sluice.dataplane.netns;

import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.demo.TcpProbe;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A rule changed through the control API holds for the next connection, with real hosts: the data
 * plane ({@code Main run} in a child JVM, overlay + security groups + API) with VMs app and db of
 * project blue as namespaces on its TAP ports. db is in {@code web} (TCP 80 in only): app's
 * connection to db:8443 times out (one {@code fw_no_rule} on db's port); once
 * {@code PUT /v1/projects/blue/security-groups/web} adds TCP 8443 from 10.0.1.0/24 and answers
 * 200, the very next connection gets through; after a PUT without it, the next one is dropped again.
 */
class ControlApiTrafficNetnsTest {
    static final String WEB_80 = "{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":80}]}";
    static final String WEB_80_8443 = "{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":80},"
            + "{\"description\":\"tls from the subnet\",\"protocol\":\"tcp\",\"port\":8443,\"source_cidr\":\"10.0.1.0/24\"}]}";

    @Test
    void aRuleAddedByPutLetsTheNextConnectionThrough() throws Exception {
        try (OverlayHosts h = new OverlayHosts()) {
            Path cfg = ControlApiNetnsTest.config(h.netns, h.dir, "");
            Path counters = h.dir.resolve("counters.dat");
            try (ControlApiNetnsTest.Started s = ControlApiNetnsTest.start(cfg)) {
                OverlayHosts.awaitLink(h.tap("up"));
                String ul = h.netns.create("ul");
                Netns.run("ip", "link", "set", "dev", h.tap("up"), "netns", ul);
                String app = h.vm("app", h.tap("app"), "02:b3:00:00:01:11", "10.0.1.11/24", "10.0.1.1", 1500);
                String db = h.vm("db", h.tap("db"), "02:b3:00:00:01:12", "10.0.1.12/24", "10.0.1.1", 1500);
                Process server = h.netns.spawn(db, h.dir.resolve("srv-db.txt"), TcpProbe.serve(8443));
                try {
                    h.waitListening(db, 8443);
                    String drop = "firewall port db drop fw_no_rule";
                    long d0 = counter(counters, drop);
                    assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(h, app), "before the PUT");
                    awaitCounter(counters, drop, d0 + 1);

                    ControlApiNetnsTest.Reply r = s.put("/v1/projects/blue/security-groups/web", ControlApiNetnsTest.BLUE_KEY, WEB_80_8443);
                    assertEquals(200, r.status(), r.toString());
                    assertEquals(TcpProbe.Outcome.CONNECTED, connect(h, app), "the next connection after the PUT's 200");
                    assertEquals(1, counter(counters, "firewall rule blue:web/in1 connections"), "hits of the new rule");

                    r = s.put("/v1/projects/blue/security-groups/web", ControlApiNetnsTest.BLUE_KEY, WEB_80);
                    assertEquals(200, r.status(), r.toString());
                    long d2 = counter(counters, drop);
                    assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(h, app), "the next connection after the rule was removed");
                    awaitCounter(counters, drop, d2 + 1);
                } finally {
                    server.destroyForcibly();
                }
                s.child().signal("TERM");
                assertEquals(0, s.child().awaitExit(30), s.child().output());
            }
        }
    }

    private static TcpProbe.Outcome connect(OverlayHosts h, String fromNs) {
        Netns.Result r = h.netns.exec(fromNs, 10, TcpProbe.connect("10.0.1.12", 8443));
        return TcpProbe.outcome(r.exit(), r.output());
    }

    private static long counter(Path file, String label) {
        Map<String, Long> m = Counters.read(file);
        return m.getOrDefault(label, 0L);
    }

    private static long awaitCounter(Path file, String label, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + 3_000_000_000L;
        long v;
        while ((v = counter(file, label)) < atLeast && System.nanoTime() < deadline) Thread.sleep(20);
        assertEquals(true, v >= atLeast, label + " = " + v + ", expected at least " + atLeast + ": " + Counters.read(file));
        return v;
    }
}
