package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.config.OverlayModelException;
import io.sluice.dataplane.config.Net;
import java.util.Arrays;
import java.util.List;

/**
 * Compiled, immutable forwarding state of the overlay: flat arrays indexed by zone, subnet and
 * VM index, plus open-addressing maps. Built on the control path by {@link #compile}; every
 * lookup method is allocation-free and safe for any number of reader threads.
 *
 * <p>Zone id = network index + 1 (0 means "not an overlay packet"). Subnet and VM indices are
 * global across networks. Lookups are always keyed by zone: two networks with the same CIDR,
 * MACs or IPs never see each other's entries.
 *
 * <p>The arrays are public for the stages' speed; they are never written after
 * {@link #compile} and nobody else may write them (a change is a new snapshot, published
 * through {@link OverlayState}).
 */
public final class OverlaySnapshot {
    // ---- host ----
    public final int uplinkPort;
    public final int underlayIp;
    public final int underlayMask;
    public final long underlayMac;
    public final int underlayGateway;
    public final long staticNextHopMac;
    public final int underlayMtu;
    public final long routerMac;

    // ---- zones (index = zone id; 0 unused) ----
    public final int zoneCount;
    public final int[] zoneVni;
    public final String[] zoneName;
    private final LongIntTable vniToZone;
    /** (zone << 32 | vtep) → 1 when that VTEP hosts a VM of the zone. */
    private final LongIntTable allowedVtep;

    // ---- subnets ----
    public final int[] subnetZone;
    public final int[] subnetCidr;
    public final int[] subnetMask;
    public final int[] subnetGateway;
    public final boolean[] subnetHas6;
    public final long[] subnetGw6Hi;
    public final long[] subnetGw6Lo;
    public final long[] subnetCidr6Hi;
    public final long[] subnetCidr6Lo;
    public final int[] subnetPrefix6;
    private final LongIntTable gatewayByIp4;
    private final Ip6Table gatewayByIp6;

    // ---- VMs ----
    public final String[] vmName;
    public final int[] vmZone;
    public final int[] vmSubnet;
    public final long[] vmMac;
    public final int[] vmIp4;
    public final boolean[] vmHas6;
    public final long[] vmIp6Hi;
    public final long[] vmIp6Lo;
    /** Local port index, or -1 for a remote VM. */
    public final int[] vmPort;
    /** Remote VTEP IPv4, or 0 for a local VM. */
    public final int[] vmVtep;
    private final LongIntTable vmByIp4;
    private final LongIntTable vmByMac;
    private final Ip6Table vmByIp6;
    /** Port index → VM owning that port, -1 if none. */
    private final int[] portVm;

    // ---- external network (NAT, docs/nat.md); extPort -1 when there is none ----
    public final int extPort;
    public final long extMac;
    public final int extCidr;
    public final int extMask;
    public final int extGateway;
    /** Static gateway MAC, or -1: resolved by ARP. */
    public final long extGatewayMac;
    /** Our sender address in ARP requests for the gateway: the first SNAT address, else the first floating IP. */
    public final int extArpIp;
    public final int[] snatAddr;
    public final int[] fipAddr;
    /** Floating IP (pool index) → the VM it is associated with, or -1 (in the pool, unassigned). */
    public final int[] fipVm;
    public final int portBlock;
    public final int blocksPerVm;
    public final int blocksPerAddress;
    /** Per VM: its {@link OverlayModel.Access} ordinal. */
    public final byte[] vmAccess;
    /** Per VM: its floating IP's pool index, or -1. */
    public final int[] vmFip;
    /** NAT VM slots ({@link NatSlots}): per VM its slot; per slot its VM (or -1) and generation. */
    public final NatSlots natSlots;
    public final int[] vmSlot;
    public final int[] slotVm;
    public final int[] slotGen;
    /** Per zone: the network's CIDR and mask (destinations outside it leave the project). */
    public final int[] zoneCidr;
    public final int[] zoneMask;
    /** IPv6 to the outside (no NAT): the upstream router's address, and ours on the external link (link-local, EUI-64 of extMac). */
    public final boolean extHas6;
    public final long extGw6Hi, extGw6Lo, extLl6Hi, extLl6Lo;
    /** Local VMs' IPv6 addresses, any network (the external side has no zone) → VM. */
    private final Ip6Table localVm6;
    /** Owned external address → {@code OWNED_FIP | index} or {@code OWNED_SNAT | index}. */
    private final LongIntTable owned;
    public static final int OWNED_FIP = 1 << 20, OWNED_SNAT = 2 << 20, OWNED_INDEX = (1 << 20) - 1;

