package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.config.Net;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Arrays;

import static io.sluice.dataplane.overlay.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

class OverlayStagesTest {
    private final Arena arena = Arena.ofConfined();
    private final Buffers buf = new Buffers(arena, 8);
    private final Burst b = new Burst(8);
    private final Pipeline host1 = new Pipeline(compile(host1Model(NEXT_HOP_MAC)), 8);

    @AfterEach
    void close() { arena.close(); }

    private void one(Pipeline p) {
        b.count = 1;
        p.run(b);
    }

    private void assertDropped(Pipeline p, OverlayDrop r) {
        assertEquals(Next.DROP, b.next[0], "expected drop " + r + " but next=" + b.next[0] + " reason=" + p.reason(0));
        assertEquals(r, p.reason(0));
        assertEquals(r.dropReason.ordinal(), b.dropReason[0]);
    }

    @Test
    void sameSubnetIsL2AndUnchanged() {
        long d = buf.frame(0);
        int len = udp4(b, 0, d, 1, B2_MAC, B1_MAC, B1_IP, B2_IP, 64, 100);
        byte[] before = buf.bytes(d, len);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(2, b.outPort[0]);
        assertArrayEquals(before, buf.bytes(b.data[0], b.length[0]));
        assertEquals(1, host1.meta.rxPackets[1]);
        assertEquals(1, host1.meta.txPackets[1]);
    }

    @Test
    void otherSubnetIsRoutedWithTtlAndMacRewrite() {
        long d = buf.frame(0);
        int len = udp4(b, 0, d, 1, ROUTER, B1_MAC, B1_IP, B3_IP, 64, 60);
        byte[] before = buf.bytes(d, len);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(3, b.outPort[0]);
        assertEquals(B3_MAC, Mem.mac(d));
        assertEquals(ROUTER, Mem.mac(d + 6));
        assertEquals(63, Mem.u8(d + 14 + 8));
        assertEquals(0, Net.checksum(d + 14, 20), "IPv4 header checksum must verify");
        byte[] after = buf.bytes(d, len);
        // only MACs, TTL and checksum changed
        for (int k = 12; k < len; k++) {
            if (k != 22 && k != 24 && k != 25) {
                assertEquals(before[k], after[k], "byte " + k);
            }
        }
    }

    @Test
    void ttlOneBecomesIcmpTimeExceededToSender() {
        long d = buf.frame(0);
        int len = udp4(b, 0, d, 1, ROUTER, B1_MAC, B1_IP, B3_IP, 1, 40);
        byte[] origIp = buf.bytes(d + 14, len - 14);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(1, b.outPort[0]);
        long n = b.data[0];
        assertEquals(d - 28, n);
        assertEquals(B1_MAC, Mem.mac(n));
        assertEquals(ROUTER, Mem.mac(n + 6));
        assertEquals(0x0800, Mem.u16(n + 12));
        long ip = n + 14;
        assertEquals(0x45, Mem.u8(ip));
        assertEquals(b.length[0] - 14, Mem.u16(ip + 2));
        assertEquals(1, Mem.u8(ip + 9));
        assertEquals(GW_A, Mem.i32(ip + 12));
        assertEquals(B1_IP, Mem.i32(ip + 16));
        assertEquals(0, Net.checksum(ip, 20));
        assertEquals(11, Mem.u8(ip + 20));
        assertEquals(0, Mem.u8(ip + 21));
        assertEquals(0, Net.checksum(ip + 20, b.length[0] - 34), "ICMP checksum must verify");
        assertArrayEquals(origIp, buf.bytes(ip + 28, origIp.length), "quotes the original IP packet");
        assertEquals(1, host1.meta.drops(OverlayDrop.TTL_EXPIRED));
    }

    @Test
    void icmpErrorIsNotAnsweredWithIcmpError() {
        long d = buf.frame(0);
        udp4(b, 0, d, 1, ROUTER, B1_MAC, B1_IP, B3_IP, 1, 40);
        Mem.put8(d + 14 + 9, 1);          // protocol ICMP
        Mem.put8(d + 34, 3);               // destination unreachable
        one(host1);
        assertDropped(host1, OverlayDrop.ICMP_SUPPRESSED);
    }

