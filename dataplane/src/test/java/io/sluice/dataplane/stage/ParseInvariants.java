package io.sluice.dataplane.stage;

import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;

/** What must hold for any packet after {@link ParseStage}, whatever its bytes. Shared by the unit and fuzz tests. */
final class ParseInvariants {
    private ParseInvariants() {}

    static boolean isParserReason(int ordinal) {
        return ordinal > 0 && ordinal < DropReason.values().length && ParseStage.REASONS.contains(DropReason.of(ordinal));
    }

    /** Returns null when packet i is either dropped with a parser reason or consistently parsed; else what is wrong. */
    static String check(Burst b, int i) {
        int len = b.length[i];
        if (b.next[i] == Next.DROP) {
            return isParserReason(b.dropReason[i]) ? null : "dropped with non-parser reason " + DropReason.of(b.dropReason[i]);
        }
        if (b.next[i] != Next.CONTINUE) {
            return "next=" + b.next[i];
        }
        if (b.dropReason[i] != 0) {
            return "reason set on a kept packet";
        }
        int l3 = b.l3Offset[i];
        int l4 = b.l4Offset[i];
        int f = b.flags[i];
        if (l3 < 14 || l3 > len || (l3 - 14) % 4 != 0 || l3 > 22) {
            return "l3Offset " + l3 + " len " + len;
        }
        if (l4 != -1 && (l4 < l3 || l4 > len)) {
            return "l4Offset " + l4 + " l3 " + l3 + " len " + len;
        }
        int l3kinds = Integer.bitCount(f & (PacketFlags.IPV4 | PacketFlags.IPV6 | PacketFlags.ARP));
        if (l3kinds != 1) {
            return "not exactly one of IPV4/IPV6/ARP: flags " + Integer.toBinaryString(f);
        }
        if ((f & PacketFlags.ARP) != 0 && (l4 != -1 || l3 + 28 > len)) {
            return "ARP with l4 or too short";
        }
        if ((f & PacketFlags.IPV4) != 0 && l3 + 20 > len) {
            return "IPv4 too short";
        }
        if ((f & PacketFlags.IPV6) != 0 && l3 + 40 > len) {
            return "IPv6 too short";
        }
        int l4kinds = Integer.bitCount(f & (PacketFlags.TCP | PacketFlags.UDP | PacketFlags.ICMP | PacketFlags.ICMPV6));
        if (l4kinds > 1) {
            return "several L4 flags";
        }
        if (l4kinds == 1 && l4 == -1) {
            return "L4 flag without l4Offset";
        }
        if ((f & PacketFlags.TCP) != 0 && l4 + 20 > len) {
            return "TCP beyond frame";
        }
        if ((f & (PacketFlags.UDP | PacketFlags.ICMP | PacketFlags.ICMPV6)) != 0 && l4 + 8 > len) {
            return "UDP/ICMP beyond frame";
        }
        if ((f & PacketFlags.LATER_FRAGMENT) != 0 && (l4 != -1 || (f & PacketFlags.FRAGMENT) == 0)) {
            return "later fragment with l4Offset or without FRAGMENT";
        }
        if ((f & PacketFlags.QINQ) != 0 && (f & PacketFlags.VLAN) == 0) {
            return "QINQ without VLAN";
        }
        if (((f & PacketFlags.VLAN) != 0) != (b.vlan[i] >= 0)) {
            return "VLAN flag and vlan id disagree";
        }
        return null;
    }
}
