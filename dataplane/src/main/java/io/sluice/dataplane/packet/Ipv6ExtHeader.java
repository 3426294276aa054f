package io.sluice.dataplane.packet;

/**
 * IPv6 extension headers (RFC 8200 section 4, RFC 4302 for AH): offsets from the first byte of
 * the extension header. Every one starts with Next Header; they differ in how the length is coded.
 *
 * <pre>
 * Hop-by-hop options (0), Routing (43), Destination options (60): length = (Hdr Ext Len + 1) * 8
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Header  |  Hdr Ext Len  |  options / routing data ...   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Fragment (44): always 8 bytes
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Header  |   Reserved    |   Fragment Offset (13)  |Res|M|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Identification                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Authentication header (51): length = (Payload Len + 2) * 4
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Header  |  Payload Len  |           Reserved            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           SPI, sequence number, ICV ...                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class Ipv6ExtHeader {
    public static final int NEXT_HEADER_OFFSET = 0;
    /** Hdr Ext Len (options/routing: 8-byte units minus 1) or Payload Len (AH: 4-byte units minus 2). */
    public static final int LENGTH_OFFSET = 1;
    /** Fragment header: offset (13 bits, 8-byte units), 2 reserved bits, M flag. */
    public static final int FRAGMENT_OFFSET_OFFSET = 2;
    public static final int FRAGMENT_ID_OFFSET = 4;
    public static final int FRAGMENT_LENGTH = 8;
    public static final int FRAGMENT_MORE = 0x0001;
    public static final int FRAGMENT_OFFSET_SHIFT = 3;
    /** Smallest extension header (every one is at least 8 bytes). */
    public static final int MIN_LENGTH = 8;

    private Ipv6ExtHeader() {}

    /** Length in bytes of a hop-by-hop, routing or destination options header at {@code addr}. */
    public static int optionsLength(long addr) {
        return (Mem.u8(addr + LENGTH_OFFSET) + 1) << 3;
    }

    /** Length in bytes of an authentication header at {@code addr}. */
    public static int ahLength(long addr) {
        return (Mem.u8(addr + LENGTH_OFFSET) + 2) << 2;
    }
}
