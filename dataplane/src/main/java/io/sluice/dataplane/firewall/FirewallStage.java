package io.sluice.dataplane.firewall;

import io.sluice.dataplane.conntrack.Conntrack;
import io.sluice.dataplane.conntrack.CtPacket;
import io.sluice.dataplane.conntrack.Icmp;
import io.sluice.dataplane.conntrack.Verdict;
import io.sluice.dataplane.packet.Ipv4Header;
import io.sluice.dataplane.packet.Ipv6ExtHeader;
import io.sluice.dataplane.packet.Ipv6Header;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.packet.TcpHeader;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.rules.model.Direction;
import io.sluice.rules.sg.SecurityGroupTable;

/**
 * Stateful security groups on every VM port: conntrack first, then the port's compiled table in
 * the packet's direction for packets that start a connection.
 *
 * <p>Runs after the forwarding decision (it needs both ends: the VM port a packet leaves — egress
 * rules — and the VM port it enters — ingress rules) and before tx. Acts on IPv4/IPv6 packets with
 * {@code next == TX} whose in-port or out-port is a VM port; everything else is left untouched.
 * Per packet:
 * <ol>
 *   <li>conntrack {@code track}: ESTABLISHED passes in both directions (after a rule-change
 *       re-check for connections allowed by an {@code on-rule-change: cut} group), RELATED ICMP
 *       errors pass, INVALID drops ({@code FW_INVALID});</li>
 *   <li>NEW: egress lookup on the in-port's table if it is a VM port, ingress lookup on the
 *       out-port's table if it is a VM port; a platform deny drops ({@code FW_PLATFORM}), no allow
 *       drops ({@code FW_NO_RULE});</li>
 *   <li>both allow: {@code commit} (charged to the sending VM, else the receiving one): NEW passes and
 *       counts a hit on each allowing rule; LIMIT drops ({@code FW_LIMIT}).</li>
 * </ol>
 * IP fragments (shallow virtual reassembly, {@link FragmentTable}): a first fragment goes through
 * the steps above; if it passes, its datagram is recorded in the worker's fragment table (full:
 * {@code FW_FRAGMENT_TABLE_FULL}), if it is dropped, forgotten. A later fragment (no L4 header) skips
 * conntrack and passes only when its datagram is recorded ({@code FW_FRAGMENT_UNKNOWN},
 * {@code FW_FRAGMENT_OVERLAP} otherwise); the burst's later fragments are decided after its other
 * packets, so a first fragment overtaken within the burst still counts.
 * Uses: {@code next, inPort, outPort, data, length, l3Offset, l4Offset, ipProto, flags}. Sets:
 * {@code DROP} + reason. Reads the snapshot and {@code System.nanoTime()} once per burst; calls
 * {@code expire(now, 64)} on the conntrack shard and {@code expire(now, 16)} on the fragment table
 * once per burst. No allocation, lock or exception per packet.
 *
 * <p>Conntrack label of a connection: {@code epoch << 2 | ingressCut << 1 | egressCut}: the
 * configuration version it was last checked against and whether each allowing rule belongs to a
 * cutting group.
 */
public final class FirewallStage implements Stage, io.sluice.dataplane.pipeline.Traced, io.sluice.dataplane.pipeline.Idle {
    /** Expiry budget (slots) per burst. */
    static final int EXPIRE_BUDGET = 64;
    /** Fragment-table expiry budget (slots) per burst. */
    static final int FRAGMENT_EXPIRE_BUDGET = 16;
    private static final int EPOCH_MASK = 0x3FFF_FFFF;
    private static final int EGRESS_CUT = 1, INGRESS_CUT = 2;