    @Test
    void networksWithTheSameCidrNeverMeet() {
        long d = buf.frame(0);
        // red r1 (10.0.1.10, like blue b1) sends to blue b2's MAC: unknown in red
        udp4(b, 0, d, 4, B2_MAC, R1_MAC, R1_IP, B2_IP, 64, 20);
        one(host1);
        assertDropped(host1, OverlayDrop.UNKNOWN_DESTINATION);
        // red r1 routes to 10.0.2.10 (exists only in blue)
        udp4(b, 0, d, 4, ROUTER, R1_MAC, R1_IP, B3_IP, 64, 20);
        one(host1);
        assertDropped(host1, OverlayDrop.UNKNOWN_DESTINATION);
        // red r1 to 10.0.1.11 (r2 in red, remote on host 3) is encapsulated with red's VNI to host 3
        udp4(b, 0, d, 4, R2_MAC, R1_MAC, R1_IP, R2_IP, 64, 20);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(HOST3, Mem.i32(b.data[0] + 30));
        assertEquals(200, (int) (Mem.u32(b.data[0] + 46) >>> 8));
    }

    @Test
    void spoofedSourcesAreDropped() {
        long d = buf.frame(0);
        udp4(b, 0, d, 1, B2_MAC, B2_MAC, B1_IP, B2_IP, 64, 20);
        one(host1);
        assertDropped(host1, OverlayDrop.SPOOF_SRC_MAC);
        udp4(b, 0, d, 1, B2_MAC, B1_MAC, B2_IP, B2_IP, 64, 20);
        one(host1);
        assertDropped(host1, OverlayDrop.SPOOF_SRC_IP);
        arp(b, 0, d, 1, Net.BROADCAST_MAC, B1_MAC, 1, B1_MAC, B2_IP, 0, B2_IP);
        one(host1);
        assertDropped(host1, OverlayDrop.SPOOF_ARP);
        arp(b, 0, d, 1, Net.BROADCAST_MAC, B1_MAC, 2, B2_MAC, B1_IP, 0, GW_A);
        one(host1);
        assertDropped(host1, OverlayDrop.SPOOF_ARP);
        udp6(b, 0, d, 1, B2_MAC, B1_MAC, B2_IP6, B2_IP6, 64, 10);
        one(host1);
        assertDropped(host1, OverlayDrop.SPOOF_SRC_IP);
        // the neighbour's own traffic still flows
        udp4(b, 0, d, 2, B1_MAC, B2_MAC, B2_IP, B1_IP, 64, 20);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(1, b.outPort[0]);
        assertEquals(1, host1.meta.drops(OverlayDrop.SPOOF_SRC_MAC));
        assertEquals(2, host1.meta.drops(OverlayDrop.SPOOF_SRC_IP));
        assertEquals(2, host1.meta.drops(OverlayDrop.SPOOF_ARP));
    }

    @Test
    void gratuitousArpForOwnAddressIsAbsorbed() {
        long d = buf.frame(0);
        arp(b, 0, d, 1, Net.BROADCAST_MAC, B1_MAC, 1, B1_MAC, B1_IP, 0, B1_IP);
        one(host1);
        assertDropped(host1, OverlayDrop.ARP_ABSORBED);
    }

