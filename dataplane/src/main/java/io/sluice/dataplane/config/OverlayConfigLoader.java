package io.sluice.dataplane.config;

import org.snakeyaml.engine.v2.nodes.Node;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads the {@code overlay:} section of the configuration (format: docs/overlay.md) into an
 * {@link OverlayModel} and validates it. Same style as {@link ConfigLoader}: every problem is a
 * {@link ConfigException} "file:line: key.path: what is wrong"; unknown keys are errors; model
 * errors found by {@link OverlayModel#validate()} are reported at the line of the offending key.
 *
 * <pre>
 * overlay:
 *   uplink: up0                 # port name (or index)
 *   underlay-ip: 192.168.50.1/24
 *   underlay-mac: "02:00:00:00:aa:01"
 *   underlay-gateway: 192.168.50.254   # optional: VTEPs off the underlay subnet
 *   next-hop-mac: "02:..."      # optional: static next hop, else ARP
 *   underlay-mtu: 1500          # default 1500
 *   router-mac: "02:00:00:00:ff:01"
 *   networks:
 *     - name: blue
 *       vni: 100
 *       cidr: 10.0.0.0/16
 *       subnets:
 *         - {name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1, cidr6: "fd00:1:1::/64", gateway6: "fd00:1:1::1"}
 *       vms:
 *         - {name: vm1, subnet: a, mac: "02:00:00:00:01:01", ip: 10.0.1.10, ip6: "fd00:1:1::10", port: vm1}
 *         - {name: vm2, subnet: a, mac: "02:00:00:00:01:02", ip: 10.0.1.11, vtep: 192.168.50.2}
 * </pre>
 */
public final class OverlayConfigLoader {
    private static final Set<String> TOP_KEYS = Set.of("overlay");
    private static final Set<String> HOST_KEYS = Set.of("uplink", "underlay-ip", "underlay-mac", "underlay-gateway",
            "next-hop-mac", "underlay-mtu", "router-mac", "networks", "external");
    private static final Set<String> EXTERNAL_KEYS = Set.of("port", "mac", "subnet", "gateway", "gateway-mac",
            "floating-ips", "snat-addresses", "port-block", "blocks-per-vm", "gateway6");
    /** Default SNAT port-block size and most blocks per VM. */
    static final int DEFAULT_PORT_BLOCK = 64, DEFAULT_BLOCKS_PER_VM = 16;
    private static final Set<String> NET_KEYS = Set.of("name", "vni", "cidr", "subnets", "vms");
    private static final Set<String> SUBNET_KEYS = Set.of("name", "cidr", "gateway", "cidr6", "gateway6");
    private static final Set<String> VM_KEYS = Set.of("name", "subnet", "mac", "ip", "ip6", "port", "vtep", "public");

    private final String file;
    private final Map<String, Integer> ports;
    /** key path → node, to place model errors on a line. */
    private final Map<String, Node> nodes = new HashMap<>();
    private final Yaml y;

    private OverlayConfigLoader(String file, Map<String, Integer> ports) {
        this.file = file;
        this.ports = ports;
        this.y = new Yaml(file, nodes::put);
    }

    /**
     * Parses the value node of the {@code overlay:} key of a configuration already composed by
     * the main loader. {@code ports} maps port names to indices (a VM's {@code port} and the
     * {@code uplink} name a port, or give its index).
     */
    public static OverlayModel parse(String file, Node overlayNode, Map<String, Integer> ports) throws ConfigException {
        return new OverlayConfigLoader(file, ports).build(overlayNode);
    }

    /** Parses text whose top level holds one key, {@code overlay:}. */
    public static OverlayModel parseText(String file, String text, Map<String, Integer> ports) throws ConfigException {
        OverlayConfigLoader l = new OverlayConfigLoader(file, ports);
        Optional<Node> root = l.y.compose(text);
        if (root.isEmpty()) {
            throw new ConfigException(file + ":1: the file is empty; it needs 'overlay'");
        }
        Map<String, Node> top = l.y.mapping(root.get(), Yaml.TOP, TOP_KEYS);
        if (!top.containsKey("overlay")) {
            throw new ConfigException(file + ":1: overlay: missing");
        }
        return l.build(top.get("overlay"));
    }

    private OverlayModel build(Node n) throws ConfigException {
        Map<String, Node> h = y.mapping(n, "overlay", HOST_KEYS);
        int uplink = portRef(req(h, n, "overlay", "uplink"), "overlay.uplink");
        Node ipNode = req(h, n, "overlay", "underlay-ip");
        int[] under = cidr(ipNode, "overlay.underlay-ip", false);
        long umac = y.mac(req(h, n, "overlay", "underlay-mac"), "overlay.underlay-mac");
        int gw = h.containsKey("underlay-gateway") ? y.ipv4(h.get("underlay-gateway"), "overlay.underlay-gateway") : 0;
        long nh = h.containsKey("next-hop-mac") ? y.mac(h.get("next-hop-mac"), "overlay.next-hop-mac") : -1;
        int mtu = h.containsKey("underlay-mtu") ? y.intIn(h.get("underlay-mtu"), "overlay.underlay-mtu", 0, 65535) : 1500;
        long rmac = y.mac(req(h, n, "overlay", "router-mac"), "overlay.router-mac");
        List<OverlayModel.Network> nets = new ArrayList<>();
        if (h.containsKey("networks")) {
            List<Node> nn = y.sequence(h.get("networks"), "overlay.networks");
            for (int i = 0; i < nn.size(); i++) {
                nets.add(network(nn.get(i), "overlay.networks[" + i + "]"));
            }
        }
        OverlayModel.External ext = h.containsKey("external") ? external(h.get("external"), "overlay.external") : null;
        OverlayModel model = new OverlayModel(
                new OverlayModel.Host(uplink, under[0], under[1], umac, gw, nh, mtu, rmac), List.copyOf(nets), ext);
        try {
            model.validate();
        } catch (OverlayModelException e) {
            Node at = nodes.get(e.path());
            String p = e.path();
            while (at == null && p.contains(".")) {
                p = p.substring(0, p.lastIndexOf('.'));
                at = nodes.get(p);
            }
            throw new ConfigException(file + ":" + Yaml.line(at == null ? n : at) + ": " + e.path() + ": " + e.reason());
        }
        return model;
    }

    private OverlayModel.Network network(Node n, String key) throws ConfigException {
        Map<String, Node> m = y.mapping(n, key, NET_KEYS);
        String name = y.scalar(req(m, n, key, "name"), key + ".name");
        int vni = y.intIn(req(m, n, key, "vni"), key + ".vni", Integer.MIN_VALUE, Integer.MAX_VALUE);
        int[] c = cidr(req(m, n, key, "cidr"), key + ".cidr", true);
        List<OverlayModel.Subnet> subnets = new ArrayList<>();
        if (m.containsKey("subnets")) {
            List<Node> sn = y.sequence(m.get("subnets"), key + ".subnets");
            for (int i = 0; i < sn.size(); i++) {
                subnets.add(subnet(sn.get(i), key + ".subnets[" + i + "]"));
            }
        }
        List<OverlayModel.Vm> vms = new ArrayList<>();
        if (m.containsKey("vms")) {
            List<Node> vn = y.sequence(m.get("vms"), key + ".vms");
            for (int i = 0; i < vn.size(); i++) {
                vms.add(vm(vn.get(i), key + ".vms[" + i + "]"));
            }
        }
        return new OverlayModel.Network(name, vni, c[0], c[1], List.copyOf(subnets), List.copyOf(vms));
    }

    private OverlayModel.External external(Node n, String key) throws ConfigException {
        Map<String, Node> m = y.mapping(n, key, EXTERNAL_KEYS);
        int port = portRef(req(m, n, key, "port"), key + ".port");
        long mac = y.mac(req(m, n, key, "mac"), key + ".mac");
        int[] c = cidr(req(m, n, key, "subnet"), key + ".subnet", true);
        int gw = y.ipv4(req(m, n, key, "gateway"), key + ".gateway");
        long gwMac = m.containsKey("gateway-mac") ? y.mac(m.get("gateway-mac"), key + ".gateway-mac") : -1;
        List<Integer> fips = m.containsKey("floating-ips") ? addresses(m.get("floating-ips"), key + ".floating-ips") : List.of();
        List<Integer> snat = m.containsKey("snat-addresses") ? addresses(m.get("snat-addresses"), key + ".snat-addresses") : List.of();
        int block = m.containsKey("port-block") ? y.intIn(m.get("port-block"), key + ".port-block", Integer.MIN_VALUE, Integer.MAX_VALUE)
                : DEFAULT_PORT_BLOCK;
        int perVm = m.containsKey("blocks-per-vm") ? y.intIn(m.get("blocks-per-vm"), key + ".blocks-per-vm", Integer.MIN_VALUE, Integer.MAX_VALUE)
                : DEFAULT_BLOCKS_PER_VM;
        OverlayModel.Ip6 gw6 = m.containsKey("gateway6") ? ip6(m.get("gateway6"), key + ".gateway6") : null;
        return new OverlayModel.External(port, mac, c[0], c[1], gw, gwMac, fips, snat, block, perVm, gw6);
    }

    /** A list of IPv4 addresses and inclusive ranges "a.b.c.d-a.b.c.e"; each element's node is kept for errors. */
    private List<Integer> addresses(Node n, String key) throws ConfigException {
        List<Node> items = y.sequence(n, key);
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            Node item = items.get(i);
            String s = y.scalar(item, key + "[" + i + "]");
            String[] range = s.split("-", 2);
            long lo = ConfigLoader.parseIpv4(range[0].trim());
            long hi = range.length == 2 ? ConfigLoader.parseIpv4(range[1].trim()) : lo;
            if (lo < 0 || hi < 0) {
                throw y.error(item, key + "[" + i + "]", "'" + s + "' is not an IPv4 address or range like 203.0.113.10-203.0.113.20");
            }
            if (hi < lo || hi - lo >= OverlayModel.MAX_FLOATING_IPS) {
                throw y.error(item, key + "[" + i + "]", "'" + s + "' is not a range of 1.." + OverlayModel.MAX_FLOATING_IPS + " addresses");
            }
            for (long a = lo; a <= hi; a++) {
                nodes.put(key + "[" + out.size() + "]", item);
                out.add((int) a);
            }
        }
        return List.copyOf(out);
    }

    private OverlayModel.Subnet subnet(Node n, String key) throws ConfigException {
        Map<String, Node> m = y.mapping(n, key, SUBNET_KEYS);
        String name = y.scalar(req(m, n, key, "name"), key + ".name");
        int[] c = cidr(req(m, n, key, "cidr"), key + ".cidr", true);
        int gw = y.ipv4(req(m, n, key, "gateway"), key + ".gateway");
        OverlayModel.Ip6 c6 = null;
        int p6 = 0;
        if (m.containsKey("cidr6")) {
            String s = y.scalar(m.get("cidr6"), key + ".cidr6");
            String[] parts = s.split("/", 2);
            c6 = parts.length == 2 ? OverlayModel.Ip6.parse(parts[0]) : null;
            if (c6 == null || !parts[1].matches("[0-9]{1,3}")) {
                throw y.error(m.get("cidr6"), key + ".cidr6", "'" + s + "' is not an IPv6 prefix like fd00:1:1::/64");
            }
            p6 = Integer.parseInt(parts[1]);
        }
        OverlayModel.Ip6 gw6 = m.containsKey("gateway6") ? ip6(m.get("gateway6"), key + ".gateway6") : null;
        return new OverlayModel.Subnet(name, c[0], c[1], gw, c6, p6, gw6);
    }

    private OverlayModel.Vm vm(Node n, String key) throws ConfigException {
        Map<String, Node> m = y.mapping(n, key, VM_KEYS);
        String name = y.scalar(req(m, n, key, "name"), key + ".name");
        String subnet = y.scalar(req(m, n, key, "subnet"), key + ".subnet");
        long mac = y.mac(req(m, n, key, "mac"), key + ".mac");
        int ip = y.ipv4(req(m, n, key, "ip"), key + ".ip");
        OverlayModel.Ip6 ip6 = m.containsKey("ip6") ? ip6(m.get("ip6"), key + ".ip6") : null;
        if (m.containsKey("port") == m.containsKey("vtep")) {
            throw y.error(n, key + ".port", "give exactly one of 'port' (local VM) or 'vtep' (remote host)");
        }
        int port = m.containsKey("port") ? portRef(m.get("port"), key + ".port") : -1;
        int vtep = m.containsKey("vtep") ? y.ipv4(m.get("vtep"), key + ".vtep") : 0;
        if (m.containsKey("vtep")) {
            nodes.put(key + ".port", m.get("vtep"));
        }
        OverlayModel.Access access = OverlayModel.Access.PRIVATE;
        int fip = 0;
        if (m.containsKey("public")) {
            String pub = y.scalar(m.get("public"), key + ".public");
            if (pub.equals("outbound")) {
                access = OverlayModel.Access.OUTBOUND;
            } else if (!pub.equals("private")) {
                long a = ConfigLoader.parseIpv4(pub);
                if (a < 0) {
                    throw y.error(m.get("public"), key + ".public", "'" + pub
                            + "' is not 'private', 'outbound' or a floating IP like 203.0.113.10");
                }
                access = OverlayModel.Access.FLOATING;
                fip = (int) a;
            }
        }
        return new OverlayModel.Vm(name, subnet, mac, ip, ip6, port, vtep, access, fip);
    }

    // ------------------------------------------------------------------------------------------

    private int portRef(Node n, String key) throws ConfigException {
        String s = y.scalar(n, key);
        Integer p = ports.get(s);
        if (p != null) {
            return p;
        }
        if (s.matches("[0-9]{1,4}")) {
            return Integer.parseInt(s);
        }
        throw y.error(n, key, "no port named '" + s + "' (ports: " + new TreeSet<>(ports.keySet()) + ")");
    }

    private Node req(Map<String, Node> m, Node owner, String key, String field) throws ConfigException {
        Node n = m.get(field);
        if (n == null) {
            throw y.error(owner, key + "." + field, "missing");
        }
        return n;
    }

    private OverlayModel.Ip6 ip6(Node n, String key) throws ConfigException {
        String s = y.scalar(n, key);
        OverlayModel.Ip6 v = OverlayModel.Ip6.parse(s);
        if (v == null) {
            throw y.error(n, key, "'" + s + "' is not an IPv6 address like fd00:1:1::10");
        }
        return v;
    }

    /** "a.b.c.d/len" → {addr, len}; {@code strict}: host bits are checked later by validation. */
    private int[] cidr(Node n, String key, boolean strict) throws ConfigException {
        String s = y.scalar(n, key);
        String[] parts = s.split("/", 2);
        long a = ConfigLoader.parseIpv4(parts[0]);
        if (parts.length != 2 || a < 0 || !parts[1].matches("[0-9]{1,2}")) {
            throw y.error(n, key, "'" + s + "' is not an IPv4 prefix like 10.0.0.0/16");
        }
        return new int[] {(int) a, Integer.parseInt(parts[1])};
    }

}
