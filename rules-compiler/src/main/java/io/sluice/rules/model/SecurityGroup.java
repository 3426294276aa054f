package io.sluice.rules.model;

import java.util.List;

/**
 * A named set of allow rules.
 *
 * @param id group id
 * @param rules its rules
 */
public record SecurityGroup(String id, List<SgRule> rules) {
    /** Copies the rule list; rule ids must be unique within the group. */
    public SecurityGroup {
        if (id == null || id.isBlank()) throw new RuleValidationException("group.id", "missing");
        rules = List.copyOf(rules);
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (SgRule r : rules) if (!seen.add(r.id())) throw new RuleValidationException("rule.id", "duplicate rule id " + r.id() + " in group " + id);
    }

    /**
     * The default group: inbound TCP 22 from anywhere, all inbound from members of this same
     * group, all outbound (both families).
     */
    public static SecurityGroup defaultGroup(String id) {
        return new SecurityGroup(id, List.of(
                new SgRule(id + "/ssh-v4", Direction.INGRESS, IpFamily.V4, Protocols.TCP, 22, 22, -1, -1, IpPrefix.any(IpFamily.V4), null),
                new SgRule(id + "/ssh-v6", Direction.INGRESS, IpFamily.V6, Protocols.TCP, 22, 22, -1, -1, IpPrefix.any(IpFamily.V6), null),
                new SgRule(id + "/self", Direction.INGRESS, null, Protocols.ANY, 0, 0, -1, -1, null, id),
                SgRule.any(id + "/egress", Direction.EGRESS, null, Protocols.ANY)));
    }
}
