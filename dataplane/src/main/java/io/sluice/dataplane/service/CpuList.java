package io.sluice.dataplane.service;

import java.util.BitSet;

/** Linux CPU lists as {@code taskset -c} and {@code /proc/.../status} write them: {@code "0,2-3"}. */
public final class CpuList {
    private CpuList() {}

    /** The highest CPU number accepted (glibc's {@code cpu_set_t} holds 1024). */
    public static final int MAX_CPU = 1023;

    /**
     * Parses {@code "0,2-3"}.
     *
     * @throws IllegalArgumentException naming the part that is wrong
     */
    public static BitSet parse(String s) {
        BitSet out = new BitSet();
        if (s.isBlank()) {
            throw new IllegalArgumentException("empty CPU list");
        }
        for (String part : s.split(",", -1)) {
            String p = part.strip();
            int dash = p.indexOf('-');
            int lo = cpu(dash < 0 ? p : p.substring(0, dash), p);
            int hi = dash < 0 ? lo : cpu(p.substring(dash + 1), p);
            if (hi < lo) {
                throw new IllegalArgumentException("'" + p + "': range ends before it starts");
            }
            out.set(lo, hi + 1);
        }
        return out;
    }

    private static int cpu(String s, String part) {
        if (s.isEmpty() || s.length() > 4 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("'" + part + "': expected a CPU number or a range such as 2-3");
        }
        int v = Integer.parseInt(s);
        if (v > MAX_CPU) {
            throw new IllegalArgumentException("'" + part + "': CPU " + v + " is above " + MAX_CPU);
        }
        return v;
    }

    /** The shortest list: runs of two or more as ranges. */
    public static String format(BitSet cpus) {
        StringBuilder sb = new StringBuilder();
        for (int i = cpus.nextSetBit(0); i >= 0; ) {
            int end = cpus.nextClearBit(i) - 1;
            if (sb.length() > 0) sb.append(',');
            sb.append(i);
            if (end > i) sb.append('-').append(end);
            i = cpus.nextSetBit(end + 1);
        }
        return sb.toString();
    }
}
