package io.sluice.dataplane.firewall;

import io.sluice.rules.sg.SecurityGroupTable;

/**
 * What the firewall stage reads per burst: one immutable value per configuration version,
 * published by {@link FirewallState} with one volatile write. Arrays are indexed by data-plane
 * port; they are read-only by contract (never written after construction).
 */
public final class FirewallSnapshot {
    /** Number of data-plane ports the arrays cover. */
    public final int ports;
    /** Compiled table of each VM port (platform layer + its groups); null for ports that are not VM ports. */
    final SecurityGroupTable[] table;
    /** Conntrack zone of each VM port. */
    final int[] zone;
    /**
     * Per port, per list ({@code direction * 2 + family}, as {@link SecurityGroupTable}), per
     * position in that effective list: the hit-counter index of the rule at that position.
     */
    final int[][][] hitIndex;
    /** Same shape: true when the rule at that position belongs to a group with {@code on-rule-change: cut}. */
    final boolean[][][] cut;
    /** Configuration version; bumps on every {@link FirewallState#apply}. */
    final int epoch;
    /**
     * True once any group has been configured with {@code on-rule-change: cut} (sticky for the
     * life of the {@link FirewallState}): only then can a connection need a re-check, and the
     * stage takes its packet-by-packet path; otherwise it tracks whole bursts.
     */
    final boolean cutSeen;

    FirewallSnapshot(int ports, SecurityGroupTable[] table, int[] zone, int[][][] hitIndex, boolean[][][] cut, int epoch, boolean cutSeen) {
        this.ports = ports;
        this.table = table;
        this.zone = zone;
        this.hitIndex = hitIndex;
        this.cut = cut;
        this.epoch = epoch;
        this.cutSeen = cutSeen;
    }

    /** The compiled table of a port, or null when it is not a VM port. */
    public SecurityGroupTable table(int port) { return port >= 0 && port < ports ? table[port] : null; }

    /**
     * The conntrack zone of a packet from port {@code in} to port {@code out}: the VM port's zone
     * (the smaller of the two for VM to VM, so a packet and its reply agree), or -1 when neither
     * port is a VM port (the firewall does not see it). Zones are &gt;= 0.
     */
    public int flowZone(int in, int out) {
        SecurityGroupTable tin = table(in);
        SecurityGroupTable tout = table(out);
        if (tin == null) return tout == null ? -1 : zone[out];
        return tout == null ? zone[in] : Math.min(zone[in], zone[out]);
    }

    public int epoch() { return epoch; }
}