    private final FirewallState state;
    private final Conntrack ct;
    private final FragmentTable frags;
    private final FirewallCounters c;
    /**
     * Overlay pipeline: per burst slot, non-zero when the packet is still {@code CONTINUE} but
     * already decided (the overlay's meta {@code encapVtep}: it leaves encapsulated by a later
     * stage, towards {@code outPort}). Null on the L2 pipeline.
     */
    private final int[] pendingTx;
    /** The packet being decided (one of {@link #pkts}). */
    private CtPacket pkt;
    private final CtPacket[] pkts = new CtPacket[Burst.MAX_CAPACITY];
    private final int[] idx = new int[Burst.MAX_CAPACITY];
    private final Verdict[] verdicts = new Verdict[Burst.MAX_CAPACITY];
    /** {@link #perPacket}: per burst slot, its packet's index in {@link #pkts} (-1: not tracked). */
    private final int[] slotK = new int[Burst.MAX_CAPACITY];
    /**
     * Live connections from which {@link #perPacket} prepares the burst ({@link Conntrack#prepare}):
     * 16384 entries are 2 MB of the table's first lines, more than a core's L2 cache. Below, the
     * entries are in cache and the extra pass over the burst costs more than the overlapped misses
     * gain (bench ab tenant-1000 against tenant-100000, docs/performance.md).
     */
    static final int PREPARE_MIN_ENTRIES = 16_384;
    private int prepareFrom = PREPARE_MIN_ENTRIES;
    /** The burst's later fragments (slot, zone), decided after its other packets. */
    private final int[] lateIdx = new int[Burst.MAX_CAPACITY];
    private final int[] lateZone = new int[Burst.MAX_CAPACITY];
    private int nLate;
    /** NAT with an external network (docs/nat.md), or null. */
    private NatHook nat;
    /**
     * Per burst slot, for a trace ({@link #traceDetail}): conntrack verdict ordinal + 1 (0: not
     * tracked), and the hit index + 1 of the egress / ingress rule that allowed a new connection
     * (0: none). Stored only while {@link #recording} (a burst with traced packets), read then.
     */
    private final byte[] traceCt = new byte[Burst.MAX_CAPACITY];
    private final int[] traceEgress = new int[Burst.MAX_CAPACITY];
    private final int[] traceIngress = new int[Burst.MAX_CAPACITY];
    /** A trace is recording this burst ({@link #traceRecording}): only then is the detail stored. */
    private boolean recording;

    /** Flow logs (docs/operations.md), or null: off. */
    private io.sluice.dataplane.flowlog.FlowLogger flows;

    /** Puts flow logs in this stage (its shard's sink is set by the caller). Control thread, before traffic. */
    public void flowLogger(io.sluice.dataplane.flowlog.FlowLogger l) { this.flows = l; }

    /** No packet this duty cycle: connections still expire (and their flow records go out). */
    @Override
    public void idle(long nowNs) {
        ct.expire(nowNs, EXPIRE_BUDGET);
        if (flows != null) {
            ct.interim(nowNs, EXPIRE_BUDGET);
            flows.tick(nowNs);
        }
    }

    /** Interim flow-log budget (slots) per burst: a few, each reads an entry's second cache line. */
    static final int INTERIM_BUDGET = 8;

    FirewallStage(FirewallState state, Conntrack ct, FragmentTable frags, FirewallCounters counters, int[] pendingTx) {
        this.state = state;
        this.ct = ct;
        this.frags = frags;
        this.c = counters;
        this.pendingTx = pendingTx;
        for (int i = 0; i < pkts.length; i++) pkts[i] = new CtPacket();
        this.pkt = pkts[0];
    }

    @Override
    public String name() { return "firewall"; }

    /** This worker's conntrack shard (tests, stats). */
    public Conntrack conntrack() { return ct; }

    /** This worker's fragment table (tests, stats). */
    public FragmentTable fragments() { return frags; }

    public FirewallCounters counters() { return c; }

    /**
     * Puts the NAT in this stage (docs/nat.md): the stage then decides packet by packet, so each
     * verdict's conntrack entry (which carries the NAT word) is current when the hook runs.
     * Control thread, before traffic.
     */
    public void natHook(NatHook hook) { this.nat = hook; }

    /**
     * Tests: the packet-by-packet path (NAT, cutting groups) prepares bursts from this many live
     * connections on (0: always; {@link Integer#MAX_VALUE}: never, each packet tracked on its own
     * as before {@link Conntrack#prepare}, the twin the prepared path is compared with).
     */
    public void preparedBursts(int fromEntries) { this.prepareFrom = fromEntries; }

    @Override
    public int process(Burst b) {
        FirewallSnapshot s = state.current();
        long now = System.nanoTime();
        nLate = 0;
        int acted = s.cutSeen || nat != null ? perPacket(s, b, now) : batched(s, b, now);
        if (nLate != 0) laterFragments(s, b, now);
        ct.expire(now, EXPIRE_BUDGET);
        if (flows != null) {
            ct.interim(now, INTERIM_BUDGET);
            flows.tick(now);
        }
        frags.expire(now, FRAGMENT_EXPIRE_BUDGET);
        c.occupancy(ct.size(), frags.size());
        return acted + nLate;
    }

