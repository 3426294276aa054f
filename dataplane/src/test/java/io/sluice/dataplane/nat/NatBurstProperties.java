package io.sluice.dataplane.nat;

import io.sluice.dataplane.firewall.FirewallStage;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static io.sluice.dataplane.nat.NatHarness.*;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * The firewall stage's prepared packet-by-packet path (forced: {@code preparedBursts(0)}; by default
 * from 16384 live connections) (the burst's conntrack keys and table loads
 * first, {@code Conntrack.prepare}, then each packet tracked, decided and translated in order) equals
 * the unprepared one ({@code FirewallStage.preparedBursts(Integer.MAX_VALUE)}: fill, track, decide one packet
 * after the other) through the whole NAT pipeline, on random bursts of up to 24 frames in which
 * decisions delete entries that later packets of the same burst look up: SNAT exhaustion and a
 * private VM's first packet (the new entry killed), TCP re-opens and RSTs, hairpins (the packet goes
 * through the stage a second time), ICMP errors about NAT flows, and a table of 23 slots holding up
 * to 16 connections (long probe runs: a deletion shifts other entries back; full: {@code FW_LIMIT}).
 * Two hosts see the same bursts; after each burst every packet has the same fate, drop reason, out
 * port and bytes, and the conntrack tables the same content digest, size and counters.
 * QuickTheories, shrinking the list of bursts.
 */
class NatBurstProperties {
    static final String YAML = NatHarness.yaml(2, 2).replace("security-groups:\n  groups: []",
            "security-groups:\n  max-connections: 16\n  max-connections-per-vm: 16\n  groups: []");

    static int exhausted, reopened, hairpins, limited, related, deletedMidBurst;

    @Test
    void preparedBurstsEqualPacketByPacket() {
        exhausted = reopened = hairpins = limited = related = deletedMidBurst = 0;
        qt().withExamples(120).withShrinkCycles(60)
                .forAll(lists().of(longs().all()).ofSizeBetween(1, 10))
                .checkAssert(NatBurstProperties::run);
        // the bursts reached the cases the prepared path must get right
        if (exhausted == 0 || reopened == 0 || hairpins == 0 || limited == 0 || related == 0 || deletedMidBurst == 0) {
            throw new AssertionError("coverage: exhausted " + exhausted + ", reopened " + reopened + ", hairpins " + hairpins
                    + ", limited " + limited + ", related " + related + ", bursts with a deletion before a later packet " + deletedMidBurst);
        }
    }

