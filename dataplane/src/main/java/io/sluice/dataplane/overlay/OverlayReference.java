package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.config.Net;
import java.util.ArrayList;
import java.util.List;

/**
 * The slow, obviously-right twin of {@link OverlaySnapshot} + {@link Forwarding}: linear scans
 * over the model, no hashing, no compiled arrays. Property tests hold both equal on random
 * topologies and packets. VM indices are the snapshot's (networks in order, VMs in order).
 */
public final class OverlayReference {
    private final OverlayModel model;
    private final List<int[]> vms = new ArrayList<>(); // {networkIndex, vmIndexInNetwork}

    public OverlayReference(OverlayModel model) {
        this.model = model;
        for (int n = 0; n < model.networks().size(); n++) {
            for (int v = 0; v < model.networks().get(n).vms().size(); v++) {
                vms.add(new int[] {n, v});
            }
        }
    }

    private OverlayModel.Vm vm(int global) {
        int[] nv = vms.get(global);
        return model.networks().get(nv[0]).vms().get(nv[1]);
    }

    /** Same contract as {@link Forwarding#decide}. */
    public int decide(int zone, int srcVm, long dstMac, int etherType, int dstIp4, long dst6Hi, long dst6Lo) {
        if ((dstMac & 0x0100_0000_0000L) != 0) {
            return -OverlayDrop.BROADCAST.ordinal();
        }
        OverlayModel.Network net = model.networks().get(zone - 1);
        if (dstMac == model.host().routerMac()) {
            if (etherType != Net.ETHERTYPE_IPV4 && etherType != Net.ETHERTYPE_IPV6) {
                return -OverlayDrop.UNSUPPORTED_ETHERTYPE.ordinal();
            }
            boolean v4 = etherType == Net.ETHERTYPE_IPV4;
            for (OverlayModel.Subnet s : net.subnets()) {
                if (v4 ? s.gateway() == dstIp4 : s.gateway6() != null && s.gateway6().hi() == dst6Hi && s.gateway6().lo() == dst6Lo) {
                    return -OverlayDrop.TO_GATEWAY.ordinal();
                }
            }
            for (int g = 0; g < vms.size(); g++) {
                if (vms.get(g)[0] != zone - 1) {
                    continue;
                }
                OverlayModel.Vm v = vm(g);
                if (v4 ? v.ipv4() == dstIp4 : v.ipv6() != null && v.ipv6().hi() == dst6Hi && v.ipv6().lo() == dst6Lo) {
                    return g;
                }
            }
            return -OverlayDrop.UNKNOWN_DESTINATION.ordinal();
        }
        for (int g = 0; g < vms.size(); g++) {
            if (vms.get(g)[0] == zone - 1 && vm(g).mac() == dstMac) {
                return vm(g).subnet().equals(vm(srcVm).subnet()) ? g : -OverlayDrop.CROSS_SUBNET_L2.ordinal();
            }
        }
        return -OverlayDrop.UNKNOWN_DESTINATION.ordinal();
    }

    /** Network index + 1 of a global VM index. */
    public int zoneOf(int global) { return vms.get(global)[0] + 1; }
}
