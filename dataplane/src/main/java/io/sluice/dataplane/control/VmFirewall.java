package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.dataplane.config.FirewallConfig;
import io.sluice.rules.model.RuleValidationException;
import io.sluice.rules.model.SecurityGroup;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A VM's own firewall rules ({@code GET|PUT /v1/projects/{p}/vms/{vm}/firewall}, docs/api.md), in the
 * security-group document's shape. They are a group of their own, {@code project:@vm} ({@code @} is
 * not in a group name, so it never meets a user's group), which the VM is a member of beside its
 * security groups; the firewall allows what any of the VM's groups allows. An empty PUT (no rules)
 * removes the group and the membership. The group is not listed among the project's security groups,
 * cannot be named by a rule, nor read, changed or deleted as a security group.
 */
final class VmFirewall {
    /** Journaled action: name = the VM, body = the document. */
    static final String PUT = "vm.firewall.put";

    private VmFirewall() {}

    static String id(String project, String vm) {
        return project + ":@" + vm;
    }

    static boolean isVmGroup(String id) {
        int colon = id.indexOf(':');
        return colon >= 0 && id.startsWith("@", colon + 1);
    }

    static DesiredState apply(DesiredState st, DesiredState.Change c) throws ApiException {
        String p = c.project();
        String vm = c.name();
        FirewallConfig fw = st.firewall();
        FirewallConfig.VmPort port = st.vmPort(p, vm);
        if (port == null) throw ApiException.notFound("no VM '" + GroupCodec.clip(vm) + "' in project " + p);
        String id = id(p, vm);
        GroupCodec.Group g = GroupCodec.decodeGroup(p, "@" + vm, c.body());
        List<String> known = st.groups(p);
        for (Map.Entry<String, String> ref : g.groupRefs().entrySet()) {
            if (!known.contains(ref.getValue())) {
                throw ApiException.invalid(ref.getKey(), "no group '" + ref.getValue() + "' in project " + p + " (groups: " + new TreeSet<>(known) + ")");
            }
        }
        boolean empty = g.inbound().isEmpty() && g.outbound().isEmpty();
        Map<String, SecurityGroup> groups = new LinkedHashMap<>(fw.groups());
        Map<String, Boolean> cut = new LinkedHashMap<>(fw.cutGroups());
        List<String> member = new ArrayList<>(port.groups());
        member.remove(id);
        if (empty) {
            groups.remove(id);
            cut.remove(id);
        } else {
            try {
                groups.put(id, new SecurityGroup(id, g.rules()));
            } catch (RuleValidationException e) {
                throw ApiException.invalid(e.field(), e.reason());
            }
            cut.put(id, g.cut());
            member.add(id);
        }
        List<FirewallConfig.VmPort> vms = new ArrayList<>(fw.vmPorts().size());
        for (FirewallConfig.VmPort v : fw.vmPorts()) {
            vms.add(v == port ? new FirewallConfig.VmPort(v.port(), v.name(), v.addresses(), member, v.zone()) : v);
        }
        FirewallConfig next = fw.with(groups, cut, vms);
        return st.withFirewall(p, next, id, empty ? null : GroupCodec.Descriptions.of(g));
    }

    /** The VM's rules as a document with {@code project} and {@code vm}, or null when the project has no such VM. */
    static ObjectNode encode(DesiredState st, String p, String vm) {
        if (st.vmPort(p, vm) == null) return null;
        String id = id(p, vm);
        SecurityGroup g = st.firewall().groups().get(id);
        ObjectNode o = GroupCodec.encodeGroup(p, "@" + vm, g == null ? List.of() : g.rules(), st.firewall().cuts(id),
                st.descriptions(id));
        o.remove("name");
        o.put("project", p);
        o.put("vm", vm);
        return o;
    }
}
