package io.sluice.dataplane.ffi;

import io.sluice.dataplane.packet.Mem;

import java.lang.foreign.ValueLayout;

/**
 * {@code struct rte_mbuf} field offsets, read once from the shim ({@code sl_offsets}), and
 * absolute-address accessors over them. Nothing here is a guessed offset.
 *
 * <pre>
 *  rte_mbuf (DPDK 22.11, x86-64; the numbers come from offsetof at run time)
 *  +-----------+---------+--------+---------+------+ ... +---------+----------+ ... +------+
 *  | buf_addr  | ...     |data_off| refcnt  |nb_segs| port| ol_flags|pkt_type  |pkt_len|data_len|
 *  +-----------+---------+--------+---------+------+ ... +---------+----------+ ... +------+
 *  frame = buf_addr + data_off, first segment length = data_len
 * </pre>
 */
public final class Mbuf {
    private Mbuf() {}

    private static final long[] T = Shim.offsets();

    public static final long SIZE = T[0];
    public static final long BUF_ADDR = T[1];
    public static final long DATA_OFF = T[2];
    public static final long REFCNT = T[3];
    public static final long NB_SEGS = T[4];
    public static final long PORT = T[5];
    public static final long OL_FLAGS = T[6];
    public static final long PACKET_TYPE = T[7];
    public static final long PKT_LEN = T[8];
    public static final long DATA_LEN = T[9];
    public static final long VLAN_TCI = T[10];
    public static final long RSS_HASH = T[11];
    public static final long BUF_LEN = T[12];
    public static final long POOL = T[13];
    public static final long NEXT = T[14];
    public static final long PRIV_SIZE = T[15];
    /** RTE_PKTMBUF_HEADROOM (a size, not an offset). */
    public static final long HEADROOM = T[16];
    /**
     * {@code uint64_t tx_offload}: l2_len bits 0-6, l3_len 7-15, l4_len 16-23, tso_segsz 24-39
     * (GCC's bitfield order on x86-64, as rte_mbuf_core.h declares them).
     */
    public static final long TX_OFFLOAD = T[17];

    private static final long[] K = Shim.constants();
    public static final long F_RX_L4_CKSUM_MASK = K[0];
    public static final long F_RX_L4_CKSUM_NONE = K[1];
    public static final long F_RX_LRO = K[2];
    public static final long F_TX_TCP_SEG = K[3];
    public static final long F_TX_TCP_CKSUM = K[4];
    public static final long F_TX_UDP_CKSUM = K[5];
    public static final long F_TX_L4_MASK = K[6];
    public static final long F_TX_IP_CKSUM = K[7];
    public static final long F_TX_IPV4 = K[8];
    public static final long F_TX_IPV6 = K[9];
    public static final long ETH_TX_MULTI_SEGS = K[10];
    public static final long ETH_TX_TCP_CKSUM = K[11];
    public static final long ETH_TX_UDP_CKSUM = K[12];
    public static final long ETH_TX_TCP_TSO = K[13];
    public static final long ETH_RX_TCP_CKSUM = K[14];
    public static final long ETH_RX_UDP_CKSUM = K[15];
    public static final long ETH_TX_IPV4_CKSUM = K[16];
    public static final long F_RX_L4_CKSUM_GOOD = K[17];
    /** tx_offload as C lays out l2_len 14, l3_len 20, l4_len 32, tso_segsz 1448 (ShimTest holds {@link #setTxOffload} to it). */
    public static final long TX_OFFLOAD_PROBE = K[18];

    /** Absolute address of the first frame byte: buf_addr + data_off. */
    public static long data(long m) {
        return Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, m + BUF_ADDR)
                + (Mem.ALL.get(ValueLayout.JAVA_SHORT_UNALIGNED, m + DATA_OFF) & 0xFFFF);
    }

    public static int dataLen(long m) {
        return Mem.ALL.get(ValueLayout.JAVA_SHORT_UNALIGNED, m + DATA_LEN) & 0xFFFF;
    }

    public static int pktLen(long m) {
        return Mem.ALL.get(ValueLayout.JAVA_INT_UNALIGNED, m + PKT_LEN);
    }

    public static int port(long m) {
        return Mem.ALL.get(ValueLayout.JAVA_SHORT_UNALIGNED, m + PORT) & 0xFFFF;
    }

    public static int nbSegs(long m) {
        return Mem.ALL.get(ValueLayout.JAVA_SHORT_UNALIGNED, m + NB_SEGS) & 0xFFFF;
    }

    public static long olFlags(long m) {
        return Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, m + OL_FLAGS);
    }

    public static void setOlFlags(long m, long flags) {
        Mem.ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, m + OL_FLAGS, flags);
    }

    /** The next segment of a chain, or 0. */
    public static long next(long m) {
        return Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, m + NEXT);
    }

    /** {@code tso_segsz} (the MSS of a GSO/TSO frame). */
    public static int tsoSegsz(long m) {
        return (int) (Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, m + TX_OFFLOAD) >>> 24) & 0xFFFF;
    }

    /** Sets tx_offload's l2_len, l3_len, l4_len and tso_segsz (the outer lengths to 0). */
    public static void setTxOffload(long m, int l2, int l3, int l4, int tsoSegsz) {
        long v = (l2 & 0x7FL) | ((l3 & 0x1FFL) << 7) | ((l4 & 0xFFL) << 16) | ((tsoSegsz & 0xFFFFL) << 24);
        Mem.ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, m + TX_OFFLOAD, v);
    }

    /** {@link io.sluice.dataplane.pipeline.Offload} bits for an rx mbuf's ol_flags (0 for most devices). */
    public static byte rxOffload(long olFlags) {
        if ((olFlags & (F_RX_L4_CKSUM_MASK | F_RX_LRO)) == 0) {
            return 0;
        }
        byte o = 0;
        if ((olFlags & F_RX_L4_CKSUM_MASK) == F_RX_L4_CKSUM_NONE) o |= io.sluice.dataplane.pipeline.Offload.PARTIAL_CSUM;
        if ((olFlags & F_RX_LRO) != 0) o |= io.sluice.dataplane.pipeline.Offload.GSO;
        return o;
    }

    /** Sets data_len and pkt_len of a single-segment mbuf (a stage that shortens or grows a frame). */
    public static void setLength(long m, int len) {
        Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, m + DATA_LEN, (short) len);
        Mem.ALL.set(ValueLayout.JAVA_INT_UNALIGNED, m + PKT_LEN, len);
    }
}
