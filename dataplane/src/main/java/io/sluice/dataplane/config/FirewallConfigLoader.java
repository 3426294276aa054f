package io.sluice.dataplane.config;

import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.PlatformLayer;
import io.sluice.rules.model.Protocols;
import io.sluice.rules.model.RuleValidationException;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.SgRule;
import org.snakeyaml.engine.v2.nodes.Node;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Parses the {@code security-groups:} section (format in docs/firewall.md) in the style of
 * {@link io.sluice.dataplane.config.ConfigLoader}: every problem is one {@link ConfigException}
 * {@code file:line: security-groups.groups[1].rules[0].ports: 70000 is out of range 1..65535}.
 * Unknown keys are errors. Control path only.
 */
public final class FirewallConfigLoader {
    /** The top-level key. */
    public static final String KEY = "security-groups";

    private static final Set<String> SECTION_KEYS = Set.of("groups", "vm-ports", "platform", "max-connections", "max-connections-per-vm",
            "max-fragment-datagrams", "fragment-timeout-ms", "tcp-pickup", "conntrack-dir");
    private static final Set<String> GROUP_KEYS = Set.of("name", "on-rule-change", "rules");
    private static final Set<String> RULE_KEYS = Set.of("id", "direction", "protocol", "ports", "icmp-type", "icmp-code", "remote", "remote-group", "family");
    private static final Set<String> VM_KEYS = Set.of("port", "vm", "addresses", "groups", "zone");
    private static final Set<String> PLATFORM_KEYS = Set.of("exemptions");
    private static final Set<String> EXEMPT_KEYS = Set.of("rule", "ports");

    private final Yaml y;

    private FirewallConfigLoader(String file) { this.y = new Yaml(file); }

    /**
     * Parses the section node of a configuration file.
     *
     * @param file      file name for messages
     * @param node      the value of the {@code security-groups} key
     * @param portIndex data-plane port name to index
     */
    public static FirewallConfig parse(String file, Node node, Map<String, Integer> portIndex) throws ConfigException {
        return parse(file, node, portIndex, null);
    }

    /**
     * Parses the section node next to an {@code overlay:} section (null: none). With an overlay,
     * {@code vm-ports} entries name an overlay VM ({@code port:} the data-plane port of a local VM,
     * or {@code vm: network/name}, local or remote); the VM's addresses and zone (its network) come
     * from the overlay; every VM not listed is in {@code default}; groups are instantiated per
     * network (see {@link OverlayScope}).
     */
    public static FirewallConfig parse(String file, Node node, Map<String, Integer> portIndex, OverlayModel overlay) throws ConfigException {
        return new FirewallConfigLoader(file).section(node, portIndex, overlay);
    }

    /**
     * Parses the {@code security-groups} section of a whole configuration text against the ports
     * and VMs of {@code cfg} (a running value, not the text's own); null when absent. A whole file
     * is parsed once by {@link io.sluice.dataplane.config.ConfigLoader} into its value.
     */
    public static FirewallConfig parseDocument(String file, String text, SluiceConfig cfg) throws ConfigException {
        Node section = Yaml.section(new Yaml(file).compose(text), KEY);
        if (section == null) return null;
        Map<String, Integer> portIndex = new HashMap<>();
        for (int i = 0; i < cfg.ports().size(); i++) portIndex.put(cfg.ports().get(i).name(), i);
        return parse(file, section, portIndex, cfg.overlay());
    }

    // ------------------------------------------------------------------------------------------

