package io.sluice.dataplane.conntrack;

/**
 * One flow-log record as a shard hands it to its {@link Conntrack.FlowSink}: a reusable, mutable
 * value (one per shard, overwritten by the next record; the sink copies what it keeps). Addresses
 * are in the connection's original direction: {@code src} is the initiator. IPv4 addresses are in
 * the low 32 bits of {@code *Lo} ({@code *Hi} = 0). ICMP echo: both ports are the identifier.
 */
public final class FlowRecord {
    /** An interim record: the connection is still open; its counts restart after this record. */
    public static final int INTERIM = 0;
    /** End: the connection expired (idle timeout). */
    public static final int END_EXPIRED = 1;
    /** End: TCP closed (FIN both ways acknowledged: TIME_WAIT, or RST: CLOSE). */
    public static final int END_CLOSED = 2;
    /** End: deleted on purpose (a rule change cut it, or the control path killed it). */
    public static final int END_KILLED = 3;
    /** End: TIME_WAIT / CLOSE re-opened by a new SYN (the old connection ends). */
    public static final int END_REOPENED = 4;
    /** Kind names, indexed by kind. */
    public static final String[] KINDS = {"interim", "expired", "closed", "cut", "reopened"};

    public int kind;
    public int zone;
    public int family;
    public int proto;
    public long srcHi, srcLo, dstHi, dstLo;
    public int sport, dport;
    /** The VM the connection is charged to (the firewall: the VM port whose rules admitted it). */
    public int vm;
    /** The pipeline's flow-log word ({@link Conntrack#setLastRule}). */
    public int rule;
    /** The NAT word (0: none). */
    public int nat;
    /** The table tag of the connection: a hash of its key, the same for every record of it (sampling). */
    public int tag;
    /** Packets and L3 bytes in the original (0) and reply (1) direction, in this record's window. */
    public long packetsOrig, bytesOrig, packetsReply, bytesReply;
    /** Seconds (nanoTime / 1e9, 32 bits) when the window started and ended. */
    public int startSec, endSec;

    @Override
    public String toString() {
        return KINDS[kind] + " zone " + zone + " proto " + proto + " " + srcLo + ":" + sport + " > " + dstLo + ":" + dport
                + " vm " + vm + " rule " + rule + " pkts " + packetsOrig + "/" + packetsReply + " bytes " + bytesOrig + "/" + bytesReply
                + " " + startSec + ".." + endSec;
    }
}
