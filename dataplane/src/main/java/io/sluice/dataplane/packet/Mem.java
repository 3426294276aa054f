package io.sluice.dataplane.packet;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Absolute-address access to packet memory. Packets stay in DPDK mbufs; Java reads and writes
 * them in place through one global segment that spans the address space, indexed by the
 * absolute address of a byte. Tests put frames in native memory from an {@link java.lang.foreign.Arena}
 * and use the same accessors, so parsers and stages see the same kind of memory in tests and
 * in production. Network byte order (big endian) accessors are named {@code *Be}.
 */
public final class Mem {
    /** The whole address space. Bounds are the caller's job (every parser checks lengths first). */
    public static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    public static final ValueLayout.OfShort SHORT_BE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfInt INT_BE =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfLong LONG_BE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED;
    public static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED;
    public static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED;

    private Mem() {}

    public static int u8(long addr) { return ALL.get(ValueLayout.JAVA_BYTE, addr) & 0xFF; }
    public static int u16(long addr) { return ALL.get(SHORT_BE, addr) & 0xFFFF; }
    public static int i32(long addr) { return ALL.get(INT_BE, addr); }
    public static long u32(long addr) { return ALL.get(INT_BE, addr) & 0xFFFF_FFFFL; }
    public static long i64(long addr) { return ALL.get(LONG_BE, addr); }
    /** 48-bit MAC address at {@code addr} as the low 48 bits of a long (network order). */
    public static long mac(long addr) { return ((long) u16(addr) << 32) | u32(addr + 2); }

    public static void put8(long addr, int v) { ALL.set(ValueLayout.JAVA_BYTE, addr, (byte) v); }
    public static void put16(long addr, int v) { ALL.set(SHORT_BE, addr, (short) v); }
    public static void put32(long addr, int v) { ALL.set(INT_BE, addr, v); }
    public static void putMac(long addr, long mac) { put16(addr, (int) (mac >>> 32)); put32(addr + 2, (int) mac); }

    /** Raw native-order long (for pointers stored in C structs). */
    public static long ptr(long addr) { return ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, addr); }

    public static void copy(long src, long dst, long n) { MemorySegment.copy(ALL, src, ALL, dst, n); }
}
