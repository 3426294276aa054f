package io.sluice.dataplane.debug;

import io.sluice.dataplane.packet.Mem;

import java.util.ArrayList;
import java.util.List;

/**
 * The filter of {@code ./sluice trace --match} and {@code ./sluice capture --match}: a few words,
 * all of which must hold ({@code and} between them is optional), in the spirit of tcpdump's:
 *
 * <pre>
 *   tcp | udp | icmp | icmp6 | arp | ip | ip6      protocol (ip / ip6: any IPv4 / IPv6 packet)
 *   host A | src A | dst A                        IPv4 address or CIDR (A.B.C.D[/LEN]), either end / source / destination
 *   net CIDR                                      same as host with a prefix
 *   port P | sport P | dport P                    TCP/UDP port or range (P or P1-P2), either end / source / destination
 *   src port P | dst port P, src host A, dst net C   tcpdump's spellings of the above
 *   in | out                                      direction relative to the port traced/captured: in = received on it
 *                                                 (sent by the VM), out = sent out of it (towards the VM)
 * </pre>
 *
 * An empty expression matches everything. A VXLAN packet (UDP to 4789) matches when its outer or
 * its inner packet does. ARP: src/dst are the sender/target protocol addresses. {@link #parse}
 * names the word it cannot read; {@link #matches} reads the frame in place and allocates nothing.
 */
public final class Match {
    /** Protocol selectors beyond IP protocol numbers. */
    static final int ANY = -1, ARP = -2, IP4 = -3, IP6 = -4;
    public static final int DIR_ANY = 0, DIR_IN = 1, DIR_OUT = 2;

    private int proto = ANY;
    private int srcAddr, srcMask, dstAddr, dstMask, hostAddr, hostMask;
    private boolean src, dst, host;
    private int spLo = -1, spHi, dpLo = -1, dpHi, pLo = -1, pHi;
    private int direction = DIR_ANY;
    private final String text;

    private Match(String text) { this.text = text; }

    /** Matches every packet. */
    public static final Match ALL = new Match("");

    /** The direction word (DIR_ANY, DIR_IN, DIR_OUT). */
    public int direction() { return direction; }

    @Override
    public String toString() { return text.isEmpty() ? "(all)" : text; }

    /**
     * Parses an expression.
     *
     * @throws MatchException naming the word (1-based) that is wrong and what was expected
     */
    public static Match parse(String expr) throws MatchException {
        String t = expr == null ? "" : expr.trim();
        Match m = new Match(t);
        if (t.isEmpty()) return m;
        List<String> w = new ArrayList<>(List.of(t.split("\\s+")));
        for (int i = 0; i < w.size(); i++) {
            String word = w.get(i).toLowerCase(java.util.Locale.ROOT);
            switch (word) {
                case "and", "&&" -> {
                    if (i == 0 || i == w.size() - 1) throw new MatchException(i + 1, word, "'and' between two conditions");
                }
                case "tcp" -> m.proto(6, i, word);
                case "udp" -> m.proto(17, i, word);
                case "icmp" -> m.proto(1, i, word);
                case "icmp6" -> m.proto(58, i, word);
                case "arp" -> m.proto(ARP, i, word);
                case "ip" -> m.proto(IP4, i, word);
                case "ip6" -> m.proto(IP6, i, word);
                case "in", "out" -> {
                    if (m.direction != DIR_ANY) throw new MatchException(i + 1, word, "one direction (in or out)");
                    m.direction = word.equals("in") ? DIR_IN : DIR_OUT;
                }
                case "host", "net" -> {
                    int[] a = addr(w, ++i, word);
                    if (m.host) throw new MatchException(i + 1, w.get(i), "one 'host'");
                    m.host = true;
                    m.hostAddr = a[0];
                    m.hostMask = a[1];
                }
                case "src", "dst" -> {
                    boolean isSrc = word.equals("src");
                    if (i + 1 < w.size() && (w.get(i + 1).equalsIgnoreCase("port"))) {
                        i++;
                        int[] p = port(w, ++i, word + " port");
                        m.ports(isSrc ? 1 : 2, p, i, w.get(i));
                        continue;
                    }
                    if (i + 1 < w.size() && (w.get(i + 1).equalsIgnoreCase("host") || w.get(i + 1).equalsIgnoreCase("net"))) i++;
                    int[] a = addr(w, ++i, word);
                    if (isSrc ? m.src : m.dst) throw new MatchException(i + 1, w.get(i), "one '" + word + "' address");
                    if (isSrc) {
                        m.src = true;
                        m.srcAddr = a[0];
                        m.srcMask = a[1];
                    } else {
                        m.dst = true;
                        m.dstAddr = a[0];
                        m.dstMask = a[1];
                    }
                }
                case "port" -> m.ports(0, port(w, ++i, word), i, w.get(i));
                case "sport" -> m.ports(1, port(w, ++i, word), i, w.get(i));
                case "dport" -> m.ports(2, port(w, ++i, word), i, w.get(i));
                default -> throw new MatchException(i + 1, w.get(i),
                        "tcp, udp, icmp, icmp6, arp, ip, ip6, host, src, dst, net, port, sport, dport, in, out or and");
            }
        }
        if ((m.spLo >= 0 || m.dpLo >= 0 || m.pLo >= 0) && m.proto != ANY && m.proto != 6 && m.proto != 17) {
            throw new MatchException(0, t, "ports only with tcp or udp (or no protocol)");
        }
        if ((m.src || m.dst || m.host) && m.proto == IP6) {
            throw new MatchException(0, t, "IPv4 addresses with ip6 can never match");
        }
        return m;
    }