    private FirewallConfig section(Node node, Map<String, Integer> portIndex, OverlayModel overlay) throws ConfigException {
        OverlayScope scope = overlay == null ? null : new OverlayScope(overlay, portIndex);
        Map<String, Node> top = y.mapping(node, KEY, SECTION_KEYS);
        int maxConn = top.containsKey("max-connections") ? y.intIn(top.get("max-connections"), KEY + ".max-connections", 1, 50_000_000) : 262_144;
        int perVm = top.containsKey("max-connections-per-vm")
                ? y.intIn(top.get("max-connections-per-vm"), KEY + ".max-connections-per-vm", 1, 50_000_000) : 65_536;
        if (perVm > maxConn) throw y.error(top.get("max-connections-per-vm"), KEY + ".max-connections-per-vm", perVm + " is above max-connections " + maxConn);
        int frags = top.containsKey("max-fragment-datagrams")
                ? y.intIn(top.get("max-fragment-datagrams"), KEY + ".max-fragment-datagrams", 1, 1_000_000) : FirewallConfig.DEFAULT_MAX_FRAGMENT_DATAGRAMS;
        int fragMs = top.containsKey("fragment-timeout-ms")
                ? y.intIn(top.get("fragment-timeout-ms"), KEY + ".fragment-timeout-ms", 1, 60_000) : FirewallConfig.DEFAULT_FRAGMENT_TIMEOUT_MS;
        boolean pickup = true;
        if (top.containsKey("tcp-pickup")) {
            String v = y.scalar(top.get("tcp-pickup"), KEY + ".tcp-pickup");
            if (!v.equals("true") && !v.equals("false")) throw y.error(top.get("tcp-pickup"), KEY + ".tcp-pickup", "'" + v + "' is not true or false");
            pickup = v.equals("true");
        }
        // the default can be moved by -Dsluice.conntrack.dir (test JVMs: one directory each, docs/conntrack.md)
        String ctDir = System.getProperty("sluice.conntrack.dir", FirewallConfig.DEFAULT_CONNTRACK_DIR);
        if (top.containsKey("conntrack-dir")) {
            String v = y.scalar(top.get("conntrack-dir"), KEY + ".conntrack-dir");
            if (v.equals("off")) ctDir = null;
            else if (v.startsWith("/") && !v.contains("\0")) ctDir = v;
            else throw y.error(top.get("conntrack-dir"), KEY + ".conntrack-dir", "'" + v + "' is not an absolute directory or off");
        }

        // ---- groups (rules parsed after all names are known, for remote-group checks) ----
        Map<String, SecurityGroup> groups = new LinkedHashMap<>();
        Map<String, Boolean> cut = new LinkedHashMap<>();
        List<Node> gNodes = top.containsKey("groups") ? y.sequence(top.get("groups"), KEY + ".groups") : List.of();
        for (int i = 0; i < gNodes.size(); i++) {
            String key = KEY + ".groups[" + i + "]";
            Map<String, Node> g = y.mapping(gNodes.get(i), key, GROUP_KEYS);
            if (!g.containsKey("name")) throw y.error(gNodes.get(i), key + ".name", "missing");
            String name = y.scalar(g.get("name"), key + ".name");
            if (!name.matches("[A-Za-z0-9_.-]{1,64}")) throw y.error(g.get("name"), key + ".name", "'" + name + "' is not 1-64 of [A-Za-z0-9_.-]");
            if (groups.containsKey(name)) throw y.error(g.get("name"), key + ".name", "group '" + name + "' defined twice");
            groups.put(name, null);
        }
        Set<String> known = new HashSet<>(groups.keySet());
        known.add(FirewallConfig.DEFAULT_GROUP);
        for (int i = 0; i < gNodes.size(); i++) {
            String key = KEY + ".groups[" + i + "]";
            Map<String, Node> g = y.mapping(gNodes.get(i), key, GROUP_KEYS);
            String name = y.scalar(g.get("name"), key + ".name");
            boolean c = false;
            if (g.containsKey("on-rule-change")) {
                String v = y.scalar(g.get("on-rule-change"), key + ".on-rule-change");
                if (v.equals("cut")) c = true;
                else if (!v.equals("keep")) throw y.error(g.get("on-rule-change"), key + ".on-rule-change", "'" + v + "' is not keep or cut");
            }
            List<SgRule> rules = new ArrayList<>();
            List<Node> rNodes = g.containsKey("rules") ? y.sequence(g.get("rules"), key + ".rules") : List.of();
            Set<String> ids = new HashSet<>();
            for (int r = 0; r < rNodes.size(); r++) {
                SgRule rule = rule(rNodes.get(r), key + ".rules[" + r + "]", name, r, known);
                if (!ids.add(rule.id())) throw y.error(rNodes.get(r), key + ".rules[" + r + "].id", "rule id '" + rule.id() + "' used twice in group " + name);
                rules.add(rule);
            }
            groups.put(name, new SecurityGroup(name, rules));
            cut.put(name, c);
        }
        if (!groups.containsKey(FirewallConfig.DEFAULT_GROUP)) {
            groups.put(FirewallConfig.DEFAULT_GROUP, SecurityGroup.defaultGroup(FirewallConfig.DEFAULT_GROUP));
            cut.put(FirewallConfig.DEFAULT_GROUP, false);
        }

        // ---- VM ports ----
        List<FirewallConfig.VmPort> vms = new ArrayList<>();
        Set<Integer> seenPorts = new HashSet<>();
        Map<String, String> owner = new HashMap<>();
        List<Node> vNodes = top.containsKey("vm-ports") ? y.sequence(top.get("vm-ports"), KEY + ".vm-ports") : List.of();
        for (int i = 0; i < vNodes.size(); i++) {
            String key = KEY + ".vm-ports[" + i + "]";
            Map<String, Node> v = y.mapping(vNodes.get(i), key, VM_KEYS);
            if (scope != null) {
                OverlayScope.VmRef ref = overlayVm(v, vNodes.get(i), key, scope);
                if (!scope.list(ref)) throw y.error(v.containsKey("vm") ? v.get("vm") : v.get("port"), key + (v.containsKey("vm") ? ".vm" : ".port"), "VM " + ref.id() + " listed twice");
                vms.add(scope.vmPort(ref, groupList(v, key, groups)));
                continue;
            }
            if (v.containsKey("vm")) throw y.error(v.get("vm"), key + ".vm", "only with an 'overlay' section (VMs are named network/vm there); use port");
            if (!v.containsKey("port")) throw y.error(vNodes.get(i), key + ".port", "missing");
            String pname = y.scalar(v.get("port"), key + ".port");
            Integer pi = portIndex.get(pname);
            if (pi == null) throw y.error(v.get("port"), key + ".port", "no port named '" + pname + "' (ports: " + new TreeSet<>(portIndex.keySet()) + ")");
            if (!seenPorts.add(pi)) throw y.error(v.get("port"), key + ".port", "port '" + pname + "' listed twice");
            if (!v.containsKey("addresses")) throw y.error(vNodes.get(i), key + ".addresses", "missing: the VM's IPv4/IPv6 addresses (remote-group rules expand to them)");
            List<IpPrefix> addrs = new ArrayList<>();
            List<Node> aNodes = y.sequence(v.get("addresses"), key + ".addresses");
            for (int a = 0; a < aNodes.size(); a++) {
                String s = y.scalar(aNodes.get(a), key + ".addresses[" + a + "]");
                IpPrefix p;
                try {
                    p = IpPrefix.parse(s.contains("/") ? s : s + (s.contains(":") ? "/128" : "/32"));
                } catch (RuntimeException e) {
                    throw y.error(aNodes.get(a), key + ".addresses[" + a + "]", "'" + s + "' is not an IPv4/IPv6 address: " + e.getMessage());
                }
                if (p.length() != p.family().bits()) throw y.error(aNodes.get(a), key + ".addresses[" + a + "]", "'" + s + "' is not a host address (/32 or /128)");
                String prev = owner.putIfAbsent(s, pname);
                if (prev != null) throw y.error(aNodes.get(a), key + ".addresses[" + a + "]", s + " already belongs to port " + prev);
                addrs.add(p);
            }
            List<String> gl = groupList(v, key, groups);
            int zone = v.containsKey("zone") ? y.intIn(v.get("zone"), key + ".zone", 1, Integer.MAX_VALUE) : 1;
            vms.add(new FirewallConfig.VmPort(pi, pname, addrs, gl, zone));
        }

        if (scope != null) vms.addAll(scope.unlistedInDefault());

        // ---- platform layer ----
        PlatformLayer platform = PlatformLayer.defaults();
        if (top.containsKey("platform")) {
            Map<String, Node> pl = y.mapping(top.get("platform"), KEY + ".platform", PLATFORM_KEYS);
            if (pl.containsKey("exemptions")) {
                List<Node> en = y.sequence(pl.get("exemptions"), KEY + ".platform.exemptions");
                Set<String> platformIds = new HashSet<>();
                for (SgRule r : platform.denies()) platformIds.add(r.id());
                for (int i = 0; i < en.size(); i++) {
                    String key = KEY + ".platform.exemptions[" + i + "]";
                    Map<String, Node> e = y.mapping(en.get(i), key, EXEMPT_KEYS);
                    if (!e.containsKey("rule")) throw y.error(en.get(i), key + ".rule", "missing");
                    String rid = y.scalar(e.get("rule"), key + ".rule");
                    if (!platformIds.contains(rid)) throw y.error(e.get("rule"), key + ".rule", "no platform rule '" + rid + "' (platform rules: " + new TreeSet<>(platformIds) + ")");
                    if (!e.containsKey("ports")) throw y.error(en.get(i), key + ".ports", "missing");
                    List<Node> pn = y.sequence(e.get("ports"), key + ".ports");
                    for (int p = 0; p < pn.size(); p++) {
                        String pname = y.scalar(pn.get(p), key + ".ports[" + p + "]");
                        String iface;
                        if (scope != null) {
                            OverlayScope.VmRef ref = scope.find(pname);
                            if (ref == null) throw y.error(pn.get(p), key + ".ports[" + p + "]", "'" + pname + "' is no overlay VM (a local VM's port or network/vm; " + scope.known() + ")");
                            iface = ref.id();
                        } else {
                            boolean isVm = vms.stream().anyMatch(x -> x.name().equals(pname));
                            if (!isVm) throw y.error(pn.get(p), key + ".ports[" + p + "]", "'" + pname + "' is not a VM port listed in vm-ports");
                            iface = pname;
                        }
                        platform = platform.withExemption(rid, iface);
                    }
                }
            }
        }
        if (scope != null) return scope.perNetwork(groups, cut, vms, platform, maxConn, perVm, frags, fragMs, pickup, ctDir);
        return new FirewallConfig(groups, cut, vms, platform, maxConn, perVm, frags, fragMs, pickup, ctDir);
    }

