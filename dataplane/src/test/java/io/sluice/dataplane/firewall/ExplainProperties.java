package io.sluice.dataplane.firewall;

import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.packet.NativeFrames;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * {@code ./sluice explain}'s firewall decision ({@link FirewallExplain}) against the live verdict,
 * over random rule sets of group "web" (on vm1, with default) and random first packets between the
 * four ports of {@link FwTopology}: on the same snapshot, explain allows exactly what the firewall
 * stage (parse -> arp -> l2 -> firewall) lets through, drops it with the same reason otherwise, and
 * names exactly the rules whose hit counters the live packet moved. Explain itself changes nothing:
 * rule hits, connections created, drop counters and the conntrack table are the same before and
 * after it.
 */
class ExplainProperties {
    static final int[] DPORTS = {22, 25, 53, 80, 85, 443, 5432};
    static final String[] REMOTES = {"0.0.0.0/0", "10.77.0.0/24", "10.77.0.11/32", "10.77.0.12/32", "10.77.0.2/32", "10.77.0.1/32"};
    static final String[] PROTOS = {"tcp", "udp", "icmp", "any"};

    /** Rule k from its generated number: direction, protocol, port range, remote. */
    static String rule(int k, int g) {
        String dir = (g & 1) == 0 ? "ingress" : "egress";
        String proto = PROTOS[(g >>> 1) & 3];
        int lo = DPORTS[(g >>> 3) % DPORTS.length];
        int hi = lo + ((g >>> 6) & 1) * 10;
        String remote = REMOTES[(g >>> 7) % REMOTES.length];
        String ports = proto.equals("tcp") || proto.equals("udp") ? ", ports: " + (lo == hi ? "" + lo : lo + "-" + hi) : "";
        String icmp = proto.equals("icmp") && ((g >>> 10) & 1) == 1 ? ", icmp-type: 8" : "";
        return "        - { id: r" + k + ", direction: " + dir + ", protocol: " + proto + ports + icmp + ", remote: " + remote + " }\n";
    }

    @Test
    void explainAgreesWithTheLiveVerdictAndChangesNothing() {
        qt().withExamples(150).withShrinkCycles(50)
                .forAll(lists().of(integers().between(0, 1 << 12)).ofSizeBetween(0, 6),
                        lists().of(integers().between(0, Integer.MAX_VALUE)).ofSizeBetween(1, 8))
                .checkAssert(ExplainProperties::check);
    }

    static void check(List<Integer> ruleGens, List<Integer> packets) {
        StringBuilder rules = new StringBuilder();
        for (int k = 0; k < ruleGens.size(); k++) rules.append(rule(k, ruleGens.get(k)));
        try (NativeFrames frames = new NativeFrames()) {
            SluiceConfig cfg;
            FirewallState fw;
            try {
                cfg = FwTopology.config("slfwx", "keep", rules.toString());
                fw = new FirewallState(4, FwTopology.firewall(cfg, "slfwx", "keep", rules.toString()));
            } catch (io.sluice.dataplane.config.ConfigException ex) {
                throw new AssertionError("generated rules rejected:\n" + rules, ex);
            }
            Stage[] stages = FirewallPipelines.l2(cfg, fw);
            FirewallStage live = (FirewallStage) stages[stages.length - 1];
            int sport = 40000;
            for (int g : packets) {
                int from = g & 3, to = (g >>> 2) & 3;
                if (from == to) to = (to + 1) & 3;
                if (from >= 2 && to >= 2) to = FwTopology.VM1; // at least one VM port: the firewall looks
                int proto = new int[] {6, 17, 1}[((g >>> 4) & 0x7FFF) % 3];
                int dport = DPORTS[(g >>> 8) % DPORTS.length];
                sport++;
                int sp = proto == 1 ? 8 : sport, dp = proto == 1 ? 0 : dport;

                Map<String, Long> hits0 = fw.allHits();
                long created0 = fw.created(), size0 = live.conntrack().size();
                Map<String, Long> drops0 = drops(fw);
                FirewallExplain.Result e = FirewallExplain.decide(fw, from, to, 4, proto, 0, FwTopology.ip(from) & 0xFFFF_FFFFL,
                        0, FwTopology.ip(to) & 0xFFFF_FFFFL, sp, dp);
                assertEquals(hits0, fw.allHits(), "explain moved a rule hit");
                assertEquals(created0, fw.created(), "explain created a connection");
                assertEquals(size0, live.conntrack().size(), "explain touched conntrack");
                assertEquals(drops0, drops(fw), "explain moved a drop counter");

                byte[] f = proto == 6 ? Frames.tcp(from, to, sport, dport, 0x02, 1000, 0, 0)
                        : proto == 17 ? Frames.udp(from, to, sport, dport, 8) : Frames.icmpEcho(from, to, 8, sport);
                Burst b = frames.burstOf(f, f.length, from);
                for (Stage s : stages) s.process(b);
                String what = "rules:\n" + rules + "packet " + FwTopology.NAMES[from] + " -> " + FwTopology.NAMES[to]
                        + " proto " + proto + " dport " + dp + ": explain " + e;
                if (e.allowed()) {
                    assertEquals(Next.TX, b.next[0], () -> what + ", live dropped " + DropReason.of(b.dropReason[0]));
                } else {
                    assertEquals(Next.DROP, b.next[0], what + ", live passed");
                    assertEquals(e.drop(), DropReason.of(b.dropReason[0]), what);
                }
                Set<String> moved = new TreeSet<>();
                fw.allHits().forEach((r, v) -> {
                    if (v > hits0.getOrDefault(r, 0L)) moved.add(r);
                });
                Set<String> named = new TreeSet<>();
                if (e.allowed() && e.egressRule() != null) named.add(e.egressRule());
                if (e.allowed() && e.ingressRule() != null) named.add(e.ingressRule());
                assertEquals(named, moved, what);
            }
        }
    }

    static Map<String, Long> drops(FirewallState fw) {
        Map<String, Long> m = new HashMap<>();
        for (int p = 0; p < 4; p++) for (DropReason r : FirewallCounters.REASONS) m.put(p + r.name(), fw.drops(p, r));
        return m;
    }
}
