package io.sluice.dataplane.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** UDP and ICMP echo pseudo-connections, and ICMP/ICMPv6 errors (RELATED or INVALID). */
class UdpIcmpTest {
    private static final long S = 1_000_000_000L;
    private static final int VM_IP = 0x0A000005, PEER = 0x08080808, ROUTER = 0xC0A80001;
    private final Conntrack ct = new Conntrack(1024, CtTimeouts.defaults(), new ConnLimits(1000, 4, 1000), 3);
    private final CtPacket p = new CtPacket();

    @AfterEach
    void close() { ct.close(); }

    @Test
    void udpNewThenEstablishedByReplyThenStream() {
        p.v4(1, VM_IP, PEER).udp(5353, 53, 40);
        assertEquals(Verdict.NEW, ct.track(p, 0));
        assertEquals(Verdict.NEW, ct.commit(p, 0, 0));
        assertEquals(PseudoState.FIRST, ct.lastState());
        assertEquals(Verdict.ESTABLISHED, ct.track(p, S));
        assertEquals(PseudoState.FIRST, ct.lastState());
        p.v4(1, PEER, VM_IP).udp(53, 5353, 120);
        assertEquals(Verdict.ESTABLISHED, ct.track(p, 2 * S));
        assertEquals(1, ct.lastDirection());
        assertEquals(PseudoState.REPLIED, ct.lastState());
        p.v4(1, VM_IP, PEER).udp(5353, 53, 40);
        assertEquals(Verdict.ESTABLISHED, ct.track(p, 3 * S));
        assertEquals(PseudoState.STREAM, ct.lastState());
        // stream timeout is 180 s: still alive at +170 s, gone at +181 s
        assertEquals(Verdict.ESTABLISHED, ct.track(p, 173 * S));
        assertEquals(Verdict.NEW, ct.track(p, 173 * S + 180 * S));
    }

    @Test
    void udpUnrepliedTimesOutAfter30s() {
        p.v4(1, VM_IP, PEER).udp(1000, 2000, 1);
        ct.commit(p, 0, 0);
        p.v4(1, PEER, VM_IP).udp(2000, 1000, 1);
        assertEquals(Verdict.ESTABLISHED, ct.track(p, 29 * S));
        assertEquals(Verdict.NEW, ct.track(p, 29 * S + 30 * S), "30 s idle: gone, and a reply cannot revive it");
        assertEquals(0, ct.size());
    }

    @Test
    void icmpEchoRequestReply() {
        p.v4(1, VM_IP, PEER).icmp(Icmp.V4_ECHO_REQUEST, 0, 77);
        assertEquals(Verdict.NEW, ct.commit(p, 0, 0));
        p.v4(1, PEER, VM_IP).icmp(Icmp.V4_ECHO_REPLY, 0, 77);
        assertEquals(Verdict.ESTABLISHED, ct.track(p, 1));
        assertEquals(1, ct.lastDirection());
        assertEquals(PseudoState.REPLIED, ct.lastState());
        p.v4(1, PEER, VM_IP).icmp(Icmp.V4_ECHO_REPLY, 0, 78);
        assertEquals(Verdict.INVALID, ct.track(p, 2), "reply with another id");
        p.v4(1, VM_IP, PEER).icmp(Icmp.V4_ECHO_REPLY, 0, 77);
        assertEquals(Verdict.INVALID, ct.track(p, 2), "a reply in the request's direction");
        p.v4(1, PEER, VM_IP).icmp(Icmp.V4_ECHO_REQUEST, 0, 77);
        assertEquals(Verdict.NEW, ct.track(p, 2), "the peer pinging back with the same id is its own connection");
        p.v4(1, PEER, VM_IP).icmp(13, 0, 77);
        assertEquals(Verdict.INVALID, ct.track(p, 2), "timestamp requests are not tracked");
    }

    @Test
    void icmpv6Echo() {
        CtPacket q = new CtPacket();
        q.v6(4, 0x20010db8L << 32, 1, 0x20010db8L << 32, 2).icmp(Icmp.V6_ECHO_REQUEST, 0, 9);
        assertEquals(Verdict.NEW, ct.commit(q, 1, 0));
        assertEquals(CtPacket.IPPROTO_ICMPV6, q.proto);
        q.v6(4, 0x20010db8L << 32, 2, 0x20010db8L << 32, 1).icmp(Icmp.V6_ECHO_REPLY, 0, 9);
        assertEquals(Verdict.ESTABLISHED, ct.track(q, 1));
    }

