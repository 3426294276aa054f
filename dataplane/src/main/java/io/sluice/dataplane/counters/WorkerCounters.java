package io.sluice.dataplane.counters;

import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.List;

/**
 * One worker's counters. The worker adds to plain {@code long} slots on the fast path (no
 * atomics per packet) and calls {@link #flush()} once per duty cycle, which publishes every
 * changed slot to its shared-memory counter with an ordered write. Single writer: the owning
 * worker thread.
 */
public final class WorkerCounters {
    private static final int RX_PKTS = 0;
    private static final int RX_BYTES = 1;
    private static final int TX_PKTS = 2;
    private static final int TX_BYTES = 3;
    private static final int PER_PORT = 4 + DropReason.values().length;
    private static final int DROP0 = 4;

    private final int ports;
    private final long[] local;
    private final long[] published;
    private final AtomicCounter[] counters;
    private final int stageBase;
    /** First of the four hand-off slots (out, in, full, rx pauses), or -1 without hand-off. */
    private final int handoffBase;
    /** Slot of {@link #cyclesLabel}. */
    private final int cyclesSlot;

    WorkerCounters(Counters owner, int workerId, List<String> portNames, List<String> stageNames, boolean handoff) {
        this.ports = portNames.size();
        int n = ports * PER_PORT + stageNames.size() + (handoff ? 4 : 0) + 1;
        local = new long[n];
        published = new long[n];
        counters = new AtomicCounter[n];
        DropReason[] reasons = DropReason.values();
        for (int p = 0; p < ports; p++) {
            String name = portNames.get(p);
            int base = p * PER_PORT;
            counters[base + RX_PKTS] = owner.allocate("port " + name + " rx packets", workerId);
            counters[base + RX_BYTES] = owner.allocate("port " + name + " rx bytes", workerId);
            counters[base + TX_PKTS] = owner.allocate("port " + name + " tx packets", workerId);
            counters[base + TX_BYTES] = owner.allocate("port " + name + " tx bytes", workerId);
            for (DropReason r : reasons) {
                if (r != DropReason.NONE) {
                    counters[base + DROP0 + r.ordinal()] = owner.allocate(Counters.dropLabel(name, r), workerId);
                }
            }
        }
        stageBase = ports * PER_PORT;
        for (int s = 0; s < stageNames.size(); s++) {
            counters[stageBase + s] = owner.allocate("stage " + stageNames.get(s) + " packets", workerId);
        }
        handoffBase = handoff ? stageBase + stageNames.size() : -1;
        cyclesSlot = n - 1;
        counters[cyclesSlot] = owner.allocate(cyclesLabel(workerId), workerId);
        if (handoff) {
            counters[handoffBase] = owner.allocate(handoffLabel(workerId, "out packets"), workerId);
            counters[handoffBase + 1] = owner.allocate(handoffLabel(workerId, "in packets"), workerId);
            counters[handoffBase + 2] = owner.allocate(handoffLabel(workerId, "full drops"), workerId);
            counters[handoffBase + 3] = owner.allocate(handoffLabel(workerId, "rx pauses"), workerId);
        }
    }

    /** {@code worker W duty cycles}: how many duty cycles the worker has run ({@code ./sluice status}). */
    public static String cyclesLabel(int workerId) {
        return "worker " + workerId + " duty cycles";
    }

    /** Sets the worker's duty-cycle count; published by the next {@link #flush()}. */
    public void dutyCycles(long cycles) {
        local[cyclesSlot] = cycles;
    }

    /** {@code worker W handoff out packets} / {@code in packets} / {@code full drops} / {@code rx pauses}. */
    public static String handoffLabel(int workerId, String what) {
        return "worker " + workerId + " handoff " + what;
    }

    /**
     * Sets the hand-off totals (packets handed to other workers, received from them, dropped on a
     * full ring, rx polls skipped for want of room in a ring); published by the next
     * {@link #flush()}. No-op without hand-off counters.
     */
    public void handoff(long out, long in, long full, long rxPauses) {
        int h = handoffBase;
        if (h >= 0) {
            local[h] = out;
            local[h + 1] = in;
            local[h + 2] = full;
            local[h + 3] = rxPauses;
        }
    }

    public void rx(int port, int packets, long bytes) {
        int base = port * PER_PORT;
        local[base + RX_PKTS] += packets;
        local[base + RX_BYTES] += bytes;
    }

    public void tx(int port, int packets, long bytes) {
        int base = port * PER_PORT;
        local[base + TX_PKTS] += packets;
        local[base + TX_BYTES] += bytes;
    }

    public void drop(int port, int reasonOrdinal) {
        local[port * PER_PORT + DROP0 + reasonOrdinal]++;
    }

    public void drop(int port, DropReason reason) {
        drop(port, reason.ordinal());
    }

    public void stage(int stageIndex, int packets) {
        local[stageBase + stageIndex] += packets;
    }

    /** Counts every dropped packet of the burst by its in-port and reason. */
    public void countDrops(Burst b) {
        for (int i = 0; i < b.count; i++) {
            if (b.next[i] == Next.DROP) {
                drop(b.inPort[i], b.dropReason[i]);
            }
        }
    }

    /** Local (not yet published) value of a port's drop counter; for tests. */
    public long dropCount(int port, DropReason reason) {
        return local[port * PER_PORT + DROP0 + reason.ordinal()];
    }

    /** Publishes changed slots. Call once per duty cycle. */
    public void flush() {
        long[] l = local;
        long[] p = published;
        for (int i = 0; i < l.length; i++) {
            if (l[i] != p[i]) {
                AtomicCounter c = counters[i];
                if (c != null) {
                    c.setRelease(l[i]);
                }
                p[i] = l[i];
            }
        }
    }

    public int portCount() {
        return ports;
    }
}
