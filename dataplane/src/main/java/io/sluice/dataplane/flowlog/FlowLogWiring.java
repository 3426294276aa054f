package io.sluice.dataplane.flowlog;

import io.sluice.dataplane.config.FlowLogSettings;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.firewall.FirewallCounters;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.overlay.OverlayPipeline;

import java.io.IOException;

/** Puts the flow logs of a configuration file into {@code ./sluice run} (kept out of Main). */
public final class FlowLogWiring {
    private FlowLogWiring() {}

    /**
     * The file's {@code flow-logs} section opened and attached to the firewall (its stages made
     * afterwards log), writer started; null when the file has none. Call before the pipelines are made.
     */
    public static FlowLogs open(SluiceConfig cfg, FirewallState fw, Counters counters) throws ConfigException, IOException {
        FlowLogSettings s = cfg.flowLogs();
        if (s == null || fw == null) return null;
        FlowLogs f = FlowLogs.open(s, cfg, counters);
        f.ruleNames(fw::ruleName);
        f.reasonNames(i -> i >= 0 && i < FirewallCounters.REASONS.length ? FirewallCounters.REASONS[i].name().toLowerCase() : "reason#" + i);
        fw.flowLogs(f);
        f.start();
        System.err.println("sluice: flow logs: " + s.directory() + " (interim records every " + s.intervalS() + " s, rejects aggregated every "
                + s.rejectIntervalS() + " s, " + s.rollCycle() + " files kept " + s.maxAgeH() + " h); read: ./sluice flows --dir " + s.directory());
        return f;
    }

    /** Names NAT words by the overlay's external network (floating IPs, SNAT address and port). */
    public static void nat(FlowLogs f, OverlayPipeline overlay) {
        if (f == null || overlay == null || overlay.nat() == null) return;
        io.sluice.dataplane.nat.NatState n = overlay.nat();
        f.natNames((word, proto, privatePort) -> {
            io.sluice.dataplane.overlay.OverlaySnapshot s = overlay.state().current();
            int idx = word & io.sluice.dataplane.nat.NatState.INDEX;
            if ((word & io.sluice.dataplane.nat.NatState.KIND) == io.sluice.dataplane.nat.NatState.FIP) {
                return idx < s.fipAddr.length ? new Object[] {FlowLogs.addr(4, 0, s.fipAddr[idx] & 0xFFFF_FFFFL), privatePort} : null;
            }
            if ((word & io.sluice.dataplane.nat.NatState.KIND) == io.sluice.dataplane.nat.NatState.SNAT) {
                int a = n.ports.addressIndex(idx);
                return a < s.snatAddr.length ? new Object[] {FlowLogs.addr(4, 0, s.snatAddr[a] & 0xFFFF_FFFFL), n.ports.externalPort(idx)} : null;
            }
            return null;
        });
    }
}