    /** A VM port's {@code groups} (default: [default]): known, each once, at most 5. */
    private List<String> groupList(Map<String, Node> v, String key, Map<String, SecurityGroup> groups) throws ConfigException {
        List<String> gl = new ArrayList<>();
        if (!v.containsKey("groups")) {
            gl.add(FirewallConfig.DEFAULT_GROUP);
            return gl;
        }
        List<Node> gn = y.sequence(v.get("groups"), key + ".groups");
        for (int g = 0; g < gn.size(); g++) {
            String gname = y.scalar(gn.get(g), key + ".groups[" + g + "]");
            if (!groups.containsKey(gname)) throw y.error(gn.get(g), key + ".groups[" + g + "]", "no group named '" + gname + "' (groups: " + new TreeSet<>(groups.keySet()) + ")");
            if (gl.contains(gname)) throw y.error(gn.get(g), key + ".groups[" + g + "]", "group '" + gname + "' listed twice");
            gl.add(gname);
        }
        if (gl.size() > 5) throw y.error(v.get("groups"), key + ".groups", "at most 5 groups per port (the AWS default), got " + gl.size());
        return gl;
    }

    /** The overlay VM a {@code vm-ports} entry names: {@code port:} (a local VM's port) or {@code vm: network/name}. */
    private OverlayScope.VmRef overlayVm(Map<String, Node> v, Node entry, String key, OverlayScope scope) throws ConfigException {
        for (String k : List.of("addresses", "zone")) {
            if (v.containsKey(k)) {
                throw y.error(v.get(k), key + "." + k, "not used with 'overlay': the VM's " + (k.equals("zone") ? "zone is its network" : "addresses are its ip/ip6 in overlay.networks[].vms[]"));
            }
        }
        if (v.containsKey("port") && v.containsKey("vm")) throw y.error(v.get("vm"), key + ".vm", "give port (a local VM's port) or vm (network/name), not both");
        if (v.containsKey("vm")) {
            String name = y.scalar(v.get("vm"), key + ".vm");
            OverlayScope.VmRef ref = scope.byName(name);
            if (ref == null) throw y.error(v.get("vm"), key + ".vm", "no overlay VM '" + name + "' (" + scope.known() + ")");
            return ref;
        }
        if (!v.containsKey("port")) throw y.error(entry, key + ".port", "missing: a local VM's port, or vm: network/name");
        String pname = y.scalar(v.get("port"), key + ".port");
        if (!scope.isPort(pname)) throw y.error(v.get("port"), key + ".port", "no port named '" + pname + "' (ports: " + scope.portNames() + ")");
        OverlayScope.VmRef ref = scope.byPort(pname);
        if (ref == null) throw y.error(v.get("port"), key + ".port", "port '" + pname + "' belongs to no overlay VM (" + scope.known() + ")");
        return ref;
    }

