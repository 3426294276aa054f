package io.sluice.rules.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything the security-group compiler reads: groups, interfaces and the platform layer.
 * An immutable value; the {@code with...} methods return changed copies.
 *
 * @param groups groups by id
 * @param interfaces interfaces by id
 * @param platform the platform layer
 */
public record CloudConfig(Map<String, SecurityGroup> groups, Map<String, VmInterface> interfaces, PlatformLayer platform) {
    /** Copies the maps (sorted by id, so expansion order is deterministic). */
    public CloudConfig {
        groups = java.util.Collections.unmodifiableMap(new TreeMap<>(groups));
        interfaces = java.util.Collections.unmodifiableMap(new TreeMap<>(interfaces));
    }

    /** Addresses of family {@code f} of every interface in group {@code g}, in interface-id order. */
    public List<IpPrefix> members(String g, IpFamily f) {
        List<IpPrefix> out = new ArrayList<>();
        for (VmInterface i : interfaces.values()) {
            if (!i.groups().contains(g)) continue;
            for (IpPrefix a : i.addresses()) if (a.family() == f) out.add(a);
        }
        return out;
    }

    /** A copy with the group replaced or added. */
    public CloudConfig withGroup(SecurityGroup g) {
        var m = new TreeMap<>(groups);
        m.put(g.id(), g);
        return new CloudConfig(m, interfaces, platform);
    }

    /** A copy with the interface replaced or added. */
    public CloudConfig withInterface(VmInterface i) {
        var m = new TreeMap<>(interfaces);
        m.put(i.id(), i);
        return new CloudConfig(groups, m, platform);
    }

    /** A copy without the interface. */
    public CloudConfig withoutInterface(String id) {
        var m = new TreeMap<>(interfaces);
        m.remove(id);
        return new CloudConfig(groups, m, platform);
    }
}
