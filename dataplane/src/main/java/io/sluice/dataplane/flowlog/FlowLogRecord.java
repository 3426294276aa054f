package io.sluice.dataplane.flowlog;

import net.openhft.chronicle.wire.WireIn;
import net.openhft.chronicle.wire.WireOut;

import java.time.Instant;

/**
 * One flow-log record as stored in the queue and printed by {@code ./sluice flows}: the fields of
 * AWS VPC Flow Logs (version 5 names in brackets) plus the pre- and post-NAT addresses.
 *
 * @param project      overlay network of the VM ("-" without an overlay) [project: vpc-id]
 * @param vm           the VM ("project/name", or the port name without an overlay) [instance-id]
 * @param iface        the data-plane port of the VM interface [interface-id]
 * @param protocol     IANA protocol number [protocol]
 * @param src          source address, the connection's initiator, as the VM's interface sees it (pre-NAT) [srcaddr]
 * @param sport        source port (ICMP echo: identifier) [srcport]
 * @param dst          destination address (pre-NAT) [dstaddr]
 * @param dport        destination port [dstport]
 * @param natSrc       source after NAT, as the external network sees it (= src without NAT) [pkt-srcaddr]
 * @param natSport     source port after NAT
 * @param natDst       destination after NAT [pkt-dstaddr]
 * @param natDport     destination port after NAT
 * @param packets      packets initiator to responder in this record's window [packets]
 * @param bytes        L3 bytes initiator to responder [bytes]
 * @param packetsReply packets responder to initiator
 * @param bytesReply   L3 bytes responder to initiator
 * @param start        window start, Unix seconds [start]
 * @param end          window end, Unix seconds [end]
 * @param action       ACCEPT or REJECT [action]
 * @param reason       the rule that admitted the connection, or the drop reason of a REJECT
 * @param status       interim, expired, closed, cut, reopened (ACCEPT) or aggregated (REJECT) [log-status]
 */
public record FlowLogRecord(String project, String vm, String iface, int protocol, String src, int sport, String dst, int dport,
                            String natSrc, int natSport, String natDst, int natDport, long packets, long bytes,
                            long packetsReply, long bytesReply, long start, long end, String action, String reason, String status) {
    static final int VERSION = 1;

    void writeTo(WireOut w) {
        w.write("v").int32(VERSION);
        w.write("project").text(project);
        w.write("vm").text(vm);
        w.write("iface").text(iface);
        w.write("protocol").int32(protocol);
        w.write("src").text(src);
        w.write("sport").int32(sport);
        w.write("dst").text(dst);
        w.write("dport").int32(dport);
        w.write("natSrc").text(natSrc);
        w.write("natSport").int32(natSport);
        w.write("natDst").text(natDst);
        w.write("natDport").int32(natDport);
        w.write("packets").int64(packets);
        w.write("bytes").int64(bytes);
        w.write("packetsReply").int64(packetsReply);
        w.write("bytesReply").int64(bytesReply);
        w.write("start").int64(start);
        w.write("end").int64(end);
        w.write("action").text(action);
        w.write("reason").text(reason);
        w.write("status").text(status);
    }

    static FlowLogRecord readFrom(WireIn w) {
        int v = w.read("v").int32();
        if (v != VERSION) throw new IllegalStateException("flow-log record version " + v + ", this reader knows " + VERSION);
        return new FlowLogRecord(w.read("project").text(), w.read("vm").text(), w.read("iface").text(), w.read("protocol").int32(),
                w.read("src").text(), w.read("sport").int32(), w.read("dst").text(), w.read("dport").int32(),
                w.read("natSrc").text(), w.read("natSport").int32(), w.read("natDst").text(), w.read("natDport").int32(),
                w.read("packets").int64(), w.read("bytes").int64(), w.read("packetsReply").int64(), w.read("bytesReply").int64(),
                w.read("start").int64(), w.read("end").int64(), w.read("action").text(), w.read("reason").text(), w.read("status").text());
    }

    static String protoName(int p) {
        return switch (p) {
            case 6 -> "tcp";
            case 17 -> "udp";
            case 1 -> "icmp";
            case 58 -> "icmp6";
            default -> Integer.toString(p);
        };
    }

    private static String ep(String a, int port, int proto) {
        boolean ports = proto == 6 || proto == 17;
        return a.indexOf(':') >= 0 && ports ? "[" + a + "]:" + port : ports ? a + ":" + port : a;
    }

    /** One line of {@code ./sluice flows}' table. */
    public String line() {
        String nat = natSrc.equals(src) && natDst.equals(dst) && natSport == sport && natDport == dport ? ""
                : "  nat " + ep(natSrc, natSport, protocol) + " > " + ep(natDst, natDport, protocol);
        return String.format("%s %-20s %-5s %-22s > %-22s %6d/%-6d pkts %9d/%-9d bytes %-6s %-10s %s%s",
                Instant.ofEpochSecond(end), vm, protoName(protocol), ep(src, sport, protocol), ep(dst, dport, protocol),
                packets, packetsReply, bytes, bytesReply, action, status, reason, nat);
    }

    /** The record as one JSON object (AWS-like field names). */
    public String json() {
        return "{\"version\":" + VERSION + ",\"project\":" + q(project) + ",\"vm\":" + q(vm) + ",\"interface\":" + q(iface)
                + ",\"protocol\":" + protocol + ",\"srcaddr\":" + q(src) + ",\"srcport\":" + sport + ",\"dstaddr\":" + q(dst)
                + ",\"dstport\":" + dport + ",\"pkt-srcaddr\":" + q(natSrc) + ",\"pkt-srcport\":" + natSport
                + ",\"pkt-dstaddr\":" + q(natDst) + ",\"pkt-dstport\":" + natDport + ",\"packets\":" + packets + ",\"bytes\":" + bytes
                + ",\"packets-reply\":" + packetsReply + ",\"bytes-reply\":" + bytesReply + ",\"start\":" + start + ",\"end\":" + end
                + ",\"action\":" + q(action) + ",\"reason\":" + q(reason) + ",\"log-status\":" + q(status) + "}";
    }

    private static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }
}