    /**
     * The common case (no group has ever been configured with {@code cut}, so no connection can
     * need a re-check): fill every packet's {@link CtPacket}, track the whole burst with
     * {@link Conntrack#trackBurst} (its table loads overlap), then decide packet by packet.
     */
    private int batched(FirewallSnapshot s, Burst b, long now) {
        int n = 0;
        for (int i = 0; i < b.count; i++) {
            if (!firewalled(b, i, pendingTx)) continue;
            int zone = s.flowZone(b.inPort[i], b.outPort[i]);
            if (zone < 0) continue;
            pkt = pkts[n];
            int fill = fill(b, i, zone);
            if (fill == FILL_PASS) continue;
            if (fill == FILL_LATER) {
                lateIdx[nLate] = i;
                lateZone[nLate++] = zone;
                continue;
            }
            idx[n++] = i;
        }
        if (n == 0) return 0;
        ct.trackBurst(pkts, n, verdicts, now);
        long createdBefore = c.passed[2];
        for (int k = 0; k < n; k++) {
            int i = idx[k];
            int in = b.inPort[i];
            int out = b.outPort[i];
            SecurityGroupTable tin = s.table(in);
            SecurityGroupTable tout = s.table(out);
            int vmPort = tin != null ? in : out;
            pkt = pkts[k];
            Verdict v = verdicts[k];
            // a connection created earlier in this burst may be this packet's (its reply, a second
            // packet of it, an echo reply): trackBurst saw no entry then (NEW, or INVALID for a
            // reply), so look again; NEW and INVALID changed nothing in the table
            if ((v == Verdict.NEW || v == Verdict.INVALID) && c.passed[2] != createdBefore) v = ct.track(pkt, now);
            if (recording) traceCt[i] = (byte) (v.ordinal() + 1);
            switch (v) {
                case ESTABLISHED -> c.passed[0]++;
                case RELATED -> c.passed[1]++;
                case NEW -> admit(s, b, i, tin, tout, in, out, vmPort, now);
                default -> drop(b, i, vmPort, FirewallCounters.INVALID);
            }
            if ((b.flags[i] & PacketFlags.FRAGMENT) != 0) firstFragment(b, i, vmPort, now);
        }
        return n;
    }

    /**
     * Packet by packet, with the rule-change re-check of connections admitted by a cutting group
     * and the NAT step: each packet is tracked, decided and translated before the next one is
     * tracked, since a decision can delete entries (a cut, a stale or exhausted NAT binding, a
     * re-opened TCP connection) that a later packet of the burst would have found. First a pass
     * fills every packet's {@link CtPacket} and {@link Conntrack#prepare prepares} the burst (keys
     * computed, the table loads of the whole burst in flight together); a packet's key depends on
     * its own header only, which no other packet's decision changes, and its slot is found when it
     * is tracked, so the verdicts are those of {@link #perPacketUnprepared}. A hairpinned packet
     * (rewritten by the NAT) goes through once more on the unprepared path. With fewer than
     * {@link #prepareFrom} live connections (their entries in cache) the unprepared path runs.
     */
    private int perPacket(FirewallSnapshot s, Burst b, long now) {
        if (ct.size() < prepareFrom) return perPacketUnprepared(s, b, now);
        int acted = 0, n = 0;
        int[] kOf = slotK;
        for (int i = 0; i < b.count; i++) {
            kOf[i] = -1;
            if (!firewalled(b, i, pendingTx)) continue;
            int zone = s.flowZone(b.inPort[i], b.outPort[i]);
            if (zone < 0) continue;
            pkt = pkts[n];
            int fill = fill(b, i, zone);
            if (fill == FILL_LATER) {
                lateIdx[nLate] = i;
                lateZone[nLate++] = zone;
                continue;
            }
            acted++;
            if (fill == FILL_PASS) continue;
            kOf[i] = n++;
        }
        if (n == 0) return acted;
        ct.prepare(pkts, n, nat != null);
        for (int i = 0; i < b.count; i++) {
            int k = kOf[i];
            if (k < 0) continue;
            pkt = pkts[k];
            Verdict v = ct.trackPrepared(k, pkt, now);
            if (decided(s, b, i, v, now)) acted += again(s, b, i, now);
        }
        return acted;
    }

    /**
     * Per-packet tracking as it was before {@link Conntrack#prepare} (fill, track, decide, one
     * packet after the other): the twin the prepared path is tested against (NatBurstProperties).
     */
    private int perPacketUnprepared(FirewallSnapshot s, Burst b, long now) {
        int acted = 0;
        for (int i = 0; i < b.count; i++) acted += again(s, b, i, now);
        return acted;
    }

    /** Packet i through the stage on the unprepared path, again while it is turned around (hairpin): how many times it was acted on. */
    private int again(FirewallSnapshot s, Burst b, int i, long now) {
        int acted = 0;
        int r;
        do {
            r = one(s, b, i, now);
            acted += r & 1;
        } while ((r & 2) != 0);
        return acted;
    }

