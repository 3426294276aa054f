package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.Net;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.ffi.Mbuf;
import io.sluice.dataplane.ffi.Shim;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Offload;
import io.sluice.dataplane.offload.SoftOffload;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;

/**
 * VXLAN encapsulation (RFC 7348) towards a remote VTEP, for {@code CONTINUE} packets whose
 * meta encapVtep ≠ 0 (set by {@link RouteStage} or by a reply to a remote sender).
 *
 * <p>MTU: an inner frame longer than {@code underlayMtu - 36} bytes (inner IP packet larger
 * than MTU - 50) cannot be carried: it is replaced by ICMP "fragmentation needed" (IPv4, next-hop
 * MTU = underlay MTU - 50) or ICMPv6 "packet too big" back to the sending VM, counted as
 * {@link OverlayDrop#TOO_BIG} (or dropped with {@link OverlayDrop#ICMP_SUPPRESSED}).
 *
 * <p>Next hop: the VTEP itself when on the underlay subnet, else the underlay gateway; its MAC
 * is the static next-hop MAC if configured, else from {@link UnderlayNeighbours}. When unknown,
 * the packet is turned into an ARP request for the next hop (at most one per second per next
 * hop) or dropped, both counted as {@link OverlayDrop#NO_NEXT_HOP}.
 *
 * <p>Otherwise prepends 50 bytes ({@code data} moves back into the mbuf headroom), written from a
 * per-destination template ({@link OuterHeaders}; the same bytes as {@link OuterHeaders#writePlain}): outer
 * Ethernet (next-hop MAC, our underlay MAC), IPv4 (DF, TTL 64, header checksum, our underlay
 * IP → VTEP), UDP (source port 49152 + 14-bit flow hash of the inner MACs, IPs and L4 ports,
 * destination 4789, checksum 0 as RFC 7348 allows over IPv4), VXLAN (I flag, VNI of the zone).
 * Sets the parser fields to describe the outer packet, {@code TX} on the uplink, counts
 * txPackets[zone].
 *
 * <p>Multi-segment frames: only the first segment's headroom is used (the chain stays behind it);
 * when the frame's mbuf has less than 50 bytes of headroom, the outer headers go into a fresh mbuf of
 * the same pool chained before it ({@code NO_MBUF} when the pool is empty);
 * a GSO frame ({@link Offload#GSO}) is checked against the MTU by the segments it will become
 * (headers + MSS), not its 64 KB length; the outer packet is flagged
 * {@link PacketFlags#VXLAN_ENCAP} so the egress completes the inner checksum / segments the inner
 * TCP frame in software (docs/vms.md).
 *
 * <p>Uses: next, data, length, l3Offset, l4Offset, etherType, flags; meta zone, srcVm, encapVtep,
 * nowNs. Sets: data, length, parser fields, next/outPort.
 */
public final class VxlanEncapStage implements Stage {
    public static final int OVERHEAD = 50;

    private final OverlayState state;
    private final OverlayMeta meta;
    private final UnderlayNeighbours neighbours;
    /** Outer header templates per (VTEP, VNI, next-hop MAC): this stage's, one writer. */
    final OuterHeaders headers = new OuterHeaders();

    public VxlanEncapStage(OverlayState state, OverlayMeta meta, UnderlayNeighbours neighbours) {
        this.state = state;
        this.meta = meta;
        this.neighbours = neighbours;
    }

