package io.sluice.dataplane.overlay;

import java.util.Arrays;

/**
 * Open-addressing map from a long key to a non-negative int, linear probing, power-of-two
 * capacity at most half full. Filled on the control path by {@link #put}, then only read:
 * {@link #get} never allocates. Keys are arbitrary longs (no reserved key: a parallel
 * {@code used} marker is the value -1).
 */
public final class LongIntTable {
    private final long[] keys;
    private final int[] values;
    private final int mask;
    private int size;

    public LongIntTable(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected) * 2 - 1) << 1;
        keys = new long[cap];
        values = new int[cap];
        Arrays.fill(values, -1);
        mask = cap - 1;
    }

    /** Stores key → value (value ≥ 0). Returns the previous value or -1. Control path only. */
    public int put(long key, int value) {
        if (value < 0) {
            throw new IllegalArgumentException("value must be >= 0");
        }
        if ((size + 1) * 2 > keys.length) {
            throw new IllegalStateException("table sized for fewer entries");
        }
        int i = slot(key);
        while (values[i] >= 0) {
            if (keys[i] == key) {
                int old = values[i];
                values[i] = value;
                return old;
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        size++;
        return -1;
    }

    /** The value for key, or -1. */
    public int get(long key) {
        int i = slot(key);
        int v;
        while ((v = values[i]) >= 0) {
            if (keys[i] == key) {
                return v;
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    public int size() { return size; }

    private int slot(long key) {
        long h = key * 0x9E37_79B9_7F4A_7C15L;
        return (int) (h ^ (h >>> 29) ^ (h >>> 41)) & mask;
    }
}
