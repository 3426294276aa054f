package io.sluice.dataplane.conntrack;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sluice's conntrack against Linux nf_conntrack ({@link LinuxDiff}): a bounded run in the suite
 * (zero unexplained differences), and the bench run when {@code -Dctdiff.sequences=N} is given
 * ({@code ./sluice bench conntrack-diff}), which writes its report to {@code -Dctdiff.out}.
 */
class LinuxDiffTest {
    private static LinuxDiff diff;

    @BeforeAll
    static void up() throws Exception {
        diff = new LinuxDiff(Boolean.getBoolean("ctdiff.loose"));
    }

    @AfterAll
    static void down() {
        if (diff != null) diff.close();
    }

    /** The oracle reads real Linux states: a scripted exchange gets the answers Linux is known to give. */
    @Test
    void oracleReportsLinuxStatesForAScriptedExchange() throws Exception {
        LinuxDiff.Gen g = new LinuxDiff.Gen(1);
        g.next(999_000); // addresses and ports of a sequence no random run uses
        g.out = new ArrayList<>();
        for (int s = 0; s < 2; s++) { g.isn[s] = 1000 * (s + 1); g.nxt[s] = g.isn[s]; g.lastAckOf[s] = g.isn[s]; g.ws[s] = -1; }
        g.data(0, 10, "data");                 // no connection, not a SYN: invalid
        g.syn(0, "syn");                       // new
        g.syn(0, "syn");                       // retransmitted SYN, no reply yet: new
        g.synAck(1, "synack");                 // established (reply)
        g.data(0, 0, "ack");                   // established
        g.tcpPkt("data-oow", 0, TcpFlags.ACK, g.nxt[0] + (1 << 30), g.nxt[1], 100, -1); // beyond the window: invalid
        g.data(1, 100, "data");                // established
        g.icmpError(false);                    // error about the last packet, to its sender: related
        LinuxDiff.Seq s = new LinuxDiff.Seq("tcp", g.out);
        org.junit.jupiter.api.Assumptions.assumeFalse(diff.loose, "the scripted answers are those of tcp_loose=0");
        LinuxDiff.Result r = diff.runScripted(List.of(s));
        int N = LinuxDiff.S_NEW, E = LinuxDiff.S_EST, I = LinuxDiff.S_INV, R = LinuxDiff.S_REL;
        assertArrayEquals(new int[] {I, N, N, E, E, I, E, R}, s.linux, LinuxDiff.describe(s, s.pkts.size() - 1));
        assertArrayEquals(s.linux, s.sluice, LinuxDiff.describe(s, s.pkts.size() - 1));
        assertEquals(0, r.differences);
    }

    /**
     * Random TCP / UDP / ICMP sequences: every packet's verdict and state equal Linux's, or the
     * first difference of its sequence is of a documented kind (deliberate) or a listed open one.
     */
    @Test
    void randomSequencesMatchLinux() throws Exception {
        String bench = System.getProperty("ctdiff.sequences");
        int sequences = bench != null ? Integer.parseInt(bench) : 6000;
        long seed = Long.getLong("ctdiff.seed", 20261206L);
        long t0 = System.nanoTime();
        LinuxDiff.Result r = diff.run(seed, sequences, 128);
        double secs = (System.nanoTime() - t0) / 1e9;
        String report = r.report();
        System.out.println(report);
        String out = System.getProperty("ctdiff.out");
        if (out != null) {
            String md = "# Sluice conntrack vs Linux nf_conntrack (" + LocalDate.now(ZoneOffset.UTC) + ")\n\n"
                    + "Command: `" + System.getProperty("ctdiff.cmd", "./sluice bench conntrack-diff") + "`, seed " + seed
                    + (diff.loose ? "; mid-stream pickup on both sides (Sluice tcp-pickup, Linux nf_conntrack_tcp_loose=1 in its namespace)" : "") + "\n\n"
                    + "Kernel: `" + System.getProperty("os.version") + "`; " + String.format("%.1f s, %.0f packets/s compared", secs, r.packets / secs)
                    + "\n\n```\n" + report + "```\n\n## Deliberate differences (docs/conntrack.md), first differences per reason\n\n```\n"
                    + r.explanations() + "```\n\n## First example of each kind\n\n```\n" + r.examples() + "```\n\n"
                    + "unexplained=" + r.unexplained + "\n";
            Files.writeString(Path.of(out), md);
        }
        System.out.println("unexplained=" + r.unexplained);
        assertTrue(r.packets > sequences, "packets compared: " + r.packets);
        assertEquals(0, r.lost, "packets Linux never forwarded\n" + report);
        assertEquals(0, r.unknown, "a kind of difference neither documented nor listed as open\n" + report + "\n" + r.examples());
    }
}