    @Override
    public int process(Burst b) {
        OverlaySnapshot s = state.current();
        OverlayMeta m = meta;
        int maxInner = s.underlayMtu - 36;
        headers.begin(s);
        int acted = 0;
        for (int i = 0; i < b.count; i++) {
            int vtep = m.encapVtep[i];
            if (b.next[i] != Next.CONTINUE || vtep == 0) {
                continue;
            }
            acted++;
            int zone = m.zone[i];
            int innerLen = b.length[i];
            // a GSO frame (a guest's 64 KB TSO frame) leaves as segments of its MSS
            int wireLen = (b.offload[i] & Offload.GSO) == 0 ? innerLen : SoftOffload.gsoWireLength(b, i);
            if (wireLen > maxInner) {
                tooBig(b, i, s, m);
                continue;
            }
            long nhMac = s.staticNextHopMac;
            int nextHop = 0;
            if (nhMac < 0) {
                nextHop = s.underlayNextHop(vtep);
                nhMac = neighbours.lookup(nextHop, m.nowNs);
            }
            if (nhMac < 0) {
                m.drops[OverlayDrop.NO_NEXT_HOP.ordinal()]++;
                if (neighbours.requestDue(nextHop, m.nowNs)) {
                    b.rewritten(i, ArpFrames.request(b.data[i], s.underlayMac, s.underlayIp, nextHop));
                    b.flags[i] = PacketFlags.ARP | PacketFlags.BROADCAST;
                    b.etherType[i] = (short) Net.ETHERTYPE_ARP;
                    m.reason[i] = (byte) OverlayDrop.NO_NEXT_HOP.ordinal();
                    m.arpRequestsSent++;
                    b.tx(i, s.uplinkPort);
                } else {
                    b.drop(i, OverlayDrop.NO_NEXT_HOP.dropReason);
                    m.reason[i] = (byte) OverlayDrop.NO_NEXT_HOP.ordinal();
                }
                continue;
            }
            long inner = b.data[i];
            int sport = 49152 | (flowHash(b, i, inner) & 0x3FFF);
            long o = inner - OVERHEAD;
            long mb = b.mbuf[i];
            boolean headerMbuf = mb != 0 && inner - Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, mb + Mbuf.BUF_ADDR) < OVERHEAD;
            if (headerMbuf) {
                // no headroom in front of the frame: the outer headers go in a mbuf of their own, chained before it
                o = chainHeaderMbuf(b, i, mb, inner);
                if (o == 0) {
                    b.drop(i, DropReason.NO_MBUF);
                    continue;
                }
            }
            headers.write(o, headers.find(vtep, s.zoneVni[zone], nhMac), innerLen, sport);
            b.data[i] = o;
            b.length[i] = innerLen + OVERHEAD;
            if (headerMbuf) b.tailLen[i] = innerLen; // the first segment holds the 50 outer bytes only
            b.etherType[i] = (short) Net.ETHERTYPE_IPV4;
            b.l3Offset[i] = Net.ETH_LEN;
            b.l4Offset[i] = 34;
            b.ipProto[i] = 17;
            b.vlan[i] = -1;
            b.flags[i] = PacketFlags.IPV4 | PacketFlags.UDP | PacketFlags.VXLAN_ENCAP;
            b.tx(i, s.uplinkPort);
            m.txPackets[zone]++;
        }
        return acted;
    }

    /** One rte_mbuf* slot for {@link #chainHeaderMbuf} (native, made once per stage). */
    private final MemorySegment one = MemorySegment.ofAddress(Arena.global().allocate(8, 8).address()).reinterpret(8);
    private long poolAddr;
    private MemorySegment poolSeg;

    /**
     * Takes a fresh mbuf from the frame's pool for the 50 outer bytes and chains the frame's mbuf
     * {@code mb} (its data_off/data_len set to the frame as the stages left it) behind it; makes it
     * packet i's mbuf. Returns the address to write the outer headers at, or 0 when the pool is empty.
     */
    private long chainHeaderMbuf(Burst b, int i, long mb, long inner) {
        long pool = Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, mb + Mbuf.POOL);
        if (pool != poolAddr) {
            poolAddr = pool;
            poolSeg = MemorySegment.ofAddress(pool);
        }
        if (Shim.mbufAllocBulk(poolSeg, one, 1) != 0) return 0;
        long h = one.get(ValueLayout.JAVA_LONG, 0);
        long bufAddr = Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, mb + Mbuf.BUF_ADDR);
        Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, mb + Mbuf.DATA_OFF, (short) (inner - bufAddr));
        Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, mb + Mbuf.DATA_LEN, (short) b.headLen(i));
        Mem.ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, h + Mbuf.NEXT, mb);
        Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, h + Mbuf.NB_SEGS, (short) (Mbuf.nbSegs(mb) + 1));
        Mbuf.setLength(h, OVERHEAD);
        b.mbuf[i] = h;
        return Mbuf.data(h);
    }

    private static void tooBig(Burst b, int i, OverlaySnapshot s, OverlayMeta m) {
        int srcVm = m.srcVm[i];
        int et = b.etherType[i] & 0xFFFF;
        int mtu = s.underlayMtu - OVERHEAD;
        boolean built = srcVm >= 0 && s.vmPort[srcVm] >= 0 && (et == Net.ETHERTYPE_IPV4
                ? IcmpErrors.ipv4(b, i, s, srcVm, IcmpErrors.V4_UNREACHABLE, IcmpErrors.V4_FRAG_NEEDED, mtu)
                : et == Net.ETHERTYPE_IPV6 && IcmpErrors.ipv6(b, i, s, srcVm, IcmpErrors.V6_PACKET_TOO_BIG, mtu));
        if (!built) {
            m.drop(b, i, OverlayDrop.ICMP_SUPPRESSED);
            return;
        }
        m.drops[OverlayDrop.TOO_BIG.ordinal()]++;
        m.icmpErrors++;
        m.encapVtep[i] = 0;
        b.tx(i, b.inPort[i]);
        m.txPackets[m.zone[i]]++;
    }

    /** Flow hash over inner MACs, IPv4/IPv6 addresses and TCP/UDP ports (symmetric is not needed). */
    static int flowHash(Burst b, int i, long d) {
        long h = Mem.i64(d) * 0x9E37_79B9_7F4A_7C15L ^ Mem.u32(d + 8);
        int flags = b.flags[i];
        long ip = d + b.l3Offset[i];
        if ((flags & PacketFlags.IPV4) != 0) {
            h = (h ^ Mem.i64(ip + 12)) * 0xC2B2_AE3D_27D4_EB4FL;
        } else if ((flags & PacketFlags.IPV6) != 0) {
            h = (h ^ Mem.i64(ip + 8) ^ Mem.i64(ip + 16)) * 0xC2B2_AE3D_27D4_EB4FL;
            h = (h ^ Mem.i64(ip + 24) ^ Mem.i64(ip + 32)) * 0x9E37_79B9_7F4A_7C15L;
        }
        if ((flags & (PacketFlags.TCP | PacketFlags.UDP)) != 0 && b.l4Offset[i] > 0) {
            h = (h ^ Mem.u32(d + b.l4Offset[i])) * 0xC2B2_AE3D_27D4_EB4FL;
        }
        h ^= h >>> 29;
        h *= 0xBF58_476D_1CE4_E5B9L;
        return (int) (h ^ (h >>> 32));
    }

    @Override
    public String name() { return "vxlan-encap"; }
}
