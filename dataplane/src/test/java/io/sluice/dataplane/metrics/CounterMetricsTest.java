package io.sluice.dataplane.metrics;

import io.prometheus.metrics.model.snapshots.Labels;
import io.sluice.dataplane.counters.Counters;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Counter labels to Prometheus names and labels; a scrape over HTTP, parsed by the Prometheus client's own parser, equals the counters. */
class CounterMetricsTest {

    @Test
    void everyLabelFormMapsToANameAndLabels() {
        assertMapped("port vm1 rx packets", 0, "sluice_port_rx_packets", false, Labels.of("port", "vm1", "worker", "0"));
        assertMapped("port up tx bytes", 1, "sluice_port_tx_bytes", false, Labels.of("port", "up", "worker", "1"));
        assertMapped("port vm1 drop fw_no_rule", 0, "sluice_port_drops", false,
                Labels.of("port", "vm1", "reason", "fw_no_rule", "worker", "0"));
        assertMapped("stage overlay-route packets", 0, "sluice_stage_packets", false,
                Labels.of("stage", "overlay-route", "worker", "0"));
        assertMapped("worker 1 duty cycles", 1, "sluice_worker_duty_cycles", false, Labels.of("worker", "1"));
        assertMapped("worker 0 handoff out packets", 0, "sluice_worker_handoff_out_packets", false, Labels.of("worker", "0"));
        assertMapped("worker 0 handoff full drops", 0, "sluice_worker_handoff_full_drops", false, Labels.of("worker", "0"));
        assertMapped("worker 1 handoff rx pauses", 1, "sluice_worker_handoff_rx_pauses", false, Labels.of("worker", "1"));
        assertMapped("network blue rx packets", 0, "sluice_network_rx_packets", false, Labels.of("network", "blue", "worker", "0"));
        assertMapped("firewall port p2 drop fw_no_rule", 0, "sluice_firewall_drops", false,
                Labels.of("port", "p2", "reason", "fw_no_rule", "worker", "0"));
        assertMapped("firewall rule blue:default/self connections", 0, "sluice_firewall_rule_connections", false,
                Labels.of("rule", "blue:default/self", "worker", "0"));
        assertMapped("nat snat 203.0.113.5 blocks in use", 0, "sluice_nat_snat_blocks_in_use", true,
                Labels.of("address", "203.0.113.5", "worker", "0"));
        assertMapped("nat vm blue/web-1 snat exhausted", 0, "sluice_nat_vm_snat_exhausted", false,
                Labels.of("vm", "blue/web-1", "worker", "0"));
        assertMapped("firewall connections tracked", 1, "sluice_firewall_connections_tracked", true, Labels.of("worker", "1"));
        assertMapped("sluice lifecycle state", -1, "sluice_lifecycle_state", true, Labels.EMPTY);
        assertMapped("sluice config generation", -1, "sluice_config_generation", true, Labels.EMPTY);
        // a label no rule knows keeps its words
        assertMapped("overlay arp replies", 0, "sluice_overlay_arp_replies", false, Labels.of("worker", "0"));
    }

    private static void assertMapped(String label, int owner, String name, boolean gauge, Labels labels) {
        CounterMetrics.Mapped m = CounterMetrics.map(label, owner);
        assertEquals(name, m.name(), label);
        assertEquals(gauge, m.gauge(), label);
        assertEquals(labels, m.labels(), label);
    }

