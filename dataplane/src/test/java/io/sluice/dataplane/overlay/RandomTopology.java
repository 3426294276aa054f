package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.OverlayModel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Random valid topologies: 1..5 networks whose CIDRs overlap (10.0.0.0/16 or 10.1.0.0/16), the
 * same MAC and IP pools reused across networks, 1..3 subnets, VMs local or on hosts 2..4.
 * {@link #viewFrom(int)} gives the same topology as seen by another host.
 */
final class RandomTopology {
    static final int[] HOSTS = {Fixtures.HOST1, Fixtures.HOST2, Fixtures.HOST3, Fixtures.ip("192.168.50.4")};

    /** For each network: subnets and VMs with their home host index (0 = host 1). */
    record VmSpec(String name, String subnet, long mac, int ip, OverlayModel.Ip6 ip6, int host) {}

    record NetSpec(String name, int vni, int cidr, List<OverlayModel.Subnet> subnets, List<VmSpec> vms) {}

    final List<NetSpec> nets = new ArrayList<>();

    RandomTopology(long seed, int networks, int maxVms) {
        Random r = new Random(seed);
        for (int n = 0; n < networks; n++) {
            int base = r.nextBoolean() ? Fixtures.ip("10.0.0.0") : Fixtures.ip("10.1.0.0");
            int subnets = 1 + r.nextInt(3);
            List<OverlayModel.Subnet> subs = new ArrayList<>();
            for (int s = 0; s < subnets; s++) {
                int cidr = base | ((s + 1) << 8);
                subs.add(new OverlayModel.Subnet("s" + s, cidr, 24, cidr | 1,
                        new OverlayModel.Ip6(0xFD00_0000_0000_0000L | ((long) (s + 1) << 16), 0), 64,
                        new OverlayModel.Ip6(0xFD00_0000_0000_0000L | ((long) (s + 1) << 16), 1)));
            }
            int vmCount = 1 + r.nextInt(maxVms);
            Set<Long> macs = new HashSet<>();
            Set<Integer> ips = new HashSet<>();
            List<VmSpec> vms = new ArrayList<>();
            for (int v = 0; v < vmCount; v++) {
                int s = r.nextInt(subnets);
                long mac = 0x0200_0000_0000L | (1 + r.nextInt(12));
                int ip = subs.get(s).cidr() | (2 + r.nextInt(10));
                if (!macs.add(mac) || !ips.add(ip)) {
                    continue;
                }
                OverlayModel.Ip6 ip6 = r.nextBoolean() ? new OverlayModel.Ip6(subs.get(s).cidr6().hi(), ip & 0xFF) : null;
                vms.add(new VmSpec("v" + v, "s" + s, mac, ip, ip6, r.nextInt(3) == 0 ? 0 : r.nextInt(HOSTS.length)));
            }
            nets.add(new NetSpec("n" + n, 100 + n, base, subs, vms));
        }
    }

    /** The model as host {@code h} (index into HOSTS) sees it; local VMs get ports 1, 2, ... */
    OverlayModel viewFrom(int h) {
        int port = 1;
        List<OverlayModel.Network> out = new ArrayList<>();
        for (NetSpec n : nets) {
            List<OverlayModel.Vm> vms = new ArrayList<>();
            for (VmSpec v : n.vms) {
                vms.add(v.host == h ? new OverlayModel.Vm(v.name, v.subnet, v.mac, v.ip, v.ip6, port++, 0)
                        : new OverlayModel.Vm(v.name, v.subnet, v.mac, v.ip, v.ip6, -1, HOSTS[v.host]));
            }
            out.add(new OverlayModel.Network(n.name, n.vni, n.cidr, 16, n.subnets, vms));
        }
        return new OverlayModel(new OverlayModel.Host(0, HOSTS[h], 24, 0x0200_0000_AA00L | h, 0,
                Fixtures.NEXT_HOP_MAC, 1500, Fixtures.ROUTER), out);
    }
}