    @Test
    void errorsQuotingTrackedConnectionsAreRelated() {
        // TCP connection VM -> PEER:443
        p.v4(1, VM_IP, PEER).tcp(40000, 443, TcpFlags.SYN, 1, 0, 1000, 0);
        ct.commit(p, 0, 0);
        // a router says the destination is unreachable, quoting the SYN
        p.v4(1, ROUTER, VM_IP).icmp(Icmp.V4_DEST_UNREACHABLE, 1, 0)
                .quoted(0, VM_IP & 0xFFFF_FFFFL, 0, PEER, CtPacket.IPPROTO_TCP, 40000, 443, 0);
        assertEquals(Verdict.RELATED, ct.track(p, 1));
        p.icmp(Icmp.V4_DEST_UNREACHABLE, Icmp.V4_CODE_FRAG_NEEDED, 0);
        assertEquals(Verdict.RELATED, ct.track(p, 1), "packet too big (frag needed)");
        p.icmp(Icmp.V4_TIME_EXCEEDED, 0, 0);
        assertEquals(Verdict.RELATED, ct.track(p, 1));
        // forged: quotes a port nobody uses
        p.quoted(0, VM_IP & 0xFFFF_FFFFL, 0, PEER, CtPacket.IPPROTO_TCP, 40001, 443, 0);
        assertEquals(Verdict.INVALID, ct.track(p, 1));
        // forged: quotes the right tuple but is not sent back to the quoted packet's sender
        p.v4(1, ROUTER, 0x0A000099).icmp(Icmp.V4_DEST_UNREACHABLE, 1, 0)
                .quoted(0, VM_IP & 0xFFFF_FFFFL, 0, PEER, CtPacket.IPPROTO_TCP, 40000, 443, 0);
        assertEquals(Verdict.INVALID, ct.track(p, 1));
        // an error about the reply direction (PEER -> VM packet), sent to PEER
        p.v4(1, ROUTER, PEER).icmp(Icmp.V4_TIME_EXCEEDED, 0, 0)
                .quoted(0, PEER, 0, VM_IP & 0xFFFF_FFFFL, CtPacket.IPPROTO_TCP, 443, 40000, 0);
        assertEquals(Verdict.RELATED, ct.track(p, 1));
        // in another zone it is unknown
        p.zone = 2;
        assertEquals(Verdict.INVALID, ct.track(p, 1));
        assertEquals(4, ct.relatedCount());
        assertEquals(1, ct.size(), "errors create nothing");
    }

    @Test
    void errorsQuotingUdpAndEchoAndIcmpv6() {
        p.v4(1, VM_IP, PEER).udp(3333, 4444, 10);
        ct.commit(p, 0, 0);
        p.v4(1, PEER, VM_IP).icmp(Icmp.V4_DEST_UNREACHABLE, 3, 0)
                .quoted(0, VM_IP & 0xFFFF_FFFFL, 0, PEER, CtPacket.IPPROTO_UDP, 3333, 4444, 0);
        assertEquals(Verdict.RELATED, ct.track(p, 1), "port unreachable from the peer itself");

        p.v4(1, VM_IP, PEER).icmp(Icmp.V4_ECHO_REQUEST, 0, 5);
        ct.commit(p, 0, 0);
        p.v4(1, ROUTER, VM_IP).icmp(Icmp.V4_TIME_EXCEEDED, 0, 0)
                .quoted(0, VM_IP & 0xFFFF_FFFFL, 0, PEER, CtPacket.IPPROTO_ICMP, 5, 0, Icmp.V4_ECHO_REQUEST);
        assertEquals(Verdict.RELATED, ct.track(p, 1), "traceroute-style time exceeded for a ping");
        p.quoted(0, VM_IP & 0xFFFF_FFFFL, 0, PEER, CtPacket.IPPROTO_ICMP, 6, 0, Icmp.V4_ECHO_REQUEST);
        assertEquals(Verdict.INVALID, ct.track(p, 1));

        long net = 0x20010db8L << 32;
        CtPacket q = new CtPacket();
        q.v6(1, net, 1, net, 2).udp(1, 2, 1);
        ct.commit(q, 0, 0);
        q.v6(1, net, 0xFE, net, 1).icmp(Icmp.V6_PACKET_TOO_BIG, 0, 0)
                .quoted(net, 1, net, 2, CtPacket.IPPROTO_UDP, 1, 2, 0);
        assertEquals(Verdict.RELATED, ct.track(q, 1));
        q.icmp(Icmp.V6_DEST_UNREACHABLE, 0, 0);
        assertEquals(Verdict.RELATED, ct.track(q, 1));
        q.icmp(Icmp.V6_TIME_EXCEEDED, 0, 0);
        assertEquals(Verdict.RELATED, ct.track(q, 1));
        q.quoted(net, 1, net, 3, CtPacket.IPPROTO_UDP, 1, 2, 0);
        assertEquals(Verdict.INVALID, ct.track(q, 1));
    }

    @Test
    void errorForAnExpiredConnectionIsInvalid() {
        p.v4(1, VM_IP, PEER).udp(1, 2, 1);
        ct.commit(p, 0, 0);
        p.v4(1, ROUTER, VM_IP).icmp(Icmp.V4_DEST_UNREACHABLE, 0, 0)
                .quoted(0, VM_IP & 0xFFFF_FFFFL, 0, PEER, CtPacket.IPPROTO_UDP, 1, 2, 0);
        assertEquals(Verdict.INVALID, ct.track(p, 31 * S));
    }

    @Test
    void otherProtocolsAreGenericPseudoConnections() {
        p.v4(1, VM_IP, PEER);
        p.proto = 47; // GRE
        assertEquals(Verdict.NEW, ct.commit(p, 0, 0));
        p.v4(1, PEER, VM_IP);
        p.proto = 47;
        assertEquals(Verdict.ESTABLISHED, ct.track(p, S));
        assertEquals(1, ct.lastDirection());
        assertEquals(Verdict.NEW, ct.track(p, S + 60 * S), "60 s generic timeout");
    }
}