    /**
     * Packet i on the unprepared path: fill {@link #pkts}[0], track, decide. Bit 0 of the result:
     * the packet was acted on (counted); bit 1: it was turned around (hairpin) and goes through once more.
     */
    private int one(FirewallSnapshot s, Burst b, int i, long now) {
        if (!firewalled(b, i, pendingTx)) return 0;
        int zone = s.flowZone(b.inPort[i], b.outPort[i]);
        if (zone < 0) return 0;
        pkt = pkts[0];
        int fill = fill(b, i, zone);
        if (fill == FILL_PASS) return 1;
        if (fill == FILL_LATER) {
            lateIdx[nLate] = i;
            lateZone[nLate++] = zone;
            return 0;
        }
        Verdict v = ct.track(pkt, now);
        return decided(s, b, i, v, now) ? 3 : 1;
    }

    /**
     * Packet i ({@link #pkt}) got verdict v: pass, admit or drop it, then the NAT step. True when the
     * NAT turned it around (hairpin): it now comes from the external port to a VM and goes through
     * the stage once more for the receiver (its inPort is the external port now, so it cannot be
     * turned around a second time).
     */
    private boolean decided(FirewallSnapshot s, Burst b, int i, Verdict v, long now) {
        int in = b.inPort[i];
        int out = b.outPort[i];
        SecurityGroupTable tin = s.table(in);
        SecurityGroupTable tout = s.table(out);
        int vmPort = tin != null ? in : out;
        if (recording) traceCt[i] = (byte) (v.ordinal() + 1);
        switch (v) {
            case ESTABLISHED -> {
                int label = ct.lastLabel();
                if ((label & (EGRESS_CUT | INGRESS_CUT)) != 0 && (label >>> 2) != (s.epoch & EPOCH_MASK)) {
                    if (!recheck(s, b, i, label)) {
                        ct.kill(pkt);
                        drop(b, i, vmPort, FirewallCounters.CUT);
                        if ((b.flags[i] & PacketFlags.FRAGMENT) != 0) firstFragment(b, i, vmPort, now); // forgets it
                        return false;
                    }
                }
                c.passed[0]++;
            }
            case RELATED -> c.passed[1]++;
            case NEW -> {
                if (nat == null || nat.mayStart(b, i)) admit(s, b, i, tin, tout, in, out, vmPort, now);
            }
            default -> drop(b, i, vmPort, FirewallCounters.INVALID);
        }
        if ((b.flags[i] & PacketFlags.FRAGMENT) != 0) firstFragment(b, i, vmPort, now); // keyed before NAT rewrites
        return nat != null && b.next[i] != Next.DROP && nat.passed(b, i, pkt, ct, v);
    }

    private void admit(FirewallSnapshot s, Burst b, int i, SecurityGroupTable tin, SecurityGroupTable tout,
                       int in, int out, int vmPort, long now) {
        int eg = -1, ig = -1;
        int flags = 0;
        if (tin != null) {
            int d = lookup(tin, Direction.EGRESS);
            if (!SecurityGroupTable.allowed(d)) {
                reject(b, i, in, d >= 0 ? FirewallCounters.PLATFORM : FirewallCounters.NO_RULE, now);
                return;
            }
            int pos = SecurityGroupTable.ruleIndex(d);
            int list = Direction.EGRESS.ordinal() * 2 + (pkt.family == 6 ? 1 : 0);
            eg = s.hitIndex[in][list][pos];
            if (s.cut[in][list][pos]) flags |= EGRESS_CUT;
        }
        if (tout != null) {
            int d = lookup(tout, Direction.INGRESS);
            if (!SecurityGroupTable.allowed(d)) {
                reject(b, i, out, d >= 0 ? FirewallCounters.PLATFORM : FirewallCounters.NO_RULE, now);
                return;
            }
            int pos = SecurityGroupTable.ruleIndex(d);
            int list = Direction.INGRESS.ordinal() * 2 + (pkt.family == 6 ? 1 : 0);
            ig = s.hitIndex[out][list][pos];
            if (s.cut[out][list][pos]) flags |= INGRESS_CUT;
        }
        if (recording) {
            traceEgress[i] = eg + 1;
            traceIngress[i] = ig + 1;
        }
        Verdict v = ct.commit(pkt, vmPort, now);
        if (v == Verdict.LIMIT && recording) traceCt[i] = (byte) (Verdict.LIMIT.ordinal() + 1);
        if (v == Verdict.NEW) {
            ct.setLastLabel(((s.epoch & EPOCH_MASK) << 2) | flags);
            // the flow log names the receiving VM's ingress rule when there is one (the rule that let the
            // connection in), else the sender's egress rule
            ct.setLastRule((ig >= 0 ? ig : eg) + 1);
            if (eg >= 0) c.countHit(eg);
            if (ig >= 0) c.countHit(ig);
            c.countCreated();
        } else if (v == Verdict.LIMIT) {
            reject(b, i, vmPort, FirewallCounters.LIMIT, now);
        } else if (v == Verdict.INVALID) {
            drop(b, i, vmPort, FirewallCounters.INVALID);
        }
    }

