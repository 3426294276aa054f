package io.sluice.dataplane.conntrack;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The slow, obviously-right twin of {@link Conntrack}: a {@link HashMap} from the original
 * direction's 5-tuple (plus zone) to a connection object, a reply found by looking up the
 * reversed tuple, window arithmetic in {@code long}s modulo 2<sup>32</sup>, its own TCP state
 * machine ({@link #nextState}, written from RFC 9293 and Linux's documented behaviour; it shares
 * no table with {@link TcpTransitions}) and its own flag check. It shares the timeout record.
 * Property tests drive both with the same packets and require the same verdicts, states
 * and sizes. Allocates freely; not for the fast path.
 */
public final class ReferenceConntrack {
    record Tuple(int zone, int family, int proto, long srcHi, long srcLo, int sport, long dstHi, long dstLo, int dport) {}

    static final class Conn {
        int state;
        long deadline;
        int vm;
        final long[] end = new long[2], maxEnd = new long[2], maxWin = new long[2];
        final int[] scale = new int[2];
        final boolean[] wsOffered = new boolean[2];
        final long[] packets = new long[2], bytes = new long[2];
        int start;
        boolean ended;
        /** Picked up mid-stream: the state machine only, no window check (Linux BE_LIBERAL). */
        boolean liberal;
        /** Picked up, no reply accepted yet: ESTABLISHED lasts at most 300 s (Linux without SEEN_REPLY). */
        boolean unreplied;
        /** An original SYN was passed unchanged on the open connection and nothing has been accepted since (Linux last_index == SYN). */
        boolean synPassed;
        /** That SYN came in LAST_ACK: the responder's next ACK is a challenge ACK (RFC 5961), not the ACK of the last FIN. */
        boolean challengeDue;
        /** End sequence of that SYN (Linux last_end). */
        long synEnd;
        /** Both sides sent a SYN (SYN_SENT2 was reached): the responder's ACK in SYN_RECV establishes. */
        boolean simultaneous;
        /** Window and window-scale option (-1: none) of the passed SYN. */
        int synWin, synWscale = -1;
    }

    private boolean pickup;

    /** As {@link Conntrack#tcpPickup(boolean)}: Linux nf_conntrack_tcp_loose. */
    public void tcpPickup(boolean on) { this.pickup = on; }

    // ---- flow logs (accounting as the real shard: counts per direction, records at the end) ----
    private Conntrack.FlowSink sink;
    private int interimSec = Integer.MAX_VALUE;
    private long lastNow;
    private final FlowRecord rec = new FlowRecord();

    /** As {@link Conntrack#flowSink}. */
    public void flowSink(Conntrack.FlowSink s, int interimSeconds) {
        this.sink = s;
        this.interimSec = interimSeconds;
    }

    private static int sec(long now) { return (int) (now / 1_000_000_000L); }

    private static void account(Conn c, int d, CtPacket p) {
        c.packets[d] = (c.packets[d] + 1) & 0xFFFF_FFFFL;
        c.bytes[d] += p.length;
    }

    private void report(Tuple t, Conn c, int kind, int nowSec) {
        if (sink == null || c.ended) return;
        FlowRecord r = rec;
        r.kind = kind;
        r.zone = t.zone();
        r.family = t.family();
        r.proto = t.proto();
        r.srcHi = t.srcHi(); r.srcLo = t.srcLo(); r.dstHi = t.dstHi(); r.dstLo = t.dstLo();
        r.sport = t.sport();
        r.dport = t.proto() == 1 || t.proto() == 58 ? t.sport() : t.dport();
        r.vm = c.vm;
        r.packetsOrig = c.packets[0]; r.bytesOrig = c.bytes[0];
        r.packetsReply = c.packets[1]; r.bytesReply = c.bytes[1];
        r.startSec = c.start;
        r.endSec = nowSec;
        sink.record(r);
    }

    private static void reset(Conn c, int nowSec) {
        c.packets[0] = c.packets[1] = c.bytes[0] = c.bytes[1] = 0;
        c.start = nowSec;
    }

    /** As a complete pass of {@link Conntrack#interim}: an interim record for every live connection that is due. */
    public int interimAll(long now) {
        if (sink == null) return 0;
        int n = 0;
        for (Map.Entry<Tuple, Conn> e : conns.entrySet()) {
            Conn c = e.getValue();
            if (now - c.deadline < 0 && !c.ended && sec(now) - c.start >= interimSec && (c.packets[0] | c.packets[1]) != 0) {
                report(e.getKey(), c, FlowRecord.INTERIM, sec(now));
                reset(c, sec(now));
                n++;
            }
        }
        return n;
    }

    /** Packets counted in direction d of the connection the last call matched, or -1. */
    public long lastPackets(int d) { return last == null ? -1 : last.packets[d]; }

    /** Bytes counted in direction d of the connection the last call matched, or -1. */
    public long lastBytes(int d) { return last == null ? -1 : last.bytes[d]; }

    private final Map<Tuple, Conn> conns = new HashMap<>();
    private final Map<Integer, Integer> perVm = new HashMap<>();
    private final int maxEntries, hostLimit, vmLimit;
    private final long[] tcpTimeout, pseudoTimeout;
    private int lastDir = -1;
    private Conn last;

    /** Same limits as a single-shard {@link Conntrack} with {@code new ConnLimits(hostLimit, n, vmLimit)}. */
    public ReferenceConntrack(int maxEntries, CtTimeouts t, int hostLimit, int vmLimit) {
        this.maxEntries = maxEntries;
        this.hostLimit = hostLimit;
        this.vmLimit = vmLimit;
        this.tcpTimeout = t.tcpNanos();
        this.pseudoTimeout = t.pseudoNanos();
    }

    public int size() { return conns.size(); }
    public int lastDirection() { return lastDir; }
    public int lastState() { return last == null ? -1 : last.state; }

    private static boolean isIcmp(CtPacket p) { return p.proto == 1 || p.proto == 58; }

    private static boolean hasPorts(int proto) { return proto == 6 || proto == 17; }

    /** Finds the connection and sets lastDir; null if none (expired ones are deleted on the way). */
    private Map.Entry<Tuple, Conn> find(CtPacket p, long now) {
        Tuple fwd, rev;
        if (isIcmp(p)) {
            boolean req = Icmp.isEchoRequest(p.family, p.icmpType);
            Tuple t = req ? new Tuple(p.zone, p.family, p.proto, p.srcHi, p.srcLo, p.sport, p.dstHi, p.dstLo, 0)
                          : new Tuple(p.zone, p.family, p.proto, p.dstHi, p.dstLo, p.sport, p.srcHi, p.srcLo, 0);
            fwd = req ? t : null;
            rev = req ? null : t;
        } else {
            int sp = hasPorts(p.proto) ? p.sport : 0, dp = hasPorts(p.proto) ? p.dport : 0;
            fwd = new Tuple(p.zone, p.family, p.proto, p.srcHi, p.srcLo, sp, p.dstHi, p.dstLo, dp);
            rev = new Tuple(p.zone, p.family, p.proto, p.dstHi, p.dstLo, dp, p.srcHi, p.srcLo, sp);
        }
        Tuple hit = null;
        int dir = -1;
        if (fwd != null && conns.containsKey(fwd)) { hit = fwd; dir = 0; }
        else if (rev != null && conns.containsKey(rev)) { hit = rev; dir = 1; }
        if (hit == null) return null;
        Conn c = conns.get(hit);
        if (now - c.deadline >= 0) {
            report(hit, c, FlowRecord.END_EXPIRED, sec(now));
            delete(hit);
            return null;
        }
        lastDir = dir;
        return Map.entry(hit, c);
    }

    private void delete(Tuple t) {
        Conn c = conns.remove(t);
        perVm.merge(c.vm, -1, Integer::sum);
    }

    public Verdict track(CtPacket p, long now) {
        lastNow = now;
        lastDir = -1;
        last = null;
        if (isIcmp(p) && Icmp.isError(p.family, p.icmpType)) return related(p, now);
        if (isIcmp(p) && !Icmp.isEchoRequest(p.family, p.icmpType) && !Icmp.isEchoReply(p.family, p.icmpType)) {
            return Verdict.INVALID;
        }
        Map.Entry<Tuple, Conn> e = find(p, now);
        if (e == null) {
            lastDir = -1;
            // Linux tcp_new: from no state a SYN opens; with tcp_loose a bare ACK (the sNO column's
            // only other valid entry, sES) picks the connection up mid-stream
            boolean start = p.proto == 6 ? segmentOf(p.tcpFlags) == TcpSegment.SYN || (pickup && segmentOf(p.tcpFlags) == TcpSegment.ACK)
                    : isIcmp(p) ? Icmp.isEchoRequest(p.family, p.icmpType) : true;
            return start ? Verdict.NEW : Verdict.INVALID;
        }
        Conn c = e.getValue();
        last = c;
        int dir = lastDir;
        if (p.proto != 6) {
            if (dir == 1) { if (c.state == PseudoState.FIRST) c.state = PseudoState.REPLIED; }
            else if (!isIcmp(p) && c.state == PseudoState.REPLIED) c.state = PseudoState.STREAM;
            int kind = p.proto == 17 ? 0 : isIcmp(p) ? 1 : 2;
            c.deadline = now + pseudoTimeout[kind * 3 + c.state];
            if (sink != null) account(c, dir, p);
            return Verdict.ESTABLISHED;
        }
        int seg = segmentOf(p.tcpFlags);
        if (seg < 0) return Verdict.INVALID;
        if (c.synPassed && dir == 1 && seg == TcpSegment.SYNACK && u(p.ack) == c.synEnd) {
            // the server answers the passed SYN: both ends started over; so does the entry, from
            // that SYN (as if it had created it) and this SYN/ACK (Linux's resync)
            c.end[0] = c.synEnd;
            c.maxEnd[0] = c.synEnd;
            c.maxWin[0] = c.synWin == 0 ? 1 : c.synWin;
            c.wsOffered[0] = c.synWscale >= 0;
            c.scale[0] = c.synWscale >= 0 ? Math.min(c.synWscale, 14) : 0;
            c.end[1] = c.maxEnd[1] = c.maxWin[1] = 0;
            c.scale[1] = 0;
            c.wsOffered[1] = false;
            c.synPassed = c.challengeDue = c.simultaneous = false;
            c.state = SS;
        }
        int next = nextState(dir, seg, c.state);
        if (c.simultaneous && dir == 1 && seg == TcpSegment.ACK && c.state == SR) next = ES; // the last ACK of a simultaneous open
        if (next == X_INVALID) return Verdict.INVALID;
        if (next == X_IGNORE) {
            if (sink != null) account(c, dir, p);
            c.synPassed = true;
            c.synEnd = m(u(p.seq) + 1 + p.payloadLen);
            c.synWin = p.window & 0xFFFF;
            c.synWscale = p.wscale;
            c.challengeDue = c.state == LA;
            c.simultaneous = false; // Linux keeps that mark with the options it resets here
            return Verdict.ESTABLISHED;
        }
        boolean answersPassedSyn = c.synPassed && seg == TcpSegment.RST && u(p.ack) == c.synEnd;
        if (c.synPassed && c.challengeDue && dir == 1 && seg == TcpSegment.ACK && c.state == LA) {
            c.challengeDue = false; // the challenge ACK: passes, the last FIN stays unacknowledged
            if (sink != null) account(c, dir, p);
            return Verdict.ESTABLISHED;
        }
        if (next == X_REOPEN) {
            report(e.getKey(), c, FlowRecord.END_REOPENED, sec(now));
            delete(e.getKey());
            last = null;
            lastDir = -1;
            return Verdict.NEW;
        }
        boolean hasAck = (p.tcpFlags & TcpFlags.ACK) != 0;
        if (dir == 1 && c.state == TcpState.SYN_SENT.ordinal() && (seg == TcpSegment.SYNACK || seg == TcpSegment.RST)) {
            if (!hasAck || u(p.ack) != c.end[0]) return Verdict.INVALID;
        }
        int w = answersPassedSyn || c.liberal ? 1 : window(c, dir, seg, p); // the RST to the passed SYN, or picked up mid-stream: no window check
        if (w < 0) {
            // an out-of-window FIN or RST past the handshake becomes the "last packet" (Linux nf_tcp_handle_invalid)
            if ((seg == TcpSegment.FIN || seg == TcpSegment.RST) && c.state != SR) c.synPassed = c.challengeDue = false;
            return Verdict.INVALID;
        }
        if (w == 0) return Verdict.ESTABLISHED; // late duplicate: passes, changes nothing
        if (next == S2) c.simultaneous = true;
        c.synPassed = false;
        c.challengeDue = false;
        boolean synAgain = c.state == SS && next == SS; // a SYN retransmitted before any answer: the timeout runs on (Linux)
        c.state = next;
        if (!synAgain) c.deadline = now + (c.unreplied && next == ES ? Math.min(tcpTimeout[next], UNREPLIED) : tcpTimeout[next]);
        if (dir == 1) c.unreplied = false;
        if (sink != null) account(c, dir, p);
        if ((next == TcpState.CLOSE.ordinal() || next == TcpState.TIME_WAIT.ordinal()) && sink != null && !c.ended) {
            report(e.getKey(), c, FlowRecord.END_CLOSED, sec(now));
            reset(c, sec(now));
            c.ended = true;
        }
        return Verdict.ESTABLISHED;
    }

    private static final int X_INVALID = -1, X_IGNORE = -2, X_REOPEN = -3;
    private static final int SS = 0, SR = 1, ES = 2, FW = 3, CW = 4, LA = 5, TW = 6, CL = 7, S2 = 8;
    /** Linux's nf_conntrack_tcp_timeout_unacknowledged (300 s): ESTABLISHED without a reply seen. */
    private static final long UNREPLIED = 300_000_000_000L;

    /**
     * The TCP state machine written from the RFC 9293 state diagram as a firewall in the middle
     * sees it, with Linux's documented choices (nf_conntrack_proto_tcp.c comments), independently
     * of {@link TcpTransitions}' table: dir 0 = the side that sent the first SYN.
     */
    static int nextState(int dir, int seg, int st) {
        boolean orig = dir == 0;
        boolean opening = st == SS || st == S2;             // no SYN/ACK seen yet
        boolean dead = st == TW || st == CL;                 // closed or reset: the tuple may be reused
        switch (seg) {
            case TcpSegment.RST:
                return CL;                                   // RFC 9293 3.10.7: a valid RST closes in every state
            case TcpSegment.SYN:
                if (dead) return X_REOPEN;                   // RFC 1122 4.2.2.13: a new SYN may reopen from TIME-WAIT
                if (st == SS) return orig ? SS : S2;         // retransmitted SYN / simultaneous open (RFC 9293 fig. 7)
                if (st == S2) return S2;                     // either SYN of a simultaneous open, again
                return orig ? X_IGNORE : X_INVALID;          // client reboot: let the server challenge it (RFC 5961 4)
            case TcpSegment.SYNACK:
                if (st == S2) return SR;                     // simultaneous open: a SYN/ACK from either side
                if (orig) return st == SR ? SR : X_INVALID;  // the initiator answers a SYN only in a simultaneous open
                if (st == SS || st == SR) return SR;         // the answer to our SYN, or its retransmission
                return st == ES ? ES : X_INVALID;            // a late retransmission keeps the connection open
            case TcpSegment.FIN:
                if (opening) return X_INVALID;               // no FIN before the handshake answered
                if (st == SR || st == ES) return FW;         // first FIN
                if (st == FW || st == CW || st == LA) return LA; // FIN from the other side (or again)
                return st;                                   // TIME_WAIT, CLOSE stay
            default: // ACK
                if (opening) return X_INVALID;               // nothing to acknowledge before a SYN/ACK
                if (st == SR) return orig ? ES : SR;         // the third segment of the handshake
                if (st == FW) return CW;                     // the first FIN acknowledged (which side is not tracked)
                if (st == LA) return TW;                     // the last FIN acknowledged
                return st;                                   // ES, CW, TW, CL stay
        }
    }

    private static int segmentOf(int flags) {
        boolean fin = (flags & 1) != 0, syn = (flags & 2) != 0, rst = (flags & 4) != 0, ack = (flags & 16) != 0;
        boolean urg = (flags & 32) != 0;
        if (rst) return (syn || fin || urg) ? -1 : TcpSegment.RST;     // URG only with SYN, ACK, FIN+ACK (Linux)
        if (syn) return fin || (ack && urg) ? -1 : ack ? TcpSegment.SYNACK : TcpSegment.SYN;
        if (fin) return ack ? TcpSegment.FIN : -1;
        return ack ? TcpSegment.ACK : -1;
    }

    private static long u(int x) { return x & 0xFFFF_FFFFL; }
    private static long m(long x) { return x & 0xFFFF_FFFFL; }
    private static boolean after(long a, long b) { long d = m(a - b); return d != 0 && d < 0x8000_0000L; }

    private static void init(Conn c, int d, CtPacket p, long end) {
        long win = p.window & 0xFFFF;
        c.end[d] = end;
        c.maxEnd[d] = end;
        c.maxWin[d] = win == 0 ? 1 : win;
        c.wsOffered[d] = p.wscale >= 0;
        c.scale[d] = p.wscale >= 0 ? Math.min(p.wscale, 14) : 0;
        int o = 1 - d;
        if (c.maxWin[o] != 0 && !(c.wsOffered[o] && c.wsOffered[d])) {
            c.scale[d] = 0;
            c.scale[o] = 0;
        }
    }

    /** -1 invalid, 0 a late duplicate to pass unchanged, 1 in window (state updated). */
    private static int window(Conn c, int s, int seg, CtPacket p) {
        int r = 1 - s;
        boolean syn = seg == TcpSegment.SYN || seg == TcpSegment.SYNACK;
        long seq = u(p.seq);
        long end = m(seq + p.payloadLen + (syn ? 1 : 0) + ((p.tcpFlags & TcpFlags.FIN) != 0 ? 1 : 0));
        if (c.maxWin[s] == 0) {
            if (!syn) return seg == TcpSegment.RST ? 1 : -1;
            init(c, s, p, end);
            if ((p.tcpFlags & TcpFlags.ACK) == 0) return 1; // a simultaneous open's SYN: nothing else to check or move (Linux)
        } else if (syn && ((c.state == TcpState.SYN_SENT.ordinal() && s == 0) || (c.state == TcpState.SYN_RECV.ordinal() && s == 1))
                && after(end, c.end[s])) {
            if ((p.tcpFlags & TcpFlags.ACK) != 0) {
                long a = u(p.ack), maw = Math.max(p.window & 0xFFFF, 66_000);
                if (after(a, c.end[r]) || !after(a, m(c.end[r] - maw - 1))) return -1;
            }
            init(c, s, p, end);
        }
        boolean hasAck = (p.tcpFlags & TcpFlags.ACK) != 0;
        long ack = hasAck ? u(p.ack) : c.end[r];
        long win = p.window & 0xFFFF;
        if (!syn) win = m(win << c.scale[s]);
        long maxAckWin = Math.max(c.maxWin[s], 66_000);
        if (after(seq, c.maxEnd[s])) return -1;                             // I: beyond what R allowed
        if (after(ack, c.end[r])) return -1;                                // III: acks unsent data
        if (c.maxWin[r] != 0 && !after(end, m(c.end[s] - c.maxWin[r] - 1))) return 0; // II: older than R's window (none known yet: not old)
        if (!after(ack, m(c.end[r] - maxAckWin - 1))) return 0;             // IV: ack too old
        if (c.maxWin[s] < win) c.maxWin[s] = win;
        long oldSEnd = c.end[s];
        if (after(end, oldSEnd)) c.end[s] = end;
        if (c.maxWin[r] != 0 && after(end, c.maxEnd[s])) c.maxWin[r] = m(c.maxWin[r] + m(end - c.maxEnd[s]));
        if (after(m(ack + win), m(c.maxEnd[r] - 1))) c.maxEnd[r] = m(ack + win + (win == 0 ? 1 : 0)); // with or without ACK (Linux)
        return 1;
    }

    private long lastReclaim = Long.MIN_VALUE / 2;

    /**
     * A restart of the data plane with the table kept (warm restart): every connection stays as it
     * was; what only the process remembered (when it last reclaimed for a refused commit, the time of
     * its last call) is gone.
     * With mid-stream pickup nothing else differs.
     */
    public void restart() {
        lastReclaim = Long.MIN_VALUE / 2;
        lastNow = 0; // the time of the last call: a kill before any packet stamps its record second 0, as in a fresh shard
        last = null;
        lastDir = -1;
    }

    private boolean refused(int vm) {
        return conns.size() >= maxEntries || perVm.getOrDefault(vm, 0) >= vmLimit || conns.size() >= hostLimit;
    }

    public Verdict commit(CtPacket p, int vm, long now) {
        Verdict v = track(p, now);
        if (v != Verdict.NEW) return v;
        if (refused(vm) && now - lastReclaim >= Conntrack.RECLAIM_INTERVAL_NS) {
            // a refusal first reclaims what has expired (at most every 100 ms), then asks again
            lastReclaim = now;
            expireAll(now);
        }
        if (refused(vm)) return Verdict.LIMIT;
        Tuple t = isIcmp(p) ? new Tuple(p.zone, p.family, p.proto, p.srcHi, p.srcLo, p.sport, p.dstHi, p.dstLo, 0)
                : new Tuple(p.zone, p.family, p.proto, p.srcHi, p.srcLo, hasPorts(p.proto) ? p.sport : 0,
                            p.dstHi, p.dstLo, hasPorts(p.proto) ? p.dport : 0);
        Conn c = new Conn();
        c.vm = vm;
        if (p.proto == 6 && segmentOf(p.tcpFlags) == TcpSegment.ACK) {
            c.state = ES;
            c.liberal = true;
            c.unreplied = true;
            c.end[0] = m(u(p.seq) + p.payloadLen);
            c.maxWin[0] = Math.max(1, p.window & 0xFFFF);
            c.maxEnd[0] = m(c.end[0] + c.maxWin[0]);
            c.deadline = now + Math.min(tcpTimeout[c.state], UNREPLIED);
        } else if (p.proto == 6) {
            c.state = TcpState.SYN_SENT.ordinal();
            init(c, 0, p, m(u(p.seq) + 1 + p.payloadLen));
            c.deadline = now + tcpTimeout[c.state];
        } else {
            c.state = PseudoState.FIRST;
            int kind = p.proto == 17 ? 0 : isIcmp(p) ? 1 : 2;
            c.deadline = now + pseudoTimeout[kind * 3];
        }
        c.start = sec(now);
        if (sink != null) account(c, 0, p);
        conns.put(t, c);
        perVm.merge(vm, 1, Integer::sum);
        last = c;
        lastDir = 0;
        return Verdict.NEW;
    }

    public Verdict related(CtPacket p, long now) {
        lastDir = -1;
        last = null;
        if (p.dstHi != p.qSrcHi || p.dstLo != p.qSrcLo) return Verdict.INVALID;
        CtPacket q = new CtPacket();
        q.zone = p.zone; q.family = p.family; q.proto = p.qProto;
        q.srcHi = p.qSrcHi; q.srcLo = p.qSrcLo; q.dstHi = p.qDstHi; q.dstLo = p.qDstLo;
        q.sport = p.qSport; q.dport = p.qDport; q.icmpType = p.qIcmpType;
        if (isIcmp(q) && !Icmp.isEchoRequest(q.family, q.icmpType) && !Icmp.isEchoReply(q.family, q.icmpType)) {
            return Verdict.INVALID;
        }
        Map.Entry<Tuple, Conn> e = find(q, now);
        lastDir = -1;
        return e == null ? Verdict.INVALID : Verdict.RELATED;
    }

    /** Deletes every expired connection (the twin may sweep; the real tracker may not). */
    public int expireAll(long now) {
        lastNow = now;
        int n = 0;
        for (Iterator<Map.Entry<Tuple, Conn>> it = conns.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Tuple, Conn> e = it.next();
            Conn c = e.getValue();
            if (now - c.deadline >= 0) {
                report(e.getKey(), c, FlowRecord.END_EXPIRED, sec(now));
                perVm.merge(c.vm, -1, Integer::sum);
                it.remove();
                n++;
            }
        }
        return n;
    }

    /** State of the packet's live connection or -1; changes nothing. */
    public int peekState(CtPacket p, long now) {
        int saveDir = lastDir;
        Conn saveLast = last;
        // find() deletes expired entries; peek must not, so look without it
        Conn c = null;
        if (isIcmp(p)) {
            if (Icmp.isEchoRequest(p.family, p.icmpType)) c = conns.get(new Tuple(p.zone, p.family, p.proto, p.srcHi, p.srcLo, p.sport, p.dstHi, p.dstLo, 0));
            else if (Icmp.isEchoReply(p.family, p.icmpType)) c = conns.get(new Tuple(p.zone, p.family, p.proto, p.dstHi, p.dstLo, p.sport, p.srcHi, p.srcLo, 0));
        } else {
            int sp = hasPorts(p.proto) ? p.sport : 0, dp = hasPorts(p.proto) ? p.dport : 0;
            c = conns.get(new Tuple(p.zone, p.family, p.proto, p.srcHi, p.srcLo, sp, p.dstHi, p.dstLo, dp));
            if (c == null) c = conns.get(new Tuple(p.zone, p.family, p.proto, p.dstHi, p.dstLo, dp, p.srcHi, p.srcLo, sp));
        }
        lastDir = saveDir;
        last = saveLast;
        return c == null || now - c.deadline >= 0 ? -1 : c.state;
    }

    public int vmCount(int vm) { return perVm.getOrDefault(vm, 0); }

    /** Deletes the packet's connection, live or expired; true if there was one. */
    public boolean kill(CtPacket p) {
        if (isIcmp(p) && !Icmp.isEchoRequest(p.family, p.icmpType) && !Icmp.isEchoReply(p.family, p.icmpType)) return false;
        Tuple fwd, rev;
        if (isIcmp(p)) {
            boolean req = Icmp.isEchoRequest(p.family, p.icmpType);
            Tuple t = req ? new Tuple(p.zone, p.family, p.proto, p.srcHi, p.srcLo, p.sport, p.dstHi, p.dstLo, 0)
                          : new Tuple(p.zone, p.family, p.proto, p.dstHi, p.dstLo, p.sport, p.srcHi, p.srcLo, 0);
            fwd = t;
            rev = t;
        } else {
            int sp = hasPorts(p.proto) ? p.sport : 0, dp = hasPorts(p.proto) ? p.dport : 0;
            fwd = new Tuple(p.zone, p.family, p.proto, p.srcHi, p.srcLo, sp, p.dstHi, p.dstLo, dp);
            rev = new Tuple(p.zone, p.family, p.proto, p.dstHi, p.dstLo, dp, p.srcHi, p.srcLo, sp);
        }
        Tuple hit = conns.containsKey(fwd) ? fwd : conns.containsKey(rev) ? rev : null;
        if (hit == null) return false;
        report(hit, conns.get(hit), FlowRecord.END_KILLED, sec(lastNow));
        delete(hit);
        return true;
    }
}