    @Test
    void arpForGatewayAndSameSubnetVmIsAnsweredLocally() {
        long d = buf.frame(0);
        arp(b, 0, d, 1, Net.BROADCAST_MAC, B1_MAC, 1, B1_MAC, B1_IP, 0, GW_A);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(1, b.outPort[0]);
        checkArpReply(d, ROUTER, GW_A);
        arp(b, 0, d, 1, Net.BROADCAST_MAC, B1_MAC, 1, B1_MAC, B1_IP, 0, B2_IP);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        checkArpReply(d, B2_MAC, B2_IP);
        // remote VM of the same subnet is answered too (no flooding into the overlay)
        arp(b, 0, d, 1, Net.BROADCAST_MAC, B1_MAC, 1, B1_MAC, B1_IP, 0, B4_IP);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        checkArpReply(d, B4_MAC, B4_IP);
        arp(b, 0, d, 1, Net.BROADCAST_MAC, B1_MAC, 1, B1_MAC, B1_IP, 0, B3_IP);
        one(host1);
        assertDropped(host1, OverlayDrop.ARP_UNKNOWN_TARGET);
        arp(b, 0, d, 1, Net.BROADCAST_MAC, B1_MAC, 1, B1_MAC, B1_IP, 0, GW_B);
        one(host1);
        assertDropped(host1, OverlayDrop.ARP_UNKNOWN_TARGET);
        arp(b, 0, d, 1, Net.BROADCAST_MAC, B1_MAC, 1, B1_MAC, B1_IP, 0, ip("10.0.1.99"));
        one(host1);
        assertDropped(host1, OverlayDrop.ARP_UNKNOWN_TARGET);
    }

    private void checkArpReply(long d, long answerMac, int answerIp) {
        assertEquals(B1_MAC, Mem.mac(d));
        assertEquals(answerMac, Mem.mac(d + 6));
        assertEquals(0x0806, Mem.u16(d + 12));
        assertEquals(0x0001_0800, Mem.i32(d + 14));
        assertEquals(0x0604_0002, Mem.i32(d + 18));
        assertEquals(answerMac, Mem.mac(d + 22));
        assertEquals(answerIp, Mem.i32(d + 28));
        assertEquals(B1_MAC, Mem.mac(d + 32));
        assertEquals(B1_IP, Mem.i32(d + 38));
    }

    @Test
    void neighbourSolicitationForGatewayIsAnswered() {
        long d = buf.frame(0);
        ns(b, 0, d, 1, B1_MAC, B1_IP6, GW6_A);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(1, b.outPort[0]);
        assertEquals(86, b.length[0]);
        assertEquals(B1_MAC, Mem.mac(d));
        assertEquals(ROUTER, Mem.mac(d + 6));
        long ip = d + 14;
        assertEquals(32, Mem.u16(ip + 4));
        assertEquals(58, Mem.u8(ip + 6));
        assertEquals(255, Mem.u8(ip + 7));
        assertEquals(GW6_A.hi(), Mem.i64(ip + 8));
        assertEquals(GW6_A.lo(), Mem.i64(ip + 16));
        assertEquals(B1_IP6.hi(), Mem.i64(ip + 24));
        assertEquals(B1_IP6.lo(), Mem.i64(ip + 32));
        long icmp = ip + 40;
        assertEquals(136, Mem.u8(icmp));
        assertEquals(0xE0, Mem.u8(icmp + 4), "R, S, O flags");
        assertEquals(GW6_A.lo(), Mem.i64(icmp + 16));
        assertEquals(2, Mem.u8(icmp + 24));
        assertEquals(ROUTER, Mem.mac(icmp + 26));
        assertEquals(0, Net.fold(Net.sum16(icmp, 32, Net.ipv6PseudoSum(ip, 32, 58))), "ICMPv6 checksum must verify");
        ns(b, 0, d, 1, B1_MAC, B1_IP6, B2_IP6);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(B2_MAC, Mem.mac(d + 6));
        assertEquals(0x60, Mem.u8(d + 54 + 4), "S, O flags, no R for a VM");
        ns(b, 0, d, 1, B1_MAC, B1_IP6, B3_IP6);
        one(host1);
        assertDropped(host1, OverlayDrop.ARP_UNKNOWN_TARGET);
    }

