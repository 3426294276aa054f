package io.sluice.dataplane.debug;

/**
 * Reads the headers of a frame copied out of the data plane (a trace record's bytes) for people:
 * Ethernet, VLAN, ARP, IPv4/IPv6, TCP/UDP/ICMP, and the inner frame of VXLAN. Control threads only
 * (it allocates). Frames cut short are described as far as they go.
 */
public final class FrameText {
    private FrameText() {}

    /** The L3/L4 endpoints of a frame (inner frame for VXLAN), for NAT comparison; null when not IP. */
    record Endpoints(String src, String dst, int sport, int dport, int proto, int vni) {}

    public static String describe(byte[] f, int len) {
        StringBuilder sb = new StringBuilder();
        describe(f, 0, Math.min(len, f.length), sb, 0);
        return sb.toString();
    }

    private static void describe(byte[] f, int o, int end, StringBuilder sb, int depth) {
        if (end - o < 14) {
            sb.append("frame of ").append(end - o).append(" bytes (shorter than Ethernet)");
            return;
        }
        sb.append(mac(f, o + 6)).append(" > ").append(mac(f, o));
        int et = u16(f, o + 12);
        int off = o + 14;
        while ((et == 0x8100 || et == 0x88A8) && off + 4 <= end) {
            sb.append(" vlan ").append(u16(f, off) & 0xFFF);
            et = u16(f, off + 2);
            off += 4;
        }
        if (et == 0x0806) {
            if (off + 28 > end) {
                sb.append(", ARP (cut short)");
                return;
            }
            int op = u16(f, off + 6);
            sb.append(", ARP ").append(op == 1 ? "who-has " + ip4(f, off + 24) + " tell " + ip4(f, off + 14)
                    : op == 2 ? "reply " + ip4(f, off + 14) + " is-at " + mac(f, off + 8) : "op " + op);
            return;
        }
        if (et == 0x0800) {
            if (off + 20 > end) {
                sb.append(", IPv4 (cut short)");
                return;
            }
            int ihl = (f[off] & 0xF) * 4;
            int proto = f[off + 9] & 0xFF;
            int frag = u16(f, off + 6);
            sb.append(", IPv4 ").append(ip4(f, off + 12)).append(" > ").append(ip4(f, off + 16))
                    .append(" ttl ").append(f[off + 8] & 0xFF);
            if ((frag & 0x3FFF) != 0) sb.append(" frag off ").append((frag & 0x1FFF) * 8).append((frag & 0x2000) != 0 ? " MF" : "");
            l4(f, off + ihl, end, proto, (frag & 0x1FFF) != 0, sb, depth);
            return;
        }
        if (et == 0x86DD) {
            if (off + 40 > end) {
                sb.append(", IPv6 (cut short)");
                return;
            }
            sb.append(", IPv6 ").append(ip6(f, off + 8)).append(" > ").append(ip6(f, off + 24))
                    .append(" hlim ").append(f[off + 7] & 0xFF);
            l4(f, off + 40, end, f[off + 6] & 0xFF, false, sb, depth);
            return;
        }
        sb.append(String.format(", ethertype 0x%04x", et));
    }

    private static void l4(byte[] f, int l4, int end, int proto, boolean later, StringBuilder sb, int depth) {
        if (later) {
            sb.append(" proto ").append(proto).append(" (later fragment)");
            return;
        }
        switch (proto) {
            case 6 -> {
                if (l4 + 14 > end) { sb.append(" tcp (cut short)"); return; }
                sb.append(" tcp ").append(u16(f, l4)).append(" > ").append(u16(f, l4 + 2)).append(" [").append(tcpFlags(f[l4 + 13] & 0xFF)).append(']');
            }
            case 17 -> {
                if (l4 + 8 > end) { sb.append(" udp (cut short)"); return; }
                int dp = u16(f, l4 + 2);
                sb.append(" udp ").append(u16(f, l4)).append(" > ").append(dp);
                if (dp == 4789 && depth == 0 && l4 + 16 + 14 <= end) {
                    sb.append(", VXLAN vni ").append(((f[l4 + 12] & 0xFF) << 16) | ((f[l4 + 13] & 0xFF) << 8) | (f[l4 + 14] & 0xFF)).append(": ");
                    describe(f, l4 + 16, end, sb, 1);
                }
            }
            case 1, 58 -> {
                if (l4 + 2 > end) { sb.append(" icmp (cut short)"); return; }
                sb.append(proto == 1 ? " icmp" : " icmp6").append(" type ").append(f[l4] & 0xFF).append(" code ").append(f[l4 + 1] & 0xFF);
            }
            default -> sb.append(" proto ").append(proto);
        }
    }