    /**
     * Re-checks a tracked connection against the current snapshot in its original direction.
     * Returns false when it must be cut: a check that the connection's allowing rule marked
     * "cut" no longer allows it. Otherwise refreshes the label (epoch and cut flags).
     */
    private boolean recheck(FirewallSnapshot s, Burst b, int i, int label) {
        boolean reply = ct.lastDirection() == 1;
        int srcPort = reply ? b.outPort[i] : b.inPort[i];
        int dstPort = reply ? b.inPort[i] : b.outPort[i];
        if (reply) swapToOriginal();
        int flags = 0;
        boolean keep = true;
        SecurityGroupTable te = s.table(srcPort);
        if (te != null) {
            int d = lookup(te, Direction.EGRESS);
            if (SecurityGroupTable.allowed(d)) {
                if (s.cut[srcPort][Direction.EGRESS.ordinal() * 2 + (pkt.family == 6 ? 1 : 0)][SecurityGroupTable.ruleIndex(d)]) flags |= EGRESS_CUT;
            } else if ((label & EGRESS_CUT) != 0) {
                keep = false;
            }
        }
        SecurityGroupTable ti = s.table(dstPort);
        if (ti != null) {
            int d = lookup(ti, Direction.INGRESS);
            if (SecurityGroupTable.allowed(d)) {
                if (s.cut[dstPort][Direction.INGRESS.ordinal() * 2 + (pkt.family == 6 ? 1 : 0)][SecurityGroupTable.ruleIndex(d)]) flags |= INGRESS_CUT;
            } else if ((label & INGRESS_CUT) != 0) {
                keep = false;
            }
        }
        if (reply) swapToOriginal(); // back to the packet as received (kill uses it)
        if (keep) ct.setLastLabel(((s.epoch & EPOCH_MASK) << 2) | flags);
        return keep;
    }

    /** Swaps source and destination (addresses, ports; echo reply <-> request type) in {@link #pkt}. */
    private void swapToOriginal() {
        CtPacket p = pkt;
        long h = p.srcHi, l = p.srcLo;
        p.srcHi = p.dstHi; p.srcLo = p.dstLo; p.dstHi = h; p.dstLo = l;
        if (p.proto == CtPacket.IPPROTO_TCP || p.proto == CtPacket.IPPROTO_UDP) {
            int t = p.sport; p.sport = p.dport; p.dport = t;
        } else if (Icmp.isIcmpProto(p.proto)) {
            if (Icmp.isEchoReply(p.family, p.icmpType)) p.icmpType = p.family == 6 ? Icmp.V6_ECHO_REQUEST : Icmp.V4_ECHO_REQUEST;
            else if (Icmp.isEchoRequest(p.family, p.icmpType)) p.icmpType = p.family == 6 ? Icmp.V6_ECHO_REPLY : Icmp.V4_ECHO_REPLY;
        }
    }

    /**
     * Whether packet i is the firewall's: IPv4/IPv6, decided (TX, or CONTINUE with a pending
     * encapsulation on the overlay) and not sent back out of the port it came in on — that is a
     * reply the data plane made itself (overlay gateway echo reply, ICMP error, ND answer), never
     * traffic between two VMs (forwarding refuses same-port delivery).
     */
    static boolean firewalled(Burst b, int i, int[] pendingTx) {
        byte n = b.next[i];
        if (n != Next.TX && (pendingTx == null || n != Next.CONTINUE || pendingTx[i] == 0)) return false;
        return (b.flags[i] & (PacketFlags.IPV4 | PacketFlags.IPV6)) != 0 && b.inPort[i] != b.outPort[i];
    }

    /** Classifies {@link #pkt} in a direction; ICMP type/code take the port dimensions. */
    private int lookup(SecurityGroupTable t, Direction dir) {
        CtPacket p = pkt;
        int sp, dp;
        if (Icmp.isIcmpProto(p.proto)) {
            sp = p.icmpType;
            dp = p.icmpCode;
        } else {
            sp = p.sport;
            dp = p.dport;
        }
        if (p.family == 4) return t.lookupV4(dir, p.proto, (int) p.srcLo, (int) p.dstLo, sp, dp);
        return t.lookupV6(dir, p.proto, p.srcHi, p.srcLo, p.dstHi, p.dstLo, sp, dp);
    }

