package io.sluice.dataplane.nat;

import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.DropReason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.sluice.dataplane.nat.NatHarness.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The NAT at packet level through every overlay stage with security groups (parse to out), on the
 * {@link NatHarness} host: web has floating IP 203.0.113.10, job is outbound-only (SNAT address
 * 203.0.113.5), vault is private; everyone is in the default group (SSH in from anywhere, all out).
 */
class NatPipelineTest {
    NatHarness h;

    @AfterEach
    void close() {
        if (h != null) h.close();
    }

    void learnGateway() {
        long d = h.frame(0);
        int r = h.run(EXT, arp(d, EXT_MAC, GW_MAC, 2, GW_MAC, GW, EXT_MAC, SNAT));
        assertEquals(DropReason.NAT_ARP.ordinal(), r, "a gateway reply is learned and consumed");
        assertEquals(GW_MAC, h.nat.gatewayMac);
    }

    static void sent(int r) { assertEquals(-1, r, () -> "expected TX, got " + reason(r)); }

    static void dropped(DropReason want, int r) { assertEquals(want.ordinal(), r, () -> "expected " + want + ", got " + reason(r)); }

    @Test
    void outboundOnlyVmLeavesWithTheSnatAddressAndItsRepliesComeBack() throws Exception {
        h = new NatHarness(64, 4);
        long d = h.frame(0);
        // gateway unknown: the first packet becomes the ARP request for it
        sent(h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 40000, 80, 0x02, 1000, 0, 0)));
        assertEquals(EXT, h.b.outPort[0]);
        assertEquals(0x0806, Mem.u16(d + 12));
        assertEquals(GW, Mem.i32(d + 14 + 24), "who has the gateway");
        assertEquals(SNAT, Mem.i32(d + 14 + 14), "asked from our SNAT address");
        assertEquals(1, h.nat.gatewayArpRequests);
        learnGateway();
        // the SYN again (retransmission): translated
        sent(h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 40000, 80, 0x02, 1000, 0, 0)));
        assertEquals(EXT, h.b.outPort[0]);
        assertEquals(GW_MAC, Mem.mac(d));
        assertEquals(EXT_MAC, Mem.mac(d + 6));
        assertEquals(SNAT, Mem.i32(d + 26), "source = SNAT address");
        assertEquals(SERVER, Mem.i32(d + 30));
        int ext = Mem.u16(d + 34);
        assertEquals(SnatPorts.PORT_MIN, ext, "first port of the VM's first block");
        assertEquals(63, Mem.u8(d + 22), "TTL - 1");
        assertTrue(checksumsValid(d), "checksums after SNAT");
        // the server's SYN/ACK to the SNAT address comes back to job's private address and port
        sent(h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, SNAT, 80, ext, 0x12, 5000, 1001, 0)));
        assertEquals(JOB, h.b.outPort[0]);
        assertEquals(JOB_IP, Mem.i32(d + 30));
        assertEquals(40000, Mem.u16(d + 36));
        assertEquals(JOB_MAC, Mem.mac(d));
        assertEquals(ROUTER, Mem.mac(d + 6));
        assertTrue(checksumsValid(d), "checksums after un-SNAT");
        sent(h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 40000, 80, 0x10, 1001, 5001, 10)));
        assertEquals(ext, Mem.u16(d + 34));
        assertTrue(checksumsValid(d));
        assertEquals(1, h.nat.snatCreated);
        assertEquals(1, h.nat.ports.blocksInUse(0));

        // endpoint-independent: the same internal port to another server keeps its external port
        sent(h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER2, 40000, 443, 0x02, 7000, 0, 0)));
        assertEquals(ext, Mem.u16(d + 34));
        assertEquals(1, h.nat.ports.bindings());
        // ... but that does not open it to anyone: an unsolicited SYN to the bound port, and one to a free port
        dropped(DropReason.NAT_UNSOLICITED, h.run(EXT, tcp(d, EXT_MAC, GW_MAC, ip("192.0.2.99"), SNAT, 5555, ext, 0x02, 1, 0, 0)));
        dropped(DropReason.NAT_NO_MAPPING, h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, SNAT, 80, ext + 1, 0x02, 1, 0, 0)));
        assertEquals(1, h.nat.drops(DropReason.NAT_UNSOLICITED));
        assertEquals(1, h.nat.drops(DropReason.NAT_NO_MAPPING));
        assertEquals(1, h.counters.snapshot().get("nat snat 203.0.113.5 blocks in use"));

        // ports return to the pool once the connections expire
        h.ct.expire(System.nanoTime() + 10L * 24 * 3600 * 1_000_000_000L, h.ct.capacity());
        assertEquals(0, h.nat.ports.bindings());
        assertEquals(0, h.nat.ports.blocksInUse(0));
        assertEquals(0, h.nat.ports.blocksOf(1));
    }

    @Test
    void udpWithoutChecksumAndIcmpEchoThroughSnat() throws Exception {
        h = new NatHarness(64, 4);
        learnGateway();
        long d = h.frame(0);
        sent(h.run(JOB, udp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 5353, 53, 20, true)));
        assertEquals(0, Mem.u16(d + 40), "UDP checksum 0 stays 0");
        assertEquals(SNAT, Mem.i32(d + 26));
        int ext = Mem.u16(d + 34);
        assertTrue(checksumsValid(d));
        sent(h.run(JOB, udp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 5354, 53, 21, false)));
        assertNotEquals(ext, Mem.u16(d + 34), "another internal port, another external port");
        assertTrue(checksumsValid(d), "UDP checksum updated");
        sent(h.run(EXT, udp(d, EXT_MAC, GW_MAC, SERVER, SNAT, 53, ext, 30, false)));
        assertEquals(5353, Mem.u16(d + 36));
        assertTrue(checksumsValid(d));
        // ping: the echo identifier is mapped both ways
        sent(h.run(JOB, echo(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 8, 77, 1)));
        int id = Mem.u16(d + 38);
        assertEquals(SNAT, Mem.i32(d + 26));
        assertTrue(checksumsValid(d));
        sent(h.run(EXT, echo(d, EXT_MAC, GW_MAC, SERVER, SNAT, 0, id, 1)));
        assertEquals(JOB, h.b.outPort[0]);
        assertEquals(77, Mem.u16(d + 38));
        assertEquals(JOB_IP, Mem.i32(d + 30));
        assertTrue(checksumsValid(d));
        // a ping to the SNAT address itself reaches nobody
        dropped(DropReason.NAT_NO_MAPPING, h.run(EXT, echo(d, EXT_MAC, GW_MAC, SERVER, SNAT, 8, 5, 1)));
    }

    @Test
    void floatingIpIsReachableUnderTheVmsGroupsAndIsItsSource() throws Exception {
        h = new NatHarness(64, 4);
        learnGateway();
        long d = h.frame(0);
        // SSH to the floating IP: the default group allows it, on the private address
        sent(h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, FIP, 50000, 22, 0x02, 100, 0, 0)));
        assertEquals(WEB, h.b.outPort[0]);
        assertEquals(WEB_IP, Mem.i32(d + 30));
        assertEquals(22, Mem.u16(d + 36), "ports unchanged");
        assertEquals(WEB_MAC, Mem.mac(d));
        assertTrue(checksumsValid(d));
        // web's SYN/ACK leaves with the floating IP
        sent(h.run(WEB, tcp(d, ROUTER, WEB_MAC, WEB_IP, SERVER, 22, 50000, 0x12, 9000, 101, 0)));
        assertEquals(FIP, Mem.i32(d + 26));
        assertEquals(22, Mem.u16(d + 34));
        assertTrue(checksumsValid(d));
        // a port web's groups do not allow: refused by the firewall, counted on web's port
        long before = h.fw.drops(WEB, DropReason.FW_NO_RULE);
        dropped(DropReason.FW_NO_RULE, h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, FIP, 50001, 8080, 0x02, 100, 0, 0)));
        assertEquals(before + 1, h.fw.drops(WEB, DropReason.FW_NO_RULE));
        // web's own outbound connection: floating IP as source, original port
        sent(h.run(WEB, tcp(d, ROUTER, WEB_MAC, WEB_IP, SERVER, 41000, 80, 0x02, 1, 0, 0)));
        assertEquals(FIP, Mem.i32(d + 26));
        assertEquals(41000, Mem.u16(d + 34));
        assertEquals(2, h.nat.fipCreated);
        // the unassigned floating IP and foreign addresses are nobody's
        dropped(DropReason.NAT_NO_MAPPING, h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, FIP2, 50000, 22, 0x02, 100, 0, 0)));
        dropped(DropReason.NAT_NOT_OURS, h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, ip("203.0.113.77"), 50000, 22, 0x02, 100, 0, 0)));
        // a VLAN-tagged frame to the floating IP (found by NatFuzz): the external network is untagged
        int len = tcp(d + 4, EXT_MAC, GW_MAC, SERVER, FIP, 50000, 22, 0x02, 100, 0, 0);
        Mem.copy(d + 4, d, 12);
        Mem.put32(d + 12, 0x8100_0000);
        dropped(DropReason.NAT_NOT_OURS, h.run(EXT, len + 4));
    }

    /** RFC 5508: errors about NATed flows are translated on the outer and the quoted header, both ways. */
    @Test
    void icmpErrorsAreTranslatedOnBothHeaders() throws Exception {
        h = new NatHarness(64, 4);
        learnGateway();
        long d = h.frame(0);
        long sent = h.frame(1);
        // job's TCP SYN leaves through SNAT; keep the packet as it left
        sent(h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 40000, 80, 0x02, 1000, 0, 0)));
        int ext = Mem.u16(d + 34);
        Mem.copy(d, sent, 64);
        // a router on the way says "fragmentation needed, MTU 1400" to the SNAT address
        sent(h.run(EXT, icmpError(d, EXT_MAC, GW_MAC, GW, SNAT, 3, 4, 1400, sent)));
        assertEquals(JOB, h.b.outPort[0], "to job");
        long icmp = d + 34;
        long q = icmp + 8;
        assertEquals(JOB_IP, Mem.i32(d + 30), "outer destination");
        assertEquals(JOB_IP, Mem.i32(q + 12), "quoted source");
        assertEquals(40000, Mem.u16(q + 20), "quoted source port");
        assertEquals(1400, Mem.u16(icmp + 6), "the MTU is untouched");
        assertTrue(checksumsValid(d), "outer and ICMP checksums");
        assertTrue(io.sluice.dataplane.packet.Checksum.ipv4HeaderValid(q), "quoted header checksum");
        assertEquals(1, h.nat.icmpErrorsIn);
        // an error quoting a port nobody holds, or another address than the one it is sent to
        Mem.put16(sent + 34, ext + 7);
        dropped(DropReason.NAT_NO_MAPPING, h.run(EXT, icmpError(d, EXT_MAC, GW_MAC, GW, SNAT, 3, 4, 1400, sent)));
        Mem.put16(sent + 34, ext);
        Mem.put32(sent + 26, FIP2);
        dropped(DropReason.NAT_NO_MAPPING, h.run(EXT, icmpError(d, EXT_MAC, GW_MAC, GW, SNAT, 3, 4, 1400, sent)));

        // floating IP: the server's SSH SYN in; web answers "port unreachable"-style about it: the
        // error leaves with the floating IP outside and in the quote
        sent(h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, FIP, 50000, 22, 0x02, 100, 0, 0)));
        Mem.copy(d, sent, 64); // as web received it (private destination)
        sent(h.run(WEB, icmpError(d, ROUTER, WEB_MAC, WEB_IP, SERVER, 3, 3, 0, sent)));
        assertEquals(EXT, h.b.outPort[0]);
        assertEquals(FIP, Mem.i32(d + 26), "outer source");
        assertEquals(FIP, Mem.i32(q + 16), "quoted destination");
        assertTrue(checksumsValid(d));
        assertTrue(io.sluice.dataplane.packet.Checksum.ipv4HeaderValid(q));
        assertEquals(1, h.nat.icmpErrorsOut);
    }

    /** IP fragments follow their datagram's translation: SNAT both ways (the fragment record), floating IP out. */
    @Test
    void laterFragmentsFollowTheirFirstFragmentsTranslation() throws Exception {
        h = new NatHarness(64, 4);
        learnGateway();
        long d = h.frame(0);
        long whole = h.frame(2);
        // job: a 48-byte UDP datagram in two fragments (8 + 16 bytes of UDP header/payload, then 32)
        udp(whole, ROUTER, JOB_MAC, JOB_IP, SERVER, 7777, 53, 40, false);
        sent(h.run(JOB, fragment(d, whole, 0, 24, true)));
        assertEquals(SNAT, Mem.i32(d + 26));
        int ext = Mem.u16(d + 34);
        assertTrue(io.sluice.dataplane.packet.Checksum.ipv4HeaderValid(d + 14));
        sent(h.run(JOB, fragment(d, whole, 24, 24, false)));
        assertEquals(SNAT, Mem.i32(d + 26), "the later fragment leaves with its first fragment's address");
        assertTrue(io.sluice.dataplane.packet.Checksum.ipv4HeaderValid(d + 14));
        // the server's fragmented answer to the SNAT address comes back to job, both fragments
        udp(whole, EXT_MAC, GW_MAC, SERVER, SNAT, 53, ext, 40, false);
        Mem.put16(whole + 18, 0x4321); // another identification
        io.sluice.dataplane.packet.Checksum.setIpv4Header(whole + 14);
        sent(h.run(EXT, fragment(d, whole, 0, 24, true)));
        assertEquals(JOB, h.b.outPort[0]);
        assertEquals(7777, Mem.u16(d + 36));
        sent(h.run(EXT, fragment(d, whole, 24, 24, false)));
        assertEquals(JOB, h.b.outPort[0], "the later fragment follows to job");
        assertEquals(JOB_IP, Mem.i32(d + 30));
        assertTrue(io.sluice.dataplane.packet.Checksum.ipv4HeaderValid(d + 14));
        // a later fragment whose first fragment never came: nobody's
        Mem.put16(whole + 18, 0x4322);
        io.sluice.dataplane.packet.Checksum.setIpv4Header(whole + 14);
        dropped(DropReason.NAT_NO_MAPPING, h.run(EXT, fragment(d, whole, 24, 24, false)));
        // web (floating IP): its fragments leave with the floating IP
        udp(whole, ROUTER, WEB_MAC, WEB_IP, SERVER, 7000, 53, 40, false);
        sent(h.run(WEB, fragment(d, whole, 0, 24, true)));
        assertEquals(FIP, Mem.i32(d + 26));
        sent(h.run(WEB, fragment(d, whole, 24, 24, false)));
        assertEquals(FIP, Mem.i32(d + 26));
        assertEquals(0, h.nat.fragments.refused());
    }

    @Test
    void arpIsAnsweredForOwnedAddressesOnly() throws Exception {
        h = new NatHarness(64, 4);
        long d = h.frame(0);
        for (int a : new int[] {FIP, SNAT}) {
            sent(h.run(EXT, arp(d, -1L & 0xFFFF_FFFF_FFFFL, GW_MAC, 1, GW_MAC, GW, 0, a)));
            assertEquals(EXT, h.b.outPort[0]);
            assertEquals(2, Mem.u16(d + 20), "reply");
            assertEquals(EXT_MAC, Mem.mac(d + 22));
            assertEquals(a, Mem.i32(d + 28));
            assertEquals(GW_MAC, Mem.mac(d));
        }
        assertEquals(GW_MAC, h.nat.gatewayMac, "learned from its requests too");
        dropped(DropReason.NAT_ARP, h.run(EXT, arp(d, -1L & 0xFFFF_FFFF_FFFFL, GW_MAC, 1, GW_MAC, GW, 0, ip("203.0.113.50"))));
        // a floating IP of the pool that no VM here holds is not answered for (another host may hold it)
        dropped(DropReason.NAT_ARP, h.run(EXT, arp(d, -1L & 0xFFFF_FFFF_FFFFL, GW_MAC, 1, GW_MAC, GW, 0, FIP2)));
        assertEquals(2, h.nat.arpReplies);
    }

    /** OSSN-0020: a floating IP that leaves a VM takes its connections with it, at once; release stops it answering. */
    @Test
    void reassignCutsTheOldVmsConnectionsAndReleaseStopsTheAddress() throws Exception {
        h = new NatHarness(64, 4);
        learnGateway();
        long d = h.frame(0);
        // an SSH connection from the server to web through the floating IP, established
        sent(h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, FIP, 50000, 22, 0x02, 100, 0, 0)));
        sent(h.run(WEB, tcp(d, ROUTER, WEB_MAC, WEB_IP, SERVER, 22, 50000, 0x12, 9000, 101, 0)));
        sent(h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, FIP, 50000, 22, 0x10, 101, 9001, 0)));
        // job opened an outbound connection through SNAT before it gets the address
        sent(h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 43000, 80, 0x02, 1, 0, 0)));
        int jobExt = Mem.u16(d + 34);
        sent(h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, SNAT, 80, jobExt, 0x12, 500, 2, 0)));

        var m = h.pipeline.state().current().model;
        m = m.withAccess("blue", "web", io.sluice.dataplane.config.OverlayModel.Access.OUTBOUND, 0);
        m = m.withAccess("blue", "job", io.sluice.dataplane.config.OverlayModel.Access.FLOATING, FIP);
        h.pipeline.applyPublicAccess(m);
        // the server's next segment of the old connection reaches job, where it belongs to nothing:
        // it is judged by job's own rules (mid-stream pickup, tcp-pickup on by default: job's group
        // lets ssh in, so job's stack sees it and answers with a reset), never by web's connection
        sent(h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, FIP, 50000, 22, 0x18, 101, 9001, 10)));
        // web's next segment of it is cut: the connection is gone
        dropped(DropReason.NAT_STALE, h.run(WEB, tcp(d, ROUTER, WEB_MAC, WEB_IP, SERVER, 22, 50000, 0x18, 9001, 101, 10)));
        assertEquals(1, h.nat.stale);
        assertEquals(-1, h.ct.peekState(new io.sluice.dataplane.conntrack.CtPacket().v4(1, WEB_IP, SERVER)
                .tcp(22, 50000, 0x10, 9001, 111, 100, 0), System.nanoTime()), "the entry is deleted");
        // the new holder answers on the address; its SNAT connection from before is unaffected
        sent(h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, FIP, 50001, 22, 0x02, 300, 0, 0)));
        assertEquals(JOB, h.b.outPort[0]);
        sent(h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 43000, 80, 0x10, 2, 501, 5)));
        assertEquals(SNAT, Mem.i32(d + 26), "an outbound connection keeps the path it was opened on");
        assertEquals(jobExt, Mem.u16(d + 34));
        // web is outbound-only now
        sent(h.run(WEB, tcp(d, ROUTER, WEB_MAC, WEB_IP, SERVER, 41000, 80, 0x02, 1, 0, 0)));
        assertEquals(SNAT, Mem.i32(d + 26));
        ExternalOutStage out = null;
        for (var st : h.stages) if (st instanceof ExternalOutStage o) out = o;
        assertTrue(out.garpPending() >= 1, "the moved address is to be announced");

        // release: nobody holds it; the address stops answering (no ARP, no connection)
        h.pipeline.applyPublicAccess(m.withAccess("blue", "job", io.sluice.dataplane.config.OverlayModel.Access.PRIVATE, 0));
        dropped(DropReason.NAT_NO_MAPPING, h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, FIP, 50002, 22, 0x02, 300, 0, 0)));
        dropped(DropReason.NAT_ARP, h.run(EXT, arp(d, -1L & 0xFFFF_FFFF_FFFFL, GW_MAC, 1, GW_MAC, GW, 0, FIP)));
        // job is private now: even its SNAT connection's replies stop
        dropped(DropReason.NAT_STALE, h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, SNAT, 80, jobExt, 0x10, 501, 7, 5)));
        dropped(DropReason.NAT_NO_PUBLIC_ACCESS, h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 43000, 80, 0x10, 7, 501, 5)));

        // anything but public access is refused at runtime
        var other = m.withAccess("blue", "job", io.sluice.dataplane.config.OverlayModel.Access.PRIVATE, 0);
        var moved = new io.sluice.dataplane.config.OverlayModel(other.host(), other.networks(),
                new io.sluice.dataplane.config.OverlayModel.External(EXT, EXT_MAC, ip("203.0.113.0"), 24, GW, -1,
                        java.util.List.of(FIP), java.util.List.of(SNAT), 32, 4));
        assertThrows(IllegalArgumentException.class, () -> h.pipeline.applyPublicAccess(moved));
    }

    @Test
    void privateVmReachesNothingOutside() throws Exception {
        h = new NatHarness(64, 4);
        learnGateway();
        long d = h.frame(0);
        dropped(DropReason.NAT_NO_PUBLIC_ACCESS, h.run(VAULT, tcp(d, ROUTER, VAULT_MAC, VAULT_IP, SERVER, 40000, 80, 0x02, 1, 0, 0)));
        dropped(DropReason.NAT_NO_PUBLIC_ACCESS, h.run(VAULT, echo(d, ROUTER, VAULT_MAC, VAULT_IP, SERVER, 8, 1, 1)));
        assertEquals(2, h.nat.noPublicAccess[2]);
        assertEquals(2L, h.counters.snapshot().get("nat vm blue/vault no public access"), h.counters.snapshot()::toString);
        // inside the project it still talks
        sent(h.run(VAULT, tcp(d, WEB_MAC, VAULT_MAC, VAULT_IP, WEB_IP, 40000, 22, 0x02, 1, 0, 0)));
        assertEquals(WEB, h.b.outPort[0]);
    }

    @Test
    void exhaustionDropsOnlyTheNewConnectionAndCountsItPerVm() throws Exception {
        h = new NatHarness(2, 1); // one block of two ports per VM
        learnGateway();
        long d = h.frame(0);
        int[] ext = new int[2];
        for (int k = 0; k < 2; k++) {
            sent(h.run(JOB, udp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 6000 + k, 53, 8, false)));
            ext[k] = Mem.u16(d + 34);
        }
        dropped(DropReason.NAT_EXHAUSTED, h.run(JOB, udp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 6002, 53, 8, false)));
        assertEquals(1, h.nat.exhausted[1]);
        assertEquals(1L, h.counters.snapshot().get("nat vm blue/job snat exhausted"));
        // the existing ones continue, both ways; the refused one left nothing behind
        for (int k = 0; k < 2; k++) {
            sent(h.run(JOB, udp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 6000 + k, 53, 8, false)));
            assertEquals(ext[k], Mem.u16(d + 34));
            sent(h.run(EXT, udp(d, EXT_MAC, GW_MAC, SERVER, SNAT, 53, ext[k], 8, false)));
            assertEquals(6000 + k, Mem.u16(d + 36));
        }
        assertEquals(2, h.nat.ports.bindings());
        assertEquals(1, h.nat.ports.blocksOf(1), "never more than blocks-per-vm");
    }

    /**
     * Hairpin inside Sluice (RFC 4787): job (outbound only) reaches web's floating IP and web its own;
     * the packets never go to the gateway (its MAC is never even asked for), the receiver sees the
     * sender's public address, the receiver's ingress rules decide, replies and ICMP errors come back
     * translated; refusals are counted as hairpin drops with their reasons.
     */
    @Test
    void hairpinToAFloatingIpIsTurnedAroundInsideUnderTheReceiversGroups() throws Exception {
        h = new NatHarness(64, 4);
        long d = h.frame(0);
        sent(h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, FIP, 40000, 22, 0x02, 1000, 0, 0)));
        assertEquals(WEB, h.b.outPort[0], "job -> web's floating IP is delivered to web");
        assertEquals(SNAT, Mem.i32(d + 26), "web sees job's SNAT address");
        int ext = Mem.u16(d + 34);
        assertEquals(SnatPorts.PORT_MIN, ext);
        assertEquals(WEB_IP, Mem.i32(d + 30));
        assertEquals(22, Mem.u16(d + 36));
        assertEquals(WEB_MAC, Mem.mac(d));
        assertEquals(ROUTER, Mem.mac(d + 6));
        assertTrue(checksumsValid(d));
        long syn = h.frame(1);
        Mem.copy(d, syn, 64); // as web received it
        // web's SYN/ACK to job's SNAT address comes back to job, from the floating IP
        sent(h.run(WEB, tcp(d, ROUTER, WEB_MAC, WEB_IP, SNAT, 22, ext, 0x12, 9000, 1001, 0)));
        assertEquals(JOB, h.b.outPort[0]);
        assertEquals(FIP, Mem.i32(d + 26), "job sees the floating IP it connected to");
        assertEquals(22, Mem.u16(d + 34));
        assertEquals(JOB_IP, Mem.i32(d + 30));
        assertEquals(40000, Mem.u16(d + 36));
        assertEquals(JOB_MAC, Mem.mac(d));
        assertTrue(checksumsValid(d));
        sent(h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, FIP, 40000, 22, 0x10, 1001, 9001, 10)));
        assertEquals(WEB, h.b.outPort[0]);
        assertTrue(checksumsValid(d));
        assertEquals(3, h.nat.hairpinned);
        assertEquals(0, h.nat.gatewayArpRequests, "nothing went to the gateway");
        assertEquals(0, h.nat.drops(DropReason.NAT_NO_GATEWAY));

        // an ICMP error from web about the hairpinned SYN reaches job about its own packet (RFC 5508)
        sent(h.run(WEB, icmpError(d, ROUTER, WEB_MAC, WEB_IP, SNAT, 3, 3, 0, syn)));
        assertEquals(JOB, h.b.outPort[0]);
        assertEquals(FIP, Mem.i32(d + 26));
        assertEquals(JOB_IP, Mem.i32(d + 30));
        assertEquals(JOB_IP, Mem.i32(d + 42 + 12), "quoted source: job's private address");
        assertEquals(40000, Mem.u16(d + 42 + 20), "quoted source port: job's internal port");
        assertEquals(FIP, Mem.i32(d + 42 + 16), "quoted destination: the floating IP job used");
        assertTrue(checksumsValid(d));

        // web's groups decide on the translated packet: 8080 is not allowed, counted on web's port
        long before = h.fw.drops(WEB, DropReason.FW_NO_RULE);
        dropped(DropReason.FW_NO_RULE, h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, FIP, 40001, 8080, 0x02, 1, 0, 0)));
        assertEquals(before + 1, h.fw.drops(WEB, DropReason.FW_NO_RULE));
        assertEquals(1, h.nat.hairpinDropped);
        // an unassigned floating IP: no mapping; job's SNAT binding unsolicited from web
        dropped(DropReason.NAT_NO_MAPPING, h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, FIP2, 40002, 22, 0x02, 1, 0, 0)));
        dropped(DropReason.NAT_UNSOLICITED, h.run(WEB, tcp(d, ROUTER, WEB_MAC, WEB_IP, SNAT, 50000, ext, 0x02, 1, 0, 0)));
        // a fragmented datagram is not turned around
        long whole = h.frame(2);
        udp(whole, ROUTER, JOB_MAC, JOB_IP, FIP, 5000, 22, 64, false);
        dropped(DropReason.NAT_UNSUPPORTED, h.run(JOB, fragment(d, whole, 0, 32, true)));
        assertEquals(4, h.nat.hairpinDropped);
        // a private VM has no public path, hairpin included
        dropped(DropReason.NAT_NO_PUBLIC_ACCESS, h.run(VAULT, tcp(d, ROUTER, VAULT_MAC, VAULT_IP, FIP, 40000, 22, 0x02, 1, 0, 0)));

        // web reaches its own floating IP: both legs in web's zone, source the floating IP both ways
        sent(h.run(WEB, tcp(d, ROUTER, WEB_MAC, WEB_IP, FIP, 41000, 22, 0x02, 5, 0, 0)));
        assertEquals(WEB, h.b.outPort[0]);
        assertEquals(FIP, Mem.i32(d + 26));
        assertEquals(WEB_IP, Mem.i32(d + 30));
        assertEquals(41000, Mem.u16(d + 34));
        sent(h.run(WEB, tcp(d, ROUTER, WEB_MAC, WEB_IP, FIP, 22, 41000, 0x12, 70, 6, 0)));
        assertEquals(WEB, h.b.outPort[0]);
        assertEquals(FIP, Mem.i32(d + 26));
        assertEquals(22, Mem.u16(d + 34));
        assertEquals(41000, Mem.u16(d + 36));
        assertTrue(checksumsValid(d));
        assertEquals(0, h.nat.gatewayArpRequests);
        h.run(EXT, arp(d, EXT_MAC, GW_MAC, 2, GW_MAC, GW, EXT_MAC, SNAT)); // publishes the counters
        assertEquals(6, h.counters.snapshot().get("nat hairpin packets"));
        assertEquals(4, h.counters.snapshot().get("nat hairpin dropped"));
    }

    ExternalOutStage outStage() {
        for (var st : h.stages) if (st instanceof ExternalOutStage o) return o;
        throw new AssertionError("no nat-external-out stage");
    }

    /**
     * IPv6 to the outside, no NAT: a public VM's global address leaves as it is to the IPv6 gateway
     * (resolved by neighbour discovery), replies and connections its groups allow come in; NS for
     * public VMs' addresses and our link-local are answered; a private VM gets no route out (counted).
     */
    @Test
    void ipv6OfPublicVmsGoesToTheGatewayUntranslatedAndPrivateVmsHaveNone() throws Exception {
        h = new NatHarness(64, 4);
        long d = h.frame(0);
        // gateway unknown: the first packet becomes the NS for it (solicited-node multicast, from our link-local)
        sent(h.run(JOB, tcp6(d, ROUTER, JOB_MAC, JOB6, SERVER6, 40000, 80, 0x02, 1000, 0)));
        assertEquals(EXT, h.b.outPort[0]);
        assertEquals(0x86DD, Mem.u16(d + 12));
        assertEquals(135, Mem.u8(d + 54));
        assertEquals(0x3333_FF00_0001L, Mem.mac(d), "solicited-node group of ...::1");
        assertEquals(GW6[0], Mem.i64(d + 54 + 8));
        assertEquals(GW6[1], Mem.i64(d + 54 + 16));
        OverlaySnapshotView s = new OverlaySnapshotView(h);
        assertEquals(s.ll6Hi(), Mem.i64(d + 22), "from our link-local address");
        assertTrue(checksums6Valid(d), "NS checksum");
        assertEquals(1, h.nat.gateway6Solicitations);
        // the gateway's NA is learned and consumed
        dropped(DropReason.NAT_ND, h.run(EXT, nd(d, EXT_MAC, GW6_MAC, GW6, new long[] {s.ll6Hi(), s.ll6Lo()}, 136, GW6)));
        assertEquals(GW6_MAC, h.nat.gateway6Mac);
        sent(h.run(JOB, tcp6(d, ROUTER, JOB_MAC, JOB6, SERVER6, 40000, 80, 0x02, 1000, 0)));
        assertEquals(EXT, h.b.outPort[0]);
        assertEquals(GW6_MAC, Mem.mac(d));
        assertEquals(EXT_MAC, Mem.mac(d + 6));
        assertEquals(JOB6[1], Mem.i64(d + 22 + 8), "source unchanged: no NAT for IPv6");
        assertEquals(40000, Mem.u16(d + 54));
        assertEquals(63, Mem.u8(d + 21), "hop limit - 1");
        assertTrue(checksums6Valid(d));
        sent(h.run(EXT, tcp6(d, EXT_MAC, GW6_MAC, SERVER6, JOB6, 80, 40000, 0x12, 5000, 1001)));
        assertEquals(JOB, h.b.outPort[0]);
        assertEquals(JOB_MAC, Mem.mac(d));
        assertEquals(ROUTER, Mem.mac(d + 6));
        assertTrue(checksums6Valid(d));
        // inbound to a public VM under its groups: SSH yes, 8080 no (counted on web's port); the same SYN to job's SNAT-only
        // IPv4 would be unsolicited, but over IPv6 its global address is public and its groups decide (SSH allowed)
        sent(h.run(EXT, tcp6(d, EXT_MAC, GW6_MAC, SERVER6, WEB6, 50000, 22, 0x02, 1, 0)));
        assertEquals(WEB, h.b.outPort[0]);
        long before = h.fw.drops(WEB, DropReason.FW_NO_RULE);
        dropped(DropReason.FW_NO_RULE, h.run(EXT, tcp6(d, EXT_MAC, GW6_MAC, SERVER6, WEB6, 50001, 8080, 0x02, 1, 0)));
        assertEquals(before + 1, h.fw.drops(WEB, DropReason.FW_NO_RULE));
        // the private VM: no route out, nothing in; counted per VM
        dropped(DropReason.NAT_NO_PUBLIC_ACCESS, h.run(VAULT, tcp6(d, ROUTER, VAULT_MAC, VAULT6, SERVER6, 40000, 80, 0x02, 1, 0)));
        dropped(DropReason.NAT_NO_PUBLIC_ACCESS, h.run(EXT, tcp6(d, EXT_MAC, GW6_MAC, SERVER6, VAULT6, 50000, 22, 0x02, 1, 0)));
        assertEquals(2, h.nat.noPublicAccess[2]);
        dropped(DropReason.NAT_NOT_OURS, h.run(EXT, tcp6(d, EXT_MAC, GW6_MAC, SERVER6, ip6("2001:db8:1::99"), 50000, 22, 0x02, 1, 0)));
        // inside the project IPv6 stays inside (not to the gateway)
        dropped(DropReason.OVERLAY_UNKNOWN_DESTINATION, h.run(JOB, tcp6(d, ROUTER, JOB_MAC, JOB6, ip6("2001:db8:1::99"), 40000, 80, 0x02, 1, 0)));
        // neighbour discovery: the router asks for web's address and ours; vault's is not answered
        sent(h.run(EXT, nd(d, EXT_MAC, GW6_MAC, GW6, ip6("ff02::1:ff00:2"), 135, WEB6)));
        assertEquals(EXT, h.b.outPort[0]);
        assertEquals(136, Mem.u8(d + 54));
        assertEquals(GW6_MAC, Mem.mac(d));
        assertEquals(EXT_MAC, Mem.mac(d + 54 + 26), "target link-layer address: the external MAC");
        assertEquals(WEB6[1], Mem.i64(d + 22 + 8), "from the target address");
        assertEquals(GW6[1], Mem.i64(d + 38 + 8), "to the solicitor");
        assertTrue(checksums6Valid(d), "NA checksum");
        sent(h.run(EXT, nd(d, EXT_MAC, GW6_MAC, GW6, ip6("ff02::1:ff00:ee01"), 135, new long[] {s.ll6Hi(), s.ll6Lo()})));
        assertEquals(2, h.nat.ndReplies);
        dropped(DropReason.NAT_ND, h.run(EXT, nd(d, EXT_MAC, GW6_MAC, GW6, ip6("ff02::1:ff00:4"), 135, VAULT6)));
        // a VM made private: its IPv6 connection is cut on its next packet
        var m = h.pipeline.state().current().model;
        h.pipeline.applyPublicAccess(m.withAccess("blue", "job", io.sluice.dataplane.config.OverlayModel.Access.PRIVATE, 0));
        dropped(DropReason.NAT_NO_PUBLIC_ACCESS, h.run(EXT, tcp6(d, EXT_MAC, GW6_MAC, SERVER6, JOB6, 80, 40000, 0x10, 5001, 1001)));
        assertEquals(1, h.nat.ipv6Out, "one IPv6 packet left (the first became the NS)");
    }

    /** Our link-local address on the external network (EUI-64 of the external MAC). */
    record OverlaySnapshotView(NatHarness h) {
        long ll6Hi() { return h.pipeline.state().current().extLl6Hi; }
        long ll6Lo() { return h.pipeline.state().current().extLl6Lo; }
    }

    /**
     * Gateway MAC ageing: a learned MAC older than the refresh time is refreshed (a unicast ARP request
     * queued) while it stays in use; unconfirmed past the maximum age it is forgotten and the next
     * packet resolves the gateway again by broadcast; the gateway's answer confirms / replaces it.
     */
    @Test
    void gatewayMacIsRefreshedThenForgottenWhenUnconfirmed() throws Exception {
        h = new NatHarness(64, 4);
        learnGateway();
        long d = h.frame(0);
        ExternalOutStage out = outStage();
        sent(h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 40000, 80, 0x02, 1000, 0, 0)));
        assertEquals(GW_MAC, Mem.mac(d));
        assertFalse(out.refreshPending(false));
        // 31 s later (the learned time moved back): still in use, a refresh is queued
        h.nat.gatewayMacAt -= NatState.GATEWAY_REFRESH_NS + 1_000_000_000L;
        sent(h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 40002, 80, 0x02, 1000, 0, 0)));
        assertEquals(GW_MAC, Mem.mac(d), "the MAC stays in use while it is refreshed");
        assertTrue(out.refreshPending(false));
        assertEquals(1, h.nat.gatewayRefreshes);
        // the gateway answers (it moved to another MAC): confirmed, replaced, young again
        long newMac = mac("02:00:00:00:99:98");
        h.run(EXT, arp(d, EXT_MAC, newMac, 2, newMac, GW, EXT_MAC, SNAT));
        assertEquals(newMac, h.nat.gatewayMac);
        sent(h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 40003, 80, 0x02, 1000, 0, 0)));
        assertEquals(newMac, Mem.mac(d));
        assertEquals(1, h.nat.gatewayRefreshes, "a confirmed MAC needs no refresh");
        // no answer for longer than the maximum age: forgotten; the next packet becomes the broadcast ARP request
        h.nat.gatewayMacAt -= NatState.GATEWAY_MAX_AGE_NS + 1_000_000_000L;
        h.nat.lastGatewayArp -= NatState.GATEWAY_MAX_AGE_NS;
        sent(h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 40004, 80, 0x02, 1000, 0, 0)));
        assertEquals(1, h.nat.gatewayExpired);
        assertEquals(-1, h.nat.gatewayMac);
        // the expiry is seen at the end of that burst: the packet still used the old MAC; the next one asks
        sent(h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 40005, 80, 0x02, 1000, 0, 0)));
        assertEquals(0x0806, Mem.u16(d + 12), "who has the gateway, again");
        assertEquals(0xFFFF_FFFF_FFFFL, Mem.mac(d));
        learnGateway();
        sent(h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 40006, 80, 0x02, 1000, 0, 0)));
        assertEquals(GW_MAC, Mem.mac(d));
        // a static gateway-mac never ages: covered by the snapshot (extGatewayMac >= 0 skips ageing)
    }
}