    /** The IPv4/IPv6 endpoints (inner for VXLAN) of a frame, or null. */
    static Endpoints endpoints(byte[] f, int len) {
        int end = Math.min(len, f.length);
        return endpoints(f, 0, end, 0);
    }

    private static Endpoints endpoints(byte[] f, int o, int end, int depth) {
        if (end - o < 14) return null;
        int et = u16(f, o + 12);
        int off = o + 14;
        while ((et == 0x8100 || et == 0x88A8) && off + 4 <= end) {
            et = u16(f, off + 2);
            off += 4;
        }
        String s, d;
        int proto, l4;
        if (et == 0x0800 && off + 20 <= end) {
            s = ip4(f, off + 12);
            d = ip4(f, off + 16);
            proto = f[off + 9] & 0xFF;
            l4 = off + (f[off] & 0xF) * 4;
        } else if (et == 0x86DD && off + 40 <= end) {
            s = ip6(f, off + 8);
            d = ip6(f, off + 24);
            proto = f[off + 6] & 0xFF;
            l4 = off + 40;
        } else {
            return null;
        }
        int sp = 0, dp = 0;
        if ((proto == 6 || proto == 17) && l4 + 4 <= end) {
            sp = u16(f, l4);
            dp = u16(f, l4 + 2);
            if (proto == 17 && dp == 4789 && depth == 0 && l4 + 16 + 14 <= end) {
                Endpoints in = endpoints(f, l4 + 16, end, 1);
                int vni = ((f[l4 + 12] & 0xFF) << 16) | ((f[l4 + 13] & 0xFF) << 8) | (f[l4 + 14] & 0xFF);
                return in == null ? null : new Endpoints(in.src(), in.dst(), in.sport(), in.dport(), in.proto(), vni);
            }
        }
        return new Endpoints(s, d, sp, dp, proto, -1);
    }

    static String tcpFlags(int fl) {
        StringBuilder sb = new StringBuilder();
        String[] n = {"F", "S", "R", "P", ".", "U", "E", "C"};
        for (int k = 0; k < 8; k++) if ((fl & (1 << k)) != 0) sb.append(n[k]);
        return sb.isEmpty() ? "none" : sb.toString();
    }

    static int u16(byte[] f, int o) { return (f[o] & 0xFF) << 8 | (f[o + 1] & 0xFF); }

    static String mac(byte[] f, int o) {
        return String.format("%02x:%02x:%02x:%02x:%02x:%02x", f[o], f[o + 1], f[o + 2], f[o + 3], f[o + 4], f[o + 5]);
    }

    static String ip4(byte[] f, int o) {
        return io.sluice.dataplane.config.ConfigLoader.formatIpv4((f[o] & 0xFF) << 24 | (f[o + 1] & 0xFF) << 16 | (f[o + 2] & 0xFF) << 8 | (f[o + 3] & 0xFF));
    }

    static String ip6(byte[] f, int o) {
        long hi = 0, lo = 0;
        for (int k = 0; k < 8; k++) hi = hi << 8 | (f[o + k] & 0xFF);
        for (int k = 8; k < 16; k++) lo = lo << 8 | (f[o + k] & 0xFF);
        return io.sluice.dataplane.config.Net.formatIpv6(hi, lo);
    }
}
