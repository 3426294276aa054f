package io.sluice.dataplane.firewall;

import io.sluice.dataplane.pipeline.DropReason;

/**
 * One worker's firewall counters (single writer: the worker's {@link FirewallStage}; other
 * threads read them racily for stats). Drops are counted per VM port whose rules decided (for an
 * inbound packet that is the destination port, not the port it arrived on), hits per rule.
 */
public final class FirewallCounters {
    /** Most distinct rule ids counted; later ids share the last slot ("other"). */
    public static final int MAX_RULES = 1 << 16;
    /** Firewall drop reasons, in counter order. */
    public static final DropReason[] REASONS = {
        DropReason.FW_NO_RULE, DropReason.FW_INVALID, DropReason.FW_LIMIT, DropReason.FW_PLATFORM, DropReason.FW_CUT};
    static final int NO_RULE = 0, INVALID = 1, LIMIT = 2, PLATFORM = 3, CUT = 4;

    final int ports;
    final long[] drops;
    final long[] hits = new long[MAX_RULES];
    /** Packets passed: [0] tracked (established, either direction), [1] related ICMP errors, [2] new connections created. */
    final long[] passed = new long[3];

    FirewallCounters(int ports) {
        this.ports = ports;
        this.drops = new long[ports * REASONS.length];
    }

    public long drops(int port, DropReason reason) {
        for (int r = 0; r < REASONS.length; r++) if (REASONS[r] == reason) return drops[port * REASONS.length + r];
        return 0;
    }

    public long established() { return passed[0]; }
    public long related() { return passed[1]; }
    public long created() { return passed[2]; }
}
