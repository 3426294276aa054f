package io.sluice.rules.classbench;

import io.sluice.rules.compile.FlatRules;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reader for ClassBench filter files and header traces (format: shared/classbench/README.txt).
 *
 * <p>A rule line {@code @src/len dst/len slo : shi dlo : dhi proto/mask flags/mask} becomes an
 * IPv4 5-tuple rule (dimensions src, dst, sport, dport, proto; priority = line order; id = 0-based
 * line index). Address bits beyond the prefix are ignored, as rte_acl does. The TCP-flags column
 * is checked for syntax and otherwise ignored. A trace line becomes a 5-int key; its flags and
 * rule-id columns are ignored.
 */
public final class ClassBench {
    private ClassBench() {}

    /** Reads a rule file. */
    public static FlatRules readRules(Path file) throws IOException, ClassBenchFormatException {
        String name = file.toString();
        FlatRules.Builder b = FlatRules.builder(FlatRules.v4Dims(), FlatRules.v4PartitionDims());
        int[] lo = new int[5], hi = new int[5];
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            String s;
            int line = 0;
            while ((s = in.readLine()) != null) {
                line++;
                if (s.isBlank()) continue;
                parseRule(name, line, s, lo, hi);
                b.add(lo, hi, FlatRules.ALLOW, b.size());
            }
        }
        return b.build();
    }

    /**
     * Parses one rule line into {@code lo}/{@code hi} (5 entries each).
     *
     * @throws ClassBenchFormatException naming the field and the reason
     */
    public static void parseRule(String file, int line, String s, int[] lo, int[] hi) throws ClassBenchFormatException {
        if (!s.startsWith("@")) throw new ClassBenchFormatException(file, line, "src", "rule must start with '@'");
        String[] f = s.substring(1).trim().split("\t");
        if (f.length < 5) throw new ClassBenchFormatException(file, line, "line", "expected at least 5 tab-separated fields, got " + f.length);
        if (f.length > 6) throw new ClassBenchFormatException(file, line, "line", "expected at most 6 tab-separated fields, got " + f.length);
        prefix(file, line, "src", f[0].trim(), lo, hi, 0);
        prefix(file, line, "dst", f[1].trim(), lo, hi, 1);
        range(file, line, "sport", f[2].trim(), lo, hi, 2);
        range(file, line, "dport", f[3].trim(), lo, hi, 3);
        String[] pm = f[4].trim().split("/", -1);
        if (pm.length != 2) throw new ClassBenchFormatException(file, line, "proto", "expected value/mask, got '" + f[4].trim() + "'");
        int proto = hex(file, line, "proto", pm[0], 0xFF);
        int mask = hex(file, line, "proto", pm[1], 0xFF);
        if (mask == 0xFF) { lo[4] = proto; hi[4] = proto; }
        else if (mask == 0) { lo[4] = 0; hi[4] = 0xFF; }
        else throw new ClassBenchFormatException(file, line, "proto", "mask must be 0x00 or 0xFF, got " + pm[1]);
        if (f.length == 6) {
            String[] fm = f[5].trim().split("/", -1);
            if (fm.length != 2) throw new ClassBenchFormatException(file, line, "flags", "expected value/mask, got '" + f[5].trim() + "'");
            hex(file, line, "flags", fm[0], 0xFFFF);
            hex(file, line, "flags", fm[1], 0xFFFF);
        }
    }

    private static void prefix(String file, int line, String field, String s, int[] lo, int[] hi, int d) throws ClassBenchFormatException {
        int slash = s.indexOf('/');
        if (slash < 0) throw new ClassBenchFormatException(file, line, field, "expected a.b.c.d/len, got '" + s + "'");
        int addr = dottedQuad(file, line, field, s.substring(0, slash));
        int len = decimal(file, line, field, s.substring(slash + 1), 32);
        int mask = len == 0 ? 0 : -1 << (32 - len);
        lo[d] = addr & mask;
        hi[d] = (addr & mask) | ~mask;
    }

    /** Parses a dotted quad into an int. */
    static int dottedQuad(String file, int line, String field, String s) throws ClassBenchFormatException {
        String[] o = s.split("\\.", -1);
        if (o.length != 4) throw new ClassBenchFormatException(file, line, field, "expected 4 dotted octets, got '" + s + "'");
        int v = 0;
        for (String x : o) v = (v << 8) | decimal(file, line, field, x, 255);
        return v;
    }

    private static void range(String file, int line, String field, String s, int[] lo, int[] hi, int d) throws ClassBenchFormatException {
        int colon = s.indexOf(':');
        if (colon < 0) throw new ClassBenchFormatException(file, line, field, "expected 'lo : hi', got '" + s + "'");
        int l = decimal(file, line, field, s.substring(0, colon).trim(), 65535);
        int h = decimal(file, line, field, s.substring(colon + 1).trim(), 65535);
        if (l > h) throw new ClassBenchFormatException(file, line, field, "reversed range " + l + " : " + h);
        lo[d] = l;
        hi[d] = h;
    }

    private static int decimal(String file, int line, String field, String s, long max) throws ClassBenchFormatException {
        if (s.isEmpty() || s.length() > 10) throw new ClassBenchFormatException(file, line, field, "bad number '" + s + "'");
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') throw new ClassBenchFormatException(file, line, field, "bad number '" + s + "'");
            v = v * 10 + (c - '0');
        }
        if (v > max) throw new ClassBenchFormatException(file, line, field, s + " exceeds " + max);
        return (int) v;
    }

    private static int hex(String file, int line, String field, String s, int max) throws ClassBenchFormatException {
        String t = s.trim();
        if (!(t.startsWith("0x") || t.startsWith("0X")) || t.length() < 3 || t.length() > 10) {
            throw new ClassBenchFormatException(file, line, field, "bad hex number '" + s + "'");
        }
        long v = 0;
        for (int i = 2; i < t.length(); i++) {
            int dgt = Character.digit(t.charAt(i), 16);
            if (dgt < 0) throw new ClassBenchFormatException(file, line, field, "bad hex number '" + s + "'");
            v = v * 16 + dgt;
        }
        if (v > max) throw new ClassBenchFormatException(file, line, field, s + " exceeds " + Integer.toHexString(max));
        return (int) v;
    }

    /** Reads a trace into a flat array of 5-int keys (src, dst, sport, dport, proto). */
    public static int[] readTrace(Path file) throws IOException, ClassBenchFormatException {
        String name = file.toString();
        int[] keys = new int[5 * 1024];
        int n = 0;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.ISO_8859_1)) {
            String s;
            int line = 0;
            while ((s = in.readLine()) != null) {
                line++;
                if (s.isBlank()) continue;
                if (n + 5 > keys.length) keys = Arrays.copyOf(keys, keys.length * 2);
                parseTraceLine(name, line, s, keys, n);
                n += 5;
            }
        }
        return Arrays.copyOf(keys, n);
    }

    private static final String[] TRACE_FIELDS = {"src", "dst", "sport", "dport", "proto", "flags", "rule_id"};
    private static final long[] TRACE_MAX = {0xFFFFFFFFL, 0xFFFFFFFFL, 65535, 65535, 255, 0xFFFFFFFFL, 0xFFFFFFFFL};

    /** Parses one trace line into {@code out[off..off+5)}. */
    public static void parseTraceLine(String file, int line, String s, int[] out, int off) throws ClassBenchFormatException {
        String[] f = s.trim().split("\\s+");
        if (f.length < 5 || f.length > 7) throw new ClassBenchFormatException(file, line, "line", "expected 5 to 7 fields, got " + f.length);
        for (int i = 0; i < f.length; i++) {
            int v = decimal(file, line, TRACE_FIELDS[i], f[i], TRACE_MAX[i]);
            if (i < 5) out[off + i] = v;
        }
    }
}
