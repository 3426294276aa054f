package io.sluice.dataplane.offload;

import io.sluice.dataplane.ffi.Mbuf;
import io.sluice.dataplane.nat.NatRewrite;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.PacketFlags;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static io.sluice.dataplane.offload.OffloadFrames.*;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * Software offload over mbuf chains (fake mbufs in native memory, cut at random points, the first
 * segment's buffer poisoned after its data), against the byte-array reference in {@link OffloadFrames}
 * (QuickTheories, shrinking on failure):
 * <ul>
 *   <li>the ones'-complement sum over any byte range of a chain equals the sum over the same bytes in one piece;</li>
 *   <li>completing a partial checksum (the field holds the pseudo-header sum) gives the checksum a full
 *       recomputation gives, for TCP and UDP over IPv4 and IPv6, inside VXLAN or not, and changes no other byte;</li>
 *   <li>a NAT rewrite (address and port) of a packet with a partial checksum, then completion, gives the
 *       full recomputation over the rewritten packet (the partial field moves with the pseudo-header only).</li>
 * </ul>
 */
class SoftOffloadProperties {

    @Test
    void chainSumEqualsTheSumOfTheBytesInOnePiece() {
        qt().withExamples(400).withShrinkCycles(100)
                .forAll(integers().between(1, 5000), longs().all())
                .checkAssert((len, seed) -> {
                    Random r = new Random(seed);
                    byte[] f = new byte[len];
                    r.nextBytes(f);
                    try (Chains c = new Chains()) {
                        long m = c.chain(f, cuts(r, len, 1), r.nextInt(0, 3) * 64);
                        for (int k = 0; k < 8; k++) {
                            int from = r.nextInt(0, len);
                            int to = r.nextInt(from, len + 1);
                            int got = SoftOffload.sumChain(m, Mbuf.data(m), Mbuf.dataLen(m), from, to);
                            int want = sum(f, from, to - from, 0);
                            if (got != want) {
                                throw new AssertionError("len " + len + " [" + from + "," + to + "): chain " + got + " vs " + want);
                            }
                        }
                    }
                });
    }

    @Test
    void completingAPartialChecksumEqualsAFullRecomputation() {
        SoftOffload soft = new SoftOffload();
        try {
            qt().withExamples(500).withShrinkCycles(100)
                    .forAll(integers().between(0, 7), integers().between(0, 4000), longs().all())
                    .checkAssert((shape, payload, seed) -> {
                        Random r = new Random(seed);
                        Frame fr = build(r, (shape & 1) != 0, (shape & 2) != 0, (shape & 4) != 0, payload);
                        byte[] f = fr.bytes();
                        Layout at = fr.at();
                        int want = u16(f, at.csumOff());
                        put16(f, at.csumOff(), partial(f, at));
                        try (Chains c = new Chains()) {
                            long m = c.chain(f, cuts(r, f.length, at.headerEnd()), 128);
                            long d = Mbuf.data(m);
                            int head = Mbuf.dataLen(m);
                            if (!soft.locate(d, head, f.length, at.vxlan() ? PacketFlags.VXLAN_ENCAP : 0)) {
                                throw new AssertionError("not located: " + at);
                            }
                            if (soft.l4Off != at.l4Off() || soft.ipEnd != at.ipEnd()) throw new AssertionError("located " + soft.l4Off + " for " + at);
                            soft.completeChecksum(m, d, head);
                            byte[] out = bytes(m);
                            put16(f, at.csumOff(), want);
                            if (!Arrays.equals(f, out)) {
                                throw new AssertionError(at + ": checksum " + Integer.toHexString(u16(out, at.csumOff()))
                                        + ", full recomputation " + Integer.toHexString(want));
                            }
                        }
                    });
        } finally {
            soft.close();
        }
    }

    @Test
    void natRewriteOfAPartialChecksumThenCompletionEqualsAFullRecomputation() {
        SoftOffload soft = new SoftOffload();
        try {
            qt().withExamples(400).withShrinkCycles(100)
                    .forAll(integers().between(0, 3), integers().between(0, 3000), longs().all())
                    .checkAssert((shape, payload, seed) -> {
                        Random r = new Random(seed);
                        boolean tcp = (shape & 1) != 0, src = (shape & 2) != 0;
                        Frame fr = build(r, false, tcp, false, payload);
                        byte[] f = fr.bytes();
                        Layout at = fr.at();
                        int addr = r.nextInt();
                        int port = r.nextBoolean() ? r.nextInt(0, 65536) : -1;
                        // the reference: the rewritten bytes, every checksum from scratch
                        byte[] want = f.clone();
                        put32(want, at.ipOff() + (src ? 12 : 16), addr);
                        if (port >= 0) put16(want, at.l4Off() + (src ? 0 : 2), port);
                        put16(want, at.ipOff() + 10, 0);
                        put16(want, at.ipOff() + 10, ~sum(want, at.ipOff(), 20, 0) & 0xFFFF);
                        put16(want, at.csumOff(), fullChecksum(want, at));
                        // the data plane: partial field, NAT rewrite in the first segment, completion at the egress
                        put16(f, at.csumOff(), partial(f, at));
                        try (Chains c = new Chains()) {
                            long m = c.chain(f, cuts(r, f.length, at.headerEnd()), 128);
                            long d = Mbuf.data(m);
                            NatRewrite.rewrite(d + at.ipOff(), d + at.l4Off(), at.proto(), src, addr, port, true);
                            if (!soft.locate(d, Mbuf.dataLen(m), f.length, 0)) throw new AssertionError("not located");
                            soft.completeChecksum(m, d, Mbuf.dataLen(m));
                            byte[] out = bytes(m);
                            if (!Arrays.equals(want, out)) {
                                throw new AssertionError("after NAT: checksum " + Integer.toHexString(u16(out, at.csumOff()))
                                        + ", full recomputation " + Integer.toHexString(u16(want, at.csumOff()))
                                        + "; ip checksum " + Integer.toHexString(u16(out, at.ipOff() + 10))
                                        + " vs " + Integer.toHexString(u16(want, at.ipOff() + 10)));
                            }
                        }
                    });
        } finally {
            soft.close();
        }
    }
}
