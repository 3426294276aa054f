package io.sluice.dataplane.flowlog;

import io.sluice.dataplane.conntrack.Conntrack;
import io.sluice.dataplane.conntrack.CtPacket;
import io.sluice.dataplane.conntrack.FlowRecord;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

/**
 * One worker's side of the flow logs (docs/operations.md, "Flow logs"): receives its conntrack
 * shard's records ({@link Conntrack.FlowSink}) and the firewall's rejected first packets, and
 * hands them to the writer thread through a single-producer ring (Agrona
 * {@link OneToOneRingBuffer}). It never waits: a full ring drops the record and counts it
 * ({@link #lost()}). Rejected first packets are aggregated in a fixed table, one entry per
 * (VM port, zone, source address, reason), flushed every reject interval; a full table counts the
 * packet as lost. Per VM port: on/off and sampling (by the connection's hash, so all records of a
 * sampled connection are kept). Single writer: the worker's thread. No allocation after construction.
 */
public final class FlowLogger implements Conntrack.FlowSink {
    /** Message type of a record in the ring. */
    static final int MSG = 1;
    /** Record kind of an aggregated reject (after {@link FlowRecord}'s kinds). */
    public static final int REJECT = 10;
    // message layout (bytes)
    static final int KIND = 0, ZONE = 4, FAMILY = 8, PROTO = 12, SRC_HI = 16, SRC_LO = 24, DST_HI = 32, DST_LO = 40,
            SPORT = 48, DPORT = 52, VM = 56, RULE = 60, NAT = 64, TAG = 68, PKTS_O = 72, BYTES_O = 80, PKTS_R = 88,
            BYTES_R = 96, START = 104, END = 108, LENGTH = 112;
    /** Reject aggregation table size (sources per worker per interval). */
    static final int REJECT_SLOTS = 1024;
    private static final long NS_PER_SEC = 1_000_000_000L;

    private final OneToOneRingBuffer ring;
    private final AtomicBuffer buf;
    /** Per data-plane port: -1 off, else the sampling threshold over an unsigned 32-bit hash (2^32 = all). */
    private final long[] threshold;
    private final long rejectIntervalNs;
    private long lastFlushNs;
    private boolean flushedOnce;
    // written by this worker, read by the writer thread (counters)
    private volatile long lost;
    private long lostPlain;

    // ---- reject aggregation (open addressing, linear probing; cleared at each flush) ----
    private final boolean[] used = new boolean[REJECT_SLOTS];
    private final int[] usedList = new int[REJECT_SLOTS];
    private int nUsed;
    private final int[] rPort = new int[REJECT_SLOTS], rReason = new int[REJECT_SLOTS], rZone = new int[REJECT_SLOTS],
            rFamily = new int[REJECT_SLOTS], rProto = new int[REJECT_SLOTS], rSport = new int[REJECT_SLOTS],
            rDport = new int[REJECT_SLOTS], rStart = new int[REJECT_SLOTS];
    private final long[] rSrcHi = new long[REJECT_SLOTS], rSrcLo = new long[REJECT_SLOTS], rDstHi = new long[REJECT_SLOTS],
            rDstLo = new long[REJECT_SLOTS], rPkts = new long[REJECT_SLOTS], rBytes = new long[REJECT_SLOTS];

    FlowLogger(OneToOneRingBuffer ring, long[] threshold, int rejectIntervalSeconds) {
        this.ring = ring;
        this.buf = ring.buffer();
        this.threshold = threshold;
        this.rejectIntervalNs = rejectIntervalSeconds * NS_PER_SEC;
    }

    /** Records lost: ring full, or reject table full (any thread; racy but monotonic). */
    public long lost() { return lost; }

    private void countLost() {
        lost = ++lostPlain;
    }

    private boolean keep(int port, int tag) {
        if (port < 0 || port >= threshold.length) return false;
        long t = threshold[port];
        if (t < 0) return false;
        return ((tag * 0x9E3779B9) & 0xFFFF_FFFFL) < t;
    }

