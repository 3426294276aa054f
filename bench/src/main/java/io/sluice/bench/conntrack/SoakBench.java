package io.sluice.bench.conntrack;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.conntrack.ConnLimits;
import io.sluice.dataplane.firewall.FirewallPipelines;
import io.sluice.dataplane.firewall.FirewallStage;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The firewall soak of issue 17 part 6 ({@code ./sluice bench soak}, bench/scripts/soak.sh): mixed
 * traffic through the real L2 firewall pipeline in-process ({@code parse -> arp -> l2 -> firewall},
 * {@link FirewallPipelines#l2}: parser, security groups, conntrack shard, fragment table; frames
 * written into native memory, bursts of 32, no DPDK) for a wall-clock duration:
 * <ul>
 *   <li>4 VMs (vm0..vm3, 10.88.0.1-4, groups default + web) and 2 outside hosts (ext0 .11, ext1 .12);</li>
 *   <li>churning TCP (handshake, data both ways, then FIN/FIN/ACK or RST) and UDP (request + reply)
 *       connections from and to vm1..vm3 (outbound to :443 and :53, inbound to :80), a few new ones per
 *       second per VM and kind, so the real-time timeouts (TIME_WAIT 120 s, UDP 30 s) keep them well
 *       below the per-VM limit;</li>
 *   <li>16 long-lived established connections per VM (vm0 included), data both ways all the time;</li>
 *   <li>a SYN flood from vm0 (8 SYNs of new connections per burst, to ext0/ext1, random ports) that
 *       fills vm0's per-VM limit and stays there (its SYN_SENT entries expire after 120 s and are
 *       replaced);</li>
 *   <li>IPv4 fragments: 4000-byte UDP datagrams from ext0 to vm1..vm3 :7000 in 3 fragments spread over
 *       bursts, every 7th without its last fragment (left to the fragment timeout), every 11th preceded
 *       by an orphan later fragment of a datagram never sent (FW_FRAGMENT_UNKNOWN);</li>
 *   <li>rule changes: every 2 s a new security-group configuration is applied (a new epoch): rule
 *       {@code web/extra} (ingress TCP 9000) toggled, then a SYN from ext1 to :9000 of vm1..vm3 must
 *       pass when the rule is there and be dropped FW_NO_RULE when it is not.</li>
 * </ul>
 * Every packet has an expected outcome (pass; the flood: pass or FW_LIMIT; the drops above) and every
 * other outcome is counted as unexpected. The stages read {@code System.nanoTime()} per burst, so
 * timeouts run in real time during the soak; when the traffic stops, virtual time (the stage's
 * {@code idle(nowNs)} and the fragment table's {@code expire(nowNs, budget)}, the same expiry the
 * stage runs per burst) is moved 6 days past the last packet so every timeout passes (TCP established:
 * 5 days), and the table, the fragment table and the host and per-VM counts must be back at their
 * baseline (0, as before the traffic).
 *
 * <p>Prints (and writes to {@code --out}) occupancy over time (conntrack entries per VM and in total,
 * fragment datagrams tracked), memory (VmRSS from /proc/self/status, off-heap: the JVM's direct and
 * mapped buffer pools, which count {@code Arena} allocations, plus the conntrack and fragment table
 * sizes), drops by reason (cross-checked with the firewall's own per-port counters), and last
 * {@code soak=pass} or {@code soak=fail: <what>}.
 *
 * <pre>
 * java ... io.sluice.bench.conntrack.SoakBench [--seconds 600] [--seed N] [--out FILE] [--cmd TEXT]
 *     [--report-every S] [--inject none|no-vm-limit|no-expiry]
 * </pre>
 * {@code --inject} breaks a property on purpose (to show the soak fails): {@code no-vm-limit} sets
 * max-connections-per-vm to max-connections (the flood then fills the host table and the other VMs'
 * new connections are refused FW_LIMIT); {@code no-expiry} skips the final virtual-time expiry (the
 * occupancy does not return to its baseline).
 */
public final class SoakBench {
    static final int VMS = 4, EXTS = 2, PORTS = VMS + EXTS, FLOOD_VM = 0;
    static final int HOST_LIMIT = 16_384, VM_LIMIT = 2_048;
    static final int BURST = 32, SLOT = 2048;
    static final int SYN = 0x02, RST = 0x04, ACK = 0x10, SYNACK = 0x12, PSHACK = 0x18, FINACK = 0x11;
    static final int LONG_PER_VM = 16;
    /** New churn connections per second per VM (vm1..vm3), for each of TCP-out, TCP-in, UDP. */
    static final double NEW_PER_SECOND = 3;

    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    static long mac(int port) { return 0x02_5e_00_00_00_01L + port; }

    static String macStr(int port) { return String.format("02:5e:00:00:00:%02x", port + 1); }

    static int ip(int port) { return (10 << 24) | (88 << 16) | (port < VMS ? port + 1 : port - VMS + 11); }

    static String ipStr(int port) { return "10.88.0." + (port < VMS ? port + 1 : port - VMS + 11); }

    static String name(int port) { return port < VMS ? "vm" + port : "ext" + (port - VMS); }

    static String yaml(boolean extra, int epoch, int perVm) {
        StringBuilder y = new StringBuilder();
        y.append("eal: [\"--no-huge\", \"-m\", \"256\", \"--no-pci\", \"--no-shconf\", \"-l\", \"0\"]\n");
        y.append("burst-size: 32\nidle-strategy: backoff\nmbufs: 1023\nports:\n");
        for (int p = 0; p < PORTS; p++) y.append("  - { name: ").append(name(p)).append(", device: \"net_null").append(p).append("\" }\n");
        y.append("mac-table:\n");
        for (int p = 0; p < PORTS; p++) y.append("  - { mac: \"").append(macStr(p)).append("\", port: ").append(name(p)).append(" }\n");
        y.append("arp:\n");
        for (int p = 0; p < PORTS; p++) y.append("  - { ip: ").append(ipStr(p)).append(", mac: \"").append(macStr(p)).append("\" }\n");
        y.append("security-groups:\n  max-connections: ").append(HOST_LIMIT).append("\n  max-connections-per-vm: ").append(perVm).append("\n");
        y.append("  groups:\n    - name: web\n      on-rule-change: keep\n      rules:\n");
        y.append("        - { id: http, direction: ingress, protocol: tcp, ports: 80 }\n");
        y.append("        - { id: frag, direction: ingress, protocol: udp, ports: 7000 }\n");
        // a rule whose remote changes with the epoch: every apply compiles a different table
        y.append("        - { id: mgmt, direction: ingress, protocol: tcp, ports: 8443, remote: 192.0.2.").append(epoch % 250).append("/32 }\n");
        if (extra) y.append("        - { id: extra, direction: ingress, protocol: tcp, ports: 9000 }\n");
        y.append("  vm-ports:\n");
        for (int p = 0; p < VMS; p++) y.append("    - { port: vm").append(p).append(", addresses: [").append(ipStr(p)).append("], groups: [default, web] }\n");
        return y.toString();
    }

    // ------------------------------------------------------------------ frames in native memory

    final MemorySegment buf;
    final long base;
    final Burst b = new Burst(BURST);
    int n;                                   // slots filled in the burst being built
    /** Expected outcome per slot: PASS, FLOOD (pass or FW_LIMIT), or DROP + expectReason. */
    static final byte PASS = 0, FLOOD = 1, DROP = 2;
    final byte[] expect = new byte[BURST];
    final DropReason[] expectReason = new DropReason[BURST];
    final int[] kind = new int[BURST];
    static final String[] KINDS = {"flood", "long-lived", "tcp-churn", "udp-churn", "fragment", "orphan-fragment", "rule-probe"};
    static final int K_FLOOD = 0, K_LONG = 1, K_TCP = 2, K_UDP = 3, K_FRAG = 4, K_ORPHAN = 5, K_PROBE = 6;

    long slotOff() { return (long) n * SLOT; }

    /** Ethernet + IPv4 header at the current slot; returns the offset of the L4 header. */
    long ipv4(int from, int to, int proto, int l4Len, int id, int fragWord) {
        long o = slotOff();
        put48(o, mac(to));
        put48(o + 6, mac(from));
        buf.set(U16, o + 12, (short) 0x0800);
        buf.set(ValueLayout.JAVA_BYTE, o + 14, (byte) 0x45);
        buf.set(ValueLayout.JAVA_BYTE, o + 15, (byte) 0);
        buf.set(U16, o + 16, (short) (20 + l4Len));
        buf.set(U16, o + 18, (short) id);
        buf.set(U16, o + 20, (short) fragWord);
        buf.set(ValueLayout.JAVA_BYTE, o + 22, (byte) 64);
        buf.set(ValueLayout.JAVA_BYTE, o + 23, (byte) proto);
        buf.set(U16, o + 24, (short) 0);
        buf.set(U32, o + 26, ip(from));
        buf.set(U32, o + 30, ip(to));
        buf.set(U16, o + 24, (short) io.sluice.dataplane.config.Net.checksum(buf.address() + o + 14, 20)); // the data plane's own
        return o + 34;
    }

    void put48(long o, long v) {
        buf.set(U16, o, (short) (v >>> 32));
        buf.set(U32, o + 2, (int) v);
    }

    void tcp(int from, int to, int sport, int dport, int flags, int seq, int ack, int payload, int inPort, byte exp, DropReason r, int k) {
        long l4 = ipv4(from, to, 6, 20 + payload, 0, 0x4000);
        buf.set(U16, l4, (short) sport);
        buf.set(U16, l4 + 2, (short) dport);
        buf.set(U32, l4 + 4, seq);
        buf.set(U32, l4 + 8, ack);
        buf.set(ValueLayout.JAVA_BYTE, l4 + 12, (byte) (5 << 4));
        buf.set(ValueLayout.JAVA_BYTE, l4 + 13, (byte) flags);
        buf.set(U16, l4 + 14, (short) 65535);
        buf.set(U32, l4 + 16, 0);
        add(34 + 20 + payload, inPort, exp, r, k);
    }

    void udp(int from, int to, int sport, int dport, int payload, int inPort, int k) {
        long l4 = ipv4(from, to, 17, 8 + payload, 0, 0x4000);
        buf.set(U16, l4, (short) sport);
        buf.set(U16, l4 + 2, (short) dport);
        buf.set(U16, l4 + 4, (short) (8 + payload));
        buf.set(U16, l4 + 6, (short) 0);
        add(34 + 8 + payload, inPort, PASS, null, k);
    }

    static final int FRAG_DATA = 4000, FRAG_CHUNK = 1480;

    /** Fragment {@code part} (0..2) of a 4008-byte UDP datagram (header + 4000 bytes) sport -> :7000. */
    void fragment(int from, int to, int sport, int id, int part, byte exp, DropReason r, int k) {
        int total = 8 + FRAG_DATA;
        int off = part * FRAG_CHUNK;
        int len = Math.min(FRAG_CHUNK, total - off);
        boolean more = off + len < total;
        long l4 = ipv4(from, to, 17, len, id, (more ? 0x2000 : 0) | (off / 8));
        if (part == 0) {
            buf.set(U16, l4, (short) sport);
            buf.set(U16, l4 + 2, (short) 7000);
            buf.set(U16, l4 + 4, (short) total);
            buf.set(U16, l4 + 6, (short) 0);
        }
        add(34 + len, from, exp, r, k);
    }

    void add(int len, int inPort, byte exp, DropReason r, int k) {
        b.reset(n, 0, base + slotOff(), len, inPort);
        expect[n] = exp;
        expectReason[n] = r;
        kind[n] = k;
        n++;
    }

    // ------------------------------------------------------------------ connections

    /** A TCP or UDP connection: client -> server, the client's next sequence numbers. */
    static final class Conn {
        int client, server, sport, dport, step, seqC, seqS, dataLeft;
        boolean udp, rst, longLived;
    }

    final List<Conn> longLived = new ArrayList<>();
    final ArrayDeque<Conn> churn = new ArrayDeque<>();
    final SplittableRandom rnd;
    int nextPort = 20_000;

    int ephemeral() {
        int p = nextPort++;
        if (nextPort > 60_000) nextPort = 20_000;
        return p;
    }

    Conn open(int client, int server, int dport, boolean udp) {
        Conn c = new Conn();
        c.client = client;
        c.server = server;
        c.sport = ephemeral();
        c.dport = dport;
        c.udp = udp;
        c.seqC = rnd.nextInt();
        c.seqS = rnd.nextInt();
        c.dataLeft = 2 + rnd.nextInt(6);
        c.rst = rnd.nextInt(4) == 0;
        return c;
    }

    /** Adds this connection's next packet; returns false when it is finished (nothing added). */
    boolean step(Conn c, int k) {
        if (c.udp) {
            if (c.step == 0) udp(c.client, c.server, c.sport, c.dport, 64, c.client, k);
            else if (c.step == 1) udp(c.server, c.client, c.dport, c.sport, 64, c.server, k);
            else return false;
            c.step++;
            return true;
        }
        switch (c.step) {
            case 0 -> { tcp(c.client, c.server, c.sport, c.dport, SYN, c.seqC, 0, 0, c.client, PASS, null, k); c.seqC++; }
            case 1 -> { tcp(c.server, c.client, c.dport, c.sport, SYNACK, c.seqS, c.seqC, 0, c.server, PASS, null, k); c.seqS++; }
            case 2 -> tcp(c.client, c.server, c.sport, c.dport, ACK, c.seqC, c.seqS, 0, c.client, PASS, null, k);
            default -> {
                int d = c.step - 3;
                if (c.longLived || d < 2 * c.dataLeft) {
                    if ((d & 1) == 0) { tcp(c.client, c.server, c.sport, c.dport, PSHACK, c.seqC, c.seqS, 100, c.client, PASS, null, k); c.seqC += 100; }
                    else { tcp(c.server, c.client, c.dport, c.sport, PSHACK, c.seqS, c.seqC, 100, c.server, PASS, null, k); c.seqS += 100; }
                } else {
                    int e = d - 2 * c.dataLeft;
                    if (c.rst) {
                        if (e > 0) return false;
                        tcp(c.client, c.server, c.sport, c.dport, RST | ACK, c.seqC, c.seqS, 0, c.client, PASS, null, k);
                    } else if (e == 0) { tcp(c.client, c.server, c.sport, c.dport, FINACK, c.seqC, c.seqS, 0, c.client, PASS, null, k); c.seqC++; }
                    else if (e == 1) { tcp(c.server, c.client, c.dport, c.sport, FINACK, c.seqS, c.seqC, 0, c.server, PASS, null, k); c.seqS++; }
                    else if (e == 2) tcp(c.client, c.server, c.sport, c.dport, ACK, c.seqC, c.seqS, 0, c.client, PASS, null, k);
                    else return false;
                }
            }
        }
        c.step++;
        return true;
    }

    // ------------------------------------------------------------------ the soak

    final Stage[] stages;
    final FirewallState fw;
    final FirewallStage fs;
    final SluiceConfig cfg;
    final int perVm;
    final long[] byReason = new long[DropReason.values().length];
    final long[][] byKind = new long[KINDS.length][2];     // passed, dropped
    final long[] unexpected = new long[KINDS.length];
    String firstUnexpected;
    long packets, bursts, floodPassed, floodLimited, applies, fragDatagrams, fragIncomplete, orphans, probes;
    /** Other VMs (not the flooder) refused FW_LIMIT, by the firewall's own counters. */
    long othersLimited;

    SoakBench(Arena arena, long seed, int perVm) throws ConfigException {
        buf = arena.allocate((long) BURST * SLOT, 64);
        base = buf.address();
        this.rnd = new SplittableRandom(seed);
        this.cfg = ConfigLoader.parse("soak.yaml", yaml(false, 0, perVm));
        this.perVm = perVm;
        this.fw = new FirewallState(PORTS, FirewallConfigLoader.parseDocument("soak.yaml", yaml(false, 0, perVm), cfg));
        this.stages = FirewallPipelines.l2(cfg, fw);
        this.fs = (FirewallStage) stages[stages.length - 1];
    }

    void run() {
        b.count = n;
        for (Stage s : stages) s.process(b);
        for (int i = 0; i < n; i++) {
            boolean passed = b.next[i] == Next.TX;
            int reason = passed ? -1 : b.dropReason[i];
            if (!passed && b.next[i] != Next.DROP) reason = -2;
            packets++;
            byKind[kind[i]][passed ? 0 : 1]++;
            if (reason >= 0) byReason[reason]++;
            boolean ok = switch (expect[i]) {
                case PASS -> passed;
                case FLOOD -> passed || reason == DropReason.FW_LIMIT.ordinal();
                default -> reason == expectReason[i].ordinal();
            };
            if (kind[i] == K_FLOOD) { if (passed) floodPassed++; else floodLimited++; }
            if (!ok) {
                unexpected[kind[i]]++;
                if (firstUnexpected == null) {
                    firstUnexpected = KINDS[kind[i]] + " packet " + packets + " in port " + name(b.inPort[i]) + ": expected "
                            + (expect[i] == PASS ? "pass" : expect[i] == FLOOD ? "pass or FW_LIMIT" : expectReason[i].name()) + ", got "
                            + (passed ? "pass" : reason >= 0 ? DropReason.of(reason).name() : "next=" + b.next[i]);
                }
            }
        }
        bursts++;
        n = 0;
    }

    /** Opens the long-lived connections (16 per VM, half outbound to :443, half inbound to :80), handshakes done. */
    void openLongLived() {
        for (int vm = 0; vm < VMS; vm++) {
            for (int j = 0; j < LONG_PER_VM; j++) {
                int ext = VMS + (j & 1);
                Conn c = (j & 2) == 0 ? open(vm, ext, 443, false) : open(ext, vm, 80, false);
                c.longLived = true;
                longLived.add(c);
            }
        }
        for (int s = 0; s < 3; s++) {   // SYN, SYN/ACK, ACK: one step of each connection per burst
            for (Conn c : longLived) {
                step(c, K_LONG);
                if (n == BURST) run();
            }
            if (n > 0) run();
        }
    }

    int longIdx;
    double fragTokens;
    /** Fragmented datagrams per second (1 in 7 incomplete: ~290 left to the 1 s fragment timeout at any time). */
    static final double FRAG_PER_SECOND = 2000;
    int fragId = 1, fragPart, fragVm = 1, fragSport;
    boolean fragSkipLast;
    final double[] tokens = new double[VMS * 3];
    int churnVm = 1;
    boolean extra;
    int epoch;
    int probeVm = 1;
    boolean probePending;

    void applyRules(boolean extraRule) throws ConfigException {
        epoch++;
        extra = extraRule;
        String y = yaml(extraRule, epoch, perVm);
        fw.apply(FirewallConfigLoader.parseDocument("soak.yaml", y, cfg));
        applies++;
        probePending = true;
    }

    /** One burst of mixed traffic; {@code dtS}: wall seconds since the last burst (churn rate). */
    void burst(double dtS) {
        // 8 flood SYNs from vm0: new connections to random ports of ext0/ext1
        for (int j = 0; j < 8; j++) {
            tcp(FLOOD_VM, VMS + (j & 1), 1024 + rnd.nextInt(64_000), 10_000 + rnd.nextInt(50_000), SYN, rnd.nextInt(), 0, 0, FLOOD_VM, FLOOD, null, K_FLOOD);
        }
        // a rule probe after a rule change
        if (probePending) {
            tcp(VMS + 1, probeVm, ephemeral(), 9000, SYN, rnd.nextInt(), 0, 0, VMS + 1, extra ? PASS : DROP, extra ? null : DropReason.FW_NO_RULE, K_PROBE);
            probes++;
            probePending = false;
            probeVm = probeVm % (VMS - 1) + 1;
        }
        // new churn connections, within the per-VM rate
        for (int vm = 1; vm < VMS; vm++) {
            for (int t = 0; t < 3; t++) {
                int ti = vm * 3 + t;
                tokens[ti] = Math.min(tokens[ti] + dtS * NEW_PER_SECOND, 4);
                if (tokens[ti] >= 1) {
                    tokens[ti] -= 1;
                    int ext = VMS + rnd.nextInt(EXTS);
                    churn.add(switch (t) {
                        case 0 -> open(vm, ext, 443, false);
                        case 1 -> open(ext, vm, 80, false);
                        default -> open(vm, ext, 53, true);
                    });
                }
            }
        }
        // up to 8 churn steps, one per connection
        int steps = Math.min(8, churn.size());
        for (int j = 0; j < steps; j++) {
            Conn c = churn.poll();
            if (step(c, c.udp ? K_UDP : K_TCP)) churn.add(c);
            else j--;
            if (churn.isEmpty()) break;
        }
        // up to 4 fragment slots: the datagram stream from ext0 to vm1..vm3 :7000, FRAG_PER_SECOND datagrams
        fragTokens = Math.min(fragTokens + dtS * FRAG_PER_SECOND, 8);
        for (int j = 0; j < 4; j++) {
            if (fragPart == 0) {
                if (fragTokens < 1) break;
                fragTokens -= 1;
                fragDatagrams++;
                fragVm = fragVm % (VMS - 1) + 1;
                fragSport = 30_000 + rnd.nextInt(16);
                fragSkipLast = fragDatagrams % 7 == 0;
                if (fragSkipLast) fragIncomplete++;
                if (fragDatagrams % 11 == 0) {   // an orphan later fragment: its datagram (a fresh id) is never sent
                    fragment(VMS, fragVm, fragSport, (fragId++) & 0xFFFF, 1, DROP, DropReason.FW_FRAGMENT_UNKNOWN, K_ORPHAN);
                    orphans++;
                    continue;
                }
            }
            fragment(VMS, fragVm, fragSport, fragId & 0xFFFF, fragPart, PASS, null, K_FRAG);
            fragPart++;
            if (fragPart == 3 || (fragPart == 2 && fragSkipLast)) { fragPart = 0; fragId++; }
        }
        // the rest: long-lived data, one step of each connection
        while (n < BURST) {
            Conn c = longLived.get(longIdx);
            longIdx = (longIdx + 1) % longLived.size();
            step(c, K_LONG);
        }
        run();
    }

    // ------------------------------------------------------------------ measurements

    static long rssKb() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        } catch (java.io.IOException e) {
            return -1;
        }
        return -1;
    }

    /**
     * Off-heap memory in bytes: the JVM's native memory tracking (run with
     * {@code -XX:NativeMemoryTracking=summary}), category "Other" (committed): what {@code Arena} and
     * {@code Unsafe.allocateMemory} allocate (the conntrack and fragment tables, the frames); plus the
     * direct and mapped buffer pools. -1 without NMT.
     */
    static long offHeapBytes() {
        long s = 0;
        for (BufferPoolMXBean p : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) s += p.getMemoryUsed();
        long other = nmt("Other");
        return other < 0 ? -1 : s + other;
    }

    /** Committed KB of an NMT category ("Total" for the total), in bytes; -1 when NMT is off. */
    static long nmt(String category) {
        try {
            Object r = ManagementFactory.getPlatformMBeanServer().invoke(new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"),
                    "vmNativeMemory", new Object[] {new String[] {"summary", "scale=KB"}}, new String[] {String[].class.getName()});
            for (String l : r.toString().split("\n")) {
                String t = l.trim();
                if (t.startsWith("-")) t = t.substring(1).trim();
                if ((category.equals("Total") && t.startsWith("Total:")) || t.startsWith(category + " (")) {
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("committed=(\\d+)KB").matcher(t);
                    if (m.find()) return Long.parseLong(m.group(1)) * 1024;
                }
            }
        } catch (Exception e) {
            return -1;
        }
        return -1;
    }

    /** Heap used after a full GC (System.gc(), a full collection with G1 unless disabled). */
    static long liveHeap() {
        System.gc();
        return heapUsed();
    }

    static long heapUsed() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    ConnLimits limits() { return fw.limits(); }

    String row(double wallS, String note) {
        StringBuilder s = new StringBuilder(String.format("%8.1f %11d %7d", wallS, packets, fs.conntrack().size()));
        for (int vm = 0; vm < VMS; vm++) s.append(String.format(" %6d", limits().vmCount(vm)));
        s.append(String.format(" %6d %5d %8.1f %9.1f %8.1f", limits().hostCount(), fs.fragments().size(), rssKb() / 1024.0,
                offHeapBytes() / 1048576.0, heapUsed() / 1048576.0));
        if (note != null) s.append("  ").append(note);
        return s.toString();
    }

    static final String HEADER = "  wall_s     packets ct_ents    vm0    vm1    vm2    vm3   host frags   rss_mb offheap_mb  heap_mb";

    public static void main(String[] args) throws Exception {
        double seconds = 600, every = -1;
        long seed = 20261206;
        String out = null, cmd = null, inject = "none";
        for (int i = 0; i + 1 < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--seconds" -> seconds = Double.parseDouble(v);
                case "--seed" -> seed = Long.parseLong(v);
                case "--out" -> out = v;
                case "--cmd" -> cmd = v;
                case "--report-every" -> every = Double.parseDouble(v);
                case "--inject" -> inject = v;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (!List.of("none", "no-vm-limit", "no-expiry").contains(inject)) throw new IllegalArgumentException("--inject none|no-vm-limit|no-expiry");
        if (every <= 0) every = Math.max(1, seconds / 30);
        List<String> lines = new ArrayList<>();
        PrintStream o = System.out;
        java.util.function.Consumer<String> say = l -> { o.println(l); lines.add(l); };
        String verdict = soak(seconds, every, seed, inject, say);
        say.accept(verdict);
        if (out != null) {
            StringBuilder f = new StringBuilder();
            f.append("# Firewall soak (").append(java.time.LocalDate.now(java.time.ZoneOffset.UTC)).append(")\n\n");
            f.append("Command: `").append(cmd != null ? cmd : "SoakBench " + String.join(" ", args)).append("`, seed ").append(seed)
                    .append(", inject ").append(inject).append("\n");
            f.append("Load: ").append(Files.readString(Path.of("/proc/loadavg")).trim()).append(" (loadavg at the end), ")
                    .append(Runtime.getRuntime().availableProcessors()).append(" cores\n\n```\n");
            for (String l : lines) if (!l.startsWith("soak=")) f.append(l).append('\n');
            f.append("```\n\n").append(verdict).append('\n');
            Files.writeString(Path.of(out), f.toString());
        }
    }

    /** Runs a soak of {@code seconds} (wall), reporting every {@code every} s to {@code say}; returns the verdict line. */
    static String soak(double seconds, double every, long seed, String inject, java.util.function.Consumer<String> say) throws ConfigException {
        try (Arena arena = Arena.ofConfined()) {
            return new SoakBench(arena, seed, inject.equals("no-vm-limit") ? HOST_LIMIT : VM_LIMIT).soak(seconds, every, inject, say);
        }
    }

    String soak(double seconds, double every, String inject, java.util.function.Consumer<String> say) throws ConfigException {
        List<String> fails = new ArrayList<>();
        int baseEntries = fs.conntrack().size(), baseFrags = fs.fragments().size(), baseHost = limits().hostCount();
        say.accept("firewall soak: parse -> arp -> l2 -> firewall in-process, bursts of " + BURST + "; host limit " + HOST_LIMIT
                + ", per-VM limit " + perVm + "; vm0 floods SYNs; churn " + NEW_PER_SECOND + "/s per VM and kind (tcp-out, tcp-in, udp) on vm1..vm3;"
                + " rules re-applied every 2 s; " + seconds + " s");
        say.accept("baseline: conntrack entries " + baseEntries + ", fragment datagrams " + baseFrags + ", host count " + baseHost
                + "; conntrack table " + fs.conntrack().tableBytes() / 1024 + " KiB (" + fs.conntrack().capacity() + " slots), fragment table "
                + fs.fragments().bytes() / 1024 + " KiB");
        say.accept(HEADER);
        long t0 = System.nanoTime();
        say.accept(row(0, "start"));
        long rss0 = rssKb(), off0 = offHeapBytes();
        openLongLived();
        long end = t0 + (long) (seconds * 1e9);
        long nextReport = t0 + (long) (every * 1e9), nextApply = t0 + 2_000_000_000L;
        long last = System.nanoTime();
        long offAfterWarm = -1, rssAfterWarm = -1, liveAfterWarm = -1;
        int peakVm0 = 0, peakOthers = 0, peakEntries = 0, peakFrags = 0;
        while (true) {
            long now = System.nanoTime();
            if (now >= end) break;
            if (now >= nextApply) {
                applyRules(!extra);
                nextApply += 2_000_000_000L;
            }
            burst((now - last) / 1e9);
            last = now;
            peakVm0 = Math.max(peakVm0, limits().vmCount(FLOOD_VM));
            for (int vm = 1; vm < VMS; vm++) peakOthers = Math.max(peakOthers, limits().vmCount(vm));
            peakEntries = Math.max(peakEntries, fs.conntrack().size());
            peakFrags = Math.max(peakFrags, fs.fragments().size());
            if (now >= nextReport) {
                say.accept(row((now - t0) / 1e9, null));
                if (offAfterWarm < 0) { offAfterWarm = offHeapBytes(); rssAfterWarm = rssKb(); liveAfterWarm = liveHeap(); }
                nextReport += (long) (every * 1e9);
            }
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        say.accept(row(wall, "traffic stopped"));
        long offEnd = offHeapBytes(), rssEnd = rssKb(), liveEnd = liveHeap();
        long lastPacketNs = System.nanoTime();
        // every timeout passes: virtual time 6 days after the last packet (TCP established: 5 days)
        if (!inject.equals("no-expiry")) {
            long later = lastPacketNs + 6L * 86_400 * 1_000_000_000L;
            for (int k = 0; k < 4 * fs.conntrack().capacity() / 64 + 16 && fs.conntrack().size() > 0; k++) fs.idle(later);
            for (int k = 0; k < 4 * fs.fragments().slots() / 16 + 16 && fs.fragments().size() > 0; k++) fs.fragments().expire(later, 16);
        }
        StringBuilder perVmEnd = new StringBuilder();
        for (int vm = 0; vm < VMS; vm++) perVmEnd.append(vm == 0 ? "" : ", ").append("vm").append(vm).append(' ').append(limits().vmCount(vm));
        say.accept(String.format("%8s %11d %7d %s", "+6 days", packets, fs.conntrack().size(),
                (inject.equals("no-expiry") ? "(no-expiry injected: the final expiry skipped)" : "(virtual time: every timeout passed)") + " per VM " + perVmEnd + ", host " + limits().hostCount() + ", fragment datagrams " + fs.fragments().size()));
        say.accept("");

        // ---- figures
        say.accept(String.format("packets %d in %d bursts over %.1f s wall (%.0f packets/s; not a speed figure: the machine is shared),"
                + " rule applies (epochs) %d, conntrack created %d, expired %d", packets, bursts, wall, packets / wall, applies,
                fs.conntrack().created(), fs.conntrack().expiredCount()));
        say.accept("by traffic kind (passed / dropped / unexpected):");
        for (int k = 0; k < KINDS.length; k++) {
            say.accept(String.format("  %-16s %12d %12d %6d", KINDS[k], byKind[k][0], byKind[k][1], unexpected[k]));
        }
        say.accept("drops by reason (counted per packet from the bursts; FW_* cross-checked with the firewall's per-port counters):");
        for (DropReason r : DropReason.values()) {
            if (byReason[r.ordinal()] == 0) continue;
            long fwCount = 0;
            for (int p = 0; p < PORTS; p++) fwCount += fw.drops(p, r);
            String check = r.name().startsWith("FW_") ? "  firewall counters " + fwCount : "";
            say.accept(String.format("  %-24s %12d%s", r.name(), byReason[r.ordinal()], check));
            if (r.name().startsWith("FW_") && fwCount != byReason[r.ordinal()]) fails.add(r.name() + " counted " + byReason[r.ordinal()] + " by the bursts but " + fwCount + " by the firewall");
        }
        say.accept(String.format("flood: %d SYNs passed (new connections), %d refused FW_LIMIT; peak vm0 entries %d (limit %d)",
                floodPassed, floodLimited, peakVm0, perVm));
        say.accept(String.format("peaks: conntrack entries %d, other VMs' entries (max of vm1..vm3) %d, fragment datagrams %d;"
                + " fragments: datagrams %d (incomplete %d), orphan later fragments %d, completed %d, expired %d",
                peakEntries, peakOthers, peakFrags, fragDatagrams, fragIncomplete, orphans, fs.fragments().completed(), fs.fragments().expired()));
        say.accept(String.format("rule probes (SYN to :9000 after each apply): %d", probes));
        say.accept(String.format("memory: RSS %.1f MiB at start, %.1f MiB after the first report, %.1f MiB at the end; off-heap (NMT \"Other\""
                        + " committed + direct/mapped buffer pools) %.2f MiB at start, %.2f MiB after the first report, %.2f MiB at the end;"
                        + " JVM native total (NMT) %.1f MiB at the end; conntrack table %d KiB, fragment table %d KiB (fixed size)",
                rss0 / 1024.0, rssAfterWarm / 1024.0, rssEnd / 1024.0, off0 / 1048576.0, offAfterWarm / 1048576.0, offEnd / 1048576.0,
                nmt("Total") / 1048576.0, fs.conntrack().tableBytes() / 1024, fs.fragments().bytes() / 1024));
        say.accept(String.format("live heap (used after a full GC): %.1f MiB after the first report, %.1f MiB at the end (the heap_mb column"
                + " includes garbage not yet collected: the rule compiler's tables of every apply, the churn's connection objects)",
                liveAfterWarm / 1048576.0, liveEnd / 1048576.0));
        if (liveAfterWarm >= 0 && liveEnd > liveAfterWarm + (32L << 20)) fails.add("live heap grew from " + liveAfterWarm + " to " + liveEnd + " bytes");
        if (off0 < 0) say.accept("off-heap: no figure (NMT off: run with -XX:NativeMemoryTracking=summary, as bench/scripts/soak.sh does)");

        // ---- the properties
        for (int vm = 1; vm < VMS; vm++) {
            long l = fw.drops(vm, DropReason.FW_LIMIT);
            othersLimited += l;
            if (l != 0) fails.add("vm" + vm + " (not the flooder) had " + l + " connection(s) refused FW_LIMIT");
        }
        if (unexpected[K_LONG] != 0) fails.add(unexpected[K_LONG] + " packet(s) of established long-lived connections not passed");
        for (int k = 0; k < KINDS.length; k++) {
            if (k != K_LONG && unexpected[k] != 0) fails.add(unexpected[k] + " unexpected outcome(s) of " + KINDS[k] + " packets");
        }
        if (firstUnexpected != null) fails.add("first unexpected: " + firstUnexpected);
        if (floodLimited == 0) fails.add("the flood never reached vm0's limit");
        if (peakVm0 > perVm) fails.add("vm0 held " + peakVm0 + " connections, above its limit " + perVm);
        if (applies == 0 || probes == 0) fails.add("no rule change during the soak");
        if (fragDatagrams == 0 || fs.fragments().completed() == 0) fails.add("no fragmented datagram completed");
        if (fs.conntrack().size() != baseEntries) fails.add("conntrack entries " + fs.conntrack().size() + " after every timeout, baseline " + baseEntries);
        if (fs.fragments().size() != baseFrags) fails.add("fragment datagrams " + fs.fragments().size() + " after every timeout, baseline " + baseFrags);
        if (limits().hostCount() != baseHost) fails.add("host connection count " + limits().hostCount() + " after every timeout, baseline " + baseHost);
        for (int vm = 0; vm < VMS; vm++) if (limits().vmCount(vm) != 0) fails.add("vm" + vm + " connection count " + limits().vmCount(vm) + " after every timeout");
        if (offAfterWarm >= 0 && offEnd > offAfterWarm + (16L << 20)) fails.add("off-heap grew from " + offAfterWarm + " to " + offEnd + " bytes");
        return fails.isEmpty() ? "soak=pass" : "soak=fail: " + String.join("; ", fails);
    }
}
