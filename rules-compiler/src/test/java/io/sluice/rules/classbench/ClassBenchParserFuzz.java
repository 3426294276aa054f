package io.sluice.rules.classbench;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the ClassBench line parsers: any input either parses into valid ranges or is rejected
 * with a {@link ClassBenchFormatException}; nothing else may escape. Plain {@code mvn test}
 * replays saved inputs only; {@code JAZZER_FUZZ=1} fuzzes.
 */
class ClassBenchParserFuzz {
    @FuzzTest(maxDuration = "30s")
    void ruleAndTraceLines(byte[] data) {
        String s = new String(data, StandardCharsets.ISO_8859_1);
        int[] lo = new int[5], hi = new int[5];
        try {
            ClassBench.parseRule("fuzz", 1, s, lo, hi);
            for (int d = 0; d < 5; d++) assertTrue(Integer.compareUnsigned(lo[d], hi[d]) <= 0, "lo <= hi in dimension " + d);
            assertTrue(hi[2] <= 65535 && hi[3] <= 65535 && hi[4] <= 255, "port and protocol bounds");
        } catch (ClassBenchFormatException e) {
            assertTrue(e.getMessage().startsWith("fuzz:1: field "), e.getMessage());
        }
        int[] key = new int[5];
        try {
            ClassBench.parseTraceLine("fuzz", 1, s, key, 0);
        } catch (ClassBenchFormatException e) {
            assertTrue(e.getMessage().startsWith("fuzz:1: field "), e.getMessage());
        }
    }
}
