package io.sluice.dataplane.conntrack;

/**
 * The TCP transition table: (direction, segment class, state) to next state, as data.
 * Modelled on Linux {@code tcp_conntracks[2][6][TCP_CONNTRACK_MAX]}; where Linux says
 * "ignore" (sIG: pass without changing anything) this table says the same state (a retransmitted
 * SYN/ACK in SYN_RECV or ESTABLISHED), {@link #IGNORE} (a SYN from the original side on a
 * connection past SYN_SENT, as Linux: a client that rebooted and reuses its port must reach the
 * server, whose challenge ACK makes the client reset the stale connection; before, such a SYN was
 * INVALID and the port stayed blocked until the 5-day established timeout) or {@link #INVALID}
 * (an early ACK where the firewall cannot vouch for it). A SYN on a TIME_WAIT or CLOSE entry, from either
 * side, is {@link #REOPEN}: the old entry is deleted and the packet starts a new connection
 * (Linux does the same for the original direction with {@code nf_ct_kill} + {@code NF_REPEAT}).
 *
 * <pre>
 * ORIGINAL  SS  SR  ES  FW  CW  LA  TW  CL  S2
 *   syn     SS  IG  IG  IG  IG  IG  RE  RE  S2
 *   synack  IV  SR  IV  IV  IV  IV  IV  IV  SR
 *   fin     IV  FW  FW  LA  LA  LA  TW  CL  IV
 *   ack     IV  ES  ES  CW  CW  TW  TW  CL  IV
 *   rst     CL  CL  CL  CL  CL  CL  CL  CL  CL
 * REPLY
 *   syn     S2  IV  IV  IV  IV  IV  RE  RE  S2
 *   synack  SR  SR  ES  IV  IV  IV  IV  IV  SR
 *   fin     IV  FW  FW  LA  LA  LA  TW  CL  IV
 *   ack     IV  SR  ES  CW  CW  TW  TW  CL  IV
 *   rst     CL  CL  CL  CL  CL  CL  CL  CL  CL
 * </pre>
 * A valid transition still needs the segment to pass the window check (see {@link Conntrack}).
 */
public final class TcpTransitions {
    /** The segment is invalid in this state: drop, nothing changes. */
    public static final int INVALID = -1;
    /** A SYN on a closed tuple: delete the entry and treat the packet as the first of a new connection. */
    public static final int REOPEN = -2;
    /** Pass the segment and change nothing (no state, no window, no timeout): Linux's sIG. */
    public static final int IGNORE = -3;

    public static final int ORIGINAL = 0;
    public static final int REPLY = 1;

    private static final String[][] TEXT = {
        { // ORIGINAL
            "SS IG IG IG IG IG RE RE S2",
            "IV SR IV IV IV IV IV IV SR",
            "IV FW FW LA LA LA TW CL IV",
            "IV ES ES CW CW TW TW CL IV",
            "CL CL CL CL CL CL CL CL CL",
        },
        { // REPLY
            "S2 IV IV IV IV IV RE RE S2",
            "SR SR ES IV IV IV IV IV SR",
            "IV FW FW LA LA LA TW CL IV",
            "IV SR ES CW CW TW TW CL IV",
            "CL CL CL CL CL CL CL CL CL",
        }
    };

    private static final int STATES = TcpState.values().length;
    /** Flat: ((dir * COUNT) + segment) * STATES + state. */
    private static final byte[] NEXT = new byte[2 * TcpSegment.COUNT * STATES];

    static {
        for (int dir = 0; dir < 2; dir++) {
            for (int seg = 0; seg < TcpSegment.COUNT; seg++) {
                String[] cells = TEXT[dir][seg].split(" ");
                for (int st = 0; st < STATES; st++) {
                    String c = cells[st];
                    int v = switch (c) {
                        case "IV" -> INVALID;
                        case "RE" -> REOPEN;
                        case "IG" -> IGNORE;
                        default -> TcpState.ofAbbrev(c).ordinal();
                    };
                    NEXT[(dir * TcpSegment.COUNT + seg) * STATES + st] = (byte) v;
                }
            }
        }
    }

    private TcpTransitions() {}

    /** Next state ordinal, {@link #INVALID}, {@link #REOPEN} or {@link #IGNORE}. */
    public static int next(int dir, int segment, int state) {
        return NEXT[(dir * TcpSegment.COUNT + segment) * STATES + state];
    }
}
