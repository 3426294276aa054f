package io.sluice.dataplane.firewall;

import io.sluice.dataplane.pipeline.DropReason;
import org.agrona.concurrent.status.AtomicCounter;

/**
 * One worker's firewall counters (single writer: the worker's {@link FirewallStage}; other
 * threads read them racily for stats). Drops are counted per VM port whose rules decided (for an
 * inbound packet that is the destination port, not the port it arrived on), hits per rule.
 *
 * <p>When the {@link FirewallState} exports to the shared counters file, each counter also has an
 * Agrona {@link AtomicCounter} ({@code firewall port P drop R}, {@code firewall rule ID
 * connections}, {@code firewall connections created}), allocated by the control thread before a
 * snapshot that can reach it is published, and written with an ordered write at the moment the
 * counter moves (a drop, a new connection: no per-burst scan). Without export they stay null.
 */
public final class FirewallCounters {
    /** Most distinct rule ids counted; later ids share the last slot ("other"). */
    public static final int MAX_RULES = 1 << 16;
    /** Firewall drop reasons, in counter order. */
    public static final DropReason[] REASONS = {
        DropReason.FW_NO_RULE, DropReason.FW_INVALID, DropReason.FW_LIMIT, DropReason.FW_PLATFORM, DropReason.FW_CUT,
        DropReason.FW_FRAGMENT_UNKNOWN, DropReason.FW_FRAGMENT_OVERLAP, DropReason.FW_FRAGMENT_TABLE_FULL};
    static final int NO_RULE = 0, INVALID = 1, LIMIT = 2, PLATFORM = 3, CUT = 4,
            FRAGMENT_UNKNOWN = 5, FRAGMENT_OVERLAP = 6, FRAGMENT_TABLE_FULL = 7;

    final int ports;
    /** Worker id (counters-file key); -1 when not exported. */
    final int worker;
    final long[] drops;
    final long[] hits = new long[MAX_RULES];
    /**
     * Packets passed: [0] tracked (established, either direction), [1] related ICMP errors, [2] new
     * connections created, [3] later IP fragments of a datagram whose first fragment passed.
     */
    final long[] passed = new long[4];
    /** Shared-memory twins of {@link #drops} / {@link #hits} / created (null: not exported). */
    final AtomicCounter[] dropOut;
    final AtomicCounter[] hitOut;
    AtomicCounter createdOut;
    AtomicCounter fragmentsOut;
    /** Gauges: entries in this worker's conntrack shard and datagrams in its fragment table (null: not exported). */
    AtomicCounter trackedOut;
    AtomicCounter fragmentTableOut;
    private int lastTracked = -1;
    private int lastFragmentTable = -1;

    FirewallCounters(int ports, int worker) {
        this.ports = ports;
        this.worker = worker;
        this.drops = new long[ports * REASONS.length];
        this.dropOut = new AtomicCounter[drops.length];
        this.hitOut = new AtomicCounter[MAX_RULES];
    }

    /** Counts a drop decided by VM port {@code port}'s rules. */
    void countDrop(int port, int reason) {
        int k = port * REASONS.length + reason;
        long v = ++drops[k];
        AtomicCounter a = dropOut[k];
        if (a != null) a.setRelease(v);
    }

    /** Counts a connection allowed by the rule with hit-counter index {@code rule}. */
    void countHit(int rule) {
        long v = ++hits[rule];
        AtomicCounter a = hitOut[rule];
        if (a != null) a.setRelease(v);
    }

    /** Counts a connection created. */
    void countCreated() {
        long v = ++passed[2];
        AtomicCounter a = createdOut;
        if (a != null) a.setRelease(v);
    }

    /**
     * Publishes the occupancy of the worker's tables (once per burst; a store only when a value
     * changed): conntrack entries, live or expired but not yet reclaimed, and fragment datagrams.
     */
    void occupancy(int tracked, int fragmentTable) {
        if (tracked != lastTracked) {
            lastTracked = tracked;
            AtomicCounter a = trackedOut;
            if (a != null) a.setRelease(tracked);
        }
        if (fragmentTable != lastFragmentTable) {
            lastFragmentTable = fragmentTable;
            AtomicCounter a = fragmentTableOut;
            if (a != null) a.setRelease(fragmentTable);
        }
    }

    /** Counts a later fragment passed. */
    void countFragmentPassed() {
        long v = ++passed[3];
        AtomicCounter a = fragmentsOut;
        if (a != null) a.setRelease(v);
    }

    public long drops(int port, DropReason reason) {
        for (int r = 0; r < REASONS.length; r++) if (REASONS[r] == reason) return drops[port * REASONS.length + r];
        return 0;
    }

    public long established() { return passed[0]; }
    public long related() { return passed[1]; }
    public long created() { return passed[2]; }
    public long fragmentsPassed() { return passed[3]; }
}