    @Test
    void ipv6IsRoutedBetweenSubnetsWithHopLimit() {
        long d = buf.frame(0);
        int len = udp6(b, 0, d, 1, ROUTER, B1_MAC, B1_IP6, B3_IP6, 64, 30);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(3, b.outPort[0]);
        assertEquals(B3_MAC, Mem.mac(d));
        assertEquals(ROUTER, Mem.mac(d + 6));
        assertEquals(63, Mem.u8(d + 14 + 7));
        assertEquals(len, b.length[0]);
        udp6(b, 0, d, 1, ROUTER, B1_MAC, B1_IP6, B3_IP6, 1, 30);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        long n = b.data[0];
        assertEquals(d - 48, n);
        long ip = n + 14;
        assertEquals(3, Mem.u8(ip + 40));
        assertEquals(GW6_A.lo(), Mem.i64(ip + 16));
        int plen = Mem.u16(ip + 4);
        assertEquals(8 + len - 14, plen);
        assertEquals(0, Net.fold(Net.sum16(ip + 40, plen, Net.ipv6PseudoSum(ip, plen, 58))));
    }

    @Test
    void remoteVmIsEncapsulatedWithCorrectOuterHeaders() {
        long d = buf.frame(0);
        int len = udp4(b, 0, d, 1, B4_MAC, B1_MAC, B1_IP, B4_IP, 64, 100);
        byte[] inner = buf.bytes(d, len);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(UPLINK, b.outPort[0]);
        long o = b.data[0];
        assertEquals(d - 50, o);
        assertEquals(len + 50, b.length[0]);
        assertEquals(NEXT_HOP_MAC, Mem.mac(o));
        assertEquals(UNDERLAY_MAC1, Mem.mac(o + 6));
        assertEquals(0x0800, Mem.u16(o + 12));
        long ip = o + 14;
        assertEquals(0x45, Mem.u8(ip));
        assertEquals(len + 36, Mem.u16(ip + 2));
        assertEquals(0x4000, Mem.u16(ip + 6), "DF");
        assertEquals(64, Mem.u8(ip + 8));
        assertEquals(17, Mem.u8(ip + 9));
        assertEquals(HOST1, Mem.i32(ip + 12));
        assertEquals(HOST2, Mem.i32(ip + 16));
        assertEquals(0, Net.checksum(ip, 20));
        long udp = ip + 20;
        assertTrue(Mem.u16(udp) >= 49152);
        assertEquals(4789, Mem.u16(udp + 2));
        assertEquals(len + 16, Mem.u16(udp + 4));
        assertEquals(0, Mem.u16(udp + 6));
        assertEquals(0x08, Mem.u8(udp + 8));
        assertEquals(100, (int) (Mem.u32(udp + 12) >>> 8));
        assertArrayEquals(inner, buf.bytes(o + 50, len));
    }

    @Test
    void encapThenDecapOnTheOtherHostDeliversTheOriginalFrame() {
        Pipeline host2 = new Pipeline(compile(host2Model(NEXT_HOP_MAC)), 8);
        long d = buf.frame(0);
        int len = udp4(b, 0, d, 1, B4_MAC, B1_MAC, B1_IP, B4_IP, 64, 200);
        byte[] inner = buf.bytes(d, len);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        parsedOuter(b, 0, b.data[0], b.length[0]);
        one(host2);
        assertEquals(Next.TX, b.next[0], () -> "reason " + host2.reason(0));
        assertEquals(1, b.outPort[0]);
        assertEquals(d, b.data[0]);
        assertArrayEquals(inner, buf.bytes(b.data[0], b.length[0]));
        assertEquals(1, host2.meta.rxPackets[1]);
    }

