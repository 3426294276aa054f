package io.sluice.dataplane.conntrack;

/**
 * The class of a TCP segment as the state machine sees it (Linux {@code get_conntrack_index}):
 * RST wins over everything, then SYN (with or without ACK), then FIN, then ACK.
 * Only the combinations Linux accepts ({@code tcp_valid_flags}: SYN, SYN+URG, SYN+ACK, RST,
 * RST+ACK, FIN+ACK, FIN+ACK+URG, ACK, ACK+URG; PSH, ECE, CWR ignored) have a class; the rest
 * (SYN+FIN, SYN+RST, FIN without ACK, no flags, URG with RST or with SYN+ACK, ...) are
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
    private static final int CORE = TcpFlags.FIN | TcpFlags.SYN | TcpFlags.RST | TcpFlags.ACK | TcpFlags.URG;
    /** Index = flags &amp; (FIN|SYN|RST|ACK|URG); value = segment class or INVALID_FLAGS. */
    private static final byte[] CLASS = new byte[64];

    static {
        java.util.Arrays.fill(CLASS, (byte) INVALID_FLAGS);
        CLASS[TcpFlags.SYN] = SYN;
        CLASS[TcpFlags.SYN | TcpFlags.URG] = SYN;
        CLASS[TcpFlags.FIN | TcpFlags.ACK | TcpFlags.URG] = FIN;
        CLASS[TcpFlags.ACK | TcpFlags.URG] = ACK;
        CLASS[TcpFlags.SYN | TcpFlags.ACK] = SYNACK;
        CLASS[TcpFlags.RST] = RST;
        CLASS[TcpFlags.RST | TcpFlags.ACK] = RST;
        CLASS[TcpFlags.FIN | TcpFlags.ACK] = FIN;
        CLASS[TcpFlags.ACK] = ACK;
    }

    private TcpSegment() {}

    /** The segment class of a TCP flags byte; PSH, ECE and CWR do not change it. */
    public static int classify(int tcpFlags) {
        return CLASS[tcpFlags & CORE];
    }

    public static String name(int segment) {
        return segment < 0 ? "INVALID_FLAGS" : NAMES[segment];
    }
}
