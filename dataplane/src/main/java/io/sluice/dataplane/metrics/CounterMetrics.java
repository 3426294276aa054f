package io.sluice.dataplane.metrics;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.sluice.dataplane.counters.Counters;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every counter {@code ./sluice stats} shows, as Prometheus metrics (collected by the official
 * Java client, {@code prometheus-metrics-core}). A scrape reads the shared-memory counters
 * ({@link Counters#readAll()}): what the workers already publish, with no call into a worker.
 *
 * <p>A counter's label ("port vm1 drop fw_no_rule") becomes a metric name and labels
 * ({@code sluice_port_drops_total{port="vm1",reason="fw_no_rule",worker="0"}}) by the rules in
 * {@link #RULES}; a label no rule knows keeps its words as the name ({@code sluice_<words>_total}),
 * so nothing the data plane counts is left out. Worker-owned counters carry {@code worker="N"};
 * control-plane ones (lifecycle state, generation, start time) do not. Gauges: the lifecycle
 * state, the config generation, the start time, SNAT port blocks in use, conntrack and fragment
 * table occupancy per worker.
 */
public final class CounterMetrics implements MultiCollector {
    /** One mapping: a pattern over the counter label, the metric name (with $1.. from the groups), label names for the groups. */
    record Rule(Pattern pattern, String name, boolean gauge, String help, String... labelNames) {}

    static final List<Rule> RULES = List.of(
            rule("port (\\S+) (rx|tx) (packets|bytes)", "sluice_port_$2_$3", false, "Frames/bytes received or sent on a port", "port"),
            rule("port (\\S+) link up", "sluice_port_link_up", true, "1 when a vhost-user / memif port's peer is connected", "port"),
            rule("port (\\S+) link changes", "sluice_port_link_changes", false, "Link up/down transitions of a vhost-user / memif port", "port"),
            rule("port (\\S+) drop (\\S+)", "sluice_port_drops", false, "Frames dropped, by in-port and reason", "port", "reason"),
            rule("stage (\\S+) packets", "sluice_stage_packets", false, "Packets a pipeline stage acted on", "stage"),
            rule("worker \\d+ duty cycles", "sluice_worker_duty_cycles", false, "Duty cycles a worker ran"),
            rule("worker \\d+ handoff (out|in) packets", "sluice_worker_handoff_$1_packets", false, "Packets handed to / from other workers"),
            rule("worker \\d+ handoff full drops", "sluice_worker_handoff_full_drops", false, "Packets dropped on a full hand-off ring"),
            rule("worker \\d+ handoff rx pauses", "sluice_worker_handoff_rx_pauses", false,
                    "Rx polls a worker skipped because a hand-off ring had no room for a burst"),
            rule("network (\\S+) (rx|tx) packets", "sluice_network_$2_packets", false, "Packets into / out of a tenant network", "network"),
            rule("firewall port (\\S+) drop (\\S+)", "sluice_firewall_drops", false, "Packets the firewall dropped, by VM port and reason", "port", "reason"),
            rule("firewall rule (\\S+) connections", "sluice_firewall_rule_connections", false, "Connections a rule admitted", "rule"),
            rule("firewall connections tracked", "sluice_firewall_connections_tracked", true,
                    "Entries in a worker's conntrack shard (live, or expired and not yet reclaimed)"),
            rule("firewall fragment datagrams tracked", "sluice_firewall_fragment_datagrams_tracked", true,
                    "Fragmented datagrams a worker's fragment table holds"),
            rule("firewall connections created", "sluice_firewall_connections_created", false, "Connections created"),
            rule("firewall fragments passed", "sluice_firewall_fragments_passed", false, "Later fragments passed with their datagram"),
            rule("nat snat (\\S+) blocks in use", "sluice_nat_snat_blocks_in_use", true, "SNAT port blocks in use per address", "address"),
            rule("nat vm (\\S+) (.+)", "sluice_nat_vm_$2", false, "NAT events per VM", "vm"),
            rule("sluice lifecycle state", "sluice_lifecycle_state", true,
                    "0 starting, 1 ready, 2 running, 3 draining, 4 stopped, 5 failed"),
            rule("sluice config generation", "sluice_config_generation", true, "Configuration generation in use"),
            rule("sluice started at ms", "sluice_start_time_seconds", true, "Start time, seconds since the epoch"));

    private static Rule rule(String regex, String name, boolean gauge, String help, String... labels) {
        return new Rule(Pattern.compile(regex), name, gauge, help, labels);
    }

    /** A counter label as a metric: its name, whether it is a gauge, its labels and help. */
    record Mapped(String name, boolean gauge, String help, Labels labels) {}

    private final Supplier<Counters.Reading> source;

    /** @param source where a scrape reads the counters from (e.g. {@code counters::readAll}) */
    public CounterMetrics(Supplier<Counters.Reading> source) {
        this.source = source;
    }

    /** The metric of one counter label owned by {@code owner} (a worker id, or -1 for the control plane). */
    static Mapped map(String label, int owner) {
        for (Rule r : RULES) {
            Matcher m = r.pattern().matcher(label);
            if (m.matches()) {
                String name = r.name();
                for (int g = m.groupCount(); g >= 1; g--) {
                    name = name.replace("$" + g, sanitize(m.group(g)));
                }
                List<String> ln = new ArrayList<>();
                List<String> lv = new ArrayList<>();
                for (int g = 0; g < r.labelNames().length; g++) {
                    ln.add(r.labelNames()[g]);
                    lv.add(m.group(g + 1));
                }
                if (owner >= 0) {
                    ln.add("worker");
                    lv.add(Integer.toString(owner));
                }
                return new Mapped(name, r.gauge(), r.help(), Labels.of(ln, lv));
            }
        }
        Labels l = owner >= 0 ? Labels.of("worker", Integer.toString(owner)) : Labels.EMPTY;
        return new Mapped("sluice_" + sanitize(label), false, "Sluice counter '" + label + "'", l);
    }

    static String sanitize(String s) {
        String out = s.toLowerCase().replaceAll("[^a-z0-9_]+", "_").replaceAll("_+", "_");
        return out.replaceAll("^_|_$", "");
    }

    @Override
    public MetricSnapshots collect() {
        Map<String, Map<Labels, double[]>> values = new LinkedHashMap<>();
        Map<String, Mapped> kinds = new LinkedHashMap<>();
        for (Counters.Value v : source.get().values()) {
            Mapped m = map(v.label(), v.owner());
            double value = m.name().equals("sluice_start_time_seconds") ? v.value() / 1000.0 : v.value();
            kinds.putIfAbsent(m.name(), m);
            values.computeIfAbsent(m.name(), k -> new LinkedHashMap<>())
                    .computeIfAbsent(m.labels(), k -> new double[1])[0] += value;
        }
        List<MetricSnapshot> out = new ArrayList<>();
        for (Map.Entry<String, Map<Labels, double[]>> e : values.entrySet()) {
            Mapped kind = kinds.get(e.getKey());
            if (kind.gauge()) {
                GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(e.getKey()).help(kind.help());
                e.getValue().forEach((l, v) -> b.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(l).value(v[0]).build()));
                out.add(b.build());
            } else {
                CounterSnapshot.Builder b = CounterSnapshot.builder().name(e.getKey()).help(kind.help());
                e.getValue().forEach((l, v) -> b.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(l).value(v[0]).build()));
                out.add(b.build());
            }
        }
        return new MetricSnapshots(out);
    }
}