    @Test
    void decapRejectsWhatItMust() {
        Pipeline host2 = new Pipeline(compile(host2Model(NEXT_HOP_MAC)), 8);
        long d = buf.frame(0);
        // red packet from host 1 to r2... r2 lives on host 3: encapsulate towards host 3, then replay to host 2
        udp4(b, 0, d, 4, R2_MAC, R1_MAC, R1_IP, R2_IP, 64, 20);
        one(host1);
        long o = b.data[0];
        int olen = b.length[0];
        byte[] outer = buf.bytes(o, olen);

        // host 2 is not the destination underlay address
        parsedOuter(b, 0, o, olen);
        one(host2);
        assertDropped(host2, OverlayDrop.VXLAN_NOT_FOR_US);

        // rewrite destination to host 2: red VNI from host 1 is allowed (r1 lives there) ...
        Mem.put32(o + 30, HOST2);
        parsedOuter(b, 0, o, olen);
        one(host2);
        assertEquals(OverlayDrop.OVERLAY_HAIRPIN, host2.reason(0), "decapsulated, but r2 lives on host 3: never re-encapsulated");

        // ... but a VTEP hosting no VM of the network may not use its VNI: host 2 sending VNI 200 to host 1
        buf.put(o, outer);
        Mem.put32(o + 26, HOST2);
        Mem.put32(o + 30, HOST1);
        parsedOuter(b, 0, o, olen);
        one(host1);
        assertDropped(host1, OverlayDrop.VXLAN_VTEP_NOT_ALLOWED);

        buf.put(o, outer);
        Mem.put32(o + 26, HOST2);
        Mem.put32(o + 30, HOST1);
        Mem.put32(o + 46, 777 << 8);
        parsedOuter(b, 0, o, olen);
        one(host1);
        assertDropped(host1, OverlayDrop.VXLAN_UNKNOWN_VNI);

        buf.put(o, outer);
        Mem.put8(o + 42, 0);
        parsedOuter(b, 0, o, olen);
        one(host2); // destination check comes first for host 2; use host 3's view
        assertDropped(host2, OverlayDrop.VXLAN_NOT_FOR_US);

        buf.put(o, outer);
        Mem.put32(o + 30, HOST1);
        Mem.put32(o + 26, HOST3);
        Mem.put8(o + 42, 0);
        parsedOuter(b, 0, o, olen);
        one(host1);
        assertDropped(host1, OverlayDrop.VXLAN_BAD_FLAGS);

        buf.put(o, outer);
        Mem.put32(o + 30, HOST1);
        Mem.put32(o + 26, HOST3);
        Mem.put16(o + 38, olen); // UDP length beyond the frame
        parsedOuter(b, 0, o, olen);
        one(host1);
        assertDropped(host1, OverlayDrop.VXLAN_TRUNCATED);

        buf.put(o, outer);
        Mem.put32(o + 30, HOST1);
        Mem.put32(o + 26, HOST3);
        Mem.put16(o + 20, 0x2000); // MF
        parsedOuter(b, 0, o, olen);
        one(host1);
        assertDropped(host1, OverlayDrop.VXLAN_OUTER_FRAGMENT);

        // right VTEP and VNI, but the inner source is blue b1's MAC pretending to come from host 3
        buf.put(o, outer);
        Mem.put32(o + 30, HOST1);
        Mem.put32(o + 26, HOST3);
        Mem.putMac(o + 50 + 6, B1_MAC);
        parsedOuter(b, 0, o, olen);
        one(host1);
        assertDropped(host1, OverlayDrop.SPOOF_REMOTE_SRC);

        // the genuine packet from host 3 to host 1 is delivered to r1 on port 4
        buf.put(o, outer);
        Mem.put32(o + 30, HOST1);
        Mem.put32(o + 26, HOST3);
        Mem.putMac(o + 50, R1_MAC);
        Mem.putMac(o + 50 + 6, R2_MAC);
        Mem.put32(o + 50 + 14 + 12, R2_IP);
        Mem.put32(o + 50 + 14 + 16, R1_IP);
        parsedOuter(b, 0, o, olen);
        one(host1);
        assertEquals(Next.TX, b.next[0], () -> "reason " + host1.reason(0));
        assertEquals(4, b.outPort[0]);
    }

    @Test
    void decapsulatedPacketForRemoteVmIsNotReencapsulated() {
        Pipeline host2 = new Pipeline(compile(host2Model(NEXT_HOP_MAC)), 8);
        long d = buf.frame(0);
        udp4(b, 0, d, 1, B4_MAC, B1_MAC, B1_IP, B4_IP, 64, 20);
        one(host1);
        parsedOuter(b, 0, b.data[0], b.length[0]);
        Mem.putMac(b.data[0] + 50, B2_MAC); // inner destination: b2 on host 1 (remote from host 2)
        one(host2);
        assertDropped(host2, OverlayDrop.OVERLAY_HAIRPIN);
    }

