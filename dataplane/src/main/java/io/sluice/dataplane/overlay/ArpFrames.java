package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.Net;
import io.sluice.dataplane.packet.Mem;

/** Writes ARP frames (Ethernet + 28-byte ARP, padded to 60 bytes) at an absolute address. */
public final class ArpFrames {
    public static final int FRAME_LEN = 60;

    private ArpFrames() {}

    /** Broadcast ARP request "who has targetIp, tell senderIp". Returns the frame length (60). */
    public static int request(long at, long senderMac, int senderIp, int targetIp) {
        Mem.putMac(at, Net.BROADCAST_MAC);
        Mem.putMac(at + 6, senderMac);
        Mem.put16(at + 12, Net.ETHERTYPE_ARP);
        long a = at + 14;
        Mem.put32(a, 0x0001_0800);
        Mem.put32(a + 4, 0x0604_0001);
        Mem.putMac(a + 8, senderMac);
        Mem.put32(a + 14, senderIp);
        Mem.putMac(a + 18, 0);
        Mem.put32(a + 24, targetIp);
        for (int k = 42; k < FRAME_LEN; k++) {
            Mem.put8(at + k, 0);
        }
        return FRAME_LEN;
    }
}
