package io.sluice.dataplane.conntrack;

/**
 * States of the connectionless pseudo-connections (UDP, ICMP echo, other protocols), stored in
 * the same byte as a {@link TcpState}. FIRST: only the original direction seen. REPLIED: a reply
 * seen. STREAM: more traffic in the original direction after a reply (more than one
 * request/response, the AWS "UDP stream"). ICMP echo never goes past REPLIED.
 */
public final class PseudoState {
    public static final int FIRST = 0;
    public static final int REPLIED = 1;
    public static final int STREAM = 2;
    /** Number of pseudo states. */
    static final int COUNT = 3;

    /** Timeout table row per protocol kind (see {@link CtTimeouts#pseudoNanos()}). */
    static final int KIND_UDP = 0;
    static final int KIND_ICMP = 1;
    static final int KIND_OTHER = 2;

    private PseudoState() {}

    /** Next pseudo state after a valid packet in direction {@code dir}. */
    static int next(int state, int dir, boolean icmp) {
        if (dir == TcpTransitions.REPLY) return state == FIRST ? REPLIED : state;
        if (icmp) return state;
        return state == REPLIED ? STREAM : state;
    }

    public static String name(int s) {
        return switch (s) { case FIRST -> "FIRST"; case REPLIED -> "REPLIED"; case STREAM -> "STREAM"; default -> "?" + s; };
    }
}