    @Test
    void tooBigForTheUnderlayBecomesFragNeeded() {
        long d = buf.frame(0);
        int len = udp4(b, 0, d, 1, B4_MAC, B1_MAC, B1_IP, B4_IP, 64, 1500 - 50 - 28 + 1);
        assertEquals(1500 - 50 + 14 + 1, len);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(1, b.outPort[0]);
        long ip = b.data[0] + 14;
        assertEquals(3, Mem.u8(ip + 20));
        assertEquals(4, Mem.u8(ip + 21));
        assertEquals(1450, Mem.u16(ip + 26));
        assertEquals(0, Net.checksum(ip, 20));
        assertEquals(0, Net.checksum(ip + 20, b.length[0] - 34));
        assertEquals(1, host1.meta.drops(OverlayDrop.TOO_BIG));
        // exactly at the limit passes
        len = udp4(b, 0, d, 1, B4_MAC, B1_MAC, B1_IP, B4_IP, 64, 1500 - 50 - 28);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(UPLINK, b.outPort[0]);
        assertEquals(1500 + 14, b.length[0]);
    }

    @Test
    void tooBigIpv6BecomesPacketTooBig() {
        long d = buf.frame(0);
        OverlayModel.Ip6 far = OverlayModel.Ip6.parse("fd00:1:1::20");
        int len = udp6(b, 0, d, 1, B4_MAC, B1_MAC, B1_IP6, far, 64, 1500 - 50 - 48 + 1);
        one(host1);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(1, b.outPort[0]);
        long n = b.data[0];
        assertEquals(d - 48, n);
        assertEquals(B1_MAC, Mem.mac(n));
        long ip = n + 14;
        assertEquals(6, Mem.u8(ip) >>> 4);
        assertEquals(58, Mem.u8(ip + 6));
        assertEquals(GW6_A.hi(), Mem.i64(ip + 8));
        assertEquals(GW6_A.lo(), Mem.i64(ip + 16));
        assertEquals(B1_IP6.lo(), Mem.i64(ip + 32));
        assertEquals(2, Mem.u8(ip + 40));
        assertEquals(1450, Mem.i32(ip + 44));
        int plen = Mem.u16(ip + 4);
        assertEquals(8 + 1232, plen, "quotes as much as fits in 1280 bytes");
        assertEquals(1280 + 14, b.length[0]);
        assertEquals(0, Net.fold(Net.sum16(ip + 40, plen, Net.ipv6PseudoSum(ip, plen, 58))));
        assertTrue(len > 1280);
    }

    @Test
    void udpSourcePortSpreadsFlows() {
        java.util.Set<Integer> ports = new java.util.HashSet<>();
        long d = buf.frame(0);
        for (int f = 0; f < 16; f++) {
            udp4(b, 0, d, 1, B4_MAC, B1_MAC, B1_IP, B4_IP, 64, 20);
            Mem.put16(d + 34, 30000 + f);
            one(host1);
            int sport = Mem.u16(b.data[0] + 34);
            assertTrue(sport >= 49152, "source port in the dynamic range");
            ports.add(sport);
        }
        assertTrue(ports.size() >= 12, "16 flows got only " + ports.size() + " source ports");
        // the same flow always gets the same port
        udp4(b, 0, d, 1, B4_MAC, B1_MAC, B1_IP, B4_IP, 64, 20);
        Mem.put16(d + 34, 30000);
        one(host1);
        int again = Mem.u16(b.data[0] + 34);
        udp4(b, 0, d, 1, B4_MAC, B1_MAC, B1_IP, B4_IP, 64, 99);
        Mem.put16(d + 34, 30000);
        one(host1);
        assertEquals(again, Mem.u16(b.data[0] + 34));
    }

