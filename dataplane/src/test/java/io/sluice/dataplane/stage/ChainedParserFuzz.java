package io.sluice.dataplane.stage;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.dataplane.packet.NativeFrames;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Coverage-guided fuzzing of the parser's multi-segment path (Jazzer). Input: bytes 0-1 the cut
 * (where the first segment ends, modulo the frame length, 0 = the whole frame), the rest the frame.
 * The frame is parsed whole (one segment) and as a chain (only the bytes before the cut readable,
 * the memory after them poisoned). Invariants: nothing throws; the chained result satisfies
 * {@link ParseInvariants}; it is the one-segment result field by field, or a drop as
 * {@code HEADERS_SPAN_SEGMENTS}, or (when the one-segment parse drops) a drop for the same reason.
 *
 * <p>Plain {@code mvn test} replays the saved inputs in
 * {@code src/test/resources/io/sluice/dataplane/stage/ChainedParserFuzzInputs/parse/}.
 */
class ChainedParserFuzz {
    private static final int MAX = 16 * 1024;
    private static final long ONE = Arena.global().allocate(MAX, 64).address();
    private static final MemorySegment CHAIN = Arena.global().allocate(MAX, 64);
    private static final ParseStage PARSE = new ParseStage();
    private static final Burst A = new Burst(1), B = new Burst(1);

    @FuzzTest(maxDuration = "20s")
    void parse(byte[] input) {
        if (input.length < 3) {
            return;
        }
        int len = Math.min(input.length - 2, MAX);
        int cut = ((input[0] & 0xFF) << 8 | (input[1] & 0xFF)) % len;
        if (cut == 0) cut = len;
        byte[] frame = new byte[len];
        System.arraycopy(input, 2, frame, 0, len);
        NativeFrames.write(ONE, frame);
        CHAIN.fill((byte) 0xA5);
        MemorySegment.copy(frame, 0, CHAIN, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, cut);
        A.count = B.count = 1;
        A.reset(0, 0, ONE, len, 0);
        B.reset(0, 0, CHAIN.address(), len, len - cut, (byte) 0, 0);
        PARSE.process(A);
        PARSE.process(B);
        String broken = ParseInvariants.check(B, 0);
        if (broken != null) {
            throw new AssertionError("chained (cut " + cut + "): " + broken);
        }
        boolean spans = B.next[0] == Next.DROP && B.dropReason[0] == DropReason.HEADERS_SPAN_SEGMENTS.ordinal();
        if (spans) {
            return;
        }
        if (A.next[0] == Next.DROP) {
            if (B.next[0] != Next.DROP || B.dropReason[0] != A.dropReason[0]) {
                throw new AssertionError("one segment " + DropReason.of(A.dropReason[0]) + ", chained (cut " + cut + ") "
                        + (B.next[0] == Next.DROP ? DropReason.of(B.dropReason[0]) : "accepted"));
            }
            return;
        }
        if (B.next[0] != A.next[0] || B.l3Offset[0] != A.l3Offset[0] || B.l4Offset[0] != A.l4Offset[0]
                || B.etherType[0] != A.etherType[0] || B.vlan[0] != A.vlan[0] || B.ipProto[0] != A.ipProto[0]
                || B.flags[0] != A.flags[0]) {
            throw new AssertionError("chained (cut " + cut + ") parse differs from one segment: "
                    + (B.next[0] == Next.DROP ? DropReason.of(B.dropReason[0]) : "fields"));
        }
    }
}
