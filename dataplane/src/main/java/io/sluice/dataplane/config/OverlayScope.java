package io.sluice.dataplane.config;

import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.PlatformLayer;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.SgRule;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Security groups next to an {@code overlay:} section (control path, used by
 * {@link FirewallConfigLoader}):
 *
 * <ul>
 *   <li>The firewall's interfaces are the overlay's VMs, named {@code network/vm} (e.g.
 *       {@code blue/web}); a {@code vm-ports} entry names one by {@code port:} (the data-plane port
 *       of a local VM, as the overlay's {@code vms[].port}) or {@code vm: network/name} (local or
 *       remote). Its addresses (ip, ip6) and zone come from the overlay.</li>
 *   <li>Conntrack zone = the VM's network: zone id {@code network index + 1}, the same numbering as
 *       {@link io.sluice.dataplane.overlay.OverlaySnapshot}, so two projects with overlapping CIDRs
 *       never share a connection entry.</li>
 *   <li>Every VM not listed is in {@code default} (the cloud convention: every port has the
 *       default group). Remote VMs ({@code vtep:}) are group members only (their addresses expand
 *       {@code remote-group} rules here; their own host checks their rules).</li>
 *   <li>Groups are per network, as groups are per project in a cloud: each network gets its own
 *       instance of every group, {@code network:group} (rule ids {@code blue:default/ssh-v4}), whose
 *       {@code remote-group} rules expand to members in that network only. Without this, a red VM
 *       in {@code default} with the address of a blue VM outside blue's {@code default} would
 *       let that blue VM through blue's {@code default/self} rule (equal CIDRs).</li>
 * </ul>
 */
public final class OverlayScope {
    /** Separator between network and group name in the per-network group ids. */
    public static final String SEP = ":";

    /** An overlay VM: firewall interface id {@code network/vm}, network index, the model's VM. */
    record VmRef(String id, int network, OverlayModel.Vm vm) {}

    private final OverlayModel model;
    private final Map<String, Integer> portIndex;
    private final Map<String, VmRef> byName = new LinkedHashMap<>();
    private final Map<Integer, VmRef> byPort = new HashMap<>();
    private final Set<String> listed = new HashSet<>();

    OverlayScope(OverlayModel model, Map<String, Integer> portIndex) {
        this.model = model;
        this.portIndex = portIndex;
        for (int n = 0; n < model.networks().size(); n++) {
            OverlayModel.Network net = model.networks().get(n);
            for (OverlayModel.Vm vm : net.vms()) {
                VmRef r = new VmRef(net.name() + "/" + vm.name(), n, vm);
                byName.put(r.id(), r);
                if (vm.isLocal()) byPort.put(vm.localPort(), r);
            }
        }
    }

    /** The VM named {@code network/vm}, or null. */
    VmRef byName(String name) { return byName.get(name); }

    boolean isPort(String portName) { return portIndex.containsKey(portName); }

    /** The local VM on data-plane port {@code portName}, or null. */
    VmRef byPort(String portName) {
        Integer p = portIndex.get(portName);
        return p == null ? null : byPort.get(p);
    }

    /** A VM by its port name or {@code network/vm}, or null. */
    VmRef find(String ref) {
        VmRef r = byPort(ref);
        return r != null ? r : byName(ref);
    }

    String portNames() { return new TreeSet<>(portIndex.keySet()).toString(); }

    /** For messages: the VMs and the ports of the local ones. */
    String known() {
        List<String> l = new ArrayList<>();
        Map<Integer, String> names = new HashMap<>();
        portIndex.forEach((k, v) -> names.put(v, k));
        for (VmRef r : byName.values()) l.add(r.vm().isLocal() ? r.id() + " on port " + names.get(r.vm().localPort()) : r.id());
        return "overlay VMs: " + l;
    }

    /** Marks a VM as listed; false if it already was. */
    boolean list(VmRef r) { return listed.add(r.id()); }

    /** The firewall's view of an overlay VM (groups not yet per network). */
    FirewallConfig.VmPort vmPort(VmRef r, List<String> groups) {
        OverlayModel.Vm vm = r.vm();
        List<IpPrefix> addrs = new ArrayList<>(2);
        addrs.add(IpPrefix.v4Host(vm.ipv4()));
        if (vm.ipv6() != null) addrs.add(IpPrefix.v6Host(vm.ipv6().hi(), vm.ipv6().lo()));
        return new FirewallConfig.VmPort(vm.localPort(), r.id(), addrs, groups, r.network() + 1);
    }

    /** Every VM no entry listed, in {@code default}. */
    List<FirewallConfig.VmPort> unlistedInDefault() {
        List<FirewallConfig.VmPort> out = new ArrayList<>();
        for (VmRef r : byName.values()) if (!listed.contains(r.id())) out.add(vmPort(r, List.of(FirewallConfig.DEFAULT_GROUP)));
        return out;
    }

    /** The configuration with every group instantiated per network and each VM in its network's instances. */
    FirewallConfig perNetwork(Map<String, SecurityGroup> groups, Map<String, Boolean> cut, List<FirewallConfig.VmPort> vms,
                              PlatformLayer platform, int maxConn, int perVm, int frags, int fragMs, boolean pickup, String ctDir) {
        Map<String, SecurityGroup> g = new LinkedHashMap<>();
        Map<String, Boolean> c = new LinkedHashMap<>();
        for (OverlayModel.Network net : model.networks()) {
            for (SecurityGroup sg : groups.values()) {
                String id = scoped(net.name(), sg.id());
                List<SgRule> rules = new ArrayList<>(sg.rules().size());
                for (SgRule r : sg.rules()) {
                    rules.add(new SgRule(scoped(net.name(), r.id()), r.direction(), r.family(), r.protocol(), r.portMin(), r.portMax(),
                            r.icmpType(), r.icmpCode(), r.remoteCidr(), r.remoteGroup() == null ? null : scoped(net.name(), r.remoteGroup())));
                }
                g.put(id, new SecurityGroup(id, rules));
                c.put(id, cut.getOrDefault(sg.id(), false));
            }
        }
        List<FirewallConfig.VmPort> v = new ArrayList<>(vms.size());
        for (FirewallConfig.VmPort p : vms) {
            String net = model.networks().get(p.zone() - 1).name();
            v.add(new FirewallConfig.VmPort(p.port(), p.name(), p.addresses(), p.groups().stream().map(x -> scoped(net, x)).toList(), p.zone()));
        }
        return new FirewallConfig(g, c, v, platform, maxConn, perVm, frags, fragMs, pickup, ctDir);
    }

    static String scoped(String network, String groupOrRuleId) { return network + SEP + groupOrRuleId; }
}
