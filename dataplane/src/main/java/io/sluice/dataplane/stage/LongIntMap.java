package io.sluice.dataplane.stage;

import java.util.Arrays;

/**
 * An immutable, allocation-free {@code long -> int} hash map for fast-path lookups (MAC table,
 * ARP table). Built once on the control path from parallel arrays; {@link #get} is open
 * addressing with linear probing over a power-of-two table at most half full, so a miss ends
 * at an empty slot within a few probes. Values must be &ge; 0 (a negative value marks an empty
 * slot); keys are any {@code long}.
 *
 * <p>{@link #getLinear} is the slow, obviously right twin (a scan of the entries as given); the
 * tests hold the two equal on random tables.
 */
public final class LongIntMap {
    /** Returned by {@link #get} and {@link #getLinear} for an absent key. */
    public static final int MISSING = -1;

    private final long[] keys;
    private final int[] values;
    private final int mask;
    private final int shift;
    private final long[] entryKeys;
    private final int[] entryValues;

    /**
     * Builds the map. A key given twice must have the same value both times.
     *
     * @throws IllegalArgumentException on a negative value, a key given with two values, or
     *                                  arrays of different lengths
     */
    public LongIntMap(long[] keys, int[] values) {
        if (keys.length != values.length) {
            throw new IllegalArgumentException("keys and values differ in length: " + keys.length + " vs " + values.length);
        }
        int cap = Integer.highestOneBit(Math.max(4, keys.length * 2 + 1) - 1) << 1;
        this.keys = new long[cap];
        this.values = new int[cap];
        Arrays.fill(this.values, MISSING);
        this.mask = cap - 1;
        this.shift = 64 - Integer.numberOfTrailingZeros(cap);
        this.entryKeys = keys.clone();
        this.entryValues = values.clone();
        for (int e = 0; e < keys.length; e++) {
            long k = keys[e];
            int v = values[e];
            if (v < 0) {
                throw new IllegalArgumentException("value must be >= 0, was " + v + " for key 0x" + Long.toHexString(k));
            }
            int slot = slot(k);
            while (this.values[slot] != MISSING && this.keys[slot] != k) {
                slot = (slot + 1) & mask;
            }
            if (this.values[slot] != MISSING && this.values[slot] != v) {
                throw new IllegalArgumentException("key 0x" + Long.toHexString(k) + " given twice, with "
                        + this.values[slot] + " and " + v);
            }
            this.keys[slot] = k;
            this.values[slot] = v;
        }
    }

    private int slot(long k) {
        // Fibonacci hashing: one multiply, the top bits of the product (mixes the low bits,
        // where MACs and IPv4 addresses differ, into the index)
        return (int) ((k * 0x9E37_79B9_7F4A_7C15L) >>> shift);
    }

    /** The value for {@code key}, or {@link #MISSING}. Allocation-free. */
    public int get(long key) {
        int slot = slot(key);
        int[] vs = values;
        long[] ks = keys;
        while (true) {
            int v = vs[slot];
            if (v == MISSING || ks[slot] == key) {
                return v;
            }
            slot = (slot + 1) & mask;
        }
    }

    /** The reference lookup: a linear scan of the entries as given to the constructor. */
    public int getLinear(long key) {
        for (int e = 0; e < entryKeys.length; e++) {
            if (entryKeys[e] == key) {
                return entryValues[e];
            }
        }
        return MISSING;
    }

    /** Number of entries given to the constructor (duplicates included). */
    public int entries() {
        return entryKeys.length;
    }
}
