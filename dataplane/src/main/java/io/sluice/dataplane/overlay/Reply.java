package io.sluice.dataplane.overlay;

import io.sluice.dataplane.pipeline.Burst;

/** Sends a packet rewritten into a reply back to its sender VM (local port, or encap to its VTEP). */
final class Reply {
    private Reply() {}

    static void toSender(Burst b, int i, OverlaySnapshot s, OverlayMeta m) {
        int vm = m.srcVm[i];
        if (s.vmPort[vm] >= 0) {
            b.tx(i, b.inPort[i]);
            m.txPackets[m.zone[i]]++;
        } else {
            m.encapVtep[i] = m.srcVtep[i];
            b.outPort[i] = s.uplinkPort;
        }
    }
}
