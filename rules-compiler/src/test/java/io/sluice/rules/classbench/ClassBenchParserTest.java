package io.sluice.rules.classbench;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Parsing of ClassBench rules and traces, including the errors. */
class ClassBenchParserTest {
    @Test
    void parsesTheReadmeExample() throws Exception {
        int[] lo = new int[5], hi = new int[5];
        ClassBench.parseRule("f", 1, "@237.73.3.4/32\t67.236.63.210/32\t0 : 65535\t1711 : 1711\t0x06/0xFF\t0x0000/0x0200\t", lo, hi);
        assertArrayEquals(new int[] {0xED490304, 0x43EC3FD2, 0, 1711, 6}, lo);
        assertArrayEquals(new int[] {0xED490304, 0x43EC3FD2, 65535, 1711, 6}, hi);
    }

    @Test
    void prefixesMaskHostBitsAndAnyProtocolIsFullRange() throws Exception {
        int[] lo = new int[5], hi = new int[5];
        ClassBench.parseRule("f", 1, "@10.1.2.3/8\t0.0.0.0/0\t1 : 2\t3 : 4\t0x00/0x00\t0x0000/0x0000\t", lo, hi);
        assertEquals(0x0A000000, lo[0]);
        assertEquals(0x0AFFFFFF, hi[0]);
        assertEquals(0, lo[1]);
        assertEquals(-1, hi[1]);
        assertEquals(0, lo[4]);
        assertEquals(255, hi[4]);
    }

    @Test
    void errorsNameFileLineAndField() {
        int[] lo = new int[5], hi = new int[5];
        var e = assertThrows(ClassBenchFormatException.class,
                () -> ClassBench.parseRule("rules.txt", 7, "@1.2.3.4/32\t1.2.3.4/33\t0 : 1\t0 : 1\t0x06/0xFF\t", lo, hi));
        assertEquals("rules.txt:7: field dst: 33 exceeds 32", e.getMessage());
        e = assertThrows(ClassBenchFormatException.class,
                () -> ClassBench.parseRule("r", 2, "@1.2.3.4/32\t1.2.3.4/32\t9 : 1\t0 : 1\t0x06/0xFF\t", lo, hi));
        assertEquals("sport", e.field());
        e = assertThrows(ClassBenchFormatException.class,
                () -> ClassBench.parseRule("r", 2, "@1.2.3.4/32\t1.2.3.4/32\t0 : 1\t0 : 70000\t0x06/0xFF\t", lo, hi));
        assertEquals("dport", e.field());
        e = assertThrows(ClassBenchFormatException.class,
                () -> ClassBench.parseRule("r", 2, "@1.2.3.4/32\t1.2.3.4/32\t0 : 1\t0 : 1\t0x06/0x0F\t", lo, hi));
        assertEquals("proto", e.field());
        e = assertThrows(ClassBenchFormatException.class,
                () -> ClassBench.parseRule("r", 2, "1.2.3.4/32\t1.2.3.4/32\t0 : 1\t0 : 1\t0x06/0xFF\t", lo, hi));
        assertEquals("src", e.field());
        e = assertThrows(ClassBenchFormatException.class, () -> ClassBench.parseTraceLine("t", 3, "1 2 3 4 256 0 0", new int[5], 0));
        assertEquals("t:3: field proto: 256 exceeds 255", e.getMessage());
    }

    @Test
    void readRulesReportsTheLineNumber(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("r");
        Files.writeString(f, "@1.2.3.4/32\t1.2.3.4/32\t0 : 1\t0 : 1\t0x06/0xFF\t0x0000/0x0000\t\n@1.2.3/32\t1.2.3.4/32\t0 : 1\t0 : 1\t0x06/0xFF\t\n");
        var e = assertThrows(ClassBenchFormatException.class, () -> ClassBench.readRules(f));
        assertEquals(2, e.line());
        assertEquals("src", e.field());
    }
}
