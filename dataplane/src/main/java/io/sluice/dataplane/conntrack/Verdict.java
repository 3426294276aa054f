package io.sluice.dataplane.conntrack;

/**
 * What the tracker says about one packet. Returned by every {@link Conntrack} update; enum
 * constants are singletons, so returning one allocates nothing.
 */
public enum Verdict {
    /** No live entry: the packet may start a connection. The caller checks its rules and, if they allow it, calls {@link Conntrack#commit}. */
    NEW,
    /** The packet belongs to a tracked connection, in either direction, and is valid for its state and window. */
    ESTABLISHED,
    /** An ICMP/ICMPv6 error that quotes the header of a tracked connection. */
    RELATED,
    /** Fits no tracked connection and cannot start one (bad flags, outside the window, reply without request, forged error). Drop. */
    INVALID,
    /** A new connection refused because a host-wide, per-VM or shard limit is reached. Drop and count. */
    LIMIT
}
