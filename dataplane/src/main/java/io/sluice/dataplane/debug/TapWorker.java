package io.sluice.dataplane.debug;

import io.sluice.dataplane.counters.WorkerCounters;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.pipeline.Traced;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

import java.lang.foreign.MemorySegment;

/**
 * One worker's side of the {@link Tap}: runs a burst through the stages when a trace or a capture
 * is armed, and writes the records into the worker's ring. Never waits: {@code tryClaim} on a full
 * ring fails and the record is counted lost. Allocates nothing (scratch arrays are made once).
 *
 * <p>Capture: every packet received on the captured port that matches (rx, the frame as received),
 * every packet the stages send out of it (tx, the frame as sent) and every packet received on or
 * headed for it that the stages dropped (with the drop reason), copied before the worker transmits
 * or frees it. A packet the device then refuses ({@code tx_full}) is already in the capture as tx.
 *
 * <p>Trace: up to {@link #MAX_TRACED} matching packets per burst: the frame as received, the state
 * after every stage (fate, drop reason, out port, the stage's {@link Traced#traceDetail}) and the
 * frame at the end of the stages.
 *
 * <p>Record layouts (native byte order) are read back by {@link TraceRecord} and {@link AdminServer}.
 */
public final class TapWorker {
    /** Packets traced per burst at most. */
    public static final int MAX_TRACED = 16;
    /** Bytes of a traced frame kept (before and after the stages). */
    public static final int TRACE_SNAP = 192;
    static final int CAP_HEADER = 24;
    static final int TRACE_HEADER = 48;
    static final int STEP_BYTES = 16;

    private final Tap tap;
    private final int worker;
    private final OneToOneRingBuffer ring;
    private final AtomicBuffer buf;
    private final MemorySegment ringMem;
    private final int[] sel = new int[MAX_TRACED];
    private final int[] origLen = new int[MAX_TRACED];
    private final int[] origHead = new int[MAX_TRACED];
    private final MemorySegment orig;
    private final int maxStages;
    private final int[] stepWord;
    private final int[] stepOut;
    private final long[] stepDetail;
    private final Traced[] traced;
    private long lost;

    /** @param stages the worker's whole pipeline */
    public TapWorker(Tap tap, int worker, Stage[] stages) {
        this.tap = tap;
        this.worker = worker;
        this.ring = tap.workers() > worker ? tap.ring(worker) : null;
        this.buf = ring == null ? null : ring.buffer();
        this.ringMem = buf == null ? null : MemorySegment.ofAddress(buf.addressOffset()).reinterpret(buf.capacity());
        this.orig = MemorySegment.ofArray(new byte[MAX_TRACED * TRACE_SNAP]);
        this.maxStages = stages.length;
        this.stepWord = new int[MAX_TRACED * Math.max(1, maxStages)];
        this.stepOut = new int[stepWord.length];
        this.stepDetail = new long[stepWord.length];
        this.traced = new Traced[stages.length];
        for (int s = 0; s < stages.length; s++) traced[s] = stages[s] instanceof Traced t ? t : null;
    }