    @Override
    public void traceRecording(boolean on) { this.recording = on; }

    @Override
    public void traceClear(int i) {
        traceCt[i] = 0;
        traceEgress[i] = 0;
        traceIngress[i] = 0;
    }

    /**
     * Bits 0-3: conntrack verdict ordinal + 1 (0: the firewall did not track the packet); bits 4-27:
     * hit index + 1 of the egress rule that allowed a new connection; bits 28-51: the same for the
     * ingress rule (names: {@link FirewallState#ruleName}).
     */
    @Override
    public long traceDetail(int i) {
        return (traceCt[i] & 0xFL) | ((long) (traceEgress[i] & 0xFF_FFFF) << 4) | ((long) (traceIngress[i] & 0xFF_FFFF) << 28);
    }

    /** A refused first packet: dropped, and aggregated into the flow log's REJECT records. */
    private void reject(Burst b, int i, int port, int reason, long now) {
        drop(b, i, port, reason);
        if (flows != null) flows.reject(port, reason, pkt, now);
    }

    private void drop(Burst b, int i, int port, int reason) {
        b.drop(i, FirewallCounters.REASONS[reason]);
        c.countDrop(port, reason);
    }

    // =====================================================================================
    // packet -> CtPacket
    // =====================================================================================

    static final int FILL_OK = 0, FILL_PASS = 1, FILL_LATER = 2;

    /** Fills {@link #pkt} from packet i. FILL_PASS: not firewalled (IPv6 ND); FILL_LATER: a later fragment (not tracked). */
    private int fill(Burst b, int i, int zone) {
        CtPacket p = pkt;
        long base = b.data[i];
        long l3 = base + b.l3Offset[i];
        long end = base + b.length[i];
        int fl = b.flags[i];
        if ((fl & PacketFlags.LATER_FRAGMENT) != 0) return FILL_LATER; // no L4 header: the fragment table decides
        int l4off = b.l4Offset[i];
        int proto = b.ipProto[i];
        long ipEnd;
        if ((fl & PacketFlags.IPV4) != 0) {
            p.zone = zone;
            p.family = 4;
            p.srcHi = 0;
            p.dstHi = 0;
            p.srcLo = Mem.u32(l3 + Ipv4Header.SRC_OFFSET);
            p.dstLo = Mem.u32(l3 + Ipv4Header.DST_OFFSET);
            ipEnd = l3 + Mem.u16(l3 + Ipv4Header.TOTAL_LENGTH_OFFSET);
        } else {
            p.zone = zone;
            p.family = 6;
            p.srcHi = Mem.i64(l3 + Ipv6Header.SRC_OFFSET);
            p.srcLo = Mem.i64(l3 + Ipv6Header.SRC_OFFSET + 8);
            p.dstHi = Mem.i64(l3 + Ipv6Header.DST_OFFSET);
            p.dstLo = Mem.i64(l3 + Ipv6Header.DST_OFFSET + 8);
            ipEnd = l3 + Ipv6Header.LENGTH + Mem.u16(l3 + Ipv6Header.PAYLOAD_LENGTH_OFFSET);
        }
        if (ipEnd > end) ipEnd = end;
        p.length = (int) (ipEnd - l3);
        p.proto = proto;
        p.tcpFlags = 0;
        p.wscale = -1;
        p.sport = 0;
        p.dport = 0;
        p.payloadLen = 0;
        p.icmpType = 0;
        p.icmpCode = 0;
        if (l4off < 0) {
            return FILL_OK; // IPv6 "no next header": no ports
        }
        long l4 = base + l4off;
        if ((fl & PacketFlags.TCP) != 0) {
            int doff = TcpHeader.headerLength(l4);
            p.sport = Mem.u16(l4);
            p.dport = Mem.u16(l4 + 2);
            p.tcpFlags = Mem.u8(l4 + TcpHeader.FLAGS_OFFSET);
            p.seq = Mem.i32(l4 + TcpHeader.SEQ_OFFSET);
            p.ack = Mem.i32(l4 + TcpHeader.ACK_OFFSET);
            p.window = Mem.u16(l4 + TcpHeader.WINDOW_OFFSET);
            p.payloadLen = (int) Math.max(0, ipEnd - l4 - doff);
            if ((p.tcpFlags & TcpHeader.FLAG_SYN) != 0) p.wscale = windowScale(l4 + TcpHeader.MIN_LENGTH, l4 + doff);
        } else if ((fl & PacketFlags.UDP) != 0) {
            p.sport = Mem.u16(l4);
            p.dport = Mem.u16(l4 + 2);
            p.payloadLen = (int) Math.max(0, ipEnd - l4 - 8);
        } else if ((fl & (PacketFlags.ICMP | PacketFlags.ICMPV6)) != 0) {
            int type = Mem.u8(l4);
            p.icmpType = type;
            p.icmpCode = Mem.u8(l4 + 1);
            if (p.family == 6 && type >= 133 && type <= 137) return FILL_PASS; // neighbour discovery: not tracked
            if (Icmp.isError(p.family, type)) {
                quoted(l4 + 8, end);
            } else {
                p.sport = Mem.u16(l4 + 4); // echo identifier
            }
        }
        return FILL_OK;
    }

