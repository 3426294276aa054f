package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.Net;
import io.sluice.dataplane.packet.Mem;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The 50 outer bytes of a VXLAN frame (RFC 7348: Ethernet, IPv4 without options, UDP, VXLAN), built two
 * ways that must give the same bytes:
 * <ul>
 *   <li>{@link #writePlain}: field by field, IPv4 header checksum over the 20 bytes ({@link Net#checksum});
 *       the reference, and how a template is made;</li>
 *   <li>a per-worker cache of templates ({@link #find} / {@link #write}): per (VTEP, VNI, next-hop MAC)
 *       the bytes that do not depend on the packet, as six little-endian 64-bit words and one 16-bit word,
 *       plus the one's-complement sum of the IPv4 header without its total length. Writing a header is
 *       seven stores with the per-packet fields (IPv4 total length, its checksum = that partial sum plus
 *       the length, UDP source port, UDP length) or-ed in.</li>
 * </ul>
 * The cache is direct-mapped ({@link #SLOTS} entries by a hash of VTEP and VNI; a collision rebuilds the
 * entry) and emptied when the snapshot changes ({@link #begin}), since the snapshot fixes our underlay MAC
 * and IP. One instance per encap stage (one writer, the worker); nothing allocates after construction.
 *
 * <p>Fixed fields: destination MAC = next hop, source MAC = our underlay MAC, EtherType IPv4; IPv4 version
 * 4, IHL 5, DSCP/ECN 0, identification 0, DF, TTL 64, protocol UDP, our underlay IP → VTEP; UDP destination
 * port 4789, checksum 0 (RFC 7348 over IPv4); VXLAN flags I, VNI, reserved bytes 0.
 */
final class OuterHeaders {
    static final int LEN = VxlanEncapStage.OVERHEAD;
    static final int SLOTS = 256;
    /** Words per entry: w0..w5 (bytes 0..47, little endian), w6 (bytes 48..49), the IPv4 partial sum. */
    private static final int W = 8;
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int[] keyVtep = new int[SLOTS];      // 0 = empty (VTEP 0 is never encapsulated to)
    private final int[] keyVni = new int[SLOTS];
    private final long[] keyMac = new long[SLOTS];
    private final long[] words = new long[SLOTS * W];
    private final long scratch = Arena.global().allocate(LEN, 8).address(); // where a template is built
    private Object snapshot;
    private long underlayMac;
    private int underlayIp;
    /** Templates built (cache misses), for tests. */
    long builds;

    /** Per burst: empties the cache when the snapshot (our underlay MAC / IP) changed. */
    void begin(OverlaySnapshot s) { begin(s, s.underlayMac, s.underlayIp); }

    /** Empties the cache unless {@code owner} is the one of the entries; our underlay MAC and IP from now on. */
    void begin(Object owner, long underlayMac, int underlayIp) {
        if (owner != snapshot) {
            snapshot = owner;
            this.underlayMac = underlayMac;
            this.underlayIp = underlayIp;
            Arrays.fill(keyVtep, 0);
        }
    }

    /** The entry (an index into the words, for {@link #write}) for this destination, built on a miss. */
    int find(int vtep, int vni, long nhMac) {
        int slot = (int) (((vtep * 0x9E37_79B9L) ^ (vni * 0x85EB_CA6BL)) >>> 16) & (SLOTS - 1);
        if (keyVtep[slot] != vtep || keyVni[slot] != vni || keyMac[slot] != nhMac) {
            build(slot, vtep, vni, nhMac);
        }
        return slot * W;
    }

    private void build(int slot, int vtep, int vni, long nhMac) {
        builds++;
        long t = scratch;
        writePlain(t, nhMac, underlayMac, underlayIp, vtep, vni, 0, 0);
        // the per-packet fields are or-ed in by write(): IPv4 total length, its checksum, UDP length (sport is 0)
        Mem.put16(t + 16, 0);
        Mem.put16(t + 24, 0);
        Mem.put16(t + 38, 0);
        int e = slot * W;
        for (int k = 0; k < 6; k++) {
            words[e + k] = Mem.ALL.get(LONG_LE, t + 8L * k);
        }
        words[e + 6] = Mem.ALL.get(SHORT_LE, t + 48) & 0xFFFFL;
        words[e + 7] = Net.sum16(t + 14, 20, 0); // < 10 * 0xFFFF: no overflow with a length added
        keyVtep[slot] = vtep;
        keyVni[slot] = vni;
        keyMac[slot] = nhMac;
    }

    /** Writes the outer headers of entry {@code e} for an inner frame of innerLen bytes at o. */
    void write(long o, int e, int innerLen, int sport) {
        long[] w = words;
        int total = innerLen + 36;
        int csum = Net.fold(w[e + 7] + total);
        Mem.ALL.set(LONG_LE, o, w[e]);
        Mem.ALL.set(LONG_LE, o + 8, w[e + 1]);
        Mem.ALL.set(LONG_LE, o + 16, w[e + 2] | be16(total));
        Mem.ALL.set(LONG_LE, o + 24, w[e + 3] | be16(csum));
        Mem.ALL.set(LONG_LE, o + 32, w[e + 4] | be16(sport) << 16 | be16(innerLen + 16) << 48); // bytes 34, 38
        Mem.ALL.set(LONG_LE, o + 40, w[e + 5]);
        Mem.ALL.set(SHORT_LE, o + 48, (short) w[e + 6]);
    }

    /** A 16-bit value as its two network-order bytes at the start of a little-endian word. */
    private static long be16(int v) {
        return ((v >>> 8) & 0xFF) | (v & 0xFF) << 8;
    }

    /** The reference: the 50 outer bytes at o, field by field (big-endian stores, full header checksum). */
    static void writePlain(long o, long nhMac, long underlayMac, int underlayIp, int vtep, int vni, int innerLen, int sport) {
        Mem.putMac(o, nhMac);
        Mem.putMac(o + 6, underlayMac);
        Mem.put16(o + 12, Net.ETHERTYPE_IPV4);
        long ip = o + 14;
        Mem.put32(ip, 0x4500_0000 | (innerLen + 36));
        Mem.put32(ip + 4, 0x0000_4000);
        Mem.put32(ip + 8, (64 << 24) | (17 << 16));
        Mem.put32(ip + 12, underlayIp);
        Mem.put32(ip + 16, vtep);
        Mem.put16(ip + 10, Net.checksum(ip, 20));
        long udp = ip + 20;
        Mem.put32(udp, (sport << 16) | VxlanDecapStage.VXLAN_PORT);
        Mem.put32(udp + 4, (innerLen + 16) << 16);
        Mem.put32(udp + 8, 0x0800_0000);
        Mem.put32(udp + 12, vni << 8);
    }
}
