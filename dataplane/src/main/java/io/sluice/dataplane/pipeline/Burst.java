package io.sluice.dataplane.pipeline;

/**
 * A burst of packets and their per-packet metadata, in flat arrays owned by one worker.
 * A burst is allocated once per worker and reused for every rx burst; stages read and write
 * slots {@code 0..count-1}. Nothing here allocates after construction.
 *
 * <p>The packet bytes stay where the NIC put them: {@link #data}[i] is the absolute address of
 * the first byte of the Ethernet frame and {@link #length}[i] its length (see
 * {@link io.sluice.dataplane.packet.Mem}). {@link #mbuf}[i] is the owning {@code rte_mbuf*}
 * (0 for frames made by tests or by the pipeline itself before it has an mbuf).
 *
 * <p>Each packet's fate is a code in {@link #next}: {@link Next#CONTINUE} while stages still
 * have work, {@link Next#TX} once forwarding chose {@link #outPort}, {@link Next#DROP} with a
 * {@link DropReason} in {@link #dropReason}. A stage skips every packet that is not
 * {@code CONTINUE} (or, for the tx side, not {@code TX}).
 */
public final class Burst {
    public static final int MAX_CAPACITY = 256;

    public final int capacity;
    /** Number of packets in the burst. */
    public int count;

    public final long[] mbuf;
    public final long[] data;
    public final int[] length;
    public final int[] inPort;
    public final int[] outPort;
    public final byte[] next;
    public final byte[] dropReason;
    /**
     * Bytes of the frame that are not in the first segment (0 for a one-segment frame): the
     * frame is {@link #length}[i] bytes long ({@code pkt_len}) and only its first
     * {@code length[i] - tailLen[i]} bytes ({@code data_len} of the first mbuf) are contiguous
     * at {@link #data}[i]. The parser drops a packet whose headers are not all in those bytes
     * ({@link DropReason#HEADERS_SPAN_SEGMENTS}), so a stage may read headers at data[i] but
     * never payload beyond {@code length - tailLen}. A stage that moves the start (encap,
     * decap) leaves it as it is; a stage that writes a new frame into the mbuf calls
     * {@link #rewritten} (the worker then frees the rest of the chain).
     */
    public final int[] tailLen;
    /** Offload state from the rx mbuf's ol_flags, see {@link Offload} (0: none). */
    public final byte[] offload;

    // ---- set by the parser (see io.sluice.dataplane.stage.ParseStage) ----
    /** Offset of the L3 header from data[i] (after Ethernet and any 802.1Q tags). */
    public final short[] l3Offset;
    /** Offset of the L4 header from data[i] (after IPv4 options / IPv6 extension headers), or -1. */
    public final short[] l4Offset;
    /** EtherType after VLAN tags (0x0800, 0x86DD, 0x0806, ...). */
    public final short[] etherType;
    /** VLAN id (12 bits) of the outer 802.1Q tag, or -1 when untagged. */
    public final short[] vlan;
    /** IP protocol / IPv6 upper-layer next header (6, 17, 1, 58, ...), or -1. */
    public final short[] ipProto;
    /** Parse flags, see {@link PacketFlags}. */
    public final int[] flags;

    public Burst(int capacity) {
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("burst capacity must be 1.." + MAX_CAPACITY + ", was " + capacity);
        }
        this.capacity = capacity;
        mbuf = new long[capacity];
        data = new long[capacity];
        length = new int[capacity];
        inPort = new int[capacity];
        outPort = new int[capacity];
        next = new byte[capacity];
        dropReason = new byte[capacity];
        tailLen = new int[capacity];
        offload = new byte[capacity];
        l3Offset = new short[capacity];
        l4Offset = new short[capacity];
        etherType = new short[capacity];
        vlan = new short[capacity];
        ipProto = new short[capacity];
        flags = new int[capacity];
    }

    /** Resets the per-packet state of slot i for a freshly received one-segment packet. */
    public void reset(int i, long mbufAddr, long dataAddr, int len, int port) {
        reset(i, mbufAddr, dataAddr, len, 0, (byte) 0, port);
    }

    /**
     * Resets slot i for a freshly received packet of {@code len} bytes ({@code pkt_len}) of which
     * {@code tail} are beyond the first segment, with the {@link Offload} bits {@code ol}.
     */
    public void reset(int i, long mbufAddr, long dataAddr, int len, int tail, byte ol, int port) {
        mbuf[i] = mbufAddr;
        data[i] = dataAddr;
        length[i] = len;
        tailLen[i] = tail;
        offload[i] = ol;
        inPort[i] = port;
        outPort[i] = -1;
        next[i] = Next.CONTINUE;
        dropReason[i] = 0;
        l3Offset[i] = -1;
        l4Offset[i] = -1;
        etherType[i] = 0;
        vlan[i] = -1;
        ipProto[i] = -1;
        flags[i] = 0;
    }

    /** Bytes of packet i readable at {@link #data}[i] (its first segment). */
    public int headLen(int i) {
        return length[i] - tailLen[i];
    }

    /**
     * A stage wrote a new one-segment frame of {@code len} bytes at data[i] (ARP/ND reply, ICMP
     * error): no tail, no offload state. The worker trims the mbuf's chain before tx.
     */
    public void rewritten(int i, int len) {
        length[i] = len;
        tailLen[i] = 0;
        offload[i] = 0;
    }

    public void drop(int i, DropReason reason) {
        next[i] = Next.DROP;
        dropReason[i] = (byte) reason.ordinal();
    }

    public void tx(int i, int port) {
        next[i] = Next.TX;
        outPort[i] = port;
    }
}
