package io.sluice.dataplane.stage;

import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.packet.PacketSpec;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Random;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * The parser on multi-segment frames (QuickTheories): a catalog frame, randomly mutated, is parsed
 * in one segment and cut after a random point (only the first segment readable, the memory after
 * it poisoned). When the one-segment parse accepts it and the cut is at or after the end of its
 * headers (the TCP/UDP header, the whole ICMP/ICMPv6 message, the ARP body, the IP header of a later
 * fragment), both parses agree field by field; when the cut is before that end, the chained frame is
 * dropped as {@code HEADERS_SPAN_SEGMENTS}. A frame the one-segment parse drops is dropped chained
 * too, for the same reason or because its headers span segments. A frame's length beyond the first
 * segment never lets a too-long first segment through ({@code FRAME_TOO_LONG}).
 */
class ParseMultiSegmentProperties {
    @Test
    void chainedParseEqualsOneSegmentParse() {
        List<PacketSpec.Built> cat = PacketSpec.catalog();
        ParseStage parse = new ParseStage();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(70_000, 64);
            MemorySegment chained = arena.allocate(70_000, 64);
            qt().withExamples(3000).withShrinkCycles(200)
                    .forAll(integers().between(0, cat.size() - 1), integers().between(0, 100_000), longs().all())
                    .checkAssert((k, cutSeed, seed) -> {
                        byte[] f = cat.get(k).bytes().clone();
                        Random r = new Random(seed);
                        for (int m = r.nextInt(3); m > 0; m--) f[r.nextInt(f.length)] = (byte) r.nextInt(256);
                        int len = f.length;
                        int cut = 1 + cutSeed % len;
                        MemorySegment.copy(f, 0, one, ValueLayout.JAVA_BYTE, 0, len);
                        chained.fill((byte) 0xA5);
                        MemorySegment.copy(f, 0, chained, ValueLayout.JAVA_BYTE, 0, cut);
                        Burst a = new Burst(1), b = new Burst(1);
                        a.count = b.count = 1;
                        a.reset(0, 0, one.address(), len, 0);
                        b.reset(0, 0, chained.address(), len, len - cut, (byte) 0, 0);
                        parse.process(a);
                        parse.process(b);
                        String what = cat.get(k).name() + " len " + len + " cut " + cut;
                        if (a.next[0] == Next.DROP) {
                            if (b.next[0] != Next.DROP || (b.dropReason[0] != a.dropReason[0]
                                    && b.dropReason[0] != DropReason.HEADERS_SPAN_SEGMENTS.ordinal())) {
                                throw new AssertionError(what + ": one segment " + DropReason.of(a.dropReason[0])
                                        + ", chained " + (b.next[0] == Next.DROP ? DropReason.of(b.dropReason[0]) : "accepted"));
                            }
                            return;
                        }
                        int end = headerEnd(a, f);
                        if (cut < end) {
                            if (b.next[0] != Next.DROP || b.dropReason[0] != DropReason.HEADERS_SPAN_SEGMENTS.ordinal()) {
                                throw new AssertionError(what + " (headers end at " + end + "): expected HEADERS_SPAN_SEGMENTS, got "
                                        + (b.next[0] == Next.DROP ? DropReason.of(b.dropReason[0]) : "accepted"));
                            }
                            return;
                        }
                        if (b.next[0] != a.next[0] || b.l3Offset[0] != a.l3Offset[0] || b.l4Offset[0] != a.l4Offset[0]
                                || b.etherType[0] != a.etherType[0] || b.vlan[0] != a.vlan[0] || b.ipProto[0] != a.ipProto[0]
                                || b.flags[0] != a.flags[0]) {
                            throw new AssertionError(what + ": parse results differ (chained " + b.next[0] + " "
                                    + DropReason.of(b.dropReason[0]) + ")");
                        }
                    });
        }
    }

    /** End of what the parser needs in the first segment, from the one-segment result (an independent statement of the rule). */
    static int headerEnd(Burst a, byte[] f) {
        int fl = a.flags[0];
        int l3 = a.l3Offset[0];
        int l4 = a.l4Offset[0];
        if ((fl & PacketFlags.ARP) != 0) return l3 + 28;
        if ((fl & PacketFlags.ICMP) != 0) return l3 + u16(f, l3 + 2);
        if ((fl & PacketFlags.ICMPV6) != 0) return l3 + 40 + u16(f, l3 + 4);
        if ((fl & PacketFlags.TCP) != 0) return l4 + ((f[l4 + 12] & 0xF0) >>> 2);
        if ((fl & PacketFlags.UDP) != 0) return l4 + 8;
        if (l4 >= 0) return l4;
        if ((fl & PacketFlags.IPV4) != 0) return l3 + ((f[l3] & 0x0F) << 2);
        // IPv6 later fragment / no next header: every extension header walked
        int nh = f[l3 + 6] & 0xFF;
        int p = l3 + 40;
        while (nh == 0 || nh == 43 || nh == 60 || nh == 51 || nh == 44) {
            int next = f[p] & 0xFF;
            if (nh == 44) return p + 8;
            p += nh == 51 ? ((f[p + 1] & 0xFF) + 2) * 4 : ((f[p + 1] & 0xFF) + 1) * 8;
            nh = next;
        }
        return p;
    }

    static int u16(byte[] f, int at) { return ((f[at] & 0xFF) << 8) | (f[at + 1] & 0xFF); }

    @Test
    void aLongChainWithAShortFirstSegmentParsesAndALongFirstSegmentDoesNot() {
        byte[] f = PacketSpec.catalog().stream().filter(x -> (x.flags() & PacketFlags.TCP) != 0 && x.l3Offset() == 14 && x.etherType() == 0x0800).findFirst().orElseThrow().bytes();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(40_000, 64);
            MemorySegment.copy(f, 0, s, ValueLayout.JAVA_BYTE, 0, f.length);
            // a 64 KB frame (IPv4 total length 65535) whose first segment has the headers: accepted
            Mem.put16(s.address() + 16, 65535);
            Burst b = new Burst(1);
            b.count = 1;
            b.reset(0, 0, s.address(), 14 + 65535, 14 + 65535 - f.length, (byte) 0, 0);
            new ParseStage().process(b);
            if (b.next[0] != Next.CONTINUE) throw new AssertionError("64 KB chain: " + DropReason.of(b.dropReason[0]));
            // a first segment longer than 32767: FRAME_TOO_LONG, as for one segment
            b.reset(0, 0, s.address(), 14 + 65535, 14 + 65535 - 33_000, (byte) 0, 0);
            new ParseStage().process(b);
            if (b.next[0] != Next.DROP || b.dropReason[0] != DropReason.FRAME_TOO_LONG.ordinal()) {
                throw new AssertionError("33000-byte first segment: " + b.next[0] + " " + DropReason.of(b.dropReason[0]));
            }
        }
    }
}