    // =====================================================================================
    // fragments
    // =====================================================================================

    /** The fragment read by {@link #fragmentKey}: offset (8-byte units), MF, data start and length. */
    private int fOffset, fDataLen;
    private boolean fMore;
    private long fData;

    /**
     * Reads packet i's fragment fields and sets the fragment table's key (zone, family, addresses,
     * protocol — IPv6: the Fragment header's next header, the same in every fragment — and id).
     * False when no Fragment header is found (cannot happen for a packet the parser flagged).
     */
    private boolean fragmentKey(Burst b, int i, int zone) {
        long l3 = b.data[i] + b.l3Offset[i];
        if ((b.flags[i] & PacketFlags.IPV4) != 0) {
            int ihl = (Mem.u8(l3) & 0x0F) * 4;
            int ff = Mem.u16(l3 + Ipv4Header.FRAGMENT_OFFSET);
            fOffset = ff & Ipv4Header.FRAGMENT_OFFSET_MASK;
            fMore = (ff & Ipv4Header.FLAG_MF) != 0;
            fData = l3 + ihl;
            fDataLen = Mem.u16(l3 + Ipv4Header.TOTAL_LENGTH_OFFSET) - ihl;
            frags.key(zone, 4, 0, Mem.u32(l3 + Ipv4Header.SRC_OFFSET), 0, Mem.u32(l3 + Ipv4Header.DST_OFFSET),
                    Mem.u8(l3 + Ipv4Header.PROTOCOL_OFFSET), Mem.u16(l3 + Ipv4Header.ID_OFFSET));
            return true;
        }
        long end = l3 + Ipv6Header.LENGTH + Mem.u16(l3 + Ipv6Header.PAYLOAD_LENGTH_OFFSET);
        int nh = Mem.u8(l3 + Ipv6Header.NEXT_HEADER_OFFSET);
        long h = l3 + Ipv6Header.LENGTH;
        for (int n = 0; n <= 8; n++) { // the parser checked the chain up to and including the Fragment header
            if (nh == Ipv6Header.NH_FRAGMENT) {
                int fo = Mem.u16(h + Ipv6ExtHeader.FRAGMENT_OFFSET_OFFSET);
                fOffset = fo >>> Ipv6ExtHeader.FRAGMENT_OFFSET_SHIFT;
                fMore = (fo & Ipv6ExtHeader.FRAGMENT_MORE) != 0;
                fData = h + Ipv6ExtHeader.FRAGMENT_LENGTH;
                fDataLen = (int) (end - fData);
                frags.key(zone, 6, Mem.i64(l3 + Ipv6Header.SRC_OFFSET), Mem.i64(l3 + Ipv6Header.SRC_OFFSET + 8),
                        Mem.i64(l3 + Ipv6Header.DST_OFFSET), Mem.i64(l3 + Ipv6Header.DST_OFFSET + 8),
                        Mem.u8(h + Ipv6ExtHeader.NEXT_HEADER_OFFSET), Mem.i32(h + Ipv6ExtHeader.FRAGMENT_ID_OFFSET));
                return true;
            }
            int len;
            if (nh == Ipv6Header.NH_HOP_BY_HOP || nh == Ipv6Header.NH_ROUTING || nh == Ipv6Header.NH_DEST_OPTS) len = Ipv6ExtHeader.optionsLength(h);
            else if (nh == Ipv6Header.NH_AH) len = Ipv6ExtHeader.ahLength(h);
            else return false;
            nh = Mem.u8(h + Ipv6ExtHeader.NEXT_HEADER_OFFSET);
            h += len;
        }
        return false;
    }

