package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.dataplane.firewall.FirewallConfig;
import io.sluice.dataplane.overlay.OverlayModel;
import io.sluice.rules.model.CloudConfig;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.RuleValidationException;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.SgRule;
import io.sluice.rules.sg.EffectiveRules;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * What the API changes, as one immutable value: the firewall configuration (security groups per
 * project, VM memberships; projects are the overlay's networks, groups are {@code project:name} as
 * {@code security-groups} next to an overlay makes them, docs/firewall.md) and the descriptions the
 * API keeps beside the rules. Each change yields a new value or a refusal ({@link ApiException});
 * nothing is changed in place.
 */
public final class DesiredState {
    /** The actions that change state, as journaled. */
    public static final String PUT_GROUP = "security_group.put";
    public static final String DELETE_GROUP = "security_group.delete";
    public static final String PUT_MEMBERSHIP = "vm.security_groups.put";

    /**
     * One change: the journal's record and what replay applies again.
     *
     * @param action  {@link #PUT_GROUP}, {@link #DELETE_GROUP} or {@link #PUT_MEMBERSHIP}
     * @param project the project (overlay network)
     * @param name    the group or the VM
     * @param body    the request's document (null for a delete)
     */
    public record Change(String action, String project, String name, JsonNode body) {}

    private final OverlayModel overlay;
    private final FirewallConfig fw;
    private final Map<String, GroupCodec.Descriptions> descriptions;
    /** Allocated floating IPs: address -> project ({@link FloatingIps}; who holds one is the overlay's). */
    private final Map<Integer, String> floating;

    public DesiredState(OverlayModel overlay, FirewallConfig fw) {
        this(overlay, fw, Map.of(), FloatingIps.fromOverlay(overlay));
    }

    private DesiredState(OverlayModel overlay, FirewallConfig fw, Map<String, GroupCodec.Descriptions> descriptions,
                         Map<Integer, String> floating) {
        this.overlay = overlay;
        this.fw = fw;
        this.descriptions = Map.copyOf(descriptions);
        this.floating = Map.copyOf(floating);
    }

    /** The allocated floating IPs (address -> project). */
    Map<Integer, String> floating() {
        return floating;
    }

    /** This value with another overlay (public access) and floating-IP allocations; the firewall unchanged. */
    DesiredState withPublicAccess(OverlayModel o, Map<Integer, String> f) {
        return new DesiredState(o, fw, descriptions, f);
    }

    /**
     * This value with another firewall configuration ({@link VmFirewall}: a VM's own group {@code id}
     * set, with its descriptions, or removed when {@code d} is null), checked like a group change.
     */
    DesiredState withFirewall(String project, FirewallConfig next, String id, GroupCodec.Descriptions d) throws ApiException {
        Map<String, GroupCodec.Descriptions> m = new LinkedHashMap<>(descriptions);
        if (d == null) m.remove(id);
        else m.put(id, d);
        return checked(project, next, m);
    }

    /** The descriptions of group {@code id}, or null. */
    GroupCodec.Descriptions descriptions(String id) {
        return descriptions.get(id);
    }

    /**
     * The change as it is journaled: a floating-IP allocation without an address gets the pool's
     * lowest free one here (under the change lock), so replay allocates the same address.
     */
    Change resolve(Change c) throws ApiException {
        return c.action().equals(FloatingIps.ALLOCATE) ? FloatingIps.resolve(this, c) : c;
    }

    public FirewallConfig firewall() {
        return fw;
    }

    OverlayModel overlay() {
        return overlay;
    }

    public List<String> projects() {
        return overlay.networks().stream().map(OverlayModel.Network::name).toList();
    }

    public boolean hasProject(String p) {
        return network(p) >= 0;
    }

    private int network(String p) {
        for (int i = 0; i < overlay.networks().size(); i++) {
            if (overlay.networks().get(i).name().equals(p)) return i;
        }
        return -1;
    }

    private static String scoped(String project, String name) {
        return project + ":" + name;
    }

    /** The names of the project's groups, in order. */
    public List<String> groups(String project) {
        String prefix = scoped(project, "");
        List<String> out = new ArrayList<>();
        for (String id : fw.groups().keySet()) {
            if (id.startsWith(prefix) && !VmFirewall.isVmGroup(id)) out.add(id.substring(prefix.length()));
        }
        return out;
    }

    /** A group's document, or null when the project has no such group. */
    public ObjectNode group(String project, String name) {
        if (!name.matches(GroupCodec.NAME)) return null; // a VM's own group is its firewall resource
        String id = scoped(project, name);
        SecurityGroup g = fw.groups().get(id);
        if (g == null) return null;
        return GroupCodec.encodeGroup(project, name, g.rules(), fw.cuts(id), descriptions.get(id));
    }

    /** The groups of VM {@code project/vm}, or null when the project has no such VM. */
    public List<String> vmGroups(String project, String vm) {
        FirewallConfig.VmPort p = vmPort(project, vm);
        if (p == null) return null;
        String prefix = scoped(project, "");
        return p.groups().stream().filter(g -> !VmFirewall.isVmGroup(g))
                .map(g -> g.startsWith(prefix) ? g.substring(prefix.length()) : g).toList();
    }

    FirewallConfig.VmPort vmPort(String project, String vm) {
        String id = project + "/" + vm;
        for (FirewallConfig.VmPort p : fw.vmPorts()) if (p.name().equals(id)) return p;
        return null;
    }