    @Test
    void nextHopIsResolvedByArpAndUnderlayArpIsAnswered() {
        Pipeline p = new Pipeline(compile(host1Model(-1)), 8);
        p.meta.nowNs = 1_000;
        long d = buf.frame(0);
        udp4(b, 0, d, 1, B4_MAC, B1_MAC, B1_IP, B4_IP, 64, 20);
        one(p);
        assertEquals(Next.TX, b.next[0], "first packet becomes the ARP request");
        assertEquals(UPLINK, b.outPort[0]);
        assertEquals(60, b.length[0]);
        assertEquals(Net.BROADCAST_MAC, Mem.mac(d));
        assertEquals(UNDERLAY_MAC1, Mem.mac(d + 6));
        assertEquals(0x0806, Mem.u16(d + 12));
        assertEquals(0x0604_0001, Mem.i32(d + 18));
        assertEquals(HOST1, Mem.i32(d + 28));
        assertEquals(HOST2, Mem.i32(d + 38));
        udp4(b, 0, d, 1, B4_MAC, B1_MAC, B1_IP, B4_IP, 64, 20);
        one(p);
        assertEquals(Next.DROP, b.next[0], "request pending: dropped");
        assertEquals(2, p.meta.drops(OverlayDrop.NO_NEXT_HOP));
        // host 2 answers
        arp(b, 0, d, UPLINK, UNDERLAY_MAC1, UNDERLAY_MAC2, 2, UNDERLAY_MAC2, HOST2, UNDERLAY_MAC1, HOST1);
        one(p);
        assertDropped(p, OverlayDrop.UNDERLAY_ARP_LEARNED);
        udp4(b, 0, d, 1, B4_MAC, B1_MAC, B1_IP, B4_IP, 64, 20);
        one(p);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(UNDERLAY_MAC2, Mem.mac(b.data[0]));
        // expiry: after the TTL the entry is gone and a new request goes out
        p.meta.nowNs = 1_000 + p.neighbours.ttlNs + 1;
        udp4(b, 0, d, 1, B4_MAC, B1_MAC, B1_IP, B4_IP, 64, 20);
        one(p);
        assertEquals(60, b.length[0], "expired: a new ARP request");
        // a request from host 3 for our underlay address is answered
        arp(b, 0, d, UPLINK, Net.BROADCAST_MAC, mac("02:00:00:00:aa:03"), 1, mac("02:00:00:00:aa:03"), HOST3, 0, HOST1);
        one(p);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(UPLINK, b.outPort[0]);
        assertEquals(mac("02:00:00:00:aa:03"), Mem.mac(d));
        assertEquals(UNDERLAY_MAC1, Mem.mac(d + 22));
        assertEquals(HOST1, Mem.i32(d + 28));
        assertEquals(-1, p.neighbours.lookup(HOST3, p.meta.nowNs), "never asked for host 3: not learned");
        // an unsolicited reply does not plant an entry either
        arp(b, 0, d, UPLINK, UNDERLAY_MAC1, mac("02:00:00:00:aa:66"), 2, mac("02:00:00:00:aa:66"), HOST3, UNDERLAY_MAC1, HOST1);
        one(p);
        assertEquals(-1, p.neighbours.lookup(HOST3, p.meta.nowNs));
        // but a request from a next hop we use refreshes it
        p.neighbours.learn(HOST3, mac("02:00:00:00:aa:03"), 0);
        arp(b, 0, d, UPLINK, Net.BROADCAST_MAC, mac("02:00:00:00:aa:33"), 1, mac("02:00:00:00:aa:33"), HOST3, 0, HOST1);
        one(p);
        assertEquals(mac("02:00:00:00:aa:33"), p.neighbours.lookup(HOST3, p.meta.nowNs));
        // ARP for another address on the uplink is left to other stages
        arp(b, 0, d, UPLINK, Net.BROADCAST_MAC, UNDERLAY_MAC2, 1, UNDERLAY_MAC2, HOST2, 0, ip("192.168.50.77"));
        one(p);
        assertEquals(Next.CONTINUE, b.next[0]);
    }

