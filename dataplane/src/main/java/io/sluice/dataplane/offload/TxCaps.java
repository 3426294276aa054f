package io.sluice.dataplane.offload;

import io.sluice.dataplane.ffi.Mbuf;
import io.sluice.dataplane.ffi.PortInfo;

/**
 * What each port's transmit side takes, by ethdev port id: written by the control thread when a
 * port is opened ({@code port.Ports}), read by workers only for packets that are multi-segment or
 * carry offload state. Plain array stores: a port is opened before any worker can transmit to it
 * (start, or a hot-plug published with a volatile write after the open).
 *
 * <ul>
 *   <li>{@link #MULTI_SEGS}: the device takes mbuf chains (tx_offload_capa MULTI_SEGS: TAP, vhost,
 *       memif, ring, af_packet); otherwise a chain is copied into one mbuf or dropped.</li>
 *   <li>{@link #CSUM}: a partial TCP/UDP checksum may leave as it is, with TX_TCP/UDP_CKSUM and the
 *       header lengths (vhost-user: the guest's virtio driver, or the vhost PMD, completes it).</li>
 *   <li>{@link #TSO}: a GSO frame may leave whole, with TX_TCP_SEG and tso_segsz (the guest
 *       receives it as a virtio GSO frame). The vhost PMD passes TX_TCP_SEG on to the guest without
 *       checking that the guest negotiated GUEST_TSO4/6, so this is on only with
 *       {@code -Dsluice.vhost.tso-passthrough=true} (docs/vms.md).</li>
 * </ul>
 */
public final class TxCaps {
    public static final int MULTI_SEGS = 1, CSUM = 2, TSO = 4;
    /** RTE_MAX_ETHPORTS of Debian's DPDK 22.11 build is 32; room to spare. */
    public static final int MAX_PORTS = 1024;

    private static final int[] CAPS = new int[MAX_PORTS];

    private TxCaps() {}

    public static int of(int portId) {
        return portId >= 0 && portId < MAX_PORTS ? CAPS[portId] : 0;
    }

    public static void set(int portId, int caps) {
        if (portId >= 0 && portId < MAX_PORTS) CAPS[portId] = caps;
    }

    /** Whether the port is a vhost-user port (the only kind whose offloads Sluice passes through). */
    public static boolean isVhost(String driver) {
        return driver != null && driver.contains("vhost");
    }

    /** RTE_ETH_RX_OFFLOAD_* to enable on a port: the TCP/UDP checksum offloads of vhost-user ports. */
    public static long rxOffloads(PortInfo info) {
        return isVhost(info.driver()) ? Mbuf.ETH_RX_TCP_CKSUM | Mbuf.ETH_RX_UDP_CKSUM : 0;
    }

    /** RTE_ETH_TX_OFFLOAD_* to enable on a port: MULTI_SEGS everywhere, the checksum offloads on vhost-user. */
    public static long txOffloads(PortInfo info) {
        long t = Mbuf.ETH_TX_MULTI_SEGS;
        if (isVhost(info.driver())) t |= Mbuf.ETH_TX_TCP_CKSUM | Mbuf.ETH_TX_UDP_CKSUM;
        return t;
    }

    /** The caps of a port opened with {@link #txOffloads}. */
    public static int caps(PortInfo info) {
        long capa = info.txOffloadCapa();
        int c = 0;
        if ((capa & Mbuf.ETH_TX_MULTI_SEGS) != 0) c |= MULTI_SEGS;
        if (isVhost(info.driver())) {
            if ((capa & Mbuf.ETH_TX_TCP_CKSUM) != 0 && (capa & Mbuf.ETH_TX_UDP_CKSUM) != 0) c |= CSUM;
            if ((c & CSUM) != 0 && Boolean.getBoolean("sluice.vhost.tso-passthrough")) c |= TSO;
        }
        return c;
    }
}
