package io.sluice.dataplane.conntrack;

import java.time.Duration;

/**
 * Idle timeouts per protocol and state. Every packet that a connection accepts sets its deadline
 * to {@code now + timeout(new state)}. Defaults ({@link #defaults()}) and where they come from:
 *
 * <pre>
 * field            default   Linux nf_conntrack        OVS userspace (conntrack-private.h)  AWS security groups
 * tcpSynSent       120 s     tcp_timeout_syn_sent 120  TCP_FIRST_PACKET 30                   -
 * tcpSynRecv        60 s     tcp_timeout_syn_recv 60   TCP_OPENING 30                        -
 * tcpEstablished   432000 s  tcp_timeout_established   TCP_ESTABLISHED 86400                 TcpEstablishedTimeout
 *                  (5 days)  432000                                                          default 432000 (60..432000)
 * tcpFinWait       120 s     tcp_timeout_fin_wait 120  TCP_CLOSING 900                       -
 * tcpCloseWait      60 s     tcp_timeout_close_wait 60 TCP_CLOSING 900                       -
 * tcpLastAck        30 s     tcp_timeout_last_ack 30   TCP_FIN_WAIT 45                       -
 * tcpTimeWait      120 s     tcp_timeout_time_wait 120 TCP_CLOSED 30                         -
 * tcpClose          10 s     tcp_timeout_close 10      TCP_CLOSED 30                         -
 * udpFirst          30 s     udp_timeout 30            OTHER_FIRST 60                        UdpTimeout default 30
 * udpReplied        30 s     udp_timeout 30            OTHER_MULTIPLE 60                     UdpTimeout (one req/resp)
 * udpStream        180 s     udp_timeout_stream 120    OTHER_BIDIR 30                        UdpStreamTimeout default 180
 * icmpFirst         30 s     icmp_timeout 30           ICMP_FIRST 60                         -
 * icmpReply         30 s     icmp_timeout 30           ICMP_REPLY 30                         -
 * otherFirst        60 s     generic_timeout 600       OTHER_FIRST 60                        -
 * otherReplied      60 s     generic_timeout 600       OTHER_BIDIR 30                        -
 * </pre>
 * TCP handshake and teardown follow Linux (the model the state machine copies); the
 * customer-visible idle timeouts (TCP established, UDP, UDP stream) follow AWS, the cloud
 * convention tenants expect; ICMP and other protocols follow Linux/OVS.
 */
public record CtTimeouts(
        Duration tcpSynSent, Duration tcpSynRecv, Duration tcpEstablished, Duration tcpFinWait,
        Duration tcpCloseWait, Duration tcpLastAck, Duration tcpTimeWait, Duration tcpClose,
        Duration udpFirst, Duration udpReplied, Duration udpStream,
        Duration icmpFirst, Duration icmpReply,
        Duration otherFirst, Duration otherReplied) {

    public CtTimeouts {
        for (Duration d : new Duration[] {tcpSynSent, tcpSynRecv, tcpEstablished, tcpFinWait, tcpCloseWait,
                tcpLastAck, tcpTimeWait, tcpClose, udpFirst, udpReplied, udpStream, icmpFirst, icmpReply,
                otherFirst, otherReplied}) {
            if (d == null || d.isNegative() || d.isZero() || d.compareTo(Duration.ofDays(3650)) > 0) {
                throw new IllegalArgumentException("conntrack timeouts must be > 0 and <= 3650 days, was " + d);
            }
        }
    }

    public static CtTimeouts defaults() {
        return new CtTimeouts(
                Duration.ofSeconds(120), Duration.ofSeconds(60), Duration.ofSeconds(432_000), Duration.ofSeconds(120),
                Duration.ofSeconds(60), Duration.ofSeconds(30), Duration.ofSeconds(120), Duration.ofSeconds(10),
                Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(180),
                Duration.ofSeconds(30), Duration.ofSeconds(30),
                Duration.ofSeconds(60), Duration.ofSeconds(60));
    }

    /** TCP timeout in ns per {@link TcpState} ordinal. */
    long[] tcpNanos() {
        long[] t = new long[TcpState.values().length];
        t[TcpState.SYN_SENT.ordinal()] = tcpSynSent.toNanos();
        t[TcpState.SYN_RECV.ordinal()] = tcpSynRecv.toNanos();
        t[TcpState.ESTABLISHED.ordinal()] = tcpEstablished.toNanos();
        t[TcpState.FIN_WAIT.ordinal()] = tcpFinWait.toNanos();
        t[TcpState.CLOSE_WAIT.ordinal()] = tcpCloseWait.toNanos();
        t[TcpState.LAST_ACK.ordinal()] = tcpLastAck.toNanos();
        t[TcpState.TIME_WAIT.ordinal()] = tcpTimeWait.toNanos();
        t[TcpState.CLOSE.ordinal()] = tcpClose.toNanos();
        t[TcpState.SYN_SENT2.ordinal()] = tcpSynSent.toNanos();
        return t;
    }

    /** Pseudo-connection timeout in ns: index = kind * 3 + {@link PseudoState} (FIRST, REPLIED, STREAM). */
    long[] pseudoNanos() {
        return new long[] {
            udpFirst.toNanos(), udpReplied.toNanos(), udpStream.toNanos(),
            icmpFirst.toNanos(), icmpReply.toNanos(), icmpReply.toNanos(),
            otherFirst.toNanos(), otherReplied.toNanos(), otherReplied.toNanos(),
        };
    }
}
