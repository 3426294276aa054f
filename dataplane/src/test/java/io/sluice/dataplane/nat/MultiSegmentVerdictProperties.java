package io.sluice.dataplane.nat;

import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.stage.ParseStage;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static io.sluice.dataplane.nat.NatHarness.*;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * Multi-segment frames get the same parse result and the same verdicts as the same bytes in one
 * segment, through every overlay stage with security groups, conntrack and NAT ({@link NatHarness}:
 * parse, anti-spoof, route, firewall + conntrack, NAT, out). Two hosts see the same random packet
 * sequences (TCP both ways through the floating IP and SNAT with payloads up to 3000 bytes, UDP,
 * ICMP echo, refused ports, a private VM): host A each frame in one piece, host B the same bytes cut
 * after a random point — only the first segment at the frame address, the buffer poisoned (0xA5)
 * after it, so a stage that read past the first segment would see different bytes. Each packet:
 * same fate, same out port, same first-segment bytes after the stages (MAC, addresses, ports,
 * checksums rewritten), and by then the same conntrack/NAT state (the next packets' verdicts agree).
 * A cut before the end of the headers (or inside an ICMP message) is instead dropped by B as
 * {@code HEADERS_SPAN_SEGMENTS} (and A does not see that packet). QuickTheories, shrinking the sequence.
 */
class MultiSegmentVerdictProperties {
    static final int MAX = 4096 - 256;

    @Test
    void chainedFramesGetTheSameVerdictsAsOneSegment() {
        qt().withExamples(40).withShrinkCycles(20)
                .forAll(lists().of(longs().all()).ofSizeBetween(1, 40))
                .checkAssert(ops -> {
                    try (NatHarness a = new NatHarness(64, 4); NatHarness b = new NatHarness(64, 4)) {
                        for (NatHarness h : new NatHarness[] {a, b}) {
                            long d = h.frame(0);
                            h.run(EXT, arp(d, EXT_MAC, GW_MAC, 2, GW_MAC, GW, EXT_MAC, SNAT));
                        }
                        List<String> done = new ArrayList<>();
                        for (long op : ops) step(a, b, new Random(op), done);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
        // the sequences reached every kind of outcome, chained for real
        if (sentChained == 0 || droppedChained == 0 || spanning == 0 || natted == 0) {
            throw new AssertionError("coverage: sent chained " + sentChained + ", dropped chained " + droppedChained
                    + ", spanning " + spanning + ", translated " + natted);
        }
    }

    static int sentChained, droppedChained, spanning, natted;

    /** Ports seen by the SNAT'd connections so far (the replies go to them). */
    static void step(NatHarness a, NatHarness b, Random r, List<String> done) {
        long d = a.frame(0);
        int kind = r.nextInt(0, 8);
        int payload = r.nextInt(0, 6) == 0 ? 0 : r.nextInt(0, 3000);
        int flags = new int[] {0x02, 0x12, 0x10, 0x18, 0x11, 0x04}[r.nextInt(0, 6)];
        int seq = r.nextInt(0, 4) == 0 ? r.nextInt() : 1000 + r.nextInt(0, 50_000);
        int port, len;
        switch (kind) {
            case 0 -> { port = WEB; len = tcp(d, ROUTER, WEB_MAC, WEB_IP, SERVER, 40000 + r.nextInt(0, 3), 80, flags, seq, 5000, payload); }
            case 1 -> { port = EXT; len = tcp(d, EXT_MAC, GW_MAC, SERVER, FIP, 80, 40000 + r.nextInt(0, 3), flags, 5000 + r.nextInt(0, 50_000), seq, payload); }
            case 2 -> { port = EXT; len = tcp(d, EXT_MAC, GW_MAC, SERVER2, FIP, 50000, r.nextBoolean() ? 22 : 25, flags, seq, 0, payload); }
            case 3 -> { port = JOB; len = tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 41000 + r.nextInt(0, 2), 443, flags, seq, 7000, payload); }
            case 4 -> { port = EXT; len = tcp(d, EXT_MAC, GW_MAC, SERVER, SNAT, 443, SnatPorts.PORT_MIN + r.nextInt(0, 2), flags, 7000 + r.nextInt(0, 50_000), seq, payload); }
            case 5 -> { port = JOB; len = udp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 5353, 53, Math.min(payload, 1400), r.nextBoolean()); }
            case 6 -> { port = WEB; len = echo(d, ROUTER, WEB_MAC, WEB_IP, SERVER, 8, 77, r.nextInt(0, 100)); }
            default -> { port = VAULT; len = tcp(d, ROUTER, VAULT_MAC, VAULT_IP, SERVER, 42000, 80, 0x02, seq, 0, payload); }
        }
        byte[] frame = NatHarnessBytes.read(d, len);
        int headerEnd = headerEnd(frame);
        int cut = r.nextInt(0, 3) == 0 ? len : r.nextInt(Math.max(1, Math.min(len, headerEnd - 20)), len + 1);
        String what = "kind " + kind + " len " + len + " cut " + cut + " headers " + headerEnd;
        done.add(what);
        // host B: the first segment only, poisoned after it
        long bd = b.frame(0);
        MemorySegment.copy(frame, 0, Mem.ALL, ValueLayout.JAVA_BYTE, bd, cut);
        MemorySegment.ofAddress(bd + cut).reinterpret(MAX - cut).fill((byte) 0xA5);
        int rb = b.run(port, len, len - cut);
        if (cut < headerEnd) {
            if (rb != DropReason.HEADERS_SPAN_SEGMENTS.ordinal()) {
                throw new AssertionError(done + ": headers cut, expected HEADERS_SPAN_SEGMENTS, got " + reason(rb));
            }
            spanning++;
            return;
        }
        int ra = a.run(port, len);
        if (ra != rb) throw new AssertionError(done + ": one segment " + reason(ra) + ", chained " + reason(rb));
        if (cut < len) {
            if (ra < 0) sentChained++;
            else droppedChained++;
            if (ra < 0 && (port == EXT || a.b.outPort[0] == EXT)) natted++;
        }
        if (ra < 0) {
            if (a.b.outPort[0] != b.b.outPort[0]) throw new AssertionError(done + ": out ports differ");
            long ad = a.b.data[0];
            int moved = (int) (ad - a.frame(0));
            if (moved != (int) (b.b.data[0] - b.frame(0)) || a.b.length[0] != b.b.length[0]) {
                throw new AssertionError(done + ": frames moved differently");
            }
            int head = b.b.headLen(0);
            byte[] outA = NatHarnessBytes.read(ad, head);
            byte[] outB = NatHarnessBytes.read(b.b.data[0], head);
            if (!Arrays.equals(outA, outB)) throw new AssertionError(done + ": first-segment bytes differ after the stages");
        }
    }

    /** End of what must be in the first segment: the TCP/UDP header, the whole ICMP message. */
    static int headerEnd(byte[] f) {
        try (io.sluice.dataplane.packet.NativeFrames nf = new io.sluice.dataplane.packet.NativeFrames()) {
            Burst b = nf.burstOf(f, f.length, 0);
            new ParseStage().process(b);
            if (b.next[0] != Next.CONTINUE) return 14;
            int l3 = b.l3Offset[0];
            int l4 = b.l4Offset[0];
            int fl = b.flags[0];
            if ((fl & PacketFlags.ICMP) != 0) return l3 + NatHarnessBytes.u16(f, l3 + 2);
            if ((fl & PacketFlags.TCP) != 0) return l4 + ((f[l4 + 12] & 0xF0) >>> 2);
            if ((fl & PacketFlags.UDP) != 0) return l4 + 8;
            return l4 >= 0 ? l4 : l3 + 20;
        }
    }
}

/** Reads frame bytes (test helper). */
final class NatHarnessBytes {
    static byte[] read(long addr, int n) {
        byte[] out = new byte[n];
        MemorySegment.copy(Mem.ALL, ValueLayout.JAVA_BYTE, addr, out, 0, n);
        return out;
    }

    static int u16(byte[] f, int at) { return ((f[at] & 0xFF) << 8) | (f[at + 1] & 0xFF); }

    private NatHarnessBytes() {}
}
