package io.sluice.dataplane.nat;

import io.sluice.dataplane.config.Net;
import io.sluice.dataplane.packet.Mem;

/**
 * IPv6 neighbour discovery frames on the external network (docs/nat.md, "IPv6"): Ethernet + IPv6
 * (hop limit 255) + a 32-byte ICMPv6 NS or NA with one link-layer address option. Allocation-free.
 */
final class NdFrames {
    /** Ethernet + IPv6 + NS/NA with its option. */
    static final int FRAME_LEN = 14 + 40 + 32;

    private NdFrames() {}

    /**
     * Neighbour solicitation for {@code target} from our link-local address: to its solicited-node
     * multicast group, or unicast to {@code dstMac} (a refresh of a known neighbour) when ≥ 0.
     */
    static int solicit(long at, long srcMac, long dstMac, long srcHi, long srcLo, long tHi, long tLo) {
        long dHi, dLo;
        if (dstMac >= 0) {
            Mem.putMac(at, dstMac);
            dHi = tHi;
            dLo = tLo;
        } else {
            Mem.putMac(at, 0x3333_FF00_0000L | (tLo & 0xFF_FFFFL));
            dHi = 0xFF02_0000_0000_0000L;
            dLo = 0x0000_0001_FF00_0000L | (tLo & 0xFF_FFFFL);
        }
        return write(at, srcMac, srcHi, srcLo, dHi, dLo, 135, 0, tHi, tLo, 1);
    }

    /** Solicited neighbour advertisement (S|O) of {@code target} at {@code mac}, to the solicitor. */
    static int advertise(long at, long mac, long dstMac, long tHi, long tLo, long dHi, long dLo) {
        Mem.putMac(at, dstMac);
        return write(at, mac, tHi, tLo, dHi, dLo, 136, 0x6000_0000, tHi, tLo, 2);
    }

    private static int write(long at, long srcMac, long sHi, long sLo, long dHi, long dLo, int type, int flags,
                             long tHi, long tLo, int option) {
        Mem.putMac(at + 6, srcMac);
        Mem.put16(at + 12, Net.ETHERTYPE_IPV6);
        long ip = at + 14;
        Mem.put32(ip, 0x6000_0000);
        Mem.put32(ip + 4, (32 << 16) | (58 << 8) | 255);
        put6(ip + 8, sHi, sLo);
        put6(ip + 24, dHi, dLo);
        long c = ip + 40;
        Mem.put32(c, type << 24);
        Mem.put32(c + 4, flags);
        put6(c + 8, tHi, tLo);
        Mem.put8(c + 24, option);
        Mem.put8(c + 25, 1);
        Mem.putMac(c + 26, srcMac);
        Mem.put16(c + 2, Net.fold(Net.sum16(c, 32, Net.ipv6PseudoSum(ip, 32, 58))));
        return FRAME_LEN;
    }

    static void put6(long at, long hi, long lo) {
        Mem.put32(at, (int) (hi >>> 32));
        Mem.put32(at + 4, (int) hi);
        Mem.put32(at + 8, (int) (lo >>> 32));
        Mem.put32(at + 12, (int) lo);
    }
}