    /** Applies a change; the project must exist (the caller answers 404 otherwise). */
    public DesiredState apply(Change c) throws ApiException {
        if (!hasProject(c.project())) throw ApiException.notFound("no project '" + c.project() + "'");
        return switch (c.action()) {
            case PUT_GROUP -> putGroup(c.project(), c.name(), c.body());
            case DELETE_GROUP -> deleteGroup(c.project(), c.name());
            case PUT_MEMBERSHIP -> putMembership(c.project(), c.name(), c.body());
            case FloatingIps.ALLOCATE, FloatingIps.PUT, FloatingIps.RELEASE -> FloatingIps.apply(this, c);
            case VmFirewall.PUT -> VmFirewall.apply(this, c);
            default -> throw new ApiException(500, "unknown change '" + c.action() + "'");
        };
    }

    private DesiredState putGroup(String project, String name, JsonNode body) throws ApiException {
        if (!name.matches(GroupCodec.NAME)) throw ApiException.invalid("name", "'" + GroupCodec.clip(name) + "' is not 1-64 of [A-Za-z0-9_.-]");
        GroupCodec.Group g = GroupCodec.decodeGroup(project, name, body);
        List<String> known = groups(project);
        for (Map.Entry<String, String> ref : g.groupRefs().entrySet()) {
            if (!ref.getValue().equals(name) && !known.contains(ref.getValue())) {
                throw ApiException.invalid(ref.getKey(), "no group '" + ref.getValue() + "' in project " + project + " (groups: " + new TreeSet<>(known) + ")");
            }
        }
        String id = scoped(project, name);
        Map<String, SecurityGroup> groups = new LinkedHashMap<>(fw.groups());
        Map<String, Boolean> cut = new LinkedHashMap<>(fw.cutGroups());
        try {
            groups.put(id, new SecurityGroup(id, g.rules()));
        } catch (RuleValidationException e) {
            throw ApiException.invalid(e.field(), e.reason());
        }
        cut.put(id, g.cut());
        Map<String, GroupCodec.Descriptions> d = new LinkedHashMap<>(descriptions);
        d.put(id, GroupCodec.Descriptions.of(g));
        return checked(project, with(groups, cut, fw.vmPorts()), d);
    }

    private DesiredState deleteGroup(String project, String name) throws ApiException {
        String id = scoped(project, name);
        if (!name.matches(GroupCodec.NAME) || !fw.groups().containsKey(id)) throw ApiException.notFound("no security group '" + name + "' in project " + project);
        if (name.equals(FirewallConfig.DEFAULT_GROUP)) throw ApiException.conflict("the default group cannot be deleted (every VM not listed is in it)");
        for (FirewallConfig.VmPort p : fw.vmPorts()) {
            if (p.groups().contains(id)) throw ApiException.conflict("security group '" + name + "' still has VM " + p.name() + "; move it to other groups first");
        }
        for (SecurityGroup g : fw.groups().values()) {
            if (g.id().equals(id)) continue;
            for (SgRule r : g.rules()) {
                if (id.equals(r.remoteGroup())) {
                    throw ApiException.conflict("security group '" + name + "' is named by a rule of group '"
                            + g.id().substring(project.length() + 1) + "'; change that rule first");
                }
            }
        }
        Map<String, SecurityGroup> groups = new LinkedHashMap<>(fw.groups());
        Map<String, Boolean> cut = new LinkedHashMap<>(fw.cutGroups());
        groups.remove(id);
        cut.remove(id);
        Map<String, GroupCodec.Descriptions> d = new LinkedHashMap<>(descriptions);
        d.remove(id);
        return checked(project, with(groups, cut, fw.vmPorts()), d);
    }

    private DesiredState putMembership(String project, String vm, JsonNode body) throws ApiException {
        FirewallConfig.VmPort p = vmPort(project, vm);
        if (p == null) throw ApiException.notFound("no VM '" + vm + "' in project " + project);
        List<String> names = GroupCodec.decodeMembership(body);
        List<String> known = groups(project);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            if (!known.contains(names.get(i))) {
                throw ApiException.invalid("groups[" + i + "]", "no group '" + names.get(i) + "' in project " + project + " (groups: " + new TreeSet<>(known) + ")");
            }
            ids.add(scoped(project, names.get(i)));
        }
        for (String g : p.groups()) if (VmFirewall.isVmGroup(g)) ids.add(g); // the VM's own rules stay
        List<FirewallConfig.VmPort> vms = new ArrayList<>(fw.vmPorts().size());
        for (FirewallConfig.VmPort v : fw.vmPorts()) {
            vms.add(v == p ? new FirewallConfig.VmPort(v.port(), v.name(), v.addresses(), ids, v.zone()) : v);
        }
        return checked(project, with(fw.groups(), fw.cutGroups(), vms), descriptions);
    }

    private FirewallConfig with(Map<String, SecurityGroup> groups, Map<String, Boolean> cut, List<FirewallConfig.VmPort> vms) {
        return new FirewallConfig(groups, cut, vms, fw.platform(), fw.maxConnections(), fw.maxConnectionsPerVm(),
                fw.maxFragmentDatagrams(), fw.fragmentTimeoutMs());
    }

    /**
     * The new value, after the check {@code FirewallState.apply} makes before it changes anything
     * (every local VM's rules of the project expand), so a change that is journaled also applies.
     */
    private DesiredState checked(String project, FirewallConfig next, Map<String, GroupCodec.Descriptions> d) throws ApiException {
        int zone = network(project) + 1;
        CloudConfig cloud = next.cloud();
        for (FirewallConfig.VmPort v : next.vmPorts()) {
            if (v.port() < 0 || v.zone() != zone) continue;
            for (Direction dir : Direction.values()) {
                for (IpFamily f : IpFamily.values()) {
                    try {
                        EffectiveRules.of(cloud, v.name(), dir, f);
                    } catch (RuleValidationException e) {
                        throw ApiException.invalid(e.field(), "VM " + v.name() + ": " + e.reason());
                    }
                }
            }
        }
        return new DesiredState(overlay, next, d, floating);
    }
}