    /**
     * Runs {@code st} (the pipeline's stages from index {@code base}) over the burst as the worker
     * would, recording what the armed {@code mode} asks for. {@code rx}: a freshly received burst
     * (captured as rx); false for packets another worker handed over (already captured there).
     */
    public void run(int mode, Burst b, Stage[] st, int base, WorkerCounters c, long nowNs, boolean rx) {
        final Tap t = tap;
        final int n = b.count;
        final boolean cap = (mode & Tap.CAPTURE) != 0 && ring != null;
        final Match cm = t.captureMatch;
        final int cp = t.capturePort;
        if (cap && rx) {
            for (int i = 0; i < n; i++) {
                if ((cp < 0 || b.inPort[i] == cp) && cm.allows(true) && cm.matches(b.data[i], b.headLen(i))) {
                    capture(nowNs, b.inPort[i], 0, 0, b.data[i], b.length[i], b.headLen(i), t.captureSnap);
                }
            }
        }
        int k = 0;
        if ((mode & Tap.TRACE) != 0 && ring != null) {
            final Match tm = t.traceMatch;
            final int tp = t.tracePort;
            for (int i = 0; i < n && k < MAX_TRACED; i++) {
                boolean in = tp < 0 || b.inPort[i] == tp;
                if (!(in && tm.allows(true) || tp >= 0 && tm.allows(false))) continue; // out: known after the stages
                if (!tm.matches(b.data[i], b.headLen(i))) continue;
                sel[k] = i;
                int l = Math.min(b.headLen(i), TRACE_SNAP); // never beyond the first segment
                origLen[k] = b.length[i];
                origHead[k] = l;
                MemorySegment.copy(Mem.ALL, b.data[i], orig, (long) k * TRACE_SNAP, l);
                k++;
            }
            for (int s = 0; s < st.length; s++) {
                Traced tr = traced[base + s];
                if (tr != null) for (int j = 0; j < k; j++) tr.traceClear(sel[j]);
            }
        }
        for (int s = 0; s < st.length; s++) {
            c.stage(base + s, st[s].process(b));
            if (k > 0) {
                Traced tr = traced[base + s];
                for (int j = 0; j < k; j++) {
                    int i = sel[j];
                    int at = j * maxStages + base + s;
                    stepWord[at] = (base + s) | (b.next[i] & 0xFF) << 8 | (b.dropReason[i] & 0xFF) << 16;
                    stepOut[at] = b.outPort[i];
                    stepDetail[at] = tr == null ? 0 : tr.traceDetail(i);
                }
            }
        }
        if (cap) {
            final int count = b.count;
            for (int i = 0; i < count; i++) {
                byte nx = b.next[i];
                if (nx == Next.TX && (cp < 0 || b.outPort[i] == cp)) {
                    if (cm.allows(false) && cm.matches(b.data[i], b.headLen(i))) {
                        capture(nowNs, b.outPort[i], 1, 0, b.data[i], b.length[i], b.headLen(i), t.captureSnap);
                    }
                } else if (nx == Next.DROP && (cp < 0 || b.inPort[i] == cp || b.outPort[i] == cp)) {
                    if (cm.matches(b.data[i], b.headLen(i))) {
                        capture(nowNs, b.inPort[i], 2, b.dropReason[i] & 0xFF, b.data[i], b.length[i], b.headLen(i), t.captureSnap);
                    }
                }
            }
        }
        for (int j = 0; j < k; j++) {
            int i = sel[j];
            int tp = t.tracePort;
            boolean inOk = tp < 0 || b.inPort[i] == tp;
            boolean outOk = tp >= 0 && b.next[i] == Next.TX && b.outPort[i] == tp;
            Match tm = t.traceMatch;
            if (!(inOk && tm.allows(true) || outOk && tm.allows(false))) continue;
            trace(nowNs, b, i, j, base, st.length, rx);
        }
    }

    /** {@code len}: the frame's length; {@code head}: its bytes in the first segment (what is copied, up to snap). */
    private void capture(long now, int port, int dir, int reason, long data, int len, int head, int snap) {
        int l = Math.min(head, snap);
        int idx = ring.tryClaim(Tap.MSG_CAPTURE, CAP_HEADER + l);
        if (idx < 0) {
            lost();
            return;
        }
        buf.putLong(idx, now);
        buf.putInt(idx + 8, port);
        buf.putInt(idx + 12, dir | reason << 8);
        buf.putInt(idx + 16, len);
        buf.putInt(idx + 20, l);
        MemorySegment.copy(Mem.ALL, data, ringMem, idx + CAP_HEADER, l);
        ring.commit(idx);
    }

    private void trace(long now, Burst b, int i, int j, int base, int nst, boolean rx) {
        int inL = origHead[j];
        int outL = Math.min(b.headLen(i), TRACE_SNAP);
        int size = TRACE_HEADER + inL + outL + nst * STEP_BYTES;
        int idx = ring.tryClaim(Tap.MSG_TRACE, size);
        if (idx < 0) {
            lost();
            return;
        }
        buf.putLong(idx, now);
        buf.putInt(idx + 8, worker);
        buf.putInt(idx + 12, b.inPort[i]);
        buf.putInt(idx + 16, b.outPort[i]);
        buf.putInt(idx + 20, (b.next[i] & 0xFF) | (b.dropReason[i] & 0xFF) << 8);
        buf.putInt(idx + 24, origLen[j]);
        buf.putInt(idx + 28, inL);
        buf.putInt(idx + 32, b.length[i]);
        buf.putInt(idx + 36, outL);
        buf.putInt(idx + 40, nst);
        buf.putInt(idx + 44, rx ? 1 : 0);
        int at = idx + TRACE_HEADER;
        MemorySegment.copy(orig, (long) j * TRACE_SNAP, ringMem, at, inL);
        at += inL;
        MemorySegment.copy(Mem.ALL, b.data[i], ringMem, at, outL);
        at += outL;
        for (int s = 0; s < nst; s++) {
            int w = j * maxStages + base + s;
            buf.putInt(at, stepWord[w]);
            buf.putInt(at + 4, stepOut[w]);
            buf.putLong(at + 8, stepDetail[w]);
            at += STEP_BYTES;
        }
        ring.commit(idx);
    }

    /** A record the full ring refused: counted (cold path: only while armed and the reader lags). */
    private void lost() {
        long n = ++lost; // this worker is the only writer; readers read tap.lost opaquely
        tap.lost[worker] = n;
        org.agrona.concurrent.status.AtomicCounter c = tap.lostOut[worker];
        if (c != null) c.setRelease(n);
    }

}