    /** The model this was compiled from (for explain/debug; never read on the fast path). */
    public final OverlayModel model;

    private OverlaySnapshot(OverlayModel m, NatSlots slots) {
        model = m;
        natSlots = slots;
        vmSlot = slots.vmSlot;
        slotVm = slots.slotVm;
        slotGen = slots.slotGen;
        OverlayModel.Host h = m.host();
        uplinkPort = h.uplinkPort();
        underlayIp = h.underlayIp();
        underlayMask = Net.mask(h.underlayPrefix());
        underlayMac = h.underlayMac();
        underlayGateway = h.underlayGateway();
        staticNextHopMac = h.nextHopMac();
        underlayMtu = h.underlayMtu();
        routerMac = h.routerMac();

        List<OverlayModel.Network> nets = m.networks();
        zoneCount = nets.size() + 1;
        zoneVni = new int[zoneCount];
        zoneName = new String[zoneCount];
        int subnets = 0;
        int vms = 0;
        int maxPort = Math.max(h.uplinkPort(), m.external() == null ? 0 : m.external().port());
        for (OverlayModel.Network n : nets) {
            subnets += n.subnets().size();
            vms += n.vms().size();
            for (OverlayModel.Vm vm : n.vms()) {
                maxPort = Math.max(maxPort, vm.localPort());
            }
        }
        vniToZone = new LongIntTable(nets.size());
        zoneCidr = new int[zoneCount];
        zoneMask = new int[zoneCount];
        vmAccess = new byte[vms];
        vmFip = new int[vms];
        Arrays.fill(vmFip, -1);
        allowedVtep = new LongIntTable(vms);
        subnetZone = new int[subnets];
        subnetCidr = new int[subnets];
        subnetMask = new int[subnets];
        subnetGateway = new int[subnets];
        subnetHas6 = new boolean[subnets];
        subnetGw6Hi = new long[subnets];
        subnetGw6Lo = new long[subnets];
        subnetCidr6Hi = new long[subnets];
        subnetCidr6Lo = new long[subnets];
        subnetPrefix6 = new int[subnets];
        gatewayByIp4 = new LongIntTable(subnets);
        gatewayByIp6 = new Ip6Table(subnets);
        vmName = new String[vms];
        vmZone = new int[vms];
        vmSubnet = new int[vms];
        vmMac = new long[vms];
        vmIp4 = new int[vms];
        vmHas6 = new boolean[vms];
        vmIp6Hi = new long[vms];
        vmIp6Lo = new long[vms];
        vmPort = new int[vms];
        vmVtep = new int[vms];
        vmByIp4 = new LongIntTable(vms);
        vmByMac = new LongIntTable(vms);
        vmByIp6 = new Ip6Table(vms);
        portVm = new int[maxPort + 1];
        Arrays.fill(portVm, -1);

        int s = 0;
        int v = 0;
        for (int ni = 0; ni < nets.size(); ni++) {
            OverlayModel.Network n = nets.get(ni);
            int zone = ni + 1;
            zoneVni[zone] = n.vni();
            zoneName[zone] = n.name();
            zoneCidr[zone] = n.cidr();
            zoneMask[zone] = Net.mask(n.prefix());
            vniToZone.put(n.vni(), zone);
            int firstSubnet = s;
            for (OverlayModel.Subnet sn : n.subnets()) {
                subnetZone[s] = zone;
                subnetCidr[s] = sn.cidr();
                subnetMask[s] = Net.mask(sn.prefix());
                subnetGateway[s] = sn.gateway();
                gatewayByIp4.put(key4(zone, sn.gateway()), s);
                if (sn.cidr6() != null) {
                    subnetHas6[s] = true;
                    subnetCidr6Hi[s] = sn.cidr6().hi();
                    subnetCidr6Lo[s] = sn.cidr6().lo();
                    subnetPrefix6[s] = sn.prefix6();
                    subnetGw6Hi[s] = sn.gateway6().hi();
                    subnetGw6Lo[s] = sn.gateway6().lo();
                    gatewayByIp6.put(zone, sn.gateway6().hi(), sn.gateway6().lo(), s);
                }
                s++;
            }
            for (OverlayModel.Vm vm : n.vms()) {
                int sub = firstSubnet;
                while (!n.subnets().get(sub - firstSubnet).name().equals(vm.subnet())) {
                    sub++;
                }
                vmName[v] = n.name() + "/" + vm.name();
                vmZone[v] = zone;
                vmSubnet[v] = sub;
                vmMac[v] = vm.mac();
                vmIp4[v] = vm.ipv4();
                vmPort[v] = vm.localPort();
                vmVtep[v] = vm.remoteVtep();
                vmAccess[v] = (byte) (vm.access() == null ? 0 : vm.access().ordinal());
                vmByIp4.put(key4(zone, vm.ipv4()), v);
                vmByMac.put(keyMac(zone, vm.mac()), v);
                if (vm.ipv6() != null) {
                    vmHas6[v] = true;
                    vmIp6Hi[v] = vm.ipv6().hi();
                    vmIp6Lo[v] = vm.ipv6().lo();
                    vmByIp6.put(zone, vm.ipv6().hi(), vm.ipv6().lo(), v);
                }
                if (vm.localPort() >= 0) {
                    portVm[vm.localPort()] = v;
                } else {
                    allowedVtep.put(keyVtep(zone, vm.remoteVtep()), 1);
                }
                v++;
            }
        }
        OverlayModel.External e = m.external();
        if (e == null) {
            extPort = -1;
            extMac = 0;
            extCidr = extMask = extGateway = extArpIp = 0;
            extGatewayMac = -1;
            snatAddr = new int[0];
            fipAddr = new int[0];
            fipVm = new int[0];
            portBlock = blocksPerVm = blocksPerAddress = 0;
            owned = new LongIntTable(1);
            extHas6 = false;
            extGw6Hi = extGw6Lo = extLl6Hi = extLl6Lo = 0;
            localVm6 = new Ip6Table(1);
            return;
        }
        extPort = e.port();
        extMac = e.mac();
        extCidr = e.cidr();
        extMask = Net.mask(e.prefix());
        extGateway = e.gateway();
        extGatewayMac = e.gatewayMac();
        snatAddr = e.snatAddresses().stream().mapToInt(Integer::intValue).toArray();
        fipAddr = e.floatingIps().stream().mapToInt(Integer::intValue).toArray();
        extArpIp = snatAddr.length > 0 ? snatAddr[0] : fipAddr[0];
        fipVm = new int[fipAddr.length];
        Arrays.fill(fipVm, -1);
        portBlock = e.portBlock();
        blocksPerVm = e.blocksPerVm();
        blocksPerAddress = e.blocksPerAddress();
        extHas6 = e.gateway6() != null;
        extGw6Hi = extHas6 ? e.gateway6().hi() : 0;
        extGw6Lo = extHas6 ? e.gateway6().lo() : 0;
        extLl6Hi = 0xFE80_0000_0000_0000L;
        extLl6Lo = ((((extMac >>> 24) & 0xFF_FFFFL) ^ 0x02_0000L) << 40) | (0xFFFEL << 24) | (extMac & 0xFF_FFFFL);
        localVm6 = new Ip6Table(vms);
        for (int k = 0; k < vms; k++) {
            if (vmHas6[k] && vmPort[k] >= 0) localVm6.put(0, vmIp6Hi[k], vmIp6Lo[k], k);
        }
        owned = new LongIntTable(snatAddr.length + fipAddr.length);
        for (int k = 0; k < fipAddr.length; k++) {
            owned.put(fipAddr[k] & 0xFFFF_FFFFL, OWNED_FIP | k);
        }
        for (int k = 0; k < snatAddr.length; k++) {
            owned.put(snatAddr[k] & 0xFFFF_FFFFL, OWNED_SNAT | k);
        }
        int vi = 0;
        for (OverlayModel.Network n : nets) {
            for (OverlayModel.Vm vm : n.vms()) {
                if (vm.access() == OverlayModel.Access.FLOATING) {
                    int k = e.floatingIps().indexOf(vm.floatingIp());
                    vmFip[vi] = k;
                    fipVm[k] = vi;
                }
                vi++;
            }
        }
    }

