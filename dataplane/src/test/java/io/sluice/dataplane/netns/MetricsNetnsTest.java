package io.sluice.dataplane.netns;

import io.sluice.dataplane.counters.Counters;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Prometheus endpoint of {@code ./sluice run} with real hosts: scrapes answer while a ping
 * flood goes through the data plane, each parses with the Prometheus client's parser, and once the
 * traffic stops a scrape equals the counters file that {@code ./sluice stats} reads.
 */
class MetricsNetnsTest {
    @Test
    void scrapesAnswerUnderLoadAndEqualTheCounters() throws Exception {
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            String a = net.name("ma");
            String b = net.name("mb");
            Path cfg = ServiceChild.twoTapConfig(dir, a, b, "arp:\n"
                    + "  - { ip: 10.199.77.1, mac: \"02:5c:00:00:01:01\" }\n"
                    + "  - { ip: 10.199.77.2, mac: \"02:5c:00:00:01:02\" }\n");
            Path countersFile = dir.resolve("counters.dat");
            try (ServiceChild c = ServiceChild.run(cfg)) {
                c.awaitReady(60_000);
                ServiceChild.Line ml = c.await(l -> l.startsWith("sluice: metrics: http://127.0.0.1:"), 10_000);
                assertNotNull(ml, c.output());
                int port = Integer.parseInt(ml.text().replaceAll(".*:(\\d+)/metrics$", "$1"));
                String h1 = net.create("h1");
                String h2 = net.create("h2");
                net.moveAndAddress(a, h1, "10.199.77.1/24");
                net.moveAndAddress(b, h2, "10.199.77.2/24");
                net.exec(h1, 10, "ip", "link", "set", "dev", a, "address", "02:5c:00:00:01:01");
                net.exec(h2, 10, "ip", "link", "set", "dev", b, "address", "02:5c:00:00:01:02");
                Netns.Result warm = net.exec(h1, 20, "ping", "-c", "2", "-W", "2", "10.199.77.2");
                assertTrue(warm.ok(), "no path through the data plane:\n" + warm.output() + "\n" + c.output());

                AtomicReference<Netns.Result> flood = new AtomicReference<>();
                Thread t = new Thread(() -> flood.set(net.exec(h1, 30, "ping", "-f", "-w", "4", "-q", "10.199.77.2")));
                t.start();
                List<Double> rx = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    Thread.sleep(500);
                    Map<String, Double> s = io.sluice.dataplane.metrics.CounterMetricsTestAccess.scrape(port);
                    rx.add(s.getOrDefault("sluice_port_rx_packets_total{port=a,worker=0}", -1.0));
                }
                t.join();
                assertTrue(flood.get().ok() || flood.get().output().contains("received"), flood.get().output());
                assertTrue(rx.get(rx.size() - 1) - rx.get(0) > 100, "scrapes during the flood saw it move: " + rx);

                // quiet now: a scrape between two equal reads of the counters file must equal them (the
                // duty-cycle count always moves: it must lie between the two reads)
                String cycles = "sluice_worker_duty_cycles_total{worker=0}";
                boolean compared = false;
                for (int i = 0; i < 20 && !compared; i++) {
                    Thread.sleep(100);
                    Map<String, Double> before = io.sluice.dataplane.metrics.CounterMetricsTestAccess.expected(
                            Counters.readDetailed(countersFile));
                    Map<String, Double> s = new java.util.TreeMap<>(io.sluice.dataplane.metrics.CounterMetricsTestAccess.scrape(port));
                    Map<String, Double> after = new java.util.TreeMap<>(io.sluice.dataplane.metrics.CounterMetricsTestAccess.expected(
                            Counters.readDetailed(countersFile)));
                    double c0 = before.remove(cycles);
                    double c1 = after.remove(cycles);
                    double cs = s.remove(cycles);
                    if (before.equals(after)) {
                        assertEquals(after, s);
                        assertTrue(c0 <= cs && cs <= c1, c0 + " <= " + cs + " <= " + c1);
                        assertTrue(after.get("sluice_port_rx_packets_total{port=a,worker=0}") > 1000, after::toString);
                        compared = true;
                    }
                }
                assertTrue(compared, "the counters never held still for a scrape");
                c.signal("TERM");
                assertEquals(0, c.awaitExit(30), c.output());
            }
        }
    }
}