    @Test
    void pingingAGatewayIsAnswered() {
        long d = buf.frame(0);
        int len = udp4(b, 0, d, 1, ROUTER, B1_MAC, B1_IP, GW_B, 9, 40);
        Mem.put8(d + 23, 1);                 // ICMP
        Mem.put16(d + 24, 0);
        Mem.put16(d + 24, Net.checksum(d + 14, 20));
        Mem.put32(d + 34, 0x0800_0000);      // echo request, checksum 0
        Mem.put32(d + 38, 0x1234_0001);      // id, seq
        Mem.put16(d + 36, Net.checksum(d + 34, len - 34));
        b.ipProto[0] = 1;
        b.flags[0] = io.sluice.dataplane.pipeline.PacketFlags.IPV4 | io.sluice.dataplane.pipeline.PacketFlags.ICMP;
        byte[] payload = buf.bytes(d + 38, len - 38);
        one(host1);
        assertEquals(Next.TX, b.next[0], () -> "reason " + host1.reason(0));
        assertEquals(1, b.outPort[0]);
        assertEquals(B1_MAC, Mem.mac(d));
        assertEquals(ROUTER, Mem.mac(d + 6));
        assertEquals(GW_B, Mem.i32(d + 26));
        assertEquals(B1_IP, Mem.i32(d + 30));
        assertEquals(64, Mem.u8(d + 22));
        assertEquals(0, Net.checksum(d + 14, 20));
        assertEquals(0, Mem.u8(d + 34), "echo reply");
        assertEquals(0, Net.checksum(d + 34, len - 34), "ICMP checksum must verify");
        assertArrayEquals(payload, buf.bytes(d + 38, len - 38));
        assertEquals(1, host1.meta.icmpEchoReplies);
        // IPv6 ping of the subnet's gateway
        len = udp6(b, 0, d, 1, ROUTER, B1_MAC, B1_IP6, GW6_A, 64, 24);
        long ip = d + 14;
        Mem.put8(ip + 6, 58);
        Mem.put32(d + 54, 128 << 24);
        Mem.put16(d + 56, Net.fold(Net.sum16(d + 54, len - 54, Net.ipv6PseudoSum(ip, len - 54, 58))));
        b.ipProto[0] = 58;
        b.flags[0] = io.sluice.dataplane.pipeline.PacketFlags.IPV6 | io.sluice.dataplane.pipeline.PacketFlags.ICMPV6;
        one(host1);
        assertEquals(Next.TX, b.next[0], () -> "reason " + host1.reason(0));
        assertEquals(129, Mem.u8(d + 54));
        assertEquals(GW6_A.lo(), Mem.i64(ip + 16));
        assertEquals(B1_IP6.lo(), Mem.i64(ip + 32));
        assertEquals(0, Net.fold(Net.sum16(d + 54, len - 54, Net.ipv6PseudoSum(ip, len - 54, 58))));
        // anything else to a gateway is dropped
        udp4(b, 0, d, 1, ROUTER, B1_MAC, B1_IP, GW_A, 64, 20);
        one(host1);
        assertDropped(host1, OverlayDrop.TO_GATEWAY);
    }

    @Test
    void broadcastOtherThanArpIsNotFlooded() {
        long d = buf.frame(0);
        udp4(b, 0, d, 1, Net.BROADCAST_MAC, B1_MAC, B1_IP, -1, 64, 20);
        one(host1);
        assertDropped(host1, OverlayDrop.BROADCAST);
    }

    @Test
    void nonVmPortsAreLeftAlone() {
        long d = buf.frame(0);
        udp4(b, 0, d, 7, B2_MAC, B1_MAC, B1_IP, B2_IP, 64, 20);
        one(host1);
        assertEquals(Next.CONTINUE, b.next[0]);
        assertEquals(0, host1.meta.zone[0]);
        assertEquals(0, host1.meta.totalDrops());
        assertEquals(0, Arrays.stream(host1.meta.rxPackets).sum());
    }
}