    /** {@code OWNED_FIP | index}, {@code OWNED_SNAT | index}, or -1 when we do not own this external address. */
    public int owned(int addr) { return owned.get(addr & 0xFFFF_FFFFL); }

    public boolean hasExternal() { return extPort >= 0; }

    /** The local VM with this IPv6 address (any network), or -1: where IPv6 from the external network goes. */
    public int localVmByIp6(long hi, long lo) { return localVm6.get(0, hi, lo); }

    /** True when the IPv6 address is inside one of the zone's subnets (not outside the project). */
    public boolean inZone6(int zone, long hi, long lo) {
        for (int k = 0; k < subnetZone.length; k++) {
            if (subnetZone[k] != zone || !subnetHas6[k]) continue;
            int p = subnetPrefix6[k];
            long mHi = p == 0 ? 0 : p >= 64 ? -1L : -1L << (64 - p);
            long mLo = p <= 64 ? 0 : p >= 128 ? -1L : -1L << (128 - p);
            if (((hi ^ subnetCidr6Hi[k]) & mHi) == 0 && ((lo ^ subnetCidr6Lo[k]) & mLo) == 0) return true;
        }
        return false;
    }

    /** Global unicast (2000::/3): what may leave by the external network over IPv6. */
    public static boolean global6(long hi) { return (hi >>> 61) == 1; }

