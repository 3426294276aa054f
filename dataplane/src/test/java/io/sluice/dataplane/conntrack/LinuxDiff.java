package io.sluice.dataplane.conntrack;

import io.sluice.dataplane.firewall.FragmentTable;
import io.sluice.dataplane.netns.Netns;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Differential harness: the same packet sequences through Sluice's {@link Conntrack} (driven
 * directly, as the firewall stage drives it: {@code track}, then {@code commit} for NEW with
 * every rule allowing) and through Linux nf_conntrack in a forwarding namespace built here
 * (nftables {@code ct state} rules; {@code linux_oracle.py} sends each packet through raw
 * AF_PACKET sockets and reads the state Linux gave it from the DSCP the rules set). For every
 * packet it compares the verdict (pass / drop) and the state (new, established, related,
 * invalid). A difference is explained when {@link #EXPLAINED} names its kind with the section of
 * docs/conntrack.md that says why; the rest are unexplained (bugs).
 *
 * <p>Linux says {@code new} for every original-direction packet until a reply was seen; Sluice
 * says NEW only for the packet that creates the entry. The harness keeps "a reply was seen" per
 * connection from Sluice's own answers (a valid reply-direction packet) and reports Sluice's
 * ESTABLISHED before that as {@code new}: the same definition, not a tolerance.
 */
public final class LinuxDiff implements AutoCloseable {
    static final String[] STATE = {"lost", "new", "established", "related", "invalid", "other"};
    static final int S_NEW = 1, S_EST = 2, S_REL = 3, S_INV = 4;

    /**
     * Differences that are deliberate: a regular expression over the kind (see {@link Result#kind})
     * -> the reason, each written in docs/conntrack.md ("Checked against Linux").
     */
    static final Map<String, String> EXPLAINED = new LinkedHashMap<>();

    /**
     * Differences seen but not analysed or fixed yet (regular expressions over the kind). They
     * count as unexplained in the report; the suite fails only on a kind in neither list, so a
     * new kind of difference (a regression) is caught. docs/conntrack.md lists them as open.
     */
    static final List<String> OPEN = List.of(
            // none: the 1M-packet runs of 2026-12-06 12:34 (bench/results/conntrack-diff-20261206-1234.md and
            // conntrack-diff-loose-20261206-1234.md) show zero unexplained first differences, with and without
            // pickup. A kind goes here only while it is being analysed; the suite then still counts it as unexplained.
    );

    static {
        String closing = "(FIN_WAIT|CLOSE_WAIT|LAST_ACK|TIME_WAIT|CLOSE)";
        EXPLAINED.put("tcp reply SYNACK in (SYN_RECV|ESTABLISHED|" + closing.substring(1) + ": sluice=invalid linux=established .*",
                "D1 Linux passes every reply SYN/ACK on an open connection unchecked (sIG); Sluice checks it against the window (SR, ES) or drops it (FW..CL)");
        EXPLAINED.put("tcp reply ACK in (SYN_SENT|SYN_SENT2): sluice=invalid linux=established .*",
                "D2 Linux passes an ACK from the responder before its SYN/ACK (sIG, a possible challenge ACK); Sluice drops it");
        EXPLAINED.put("tcp (orig|reply) SYN in (CLOSE|TIME_WAIT): sluice=new linux=(established|invalid) .*",
                "D3 a SYN on a CLOSE or TIME_WAIT entry re-opens the tuple from either side in Sluice; Linux re-opens only an "
                        + "original-direction SYN after a FIN or that side's own RST, ignores other original SYNs and drops reply SYNs on CLOSE");
        EXPLAINED.put("tcp (orig|reply) RST in " + closing + ": sluice=invalid linux=established .*",
                "D4 Linux skips the RST sequence check in the closing states (the tuple may have been reused); Sluice checks every RST against the window");
        EXPLAINED.put("tcp reply (RST|SYNACK) in SYN_SENT: sluice=invalid linux=(established|new) .*",
                "D5 in SYN_SENT Linux accepts any RST from the responder, and a SYN/ACK whose ACK is within a window; Sluice only an RST or SYN/ACK that acknowledges the SYN exactly (RFC 9293 3.10.7.3)");
        EXPLAINED.put("tcp (orig|reply) RST in (ESTABLISHED|SYN_RECV|" + closing.substring(1) + ": sluice=established linux=invalid .*",
                "D6 Linux drops an RST whose sequence is below the highest ACK the peer sent (td_maxack); Sluice keeps no max-ack and accepts an in-window RST");
        EXPLAINED.put("tcp (orig|reply) (ACK|FIN) in \\w+: sluice=invalid linux=established \\(data-oow\\)"
                        + "|tcp (orig|reply) (ACK|FIN|RST|SYN|SYNACK) in \\w+: sluice=invalid linux=established \\([^)]*\\) beyond the right edge by at most a window",
                "D7 Linux (>= 6.4) passes a segment that overshoots the receiver's window by at most one window (a workaround for broken senders) and moves its edge; Sluice drops it");
        EXPLAINED.put("tcp (orig|reply) (icmp-err|retransmit) in -: sluice=related linux=invalid .*"
                        + "|tcp orig (ACK|FIN|RST) in CLOSE: sluice=(established|new) linux=invalid \\([^)]*\\) after RST in SYN_SENT"
                        // with pickup on both sides (CTDIFF_LOOSE=1): Linux, without its entry, picks the next ACK up as a new connection
                        + "|tcp (orig|reply) ACK in CLOSE: sluice=(established|new|invalid) linux=new \\([^)]*\\) after RST in SYN_SENT"
                        // ... a liberal one (no window check) that ignores a SYN re-opening Sluice's CLOSE entry
                        + "|tcp (orig|reply) (ACK|FIN|RST|SYN|SYNACK) in \\w+: sluice=\\w+ linux=\\w+ \\([^)]*\\) after RST in SYN_SENT and an ACK Linux picked up",
                "D8 Linux deletes an entry at once when an RST comes before any reply passed; Sluice keeps it in CLOSE for 10 s, so errors quoting it are RELATED "
                        + "and the initiator's ACK / FIN / RST pass meanwhile (Linux: no entry, invalid; with tcp_loose=1 an ACK then starts a new, liberal Linux entry, "
                        + "which ignores a SYN that re-opens Sluice's entry and checks no window)");
        EXPLAINED.put("(udp|icmp) (orig|reply) [\\w-]+-frag-overlap in \\w+: sluice=(new|established|invalid) linux=lost \\([\\w-]+-frag-overlap\\)"
                        + "|tcp (orig|reply) ACK in \\w+: sluice=(new|established|invalid) linux=lost \\([\\w-]+-frag-overlap\\)( .*)?",
                "D9 a datagram whose fragments overlap (after the L4 header) is discarded by Linux's reassembly in front of conntrack; Sluice's shallow "
                        + "reassembly checks overlaps of the L4 header only, passes the fragments (the receiver's reassembly discards them) and its first "
                        + "fragment has been tracked");
        EXPLAINED.put("tcp (orig|reply) (ACK|FIN|RST) in CLOSE: sluice=\\w+ linux=\\w+ \\([^)]*\\) after an RST in (FIN_WAIT|CLOSE_WAIT|LAST_ACK|TIME_WAIT|CLOSE) that moved Sluice's window",
                "D4 (consequence) Linux passes an RST in a closing state without its window check and without moving its window records "
                        + "(tcp_can_early_drop: straight to in_window); Sluice checked it and moved them, so the segments after it are judged against different windows");
        EXPLAINED.put("tcp orig SYN in (FIN_WAIT|CLOSE_WAIT|LAST_ACK): sluice=established linux=new \\([^)]*\\) after RST passed unchanged in \\w+",
                "D4 (consequence) an RST in a closing state that Sluice passed as a late duplicate without closing closed Linux's entry (no RST check there), "
                        + "so the next SYN re-opens in Linux and is passed unchanged by Sluice");
        EXPLAINED.put("tcp (orig|reply) RST in SYN_SENT2: sluice=invalid linux=established \\([^)]*\\) with ACK field 0",
                "D10 in SYN_SENT2 Linux passes an RST whose ACK field is 0 without a window check (its 'RST answering a SYN we let through' "
                        + "test compares the ACK field with last_end, still 0 when no ACK was seen); Sluice checks the RST against the window");
        EXPLAINED.put("tcp (orig|reply) (ACK|FIN|RST|SYN|SYNACK) in \\w+: sluice=\\w+ linux=\\w+ \\([^)]*\\) after a fragmented segment",
                "D11 Linux reassembles an IP-fragmented TCP segment in front of conntrack and tracks all its bytes; Sluice tracks the first fragment "
                        + "(its bytes only: shallow reassembly, no buffering) and passes the later ones by its fragment table, so its record of the sender's "
                        + "end lags and the receiver's ACK of the whole segment acknowledges bytes Sluice never counted");
        EXPLAINED.put("tcp (orig|reply) (ACK|FIN|RST|SYN|SYNACK) in \\w+: sluice=\\w+ linux=\\w+ \\([^)]*\\) after an invalid segment of the responder in SYN_SENT",
                "D12 Linux takes the responder's window data from its first segment before checking it (tcp_in_window initialises a side it has not "
                        + "seen yet, then finds the segment invalid and keeps the data); Sluice changes nothing on an INVALID segment, so the windows differ "
                        + "afterwards (e.g. the initiator's RST beyond its SYN then passes Linux's overshoot workaround, D7)");
        // last: a history that explains only what no reason above does
        EXPLAINED.put("tcp (orig|reply) (ACK|FIN|RST|SYN|SYNACK) in \\w+: sluice=\\w+ linux=\\w+ \\([^)]*\\) after a reply SYN/ACK that moved Sluice's window in (SYN_RECV|ESTABLISHED)",
                "D1 (consequence) Linux passed an earlier reply SYN/ACK in SYN_RECV / ESTABLISHED without looking at it (sIG); Sluice checked it and moved "
                        + "its window records, so the windows differ for the segments after it");
    }

    // ---------------------------------------------------------------------------------------
    // one packet of a sequence
    // ---------------------------------------------------------------------------------------

    /** A generated packet: the CtPacket Sluice reads and the IPv4 bytes Linux receives. */
    static final class Pkt {
        String action;
        final CtPacket ct = new CtPacket();
        byte[] wire;
        int side; // 0: sent from the A side (destination on B), 1: from B
        /**
         * A fragmented IPv4 datagram: its fragments in the order sent (null: one whole packet in
         * {@link #wire}). Linux reassembles them in front of conntrack and answers once for the
         * datagram; Sluice tracks the first fragment and passes the later ones by its fragment table.
         */
        List<byte[]> frags;
        /** Per fragment: offset in bytes of the fragmentable part, its length, MF. */
        int[] fragOff, fragLen;
        boolean[] fragMore;
        Pkt(String action) { this.action = action; }
    }

    /** A sequence: packets of one connection (plus ICMP errors about it), sent in order. */
    static final class Seq {
        final String kind;
        final List<Pkt> pkts = new ArrayList<>();
        final int[] sluice;
        final int[] linux;
        final String[] pre;
        /** Per packet: "orig" or "reply", relative to the side whose packet created Sluice's current entry. */
        final String[] dir;
        /** Per packet: it overshot the right edge of Sluice's window by at most a window ({@link Conntrack#overshootsRightEdgeByAtMostAWindow}). */
        final boolean[] overshoot;
        /** Per packet: Sluice's window records of the connection changed ({@link Conntrack#windowDigest}). */
        final boolean[] movedWindow;
        int initiator;
        Seq(String kind, List<Pkt> p) {
            this.kind = kind;
            this.pkts.addAll(p);
            sluice = new int[p.size()];
            linux = new int[p.size()];
            pre = new String[p.size()];
            dir = new String[p.size()];
            overshoot = new boolean[p.size()];
            movedWindow = new boolean[p.size()];
        }
    }

    // ---------------------------------------------------------------------------------------
    // Linux side
    // ---------------------------------------------------------------------------------------

    private final Netns netns;
    /** The forwarding namespace (Linux's conntrack). */
    private String fNs;
    /** When set, called after every batch of a scripted run with Linux's conntrack table of the forwarding namespace. */
    java.util.function.Consumer<String> linuxTable;
    private final Process oracle;
    private final OutputStream toOracle;
    private final DataInputStream fromOracle;

    /**
     * Mid-stream pickup on both sides: Sluice's {@code tcpPickup(true)} and Linux's
     * {@code nf_conntrack_tcp_loose=1} (set in the forwarding namespace only: the sysctl is per
     * network namespace, checked by reading the host's value before and after).
     */
    final boolean loose;

    LinuxDiff() throws IOException { this(false); }

    LinuxDiff(boolean loose) throws IOException {
        this.loose = loose;
        netns = new Netns();
        boolean ok = false;
        try {
            String a = netns.create("cta"), f = netns.create("ctf"), b = netns.create("ctb");
            fNs = f;
            String a0 = netns.name("a0"), fa = netns.name("fa"), b0 = netns.name("b0"), fb = netns.name("fb");
            Netns.run("ip", "link", "add", a0, "type", "veth", "peer", "name", fa);
            Netns.run("ip", "link", "add", b0, "type", "veth", "peer", "name", fb);
            for (String[] m : new String[][] {{a0, a}, {b0, b}}) {
                Netns.run("ip", "link", "set", "dev", m[0], "netns", m[1]);
                Netns.run("ip", "-n", m[1], "link", "set", "dev", m[0], "up");
            }
            netns.moveAndAddress(fa, f, "10.1.255.254/24");
            netns.moveAndAddress(fb, f, "10.2.255.254/24");
            String macA = mac(a, a0), macB = mac(b, b0), macFa = mac(f, fa), macFb = mac(f, fb);
            sh(f, "ip neigh add 10.1.255.1 lladdr " + macA + " dev " + fa + " nud permanent");
            sh(f, "ip neigh add 10.2.255.1 lladdr " + macB + " dev " + fb + " nud permanent");
            sh(f, "ip route add 10.1.0.0/16 via 10.1.255.1");
            sh(f, "ip route add 10.2.0.0/16 via 10.2.255.1");
            sh(f, "sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0"
                    + " net.ipv4.conf.all.send_redirects=0");
            // datagrams without their first fragment wait in reassembly: a short life and room enough
            // that they never push a complete datagram out (Linux drops fragments over the memory limit)
            sh(f, "sysctl -qw net.ipv4.ipfrag_high_thresh=268435456 && sysctl -qw net.ipv4.ipfrag_low_thresh=201326592"
                    + " net.ipv4.ipfrag_time=3");
            Path rules = netns.tempDir().resolve("ct.nft");
            Files.writeString(rules, """
                    table ip sluicediff {
                      chain tag {
                        type filter hook forward priority 0; policy accept;
                        ct state invalid ip dscp set 4 accept
                        ct state related ip dscp set 3 accept
                        ct state established ip dscp set 2 accept
                        ct state new ip dscp set 1 accept
                        ip dscp set 5 accept
                      }
                    }
                    """);
            sh(f, "nft -f " + rules);
            // after the ct rules: conntrack is on in f. Sluice's side runs with pickup off (tcp_loose=0)
            String hostLoose = Files.readString(Path.of("/proc/sys/net/netfilter/nf_conntrack_tcp_loose")).trim();
            sh(f, "sysctl -qw net.netfilter.nf_conntrack_tcp_loose=" + (loose ? 1 : 0) + " net.netfilter.nf_conntrack_checksum=1"
                    + " net.netfilter.nf_conntrack_tcp_timeout_established=600");
            String inF = netns.exec(f, 10, "cat", "/proc/sys/net/netfilter/nf_conntrack_tcp_loose").output().trim();
            String hostAfter = Files.readString(Path.of("/proc/sys/net/netfilter/nf_conntrack_tcp_loose")).trim();
            if (!inF.equals(loose ? "1" : "0") || !hostAfter.equals(hostLoose)) {
                throw new IllegalStateException("nf_conntrack_tcp_loose is not per namespace here: " + f + "=" + inF + ", host " + hostLoose + " -> " + hostAfter);
            }
            Path py = Path.of("src/test/resources/io/sluice/dataplane/conntrack/linux_oracle.py").toAbsolutePath();
            ProcessBuilder pb = new ProcessBuilder("python3", py.toString(), "/run/netns/" + a, a0, "/run/netns/" + b, b0, macFa, macFb)
                    .redirectError(ProcessBuilder.Redirect.INHERIT);
            oracle = pb.start();
            toOracle = new BufferedOutputStream(oracle.getOutputStream(), 1 << 20);
            fromOracle = new DataInputStream(new BufferedInputStream(oracle.getInputStream()));
            byte[] ready = new byte[6];
            fromOracle.readFully(ready);
            if (!new String(ready).equals("ready\n")) throw new IOException("oracle did not start");
            ok = true;
        } finally {
            if (!ok) netns.close();
        }
    }

    private String mac(String ns, String dev) {
        String out = Netns.run("ip", "-n", ns, "-o", "link", "show", "dev", dev);
        int i = out.indexOf("link/ether ");
        return out.substring(i + 11, i + 28);
    }

    private void sh(String ns, String cmd) {
        Netns.Result r = netns.exec(ns, 30, "sh", "-c", cmd);
        if (!r.ok()) throw new IllegalStateException(cmd + " in " + ns + ": " + r.output());
    }

    private int fragTrains;

    /** Sends one packet of each sequence, returns Linux's answer per packet (0 lost, 1..5). */
    private void linuxBatch(List<Pkt> batch, int[] out) throws IOException {
        int n = batch.size();
        OutputStream o = toOracle;
        o.write(new byte[] {(byte) n, (byte) (n >>> 8), (byte) (n >>> 16), (byte) (n >>> 24)});
        for (int i = 0; i < n; i++) {
            Pkt p = batch.get(i);
            List<byte[]> frames = p.frags != null ? p.frags : List.of(p.wire);
            // more frames of this record follow (a datagram's fragments); unsure: Linux is expected to discard it (not waited for)
            o.write(p.side | (frames.size() - 1) << 1 | (p.action.endsWith("-nofirst") || p.action.endsWith("-overlap") ? 0x80 : 0));
            int id = p.frags != null ? 0x8000 | (fragTrains++ & 0x7FFF) : i; // a datagram's own id: a stale reassembly never joins it
            for (byte[] w : frames) {
                w[4] = (byte) (id >>> 8); // every fragment of a datagram carries the same IP ID
                w[5] = (byte) id;
                ipChecksum(w);
                o.write(w.length & 0xFF);
                o.write(w.length >>> 8);
                o.write(w);
            }
        }
        o.flush();
        for (int i = 0; i < n; i++) {
            int r = fromOracle.read();
            if (r < 0) throw new IOException("oracle exited");
            out[i] = r;
        }
    }

    @Override
    public void close() {
        try {
            if (oracle != null) {
                oracle.getOutputStream().close();
                if (!oracle.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) oracle.destroyForcibly();
            }
        } catch (IOException | InterruptedException e) {
            oracle.destroyForcibly();
        }
        netns.close();
    }

    // ---------------------------------------------------------------------------------------
    // running and comparing
    // ---------------------------------------------------------------------------------------

    /** Totals of a run. */
    static final class Result {
        long sequences, packets, differences, unexplained, lost;
        /** Sequences with a difference; their first differences (classified); differences after the first. */
        long divergedSequences, firstDifferences, later;
        /** Unexplained first differences of a kind that is not even in {@link #OPEN}. */
        long unknown;
        final Map<String, Long> byKind = new TreeMap<>();
        final Map<String, String> example = new TreeMap<>();
        final Map<String, Long> packetsByProto = new TreeMap<>();

        /** Kind of a difference: protocol/action, Sluice's state before, both answers. */
        static String kind(Seq s, int i) {
            Pkt p = s.pkts.get(i);
            String what;
            if (p.ct.proto == CtPacket.IPPROTO_TCP) what = TcpSegment.name(TcpSegment.classify(p.ct.tcpFlags));
            else what = p.action;
            return s.kind + " " + s.dir[i] + " " + what + " in " + s.pre[i] + ": sluice=" + STATE[s.sluice[i]] + " linux=" + STATE[s.linux[i]]
                    + " (" + p.action + ")";
        }

        static boolean open(String kind) {
            for (String k : OPEN) if (kind.matches(k)) return true;
            return false;
        }

        static boolean explained(String kind) {
            for (String k : EXPLAINED.keySet()) if (kind.matches(k)) return true;
            return false;
        }

        String report() {
            StringBuilder b = new StringBuilder();
            b.append("sequences=").append(sequences).append(" packets=").append(packets)
             .append(" differences=").append(differences).append(" lost=").append(lost).append('\n');
            b.append("sequences with a difference=").append(divergedSequences)
             .append(" (first differences, by kind below; later differences in those sequences, after the trackers diverged: ")
             .append(later).append(")\n");
            b.append("packets by sequence kind: ").append(packetsByProto).append('\n');
            for (var e : byKind.entrySet()) {
                String tag = explained(e.getKey()) ? "  [explained]" : open(e.getKey()) ? "  [UNEXPLAINED, open]" : "  [UNEXPLAINED, new kind]";
                b.append(String.format("%8d  %s%s%n", e.getValue(), e.getKey(), tag));
            }
            return b.toString();
        }

        String explanations() {
            StringBuilder b = new StringBuilder();
            Map<String, Long> n = new LinkedHashMap<>();
            for (var k : byKind.entrySet()) {
                for (var e : EXPLAINED.entrySet()) {
                    if (k.getKey().matches(e.getKey())) { // the first reason that matches
                        n.merge(e.getKey(), k.getValue(), Long::sum);
                        break;
                    }
                }
            }
            for (var e : EXPLAINED.entrySet()) b.append(String.format("%8d  %s%n", n.getOrDefault(e.getKey(), 0L), e.getValue()));
            return b.toString();
        }

        String examples() {
            StringBuilder b = new StringBuilder();
            for (var e : example.entrySet()) b.append("## ").append(e.getKey()).append('\n').append(e.getValue()).append('\n');
            return b.toString();
        }
    }

    /** Runs {@code sequences} generated sequences, {@code parallel} at a time. */
    Result run(long seed, int sequences, int parallel) throws IOException {
        Gen gen = new Gen(seed);
        return run(i -> gen.next(i), sequences, parallel);
    }

    /** Runs the given sequences (one at a time). */
    Result runScripted(List<Seq> seqs) throws IOException {
        return run(seqs::get, seqs.size(), 1);
    }

    private Result run(java.util.function.IntFunction<Seq> source, int sequences, int parallel) throws IOException {
        Result res = new Result();
        long seed = 7;
        ConnLimits limits = new ConnLimits(1 << 20, 4, 1 << 20);
        FragmentTable frags = new FragmentTable(4096, 1_000_000_000L, seed);
        try (Conntrack ct = new Conntrack(parallel * 4 + 64, CtTimeouts.defaults(), limits, seed)) {
            ct.tcpPickup(loose); // like with like: Linux runs with nf_conntrack_tcp_loose = the same (docs/conntrack.md)
            int made = 0;
            Seq[] active = new Seq[parallel];
            int[] pos = new int[parallel];
            boolean[] replySeen = new boolean[parallel];
            List<Pkt> batch = new ArrayList<>(parallel);
            int[] slotOf = new int[parallel];
            int[] ans = new int[parallel];
            long now = 1_000_000_000L;
            while (true) {
                batch.clear();
                int m = 0;
                for (int j = 0; j < parallel; j++) {
                    if (active[j] == null || pos[j] == active[j].pkts.size()) {
                        if (active[j] != null) finish(ct, active[j], res, now);
                        active[j] = made < sequences ? source.apply(made++) : null;
                        pos[j] = 0;
                        replySeen[j] = false;
                    }
                    if (active[j] == null) continue;
                    Seq s = active[j];
                    int i = pos[j];
                    Pkt p = s.pkts.get(i);
                    s.pre[i] = preState(ct, p, now);
                    s.overshoot[i] = ct.overshootsRightEdgeByAtMostAWindow(p.ct, now);
                    long before = ct.windowDigest(p.ct, now);
                    s.sluice[i] = p.frags != null ? sluiceFragments(ct, frags, p, now, replySeen, j) : sluice(ct, p, now, replySeen, j);
                    s.movedWindow[i] = before != 0 && ct.windowDigest(p.ct, now) != before;
                    if (created && p.ct.proto == CtPacket.IPPROTO_TCP) s.initiator = p.side; // created or re-opened
                    s.dir[i] = p.side == s.initiator ? "orig" : "reply";
                    batch.add(p);
                    slotOf[m++] = j;
                }
                if (m == 0) break;
                linuxBatch(batch, ans);
                if (linuxTable != null) linuxTable.accept(netns.exec(fNs, 10, "cat", "/proc/net/nf_conntrack").output());
                for (int x = 0; x < m; x++) {
                    int j = slotOf[x];
                    active[j].linux[pos[j]] = ans[x];
                    pos[j]++;
                }
                now += 1_000_000L; // 1 ms per round: far below every timeout, as on the Linux side
            }
        }
        return res;
    }

    private static String preState(Conntrack ct, Pkt p, long now) {
        if (Icmp.isIcmpProto(p.ct.proto) && Icmp.isError(p.ct.family, p.ct.icmpType)) return "-";
        int st = ct.peekState(p.ct, now);
        if (st < 0) return "none";
        return p.ct.proto == CtPacket.IPPROTO_TCP ? TcpState.values()[st].name() : "pseudo" + st;
    }

    /** Sluice's answer, as the firewall stage computes it with every rule allowing. */
    /** Whether the last {@link #sluice} call created (or re-opened) an entry. */
    private static boolean created;

    /** Sluice's answer for a fragmented datagram, as the firewall stage gives it (docs/firewall.md, "Fragments"). */
    private static int sluiceFragments(Conntrack ct, FragmentTable ft, Pkt p, long now, boolean[] replySeen, int j) {
        CtPacket c = p.ct;
        created = false; // no first fragment: nothing reaches the tracker
        ft.key(c.zone, c.family, c.srcHi, c.srcLo, c.dstHi, c.dstLo, c.proto, ++fragIds);
        int first = -1;
        for (int f = 0; f < p.frags.size(); f++) if (p.fragOff[f] == 0) first = f;
        int answer = 0; // no first fragment: nothing is tracked and the later ones are dropped
        boolean tcp = c.proto == CtPacket.IPPROTO_TCP;
        if (first >= 0) {
            // the firewall stage reads a first fragment's TCP payload length from its own IP length
            // (docs/conntrack.md, "IP fragments"): the window check sees only that fragment's bytes
            int whole = c.payloadLen;
            if (tcp) c.payloadLen = p.fragLen[first] - 20;
            answer = sluice(ct, p, now, replySeen, j);
            c.payloadLen = whole;
            // the stage decides a burst's later fragments after its other packets: the first one
            // counts first whatever the order within the burst (a datagram's fragments are one burst here)
            if (answer == S_INV) ft.forget();
            else if (ft.first(tcp ? 20 : 8, p.fragLen[first], now) == FragmentTable.FULL) return 0;
        }
        for (int f = 0; f < p.frags.size(); f++) {
            if (f == first) continue;
            if (ft.later(p.fragOff[f] >>> 3, p.fragLen[f], !p.fragMore[f], now) != FragmentTable.PASS && answer != S_INV) answer = 0;
        }
        return answer;
    }

    private static int fragIds;

    private static int sluice(Conntrack ct, Pkt p, long now, boolean[] replySeen, int j) {
        created = false;
        Verdict v = ct.track(p.ct, now);
        switch (v) {
            case NEW -> {
                created = true;
                Verdict c = ct.commit(p.ct, 1, now);
                if (c != Verdict.NEW) throw new IllegalStateException("commit " + c + " for " + p.ct);
                replySeen[j] = false;
                return S_NEW;
            }
            case ESTABLISHED -> {
                if (ct.lastDirection() == 1) replySeen[j] = true;
                return replySeen[j] ? S_EST : S_NEW;
            }
            case RELATED -> { return S_REL; }
            default -> { return S_INV; }
        }
    }

    private static void finish(Conntrack ct, Seq s, Result res, long now) {
        res.sequences++;
        res.packets += s.pkts.size();
        res.packetsByProto.merge(s.kind, (long) s.pkts.size(), Long::sum);
        boolean diverged = false;
        for (int i = 0; i < s.pkts.size(); i++) {
            if (s.linux[i] == 0 && s.pkts.get(i).frags == null) res.lost++; // a datagram Linux could not reassemble is dropped, not lost
            if (s.sluice[i] == s.linux[i]) continue;
            res.differences++;
            if (diverged) {
                // the two trackers already disagree about this connection: its later packets are
                // consequences of the first difference, not independent findings
                res.later++;
                continue;
            }
            diverged = true;
            String k = Result.kind(s, i) + history(s, i);
            res.firstDifferences++;
            if (!Result.explained(k)) {
                res.unexplained++;
                if (!Result.open(k)) res.unknown++;
            }
            if (res.byKind.merge(k, 1L, Long::sum) == 1L) res.example.put(k, describe(s, i));
        }
        if (diverged) res.divergedSequences++;
        // every sequence has its own addresses and ports: free Sluice's entry (Linux keeps its own)
        for (Pkt p : s.pkts) ct.kill(p.ct);
    }

    /**
     * What earlier packets of the sequence did that makes Linux's entry differ from Sluice's although
     * every earlier answer was the same (appended to the kind, so that a reason can name it exactly):
     * <ul>
     * <li>{@code " after RST in SYN_SENT"}: an RST (the responder's answer to the SYN, or the
     *     initiator's own) closed the entry before any reply passed and Sluice's entry has been in
     *     CLOSE since; Linux deleted its entry at once (D8);</li>
     * <li>{@code " after RST in SYN_SENT and an ACK Linux picked up"}: as above, then (tcp_loose=1)
     *     an ACK passed in CLOSE started a new, liberal Linux entry (D8);</li>
     * <li>{@code " after RST passed unchanged in <state>"}: an RST in a closing state that Sluice
     *     passed as a late duplicate (window check II, no state change) and Sluice's entry stayed in
     *     the closing states short of CLOSE since; Linux skips the RST check there and closed (D4);</li>
     * <li>{@code " after a reply SYN/ACK that moved Sluice's window in <state>"}: Linux passed it
     *     without looking (sIG, D1) while Sluice moved its window records (looked for last).</li>
     * </ul>
     * {@code " after an RST in <closing state> that moved Sluice's window"}: Linux skipped that RST's
     * window check and update (D4), Sluice moved its records (D4 consequence);
     * {@code " after an invalid segment of the responder in SYN_SENT"}: Linux took that side's window
     * data from it although it found it invalid (D12);
     * {@code " after a fragmented segment"}: an earlier IP-fragmented TCP segment that both passed
     * (Sluice counted its first fragment's bytes only, D11);
     * and for the packet itself: {@code " beyond the right edge by at most a window"} (D7) and
     * {@code " with ACK field 0"} (an RST in SYN_SENT2, D10). Empty otherwise.
     */
    static String history(Seq s, int i) {
        if (s.overshoot[i]) return " beyond the right edge by at most a window";
        for (int j = 0; j < i; j++) {
            Pkt p = s.pkts.get(j);
            boolean passed = s.sluice[j] == S_EST || s.sluice[j] == S_NEW;
            if (p.frags != null && p.ct.proto == CtPacket.IPPROTO_TCP && passed && s.sluice[j] == s.linux[j]) return " after a fragmented segment";
        }
        Pkt q = s.pkts.get(i);
        if (q.ct.proto == CtPacket.IPPROTO_TCP && "SYN_SENT2".equals(s.pre[i]) && q.ct.ack == 0
                && TcpSegment.classify(q.ct.tcpFlags) == TcpSegment.RST) {
            return " with ACK field 0";
        }
        for (int j = 0; j < i; j++) {
            Pkt p = s.pkts.get(j);
            if (p.ct.proto == CtPacket.IPPROTO_TCP && "SYN_SENT".equals(s.pre[j]) && "reply".equals(s.dir[j]) && s.sluice[j] == S_INV
                    && s.linux[j] == S_INV && TcpSegment.classify(p.ct.tcpFlags) >= 0) {
                return " after an invalid segment of the responder in SYN_SENT";
            }
        }
        String pickedUp = afterPickupOfARstInSynSent(s, i);
        if (pickedUp != null) return pickedUp;
        String unchanged = afterRstPassedUnchangedInAClosingState(s, i);
        if (unchanged != null) return unchanged;
        String closing = "FIN_WAIT CLOSE_WAIT LAST_ACK TIME_WAIT CLOSE";
        for (int j = i - 1; j >= 0; j--) {
            Pkt p = s.pkts.get(j);
            if (p.ct.proto != CtPacket.IPPROTO_TCP) continue;
            boolean passed = s.sluice[j] == S_EST || s.sluice[j] == S_NEW;
            boolean rst = TcpSegment.classify(p.ct.tcpFlags) == TcpSegment.RST;
            String after = j + 1 <= i ? s.pre[j + 1] : "";
            if (rst && passed && "SYN_SENT".equals(s.pre[j]) && sameState(s, j + 1, i, "CLOSE")) {
                return " after RST in SYN_SENT";
            }
            if (rst && passed && s.movedWindow[j] && closing.contains(s.pre[j]) && sameState(s, j + 1, i, "CLOSE")) {
                return " after an RST in " + s.pre[j] + " that moved Sluice's window";
            }
            if (!s.pre[j].equals(after) && !"-".equals(after)) break; // a state change: older packets no longer matter
        }
        for (int j = i - 1; j >= 0; j--) {
            Pkt p = s.pkts.get(j);
            if (p.ct.proto == CtPacket.IPPROTO_TCP && s.movedWindow[j] && "reply".equals(s.dir[j])
                    && TcpSegment.classify(p.ct.tcpFlags) == TcpSegment.SYNACK && ("SYN_RECV".equals(s.pre[j]) || "ESTABLISHED".equals(s.pre[j]))) {
                return " after a reply SYN/ACK that moved Sluice's window in " + s.pre[j];
            }
        }
        return "";
    }

    /**
     * {@code " after RST in SYN_SENT and an ACK Linux picked up"} (D8 with tcp_loose=1): an RST in
     * SYN_SENT that both passed closed Sluice's entry (CLOSE, kept 10 s) and deleted Linux's (no
     * reply seen yet); then an ACK segment that both passed while Sluice's entry was still in CLOSE
     * made Linux pick the flow up as a new, liberal (no window check) ESTABLISHED entry. From there
     * the two entries have nothing in common: a SYN re-opens Sluice's CLOSE entry while Linux
     * ignores it in its ESTABLISHED one, and Linux checks no window. Null when that did not happen.
     */
    private static String afterPickupOfARstInSynSent(Seq s, int i) {
        for (int j = 0; j < i; j++) {
            Pkt p = s.pkts.get(j);
            if (p.ct.proto != CtPacket.IPPROTO_TCP || TcpSegment.classify(p.ct.tcpFlags) != TcpSegment.RST
                    || !"SYN_SENT".equals(s.pre[j]) || !(s.sluice[j] == S_EST || s.sluice[j] == S_NEW)) continue;
            for (int k = j + 1; k < i; k++) {
                Pkt q = s.pkts.get(k);
                if (q.ct.proto != CtPacket.IPPROTO_TCP) continue;
                if (!"CLOSE".equals(s.pre[k])) break; // Sluice's entry left CLOSE (a SYN re-opened it) before any pickup
                if (TcpSegment.classify(q.ct.tcpFlags) == TcpSegment.ACK && s.linux[k] == S_NEW
                        && (s.sluice[k] == S_EST || s.sluice[k] == S_NEW)) {
                    return " after RST in SYN_SENT and an ACK Linux picked up";
                }
            }
        }
        return null;
    }

    /**
     * {@code " after RST passed unchanged in <state>"} (D4): an RST in FIN_WAIT, CLOSE_WAIT, LAST_ACK
     * or TIME_WAIT that both passed, and Sluice's entry in one of those states (never CLOSE) at every
     * TCP packet since: Sluice passed it as a late duplicate without closing (an accepted RST closes),
     * while Linux skips the RST check in the closing states and went to CLOSE, where it stays for
     * every segment but a SYN (which it may re-open). Sluice's own moves between those states since
     * (an ACK taking FIN_WAIT to CLOSE_WAIT) do not matter. Null when that did not happen.
     */
    private static String afterRstPassedUnchangedInAClosingState(Seq s, int i) {
        String open = " FIN_WAIT CLOSE_WAIT LAST_ACK TIME_WAIT ";
        for (int j = i - 1; j >= 0; j--) {
            Pkt p = s.pkts.get(j);
            if (p.ct.proto != CtPacket.IPPROTO_TCP) continue;
            if (!open.contains(" " + s.pre[j] + " ")) return null;
            boolean passed = s.sluice[j] == S_EST || s.sluice[j] == S_NEW;
            if (passed && TcpSegment.classify(p.ct.tcpFlags) == TcpSegment.RST) {
                for (int k = j + 1; k <= i; k++) {
                    if (s.pkts.get(k).ct.proto == CtPacket.IPPROTO_TCP && !open.contains(" " + s.pre[k] + " ")) return null;
                }
                return " after RST passed unchanged in " + s.pre[j];
            }
        }
        return null;
    }

    /** Whether every TCP packet from {@code from} to {@code to} found Sluice's entry in {@code state}. */
    private static boolean sameState(Seq s, int from, int to, String state) {
        for (int k = from; k <= to; k++) {
            if (s.pkts.get(k).ct.proto == CtPacket.IPPROTO_TCP && !state.equals(s.pre[k])) return false;
        }
        return true;
    }

    static String describe(Seq s, int upTo) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i <= upTo && i < s.pkts.size(); i++) {
            Pkt p = s.pkts.get(i);
            b.append(String.format("  %s%-14s %-50s pre=%-11s sluice=%-11s linux=%s%n", i == upTo ? "> " : "  ", p.action,
                    p.ct, s.pre[i], STATE[s.sluice[i]], STATE[s.linux[i]]));
        }
        return b.toString();
    }

    // ---------------------------------------------------------------------------------------
    // generator
    // ---------------------------------------------------------------------------------------

    /** Random sequences; every sequence gets its own A address and port (no two share a tuple). */
    static final class Gen {
        final SplittableRandom r;
        Gen(long seed) { r = new SplittableRandom(seed); }

        int addrA, addrB, portA, portB;

        Seq next(int n) {
            addrA = 0x0A01_0000 | (((n / 250) % 250) << 8) | (n % 250 + 1);
            addrB = 0x0A02_0000 | (r.nextInt(250) << 8) | (r.nextInt(250) + 1);
            portA = 1024 + (n / 62_500) * 7 % 60_000 + r.nextInt(3);
            portB = r.nextInt(10) == 0 ? 1024 + r.nextInt(60_000) : new int[] {80, 443, 22, 53, 8080}[r.nextInt(5)];
            int k = r.nextInt(100);
            if (k < 70) return tcp();
            if (k < 85) return udp();
            return echo();
        }

        // ---- TCP: an endpoint model (next sequence number, windows) driving random actions ----
        final int[] nxt = new int[2];
        final int[] isn = new int[2];
        final int[] ws = new int[2];
        final int[] lastAckOf = new int[2]; // highest ack side s has received for its data
        final boolean[] synSent = new boolean[2];
        final boolean[] finSent = new boolean[2];
        List<Pkt> out;

        Seq tcp() {
            out = new ArrayList<>();
            for (int s = 0; s < 2; s++) {
                isn[s] = r.nextInt();
                nxt[s] = isn[s];
                lastAckOf[s] = isn[s];
                ws[s] = r.nextInt(3) == 0 ? -1 : r.nextInt(15);
                synSent[s] = false;
                finSent[s] = false;
            }
            int style = r.nextInt(10);
            // the opening
            syn(0, "syn");
            if (r.nextInt(8) == 0) retransmit();
            if (style == 0) {
                syn(1, "simul-syn");
                synAck(0, "simul-synack");
                synAck(1, "simul-synack");
            } else if (style != 1) {
                synAck(1, "synack");
                if (r.nextInt(10) == 0) retransmit();
                data(0, 0, "ack");
            }
            int steps = 2 + r.nextInt(14);
            for (int i = 0; i < steps; i++) action();
            return new Seq("tcp", out);
        }

        void action() {
            int s = r.nextInt(2);
            int k = r.nextInt(100);
            if (k < 40) data(s, r.nextInt(4) == 0 ? 0 : 1 + r.nextInt(1400), "data");
            else if (k < 50) fin(s);
            else if (k < 55) rst(s, true);
            else if (k < 60) rst(s, false);
            else if (k < 68) retransmit();
            else if (k < 72) oow(s);
            else if (k < 76) badAck(s);
            else if (k < 80) { isn[s] = r.nextInt(); syn(s, "syn-again"); }
            else if (k < 84) garbage(s);
            else if (k < 92) icmpError(r.nextInt(4) == 0);
            else if (k < 96) { syn(s, "syn-new-isn"); }
            else synAck(s, "synack-again");
        }

        Pkt tcpPkt(String action, int s, int flags, int seq, int ack, int len, int wscale) {
            Pkt p = new Pkt(action);
            int src = s == 0 ? addrA : addrB, dst = s == 0 ? addrB : addrA;
            int sp = s == 0 ? portA : portB, dp = s == 0 ? portB : portA;
            int win = r.nextInt(20) == 0 ? r.nextInt(65536) : 65535;
            p.ct.v4(0, src, dst).tcp(sp, dp, flags, seq, (flags & TcpFlags.ACK) != 0 ? ack : 0, win, len);
            if (wscale >= 0) p.ct.wscale(wscale);
            p.side = s;
            p.wire = Wire.tcp(p.ct);
            out.add(p);
            return p;
        }

        void syn(int s, String a) {
            nxt[s] = isn[s];
            tcpPkt(a, s, TcpFlags.SYN, isn[s], 0, 0, ws[s]);
            nxt[s] = isn[s] + 1;
            synSent[s] = true;
        }

        void synAck(int s, String a) {
            int o = 1 - s;
            tcpPkt(a, s, TcpFlags.SYN | TcpFlags.ACK, isn[s], nxt[o], 0, ws[s]);
            nxt[s] = isn[s] + 1;
            lastAckOf[o] = nxt[o];
            synSent[s] = true;
        }

        void data(int s, int len, String a) {
            int o = 1 - s;
            if (nxt[s] - lastAckOf[s] + len > 60_000) {
                s = o; // the receiver acks first
                o = 1 - s;
                len = 0;
            }
            Pkt p = tcpPkt(len == 0 ? "ack" : a, s, TcpFlags.ACK | (len > 0 ? TcpFlags.PSH : 0), nxt[s], nxt[o], len, -1);
            // an IP-fragmented segment (a stack without DF / path MTU discovery, or a tunnel in the path)
            if (len >= 1000 && r.nextInt(8) == 0) fragment(p, a);
            nxt[s] += len;
            lastAckOf[o] = nxt[o];
        }

        void fin(int s) {
            int o = 1 - s;
            int len = r.nextInt(3) == 0 ? 1 + r.nextInt(500) : 0;
            if (finSent[s]) len = 0;
            tcpPkt("fin", s, TcpFlags.FIN | TcpFlags.ACK, finSent[s] ? nxt[s] - 1 : nxt[s], nxt[o], len, -1);
            if (!finSent[s]) nxt[s] += len + 1;
            finSent[s] = true;
            lastAckOf[o] = nxt[o];
        }

        void rst(int s, boolean inWindow) {
            int o = 1 - s;
            int seq = inWindow ? nxt[s] + (r.nextInt(3) == 0 ? r.nextInt(1000) : 0) : nxt[s] + (1 << 30) + r.nextInt(1 << 20);
            boolean ack = r.nextBoolean();
            tcpPkt(inWindow ? "rst" : "rst-oow", s, TcpFlags.RST | (ack ? TcpFlags.ACK : 0), seq, nxt[o], 0, -1);
        }

        void retransmit() {
            Pkt old = out.get(r.nextInt(out.size()));
            Pkt p = new Pkt("retransmit");
            p.ct.set(old.ct);
            p.side = old.side;
            p.wire = old.wire.clone();
            out.add(p);
        }

        void oow(int s) {
            int o = 1 - s;
            int off = r.nextBoolean() ? (1 << 30) + r.nextInt(1 << 29) : 70_000 + r.nextInt(1 << 20);
            if (r.nextBoolean()) off = -off;
            tcpPkt("data-oow", s, TcpFlags.ACK | TcpFlags.PSH, nxt[s] + off, nxt[o], 1 + r.nextInt(1000), -1);
        }

        void badAck(int s) {
            int o = 1 - s;
            int off = r.nextBoolean() ? 1 + r.nextInt(1 << 20) : -(70_000 + r.nextInt(1 << 29));
            tcpPkt("bad-ack", s, TcpFlags.ACK, nxt[s], nxt[o] + off, 0, -1);
        }

        void garbage(int s) {
            int o = 1 - s;
            int flags = r.nextInt(256);
            tcpPkt("flags-" + Integer.toHexString(flags), s, flags, nxt[s], nxt[o], 0, -1);
        }

        /** An ICMP error about the last packet of this sequence (or one never sent): to its sender. */
        void icmpError(boolean forged) {
            Pkt q = out.get(out.size() - 1);
            while (Icmp.isIcmpProto(q.ct.proto) && Icmp.isError(4, q.ct.icmpType)) {
                q = out.get(r.nextInt(out.size()));
            }
            CtPacket c = q.ct;
            int qs = (int) c.srcLo, qd = (int) c.dstLo;
            int sp = c.sport, dp = c.dport;
            String a = "icmp-err";
            int to = qs;
            int kind = forged ? r.nextInt(3) : 3;
            if (kind == 0) { sp = sp ^ (1 + r.nextInt(1000)); a = "icmp-err-unknown"; }
            else if (kind == 1) { to = qd; a = "icmp-err-wrong-dir"; }
            else if (kind == 2) { qd = qd ^ 0x100; a = "icmp-err-unknown"; }
            int[][] types = {{3, 1}, {3, 3}, {3, 4}, {11, 0}, {12, 0}};
            int[] t = types[r.nextInt(types.length)];
            boolean toA = (to >>> 16) == 0x0A01;
            int from = toA ? 0x0A02_FE01 : 0x0A01_FE01;
            Pkt p = new Pkt(a);
            p.ct.v4(0, from, to).icmp(t[0], t[1], 0);
            p.ct.quoted(0, c.srcLo, 0, qd & 0xFFFF_FFFFL, c.proto, sp, dp, c.proto == CtPacket.IPPROTO_ICMP ? c.icmpType : 0);
            p.side = toA ? 1 : 0;
            CtPacket quotedPkt = new CtPacket().set(c);
            quotedPkt.dstLo = qd & 0xFFFF_FFFFL;
            quotedPkt.sport = sp;
            if (c.proto == CtPacket.IPPROTO_ICMP) quotedPkt.sport = sp; // echo id
            p.wire = Wire.icmpError(p.ct, Wire.of(quotedPkt));
            out.add(p);
        }

        // ---- UDP ----
        Seq udp() {
            out = new ArrayList<>();
            int n = 1 + r.nextInt(8);
            for (int i = 0; i < n; i++) {
                int s = i == 0 ? 0 : r.nextInt(2);
                if (i > 0 && r.nextInt(6) == 0) { icmpError(r.nextInt(3) == 0); continue; }
                boolean big = r.nextInt(5) == 0;
                Pkt p = new Pkt("udp");
                int src = s == 0 ? addrA : addrB, dst = s == 0 ? addrB : addrA;
                p.ct.v4(0, src, dst).udp(s == 0 ? portA : portB, s == 0 ? portB : portA, big ? 1200 + r.nextInt(3000) : r.nextInt(600));
                p.side = s;
                p.wire = Wire.of(p.ct);
                if (big) fragment(p, "udp");
                out.add(p);
            }
            return new Seq("udp", out);
        }

        /**
         * Splits p's datagram into IPv4 fragments of 8-byte multiples (ping -s 4000, large DNS):
         * in order (70 %), in reverse order (15 %: Linux reassembles any order; the firewall stage
         * decides a burst's first fragment before its later ones), without the first fragment
         * (10 %: lost on the way) or with a later fragment overlapping the one before it (5 %).
         */
        void fragment(Pkt p, String base) {
            byte[] whole = p.wire;
            int payload = whole.length - 20;
            int size = 8 * (60 + r.nextInt(120)); // at most 11 fragments (the oracle takes up to 64)
            List<int[]> pieces = new ArrayList<>();
            for (int off = 0; off < payload; off += size) pieces.add(new int[] {off, Math.min(size, payload - off)});
            if (pieces.size() < 2) return;
            int k = r.nextInt(100);
            String variant = "";
            if (k < 15) { java.util.Collections.reverse(pieces); variant = "-reversed"; }
            else if (k < 25) { pieces.remove(0); variant = "-nofirst"; }
            else if (k < 30) {
                int[] last = pieces.get(pieces.size() - 1);
                last[0] -= 8; // starts 8 bytes inside the fragment before it (RFC 5722: discard the datagram)
                last[1] += 8;
                variant = "-overlap";
            }
            p.frags = new ArrayList<>();
            p.fragOff = new int[pieces.size()];
            p.fragLen = new int[pieces.size()];
            p.fragMore = new boolean[pieces.size()];
            for (int f = 0; f < pieces.size(); f++) {
                int off = pieces.get(f)[0], len = pieces.get(f)[1];
                boolean more = off + len < payload;
                byte[] w = new byte[20 + len];
                System.arraycopy(whole, 0, w, 0, 20);
                System.arraycopy(whole, 20 + off, w, 20, len);
                put16(w, 2, 20 + len);
                put16(w, 6, (more ? 0x2000 : 0) | (off >>> 3));
                p.frags.add(w);
                p.fragOff[f] = off;
                p.fragLen[f] = len;
                p.fragMore[f] = more;
            }
            p.action = base + "-frag" + variant;
        }

        // ---- ICMP echo ----
        Seq echo() {
            out = new ArrayList<>();
            int n = 1 + r.nextInt(6);
            int id = portA;
            for (int i = 0; i < n; i++) {
                int k = r.nextInt(10);
                if (i > 0 && k == 0) { icmpError(r.nextInt(3) == 0); continue; }
                int s; int type; String a;
                if (i == 0 && k < 8 || k < 4) { s = 0; type = Icmp.V4_ECHO_REQUEST; a = "echo-req"; }
                else if (k < 9) { s = 1; type = Icmp.V4_ECHO_REPLY; a = "echo-reply"; }
                else { s = 0; type = Icmp.V4_ECHO_REPLY; a = "echo-reply-wrong-dir"; }
                Pkt p = new Pkt(a);
                int src = s == 0 ? addrA : addrB, dst = s == 0 ? addrB : addrA;
                p.ct.v4(0, src, dst).icmp(type, 0, id);
                p.side = s;
                boolean big = r.nextInt(5) == 0;
                p.wire = big ? Wire.echo(p.ct, 1200 + r.nextInt(3000)) : Wire.of(p.ct);
                if (big) fragment(p, a);
                out.add(p);
            }
            return new Seq("icmp", out);
        }
    }

    // ---------------------------------------------------------------------------------------
    // IPv4 packets on the wire
    // ---------------------------------------------------------------------------------------

    static final class Wire {
        static byte[] of(CtPacket c) {
            return switch (c.proto) {
                case CtPacket.IPPROTO_TCP -> tcp(c);
                case CtPacket.IPPROTO_UDP -> udp(c);
                default -> echo(c);
            };
        }

        static byte[] ip(CtPacket c, int l4len) {
            byte[] b = new byte[20 + l4len];
            b[0] = 0x45;
            put16(b, 2, 20 + l4len);
            put16(b, 6, 0x4000);
            b[8] = 64;
            b[9] = (byte) c.proto;
            put32(b, 12, (int) c.srcLo);
            put32(b, 16, (int) c.dstLo);
            ipChecksum(b);
            return b;
        }

        static byte[] tcp(CtPacket c) {
            int opt = c.wscale >= 0 ? 4 : 0;
            int hl = 20 + opt;
            byte[] b = ip(c, hl + c.payloadLen);
            int o = 20;
            put16(b, o, c.sport);
            put16(b, o + 2, c.dport);
            put32(b, o + 4, c.seq);
            put32(b, o + 8, c.ack);
            b[o + 12] = (byte) ((hl / 4) << 4);
            b[o + 13] = (byte) c.tcpFlags;
            put16(b, o + 14, c.window);
            if (opt > 0) {
                b[o + 20] = 1; b[o + 21] = 3; b[o + 22] = 3; b[o + 23] = (byte) c.wscale;
            }
            put16(b, o + 16, l4sum(b, o));
            return b;
        }

        static byte[] udp(CtPacket c) {
            byte[] b = ip(c, 8 + c.payloadLen);
            put16(b, 20, c.sport);
            put16(b, 22, c.dport);
            put16(b, 24, 8 + c.payloadLen);
            int s = l4sum(b, 20);
            put16(b, 26, s == 0 ? 0xFFFF : s);
            return b;
        }

        static byte[] echo(CtPacket c) { return echo(c, 8); }

        /** An echo request or reply with {@code data} bytes after its 8-byte header. */
        static byte[] echo(CtPacket c, int data) {
            byte[] b = ip(c, 8 + data);
            b[20] = (byte) c.icmpType;
            b[21] = (byte) c.icmpCode;
            put16(b, 24, c.sport);
            put16(b, 26, 1);
            put16(b, 22, sum(b, 20, 8 + data, 0));
            return b;
        }

        /** An ICMP error quoting the first 28 bytes (IP header + 8) of {@code quoted}. */
        static byte[] icmpError(CtPacket c, byte[] quoted) {
            int ql = Math.min(quoted.length, 28);
            byte[] b = ip(c, 8 + ql);
            b[20] = (byte) c.icmpType;
            b[21] = (byte) c.icmpCode;
            if (c.icmpType == 3 && c.icmpCode == 4) put16(b, 26, 1400);
            System.arraycopy(quoted, 0, b, 28, ql);
            put16(b, 22, sum(b, 20, 8 + ql, 0));
            return b;
        }

        private static int l4sum(byte[] b, int o) {
            int len = b.length - o;
            long ph = 0;
            for (int i = 12; i < 20; i += 2) ph += ((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF);
            ph += b[9] & 0xFF;
            ph += len;
            return sum(b, o, len, ph);
        }
    }

    static int sum(byte[] b, int off, int len, long init) {
        long s = init;
        for (int i = 0; i + 1 < len; i += 2) s += ((b[off + i] & 0xFF) << 8) | (b[off + i + 1] & 0xFF);
        if ((len & 1) != 0) s += (b[off + len - 1] & 0xFF) << 8;
        while ((s >>> 16) != 0) s = (s & 0xFFFF) + (s >>> 16);
        return (int) (~s & 0xFFFF);
    }

    static void ipChecksum(byte[] b) {
        b[10] = 0;
        b[11] = 0;
        put16(b, 10, sum(b, 0, 20, 0));
    }

    static void put16(byte[] b, int o, int v) {
        b[o] = (byte) (v >>> 8);
        b[o + 1] = (byte) v;
    }

    static void put32(byte[] b, int o, int v) {
        put16(b, o, v >>> 16);
        put16(b, o + 2, v);
    }
}
