package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.FirewallConfig;
import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.config.OverlayModelException;
import io.sluice.dataplane.config.PortSpec;
import io.sluice.dataplane.port.HotPlug;
import io.sluice.dataplane.port.Ports;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.SecurityGroup;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Projects and VMs as the API changes them (docs/api.md): each call maps the one value
 * ({@link SluiceConfig}: the overlay's networks and VMs, the firewall's groups and VM ports) to a
 * new one or refuses. A project is an overlay network ({@code PUT /v1/projects/{p}}: cidr, vni,
 * subnets); a VM is an overlay VM plus its firewall VM port ({@code PUT /v1/projects/{p}/vms/{vm}}).
 *
 * <p>Limits of today, each answered with a status that names them:
 * <ul>
 *   <li>a VM's {@code port.device} is the device of a port the data plane started with that no
 *       other VM uses, or a new device that takes a free hot-plug slot ({@link HotPlug}: the value's
 *       port list holds it, {@link ControlPlane#change} plugs it in); 409 when no slot is free;</li>
 *   <li>with an external network (NAT) a new VM takes a stable NAT VM slot ({@code NatSlots}); none free: 409;</li>
 *   <li>a project's zone is its network's position, and the other projects' tracked connections
 *       are keyed by theirs: deleting a project that is not the last leaves a <i>tombstone</i> in its
 *       place ({@link #isTombstone}: a network named {@code -<zone>} without VMs, invisible to the
 *       API), so no zone moves; trailing tombstones go with the last project.</li>
 * </ul>
 */
final class Projects {
    static final String PUT_PROJECT = "project.put";
    static final String DELETE_PROJECT = "project.delete";
    static final String PUT_VM = "vm.put";
    static final String DELETE_VM = "vm.delete";

    private static final Set<String> PROJECT_FIELDS = Set.of("cidr", "vni", "subnets");
    private static final Set<String> SUBNET_FIELDS = Set.of("name", "cidr", "gateway");
    private static final Set<String> VM_FIELDS = Set.of("subnet", "mac", "ipv4", "ipv6", "port", "remote_vtep", "security_groups", "public_access");
    private static final Set<String> PORT_FIELDS = Set.of("device");
    private static final String NAME = "[A-Za-z0-9_.-]{1,64}";

    private Projects() {}

    // ---- changes --------------------------------------------------------------------------------

    /** Creates or replaces project {@code p} (its VMs stay; they must still fit its subnets). */
    static SluiceConfig putProject(SluiceConfig cfg, String p, JsonNode body) throws ApiException {
        if (!p.matches(NAME)) throw ApiException.invalid("name", "'" + GroupCodec.clip(p) + "' is not 1-64 of [A-Za-z0-9_.-]");
        if (isTombstone(p)) throw ApiException.invalid("name", "'" + GroupCodec.clip(p) + "' starts with '-' (the names of deleted projects' zones)");
        ObjectNode o = GroupCodec.object(body, "body");
        GroupCodec.fields(o, "", PROJECT_FIELDS);
        int[] cidr = cidr(GroupCodec.text(o.get("cidr"), "cidr"), "cidr");
        int vni = GroupCodec.intIn(o.get("vni"), "vni", 1, (1 << 24) - 1);
        List<OverlayModel.Subnet> subnets = new ArrayList<>();
        JsonNode sn = o.get("subnets");
        if (sn == null || !sn.isArray() || sn.isEmpty()) throw ApiException.invalid("subnets", "must be a non-empty list of {name, cidr}");
        for (int i = 0; i < sn.size(); i++) {
            String path = "subnets[" + i + "]";
            ObjectNode s = GroupCodec.object(sn.get(i), path);
            GroupCodec.fields(s, path + ".", SUBNET_FIELDS);
            String name = GroupCodec.text(s.get("name"), path + ".name");
            if (!name.matches(NAME)) throw ApiException.invalid(path + ".name", "'" + GroupCodec.clip(name) + "' is not 1-64 of [A-Za-z0-9_.-]");
            int[] c = cidr(GroupCodec.text(s.get("cidr"), path + ".cidr"), path + ".cidr");
            int gw = s.has("gateway") ? ipv4(GroupCodec.text(s.get("gateway"), path + ".gateway"), path + ".gateway") : c[0] + 1;
            subnets.add(new OverlayModel.Subnet(name, c[0], c[1], gw, null, 0, null));
        }
        OverlayModel m = cfg.overlay();
        List<OverlayModel.Network> nets = new ArrayList<>(m.networks());
        int at = index(m, p);
        boolean created = at < 0;
        if (created) {
            nets.add(new OverlayModel.Network(p, vni, cidr[0], cidr[1], List.copyOf(subnets), List.of()));
        } else {
            nets.set(at, new OverlayModel.Network(p, vni, cidr[0], cidr[1], List.copyOf(subnets), nets.get(at).vms()));
        }
        OverlayModel next = validated(new OverlayModel(m.host(), List.copyOf(nets), m.external()), p);
        FirewallConfig fw = cfg.firewall();
        if (created) {
            // a new project has the default group (docs/firewall.md): ssh, its own members, all egress
            Map<String, SecurityGroup> groups = new LinkedHashMap<>(fw.groups());
            Map<String, Boolean> cut = new LinkedHashMap<>(fw.cutGroups());
            String id = p + ":" + FirewallConfig.DEFAULT_GROUP;
            groups.put(id, SecurityGroup.defaultGroup(id));
            cut.put(id, false);
            fw = fw.with(groups, cut, fw.vmPorts());
        }
        return cfg.withOverlay(next).withFirewall(fw);
    }

    /** Deletes project {@code p}: 409 while it has VMs; a project with others after it leaves a tombstone (its zone stays). */
    static SluiceConfig deleteProject(SluiceConfig cfg, String p) throws ApiException {
        OverlayModel m = cfg.overlay();
        int at = index(m, p);
        if (at < 0) throw ApiException.notFound("no project '" + GroupCodec.clip(p) + "'");
        OverlayModel.Network n = m.networks().get(at);
        if (!n.vms().isEmpty()) {
            throw ApiException.conflict("project " + p + " still has " + n.vms().size() + " VM(s) (" + n.vms().get(0).name()
                    + (n.vms().size() > 1 ? ", …" : "") + "); delete them first");
        }
        List<OverlayModel.Network> nets = new ArrayList<>(m.networks());
        if (at == nets.size() - 1) {
            nets.remove(at);
            // tombstones left at the end have no zone after them to keep in place
            while (!nets.isEmpty() && isTombstone(nets.get(nets.size() - 1).name())) nets.remove(nets.size() - 1);
        } else {
            nets.set(at, tombstone(m, at));
        }
        OverlayModel next = validated(new OverlayModel(m.host(), List.copyOf(nets), m.external()), p);
        FirewallConfig fw = cfg.firewall();
        Map<String, SecurityGroup> groups = new LinkedHashMap<>(fw.groups());
        Map<String, Boolean> cut = new LinkedHashMap<>(fw.cutGroups());
        groups.keySet().removeIf(id -> id.startsWith(p + ":"));
        cut.keySet().removeIf(id -> id.startsWith(p + ":"));
        return cfg.withOverlay(next).withFirewall(fw.with(groups, cut, fw.vmPorts()));
    }

    /** Creates or replaces VM {@code p/vm}: the overlay's VM and the firewall's VM port together. */
    static SluiceConfig putVm(SluiceConfig cfg, String p, String vm, JsonNode body, List<String> groupsOfProject) throws ApiException {
        if (!vm.matches(NAME)) throw ApiException.invalid("name", "'" + GroupCodec.clip(vm) + "' is not 1-64 of [A-Za-z0-9_.-]");
        OverlayModel m = cfg.overlay();
        int at = index(m, p);
        ObjectNode o = GroupCodec.object(body, "body");
        GroupCodec.fields(o, "", VM_FIELDS);
        String subnet = GroupCodec.text(o.get("subnet"), "subnet");
        String macText = GroupCodec.text(o.get("mac"), "mac");
        long mac = ConfigLoader.parseMac(macText);
        if (mac < 0) throw ApiException.invalid("mac", "'" + GroupCodec.clip(macText) + "' is not a MAC address like 02:00:00:00:00:01");
        int ip = ipv4(GroupCodec.text(o.get("ipv4"), "ipv4"), "ipv4");
        OverlayModel.Ip6 ip6 = null;
        if (o.has("ipv6") && !o.get("ipv6").isNull()) {
            String s = GroupCodec.text(o.get("ipv6"), "ipv6");
            ip6 = OverlayModel.Ip6.parse(s);
            if (ip6 == null) throw ApiException.invalid("ipv6", "'" + GroupCodec.clip(s) + "' is not an IPv6 address like fd00:1:1::10");
        }
        if (o.has("port") == o.has("remote_vtep")) {
            throw ApiException.invalid("port", "give exactly one of 'port' ({\"device\": …}, a VM on this host) or 'remote_vtep' (a VM on another host)");
        }
        OverlayModel.Network net = m.networks().get(at);
        OverlayModel.Vm old = null;
        for (OverlayModel.Vm v : net.vms()) if (v.name().equals(vm)) old = v;
        int localPort = -1;
        int vtep = 0;
        List<PortSpec> portSpecs = new ArrayList<>(cfg.ports());
        if (o.has("remote_vtep")) {
            vtep = ipv4(GroupCodec.text(o.get("remote_vtep"), "remote_vtep"), "remote_vtep");
        } else {
            ObjectNode port = GroupCodec.object(o.get("port"), "port");
            GroupCodec.fields(port, "port.", PORT_FIELDS);
            String device = GroupCodec.text(port.get("device"), "port.device");
            localPort = localPort(cfg, device, p, vm);
            if (localPort < 0) {
                localPort = freeSlot(cfg, device);
                portSpecs.set(localPort, HotPlug.slot(HotPlug.number(cfg.ports().get(localPort)), device));
            }
        }
        if (old != null && old.localPort() != localPort) emptySlot(portSpecs, old);
        OverlayModel.Access access = OverlayModel.Access.PRIVATE;
        if (o.has("public_access")) {
            String a = GroupCodec.text(o.get("public_access"), "public_access");
            if (a.equals("outbound-only")) access = OverlayModel.Access.OUTBOUND;
            else if (!a.equals("private")) throw ApiException.invalid("public_access", "'" + GroupCodec.clip(a) + "' is not outbound-only or private");
        }
        List<String> names = List.of(FirewallConfig.DEFAULT_GROUP);
        if (o.has("security_groups")) {
            ObjectNode g = GroupCodec.JSON.createObjectNode();
            g.set("groups", o.get("security_groups"));
            try {
                names = GroupCodec.decodeMembership(g);
            } catch (ApiException e) {
                throw new ApiException(400, "security_" + e.getMessage());
            }
        }
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            if (!groupsOfProject.contains(names.get(i))) {
                throw ApiException.invalid("security_groups[" + i + "]", "no group '" + GroupCodec.clip(names.get(i)) + "' in project " + p
                        + " (groups: " + new TreeSet<>(groupsOfProject) + ")");
            }
            ids.add(p + ":" + names.get(i));
        }
        OverlayModel.Vm v = new OverlayModel.Vm(vm, subnet, mac, ip, ip6, localPort, vtep, access, 0);
        List<OverlayModel.Vm> vms = new ArrayList<>(net.vms());
        if (old == null) vms.add(v);
        else vms.set(vms.indexOf(old), v);
        List<OverlayModel.Network> nets = new ArrayList<>(m.networks());
        nets.set(at, new OverlayModel.Network(net.name(), net.vni(), net.cidr(), net.prefix(), net.subnets(), List.copyOf(vms)));
        OverlayModel next = validated(new OverlayModel(m.host(), List.copyOf(nets), m.external()), p);

        List<IpPrefix> addrs = new ArrayList<>();
        addrs.add(IpPrefix.v4Host(ip));
        if (ip6 != null) addrs.add(IpPrefix.v6Host(ip6.hi(), ip6.lo()));
        FirewallConfig fw = cfg.firewall();
        FirewallConfig.VmPort port = new FirewallConfig.VmPort(localPort, p + "/" + vm, addrs, ids, at + 1);
        List<FirewallConfig.VmPort> ports = new ArrayList<>(fw.vmPorts());
        int existing = -1;
        for (int i = 0; i < ports.size(); i++) if (ports.get(i).name().equals(port.name())) existing = i;
        if (existing < 0) ports.add(port);
        else ports.set(existing, port);
        return cfg.withOverlay(next).withFirewall(fw.with(fw.groups(), fw.cutGroups(), ports)).withPorts(portSpecs.equals(cfg.ports()) ? cfg.ports() : portSpecs);
    }

    /** A VM's hot-plug slot (when it has one) emptied in {@code ports}. */
    private static void emptySlot(List<PortSpec> ports, OverlayModel.Vm v) {
        if (v.isLocal() && HotPlug.isSlot(ports.get(v.localPort()))) {
            ports.set(v.localPort(), HotPlug.slot(HotPlug.number(ports.get(v.localPort())), HotPlug.EMPTY));
        }
    }

    /** A device string DPDK's {@code rte_dev_probe} is given: a driver or bus address, then {@code ,key=value} pairs. */
    private static final String DEVARGS = "[A-Za-z0-9_:.]{1,64}(,[A-Za-z0-9_]{1,32}=[A-Za-z0-9_./:@+-]{0,200}){0,16}";

    /**
     * The first empty hot-plug slot for a new {@code device}: 400 when it is no device string, 409 when
     * another port has its device name or no slot is free.
     */
    private static int freeSlot(SluiceConfig cfg, String device) throws ApiException {
        if (!device.matches(DEVARGS)) {
            throw ApiException.invalid("port.device", "'" + GroupCodec.clip(device) + "' is not a DPDK device string like net_tap7,iface=vm7"
                    + " (a driver name, then ,key=value pairs)");
        }
        String name = Ports.deviceName(new PortSpec("", device, 1, 1, -1));
        for (PortSpec s : cfg.ports()) {
            if (!s.devargs().isEmpty() && Ports.deviceName(s).equals(name)) {
                throw ApiException.conflict("port.device: the device name '" + GroupCodec.clip(name) + "' is port " + s.name() + "'s ("
                        + GroupCodec.clip(s.devargs()) + ")");
            }
        }
        int slots = 0;
        for (int i = 0; i < cfg.ports().size(); i++) {
            PortSpec s = cfg.ports().get(i);
            if (!HotPlug.isSlot(s)) continue;
            slots++;
            if (HotPlug.isEmpty(s)) return i;
        }
        throw ApiException.conflict("port.device: '" + GroupCodec.clip(device) + "' would be hot-plugged, but " + (slots == 0
                ? "the data plane has no hot-plug slots (api.hotplug-ports: 0)"
                : "all " + slots + " hot-plug slots (api.hotplug-ports) are in use; delete a VM on one, or raise api.hotplug-ports (restart)")
                + "; or give 'remote_vtep' for a VM on another host");
    }

    /** Deletes VM {@code p/vm} (a local VM's port stays plugged and unused: its packets are dropped as not overlay). */
    static SluiceConfig deleteVm(SluiceConfig cfg, String p, String vm) throws ApiException {
        OverlayModel m = cfg.overlay();
        int at = index(m, p);
        OverlayModel.Network net = m.networks().get(at);
        List<OverlayModel.Vm> vms = new ArrayList<>(net.vms());
        List<PortSpec> portSpecs = new ArrayList<>(cfg.ports());
        for (OverlayModel.Vm v : net.vms()) if (v.name().equals(vm)) emptySlot(portSpecs, v);
        if (!vms.removeIf(v -> v.name().equals(vm))) throw ApiException.notFound("no VM '" + GroupCodec.clip(vm) + "' in project " + p);
        List<OverlayModel.Network> nets = new ArrayList<>(m.networks());
        nets.set(at, new OverlayModel.Network(net.name(), net.vni(), net.cidr(), net.prefix(), net.subnets(), List.copyOf(vms)));
        OverlayModel next = validated(new OverlayModel(m.host(), List.copyOf(nets), m.external()), p);
        FirewallConfig fw = cfg.firewall();
        List<FirewallConfig.VmPort> ports = new ArrayList<>(fw.vmPorts());
        ports.removeIf(x -> x.name().equals(p + "/" + vm));
        return cfg.withOverlay(next).withFirewall(fw.with(fw.groups(), fw.cutGroups(), ports)).withPorts(portSpecs.equals(cfg.ports()) ? cfg.ports() : portSpecs);
    }

    // ---- documents ------------------------------------------------------------------------------

    /** A project's document, or null when there is no such project. */
    static ObjectNode project(SluiceConfig cfg, String p) {
        int at = index(cfg.overlay(), p);
        if (at < 0) return null;
        OverlayModel.Network n = cfg.overlay().networks().get(at);
        ObjectNode o = GroupCodec.JSON.createObjectNode();
        o.put("name", n.name());
        o.put("cidr", ConfigLoader.formatIpv4(n.cidr()) + "/" + n.prefix());
        o.put("vni", n.vni());
        ArrayNode s = o.putArray("subnets");
        for (OverlayModel.Subnet sn : n.subnets()) {
            ObjectNode j = s.addObject();
            j.put("name", sn.name());
            j.put("cidr", ConfigLoader.formatIpv4(sn.cidr()) + "/" + sn.prefix());
            j.put("gateway", ConfigLoader.formatIpv4(sn.gateway()));
        }
        ArrayNode v = o.putArray("vms");
        for (OverlayModel.Vm vm : n.vms()) v.add(vm.name());
        return o;
    }

    /** A VM's document, or null when the project has no such VM. */
    static ObjectNode vm(SluiceConfig cfg, String p, String vm) {
        int at = index(cfg.overlay(), p);
        if (at < 0) return null;
        for (OverlayModel.Vm v : cfg.overlay().networks().get(at).vms()) {
            if (!v.name().equals(vm)) continue;
            ObjectNode o = GroupCodec.JSON.createObjectNode();
            o.put("project", p);
            o.put("name", vm);
            o.put("subnet", v.subnet());
            o.put("mac", ConfigLoader.formatMac(v.mac()));
            o.put("ipv4", ConfigLoader.formatIpv4(v.ipv4()));
            if (v.ipv6() != null) o.put("ipv6", v.ipv6().toString());
            if (v.isLocal()) o.putObject("port").put("device", cfg.ports().get(v.localPort()).devargs()).put("name", cfg.ports().get(v.localPort()).name());
            else o.put("remote_vtep", ConfigLoader.formatIpv4(v.remoteVtep()));
            o.put("public_access", switch (v.access()) {
                case PRIVATE -> "private";
                case OUTBOUND -> "outbound-only";
                case FLOATING -> "floating-ip " + ConfigLoader.formatIpv4(v.floatingIp());
            });
            ArrayNode g = o.putArray("security_groups");
            for (FirewallConfig.VmPort fp : cfg.firewall().vmPorts()) {
                if (fp.name().equals(p + "/" + vm)) for (String id : fp.groups()) g.add(id.substring(p.length() + 1));
            }
            return o;
        }
        return null;
    }

    // ---- helpers --------------------------------------------------------------------------------

    static int index(OverlayModel m, String p) {
        if (isTombstone(p)) return -1;
        for (int i = 0; i < m.networks().size(); i++) if (m.networks().get(i).name().equals(p)) return i;
        return -1;
    }

    /** Whether network {@code name} is the tombstone of a deleted project (it keeps the zones after it in place). */
    static boolean isTombstone(String name) {
        return name.startsWith("-");
    }

    /**
     * The tombstone of network {@code at}: named {@code -<zone>}, no VMs, its subnets kept, and a VNI no
     * network uses, counted down from the top (its own is free for a new project; packets with the
     * tombstone's VNI reach a zone without VMs and are dropped).
     */
    private static OverlayModel.Network tombstone(OverlayModel m, int at) {
        OverlayModel.Network n = m.networks().get(at);
        Set<Integer> used = new java.util.HashSet<>();
        for (OverlayModel.Network x : m.networks()) used.add(x.vni());
        int vni = (1 << 24) - 1;
        while (used.contains(vni)) vni--;
        return new OverlayModel.Network("-" + (at + 1), vni, n.cidr(), n.prefix(), n.subnets(), List.of());
    }

    /** The data-plane port whose device is {@code device} and that no other VM uses (409 if one does); -1 when no port has it. */
    private static int localPort(SluiceConfig cfg, String device, String p, String vm) throws ApiException {
        for (int i = 0; i < cfg.ports().size(); i++) {
            if (device.isEmpty() || !cfg.ports().get(i).devargs().equals(device)) continue;
            if (i == cfg.overlay().host().uplinkPort()) throw ApiException.invalid("port.device", "'" + GroupCodec.clip(device) + "' is the uplink");
            for (OverlayModel.Network n : cfg.overlay().networks()) {
                for (OverlayModel.Vm v : n.vms()) {
                    if (v.localPort() == i && !(n.name().equals(p) && v.name().equals(vm))) {
                        throw ApiException.conflict("port.device: '" + GroupCodec.clip(device) + "' is VM " + n.name() + "/" + v.name() + "'s port");
                    }
                }
            }
            return i;
        }
        return -1;
    }

    /** The model, validated; 400 naming the body field of the model's first problem. */
    private static OverlayModel validated(OverlayModel m, String p) throws ApiException {
        try {
            m.validate();
            return m;
        } catch (OverlayModelException e) {
            throw ApiException.invalid(field(e.path()), e.reason());
        }
    }

    /** {@code overlay.networks[1].vms[0].ip} → {@code ipv4}; {@code overlay.networks[2].subnets[0].cidr} → {@code subnets[0].cidr}. */
    static String field(String path) {
        String f = path.replaceFirst("^overlay\\.networks\\[\\d+\\]\\.?", "").replaceFirst("^vms\\[\\d+\\]\\.?", "");
        return switch (f) {
            case "" -> "body";
            case "ip" -> "ipv4";
            case "ip6" -> "ipv6";
            case "port", "vtep" -> "port";
            default -> f;
        };
    }

    private static int ipv4(String s, String path) throws ApiException {
        long v = ConfigLoader.parseIpv4(s);
        if (v < 0) throw ApiException.invalid(path, "'" + GroupCodec.clip(s) + "' is not an IPv4 address like 10.0.1.10");
        return (int) v;
    }

    private static int[] cidr(String s, String path) throws ApiException {
        String[] parts = s.split("/", 2);
        long a = ConfigLoader.parseIpv4(parts[0]);
        if (parts.length != 2 || a < 0 || !parts[1].matches("[0-9]{1,2}") || Integer.parseInt(parts[1]) > 32) {
            throw ApiException.invalid(path, "'" + GroupCodec.clip(s) + "' is not an IPv4 prefix like 10.0.0.0/16");
        }
        return new int[] {(int) a, Integer.parseInt(parts[1])};
    }

}
