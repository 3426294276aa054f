package io.sluice.dataplane.firewall;

import io.sluice.dataplane.config.OverlayScope;

import io.sluice.dataplane.config.FirewallConfig;

import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.sg.SecurityGroupTable;

import java.util.List;

/**
 * What the firewall stage would decide for the first packet of a new connection, read from the
 * current snapshot only: the same lookups as {@link FirewallStage}'s admission (egress table of the
 * in-port when it is a VM port, then ingress table of the out-port), and nothing else — no
 * conntrack entry is looked up or made, no counter moves (issue 14, {@code ./sluice explain}).
 * The per-VM/host connection limit ({@code FW_LIMIT}) is not predicted: it depends on the live
 * table. Any thread.
 */
public final class FirewallExplain {
    private FirewallExplain() {}

    /**
     * @param firewalled   false: neither port is a VM port, the firewall does not see the packet
     * @param drop         {@link DropReason#NONE} when allowed, else FW_NO_RULE or FW_PLATFORM
     * @param egressRule   the rule id that allowed it out of the in-port's VM (null: no egress check, or egress refused)
     * @param ingressRule  the rule id that allowed it into the out-port's VM (null: no ingress check)
     * @param decidingPort the VM port whose rules refused it (-1 when allowed)
     * @param direction    the direction of the refusing check (null when allowed)
     * @param zone         conntrack zone of the flow (-1 when not firewalled)
     * @param groups       the refusing VM port's groups, in order (empty when allowed)
     */
    public record Result(boolean firewalled, DropReason drop, String egressRule, String ingressRule,
                         int decidingPort, Direction direction, int zone, List<String> groups) {
        public boolean allowed() { return drop == DropReason.NONE; }
    }

    /**
     * The admission decision for a packet from port {@code in} to port {@code out}; ICMP: type in
     * {@code sport}, code in {@code dport} (as the tables take them). IPv4 addresses in the low
     * words.
     */
    public static Result decide(FirewallState state, int in, int out, int family, int proto,
                                long srcHi, long srcLo, long dstHi, long dstLo, int sport, int dport) {
        FirewallSnapshot s = state.current();
        FirewallConfig cfg = state.config();
        int zone = s.flowZone(in, out);
        if (zone < 0) return new Result(false, DropReason.NONE, null, null, -1, null, -1, List.of());
        IpFamily f = family == 6 ? IpFamily.V6 : IpFamily.V4;
        String eg = null, ig = null;
        SecurityGroupTable tin = s.table(in);
        if (tin != null) {
            int d = lookup(tin, Direction.EGRESS, family, proto, srcHi, srcLo, dstHi, dstLo, sport, dport);
            if (!SecurityGroupTable.allowed(d)) return refused(cfg, d, in, Direction.EGRESS, zone, null);
            eg = tin.ruleId(Direction.EGRESS, f, d);
        }
        SecurityGroupTable tout = s.table(out);
        if (tout != null) {
            int d = lookup(tout, Direction.INGRESS, family, proto, srcHi, srcLo, dstHi, dstLo, sport, dport);
            if (!SecurityGroupTable.allowed(d)) return refused(cfg, d, out, Direction.INGRESS, zone, eg);
            ig = tout.ruleId(Direction.INGRESS, f, d);
        }
        return new Result(true, DropReason.NONE, eg, ig, -1, null, zone, List.of());
    }

    /** Refused by {@code port}'s rules in {@code dir}; {@code egress}: the rule that let it out of the sender, if asked. */
    private static Result refused(FirewallConfig cfg, int d, int port, Direction dir, int zone, String egress) {
        DropReason r = d >= 0 ? DropReason.FW_PLATFORM : DropReason.FW_NO_RULE;
        return new Result(true, r, egress, null, port, dir, zone, groups(cfg, port));
    }

    /** The groups of VM port {@code port} (the network prefix {@code net:} of overlay groups removed). */
    public static List<String> groups(FirewallConfig cfg, int port) {
        for (FirewallConfig.VmPort v : cfg.vmPorts()) {
            if (v.port() == port) {
                return v.groups().stream().map(g -> g.substring(g.indexOf(OverlayScope.SEP) + 1)).toList();
            }
        }
        return List.of();
    }

    private static int lookup(SecurityGroupTable t, Direction dir, int family, int proto,
                              long srcHi, long srcLo, long dstHi, long dstLo, int sp, int dp) {
        if (family == 4) return t.lookupV4(dir, proto, (int) srcLo, (int) dstLo, sp, dp);
        return t.lookupV6(dir, proto, srcHi, srcLo, dstHi, dstLo, sp, dp);
    }
}
