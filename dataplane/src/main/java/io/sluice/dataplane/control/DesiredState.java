package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.config.FirewallConfig;
import io.sluice.dataplane.config.OverlayModel;
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
 * The desired state as the API sees it: the one configuration value ({@link SluiceConfig}: host
 * settings, projects = overlay networks with their subnets and VMs, security groups per project
 * as {@code project:name} (docs/firewall.md), memberships, public access) and the descriptions
 * the API keeps beside the rules. Each change yields a new value or a refusal
 * ({@link ApiException}); nothing is changed in place. {@code RunningConfig} applies a new value
 * by diffing it against the running one.
 */
public final class DesiredState {
    /** The actions that change state, as journaled. */
    public static final String PUT_GROUP = "security_group.put";
    public static final String DELETE_GROUP = "security_group.delete";
    public static final String PUT_MEMBERSHIP = "vm.security_groups.put";

    /**
     * One change: the journal's record and what replay applies again.
     *
     * @param action  {@link #PUT_GROUP}, {@link #DELETE_GROUP}, {@link #PUT_MEMBERSHIP}, or a project or VM change of {@link Projects}
     * @param project the project (overlay network)
     * @param name    the group or the VM
     * @param body    the request's document (null for a delete)
     */
    public record Change(String action, String project, String name, JsonNode body) {}

    private final SluiceConfig config;
    private final OverlayModel overlay;
    private final FirewallConfig fw;
    private final Map<String, GroupCodec.Descriptions> descriptions;
    /** Allocated floating IPs: address -> project ({@link FloatingIps}; who holds one is the overlay's). */
    private final Map<Integer, String> floating;

    /** The state a configuration file (with an overlay and security groups) describes. */
    public DesiredState(SluiceConfig config) {
        this(config, Map.of(), FloatingIps.fromOverlay(config.overlay()));
    }

    private DesiredState(SluiceConfig config, Map<String, GroupCodec.Descriptions> descriptions, Map<Integer, String> floating) {
        this.config = config;
        this.overlay = config.overlay();
        this.fw = config.firewall();
        this.descriptions = Map.copyOf(descriptions);
        this.floating = Map.copyOf(floating);
    }

    /** The allocated floating IPs (address -> project). */
    Map<Integer, String> floating() {
        return floating;
    }

    /** This value with another overlay (public access) and floating-IP allocations; the firewall unchanged. */
    DesiredState withPublicAccess(OverlayModel o, Map<Integer, String> f) {
        return new DesiredState(config.withOverlay(o), descriptions, f);
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

    /** Whether {@code o} is the same value: configuration, descriptions and floating-IP allocations (a snapshot's check). */
    boolean sameAs(DesiredState o) {
        return config.equals(o.config) && descriptions.equals(o.descriptions) && floating.equals(o.floating);
    }

    /** The whole value. */
    public SluiceConfig config() {
        return config;
    }

    public FirewallConfig firewall() {
        return fw;
    }

    OverlayModel overlay() {
        return overlay;
    }

    /** The projects (a deleted project's tombstone is none: {@link Projects#isTombstone}). */
    public List<String> projects() {
        return overlay.networks().stream().map(OverlayModel.Network::name).filter(n -> !Projects.isTombstone(n)).toList();
    }

    public boolean hasProject(String p) {
        return network(p) >= 0;
    }

    private int network(String p) {
        return Projects.index(overlay, p);
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

    /**
     * {@code fromFile} with {@code changes} applied in order (a reload keeping the API's changes).
     *
     * @throws ConfigException naming the first change that no longer applies
     */
    public static DesiredState replay(SluiceConfig fromFile, List<Change> changes) throws ConfigException {
        DesiredState st = new DesiredState(fromFile);
        for (Change c : changes) {
            try {
                st = st.apply(c);
            } catch (ApiException e) {
                throw new ConfigException("security-groups: the API change " + c.action() + " " + c.project() + "/" + c.name()
                        + " no longer applies over this file: " + e.getMessage());
            }
        }
        return st;
    }

    /** Applies a change; the project must exist (the caller answers 404 otherwise). */
    public DesiredState apply(Change c) throws ApiException {
        if (c.action().equals(Projects.PUT_PROJECT)) {
            return checked(c.project(), new DesiredState(Projects.putProject(config, c.project(), c.body()), descriptions, floating));
        }
        if (!hasProject(c.project())) throw ApiException.notFound("no project '" + c.project() + "'");
        return switch (c.action()) {
            case PUT_GROUP -> putGroup(c.project(), c.name(), c.body());
            case DELETE_GROUP -> deleteGroup(c.project(), c.name());
            case PUT_MEMBERSHIP -> putMembership(c.project(), c.name(), c.body());
            case Projects.DELETE_PROJECT -> {
                Map<String, GroupCodec.Descriptions> d = new LinkedHashMap<>(descriptions);
                d.keySet().removeIf(id -> id.startsWith(scoped(c.project(), "")));
                yield new DesiredState(Projects.deleteProject(config, c.project()), d, floating);
            }
            case Projects.PUT_VM -> checked(c.project(),
                    new DesiredState(Projects.putVm(config, c.project(), c.name(), c.body(), groups(c.project())), descriptions, floating));
            case Projects.DELETE_VM -> new DesiredState(Projects.deleteVm(config, c.project(), c.name()), descriptions, floating);
            case FloatingIps.ALLOCATE, FloatingIps.PUT, FloatingIps.RELEASE -> FloatingIps.apply(this, c);
            case VmFirewall.PUT -> VmFirewall.apply(this, c);
            default -> throw new ApiException(500, "unknown change '" + c.action() + "'");
        };
    }

    /** {@code next} after the rule-expansion check of {@link #checked(String, FirewallConfig, Map)}. */
    private static DesiredState checked(String project, DesiredState next) throws ApiException {
        return next.checked(project, next.fw, next.descriptions);
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
        return fw.with(groups, cut, vms);
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
                        EffectiveRules.check(cloud, v.name(), dir, f); // what expanding checks, without building the lists
                    } catch (RuleValidationException e) {
                        throw ApiException.invalid(e.field(), "VM " + v.name() + ": " + e.reason());
                    }
                }
            }
        }
        return new DesiredState(config.withFirewall(next), d, floating);
    }
}