    /**
     * A first fragment (offset 0, the L4 header present) has been decided: record its datagram if
     * it passed (refused when the table is full: dropped {@code FW_FRAGMENT_TABLE_FULL}), forget it
     * if it was dropped. A packet with a Fragment header but offset 0 and MF = 0 (IPv6 atomic
     * fragment, RFC 6946) is a whole datagram: nothing to record.
     */
    private void firstFragment(Burst b, int i, int vmPort, long now) {
        if (!fragmentKey(b, i, pkt.zone) || !fMore) return;
        if (b.next[i] == Next.DROP) {
            frags.forget();
            return;
        }
        int l4End = 0;
        int l4off = b.l4Offset[i];
        if (l4off >= 0) {
            long l4 = b.data[i] + l4off;
            int fl = b.flags[i];
            int hl = (fl & PacketFlags.TCP) != 0 ? TcpHeader.headerLength(l4)
                    : (fl & (PacketFlags.UDP | PacketFlags.ICMP | PacketFlags.ICMPV6)) != 0 ? 8 : 0;
            l4End = (int) (l4 - fData) + hl;
        }
        if (frags.first(l4End, fDataLen, now) == FragmentTable.FULL) drop(b, i, vmPort, FirewallCounters.FRAGMENT_TABLE_FULL);
    }

    /** The burst's later fragments, after its other packets: pass when their datagram is recorded. */
    private void laterFragments(FirewallSnapshot s, Burst b, long now) {
        for (int k = 0; k < nLate; k++) {
            int i = lateIdx[k];
            int in = b.inPort[i];
            int vmPort = s.table(in) != null ? in : b.outPort[i];
            if (!fragmentKey(b, i, lateZone[k])) {
                drop(b, i, vmPort, FirewallCounters.FRAGMENT_UNKNOWN);
                continue;
            }
            switch (frags.later(fOffset, fDataLen, !fMore, now)) {
                case FragmentTable.PASS -> c.countFragmentPassed();
                case FragmentTable.OVERLAP -> drop(b, i, vmPort, FirewallCounters.FRAGMENT_OVERLAP);
                default -> drop(b, i, vmPort, FirewallCounters.FRAGMENT_UNKNOWN);
            }
        }
    }

    /** Window-scale option (kind 3) in TCP options [from, to), or -1. */
    private static int windowScale(long from, long to) {
        long a = from;
        for (int n = 0; n < 40 && a < to; n++) {
            int kind = Mem.u8(a);
            if (kind == 0) return -1;
            if (kind == 1) {
                a++;
                continue;
            }
            if (a + 1 >= to) return -1;
            int len = Mem.u8(a + 1);
            if (len < 2 || a + len > to) return -1;
            if (kind == 3 && len == 3) return Math.min(Mem.u8(a + 2), 14);
            a += len;
        }
        return -1;
    }

    /** The header quoted by an ICMP error, starting at q (an IP header), bounded by end. */
    private void quoted(long q, long end) {
        CtPacket p = pkt;
        p.qProto = -1;
        p.qSport = 0;
        p.qDport = 0;
        p.qIcmpType = 0;
        long ql4;
        if (p.family == 4) {
            if (q + Ipv4Header.MIN_LENGTH > end) return;
            p.qSrcHi = 0;
            p.qDstHi = 0;
            p.qSrcLo = Mem.u32(q + Ipv4Header.SRC_OFFSET);
            p.qDstLo = Mem.u32(q + Ipv4Header.DST_OFFSET);
            p.qProto = Mem.u8(q + Ipv4Header.PROTOCOL_OFFSET);
            ql4 = q + (Mem.u8(q) & 0x0F) * 4L;
        } else {
            if (q + Ipv6Header.LENGTH > end) return;
            p.qSrcHi = Mem.i64(q + Ipv6Header.SRC_OFFSET);
            p.qSrcLo = Mem.i64(q + Ipv6Header.SRC_OFFSET + 8);
            p.qDstHi = Mem.i64(q + Ipv6Header.DST_OFFSET);
            p.qDstLo = Mem.i64(q + Ipv6Header.DST_OFFSET + 8);
            p.qProto = Mem.u8(q + Ipv6Header.NEXT_HEADER_OFFSET);
            ql4 = q + Ipv6Header.LENGTH;
        }
        if (p.qProto == CtPacket.IPPROTO_TCP || p.qProto == CtPacket.IPPROTO_UDP) {
            if (ql4 + 4 > end) { p.qProto = -1; return; }
            p.qSport = Mem.u16(ql4);
            p.qDport = Mem.u16(ql4 + 2);
        } else if (Icmp.isIcmpProto(p.qProto)) {
            if (ql4 + 8 > end) { p.qProto = -1; return; }
            p.qIcmpType = Mem.u8(ql4);
            p.qSport = Mem.u16(ql4 + 4);
        }
    }
}
