package io.sluice.rules.model;

import java.util.List;

/**
 * A VM's network interface: its addresses (host prefixes) and its security groups, in order.
 *
 * @param id interface id
 * @param addresses its IPv4/IPv6 addresses as /32 or /128 prefixes
 * @param groups ids of its security groups
 */
public record VmInterface(String id, List<IpPrefix> addresses, List<String> groups) {
    /** Validates that addresses are host prefixes. */
    public VmInterface {
        if (id == null || id.isBlank()) throw new RuleValidationException("interface.id", "missing");
        addresses = List.copyOf(addresses);
        groups = List.copyOf(groups);
        for (IpPrefix p : addresses) {
            if (p.length() != p.family().bits()) throw new RuleValidationException("addresses", p + " is not a host address");
        }
    }
}