    private void proto(int p, int i, String word) throws MatchException {
        if (proto != ANY) throw new MatchException(i + 1, word, "one protocol");
        proto = p;
    }

    private void ports(int which, int[] p, int i, String word) throws MatchException {
        int have = which == 0 ? pLo : which == 1 ? spLo : dpLo;
        if (have >= 0) throw new MatchException(i + 1, word, "one port condition of each kind");
        if (which == 0) { pLo = p[0]; pHi = p[1]; }
        else if (which == 1) { spLo = p[0]; spHi = p[1]; }
        else { dpLo = p[0]; dpHi = p[1]; }
    }

    private static int[] addr(List<String> w, int i, String after) throws MatchException {
        if (i >= w.size()) throw new MatchException(i + 1, "", "an IPv4 address or CIDR after '" + after + "'");
        String s = w.get(i);
        int slash = s.indexOf('/');
        String a = slash < 0 ? s : s.substring(0, slash);
        int len = 32;
        if (slash >= 0) {
            len = number(s.substring(slash + 1), 0, 32, i, s, "prefix length 0..32");
        }
        if (a.indexOf(':') >= 0) throw new MatchException(i + 1, s, "an IPv4 address (IPv6 addresses are not supported in expressions; 'ip6' selects IPv6)");
        String[] parts = a.split("\\.", -1);
        if (parts.length != 4) throw new MatchException(i + 1, s, "an IPv4 address A.B.C.D[/LEN]");
        int v = 0;
        for (String p : parts) v = (v << 8) | number(p, 0, 255, i, s, "an IPv4 address A.B.C.D[/LEN] (each part 0..255)");
        int mask = len == 0 ? 0 : -1 << (32 - len);
        return new int[] {v & mask, mask};
    }

    private static int[] port(List<String> w, int i, String after) throws MatchException {
        if (i >= w.size()) throw new MatchException(i + 1, "", "a port or range after '" + after + "'");
        String s = w.get(i);
        int dash = s.indexOf('-');
        if (dash < 0) {
            int p = number(s, 0, 65535, i, s, "a port 0..65535 or a range P1-P2");
            return new int[] {p, p};
        }
        int lo = number(s.substring(0, dash), 0, 65535, i, s, "a port range P1-P2 (0..65535)");
        int hi = number(s.substring(dash + 1), 0, 65535, i, s, "a port range P1-P2 (0..65535)");
        if (lo > hi) throw new MatchException(i + 1, s, "a port range with P1 <= P2");
        return new int[] {lo, hi};
    }

