package io.sluice.dataplane.debug;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.dataplane.packet.Mem;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Fuzzes the match expression of {@code ./sluice trace/capture --match} through the path the admin
 * server takes: {@link Match#parse} on the text, then {@link Match#matches} on a frame in native
 * memory. Invariants: parse either returns or throws {@link Match.MatchException} (nothing else);
 * matches never throws and reads nothing beyond the frame — the same frame followed by 0x00 bytes
 * and by 0xFF bytes gives the same answer. Under plain {@code mvn test} it replays saved inputs;
 * fuzz with {@code JAZZER_FUZZ=1 mvn -pl dataplane test -Dtest=MatchFuzz}.
 */
class MatchFuzz {
    private static final int MAX = 1600;
    private static final Arena ARENA = Arena.ofShared();
    private static final MemorySegment ZEROS = ARENA.allocate(MAX + 64, 64);
    private static final MemorySegment ONES = ARENA.allocate(MAX + 64, 64);

    @FuzzTest(maxDuration = "20s")
    void fuzzMatch(FuzzedDataProvider in) {
        String expr = in.consumeString(80);
        byte[] frame = in.consumeRemainingAsBytes();
        int len = Math.min(frame.length, MAX);
        Match m;
        try {
            m = Match.parse(expr);
        } catch (Match.MatchException e) {
            if (e.getMessage() == null || !e.getMessage().startsWith("match expression: ")) throw new IllegalStateException(e);
            return;
        }
        ZEROS.fill((byte) 0);
        ONES.fill((byte) -1);
        MemorySegment.copy(frame, 0, ZEROS, ValueLayout.JAVA_BYTE, 0, len);
        MemorySegment.copy(frame, 0, ONES, ValueLayout.JAVA_BYTE, 0, len);
        boolean a = m.matches(ZEROS.address(), len);
        boolean b = m.matches(ONES.address(), len);
        if (a != b) throw new IllegalStateException("'" + expr + "' read beyond the " + len + "-byte frame");
        if (Mem.ALL == null) throw new IllegalStateException();
    }
}
