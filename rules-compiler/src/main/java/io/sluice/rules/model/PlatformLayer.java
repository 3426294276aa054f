package io.sluice.rules.model;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Deny rules evaluated before any tenant rule, each with the interfaces exempt from it.
 *
 * @param denies deny rules in order
 * @param exemptions rule id to the interface ids it does not apply to
 */
public record PlatformLayer(List<SgRule> denies, Map<String, Set<String>> exemptions) {
    /** Copies the collections. */
    public PlatformLayer {
        denies = List.copyOf(denies);
        exemptions = Map.copyOf(exemptions);
    }

    /** The default platform layer: deny outbound TCP 25 to anywhere (both families), no exemptions. */
    public static PlatformLayer defaults() {
        return new PlatformLayer(List.of(new SgRule("platform/smtp-25", Direction.EGRESS, null, Protocols.TCP, 25, 25, -1, -1, null, null)), Map.of());
    }

    /** True if {@code rule} applies to interface {@code iface}. */
    public boolean applies(SgRule rule, String iface) {
        return !exemptions.getOrDefault(rule.id(), Set.of()).contains(iface);
    }

    /** A copy where {@code iface} is exempt from {@code ruleId}. */
    public PlatformLayer withExemption(String ruleId, String iface) {
        var m = new java.util.HashMap<>(exemptions);
        var s = new java.util.HashSet<>(m.getOrDefault(ruleId, Set.of()));
        s.add(iface);
        m.put(ruleId, Set.copyOf(s));
        return new PlatformLayer(denies, m);
    }
}
