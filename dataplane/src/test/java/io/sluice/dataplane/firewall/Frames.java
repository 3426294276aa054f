package io.sluice.dataplane.firewall;

/** Builds IPv4 frames (TCP, UDP, ICMP) between topology ports; checksums are not checked by the pipeline. */
final class Frames {
    static byte[] tcp(int from, int to, int sport, int dport, int flags, int seq, int ack, int payload) {
        byte[] l4 = new byte[20 + payload];
        put16(l4, 0, sport);
        put16(l4, 2, dport);
        put32(l4, 4, seq);
        put32(l4, 8, ack);
        l4[12] = (byte) (5 << 4);
        l4[13] = (byte) flags;
        put16(l4, 14, 65535);
        return ipv4(from, to, 6, l4);
    }

    static byte[] udp(int from, int to, int sport, int dport, int payload) {
        byte[] l4 = new byte[8 + payload];
        put16(l4, 0, sport);
        put16(l4, 2, dport);
        put16(l4, 4, 8 + payload);
        return ipv4(from, to, 17, l4);
    }

    static byte[] icmpEcho(int from, int to, int type, int id) {
        byte[] l4 = new byte[16];
        l4[0] = (byte) type;
        put16(l4, 4, id);
        put16(l4, 6, 1);
        return ipv4(from, to, 1, l4);
    }

    /** ICMP error (type/code) from {@code from} to {@code to} quoting the IPv4 packet {@code quotedFrame} (an Ethernet frame). */
    static byte[] icmpError(int from, int to, int type, int code, byte[] quotedFrame) {
        int qlen = Math.min(quotedFrame.length - 14, 28);
        byte[] l4 = new byte[8 + qlen];
        l4[0] = (byte) type;
        l4[1] = (byte) code;
        System.arraycopy(quotedFrame, 14, l4, 8, qlen);
        return ipv4(from, to, 1, l4);
    }

    static byte[] ipv4(int from, int to, int proto, byte[] l4) {
        byte[] f = new byte[14 + 20 + l4.length];
        put48(f, 0, FwTopology.mac(to));
        put48(f, 6, FwTopology.mac(from));
        put16(f, 12, 0x0800);
        f[14] = 0x45;
        put16(f, 16, 20 + l4.length);
        f[22] = 64;
        f[23] = (byte) proto;
        put32(f, 26, FwTopology.ip(from));
        put32(f, 30, FwTopology.ip(to));
        System.arraycopy(l4, 0, f, 34, l4.length);
        return f;
    }

    /** IPv6/TCP between topology ports: fd00::&lt;port+1&gt;. */
    static byte[] tcp6(int from, int to, int sport, int dport, int flags, int seq, int ack, int payload) {
        byte[] l4 = new byte[20 + payload];
        put16(l4, 0, sport);
        put16(l4, 2, dport);
        put32(l4, 4, seq);
        put32(l4, 8, ack);
        l4[12] = (byte) (5 << 4);
        l4[13] = (byte) flags;
        put16(l4, 14, 65535);
        byte[] f = ipv6(from, to, 6, l4.length);
        System.arraycopy(l4, 0, f, 54, l4.length);
        return f;
    }

    /** Ethernet + IPv6 header between topology ports (fd00::&lt;port+1&gt;), {@code payload} zero bytes after it. */
    static byte[] ipv6(int from, int to, int nextHeader, int payload) {
        byte[] f = new byte[14 + 40 + payload];
        put48(f, 0, FwTopology.mac(to));
        put48(f, 6, FwTopology.mac(from));
        put16(f, 12, 0x86DD);
        f[14] = 0x60;
        put16(f, 18, payload);
        f[20] = (byte) nextHeader;
        f[21] = 64;
        put16(f, 22, 0xfd00);
        f[37] = (byte) (from + 1);
        put16(f, 38, 0xfd00);
        f[53] = (byte) (to + 1);
        return f;
    }

    /** An L4 header + payload for fragmenting: UDP (ports, length) with {@code payload} bytes. */
    static byte[] udpDatagram(int sport, int dport, int payload) {
        byte[] l4 = new byte[8 + payload];
        put16(l4, 0, sport);
        put16(l4, 2, dport);
        put16(l4, 4, 8 + payload);
        for (int k = 8; k < l4.length; k++) l4[k] = (byte) k;
        return l4;
    }

    /** An ICMP / ICMPv6 echo (type, id) with {@code payload} bytes, for fragmenting. */
    static byte[] echoDatagram(int type, int id, int payload) {
        byte[] l4 = new byte[8 + payload];
        l4[0] = (byte) type;
        put16(l4, 4, id);
        put16(l4, 6, 1);
        return l4;
    }

    /** A TCP header of {@code hlen} bytes (options NOP) + payload, for fragmenting. */
    static byte[] tcpSegment(int sport, int dport, int flags, int seq, int hlen, int payload) {
        byte[] l4 = new byte[hlen + payload];
        put16(l4, 0, sport);
        put16(l4, 2, dport);
        put32(l4, 4, seq);
        l4[12] = (byte) ((hlen / 4) << 4);
        l4[13] = (byte) flags;
        put16(l4, 14, 65535);
        for (int k = 20; k < hlen; k++) l4[k] = 1;
        return l4;
    }

    /**
     * One IPv4 fragment: bytes [offset*8, offset*8 + len) of {@code datagram} (the IP payload), id,
     * MF as given.
     */
    static byte[] frag4(int from, int to, int proto, int id, byte[] datagram, int offset, int len, boolean more) {
        byte[] data = java.util.Arrays.copyOfRange(datagram, offset * 8, offset * 8 + len);
        byte[] f = ipv4(from, to, proto, data);
        put16(f, 18, id);
        put16(f, 20, (more ? 0x2000 : 0) | offset);
        return f;
    }

    /**
     * One IPv6 fragment between topology ports (fd00::&lt;port+1&gt;): a Fragment header (next
     * header, offset, M, 32-bit id) and bytes [offset*8, offset*8 + len) of {@code datagram} (the
     * fragmentable part: any extension headers after the Fragment header, then the L4 header).
     */
    static byte[] frag6(int from, int to, int nextHeader, int id, byte[] datagram, int offset, int len, boolean more) {
        byte[] f = ipv6(from, to, 44, 8 + len);
        f[54] = (byte) nextHeader;
        put16(f, 56, offset << 3 | (more ? 1 : 0));
        put32(f, 58, id);
        System.arraycopy(datagram, offset * 8, f, 62, len);
        return f;
    }

    /** IPv4 (family 4) or IPv6 fragments of {@code datagram} in order, {@code chunk} bytes each (a multiple of 8). */
    static byte[][] fragments(int family, int from, int to, int proto, int id, byte[] datagram, int chunk) {
        int n = (datagram.length + chunk - 1) / chunk;
        byte[][] out = new byte[n][];
        for (int k = 0; k < n; k++) {
            int len = Math.min(chunk, datagram.length - k * chunk);
            out[k] = family == 4 ? frag4(from, to, proto, id, datagram, k * chunk / 8, len, k < n - 1)
                    : frag6(from, to, proto, id, datagram, k * chunk / 8, len, k < n - 1);
        }
        return out;
    }

    static void put16(byte[] b, int o, int v) { b[o] = (byte) (v >>> 8); b[o + 1] = (byte) v; }

    static void put32(byte[] b, int o, int v) { put16(b, o, v >>> 16); put16(b, o + 2, v); }

    static void put48(byte[] b, int o, long v) { put16(b, o, (int) (v >>> 32)); put32(b, o + 2, (int) v); }

    private Frames() {}
}
