package io.sluice.dataplane.conntrack;

/**
 * TCP connection states, as in Linux nf_conntrack ({@code nf_conntrack_proto_tcp.c}).
 * The state is the tracker's view of both endpoints together, not of one endpoint:
 * FIN_WAIT means "a first FIN was seen", CLOSE_WAIT "that FIN was acknowledged",
 * LAST_ACK "a FIN was seen from both sides", TIME_WAIT "the last FIN was acknowledged",
 * CLOSE "a valid RST was seen". SYN_SENT2 is the simultaneous-open state (a SYN from each side).
 * The ordinal is what an entry stores; do not reorder.
 */
public enum TcpState {
    SYN_SENT("SS"),
    SYN_RECV("SR"),
    ESTABLISHED("ES"),
    FIN_WAIT("FW"),
    CLOSE_WAIT("CW"),
    LAST_ACK("LA"),
    TIME_WAIT("TW"),
    CLOSE("CL"),
    SYN_SENT2("S2");

    private static final TcpState[] VALUES = values();

    private final String abbrev;

    TcpState(String abbrev) { this.abbrev = abbrev; }

    /** Two-letter name used in the transition table and its tests (Linux's sSS, sSR, ...). */
    public String abbrev() { return abbrev; }

    public static TcpState of(int ordinal) { return VALUES[ordinal]; }

    public static TcpState ofAbbrev(String a) {
        for (TcpState s : VALUES) {
            if (s.abbrev.equals(a)) return s;
        }
        throw new IllegalArgumentException("no TCP state " + a);
    }
}
