package io.sluice.dataplane.config;


import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The tenant network model as the control side states it: the host (uplink port, underlay
 * address and MAC, MTU, the router MAC used for every gateway) and the networks, each with a
 * VNI, a CIDR, subnets and VM interfaces. Plain values; {@link #validate()} checks it and
 * {@link io.sluice.dataplane.overlay.OverlaySnapshot#compile(OverlayModel)} turns a valid model into forwarding state.
 *
 * <p>IPv4 addresses are ints (network order value), MACs the low 48 bits of a long, IPv6
 * addresses {@link Ip6} values (null when absent).
 */
public record OverlayModel(Host host, List<Network> networks, External external) {
    /** Zones (networks, the underlay, the external side) the data plane counts; OverlayMeta sizes its arrays by it. */
    public static final int MAX_ZONES = 4096;


    /** A model without an external network (every VM purely private). */
    public OverlayModel(Host host, List<Network> networks) {
        this(host, networks, null);
    }

    /** Most SNAT addresses per host. */
    public static final int MAX_SNAT_ADDRESSES = 64;
    /** Most floating IPs in the pool. */
    public static final int MAX_FLOATING_IPS = 65536;
    /** First SNAT port; ports below are never handed out. */
    public static final int SNAT_PORT_MIN = 1024;

    /**
     * The provider's external network (docs/nat.md): the port facing it, the MAC and subnet Sluice
     * uses there, the upstream gateway (its MAC static, or -1: resolved by ARP), the floating-IP pool,
     * this host's SNAT addresses, the SNAT port-block size and the most blocks one VM may hold.
     */
    public record External(int port, long mac, int cidr, int prefix, int gateway, long gatewayMac,
                           List<Integer> floatingIps, List<Integer> snatAddresses, int portBlock, int blocksPerVm,
                           Ip6 gateway6) {
        /** Without IPv6 to the outside ({@code gateway6} null). */
        public External(int port, long mac, int cidr, int prefix, int gateway, long gatewayMac,
                        List<Integer> floatingIps, List<Integer> snatAddresses, int portBlock, int blocksPerVm) {
            this(port, mac, cidr, prefix, gateway, gatewayMac, floatingIps, snatAddresses, portBlock, blocksPerVm, null);
        }

        /** Port blocks on one SNAT address: ports SNAT_PORT_MIN..65535 cut into portBlock-sized blocks. */
        public int blocksPerAddress() { return (65536 - SNAT_PORT_MIN) / portBlock; }
    }

    /** How a VM reaches outside its project: not at all, through the SNAT addresses, or with its floating IP. */
    public enum Access { PRIVATE, OUTBOUND, FLOATING }

    /** An IPv6 address as two longs. */
    public record Ip6(long hi, long lo) {
        public static Ip6 parse(String s) {
            long[] v = Net.parseIpv6(s);
            return v == null ? null : new Ip6(v[0], v[1]);
        }

        @Override
        public String toString() { return Net.formatIpv6(hi, lo); }
    }

    /**
     * This host. {@code underlayGateway} 0 = every VTEP is on the underlay subnet;
     * {@code nextHopMac} -1 = resolve by ARP, else a static next-hop MAC.
     */
    public record Host(int uplinkPort, int underlayIp, int underlayPrefix, long underlayMac, int underlayGateway,
                       long nextHopMac, int underlayMtu, long routerMac) {}

    /** A subnet; {@code cidr6}/{@code gateway6} null when the subnet has no IPv6. */
    public record Subnet(String name, int cidr, int prefix, int gateway, Ip6 cidr6, int prefix6, Ip6 gateway6) {}

    /**
     * A VM interface; exactly one of {@code localPort} (≥ 0) or {@code remoteVtep} (≠ 0). {@code access}:
     * its public access (local VMs only); {@code floatingIp} its floating IP when FLOATING (else 0).
     */
    public record Vm(String name, String subnet, long mac, int ipv4, Ip6 ipv6, int localPort, int remoteVtep,
                     Access access, int floatingIp) {
        /** A purely private VM. */
        public Vm(String name, String subnet, long mac, int ipv4, Ip6 ipv6, int localPort, int remoteVtep) {
            this(name, subnet, mac, ipv4, ipv6, localPort, remoteVtep, Access.PRIVATE, 0);
        }

        public boolean isLocal() { return localPort >= 0; }
    }

    /** A tenant network. */
    public record Network(String name, int vni, int cidr, int prefix, List<Subnet> subnets, List<Vm> vms) {}

    /**
     * This model with VM {@code network}/{@code vm}'s public access changed (for
     * {@link io.sluice.dataplane.overlay.OverlayPipeline#applyPublicAccess}); {@code floatingIp} 0 unless FLOATING. Not validated.
     */
    public OverlayModel withAccess(String network, String vm, Access access, int floatingIp) {
        return map((n, v) -> n.name.equals(network) && v.name.equals(vm)
                ? new Vm(v.name, v.subnet, v.mac, v.ipv4, v.ipv6, v.localPort, v.remoteVtep, access, floatingIp) : v);
    }

    /** This model with every VM purely private (two models that differ only in public access map to equal values). */
    public OverlayModel withoutPublicAccess() {
        return map((n, v) -> new Vm(v.name, v.subnet, v.mac, v.ipv4, v.ipv6, v.localPort, v.remoteVtep));
    }

    private OverlayModel map(java.util.function.BiFunction<Network, Vm, Vm> f) {
        List<Network> nets = new java.util.ArrayList<>();
        for (Network n : networks) {
            List<Vm> vms = new java.util.ArrayList<>();
            for (Vm v : n.vms) vms.add(f.apply(n, v));
            nets.add(new Network(n.name, n.vni, n.cidr, n.prefix, n.subnets, List.copyOf(vms)));
        }
        return new OverlayModel(host, List.copyOf(nets), external);
    }

    /** Checks the whole model; the first problem found is thrown with its field path. */
    public void validate() throws OverlayModelException {
        Host h = host;
        if (h == null) {
            throw new OverlayModelException("overlay", "missing host settings");
        }
        if (h.uplinkPort < 0) {
            throw new OverlayModelException("overlay.uplink", "must name a port");
        }
        if (h.underlayPrefix < 1 || h.underlayPrefix > 32) {
            throw new OverlayModelException("overlay.underlay-ip", "prefix /" + h.underlayPrefix + " must be 1..32");
        }
        if (h.underlayIp == 0) {
            throw new OverlayModelException("overlay.underlay-ip", "0.0.0.0 is not a host address");
        }
        unicastMac(h.underlayMac, "overlay.underlay-mac");
        unicastMac(h.routerMac, "overlay.router-mac");
        if (h.nextHopMac != -1) {
            unicastMac(h.nextHopMac, "overlay.next-hop-mac");
        }
        if (h.underlayGateway != 0 && !inPrefix(h.underlayGateway, h.underlayIp, h.underlayPrefix)) {
            throw new OverlayModelException("overlay.underlay-gateway", ip(h.underlayGateway)
                    + " is not on the underlay subnet " + ip(h.underlayIp & Net.mask(h.underlayPrefix)) + "/" + h.underlayPrefix);
        }
        if (h.underlayMtu < 1280 || h.underlayMtu > 9216) {
            throw new OverlayModelException("overlay.underlay-mtu", h.underlayMtu + " is out of range 1280..9216");
        }
        if (networks.size() >= MAX_ZONES - 1) {
            throw new OverlayModelException("overlay.networks", "at most " + (MAX_ZONES - 2) + " networks");
        }
        Map<Integer, Integer> vnis = new HashMap<>();
        Map<String, Integer> names = new HashMap<>();
        validateExternal();
        Map<Integer, String> localPorts = new HashMap<>();
        Map<Integer, String> floatingOwners = new HashMap<>();
        for (int n = 0; n < networks.size(); n++) {
            Network net = networks.get(n);
            String p = "overlay.networks[" + n + "]";
            if (net.name == null || !net.name.matches("[A-Za-z0-9_.-]{1,32}")) {
                throw new OverlayModelException(p + ".name", "'" + net.name + "' must be 1-32 letters, digits, '_', '.', '-'");
            }
            Integer prevName = names.putIfAbsent(net.name, n);
            if (prevName != null) {
                throw new OverlayModelException(p + ".name", "'" + net.name + "' is already the name of networks[" + prevName + "]");
            }
            if (net.vni < 1 || net.vni > 0xFF_FFFF) {
                throw new OverlayModelException(p + ".vni", net.vni + " is out of range 1..16777215");
            }
            Integer prevVni = vnis.putIfAbsent(net.vni, n);
            if (prevVni != null) {
                throw new OverlayModelException(p + ".vni", "VNI " + net.vni + " is already used by network '"
                        + networks.get(prevVni).name + "'");
            }
            cidr(net.cidr, net.prefix, p + ".cidr");
            Map<String, Subnet> subnets = new HashMap<>();
            for (int s = 0; s < net.subnets.size(); s++) {
                Subnet sn = net.subnets.get(s);
                String sp = p + ".subnets[" + s + "]";
                if (sn.name == null || sn.name.isBlank()) {
                    throw new OverlayModelException(sp + ".name", "missing");
                }
                if (subnets.putIfAbsent(sn.name, sn) != null) {
                    throw new OverlayModelException(sp + ".name", "'" + sn.name + "' is already a subnet of network '" + net.name + "'");
                }
                cidr(sn.cidr, sn.prefix, sp + ".cidr");
                if (sn.prefix < net.prefix || !inPrefix(sn.cidr, net.cidr, net.prefix)) {
                    throw new OverlayModelException(sp + ".cidr", cidrText(sn.cidr, sn.prefix) + " is outside network "
                            + cidrText(net.cidr, net.prefix));
                }
                if (sn.prefix > 30) {
                    throw new OverlayModelException(sp + ".cidr", "/" + sn.prefix + " leaves no room for a gateway and VMs (at most /30)");
                }
                for (int o = 0; o < s; o++) {
                    Subnet other = net.subnets.get(o);
                    int m = Math.min(other.prefix, sn.prefix);
                    if (((other.cidr ^ sn.cidr) & Net.mask(m)) == 0) {
                        throw new OverlayModelException(sp + ".cidr", cidrText(sn.cidr, sn.prefix) + " overlaps subnet '"
                                + other.name + "' " + cidrText(other.cidr, other.prefix));
                    }
                }
                hostAddress(sn.gateway, sn.cidr, sn.prefix, sp + ".gateway", "gateway");
                if ((sn.cidr6 == null) != (sn.gateway6 == null)) {
                    throw new OverlayModelException(sp + (sn.cidr6 == null ? ".cidr6" : ".gateway6"),
                            "missing: cidr6 and gateway6 go together");
                }
                if (sn.cidr6 != null) {
                    if (sn.prefix6 < 8 || sn.prefix6 > 126) {
                        throw new OverlayModelException(sp + ".cidr6", "prefix /" + sn.prefix6 + " must be 8..126");
                    }
                    if ((sn.cidr6.hi & ~Net.mask6Hi(sn.prefix6)) != 0 || (sn.cidr6.lo & ~Net.mask6Lo(sn.prefix6)) != 0) {
                        throw new OverlayModelException(sp + ".cidr6", sn.cidr6 + "/" + sn.prefix6 + " has host bits set");
                    }
                    if (!in6(sn.gateway6, sn.cidr6, sn.prefix6)) {
                        throw new OverlayModelException(sp + ".gateway6", sn.gateway6 + " is outside subnet " + sn.cidr6 + "/" + sn.prefix6);
                    }
                    for (int o = 0; o < s; o++) {
                        Subnet other = net.subnets.get(o);
                        if (other.cidr6 != null) {
                            int m = Math.min(other.prefix6, sn.prefix6);
                            if (in6(sn.cidr6, other.cidr6, m)) {
                                throw new OverlayModelException(sp + ".cidr6", sn.cidr6 + "/" + sn.prefix6 + " overlaps subnet '"
                                        + other.name + "' " + other.cidr6 + "/" + other.prefix6);
                            }
                        }
                    }
                }
            }
            Map<Long, String> macs = new HashMap<>();
            Map<Integer, String> ips = new HashMap<>();
            Map<Ip6, String> ip6s = new HashMap<>();
            Map<String, Integer> vmNames = new HashMap<>();
            for (int v = 0; v < net.vms.size(); v++) {
                Vm vm = net.vms.get(v);
                String vp = p + ".vms[" + v + "]";
                if (vm.name == null || vm.name.isBlank()) {
                    throw new OverlayModelException(vp + ".name", "missing");
                }
                if (vmNames.putIfAbsent(vm.name, v) != null) {
                    throw new OverlayModelException(vp + ".name", "'" + vm.name + "' is already a VM of network '" + net.name + "'");
                }
                Subnet sn = subnets.get(vm.subnet);
                if (sn == null) {
                    throw new OverlayModelException(vp + ".subnet", "no subnet '" + vm.subnet + "' in network '" + net.name
                            + "' (subnets: " + new java.util.TreeSet<>(subnets.keySet()) + ")");
                }
                unicastMac(vm.mac, vp + ".mac");
                if (vm.mac == h.routerMac) {
                    throw new OverlayModelException(vp + ".mac", ConfigLoader.formatMac(vm.mac) + " is the router MAC");
                }
                String prevMac = macs.putIfAbsent(vm.mac, vm.name);
                if (prevMac != null) {
                    throw new OverlayModelException(vp + ".mac", "duplicate MAC " + ConfigLoader.formatMac(vm.mac)
                            + " in network '" + net.name + "' (VM '" + prevMac + "')");
                }
                hostAddress(vm.ipv4, sn.cidr, sn.prefix, vp + ".ip", "address");
                if (vm.ipv4 == sn.gateway) {
                    throw new OverlayModelException(vp + ".ip", ip(vm.ipv4) + " is the gateway of subnet '" + sn.name + "'");
                }
                String prevIp = ips.putIfAbsent(vm.ipv4, vm.name);
                if (prevIp != null) {
                    throw new OverlayModelException(vp + ".ip", "duplicate IP " + ip(vm.ipv4) + " in network '" + net.name
                            + "' (VM '" + prevIp + "')");
                }
                if (vm.ipv6 != null) {
                    if (sn.cidr6 == null) {
                        throw new OverlayModelException(vp + ".ip6", "subnet '" + sn.name + "' has no cidr6");
                    }
                    if (!in6(vm.ipv6, sn.cidr6, sn.prefix6)) {
                        throw new OverlayModelException(vp + ".ip6", vm.ipv6 + " is outside subnet " + sn.cidr6 + "/" + sn.prefix6);
                    }
                    if (vm.ipv6.equals(sn.gateway6)) {
                        throw new OverlayModelException(vp + ".ip6", vm.ipv6 + " is the gateway of subnet '" + sn.name + "'");
                    }
                    String prev6 = ip6s.putIfAbsent(vm.ipv6, vm.name);
                    if (prev6 != null) {
                        throw new OverlayModelException(vp + ".ip6", "duplicate IP " + vm.ipv6 + " in network '" + net.name
                                + "' (VM '" + prev6 + "')");
                    }
                }
                if ((vm.localPort >= 0) == (vm.remoteVtep != 0)) {
                    throw new OverlayModelException(vp + ".port", "give exactly one of 'port' (local VM) or 'vtep' (remote host)");
                }
                if (vm.localPort >= 0) {
                    if (vm.localPort == h.uplinkPort) {
                        throw new OverlayModelException(vp + ".port", "port " + vm.localPort + " is the uplink");
                    }
                    if (vm.localPort > 4095) {
                        throw new OverlayModelException(vp + ".port", "port index " + vm.localPort + " > 4095");
                    }
                    String prevPort = localPorts.putIfAbsent(vm.localPort, net.name + "/" + vm.name);
                    if (prevPort != null) {
                        throw new OverlayModelException(vp + ".port", "port " + vm.localPort + " already belongs to VM " + prevPort);
                    }
                } else if (vm.remoteVtep == h.underlayIp) {
                    throw new OverlayModelException(vp + ".vtep", ip(vm.remoteVtep) + " is this host's own underlay address; use 'port'");
                }
                publicAccess(vm, vp, localPorts, floatingOwners, net.name);
            }
        }
        if (external != null && localPorts.containsKey(external.port)) {
            throw new OverlayModelException("overlay.external.port", "port " + external.port + " belongs to VM " + localPorts.get(external.port));
        }
    }

    private void publicAccess(Vm vm, String vp, Map<Integer, String> localPorts, Map<Integer, String> floatingOwners,
                              String netName) throws OverlayModelException {
        Access a = vm.access == null ? Access.PRIVATE : vm.access;
        if (a == Access.PRIVATE) {
            return;
        }
        if (external == null) {
            throw new OverlayModelException(vp + ".public", "needs an 'overlay.external' network");
        }
        if (!vm.isLocal()) {
            throw new OverlayModelException(vp + ".public", "only a VM on this host ('port') gets public access here;"
                    + " its own host translates for a remote VM");
        }
        if (a == Access.FLOATING) {
            if (!external.floatingIps.contains(vm.floatingIp)) {
                throw new OverlayModelException(vp + ".public", ip(vm.floatingIp) + " is not in overlay.external.floating-ips");
            }
            String prev = floatingOwners.putIfAbsent(vm.floatingIp, netName + "/" + vm.name);
            if (prev != null) {
                throw new OverlayModelException(vp + ".public", "floating IP " + ip(vm.floatingIp) + " is already VM " + prev + "'s");
            }
        }
    }

    /** The external network's own settings (before the VMs, whose floating IPs must come from its pool). */
    private void validateExternal() throws OverlayModelException {
        External e = external;
        if (e == null) {
            return;
        }
        if (e.port < 0) {
            throw new OverlayModelException("overlay.external.port", "must name a port");
        }
        if (e.port == host.uplinkPort) {
            throw new OverlayModelException("overlay.external.port", "port " + e.port
                    + " is the uplink; the external network needs a port of its own (docs/decisions.md)");
        }
        if (e.port > 4095) {
            throw new OverlayModelException("overlay.external.port", "port index " + e.port + " > 4095");
        }
        unicastMac(e.mac, "overlay.external.mac");
        cidr(e.cidr, e.prefix, "overlay.external.subnet");
        if (e.prefix > 30) {
            throw new OverlayModelException("overlay.external.subnet", "/" + e.prefix + " leaves no room for a gateway and addresses (at most /30)");
        }
        hostAddress(e.gateway, e.cidr, e.prefix, "overlay.external.gateway", "gateway");
        if (e.gatewayMac != -1) {
            unicastMac(e.gatewayMac, "overlay.external.gateway-mac");
        }
        if (e.gateway6 != null && ((e.gateway6.hi() >>> 56) == 0xFF || (e.gateway6.hi() == 0 && (e.gateway6.lo() == 0 || e.gateway6.lo() == 1)))) {
            throw new OverlayModelException("overlay.external.gateway6", e.gateway6 + " is not a unicast address of a router");
        }
        if (e.snatAddresses.size() > MAX_SNAT_ADDRESSES) {
            throw new OverlayModelException("overlay.external.snat-addresses", "at most " + MAX_SNAT_ADDRESSES + " addresses");
        }
        if (e.floatingIps.size() > MAX_FLOATING_IPS) {
            throw new OverlayModelException("overlay.external.floating-ips", "at most " + MAX_FLOATING_IPS + " addresses");
        }
        if (e.snatAddresses.isEmpty() && e.floatingIps.isEmpty()) {
            throw new OverlayModelException("overlay.external", "give 'floating-ips' or 'snat-addresses' (or both)");
        }
        Map<Integer, String> owned = new HashMap<>();
        String[] keys = {"overlay.external.snat-addresses", "overlay.external.floating-ips"};
        List<List<Integer>> lists = List.of(e.snatAddresses, e.floatingIps);
        for (int l = 0; l < 2; l++) {
            for (int k = 0; k < lists.get(l).size(); k++) {
                int a = lists.get(l).get(k);
                String path = keys[l] + "[" + k + "]";
                hostAddress(a, e.cidr, e.prefix, path, "address");
                if (a == e.gateway) {
                    throw new OverlayModelException(path, ip(a) + " is the gateway");
                }
                String prev = owned.putIfAbsent(a, path);
                if (prev != null) {
                    throw new OverlayModelException(path, ip(a) + " is already " + prev);
                }
            }
        }
        if (e.portBlock < 1 || e.portBlock > 65536 - SNAT_PORT_MIN) {
            throw new OverlayModelException("overlay.external.port-block", e.portBlock + " is out of range 1.." + (65536 - SNAT_PORT_MIN));
        }
        if (e.blocksPerVm < 1 || e.blocksPerVm > 1024) {
            throw new OverlayModelException("overlay.external.blocks-per-vm", e.blocksPerVm + " is out of range 1..1024");
        }
    }

    // ------------------------------------------------------------------------------------------

    private static void unicastMac(long mac, String path) throws OverlayModelException {
        if (mac < 0 || mac > 0xFFFF_FFFF_FFFFL) {
            throw new OverlayModelException(path, "missing or not a MAC address");
        }
        if ((mac & 0x0100_0000_0000L) != 0) {
            throw new OverlayModelException(path, ConfigLoader.formatMac(mac) + " is a multicast/broadcast address");
        }
        if (mac == 0) {
            throw new OverlayModelException(path, "00:00:00:00:00:00 is not a usable MAC");
        }
    }

    private static void cidr(int addr, int prefix, String path) throws OverlayModelException {
        if (prefix < 1 || prefix > 32) {
            throw new OverlayModelException(path, "prefix /" + prefix + " must be 1..32");
        }
        if ((addr & ~Net.mask(prefix)) != 0) {
            throw new OverlayModelException(path, cidrText(addr, prefix) + " has host bits set (network is "
                    + cidrText(addr & Net.mask(prefix), prefix) + ")");
        }
    }

    private static void hostAddress(int a, int cidr, int prefix, String path, String what) throws OverlayModelException {
        if (!inPrefix(a, cidr, prefix)) {
            throw new OverlayModelException(path, what + " " + ip(a) + " is outside subnet " + cidrText(cidr, prefix));
        }
        int hostMask = ~Net.mask(prefix);
        if ((a & hostMask) == 0 || (a & hostMask) == hostMask) {
            throw new OverlayModelException(path, ip(a) + " is the network or broadcast address of " + cidrText(cidr, prefix));
        }
    }

    static boolean inPrefix(int a, int cidr, int prefix) { return ((a ^ cidr) & Net.mask(prefix)) == 0; }

    static boolean in6(Ip6 a, Ip6 cidr, int prefix) {
        return ((a.hi ^ cidr.hi) & Net.mask6Hi(prefix)) == 0 && ((a.lo ^ cidr.lo) & Net.mask6Lo(prefix)) == 0;
    }

    static String ip(int a) { return ConfigLoader.formatIpv4(a); }

    static String cidrText(int a, int prefix) { return ip(a) + "/" + prefix; }
}
