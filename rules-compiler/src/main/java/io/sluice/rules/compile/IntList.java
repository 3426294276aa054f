package io.sluice.rules.compile;

import java.util.Arrays;

/** A growable list of primitive ints (compile-time only). */
final class IntList {
    private int[] a;
    private int n;

    IntList(int cap) { a = new int[Math.max(4, cap)]; }

    void add(int v) {
        if (n == a.length) a = Arrays.copyOf(a, a.length * 2);
        a[n++] = v;
    }

    int reserve(int k) {
        int at = n;
        if (n + k > a.length) a = Arrays.copyOf(a, Math.max(a.length * 2, n + k));
        n += k;
        return at;
    }

    void set(int i, int v) { a[i] = v; }
    int get(int i) { return a[i]; }
    int size() { return n; }
    int[] toArray() { return Arrays.copyOf(a, n); }
    /** The backing array (longer than {@link #size()}); appends past the size never touch what a reader of it can reach. */
    int[] array() { return a; }
}
