package io.sluice.dataplane.handoff;

import io.sluice.dataplane.packet.NativeFrames;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.stage.ParseStage;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * {@link FlowOwner} on random keys (QuickTheories, shrinking on failure): IPv4 and IPv6 addresses
 * (IPv6 often sharing the high 64 bits, so the low half decides the order), zones, 2..8 workers,
 * TCP / UDP / ICMP errors quoting the flow / later fragments:
 * <ul>
 *   <li>owner(a -&gt; b) == owner(b -&gt; a), for every packet kind;</li>
 *   <li>an ICMP error from a router r to a, quoting a -&gt; b, has the owner of a -&gt; b (not of r, a);</li>
 *   <li>a later fragment (no ports) has the owner of its flow;</li>
 *   <li>the fast version (frame in native memory, after the parser) equals {@link FlowOwnerReference}
 *       both from the key it was built with and from its own {@code ByteBuffer} reading of the frame.</li>
 * </ul>
 */
class FlowOwnerProperties {
    static final long V6_PREFIX = 0xfd00_0001_0002_0000L;

    @Test
    void ownerIsSymmetricFollowsIcmpErrorsAndFragmentsAndEqualsTheReference() {
        try (NativeFrames frames = new NativeFrames()) {
            qt().withExamples(3000).withShrinkCycles(500)
                    .forAll(longs().all(), longs().all(), integers().between(0, 5000), integers().between(0, 6 * 8 - 1))
                    .checkAssert((s, d, zone, shape) -> check(frames, s, d, zone, shape));
        }
    }

    /** shape: family = shape % 2 (0: IPv4), kind = (shape / 2) % 4, workers = 2 + shape / 8. */
    static void check(NativeFrames frames, long s, long d, int zone, int shape) {
        boolean v6 = shape % 2 == 1;
        int kind = (shape / 2) % 4;
        int workers = 2 + shape / 8;
        byte[] a = address(v6, s), b = address(v6, d), router = address(v6, s * 31 + d + 7);
        int flowOwner = FlowOwnerReference.owner(new FlowOwnerReference.Key(zone, a, b), workers);
        assertEquals(flowOwner, FlowOwnerReference.owner(new FlowOwnerReference.Key(zone, b, a), workers), "reference is symmetric");
        byte[] there = packet(v6, kind, a, b, router), back = packet(v6, kind, b, a, router);
        int fast = owner(frames, there, zone, workers);
        assertEquals(fast, owner(frames, back, zone, workers), "owner(a->b) == owner(b->a), kind " + kind);
        assertEquals(flowOwner, fast, "fast == reference of the flow's key, kind " + kind);
        if (kind != 3 || !v6) { // the reference reader knows no IPv6 extension headers
            assertEquals(fast, FlowOwnerReference.owner(FlowOwnerReference.keyOf(there, zone), workers), "fast == reference reading of the frame");
        }
        assertTrue(fast >= 0 && fast < workers);
    }

    static byte[] address(boolean v6, long x) {
        if (!v6) return ByteBuffer.allocate(4).putInt((int) (x ^ (x >>> 32))).array();
        long hi = (x & 3) != 0 ? V6_PREFIX : Long.rotateLeft(x, 23);
        return ByteBuffer.allocate(16).putLong(hi).putLong(x).array();
    }

    /** kind 0 TCP src -> dst, 1 UDP, 2 ICMP error from router to src quoting src -> dst (UDP), 3 later fragment src -> dst. */
    static byte[] packet(boolean v6, int kind, byte[] src, byte[] dst, byte[] router) {
        return switch (kind) {
            case 0 -> ip(v6, src, dst, 6, tcp(), 0);
            case 1 -> ip(v6, src, dst, 17, udp(), 0);
            case 2 -> {
                byte[] quoted = ip(v6, src, dst, 17, udp(), 0);
                byte[] inner = java.util.Arrays.copyOfRange(quoted, 14, quoted.length);
                byte[] icmp = new byte[8 + inner.length];
                icmp[0] = (byte) (v6 ? 1 : 3); // destination unreachable
                icmp[1] = 3; // port unreachable (v4) / code 3 (v6)
                System.arraycopy(inner, 0, icmp, 8, inner.length);
                yield ip(v6, router, src, v6 ? 58 : 1, icmp, 0);
            }
            default -> ip(v6, src, dst, 17, new byte[24], 185);
        };
    }

    static byte[] tcp() {
        ByteBuffer t = ByteBuffer.allocate(20).putShort((short) 40000).putShort((short) 443).putInt(1).putInt(0);
        t.put((byte) 0x50).put((byte) 0x02).putShort((short) 65535);
        return t.array();
    }

    static byte[] udp() {
        return ByteBuffer.allocate(16).putShort((short) 5353).putShort((short) 53).putShort((short) 16).array();
    }

    /** Ethernet + IPv4 (fragment offset in 8-byte units) or IPv6 (+ a fragment header when offset != 0) + l4. */
    static byte[] ip(boolean v6, byte[] src, byte[] dst, int proto, byte[] l4, int fragOffset) {
        ByteBuffer f;
        if (!v6) {
            f = ByteBuffer.allocate(14 + 20 + l4.length);
            f.put(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
            f.put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4.length)).putShort((short) 1)
                    .putShort((short) (fragOffset & 0x1FFF)).put((byte) 64).put((byte) proto).putShort((short) 0);
            f.put(src).put(dst).put(l4);
            return f.array();
        }
        int ext = fragOffset != 0 ? 8 : 0;
        f = ByteBuffer.allocate(14 + 40 + ext + l4.length);
        f.put(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}).putShort((short) 0x86DD);
        f.putInt(0x6000_0000).putShort((short) (ext + l4.length)).put((byte) (ext != 0 ? 44 : proto)).put((byte) 64);
        f.put(src).put(dst);
        if (ext != 0) f.put((byte) proto).put((byte) 0).putShort((short) (fragOffset << 3)).putInt(7);
        f.put(l4);
        return f.array();
    }

    static final ParseStage PARSE = new ParseStage();

    /** The fast owner of a frame after the parser. */
    static int owner(NativeFrames frames, byte[] frame, int zone, int workers) {
        Burst b = frames.burstOf(frame, frame.length, 0);
        PARSE.process(b);
        assertEquals(Next.CONTINUE, b.next[0], () -> "parser dropped " + DropReason.of(b.dropReason[0]));
        return FlowOwner.owner(b, 0, zone, workers);
    }
}
