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

    /** Sets data_len and pkt_len of a single-segment mbuf (a stage that shortens or grows a frame). */
    public static void setLength(long m, int len) {
        Mem.ALL.set(ValueLayout.JAVA_SHORT_UNALIGNED, m + DATA_LEN, (short) len);
        Mem.ALL.set(ValueLayout.JAVA_INT_UNALIGNED, m + PKT_LEN, len);
    }
}