    @Override
    public void record(FlowRecord r) {
        if (!keep(r.vm, r.tag)) return;
        int i = ring.tryClaim(MSG, LENGTH);
        if (i <= 0) {
            countLost();
            return;
        }
        AtomicBuffer b = buf;
        b.putInt(i + KIND, r.kind);
        b.putInt(i + ZONE, r.zone);
        b.putInt(i + FAMILY, r.family);
        b.putInt(i + PROTO, r.proto);
        b.putLong(i + SRC_HI, r.srcHi);
        b.putLong(i + SRC_LO, r.srcLo);
        b.putLong(i + DST_HI, r.dstHi);
        b.putLong(i + DST_LO, r.dstLo);
        b.putInt(i + SPORT, r.sport);
        b.putInt(i + DPORT, r.dport);
        b.putInt(i + VM, r.vm);
        b.putInt(i + RULE, r.rule);
        b.putInt(i + NAT, r.nat);
        b.putInt(i + TAG, r.tag);
        b.putLong(i + PKTS_O, r.packetsOrig);
        b.putLong(i + BYTES_O, r.bytesOrig);
        b.putLong(i + PKTS_R, r.packetsReply);
        b.putLong(i + BYTES_R, r.bytesReply);
        b.putInt(i + START, r.startSec);
        b.putInt(i + END, r.endSec);
        ring.commit(i);
    }

    /**
     * A first packet the firewall refused (no rule, platform deny, limit), charged to VM port
     * {@code port}; {@code reason} is the firewall's reason index. Aggregated per source.
     */
    public void reject(int port, int reason, CtPacket p, long nowNs) {
        if (port < 0 || port >= threshold.length || threshold[port] < 0) return;
        long h = (p.srcLo * 0x9E3779B97F4A7C15L) ^ (p.srcHi * 0xC2B2AE3D27D4EB4FL) ^ ((long) port << 40) ^ ((long) reason << 56) ^ p.zone;
        h ^= h >>> 29;
        int s = (int) (h & (REJECT_SLOTS - 1));
        for (int n = 0; n < REJECT_SLOTS; n++) {
            if (!used[s]) {
                used[s] = true;
                usedList[nUsed++] = s;
                rPort[s] = port;
                rReason[s] = reason;
                rZone[s] = p.zone;
                rFamily[s] = p.family;
                rSrcHi[s] = p.srcHi;
                rSrcLo[s] = p.srcLo;
                rDstHi[s] = p.dstHi;
                rDstLo[s] = p.dstLo;
                rProto[s] = p.proto;
                rSport[s] = p.sport;
                rDport[s] = p.dport;
                rPkts[s] = 1;
                rBytes[s] = p.length;
                rStart[s] = (int) (nowNs / NS_PER_SEC);
                return;
            }
            if (rSrcLo[s] == p.srcLo && rSrcHi[s] == p.srcHi && rPort[s] == port && rReason[s] == reason && rZone[s] == p.zone
                    && rFamily[s] == p.family) {
                rPkts[s]++;
                rBytes[s] += p.length;
                return;
            }
            s = (s + 1) & (REJECT_SLOTS - 1);
        }
        countLost(); // table full: more sources in one interval than it holds
    }

    /** Once per duty cycle (busy or idle): flushes the reject aggregates every reject interval. */
    public void tick(long nowNs) {
        if (!flushedOnce) {
            flushedOnce = true;
            lastFlushNs = nowNs;
            return;
        }
        if (nowNs - lastFlushNs < rejectIntervalNs) return;
        lastFlushNs = nowNs;
        flushRejects((int) (nowNs / NS_PER_SEC));
    }

    /** Hands every aggregated reject to the ring and clears the table. */
    void flushRejects(int nowSec) {
        AtomicBuffer b = buf;
        for (int k = 0; k < nUsed; k++) {
            int s = usedList[k];
            used[s] = false;
            int i = ring.tryClaim(MSG, LENGTH);
            if (i <= 0) {
                countLost();
                continue;
            }
            b.putInt(i + KIND, REJECT);
            b.putInt(i + ZONE, rZone[s]);
            b.putInt(i + FAMILY, rFamily[s]);
            b.putInt(i + PROTO, rProto[s]);
            b.putLong(i + SRC_HI, rSrcHi[s]);
            b.putLong(i + SRC_LO, rSrcLo[s]);
            b.putLong(i + DST_HI, rDstHi[s]);
            b.putLong(i + DST_LO, rDstLo[s]);
            b.putInt(i + SPORT, rSport[s]);
            b.putInt(i + DPORT, rDport[s]);
            b.putInt(i + VM, rPort[s]);
            b.putInt(i + RULE, rReason[s]);
            b.putInt(i + NAT, 0);
            b.putInt(i + TAG, 0);
            b.putLong(i + PKTS_O, rPkts[s]);
            b.putLong(i + BYTES_O, rBytes[s]);
            b.putLong(i + PKTS_R, 0);
            b.putLong(i + BYTES_R, 0);
            b.putInt(i + START, rStart[s]);
            b.putInt(i + END, nowSec);
            ring.commit(i);
        }
        nUsed = 0;
    }
}