    static void run(List<Long> bursts) {
        try (NatHarness a = new NatHarness(YAML); NatHarness b = new NatHarness(YAML)) {
            firewall(a).preparedBursts(0);
            firewall(b).preparedBursts(Integer.MAX_VALUE);
            for (NatHarness h : new NatHarness[] {a, b}) {
                long d = h.frame(0);
                h.run(EXT, arp(d, EXT_MAC, GW_MAC, 2, GW_MAC, GW, EXT_MAC, SNAT));
            }
            int k = 0;
            for (long seed : bursts) burst(a, b, new Random(seed), "burst " + k++ + " of " + bursts);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    static FirewallStage firewall(NatHarness h) {
        for (Stage s : h.stages) if (s instanceof FirewallStage f) return f;
        throw new AssertionError("no firewall stage");
    }

    static void burst(NatHarness a, NatHarness b, Random r, String what) {
        int n = r.nextInt(1, 25);
        int[] port = new int[n];
        int[] len = new int[n];
        long quoted = a.frame(60);
        for (int i = 0; i < n; i++) {
            long d = a.frame(i);
            int flags = new int[] {0x02, 0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14}[r.nextInt(0, 8)];
            int seq = new int[] {1000, 1001, 5000, 5001, r.nextInt()}[r.nextInt(0, 5)];
            int ack = new int[] {1001, 5001, 0, r.nextInt()}[r.nextInt(0, 4)];
            switch (r.nextInt(0, 14)) {
                case 0 -> { port[i] = WEB; len[i] = tcp(d, ROUTER, WEB_MAC, WEB_IP, SERVER, 40000 + r.nextInt(0, 3), 80, flags, seq, ack, 0); }
                case 1 -> { port[i] = EXT; len[i] = tcp(d, EXT_MAC, GW_MAC, SERVER, FIP, 80, 40000 + r.nextInt(0, 3), flags, ack, seq, 0); }
                case 2 -> { port[i] = EXT; len[i] = tcp(d, EXT_MAC, GW_MAC, SERVER2, FIP, 50000 + r.nextInt(0, 2), 22, flags, seq, ack, 0); }
                case 3 -> { port[i] = JOB; len[i] = tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 41000 + r.nextInt(0, 6), 443, flags, seq, ack, 0); }
                case 4 -> { port[i] = EXT; len[i] = tcp(d, EXT_MAC, GW_MAC, SERVER, SNAT, 443, SnatPorts.PORT_MIN + r.nextInt(0, 6), flags, ack, seq, 0); }
                case 5 -> { port[i] = JOB; len[i] = udp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 5000 + r.nextInt(0, 8), 53, 10, false); }
                case 6 -> { port[i] = EXT; len[i] = udp(d, EXT_MAC, GW_MAC, SERVER, SNAT, 53, SnatPorts.PORT_MIN + r.nextInt(0, 8), 10, false); }
                case 7 -> { port[i] = WEB; len[i] = echo(d, ROUTER, WEB_MAC, WEB_IP, SERVER, 8, r.nextInt(0, 3), 1); }
                case 8 -> { port[i] = EXT; len[i] = echo(d, EXT_MAC, GW_MAC, SERVER, FIP, 0, r.nextInt(0, 3), 1); }
                case 9 -> { // hairpin: to web's floating IP
                    boolean job = r.nextBoolean();
                    port[i] = job ? JOB : WEB;
                    len[i] = tcp(d, ROUTER, job ? JOB_MAC : WEB_MAC, job ? JOB_IP : WEB_IP, FIP, 43000 + r.nextInt(0, 3), 22, flags, seq, ack, 0);
                }
                case 10 -> { port[i] = VAULT; len[i] = tcp(d, ROUTER, VAULT_MAC, VAULT_IP, SERVER, 42000, 80, 0x02, seq, 0, 0); }
                case 11 -> { // a router's error about one of job's SNAT flows
                    tcp(quoted, GW_MAC, EXT_MAC, SNAT, SERVER, SnatPorts.PORT_MIN + r.nextInt(0, 6), 443, 0x02, 1000, 0, 0);
                    port[i] = EXT;
                    len[i] = icmpError(d, EXT_MAC, GW_MAC, GW, SNAT, 3, 4, 1400, quoted);
                }
                case 12 -> { // web's error about a server's connection through the floating IP
                    tcp(quoted, WEB_MAC, ROUTER, SERVER2, WEB_IP, 50000 + r.nextInt(0, 2), 22, 0x02, 1000, 0, 0);
                    port[i] = WEB;
                    len[i] = icmpError(d, ROUTER, WEB_MAC, WEB_IP, SERVER2, 3, 3, 0, quoted);
                }
                default -> { port[i] = JOB; len[i] = echo(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 8, r.nextInt(0, 4), 1); }
            }
            Mem.copy(d, b.frame(i), len[i]);
        }
        long reopenedA = a.ct.reopenedCount(), relatedA = a.ct.relatedCount();
        for (NatHarness h : new NatHarness[] {a, b}) {
            Burst x = h.b;
            for (int i = 0; i < n; i++) x.reset(i, 0, h.frame(i), len[i], port[i]);
            x.count = n;
            for (Stage s : h.stages) s.process(x);
        }
        Burst x = a.b, y = b.b;
        boolean deletion = false;
        for (int i = 0; i < n; i++) {
            String at = what + ", packet " + i + " of " + n + " from port " + port[i];
            if (x.next[i] != y.next[i]) throw new AssertionError(at + ": fate " + x.next[i] + " prepared, " + y.next[i] + " packet by packet");
            if (x.next[i] == Next.DROP) {
                if (x.dropReason[i] != y.dropReason[i]) {
                    throw new AssertionError(at + ": " + reason(x.dropReason[i]) + " prepared, " + reason(y.dropReason[i]) + " packet by packet");
                }
                int why = x.dropReason[i];
                if (why == DropReason.NAT_EXHAUSTED.ordinal() || why == DropReason.NAT_NO_PUBLIC_ACCESS.ordinal()) {
                    exhausted += why == DropReason.NAT_EXHAUSTED.ordinal() ? 1 : 0;
                    if (i < n - 1) deletion = true; // the new entry was killed, later packets follow
                }
                if (why == DropReason.FW_LIMIT.ordinal()) limited++;
                continue;
            }
            if (x.outPort[i] != y.outPort[i]) throw new AssertionError(at + ": out port " + x.outPort[i] + " / " + y.outPort[i]);
            if ((port[i] == JOB || port[i] == WEB) && x.outPort[i] == WEB) hairpins++;
            int moved = (int) (x.data[i] - a.frame(i));
            if (moved != (int) (y.data[i] - b.frame(i)) || x.length[i] != y.length[i]) throw new AssertionError(at + ": frames moved differently");
            if (!Arrays.equals(NatHarnessBytes.read(x.data[i], x.length[i]), NatHarnessBytes.read(y.data[i], y.length[i]))) {
                throw new AssertionError(at + ": bytes differ after the stages");
            }
        }
        if (a.ct.reopenedCount() > reopenedA) {
            reopened++;
            deletion = true;
        }
        if (deletion) deletedMidBurst++;
        if (a.ct.relatedCount() > relatedA) related++;
        if (a.ct.size() != b.ct.size() || a.ct.created() != b.ct.created() || a.ct.invalidCount() != b.ct.invalidCount()
                || a.ct.reopenedCount() != b.ct.reopenedCount() || a.ct.relatedCount() != b.ct.relatedCount()) {
            throw new AssertionError(what + ": conntrack counters differ: size " + a.ct.size() + "/" + b.ct.size() + ", created "
                    + a.ct.created() + "/" + b.ct.created() + ", invalid " + a.ct.invalidCount() + "/" + b.ct.invalidCount());
        }
        if (a.ct.contentDigest() != b.ct.contentDigest()) throw new AssertionError(what + ": conntrack tables differ");
        if (a.nat.snatCreated != b.nat.snatCreated || a.nat.fipCreated != b.nat.fipCreated || a.nat.stale != b.nat.stale
                || a.nat.icmpErrorsOut != b.nat.icmpErrorsOut || a.nat.icmpErrorsIn != b.nat.icmpErrorsIn) {
            throw new AssertionError(what + ": NAT counters differ");
        }
    }
}
