package io.sluice.dataplane.debug;

import io.sluice.dataplane.packet.NativeFrames;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The match expression: what it selects on real frames, and the error for each way to get it wrong. */
class MatchTest {
    final NativeFrames mem = new NativeFrames();

    /** Ethernet + IPv4 + TCP/UDP header from src:sp to dst:dp. */
    static byte[] ipv4(int proto, String src, int sp, String dst, int dp) {
        byte[] f = new byte[14 + 20 + 20];
        f[12] = 0x08;
        f[14] = 0x45;
        f[23] = (byte) proto;
        put(f, 26, src);
        put(f, 30, dst);
        f[34] = (byte) (sp >>> 8);
        f[35] = (byte) sp;
        f[36] = (byte) (dp >>> 8);
        f[37] = (byte) dp;
        return f;
    }

    static void put(byte[] f, int o, String ip) {
        String[] p = ip.split("\\.");
        for (int k = 0; k < 4; k++) f[o + k] = (byte) Integer.parseInt(p[k]);
    }

    boolean m(String expr, byte[] f) throws Exception {
        return Match.parse(expr).matches(mem.put(f), f.length);
    }

    @Test
    void selectsByProtocolAddressPortAndVxlanInner() throws Exception {
        byte[] tcp = ipv4(6, "10.0.1.10", 40000, "10.0.2.10", 5432);
        assertTrue(m("", tcp));
        assertTrue(m("tcp and dst 10.0.2.10 and dport 5432", tcp));
        assertTrue(m("tcp src net 10.0.1.0/24 dst port 5000-6000", tcp));
        assertTrue(m("host 10.0.2.10 port 40000", tcp));
        assertTrue(m("ip", tcp));
        assertFalse(m("udp", tcp));
        assertFalse(m("ip6", tcp));
        assertFalse(m("dst 10.0.1.10", tcp));
        assertFalse(m("sport 5432", tcp));
        assertFalse(m("arp", tcp));
        // VXLAN: outer UDP to 4789 carrying the TCP frame
        byte[] vx = new byte[14 + 20 + 8 + 8 + tcp.length];
        byte[] outer = ipv4(17, "192.168.50.2", 50000, "192.168.50.1", 4789);
        System.arraycopy(outer, 0, vx, 0, 34 + 4);
        System.arraycopy(tcp, 0, vx, 50, tcp.length);
        assertTrue(m("tcp dport 5432 dst 10.0.2.10", vx), "the inner packet");
        assertTrue(m("udp dport 4789", vx), "the outer packet");
        assertFalse(m("tcp dport 80", vx));
        // direction words
        assertTrue(Match.parse("in").allows(true));
        assertFalse(Match.parse("in").allows(false));
        assertTrue(Match.parse("tcp").allows(false));
    }

    @Test
    void namesTheWrongWord() {
        assertEquals("match expression: word 2 'dprt': expected tcp, udp, icmp, icmp6, arp, ip, ip6, host, src, dst, net, port, sport, dport, in, out or and",
                assertThrows(Match.MatchException.class, () -> Match.parse("tcp dprt 80")).getMessage());
        assertTrue(assertThrows(Match.MatchException.class, () -> Match.parse("dst 10.0.300.1")).getMessage().contains("word 2 '10.0.300.1'"));
        assertTrue(assertThrows(Match.MatchException.class, () -> Match.parse("dst 10.0.0.0/33")).getMessage().contains("prefix length 0..32"));
        assertTrue(assertThrows(Match.MatchException.class, () -> Match.parse("port 70000")).getMessage().contains("a port 0..65535"));
        assertTrue(assertThrows(Match.MatchException.class, () -> Match.parse("port 90-80")).getMessage().contains("P1 <= P2"));
        assertTrue(assertThrows(Match.MatchException.class, () -> Match.parse("tcp udp")).getMessage().contains("word 2 'udp': expected one protocol"));
        assertTrue(assertThrows(Match.MatchException.class, () -> Match.parse("icmp port 80")).getMessage().contains("ports only with tcp or udp"));
        assertTrue(assertThrows(Match.MatchException.class, () -> Match.parse("dst")).getMessage().contains("an IPv4 address or CIDR after 'dst'"));
        assertTrue(assertThrows(Match.MatchException.class, () -> Match.parse("host fd00::1")).getMessage().contains("IPv6 addresses are not supported"));
        assertTrue(assertThrows(Match.MatchException.class, () -> Match.parse("and tcp")).getMessage().contains("word 1 'and'"));
    }
}
