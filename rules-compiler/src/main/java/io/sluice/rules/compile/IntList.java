package io.sluice.rules.compile;

import java.util.Arrays;

/** A growable list of primitive ints (compile-time only). */
final class IntList {
    private int[] a;
    private int n;

    private final boolean gentle;

    IntList(int cap) { this(cap, false); }

    /**
     * With {@code gentle}, the list grows by half (plus 1024) instead of doubling: for arrays kept
     * and appended to (each growth copies the whole array inside one update, so not too often;
     * the spare part is memory the table holds, so not too much).
     */
    IntList(int cap, boolean gentle) {
        a = new int[Math.max(4, cap)];
        this.gentle = gentle;
    }

    private int grown(int need) { return Math.max(need, gentle ? a.length + (a.length >> 1) + 1024 : a.length * 2); }

    void add(int v) {
        if (n == a.length) a = Arrays.copyOf(a, grown(n + 1));
        a[n++] = v;
    }

    int reserve(int k) {
        int at = n;
        if (n + k > a.length) a = Arrays.copyOf(a, grown(n + k));
        n += k;
        return at;
    }

    /** Drops the ints from {@code size} on (written by this writer and never published). */
    void truncate(int size) { n = size; }
    void set(int i, int v) { a[i] = v; }
    int get(int i) { return a[i]; }
    int size() { return n; }
    int[] toArray() { return Arrays.copyOf(a, n); }
    /** Drops the spare capacity (the next append copies). */
    void trim() { trim(0); }
    /** Keeps exactly {@code spare} ints of spare capacity. */
    void trim(int spare) { if (a.length != n + spare) a = Arrays.copyOf(a, n + spare); }
    /** The backing array (longer than {@link #size()}); appends past the size never touch what a reader of it can reach. */
    int[] array() { return a; }
}