    private static int number(String s, int min, int max, int i, String word, String expected) throws MatchException {
        if (s.isEmpty() || s.length() > 5) throw new MatchException(i + 1, word, expected);
        int v = 0;
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c < '0' || c > '9') throw new MatchException(i + 1, word, expected);
            v = v * 10 + (c - '0');
        }
        if (v < min || v > max) throw new MatchException(i + 1, word, expected);
        return v;
    }

    /** Whether direction word allows a packet received on the port ({@code in}) or sent out of it. */
    public boolean allows(boolean received) {
        return direction == DIR_ANY || (direction == DIR_IN) == received;
    }

    /** Whether the Ethernet frame at absolute address {@code addr}, {@code len} bytes, matches. No allocation. */
    public boolean matches(long addr, int len) {
        if (len < 14 || unconstrained()) return unconstrained();
        int et = Mem.u16(addr + 12);
        int off = 14;
        for (int k = 0; k < 2 && (et == 0x8100 || et == 0x88A8) && off + 4 <= len; k++) {
            et = Mem.u16(addr + off + 2);
            off += 4;
        }
        if (matchL3(addr, len, et, off)) return true;
        // VXLAN: the inner frame
        if (et == 0x0800 && off + 20 + 8 + 8 + 14 <= len && Mem.u8(addr + off + 9) == 17) {
            int ihl = (Mem.u8(addr + off) & 0xF) * 4;
            int udp = off + ihl;
            if (udp + 16 + 14 <= len && Mem.u16(addr + udp + 2) == 4789) {
                long in = addr + udp + 16;
                int inLen = len - udp - 16;
                int iet = Mem.u16(in + 12);
                return matchL3(in, inLen, iet, 14);
            }
        }
        return false;
    }

    private boolean matchL3(long a, int len, int et, int off) {
        if (et == 0x0806) {
            if (proto != ANY && proto != ARP) return false;
            if (spLo >= 0 || dpLo >= 0 || pLo >= 0) return false;
            if (off + 28 > len) return !src && !dst && !host;
            int spa = (int) Mem.u32(a + off + 14);
            int tpa = (int) Mem.u32(a + off + 24);
            return addrs(spa, tpa);
        }
        if (proto == ARP) return false;
        int l4, p;
        if (et == 0x0800) {
            if (proto == IP6 || off + 20 > len) return false;
            int ihl = (Mem.u8(a + off) & 0xF) * 4;
            p = Mem.u8(a + off + 9);
            if (!addrs((int) Mem.u32(a + off + 12), (int) Mem.u32(a + off + 16))) return false;
            boolean later = (Mem.u16(a + off + 6) & 0x1FFF) != 0;
            l4 = later ? -1 : off + ihl;
        } else if (et == 0x86DD) {
            if (proto == IP4 || src || dst || host || off + 40 > len) return false;
            p = Mem.u8(a + off + 6);
            l4 = off + 40;
        } else {
            return unconstrained(); // another EtherType: only an expression without conditions matches it
        }
        if (proto >= 0 && proto != p) return false;
        if (spLo < 0 && dpLo < 0 && pLo < 0) return true;
        if ((p != 6 && p != 17) || l4 < 0 || l4 + 4 > len) return false;
        int sp = Mem.u16(a + l4);
        int dp = Mem.u16(a + l4 + 2);
        if (spLo >= 0 && (sp < spLo || sp > spHi)) return false;
        if (dpLo >= 0 && (dp < dpLo || dp > dpHi)) return false;
        return pLo < 0 || (sp >= pLo && sp <= pHi) || (dp >= pLo && dp <= pHi);
    }

    /** No protocol, address or port condition (a direction word at most): every frame matches. */
    private boolean unconstrained() {
        return proto == ANY && !src && !dst && !host && spLo < 0 && dpLo < 0 && pLo < 0;
    }

    private boolean addrs(int s, int d) {
        if (src && (s & srcMask) != srcAddr) return false;
        if (dst && (d & dstMask) != dstAddr) return false;
        return !host || (s & hostMask) == hostAddr || (d & hostMask) == hostAddr;
    }

    /** A word of an expression that cannot be read: which one (1-based; 0 = the whole), and what was expected. */
    public static final class MatchException extends Exception {
        public MatchException(int word, String got, String expected) {
            super("match expression: " + (word > 0 ? "word " + word + " '" + got + "'" : "'" + got + "'")
                    + ": expected " + expected);
        }
    }
}
