package io.sluice.dataplane.stage;

import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.packet.NativeFrames;
import io.sluice.dataplane.packet.PacketSpec;
import io.sluice.dataplane.packet.PacketSpec.Built;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;

import static io.sluice.dataplane.packet.PacketSpec.frame;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The parser against frames whose right answer is known from how they were built
 * ({@link PacketSpec}): every supported type accepted with the right metadata; cut at every
 * byte; cut with the IP length fixed to match (to reach the inner headers); every length field
 * set to every value.
 */
class ParseStageTest {
    private static NativeFrames frames;
    private static long buf;
    private static final int BUF = 4096;
    private static final ParseStage PARSE = new ParseStage();
    private static final Burst BURST = new Burst(1);

    @BeforeAll
    static void setUp() {
        frames = new NativeFrames();
        buf = frames.allocate(BUF);
    }

    @AfterAll
    static void tearDown() {
        frames.close();
    }

    static List<Built> catalog() {
        return PacketSpec.catalog();
    }

    /** Parses the first {@code len} bytes of {@code bytes} (copied to native memory); checks the invariants. */
    private static Burst parse(byte[] bytes, int len) {
        NativeFrames.write(buf, Arrays.copyOf(bytes, Math.min(len, BUF)));
        Burst b = BURST;
        b.count = 1;
        b.reset(0, 0, buf, len, 0);
        int acted = PARSE.process(b);
        assertEquals(1, acted);
        String broken = ParseInvariants.check(b, 0);
        assertNull(broken, broken);
        return b;
    }

    private static DropReason outcome(Burst b) {
        return b.next[0] == Next.DROP ? DropReason.of(b.dropReason[0]) : DropReason.NONE;
    }