    /** Validates and compiles a model. */
    public static OverlaySnapshot compile(OverlayModel m) throws OverlayModelException {
        m.validate();
        String[] names = vmNames(m);
        return new OverlaySnapshot(m, NatSlots.initial(names, names.length));
    }

    /**
     * At start, with an external network: as {@link #compile(OverlayModel)}, with
     * {@link NatSlots#HEADROOM} NAT VM slots beyond the VMs for VMs added at runtime.
     */
    public static OverlaySnapshot compileAtStart(OverlayModel m) throws OverlayModelException {
        m.validate();
        String[] names = vmNames(m);
        return new OverlaySnapshot(m, NatSlots.initial(names, m.external() == null ? names.length : names.length + NatSlots.HEADROOM));
    }

    /**
     * A runtime change: compiles {@code m} keeping {@code prev}'s NAT VM slots ({@link NatSlots#next};
     * {@code busy}: slots that still hold NAT state).
     */
    public static OverlaySnapshot compile(OverlayModel m, OverlaySnapshot prev, java.util.function.IntPredicate busy) throws OverlayModelException {
        m.validate();
        return new OverlaySnapshot(m, prev.natSlots.next(vmNames(m), busy));
    }

    /** The VMs' names ({@code network/vm}) in snapshot order. */
    static String[] vmNames(OverlayModel m) {
        List<String> out = new java.util.ArrayList<>();
        for (OverlayModel.Network n : m.networks()) for (OverlayModel.Vm vm : n.vms()) out.add(n.name() + "/" + vm.name());
        return out.toArray(new String[0]);
    }

    static long key4(int zone, int ip) { return ((long) zone << 32) | (ip & 0xFFFF_FFFFL); }

    static long keyMac(int zone, long mac) { return ((long) zone << 48) | mac; }

    static long keyVtep(int zone, int vtep) { return ((long) zone << 32) | (vtep & 0xFFFF_FFFFL); }

    // ---------------------------------------------------------------- lookups (fast path)

    /** Zone of a VNI, or 0 when the VNI is not configured here. */
    public int zoneOfVni(int vni) {
        int z = vniToZone.get(vni);
        return z < 0 ? 0 : z;
    }

    /** True when the remote VTEP hosts at least one VM of the zone (so may send its VNI). */
    public boolean vtepAllowed(int zone, int vtep) { return allowedVtep.get(keyVtep(zone, vtep)) >= 0; }

    /** VM with this IPv4 in the zone, or -1. */
    public int vmByIp4(int zone, int ip) { return vmByIp4.get(key4(zone, ip)); }

    /** VM with this MAC in the zone, or -1. */
    public int vmByMac(int zone, long mac) { return vmByMac.get(keyMac(zone, mac)); }

    /** VM with this IPv6 in the zone, or -1. */
    public int vmByIp6(int zone, long hi, long lo) { return vmByIp6.get(zone, hi, lo); }

    /** Subnet whose gateway is this IPv4 in the zone, or -1. */
    public int gatewayByIp4(int zone, int ip) { return gatewayByIp4.get(key4(zone, ip)); }

    /** Subnet whose IPv6 gateway is this address in the zone, or -1. */
    public int gatewayByIp6(int zone, long hi, long lo) { return gatewayByIp6.get(zone, hi, lo); }

    /** The VM attached to local port {@code port}, or -1 (uplink, unknown or non-VM port). */
    public int vmOfPort(int port) { return port >= 0 && port < portVm.length ? portVm[port] : -1; }

    /** The underlay next hop (IPv4) towards a remote VTEP. */
    public int underlayNextHop(int vtep) {
        if (underlayGateway == 0 || ((vtep ^ underlayIp) & underlayMask) == 0) {
            return vtep;
        }
        return underlayGateway;
    }

    public int vmCount() { return vmZone.length; }

    public int subnetCount() { return subnetZone.length; }
}