    private SgRule rule(Node n, String key, String group, int index, Set<String> groupNames) throws ConfigException {
        Map<String, Node> r = y.mapping(n, key, RULE_KEYS);
        String id = r.containsKey("id") ? y.scalar(r.get("id"), key + ".id") : "r" + index;
        if (!id.matches("[A-Za-z0-9_.-]{1,64}")) throw y.error(r.get("id"), key + ".id", "'" + id + "' is not 1-64 of [A-Za-z0-9_.-]");
        if (!r.containsKey("direction")) throw y.error(n, key + ".direction", "missing (ingress or egress)");
        String ds = y.scalar(r.get("direction"), key + ".direction");
        Direction dir = switch (ds) {
            case "ingress", "inbound" -> Direction.INGRESS;
            case "egress", "outbound" -> Direction.EGRESS;
            default -> throw y.error(r.get("direction"), key + ".direction", "'" + ds + "' is not ingress or egress");
        };
        int proto = Protocols.ANY;
        if (r.containsKey("protocol")) {
            String ps = y.scalar(r.get("protocol"), key + ".protocol");
            try {
                proto = Protocols.parse(ps);
            } catch (RuntimeException e) {
                throw y.error(r.get("protocol"), key + ".protocol", "'" + ps + "' is not tcp, udp, icmp, icmpv6, any or 0..255");
            }
        }
        int pmin = 0, pmax = 0;
        if (r.containsKey("ports")) {
            String s = y.scalar(r.get("ports"), key + ".ports").trim();
            String[] ab = s.split("-", -1);
            if (ab.length > 2) throw y.error(r.get("ports"), key + ".ports", "'" + s + "' is not a port or a range like 8000-8100");
            pmin = portNum(r.get("ports"), key + ".ports", ab[0]);
            pmax = ab.length == 2 ? portNum(r.get("ports"), key + ".ports", ab[1]) : pmin;
            if (pmin > pmax) throw y.error(r.get("ports"), key + ".ports", "reversed range " + s);
            if (!Protocols.hasPorts(proto)) throw y.error(r.get("ports"), key + ".ports", "ports need protocol tcp or udp");
        }
        int itype = r.containsKey("icmp-type") ? y.intIn(r.get("icmp-type"), key + ".icmp-type", 0, 255) : -1;
        int icode = r.containsKey("icmp-code") ? y.intIn(r.get("icmp-code"), key + ".icmp-code", 0, 255) : -1;
        if (icode >= 0 && itype < 0) throw y.error(r.get("icmp-code"), key + ".icmp-code", "needs icmp-type");
        IpPrefix remote = null;
        String remoteGroup = null;
        if (r.containsKey("remote") && r.containsKey("remote-group")) throw y.error(r.get("remote-group"), key + ".remote-group", "give remote (a CIDR) or remote-group, not both");
        if (r.containsKey("remote")) {
            String s = y.scalar(r.get("remote"), key + ".remote");
            try {
                remote = IpPrefix.parse(s);
            } catch (RuntimeException e) {
                throw y.error(r.get("remote"), key + ".remote", "'" + s + "': " + e.getMessage());
            }
        }
        if (r.containsKey("remote-group")) {
            remoteGroup = y.scalar(r.get("remote-group"), key + ".remote-group");
            if (!groupNames.contains(remoteGroup)) throw y.error(r.get("remote-group"), key + ".remote-group", "no group named '" + remoteGroup + "'");
        }
        IpFamily fam = null;
        if (r.containsKey("family")) {
            String f = y.scalar(r.get("family"), key + ".family");
            fam = switch (f) {
                case "ipv4", "4" -> IpFamily.V4;
                case "ipv6", "6" -> IpFamily.V6;
                default -> throw y.error(r.get("family"), key + ".family", "'" + f + "' is not ipv4 or ipv6");
            };
        }
        if (fam == null && proto == Protocols.ICMP && remote == null) fam = IpFamily.V4;
        if (fam == null && proto == Protocols.ICMPV6 && remote == null) fam = IpFamily.V6;
        try {
            return new SgRule(group + "/" + id, dir, fam, proto, pmin, pmax, itype, icode, remote, remoteGroup);
        } catch (RuleValidationException e) {
            throw y.error(n, key + "." + e.field(), e.reason());
        }
    }

    private int portNum(Node n, String key, String s) throws ConfigException {
        int v;
        try {
            v = Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw y.error(n, key, "'" + s + "' is not a port number");
        }
        if (v < 1 || v > 65535) throw y.error(n, key, v + " is out of range 1..65535");
        return v;
    }

}