    private static void assertMetadata(Built f, Burst b, String where) {
        assertEquals(Next.CONTINUE, b.next[0], where + ": dropped " + outcome(b));
        assertEquals(f.etherType(), b.etherType[0] & 0xFFFF, where + ": etherType");
        assertEquals(f.vlan(), b.vlan[0], where + ": vlan");
        assertEquals(f.l3Offset(), b.l3Offset[0], where + ": l3Offset");
        assertEquals(f.l4Offset(), b.l4Offset[0], where + ": l4Offset");
        assertEquals(f.ipProto(), b.ipProto[0], where + ": ipProto");
        assertEquals(Integer.toBinaryString(f.flags()), Integer.toBinaryString(b.flags[0]), where + ": flags");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalog")
    void acceptsEveryValidFrameWithItsMetadata(Built f) {
        assertMetadata(f, parse(f.bytes(), f.bytes().length), f.name());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalog")
    void frameCutAtEveryByteIsDroppedWithTheExactReason(Built f) {
        int n = f.bytes().length;
        for (int cut = 0; cut <= n; cut++) {
            Burst b = parse(f.bytes(), cut);
            DropReason want = f.cutReason(f.frameCuts(), cut);
            if (want == DropReason.NONE) {
                assertMetadata(f, b, f.name() + " cut at " + cut);
            } else {
                assertEquals(want, outcome(b), f.name() + " cut at " + cut);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalog")
    void ipPacketCutWithItsLengthFixedIsDroppedByTheInnerHeader(Built f) {
        if (f.ipLengthOffset() < 0) {
            return;
        }
        for (int cut = f.ipFixedEnd(); cut <= f.ipPayloadEnd(); cut++) {
            byte[] bytes = Arrays.copyOf(f.bytes(), cut);
            setU16(bytes, f.ipLengthOffset(), cut - f.ipLengthBase());
            Burst b = parse(bytes, cut);
            DropReason want = f.cutReason(f.ipCuts(), cut);
            if (want == DropReason.NONE) {
                assertMetadata(f, b, f.name() + " ip cut at " + cut);
            } else {
                assertEquals(want, outcome(b), f.name() + " ip cut at " + cut);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalog")
    void ipLengthFieldSetToEveryValue(Built f) {
        if (f.ipLengthOffset() < 0) {
            return;
        }
        boolean v4 = (f.flags() & PacketFlags.IPV4) != 0;
        int l3 = f.l3Offset();
        int avail = f.bytes().length - l3;
        int hl = v4 ? (f.bytes()[l3] & 0x0F) * 4 : 40;
        byte[] bytes = f.bytes().clone();
        for (int v = 0; v <= 0xFFFF; v++) {
            setU16(bytes, f.ipLengthOffset(), v);
            Burst b = parse(bytes, bytes.length);
            DropReason want;
            if (v4) {
                want = v < 20 ? DropReason.BAD_IPV4_TOTAL_LENGTH
                        : v < hl ? DropReason.BAD_IPV4_IHL
                        : v > avail ? DropReason.BAD_IPV4_TOTAL_LENGTH
                        : f.cutReason(f.ipCuts(), l3 + v);
            } else {
                want = 40 + v > avail ? DropReason.BAD_IPV6_PAYLOAD_LENGTH : f.cutReason(f.ipCuts(), l3 + 40 + v);
            }
            if (want == DropReason.NONE) {
                assertMetadata(f, b, f.name() + " ip length " + v);
            } else {
                assertEquals(want, outcome(b), f.name() + " ip length " + v);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalog")
    void ipv4IhlSetToEveryValue(Built f) {
        if ((f.flags() & PacketFlags.IPV4) == 0) {
            return;
        }
        int l3 = f.l3Offset();
        byte[] bytes = f.bytes().clone();
        int orig = bytes[l3] & 0x0F;
        int total = getU16(bytes, l3 + 2);
        for (int ihl = 0; ihl < 16; ihl++) {
            bytes[l3] = (byte) (0x40 | ihl);
            Burst b = parse(bytes, bytes.length);
            if (ihl < 5 || ihl * 4 > total) {
                assertEquals(DropReason.BAD_IPV4_IHL, outcome(b), f.name() + " ihl " + ihl);
            } else if (ihl == orig) {
                assertMetadata(f, b, f.name() + " ihl " + ihl);
            } else if (ihl > 5) {
                assertTrue((b.flags[0] & PacketFlags.IP_OPTIONS) != 0 || b.next[0] == Next.DROP);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalog")
    void versionNibbleOtherThanTheEtherTypeSaysIsDropped(Built f) {
        boolean v4 = (f.flags() & PacketFlags.IPV4) != 0;
        boolean v6 = (f.flags() & PacketFlags.IPV6) != 0;
        if (!v4 && !v6) {
            return;
        }
        byte[] bytes = f.bytes().clone();
        int l3 = f.l3Offset();
        for (int version = 0; version < 16; version++) {
            bytes[l3] = (byte) ((version << 4) | (f.bytes()[l3] & 0x0F));
            Burst b = parse(bytes, bytes.length);
            if (v4 && version != 4) {
                assertEquals(DropReason.BAD_IPV4_VERSION, outcome(b));
            } else if (v6 && version != 6) {
                assertEquals(DropReason.BAD_IPV6_VERSION, outcome(b));
            } else {
                assertMetadata(f, b, f.name());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalog")
    void ipv6ExtensionHeaderLengthSetToEveryValue(Built f) {
        for (int e = 0; e < f.extOffsets().length; e++) {
            int at = f.extOffsets()[e];
            if (at == 0 || f.extTypes()[e] == 44) {
                continue; // not written, or fragment (fixed length: its byte 1 is reserved)
            }
            boolean ah = f.extTypes()[e] == 51;
            byte[] bytes = f.bytes().clone();
            int orig = bytes[at + 1] & 0xFF;
            int end = f.ipPayloadEnd();
            for (int v = 0; v < 256; v++) {
                bytes[at + 1] = (byte) v;
                Burst b = parse(bytes, bytes.length);
                int hlen = ah ? (v + 2) * 4 : (v + 1) * 8;
                if (at + hlen > end) {
                    assertEquals(DropReason.TRUNCATED_IPV6_EXT, outcome(b), f.name() + " ext " + e + " len " + v);
                } else if (v == orig) {
                    assertMetadata(f, b, f.name() + " ext " + e + " len " + v);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalog")
    void tcpDataOffsetSetToEveryValue(Built f) {
        if ((f.flags() & PacketFlags.TCP) == 0) {
            return;
        }
        byte[] bytes = f.bytes().clone();
        int at = f.l4Offset() + 12;
        int avail = f.ipPayloadEnd() - f.l4Offset();
        for (int doff = 0; doff < 16; doff++) {
            bytes[at] = (byte) (doff << 4);
            Burst b = parse(bytes, bytes.length);
            if (doff < 5 || doff * 4 > avail) {
                assertEquals(DropReason.BAD_TCP_DATA_OFFSET, outcome(b), f.name() + " doff " + doff);
            } else {
                assertMetadata(f, b, f.name() + " doff " + doff);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalog")
    void udpLengthSetToEveryValue(Built f) {
        if ((f.flags() & PacketFlags.UDP) == 0) {
            return;
        }
        boolean fragment = (f.flags() & PacketFlags.FRAGMENT) != 0;
        byte[] bytes = f.bytes().clone();
        int at = f.l4Offset() + 4;
        int avail = f.ipPayloadEnd() - f.l4Offset();
        for (int v = 0; v <= 0xFFFF; v++) {
            setU16(bytes, at, v);
            Burst b = parse(bytes, bytes.length);
            if (v < 8 || (!fragment && v > avail)) {
                assertEquals(DropReason.BAD_UDP_LENGTH, outcome(b), f.name() + " udp length " + v);
            } else {
                assertMetadata(f, b, f.name() + " udp length " + v);
            }
        }
    }

    /**
     * The inline fast path of process() against the general path alone, on mutated frames of
     * every kind; the fast side also starts from stale metadata, which must all be overwritten.
     */
    @Test
    void fastPathAgreesWithTheGeneralPath() {
        List<Built> all = PacketSpec.catalog();
        java.util.Random rnd = new java.util.Random(42);
        Burst fast = new Burst(1);
        Burst slow = new Burst(1);
        long slowBuf = frames.allocate(BUF);
        int fastTaken = 0;
        for (int round = 0; round < 200_000; round++) {
            byte[] bytes = all.get(rnd.nextInt(all.size())).bytes().clone();
            int mutations = rnd.nextInt(4);
            for (int m = 0; m < mutations; m++) {
                int at = rnd.nextInt(Math.min(bytes.length, 70));
                bytes[at] = rnd.nextInt(3) == 0 ? (byte) rnd.nextInt(256) : (byte) (bytes[at] ^ (1 << rnd.nextInt(8)));
            }
            int len = rnd.nextInt(5) == 0 ? rnd.nextInt(bytes.length + 1) : bytes.length;
            NativeFrames.write(buf, bytes);
            NativeFrames.write(slowBuf, bytes);
            fast.count = 1;
            fast.reset(0, 0, buf, len, 0);
            // stale metadata from an earlier packet: the parser must overwrite all of it
            fast.etherType[0] = (short) rnd.nextInt();
            fast.vlan[0] = (short) rnd.nextInt();
            fast.l3Offset[0] = (short) rnd.nextInt();
            fast.l4Offset[0] = (short) rnd.nextInt();
            fast.ipProto[0] = (short) rnd.nextInt();
            fast.flags[0] = rnd.nextInt();
            PARSE.process(fast);
            slow.count = 1;
            slow.reset(0, 0, slowBuf, len, 0);
            DropReason r = ParseStage.parseSlowPath(slow, 0);
            if (r != DropReason.NONE) {
                slow.drop(0, r);
            }
            String what = "round " + round + " len " + len + " " + java.util.HexFormat.of().formatHex(bytes, 0, Math.min(len, 70));
            assertEquals(slow.next[0], fast.next[0], what);
            assertEquals(slow.dropReason[0], fast.dropReason[0], what);
            assertEquals(slow.etherType[0], fast.etherType[0], what);
            assertEquals(slow.vlan[0], fast.vlan[0], what);
            assertEquals(slow.l3Offset[0], fast.l3Offset[0], what);
            assertEquals(slow.l4Offset[0], fast.l4Offset[0], what);
            assertEquals(slow.ipProto[0], fast.ipProto[0], what);
            assertEquals(slow.flags[0], fast.flags[0], what);
            if (fast.next[0] == Next.CONTINUE && (fast.flags[0] & (PacketFlags.TCP | PacketFlags.UDP)) != 0
                    && fast.l3Offset[0] == 14 && (fast.flags[0] & (PacketFlags.IPV6_EXT | PacketFlags.IP_OPTIONS | PacketFlags.FRAGMENT)) == 0) {
                fastTaken++;
            }
        }
        assertTrue(fastTaken > 10_000, "the fast path's kind of packet was exercised: " + fastTaken);
    }

    @Test
    void threeVlanTagsAreTooMany() {
        Built f = frame("3tags").vlan(0x88A8, 1).vlan(0x8100, 2).vlan(0x8100, 3).ipv4(6).build();
        assertEquals(DropReason.TOO_MANY_VLAN_TAGS, outcome(parse(f.bytes(), f.bytes().length)));
    }

    @Test
    void unsupportedEtherTypesAndLengthFieldsAreDropped() {
        for (int type : new int[] {0x88CC, 0x8847, 0x0000, 0x05DC, 0x0842}) {
            Built f = frame("other").other(type).build();
            assertEquals(DropReason.UNSUPPORTED_ETHERTYPE, outcome(parse(f.bytes(), f.bytes().length)), "type " + type);
        }
        Built f = frame("vlan-other").vlan(0x8100, 5).other(0x88CC).build();
        Burst b = parse(f.bytes(), f.bytes().length);
        assertEquals(DropReason.UNSUPPORTED_ETHERTYPE, outcome(b));
        assertEquals(5, b.vlan[0]);
    }

    @Test
    void frameLongerThanOffsetsCanHoldIsDropped() {
        Built f = frame("big").ipv4(17).payload(1000).build();
        Burst b = BURST;
        b.count = 1;
        long big = frames.allocate(ParseStage.MAX_FRAME_LENGTH + 1);
        NativeFrames.write(big, f.bytes());
        b.reset(0, 0, big, ParseStage.MAX_FRAME_LENGTH + 1, 0);
        PARSE.process(b);
        assertEquals(DropReason.FRAME_TOO_LONG, outcome(b));
        b.reset(0, 0, big, ParseStage.MAX_FRAME_LENGTH, 0);
        PARSE.process(b);
        assertEquals(Next.CONTINUE, b.next[0]); // padding after the IP packet is allowed
    }

    @Test
    void arpFieldsOtherThanEthernetIpv4AreBad() {
        Built f = frame("arp").arp(1, 0x02_00_00_00_00_01L, 0x0A000001, 0, 0x0A000002).build();
        int l3 = f.l3Offset();
        int[][] corruptions = {{0, 0x0006}, {2, 0x86DD}, {4, 0x0804}, {6, 0}, {6, 3}, {6, 0xFFFF}};
        for (int[] c : corruptions) {
            byte[] bytes = f.bytes().clone();
            if (c[0] == 4) {
                bytes[l3 + 4] = 8;                       // hlen 8
            } else {
                setU16(bytes, l3 + c[0], c[1]);
            }
            assertEquals(DropReason.BAD_ARP, outcome(parse(bytes, bytes.length)), "field " + c[0]);
        }
        byte[] bytes = f.bytes().clone();
        bytes[l3 + 5] = 16;                              // plen 16
        assertEquals(DropReason.BAD_ARP, outcome(parse(bytes, bytes.length)));
    }

    @Test
    void hopByHopAfterAnotherExtensionHeaderIsBadOrder() {
        Built f = frame("hbh-late").ipv6(17).ext(60, 8).ext(0, 8).build();
        assertEquals(DropReason.BAD_IPV6_EXT_ORDER, outcome(parse(f.bytes(), f.bytes().length)));
    }

    @Test
    void extensionChainIsBounded() {
        PacketSpec ok = frame("8 ext").ipv6(6);
        PacketSpec tooLong = frame("9 ext").ipv6(6);
        for (int k = 0; k < ParseStage.MAX_IPV6_EXT_HEADERS; k++) {
            ok.ext(60, 8);
            tooLong.ext(60, 8);
        }
        tooLong.ext(43, 8);
        Built good = ok.build();
        assertMetadata(good, parse(good.bytes(), good.bytes().length), "8 ext");
        Built bad = tooLong.build();
        assertEquals(DropReason.IPV6_EXT_CHAIN_TOO_LONG, outcome(parse(bad.bytes(), bad.bytes().length)));
    }

    @Test
    void packetsAlreadyDecidedAreLeftAlone() {
        Built f = frame("x").ipv4(6).build();
        Burst b = new Burst(3);
        long addr = frames.put(f.bytes());
        b.count = 3;
        for (int i = 0; i < 3; i++) {
            b.reset(i, 0, addr, f.bytes().length, 0);
        }
        b.drop(0, DropReason.TX_FULL);
        b.tx(1, 4);
        assertEquals(1, PARSE.process(b));
        assertEquals(DropReason.TX_FULL.ordinal(), b.dropReason[0]);
        assertEquals(-1, b.l3Offset[0]);
        assertEquals(Next.TX, b.next[1]);
        assertEquals(-1, b.l3Offset[1]);
        assertEquals(f.l4Offset(), b.l4Offset[2]);
    }

    @Test
    void mixedBurstIsParsedPacketByPacket() {
        List<Built> all = PacketSpec.catalog();
        Burst b = new Burst(all.size() * 2);
        b.count = all.size() * 2;
        for (int k = 0; k < all.size(); k++) {
            byte[] bytes = all.get(k).bytes();
            long addr = frames.put(bytes);
            b.reset(2 * k, 0, addr, bytes.length, 0);
            b.reset(2 * k + 1, 0, addr, bytes.length - 1, 0);  // every frame also cut by one byte
        }
        PARSE.process(b);
        for (int k = 0; k < all.size(); k++) {
            Built f = all.get(k);
            assertEquals(Next.CONTINUE, b.next[2 * k], f.name());
            assertEquals(f.l4Offset(), b.l4Offset[2 * k], f.name());
            DropReason want = f.cutReason(f.frameCuts(), f.bytes().length - 1);
            assertEquals(want, b.next[2 * k + 1] == Next.DROP ? DropReason.of(b.dropReason[2 * k + 1]) : DropReason.NONE, f.name());
        }
    }

    @Test
    void invariantCheckerRejectsAnInconsistentPacket() {
        // the checker itself must be able to fail
        Built f = frame("x").ipv4(6).build();
        Burst b = parse(f.bytes(), f.bytes().length);
        b.l4Offset[0] = (short) (f.bytes().length + 1);
        assertTrue(ParseInvariants.check(b, 0) != null);
        b.l4Offset[0] = (short) f.l4Offset();
        b.flags[0] |= PacketFlags.UDP;
        assertTrue(ParseInvariants.check(b, 0) != null);
    }

    @Test
    void readsInPlaceWithoutTouchingTheFrame() {
        for (Built f : PacketSpec.catalog()) {
            parse(f.bytes(), f.bytes().length);
            byte[] after = NativeFrames.read(buf, f.bytes().length);
            if (!Arrays.equals(f.bytes(), after)) {
                fail(f.name() + " modified by the parser");
            }
        }
        assertEquals(0x02, Mem.u8(buf));
    }

    private static void setU16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    private static int getU16(byte[] b, int at) {
        return ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
    }
}
