package io.sluice.dataplane.packet;

/**
 * Ethernet II header: offsets from the first byte of the frame.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination MAC (6 bytes)                  |
 * +                               +-------------------------------+
 * |                               |                               |
 * +-------------------------------+                               +
 * |                      Source MAC (6 bytes)                     |
 * +-------------------------------+-------------------------------+
 * |           EtherType           |  payload (or 802.1Q tag) ...
 * +-------------------------------+
 * </pre>
 */
public final class EthernetHeader {
    public static final int DST_OFFSET = 0;
    public static final int SRC_OFFSET = 6;
    public static final int ETHER_TYPE_OFFSET = 12;
    /** Header length without VLAN tags. */
    public static final int LENGTH = 14;

    public static final int TYPE_IPV4 = 0x0800;
    public static final int TYPE_ARP = 0x0806;
    public static final int TYPE_IPV6 = 0x86DD;
    /** 802.1Q customer VLAN tag. */
    public static final int TYPE_VLAN = 0x8100;
    /** 802.1ad service VLAN tag (QinQ outer tag). */
    public static final int TYPE_QINQ = 0x88A8;
    /** Pre-standard QinQ outer tag still seen in the wild. */
    public static final int TYPE_QINQ_OLD = 0x9100;
    /** EtherType values below this are 802.3 length fields, not types. */
    public static final int MIN_ETHER_TYPE = 0x0600;

    public static final long BROADCAST_MAC = 0xFFFF_FFFF_FFFFL;

    private EthernetHeader() {}

    /** True for a multicast or broadcast MAC (group bit, the low bit of the first byte). */
    public static boolean isGroup(long mac) {
        return (mac & 0x0100_0000_0000L) != 0;
    }

    /** True for any of the three VLAN tag protocol identifiers. */
    public static boolean isVlanTpid(int etherType) {
        return etherType == TYPE_VLAN || etherType == TYPE_QINQ || etherType == TYPE_QINQ_OLD;
    }

    /** "aa:bb:cc:dd:ee:ff" for a MAC held in the low 48 bits of a long (control path only). */
    public static String macToString(long mac) {
        StringBuilder sb = new StringBuilder(17);
        for (int shift = 40; shift >= 0; shift -= 8) {
            if (shift != 40) {
                sb.append(':');
            }
            int b = (int) (mac >>> shift) & 0xFF;
            sb.append(Character.forDigit(b >>> 4, 16)).append(Character.forDigit(b & 0xF, 16));
        }
        return sb.toString();
    }
}
