package io.sluice.dataplane.conntrack;

/**
 * The canonical, direction-free key of a packet's connection and its symmetric hash. A mutable
 * scratch object: one per tracker (or per router), refilled per packet, never allocated per packet.
 *
 * <p><b>Canonical order.</b> The two endpoints (address, port) are sorted as unsigned numbers;
 * the smaller is endpoint A. Both directions of a flow therefore produce the same key and the
 * same hash, and an entry stores one bit saying whether the connection's initiator is A. For
 * ICMP echo both "ports" are the identifier, and the key also carries which endpoint is the
 * requester, so A pinging B and B pinging A with the same identifier stay two connections.
 *
 * <p><b>Symmetric hash.</b> {@link #hash} is a function of the canonical key only, so it is the
 * same in both directions; {@link #shardOf} maps it to a worker shard. Workers that own
 * conntrack shards must route a packet to {@code shardOf(hash, n)} (or configure the NIC with a
 * symmetric RSS key and the same mapping); then both directions of every flow reach one
 * shard and one writer.
 */
public final class FlowKey {
    public long aHi, aLo, bHi, bLo;
    /** {@code aPort << 48 | bPort << 32 | zone}. */
    public long portsZone;
    /** {@code proto | family << 8}. */
    public int protoFamily;
    /** True when the packet's source is endpoint A. */
    public boolean srcIsA;
    /** For ICMP echo: the packet's direction given by its type (0 request = original, 1 reply); -1 otherwise. */
    public int icmpDir;
    public long hash;
    /** Non-zero 32-bit tag stored in the table's tag array (high half of the hash). */
    public int tag;

    private final long seed;

    public FlowKey(long seed) { this.seed = seed; }

    /**
     * Fills the key from a packet's own header. Returns false when the packet has no
     * connection key (an ICMP type that is neither echo nor an error; errors use {@link #fromQuoted}).
     */
    public boolean fromPacket(CtPacket p) {
        int proto = p.proto;
        if (Icmp.isIcmpProto(proto)) {
            boolean req = Icmp.isEchoRequest(p.family, p.icmpType);
            if (!req && !Icmp.isEchoReply(p.family, p.icmpType)) return false;
            setIcmp(p.zone, p.family, proto, p.srcHi, p.srcLo, p.dstHi, p.dstLo, p.sport, req);
            return true;
        }
        boolean ports = proto == CtPacket.IPPROTO_TCP || proto == CtPacket.IPPROTO_UDP;
        set(p.zone, p.family, proto, p.srcHi, p.srcLo, ports ? p.sport : 0, p.dstHi, p.dstLo, ports ? p.dport : 0);
        return true;
    }

    /** Fills the key from the header quoted in an ICMP error; false if the quoted packet cannot be tracked. */
    public boolean fromQuoted(CtPacket p) {
        int proto = p.qProto;
        if (Icmp.isIcmpProto(proto)) {
            boolean req = Icmp.isEchoRequest(p.family, p.qIcmpType);
            if (!req && !Icmp.isEchoReply(p.family, p.qIcmpType)) return false;
            setIcmp(p.zone, p.family, proto, p.qSrcHi, p.qSrcLo, p.qDstHi, p.qDstLo, p.qSport, req);
            return true;
        }
        boolean ports = proto == CtPacket.IPPROTO_TCP || proto == CtPacket.IPPROTO_UDP;
        set(p.zone, p.family, proto, p.qSrcHi, p.qSrcLo, ports ? p.qSport : 0, p.qDstHi, p.qDstLo, ports ? p.qDport : 0);
        return true;
    }

    private void set(int zone, int family, int proto, long sHi, long sLo, int sport, long dHi, long dLo, int dport) {
        boolean srcA = compare(sHi, sLo, sport, dHi, dLo, dport) <= 0;
        srcIsA = srcA;
        icmpDir = -1;
        if (srcA) {
            aHi = sHi; aLo = sLo; bHi = dHi; bLo = dLo;
            portsZone = ((long) (sport & 0xFFFF) << 48) | ((long) (dport & 0xFFFF) << 32) | (zone & 0xFFFF_FFFFL);
        } else {
            aHi = dHi; aLo = dLo; bHi = sHi; bLo = sLo;
            portsZone = ((long) (dport & 0xFFFF) << 48) | ((long) (sport & 0xFFFF) << 32) | (zone & 0xFFFF_FFFFL);
        }
        protoFamily = (proto & 0xFF) | (family & 0xFF) << 8;
        finish();
    }

    private void setIcmp(int zone, int family, int proto, long sHi, long sLo, long dHi, long dLo, int id, boolean request) {
        int c = compare(sHi, sLo, 0, dHi, dLo, 0);
        boolean srcA = c <= 0;
        srcIsA = srcA;
        icmpDir = request ? TcpTransitions.ORIGINAL : TcpTransitions.REPLY;
        // requester = source of a request, destination of a reply; with equal addresses it is A by definition
        boolean requesterIsA = c == 0 || (request == srcA);
        if (srcA) { aHi = sHi; aLo = sLo; bHi = dHi; bLo = dLo; } else { aHi = dHi; aLo = dLo; bHi = sHi; bLo = sLo; }
        portsZone = ((long) (id & 0xFFFF) << 48) | ((requesterIsA ? 1L : 0L) << 32) | (zone & 0xFFFF_FFFFL);
        protoFamily = (proto & 0xFF) | (family & 0xFF) << 8;
        finish();
    }

    private static int compare(long aHi, long aLo, int aPort, long bHi, long bLo, int bPort) {
        int c = Long.compareUnsigned(aHi, bHi);
        if (c != 0) return c;
        c = Long.compareUnsigned(aLo, bLo);
        if (c != 0) return c;
        return Integer.compare(aPort & 0xFFFF, bPort & 0xFFFF);
    }

    private void finish() {
        long h = hash(seed, aHi, aLo, bHi, bLo, portsZone, protoFamily);
        hash = h;
        int t = (int) (h >>> 32);
        tag = t == 0 ? 1 : t;
    }

    /** Keyed, non-cryptographic 64-bit hash of a canonical key (independent lanes, then a 64-bit finalizer). */
    public static long hash(long seed, long aHi, long aLo, long bHi, long bLo, long portsZone, int protoFamily) {
        long h1 = (aLo ^ seed) * 0x9E3779B97F4A7C15L;
        long h2 = (bLo ^ Long.rotateLeft(seed, 17)) * 0xC2B2AE3D27D4EB4FL;
        long h3 = (aHi ^ Long.rotateLeft(seed, 31)) * 0x165667B19E3779F9L;
        long h4 = (bHi ^ Long.rotateLeft(seed, 47)) * 0xD6E8FEB86659FD93L;
        long h5 = (portsZone ^ ((long) protoFamily << 20) ^ Long.rotateLeft(seed, 5)) * 0xFF51AFD7ED558CCDL;
        long h = Long.rotateLeft(h1, 13) ^ Long.rotateLeft(h2, 29) ^ h3 ^ Long.rotateLeft(h4, 43) ^ Long.rotateLeft(h5, 53);
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        h ^= h >>> 33;
        return h;
    }

    /** The shard (0..shards-1) that owns the flow of this hash: uses the low 32 bits (the table uses the high 32). */
    public static int shardOf(long hash, int shards) {
        return (int) (((hash & 0xFFFF_FFFFL) * shards) >>> 32);
    }
}
