package io.sluice.dataplane.debug;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Where a running data plane's trace and capture are armed, and the rings their records leave by
 * (issue 14, docs/decisions.md "Trace and capture").
 *
 * <p>One per data plane. The admin thread ({@link AdminServer}) arms and disarms; each worker reads
 * {@link #mode()} once per burst — one acquire load (a plain load on x86) and one branch that is
 * never taken while nothing is armed — and only when it is non-zero runs its burst through its
 * {@link TapWorker}. Records go into the worker's own Agrona {@link OneToOneRingBuffer}
 * (single producer: the worker; single consumer: the admin server's drain thread); a full ring
 * refuses the record, which the worker counts ({@link #lost}) and never waits for.
 */
public final class Tap {
    public static final int TRACE = 1, CAPTURE = 2;
    /** Ring bytes per worker (records: a capture is 24 bytes + the frame, a trace under 2 KiB). */
    public static final int RING_BYTES = 1 << 20;
    /** Record types in the rings. */
    static final int MSG_CAPTURE = 1, MSG_TRACE = 2;

    private static final VarHandle MODE;

    static {
        try {
            MODE = MethodHandles.lookup().findVarHandle(Tap.class, "mode", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** A tap that is never armed (workers made outside a data plane: tests, benchmarks). */
    public static final Tap OFF = new Tap(0);

    @SuppressWarnings("unused") // through MODE
    private int mode;

    // ---- armed settings: written before mode (release), read after it (acquire) ----
    Match traceMatch = Match.ALL;
    int tracePort = -1;
    Match captureMatch = Match.ALL;
    int capturePort = -1;
    int captureSnap = 65535;

    final OneToOneRingBuffer[] rings;
    /** Records refused by a full ring, per worker (written by that worker only, read by anyone). */
    final long[] lost;
    private final String[][] stageNames;
    /** Per worker, the lost records in the shared counters file ("worker W debug records lost"), or null. */
    final org.agrona.concurrent.status.AtomicCounter[] lostOut;

    /** A tap for {@code workers} workers, each with its own ring. */
    public Tap(int workers) {
        rings = new OneToOneRingBuffer[workers];
        lost = new long[workers];
        stageNames = new String[workers][];
        lostOut = new org.agrona.concurrent.status.AtomicCounter[workers];
        for (int w = 0; w < workers; w++) {
            ByteBuffer bb = ByteBuffer.allocateDirect(RING_BYTES + RingBufferDescriptor.TRAILER_LENGTH);
            rings[w] = new OneToOneRingBuffer(new UnsafeBuffer(bb));
        }
    }

    /** What is armed now (0: nothing; {@link #TRACE} | {@link #CAPTURE}). Workers: once per burst. */
    public int mode() {
        return (int) MODE.getAcquire(this);
    }

    public int workers() { return rings.length; }

    /** The worker's record ring (worker: producer; admin drain thread: consumer). */
    public OneToOneRingBuffer ring(int worker) { return rings[worker]; }

    /** Records worker {@code w} could not hand over (ring full), since start. */
    public long lost(int w) {
        return (long) LOST.getOpaque(lost, w);
    }

    static final VarHandle LOST = MethodHandles.arrayElementVarHandle(long[].class);

    /** Exports worker {@code w}'s lost-record count as the counter {@link #LOST_LABEL} (control thread, before it starts). */
    public void exportLost(int w, io.sluice.dataplane.counters.Counters counters) {
        lostOut[w] = counters.allocate(LOST_LABEL, w);
    }

    /** Counter label of the records a worker's full ring refused ({@code ./sluice stats}, Prometheus). */
    public static final String LOST_LABEL = "debug records lost";

    /** Records the stage names of a worker's pipeline (control thread, before it starts). */
    public void stages(int worker, List<String> names) {
        if (worker >= 0 && worker < stageNames.length) stageNames[worker] = names.toArray(String[]::new);
    }

    /** A stage's name, or "stage N". */
    public String stageName(int worker, int stage) {
        String[] n = worker >= 0 && worker < stageNames.length ? stageNames[worker] : null;
        return n != null && stage >= 0 && stage < n.length ? n[stage] : "stage " + stage;
    }

    /** Arms a trace (admin thread). {@code port} -1: every port. */
    public synchronized void armTrace(Match m, int port) {
        traceMatch = m;
        tracePort = port;
        MODE.setRelease(this, (int) MODE.getAcquire(this) | TRACE);
    }

    public synchronized void disarmTrace() {
        MODE.setRelease(this, (int) MODE.getAcquire(this) & ~TRACE);
    }

    /** Arms a capture on {@code port} (admin thread). */
    public synchronized void armCapture(Match m, int port, int snap) {
        captureMatch = m;
        capturePort = port;
        captureSnap = snap;
        MODE.setRelease(this, (int) MODE.getAcquire(this) | CAPTURE);
    }

    public synchronized void disarmCapture() {
        MODE.setRelease(this, (int) MODE.getAcquire(this) & ~CAPTURE);
    }
}
