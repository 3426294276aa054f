package io.sluice.dataplane.conntrack;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Analysis tool, not a check (runs only with {@code -Dctdiff.replay=<result file>}): replays the TCP
 * packets of every example sequence in a {@code conntrack-diff} result file through both trackers,
 * one packet at a time, and prints after each packet Sluice's state and Linux's conntrack entry
 * ({@code /proc/net/nf_conntrack} of the forwarding namespace: state, and whether it still exists).
 * Used to classify differences (docs/conntrack.md, "Checked against Linux"). Kinds can be chosen
 * with {@code -Dctdiff.replay.kinds=<regex>}; a result file of a run with pickup ({@code CTDIFF_LOOSE=1}) needs
 * {@code -Dctdiff.loose=true}.
 */
class LinuxDiffReplay {
    private static final Pattern TCP = Pattern.compile(
            "^\\s*(>)?\\s*(\\S+)\\s+z0 v4 0:([0-9a-f]+)\\.(\\d+) > 0:([0-9a-f]+)\\.(\\d+) p6 flags=([0-9a-f]+) seq=(\\d+) ack=(\\d+) win=(\\d+) ws=(-?\\d+) len=(\\d+)");

    private static String ip(long a) {
        return (a >>> 24 & 255) + "." + (a >>> 16 & 255) + "." + (a >>> 8 & 255) + "." + (a & 255);
    }

    @Test
    void replay() throws Exception {
        String file = System.getProperty("ctdiff.replay");
        Assumptions.assumeTrue(file != null, "analysis tool: -Dctdiff.replay=<result file>");
        String kinds = System.getProperty("ctdiff.replay.kinds", ".*UNEXPLAINED.*");
        String text = Files.readString(Path.of(file));
        List<String> wanted = new ArrayList<>();
        for (String l : text.split("\n")) {
            Matcher m = Pattern.compile("^\\s*\\d+\\s+(tcp .*?)(  \\[.*)?$").matcher(l);
            if (m.matches() && l.matches(kinds)) wanted.add(m.group(1));
        }
        try (LinuxDiff diff = new LinuxDiff(Boolean.getBoolean("ctdiff.loose"))) { // -Dctdiff.loose=true: a loose result file
            for (String kind : wanted) {
                int at = text.indexOf("\n## " + kind + "\n");
                if (at < 0) continue;
                String body = text.substring(at + kind.length() + 5);
                int end = body.indexOf("\n## ");
                if (end >= 0) body = body.substring(0, end);
                List<LinuxDiff.Pkt> pkts = new ArrayList<>();
                long first = -1;
                for (String l : body.split("\n")) {
                    Matcher m = TCP.matcher(l);
                    if (!m.find()) continue;
                    int src = (int) Long.parseLong(m.group(3), 16), dst = (int) Long.parseLong(m.group(5), 16);
                    if (first < 0) first = src;
                    LinuxDiff.Pkt p = new LinuxDiff.Pkt(m.group(2));
                    p.ct.v4(0, src, dst).tcp(Integer.parseInt(m.group(4)), Integer.parseInt(m.group(6)), Integer.parseInt(m.group(7), 16),
                            (int) Long.parseLong(m.group(8)), (int) Long.parseLong(m.group(9)), Integer.parseInt(m.group(10)), Integer.parseInt(m.group(12)));
                    int ws = Integer.parseInt(m.group(11));
                    if (ws >= 0) p.ct.wscale(ws);
                    p.side = src == first ? 0 : 1;
                    p.wire = LinuxDiff.Wire.tcp(p.ct);
                    pkts.add(p);
                }
                LinuxDiff.Seq s = new LinuxDiff.Seq("tcp", pkts);
                List<String> tables = new ArrayList<>();
                diff.linuxTable = tables::add;
                diff.runScripted(List.of(s));
                diff.linuxTable = null;
                System.out.println("## " + kind);
                for (int i = 0; i < pkts.size(); i++) {
                    LinuxDiff.Pkt p = pkts.get(i);
                    String mine = "";
                    for (String t : tables.get(i).split("\n")) {
                        if (t.contains("tcp") && (t.contains("src=" + ip(p.ct.srcLo) + " dst=" + ip(p.ct.dstLo) + " sport=" + p.ct.sport + " ") || t.contains("src=" + ip(p.ct.dstLo) + " dst=" + ip(p.ct.srcLo) + " sport=" + p.ct.dport + " "))) mine = t.replaceAll("^ipv4\\s+2 tcp\\s+6 ", "").replaceAll(" src=.*? (\\[|mark)", " $1");
                    }
                    System.out.printf("  %-14s %-8s flags=%-2s seq=%-10s ack=%-10s len=%-5d pre=%-11s sluice=%-11s linux=%-11s | linux entry after: %s%n",
                            p.action, p.side == 0 ? "A>B" : "B>A", Integer.toHexString(p.ct.tcpFlags), Integer.toUnsignedString(p.ct.seq),
                            Integer.toUnsignedString(p.ct.ack), p.ct.payloadLen, s.pre[i], LinuxDiff.STATE[s.sluice[i]], LinuxDiff.STATE[s.linux[i]],
                            mine.isEmpty() ? "(none)" : mine);
                }
            }
        }
    }
}
