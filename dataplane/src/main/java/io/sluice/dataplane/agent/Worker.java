package io.sluice.dataplane.agent;

import io.sluice.dataplane.counters.WorkerCounters;
import io.sluice.dataplane.debug.Tap;
import io.sluice.dataplane.debug.TapWorker;
import io.sluice.dataplane.ffi.Mbuf;
import io.sluice.dataplane.ffi.Shim;
import io.sluice.dataplane.handoff.SteerStage;
import io.sluice.dataplane.offload.SoftOffload;
import io.sluice.dataplane.offload.TxCaps;
import io.sluice.dataplane.pipeline.Offload;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.stage.ParseStage;
import org.agrona.concurrent.Agent;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One polling worker: an Agrona {@link Agent} run by an {@code AgentRunner} on its own thread,
 * which it registers with EAL ({@code rte_thread_register}) and pins to its lcore's CPUs in
 * {@link #onStart()}. It owns its rx queues, one tx queue ({@link #txQueue}) on every port, its
 * {@link Burst}, its mbuf pointer arrays (off-heap) and its {@link WorkerCounters}: nothing here
 * is shared with another thread, so nothing is locked — except the hand-off rings below, each
 * written by one worker and read by one other (single-producer/single-consumer, lock-free).
 *
 * <p>Duty cycle ({@link #doWork()}): read the time once; for each owned rx queue: rx_burst →
 * reset the burst as {@link Burst#reset} would (whole-array fills; the six parse fields are left
 * to the parser when it is the first stage) → every stage over the whole burst (a stage may append
 * packets it made in fresh mbufs after the received ones: {@link Burst#count} grows) → for each TX
 * frame a stage moved or resized, set the mbuf's data_off/data_len/pkt_len from {@link Burst#data}
 * and {@link Burst#length} ({@code syncFrames}) → group packets whose
 * {@link Burst#next} is {@link Next#TX} per {@link Burst#outPort} → tx_burst per port (what the
 * device does not take is freed and counted as {@link DropReason#TX_FULL} on the out port) →
 * free every {@link Next#DROP} in one call, counted by in-port and reason. A packet still
 * {@link Next#CONTINUE} after the last stage is dropped as {@link DropReason#NO_VERDICT}; a TX
 * to a port that does not exist as {@link DropReason#BAD_OUT_PORT}. {@link Next#CONSUMED}
 * packets belong to the stage that consumed them. Then {@link WorkerCounters#flush()} when the
 * cycle found no packet or {@link #FLUSH_INTERVAL_NS} has passed since the last one (and in
 * {@link #onClose()}): published counters are at most that late.
 *
 * <p><b>Hand-off</b> (two or more workers with a stateful stage): when the pipeline contains a
 * {@link SteerStage}, packets it hands to another worker leave this burst as {@link Next#CONSUMED};
 * and once per duty cycle, after the rx queues, the worker drains the packets other workers handed
 * to it ({@link SteerStage#drain}, up to {@link #MAX_RESUME_BURSTS} bursts while they come full)
 * into its burst and runs them through the stages <i>after</i> the
 * steer stage only ("resume"; their earlier stages ran on the receiving worker, whose rx counters
 * counted them), then syncs, transmits on its own tx queues and counts drops exactly as for an rx
 * burst. Its hand-off totals go to {@link WorkerCounters#handoff} each cycle. Before polling an
 * rx queue it asks {@link SteerStage#mayReceive}: while a ring to another worker has no room for
 * a burst it skips its rx queues (bounded; backpressure instead of {@code handoff_full} drops).
 *
 * <p>Steady state allocates nothing (WorkerAllocationTest proves it).
 */
public final class Worker implements Agent {
    private static final ValueLayout.OfLong P = ValueLayout.JAVA_LONG;
    private static final byte NO_VERDICT = (byte) DropReason.NO_VERDICT.ordinal();
    private static final byte BAD_OUT_PORT = (byte) DropReason.BAD_OUT_PORT.ordinal();
    private static final int TX_FULL = DropReason.TX_FULL.ordinal();
    private static final byte OUTSIDE_BUFFER = (byte) DropReason.TX_FRAME_OUTSIDE_BUFFER.ordinal();
    private static final byte CHAIN_UNSUPPORTED = (byte) DropReason.TX_CHAIN_UNSUPPORTED.ordinal();
    private static final byte OFFLOAD_UNSUPPORTED = (byte) DropReason.TX_OFFLOAD_UNSUPPORTED.ordinal();
    /** Longest time counters go unpublished while the worker is busy (it publishes when idle too). */
    static final long FLUSH_INTERVAL_NS = 1_000_000L;
    private static final java.lang.invoke.VarHandle CYCLES;
    private static final java.lang.invoke.VarHandle PORT_GEN;

    static {
        try {
            CYCLES = java.lang.invoke.MethodHandles.lookup().findVarHandle(Worker.class, "cycles", long.class);
            PORT_GEN = java.lang.invoke.MethodHandles.lookup().findVarHandle(Worker.class, "portGeneration", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int index;
    private final int lcore;
    // the port set in use (PortSet): replaced whole when a hot-plug publishes a new one
    private int[] rxPortIdx;
    private int[] rxPortId;
    private int[] rxQueue;
    private final int txQueue;
    private int[] portIds;
    /** Where hot-plug publishes the port set (read once per duty cycle), or null: the ports given at construction. */
    private PortSet.Board portBoard;
    private PortSet portSet;
    /** The generation of the port set this worker finished its last duty cycle with (release store; -1: none published). */
    private long portGeneration = -1;
    private final Stage[] stages;
    /** Stages with timed work while idle (firewall: expiry, flow-log records). */
    private final io.sluice.dataplane.pipeline.Idle[] idleStages;
    private final WorkerCounters counters;
    private final Burst burst;
    private final int burstSize;
    private final boolean rxMeta;
    /**
     * The first stage is a {@link ParseStage}, which writes the six parse fields of every packet
     * of a fresh burst: rx then resets only the packet's fate ({@link #resetFate}).
     */
    private final boolean parserFirst;

    private final Arena arena;
    private final MemorySegment rxPtrs;
    private final MemorySegment rxData;
    private final MemorySegment rxLen;
    private final MemorySegment[] txPtrs;
    private final int[] txCount;
    /** Frame length of each queued tx packet: [port * burstSize + k]. */
    private final int[] txLen;
    /** Frame address and length of each slot as received, to see which frames a stage moved. */
    private final long[] rxAddr;
    private final int[] rxLength;
    private final MemorySegment freePtrs;
    /** Chain tails cut off frames a stage rewrote into one segment ({@link #syncFrames}), freed per burst. */
    private final MemorySegment tailPtrs;
    /** Software checksum / segmentation / linearisation for frames the out port cannot take as they are. */
    private final SoftOffload soft;
    /** Whether the burst being run has a multi-segment frame or offload state (set at rx / drain). */
    private boolean special;
    private final int[] segLen = new int[SoftOffload.MAX_SEGMENTS];
    private final String roleName;
    /** The pipeline's steer stage, or null (one worker, or no stateful stage). */
    private final SteerStage steer;
    /** The stages after {@link #steer}, run over drained hand-off bursts. */
    private final Stage[] resume;
    /** Index of resume[0] in {@link #stages} (stage counters). */
    private final int resumeBase;

    /** Trace and capture (issue 14): read once per burst; {@link Tap#OFF} unless {@link #tap(Tap)} set one. */
    private Tap tap = Tap.OFF;
    private TapWorker tapWorker;

    private volatile int registeredLcore = -2;
    private volatile Thread thread;
    /** The worker thread's Linux thread id (-1 before start), for keeping other threads off its CPU. */
    private volatile int osTid = -1;
    private long nowNs;
    private long flushedNs;
    private long cycles;

    /**
     * @param index     worker index (counters key, thread name)
     * @param lcore     EAL lcore whose CPUs the thread is pinned to (-1: do not pin)
     * @param rxPorts   port index (position in the config) of each owned rx queue
     * @param rxQueues  queue id of each owned rx queue
     * @param txQueue   tx queue id this worker owns on every port
     * @param portIds   ethdev port id of each port index
     * @param stages    the pipeline, in order
     * @param counters  this worker's counters (single writer: this worker)
     * @param burstSize rx burst size (1..{@link Burst#MAX_CAPACITY})
     * @param rxMeta    true: one native call fills data address + length ({@code sl_rx_burst_meta});
     *                  false: Java reads buf_addr/data_off/data_len from the mbufs
     */
    public Worker(int index, int lcore, int[] rxPorts, int[] rxQueues, int txQueue, int[] portIds,
                  Stage[] stages, WorkerCounters counters, int burstSize, boolean rxMeta) {
        if (rxPorts.length != rxQueues.length) {
            throw new IllegalArgumentException("rxPorts and rxQueues differ in length");
        }
        this.index = index;
        this.lcore = lcore;
        this.rxPortIdx = rxPorts.clone();
        this.rxQueue = rxQueues.clone();
        this.rxPortId = new int[rxPorts.length];
        for (int i = 0; i < rxPorts.length; i++) {
            rxPortId[i] = portIds[rxPorts[i]];
        }
        this.txQueue = txQueue;
        this.portIds = portIds.clone();
        this.stages = stages.clone();
        this.counters = counters;
        this.burst = new Burst(burstSize);
        this.burstSize = burstSize;
        this.rxMeta = rxMeta;
        this.parserFirst = this.stages.length > 0 && this.stages[0] instanceof ParseStage;
        this.idleStages = java.util.Arrays.stream(this.stages).filter(s -> s instanceof io.sluice.dataplane.pipeline.Idle)
                .toArray(io.sluice.dataplane.pipeline.Idle[]::new);
        this.arena = Arena.ofShared();
        long bytes = 8L * burstSize;
        this.rxPtrs = unscoped(arena.allocate(bytes, 64));
        this.rxData = unscoped(arena.allocate(bytes, 64));
        this.rxLen = unscoped(arena.allocate(4L * burstSize, 64));
        this.freePtrs = unscoped(arena.allocate(bytes, 64));
        this.tailPtrs = unscoped(arena.allocate(bytes + 8, 64));
        this.soft = new SoftOffload();
        int ports = portIds.length;
        this.txPtrs = new MemorySegment[ports];
        this.txLen = new int[ports * burstSize];
        for (int p = 0; p < ports; p++) {
            txPtrs[p] = unscoped(arena.allocate(bytes, 64));
        }
        this.txCount = new int[ports];
        this.rxAddr = new long[burstSize];
        this.rxLength = new int[burstSize];
        this.roleName = "sluice-worker-" + index;
        int k = -1;
        for (int i = 0; i < this.stages.length; i++) {
            if (this.stages[i] instanceof SteerStage) {
                if (k >= 0) {
                    throw new IllegalArgumentException("more than one steer stage in the pipeline");
                }
                k = i;
            }
        }
        this.steer = k < 0 ? null : (SteerStage) this.stages[k];
        this.resumeBase = k + 1;
        this.resume = k < 0 ? new Stage[0] : java.util.Arrays.copyOfRange(this.stages, k + 1, this.stages.length);
    }

    /**
     * The same memory seen through a global-scope segment: no liveness check per access and no
     * session acquire/release (two atomic operations) per downcall. The worker's arena still owns
     * the memory and frees it in {@link #release()}, after the worker thread has stopped.
     */
    private static MemorySegment unscoped(MemorySegment s) {
        return MemorySegment.ofAddress(s.address()).reinterpret(s.byteSize());
    }

    @Override
    public void onStart() {
        thread = Thread.currentThread();
        osTid = io.sluice.dataplane.ffi.Affinity.gettid();
        int id = Shim.threadRegister();
        if (id < 0) {
            throw new IllegalStateException(roleName + ": rte_thread_register failed: " + Shim.strerror(-id));
        }
        registeredLcore = id;
        if (lcore >= 0) {
            int rc = Shim.pinToLcore(lcore);
            if (rc < 0) {
                rc = Shim.pinToCpu(lcore);
            }
            if (rc < 0) {
                System.err.println(roleName + ": could not pin to lcore " + lcore + ": " + Shim.strerror(-rc));
            }
        }
    }

    @Override
    public int doWork() {
        nowNs = System.nanoTime();
        final PortSet.Board board = portBoard;
        PortSet set = null;
        if (board != null) {
            set = board.current(); // the one volatile read of the port set per duty cycle
            if (set != portSet) adopt(set);
        }
        int work = 0;
        final SteerStage st = steer;
        for (int q = 0; q < rxQueue.length; q++) {
            // backpressure: no rx while a hand-off ring lacks room for a burst (bounded, SteerStage)
            if (st == null || st.mayReceive(nowNs, burstSize)) {
                work += poll(rxPortIdx[q], rxPortId[q], rxQueue[q]);
            }
        }
        if (steer != null) {
            // up to MAX_RESUME_BURSTS bursts while the rings keep filling whole bursts: a worker
            // that receives on several queues must not fall behind what others hand it
            for (int k = 0, n = burstSize; k < MAX_RESUME_BURSTS && n == burstSize; k++) {
                n = resumeHandedOff();
                work += n;
            }
            counters.handoff(steer.outPackets(), steer.inPackets(), steer.fullDrops(), steer.rxPauses());
        }
        // publishing walks every counter slot: not per duty cycle while busy (at most
        // FLUSH_INTERVAL_NS late), always when idle and in onClose
        if (work == 0) {
            // timed work of stages that saw no burst (a busy firewall stage expires per burst)
            for (io.sluice.dataplane.pipeline.Idle s : idleStages) s.idle(nowNs);
        }
        if (work == 0 || nowNs - flushedNs >= FLUSH_INTERVAL_NS) {
            counters.dutyCycles(cycles);
            counters.flush();
            flushedNs = nowNs;
        }
        // opaque: a plain store on x86, but the supervisor's opaque read is sure to see it
        CYCLES.setOpaque(this, cycles + 1);
        if (set != null) {
            // every use of an older port set ended with this cycle: an unplug may close its device
            PORT_GEN.setRelease(this, set.generation);
        }
        return work;
    }

    /** Takes a published port set: references only (its arrays were built by the control thread). */
    private void adopt(PortSet s) {
        portSet = s;
        rxPortIdx = s.rxPort[index];
        rxPortId = s.rxPortId[index];
        rxQueue = s.rxQueue[index];
        portIds = s.portIds;
    }

    /**
     * Makes this worker read its ports from {@code board} (hot-plug, docs/api.md) from its next duty
     * cycle on. Control thread, before the worker starts; the set's port count must be this worker's.
     */
    public void ports(PortSet.Board board) {
        PortSet s = board.current();
        if (s.portIds.length != portIds.length) {
            throw new IllegalArgumentException("port set of " + s.portIds.length + " ports for a worker of " + portIds.length);
        }
        adopt(s);
        this.portBoard = board;
    }

    /**
     * The generation of the {@link PortSet} this worker ended its last duty cycle with (-1 before
     * one, or without a board): once it is at least {@code g}, no set older than {@code g} is in use.
     */
    public long portGeneration() {
        return (long) PORT_GEN.getAcquire(this);
    }

    private int poll(int portIdx, int portId, int queue) {
        final Burst b = burst;
        int n;
        long bytes = 0;
        if (rxMeta) {
            n = Shim.rxBurstMeta(portId, queue, rxPtrs, burstSize, rxData, rxLen);
            reset(b, n, portIdx);
            final long[] mb = b.mbuf;
            final long[] da = b.data;
            final int[] ln = b.length;
            final int[] tl = b.tailLen;
            final byte[] of = b.offload;
            int sp = 0;
            for (int i = 0; i < n; i++) {
                int len = rxLen.getAtIndex(ValueLayout.JAVA_INT, i);
                long d = rxData.getAtIndex(P, i);
                long m = rxPtrs.getAtIndex(P, i);
                int pkt = Mbuf.pktLen(m);
                byte o = Mbuf.rxOffload(Mbuf.olFlags(m));
                mb[i] = m;
                da[i] = d;
                ln[i] = pkt;
                tl[i] = pkt - len;
                of[i] = o;
                sp |= (pkt - len) | o;
                rxAddr[i] = d;
                rxLength[i] = pkt;
                bytes += pkt;
            }
            special = sp != 0;
        } else {
            n = Shim.rxBurst(portId, queue, rxPtrs, burstSize);
            reset(b, n, portIdx);
            final long[] mb = b.mbuf;
            final long[] da = b.data;
            final int[] ln = b.length;
            final int[] tl = b.tailLen;
            final byte[] of = b.offload;
            int sp = 0;
            for (int i = 0; i < n; i++) {
                long m = rxPtrs.getAtIndex(P, i);
                int len = Mbuf.dataLen(m);
                int pkt = Mbuf.pktLen(m);
                byte o = Mbuf.rxOffload(Mbuf.olFlags(m));
                long d = Mbuf.data(m);
                mb[i] = m;
                da[i] = d;
                ln[i] = pkt;
                tl[i] = pkt - len;
                of[i] = o;
                sp |= (pkt - len) | o;
                rxAddr[i] = d;
                rxLength[i] = pkt;
                bytes += pkt;
            }
            special = sp != 0;
        }
        if (n == 0) {
            return 0;
        }
        b.count = n;
        counters.rx(portIdx, n, bytes);

        int mode = tap.mode(); // the one branch per burst while nothing is armed
        if (mode == 0) {
            runStages(b);
        } else {
            tapWorker.run(mode, b, stages, 0, counters, nowNs, true);
        }
        int count = b.count; // a stage may append packets it made (fresh mbufs) after the n received
        syncFrames(b, n, count);
        if (special) prepareTx(b, count);
        dispatch(b, count);
        return n;
    }

    /**
     * Every stage in order. The first {@link #UNROLLED_STAGES} are called from a call site of
     * their own (one per position in the array): every worker of a JVM runs the same pipeline, so
     * each site sees one stage class and C2 calls it directly (or inlines it) instead of through
     * an interface dispatch stub, which one shared call site for all stages (megamorphic) needs.
     */
    private void runStages(Burst b) {
        final Stage[] st = stages;
        final int ns = st.length;
        final WorkerCounters c = counters;
        if (ns > 0) c.stage(0, st[0].process(b));
        if (ns > 1) c.stage(1, st[1].process(b));
        if (ns > 2) c.stage(2, st[2].process(b));
        if (ns > 3) c.stage(3, st[3].process(b));
        if (ns > 4) c.stage(4, st[4].process(b));
        if (ns > 5) c.stage(5, st[5].process(b));
        for (int s = UNROLLED_STAGES; s < ns; s++) {
            c.stage(s, st[s].process(b));
        }
    }

    /**
     * Drains the packets other workers handed to this one and runs them through the stages after
     * the steer stage, then tx / free / count as for an rx burst. Every TX frame's mbuf is synced
     * (the receiving worker's stages may have moved it, e.g. VXLAN decap). The drained mbufs are
     * also copied into the rx pointer array so a burst all for one port takes {@link #sameDestination}.
     */
    private int resumeHandedOff() {
        final Burst b = burst;
        int n = steer.drain(b);
        if (n == 0) {
            return 0;
        }
        int sp = 0;
        for (int i = 0; i < n; i++) {
            rxPtrs.setAtIndex(P, i, b.mbuf[i]);
            sp |= b.tailLen[i] | b.offload[i];
        }
        special = sp != 0;
        final Stage[] st = resume;
        final WorkerCounters c = counters;
        final int base = resumeBase;
        final int ns = st.length;
        int mode = tap.mode();
        if (mode != 0) {
            tapWorker.run(mode, b, st, base, c, nowNs, false);
        } else {
            if (ns > 0) c.stage(base, st[0].process(b));
            if (ns > 1) c.stage(base + 1, st[1].process(b));
            if (ns > 2) c.stage(base + 2, st[2].process(b));
            for (int s = 3; s < ns; s++) {
                c.stage(base + s, st[s].process(b));
            }
        }
        int count = b.count;
        syncFrames(b, 0, count);
        if (special) prepareTx(b, count);
        dispatch(b, count);
        return n;
    }

    /** Most hand-off bursts drained per duty cycle (bounds the cycle's length). */
    static final int MAX_RESUME_BURSTS = 4;

    /** Stages called from a call site of their own in {@link #runStages}. */
    static final int UNROLLED_STAGES = 6;

    /**
     * Does for slots 0..n-1 what {@link Burst#reset} does, except mbuf/data/length (the caller
     * sets those): every other field gets the same per-burst constant, so whole-array fills
     * (vectorised intrinsics) replace ~10 scalar stores per packet. WorkerResetTest holds this
     * equal to {@link Burst#reset} field by field, and fails when Burst gains a field.
     */
    static void resetMeta(Burst b, int n, int port) {
        if (n == 0) {
            return;
        }
        resetFate(b, n, port);
        java.util.Arrays.fill(b.l3Offset, 0, n, (short) -1);
        java.util.Arrays.fill(b.l4Offset, 0, n, (short) -1);
        java.util.Arrays.fill(b.etherType, 0, n, (short) 0);
        java.util.Arrays.fill(b.vlan, 0, n, (short) -1);
        java.util.Arrays.fill(b.ipProto, 0, n, (short) -1);
        java.util.Arrays.fill(b.flags, 0, n, 0);
    }

    /**
     * Makes each TX mbuf describe the frame the stages left in {@link Burst#data}/{@link Burst#length}
     * (VXLAN decap moves the start forward, encap and ICMP errors back into the headroom, ND replies
     * grow into the tailroom): data_off, data_len and pkt_len are rewritten only for frames that
     * moved or changed length, and for packets a stage appended (slots {@code >= nRx}). A frame
     * outside its mbuf's buffer (a stage bug) is dropped as {@link DropReason#TX_FRAME_OUTSIDE_BUFFER}
     * rather than sent. Two array compares per packet otherwise; single-segment mbufs only.
     */
    private void syncFrames(Burst b, int nRx, int count) {
        final long[] data = b.data;
        final int[] len = b.length;
        final byte[] next = b.next;
        final long[] ra = rxAddr;
        final int[] rl = rxLength;
        int nTails = 0;
        for (int i = 0; i < count; i++) {
            if (next[i] == Next.TX && (i >= nRx || data[i] != ra[i] || len[i] != rl[i])) {
                long m = b.mbuf[i];
                if (m == 0) {
                    next[i] = Next.DROP;
                    b.dropReason[i] = OUTSIDE_BUFFER;
                    continue;
                }
                long off = data[i] - Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, m + Mbuf.BUF_ADDR);
                int bufLen = Mem.ALL.get(ValueLayout.JAVA_SHORT_UNALIGNED, m + Mbuf.BUF_LEN) & 0xFFFF;
                int l = len[i];
                int tail = b.tailLen[i];
                int head = l - tail;
                if (off < 0 || head < 0 || off + head > bufLen) {
                    next[i] = Next.DROP;
                    b.dropReason[i] = OUTSIDE_BUFFER;
                    continue;
                }
                Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, m + Mbuf.DATA_OFF, (short) off);
                if (tail == 0) {
                    long rest = Mbuf.next(m);
                    if (rest != 0) {
                        // a stage wrote a new one-segment frame (Burst.rewritten) into a chain's head
                        Mem.ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, m + Mbuf.NEXT, 0L);
                        Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, m + Mbuf.NB_SEGS, (short) 1);
                        tailPtrs.setAtIndex(P, nTails++, rest);
                    }
                    Mbuf.setLength(m, l);
                } else {
                    Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, m + Mbuf.DATA_LEN, (short) head);
                    Mem.ALL.set(ValueLayout.JAVA_INT_UNALIGNED, m + Mbuf.PKT_LEN, l);
                }
            }
        }
        if (nTails > 0) {
            Shim.mbufFreeBulk(tailPtrs, nTails);
        }
    }

    /**
     * For a burst with multi-segment frames or offload state (rare: a vhost-user guest's TSO /
     * checksum offload, jumbo chains): makes each such TX frame something its out port takes
     * ({@link TxCaps}). Offload state: passed on to a port that takes it (TX_TCP/UDP_CKSUM, TX_TCP_SEG
     * and the header lengths in the mbuf), else done here ({@link SoftOffload}): a partial checksum
     * completed over the chain; a GSO frame longer than its MSS cut into segments, which are sent at
     * once on the out port (counted as its tx) while the frame itself is freed ({@code CONSUMED}).
     * A chain to a port without MULTI_SEGS is copied into its first mbuf, or dropped
     * ({@link DropReason#TX_CHAIN_UNSUPPORTED}) when it does not fit. A frame whose offload cannot be
     * finished (not TCP/UDP over IPv4/IPv6 with its headers in the first segment, no mbufs) is dropped
     * as {@link DropReason#TX_OFFLOAD_UNSUPPORTED}. Runs after {@link #syncFrames} (the mbufs describe
     * the frames). No allocation.
     */
    private void prepareTx(Burst b, int count) {
        final int ports = portIds.length;
        for (int i = 0; i < count; i++) {
            if (b.next[i] != Next.TX || (b.tailLen[i] | b.offload[i]) == 0) continue;
            int op = b.outPort[i];
            if (op < 0 || op >= ports || portIds[op] < 0) continue; // dispatch: BAD_OUT_PORT
            final int pid = portIds[op];
            final int caps = TxCaps.of(pid);
            final long m = b.mbuf[i];
            final long d = b.data[i];
            final int head = b.length[i] - b.tailLen[i];
            final byte ol = b.offload[i];
            if (ol != 0) {
                if (m == 0 || !soft.locate(d, head, b.length[i], b.flags[i])) {
                    b.drop(i, DropReason.TX_OFFLOAD_UNSUPPORTED);
                    continue;
                }
                boolean encap = soft.outerIp >= 0;
                int mss = (ol & Offload.GSO) != 0 ? Mbuf.tsoSegsz(m) : 0;
                boolean cut = mss > 0 && soft.needsSegmentation(mss);
                if (cut && (caps & TxCaps.TSO) != 0 && !encap && soft.proto == 6) {
                    passThrough(m, true, mss);
                } else if (cut) {
                    int n = soft.segment(m, d, head, mss);
                    if (n < 0) {
                        b.drop(i, DropReason.TX_OFFLOAD_UNSUPPORTED);
                        continue;
                    }
                    sendSegments(op, pid, n);
                    b.next[i] = Next.CONSUMED;
                    freePtrs.setAtIndex(P, 0, m);
                    Shim.mbufFreeBulk(freePtrs, 1);
                    continue;
                } else if ((caps & TxCaps.CSUM) != 0 && !encap) {
                    passThrough(m, false, 0);
                } else {
                    soft.completeChecksum(m, d, head);
                }
            }
            if (b.tailLen[i] != 0 && (caps & TxCaps.MULTI_SEGS) == 0) {
                long rest = soft.linearise(m, d, head, b.length[i]);
                if (rest < 0) {
                    b.drop(i, DropReason.TX_CHAIN_UNSUPPORTED);
                    continue;
                }
                b.tailLen[i] = 0;
                if (rest != 0) {
                    freePtrs.setAtIndex(P, 0, rest);
                    Shim.mbufFreeBulk(freePtrs, 1);
                }
            }
        }
    }

    /** Leaves the checksum (and with {@code tso} the segmentation at {@code mss}) to the device: tx flags and header lengths. */
    private void passThrough(long m, boolean tso, int mss) {
        long f = Mbuf.olFlags(m) & ~(Mbuf.F_TX_L4_MASK | Mbuf.F_TX_TCP_SEG | Mbuf.F_TX_IPV4 | Mbuf.F_TX_IPV6 | Mbuf.F_TX_IP_CKSUM);
        f |= soft.family == 4 ? Mbuf.F_TX_IPV4 : Mbuf.F_TX_IPV6;
        f |= soft.proto == 6 ? Mbuf.F_TX_TCP_CKSUM : Mbuf.F_TX_UDP_CKSUM;
        if (tso) f |= Mbuf.F_TX_TCP_SEG;
        Mbuf.setOlFlags(m, f);
        Mbuf.setTxOffload(m, soft.ipOff, soft.l4Off - soft.ipOff, soft.l4Len, tso ? mss : 0);
    }

    /** Transmits the {@code n} segments {@link SoftOffload#segment} made, on port index {@code op}. */
    private void sendSegments(int op, int pid, int n) {
        final int[] lens = segLen;
        for (int k = 0; k < n; k++) {
            lens[k] = Mbuf.dataLen(soft.segments.getAtIndex(P, k)); // before the device may free them
        }
        int sent = Shim.txBurstFree(pid, txQueue, soft.segments, n);
        long bytes = 0;
        for (int k = 0; k < sent; k++) {
            bytes += lens[k];
        }
        counters.tx(op, sent, bytes);
        for (int k = sent; k < n; k++) {
            counters.drop(op, TX_FULL);
        }
    }

    /**
     * {@link #resetMeta} without the six parse fields (l3Offset, l4Offset, etherType, vlan,
     * ipProto, flags): for a pipeline whose first stage is the parser, which writes them for
     * every packet it sees, and it sees every packet of a fresh burst (all {@code CONTINUE}).
     * WorkerResetTest holds the result after the parser equal to a full reset's.
     */
    static void resetFate(Burst b, int n, int port) {
        java.util.Arrays.fill(b.inPort, 0, n, port);
        java.util.Arrays.fill(b.outPort, 0, n, -1);
        java.util.Arrays.fill(b.next, 0, n, Next.CONTINUE);
        java.util.Arrays.fill(b.dropReason, 0, n, (byte) 0);
    }

    private void reset(Burst b, int n, int port) {
        if (n == 0) {
            return;
        }
        if (parserFirst) {
            resetFate(b, n, port);
        } else {
            resetMeta(b, n, port);
        }
    }

    private void dispatch(Burst b, int n) {
        if (sameDestination(b, n)) {
            return;
        }
        final int ports = portIds.length;
        final int[] tc = txCount;
        int nFree = 0;
        for (int i = 0; i < n; i++) {
            byte next = b.next[i];
            if (next == Next.TX) {
                int op = b.outPort[i];
                if (op >= 0 && op < ports && portIds[op] >= 0) {
                    int k = tc[op]++;
                    txPtrs[op].setAtIndex(P, k, b.mbuf[i]);
                    txLen[op * burstSize + k] = b.length[i];
                    continue;
                }
                b.dropReason[i] = BAD_OUT_PORT;
            } else if (next == Next.CONSUMED) {
                continue;
            } else if (next != Next.DROP) {
                b.dropReason[i] = NO_VERDICT;
            }
            counters.drop(b.inPort[i], b.dropReason[i]);
            freePtrs.setAtIndex(P, nFree++, b.mbuf[i]);
        }
        for (int p = 0; p < ports; p++) {
            int cnt = tc[p];
            if (cnt == 0) {
                continue;
            }
            tc[p] = 0;
            int sent = Shim.txBurstFree(portIds[p], txQueue, txPtrs[p], cnt);
            long sentBytes = 0;
            for (int k = 0, base = p * burstSize; k < sent; k++) {
                sentBytes += txLen[base + k];
            }
            counters.tx(p, sent, sentBytes);
            for (int k = sent; k < cnt; k++) {
                counters.drop(p, TX_FULL);
            }
        }
        if (nFree > 0) {
            Shim.mbufFreeBulk(freePtrs, nFree);
        }
    }

    /**
     * Fast path for the common burst whose every packet goes to the same port in the mbufs it
     * arrived in: tx straight from the rx pointer array, no regrouping. Returns false (having
     * done nothing) otherwise.
     */
    private boolean sameDestination(Burst b, int n) {
        final int op = b.outPort[0];
        if (op < 0 || op >= portIds.length || portIds[op] < 0) {
            return false;
        }
        final byte[] next = b.next;
        final int[] out = b.outPort;
        final long[] mbuf = b.mbuf;
        final MemorySegment rx = rxPtrs;
        for (int i = 0; i < n; i++) {
            if (next[i] != Next.TX || out[i] != op || mbuf[i] != rx.getAtIndex(P, i)) {
                return false;
            }
        }
        int sent = Shim.txBurstFree(portIds[op], txQueue, rx, n);
        final int[] len = b.length;
        long sentBytes = 0;
        for (int k = 0; k < sent; k++) {
            sentBytes += len[k];
        }
        counters.tx(op, sent, sentBytes);
        for (int k = sent; k < n; k++) {
            counters.drop(op, TX_FULL);
        }
        return true;
    }

    @Override
    public void onClose() {
        counters.dutyCycles(cycles);
        counters.flush();
        if (registeredLcore >= 0) {
            Shim.threadUnregister();
        }
    }

    /**
     * Frees the mbufs other workers handed to this one and it never drained, then the worker's
     * off-heap arrays; call after every worker's runner has stopped (no producer left).
     */
    public void release() {
        if (steer != null) {
            int n;
            while ((n = steer.drain(burst)) > 0) {
                int k = 0;
                for (int i = 0; i < n; i++) {
                    if (burst.mbuf[i] != 0) {
                        freePtrs.setAtIndex(P, k++, burst.mbuf[i]);
                    }
                }
                if (k > 0) {
                    Shim.mbufFreeBulk(freePtrs, k);
                }
            }
        }
        arena.close();
        soft.close();
    }

    /**
     * Connects this worker to its data plane's trace/capture {@link Tap} (issue 14). Control
     * thread, before the worker starts (the thread start publishes it).
     */
    public void tap(Tap t) {
        this.tapWorker = new TapWorker(t, index, stages);
        this.tap = t;
    }

    /** The pipeline's steer stage (hand-off), or null. */
    public SteerStage steer() {
        return steer;
    }

    @Override
    public String roleName() {
        return roleName;
    }

    /** The thread running this worker (null before {@link #onStart()}). */
    public Thread thread() {
        return thread;
    }

    /** The worker thread's Linux thread id (-1 before it started). */
    public int osTid() {
        return osTid;
    }

    /** The lcore this worker is pinned to (-1: not pinned). */
    public int lcore() {
        return lcore;
    }

    /** The lcore id EAL gave this worker's thread (-2 before start). */
    public int registeredLcore() {
        return registeredLcore;
    }

    /**
     * Duty cycles run so far: an opaque read, so another thread (the supervisor, which stops a
     * data plane whose worker stopped making progress) sees the worker's latest count.
     */
    public long cycles() {
        return (long) CYCLES.getOpaque(this);
    }

    /** Time read at the start of the current duty cycle. */
    public long nowNs() {
        return nowNs;
    }

    public int index() {
        return index;
    }
}
