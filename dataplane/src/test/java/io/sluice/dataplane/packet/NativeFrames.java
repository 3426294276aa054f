package io.sluice.dataplane.packet;

import io.sluice.dataplane.pipeline.Burst;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Test utility: frames in native memory, as the NIC would leave them, addressed by absolute
 * address like mbuf data. Each {@link #put} copies bytes into a fresh 64-byte aligned block of
 * the arena; {@link #close} frees them all.
 */
public final class NativeFrames implements AutoCloseable {
    private final Arena arena = Arena.ofShared();

    /** Copies {@code bytes} into native memory; returns the absolute address of the first byte. */
    public long put(byte[] bytes) {
        MemorySegment seg = arena.allocate(Math.max(1, bytes.length), 64);
        MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return seg.address();
    }

    /** A native block of {@code size} zero bytes; returns its address. */
    public long allocate(int size) {
        return arena.allocate(Math.max(1, size), 64).address();
    }

    /** Copies {@code n} bytes at absolute address {@code addr} back to the heap. */
    public static byte[] read(long addr, int n) {
        byte[] out = new byte[n];
        MemorySegment.copy(Mem.ALL, ValueLayout.JAVA_BYTE, addr, out, 0, n);
        return out;
    }

    /** Overwrites native memory at {@code addr} with {@code bytes}. */
    public static void write(long addr, byte[] bytes) {
        MemorySegment.copy(bytes, 0, Mem.ALL, ValueLayout.JAVA_BYTE, addr, bytes.length);
    }

    /** A burst of one: {@code bytes} (first {@code len} of them) put in native memory, received on {@code port}. */
    public Burst burstOf(byte[] bytes, int len, int port) {
        Burst b = new Burst(1);
        b.count = 1;
        b.reset(0, 0, put(bytes), len, port);
        return b;
    }

    @Override
    public void close() {
        arena.close();
    }
}
