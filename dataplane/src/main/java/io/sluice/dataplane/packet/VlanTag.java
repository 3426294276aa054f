package io.sluice.dataplane.packet;

/**
 * 802.1Q / 802.1ad VLAN tag, as it follows the EtherType (TPID) that announced it: offsets from
 * the first byte after that TPID.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | PCP |D|      VLAN id (12)     |    inner EtherType / TPID     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class VlanTag {
    /** Tag control information: PCP (3 bits), DEI (1 bit), VLAN id (12 bits). */
    public static final int TCI_OFFSET = 0;
    public static final int ETHER_TYPE_OFFSET = 2;
    public static final int LENGTH = 4;
    public static final int VID_MASK = 0x0FFF;

    private VlanTag() {}
}
