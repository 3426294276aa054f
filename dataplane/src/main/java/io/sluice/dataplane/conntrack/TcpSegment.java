package io.sluice.dataplane.conntrack;

/**
 * The class of a TCP segment as the state machine sees it (Linux {@code get_conntrack_index}):
 * RST wins over everything, then SYN (with or without ACK), then FIN, then ACK.
 * Flag combinations no stack sends (SYN+FIN, SYN+RST, FIN without ACK, no flags, ...) are
 * {@link #INVALID_FLAGS} and never reach the table.
 */
public final class TcpSegment {
    public static final int SYN = 0;
    public static final int SYNACK = 1;
    public static final int FIN = 2;
    public static final int ACK = 3;
    public static final int RST = 4;
    public static final int COUNT = 5;
    public static final int INVALID_FLAGS = -1;

    private static final String[] NAMES = {"SYN", "SYNACK", "FIN", "ACK", "RST"};
    private static final int CORE = TcpFlags.FIN | TcpFlags.SYN | TcpFlags.RST | TcpFlags.ACK;
    /** Index = flags &amp; (FIN|SYN|RST|ACK); value = segment class or INVALID_FLAGS. */
    private static final byte[] CLASS = new byte[32];

    static {
        java.util.Arrays.fill(CLASS, (byte) INVALID_FLAGS);
        CLASS[TcpFlags.SYN] = SYN;
        CLASS[TcpFlags.SYN | TcpFlags.ACK] = SYNACK;
        CLASS[TcpFlags.RST] = RST;
        CLASS[TcpFlags.RST | TcpFlags.ACK] = RST;
        CLASS[TcpFlags.FIN | TcpFlags.ACK] = FIN;
        CLASS[TcpFlags.ACK] = ACK;
    }

    private TcpSegment() {}

    /** The segment class of a TCP flags byte; PSH, URG, ECE and CWR do not change it. */
    public static int classify(int tcpFlags) {
        return CLASS[tcpFlags & CORE];
    }

    public static String name(int segment) {
        return segment < 0 ? "INVALID_FLAGS" : NAMES[segment];
    }
}
