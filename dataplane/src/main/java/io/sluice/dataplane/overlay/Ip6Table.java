package io.sluice.dataplane.overlay;

import java.util.Arrays;

/**
 * Open-addressing map from (zone, IPv6 address) to a non-negative int. Same contract as
 * {@link LongIntTable}: filled on the control path, read allocation-free.
 */
public final class Ip6Table {
    private final int[] zones;
    private final long[] his;
    private final long[] los;
    private final int[] values;
    private final int mask;
    private int size;

    public Ip6Table(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected) * 2 - 1) << 1;
        zones = new int[cap];
        his = new long[cap];
        los = new long[cap];
        values = new int[cap];
        Arrays.fill(values, -1);
        mask = cap - 1;
    }

    /** Stores the entry; returns the previous value or -1. */
    public int put(int zone, long hi, long lo, int value) {
        if ((size + 1) * 2 > values.length) {
            throw new IllegalStateException("table sized for fewer entries");
        }
        int i = slot(zone, hi, lo);
        while (values[i] >= 0) {
            if (zones[i] == zone && his[i] == hi && los[i] == lo) {
                int old = values[i];
                values[i] = value;
                return old;
            }
            i = (i + 1) & mask;
        }
        zones[i] = zone;
        his[i] = hi;
        los[i] = lo;
        values[i] = value;
        size++;
        return -1;
    }

    /** The value for (zone, hi, lo), or -1. */
    public int get(int zone, long hi, long lo) {
        int i = slot(zone, hi, lo);
        int v;
        while ((v = values[i]) >= 0) {
            if (zones[i] == zone && his[i] == hi && los[i] == lo) {
                return v;
            }
            i = (i + 1) & mask;
        }
        return -1;
    }

    private int slot(int zone, long hi, long lo) {
        long h = (hi * 0x9E37_79B9_7F4A_7C15L) ^ (lo * 0xC2B2_AE3D_27D4_EB4FL) ^ ((long) zone * 0x1656_67B1_9E37_79F9L);
        return (int) (h ^ (h >>> 31)) & mask;
    }
}
