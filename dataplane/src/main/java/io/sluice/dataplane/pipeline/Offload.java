package io.sluice.dataplane.pipeline;

/**
 * Offload state of a packet, in {@link Burst#offload}: what the receiving device (a vhost-user
 * port whose guest uses checksum / TSO offload) left for someone else to finish. Set from the rx
 * mbuf's {@code ol_flags} by the worker ({@code ffi.Mbuf#rxOffload}); 0 for every packet of a
 * device that offloads nothing.
 *
 * <ul>
 *   <li>{@link #PARTIAL_CSUM}: {@code RTE_MBUF_F_RX_L4_CKSUM_NONE} — the TCP/UDP checksum field
 *       holds only the (not complemented) sum of the pseudo-header, as virtio's
 *       {@code VIRTIO_NET_HDR_F_NEEDS_CSUM} leaves it; the payload is intact. A NAT rewrite updates
 *       the field for address changes only ({@link io.sluice.dataplane.packet.Checksum#updatePartial32});
 *       the egress completes it ({@code packet.SoftOffload}) or passes it on to a device that will.</li>
 *   <li>{@link #GSO}: {@code RTE_MBUF_F_RX_LRO} with {@code tso_segsz} — a TCP frame of up to 64 KB
 *       the sender meant to be cut into {@code tso_segsz}-byte segments (virtio GSO TCPv4/TCPv6).
 *       Always with PARTIAL_CSUM.</li>
 * </ul>
 */
public final class Offload {
    private Offload() {}

    public static final byte PARTIAL_CSUM = 1;
    public static final byte GSO = 2;
}
