package io.sluice.rules.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The classify command: output format, first-match indexes, exit codes and error messages. */
class RulesCliTest {
    private static final String RULES = """
            @10.0.0.0/8\t0.0.0.0/0\t0 : 65535\t80 : 80\t0x06/0xFF\t0x0000/0x0000\t
            @10.1.0.0/16\t0.0.0.0/0\t0 : 65535\t0 : 65535\t0x00/0x00\t0x0000/0x0000\t
            @0.0.0.0/0\t192.168.0.1/32\t0 : 65535\t0 : 65535\t0x11/0xFF\t0x0000/0x0000\t
            """;

    private record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int code = RulesCli.run(args, new PrintStream(out), new PrintStream(err));
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void printsFirstMatchPerHeader(@TempDir Path tmp) throws Exception {
        Path rules = Files.writeString(tmp.resolve("rules"), RULES);
        // 10.1.2.3 -> x:80 tcp matches rule 0 and 1; 10.1.2.3 udp -> rule 1; 11.0.0.1 -> 192.168.0.1 udp -> 2; tcp -> none
        Path trace = Files.writeString(tmp.resolve("trace"), """
                167838211\t1\t5\t80\t6\t0\t0
                167838211\t1\t5\t80\t17\t0\t0
                184549377\t3232235521\t1\t2\t17\t0\t0
                184549377\t3232235521\t1\t2\t6\t0\t0
                """);
        Run r = run("classify", "--rules", rules.toString(), "--trace", trace.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("0\n1\n2\n-1\n", r.out());
        assertTrue(r.err().contains("build_ms=") && r.err().contains("memory_bytes="), r.err());
    }

    @Test
    void badLineExitsTwoNamingFileLineAndField(@TempDir Path tmp) throws Exception {
        Path rules = Files.writeString(tmp.resolve("rules"), RULES + "@1.2.3.4/32\t1.2.3.4/32\t0 : 1\t5 : 1\t0x06/0xFF\t0x0000/0x0000\t\n");
        Path trace = Files.writeString(tmp.resolve("trace"), "1\t2\t3\t4\t6\t0\t0\n");
        Run r = run("classify", "--rules", rules.toString(), "--trace", trace.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(rules + ":4: field dport: reversed range 5 : 1"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void badArgumentsExitTwo(@TempDir Path tmp) {
        assertEquals(2, run().code());
        assertEquals(2, run("classify", "--rules", "x").code());
        assertEquals(2, run("classify", "--bogus", "x").code());
        Run r = run("classify", "--rules", tmp.resolve("missing").toString(), "--trace", "t");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("missing: no such file"), r.err());
    }
}