    @Test
    void scrapeParsedByThePrometheusParserEqualsTheCounters() throws Exception {
        Counters c = Counters.inMemory(64);
        c.allocate("port a rx packets", 0).set(10);
        c.allocate("port a rx packets", 1).set(5);
        c.allocate("port a drop no_route", 0).set(3);
        c.allocate("stage l2 packets", 0).set(7);
        c.allocate("worker 0 duty cycles", 0).set(123456789);
        c.allocate("sluice lifecycle state", -1).set(2);
        c.allocate("sluice started at ms", -1).set(1_765_000_000_000L);
        c.allocate("nat snat 203.0.113.5 blocks in use", 0).set(4);
        c.allocate("something new here", 0).set(1);
        try (MetricsServer m = MetricsServer.start("127.0.0.1", 0, c)) {
            Map<String, Double> got = scrape(m.port());
            Map<String, Double> want = new TreeMap<>();
            want.put("sluice_port_rx_packets_total{port=a,worker=0}", 10.0);
            want.put("sluice_port_rx_packets_total{port=a,worker=1}", 5.0);
            want.put("sluice_port_drops_total{port=a,reason=no_route,worker=0}", 3.0);
            want.put("sluice_stage_packets_total{stage=l2,worker=0}", 7.0);
            want.put("sluice_worker_duty_cycles_total{worker=0}", 123456789.0);
            want.put("sluice_lifecycle_state{}", 2.0);
            want.put("sluice_start_time_seconds{}", 1_765_000_000.0);
            want.put("sluice_nat_snat_blocks_in_use{address=203.0.113.5,worker=0}", 4.0);
            want.put("sluice_something_new_here_total{worker=0}", 1.0);
            assertEquals(want, got);
        }
    }

    /** GET /metrics, parsed by prometheus_client's text parser (Debian's python3-prometheus-client): "name{k=v,...}" to value. */
    static Map<String, Double> scrape(int port) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return parse(r.body());
    }

    static Map<String, Double> parse(String text) throws Exception {
        Path f = Files.createTempFile("scrape", ".txt");
        try {
            Files.writeString(f, text);
            String py = String.join("\n",
                    "import sys",
                    "from prometheus_client.parser import text_string_to_metric_families",
                    "for fam in text_string_to_metric_families(open(sys.argv[1]).read()):",
                    "    for s in fam.samples:",
                    "        if s.name.endswith('_created'): continue",
                    "        l = ','.join(k + '=' + v for k, v in sorted(s.labels.items()))",
                    "        print(s.name + '{' + l + '}' + ' ' + repr(float(s.value)))");
            Process p = new ProcessBuilder("/usr/bin/python3", "-c", py, f.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), "the Prometheus parser rejected the scrape:\n" + out + "\n--- scrape:\n" + text);
            Map<String, Double> m = new TreeMap<>();
            for (String line : out.split("\n")) {
                if (line.isBlank()) continue;
                int sp = line.lastIndexOf(' ');
                m.put(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1)));
            }
            return m;
        } finally {
            Files.deleteIfExists(f);
        }
    }

    static Map<String, Double> expected(Counters.Reading r) {
        Map<String, Double> m = new HashMap<>();
        for (Counters.Value v : r.values()) {
            CounterMetrics.Mapped mm = CounterMetrics.map(v.label(), v.owner());
            StringBuilder k = new StringBuilder(mm.name()).append(mm.gauge() ? "" : "_total").append('{');
            for (int i = 0; i < mm.labels().size(); i++) {
                if (i > 0) k.append(',');
                k.append(mm.labels().getName(i)).append('=').append(mm.labels().getValue(i));
            }
            k.append('}');
            double val = mm.name().equals("sluice_start_time_seconds") ? v.value() / 1000.0 : v.value();
            m.merge(k.toString(), val, Double::sum);
        }
        return m;
    }

    @Test
    void everyMetricTheDashboardUsesIsOneWeExport() throws Exception {
        Path dash = Path.of(System.getProperty("sluice.home", ".."), "docs", "grafana-sluice.json");
        String json = Files.readString(dash);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("sluice_[a-z_]+").matcher(json);
        java.util.Set<String> used = new java.util.TreeSet<>();
        while (m.find()) {
            used.add(m.group().replaceAll("_total$", ""));
        }
        assertTrue(used.size() >= 8, used::toString);
        for (String name : used) {
            boolean known = CounterMetrics.RULES.stream().anyMatch(r ->
                    name.matches(r.name().replaceAll("\\$\\d", "[a-z0-9_]+")));
            assertTrue(known, "the dashboard uses " + name + ", which no rule exports");
        }
    }
}
