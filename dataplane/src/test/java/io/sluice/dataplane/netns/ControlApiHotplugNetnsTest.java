package io.sluice.dataplane.netns;

import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.demo.TcpProbe;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static io.sluice.dataplane.netns.ControlApiNetnsTest.OPERATOR_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DPDK hot-plug through the control API, with real hosts: the data plane ({@code Main run} in a
 * child JVM, overlay + security groups + API, two hot-plug slots) with project blue's VMs app and db
 * as namespaces on its TAP ports. {@code PUT /v1/projects/blue/vms/w2} with a new
 * {@code port.device} (a TAP) answers 200 once the TAP exists and a worker polls it; w2 in its own
 * namespace then pings app (a member of its default group) and reaches db through the firewall on
 * TCP 80 (db's group {@code web}), while db:8443 is dropped ({@code fw_no_rule} on db's port); its
 * packets are counted on port {@code hotplug0}. {@code DELETE} removes the device (the TAP is gone,
 * the port's rx counter stops), a new PUT plugs it into the freed slot again, and after a restart the
 * journal's replay makes it a port at start that w2 (in a new namespace) uses again, until deleted.
 */
class ControlApiHotplugNetnsTest {
    static final String W2_MAC = "02:b3:00:00:01:13";

    @Test
    void aVmOnAHotPluggedTapTalksToItsNeighboursAndStopsWhenDeleted() throws Exception {
        try (OverlayHosts h = new OverlayHosts()) {
            Path cfg = ControlApiNetnsTest.config(h.netns, h.dir, "  hotplug-ports: 2\nmetrics:\n  listen: 127.0.0.1:0\n");
            Path counters = h.dir.resolve("counters.dat");
            String tap = h.tap("w2");
            String body = "{\"subnet\":\"a\",\"mac\":\"" + W2_MAC + "\",\"ipv4\":\"10.0.1.13\",\"port\":{\"device\":\"net_tap7,iface=" + tap + "\"}}";
            try (ControlApiNetnsTest.Started s = ControlApiNetnsTest.start(cfg)) {
                String[] vms = ControlApiTrafficNetnsTest.hosts(h);
                String app = vms[0];
                String db = vms[1];
                assertFalse(Netns.linkExists(null, tap), "the TAP exists before the PUT");

                ControlApiNetnsTest.Reply r = s.put("/v1/projects/blue/vms/w2", OPERATOR_KEY, body);
                assertEquals(200, r.status(), r.toString());
                assertEquals(2, r.json().path("generation").asLong(), r.toString());
                assertEquals("hotplug0", r.json().path("port").path("name").asText(), r.toString());
                assertTrue(Netns.linkExists(null, tap), "the 200 came before the device existed");
                assertTrue(s.child().output().contains("sluice: hot-plug: port hotplug0: net_tap7,iface=" + tap + " plugged in and polled"),
                        s.child().output());
                String w2 = h.vm("w2", tap, W2_MAC, "10.0.1.13/24", "10.0.1.1", 1500);
                h.assertPings(w2, "10.0.1.11");
                assertTrue(counter(counters, "port hotplug0 rx packets") >= 3, "w2's packets are counted on its port");
                ServiceChild.Line ml = s.child().await(l -> l.startsWith("sluice: metrics: http://127.0.0.1:"), 10_000);
                int metricsPort = Integer.parseInt(ml.text().replaceAll(".*:(\\d+)/metrics$", "$1"));
                double prom = io.sluice.dataplane.metrics.CounterMetricsTestAccess.scrape(metricsPort)
                        .getOrDefault("sluice_port_rx_packets_total{port=hotplug0,worker=0}", -1.0);
                assertTrue(prom >= 3, "Prometheus: rx packets of hotplug0 = " + prom);

                Process server = h.netns.spawn(db, h.dir.resolve("srv-db.txt"), TcpProbe.serve(80, 8443));
                try {
                    h.waitListening(db, 80);
                    h.waitListening(db, 8443);
                    assertEquals(TcpProbe.Outcome.CONNECTED, connect(h, w2, 80), "db's web group lets tcp 80 in");
                    String drop = "firewall port db drop fw_no_rule";
                    long d0 = counter(counters, drop);
                    assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(h, w2, 8443), "no rule lets tcp 8443 in");
                    awaitCounter(counters, drop, d0 + 1);
                } finally {
                    server.destroyForcibly();
                }

                // delete: out of the workers' port set, then the device is removed (its TAP goes with it)
                r = s.call("DELETE", "/v1/projects/blue/vms/w2", OPERATOR_KEY, null, null);
                assertEquals(200, r.status(), r.toString());
                assertEquals(3, r.json().path("generation").asLong(), r.toString());
                assertFalse(Netns.linkExists(w2, tap), "the TAP is still there after the DELETE's 200");
                assertTrue(s.child().output().contains("sluice: hot-plug: port hotplug0 unplugged and removed"), s.child().output());
                long rx = counter(counters, "port hotplug0 rx packets");
                assertFalse(h.ping(app, "10.0.1.13", 2).output().contains(" 0% packet loss"), "w2 still answers");
                Thread.sleep(300); // a worker flushes its counters at most 1 ms late; nothing may arrive on the port
                assertEquals(rx, counter(counters, "port hotplug0 rx packets"), "packets arrived on the unplugged port");

                // the slot and the DPDK name are free again: the same PUT plugs it in again
                r = s.put("/v1/projects/blue/vms/w2", OPERATOR_KEY, body);
                assertEquals(200, r.status(), r.toString());
                assertEquals("hotplug0", r.json().path("port").path("name").asText(), r.toString());
                assertTrue(Netns.linkExists(null, tap), "not plugged in again");
                s.child().signal("TERM");
                assertEquals(0, s.child().awaitExit(30), s.child().output());
            }

            // restart: the journal's replay makes the hot-plugged port a port at start
            try (ControlApiNetnsTest.Started s = ControlApiNetnsTest.start(cfg)) {
                assertTrue(s.child().output().contains("sluice: port hotplug0: net_tap7,iface=" + tap), s.child().output());
                assertTrue(s.child().output().contains("polls up:0, app:0, db:0, hotplug0:0,"), "the slot's worker polls it from the start: " + s.child().output());
                assertEquals(4, s.get("/v1/health", null).json().path("generation").asLong());
                // the first run's namespaces lost their TAPs with that process: new ones for this run
                OverlayHosts.awaitLink(h.tap("up"));
                Netns.run("ip", "link", "set", "dev", h.tap("up"), "netns", h.netns.create("ul2"));
                String app = h.vm("app2", h.tap("app"), "02:b3:00:00:01:11", "10.0.1.11/24", "10.0.1.1", 1500);
                String w2 = h.vm("w2b", tap, W2_MAC, "10.0.1.13/24", "10.0.1.1", 1500);
                h.assertPings(w2, "10.0.1.11");
                h.assertPings(app, "10.0.1.13");
                ControlApiNetnsTest.Reply r = s.call("DELETE", "/v1/projects/blue/vms/w2", OPERATOR_KEY, null, null);
                assertEquals(200, r.status(), r.toString());
                assertFalse(Netns.linkExists(w2, tap), "the TAP is still there after the DELETE's 200");
                s.child().signal("TERM");
                assertEquals(0, s.child().awaitExit(30), s.child().output());
            }
        }
    }

    private static TcpProbe.Outcome connect(OverlayHosts h, String fromNs, int port) {
        Netns.Result r = h.netns.exec(fromNs, 10, TcpProbe.connect("10.0.1.12", port));
        return TcpProbe.outcome(r.exit(), r.output());
    }

    private static long counter(Path file, String label) {
        return Counters.read(file).getOrDefault(label, 0L);
    }

    private static void awaitCounter(Path file, String label, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (counter(file, label) < atLeast && System.nanoTime() < deadline) Thread.sleep(20);
        assertTrue(counter(file, label) >= atLeast, label + " = " + counter(file, label) + ", expected at least " + atLeast);
    }
}
