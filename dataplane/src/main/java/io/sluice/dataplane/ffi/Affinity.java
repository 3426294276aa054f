package io.sluice.dataplane.ffi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.BitSet;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A thread's CPU affinity by Linux thread id, through libc's {@code sched_getaffinity} /
 * {@code sched_setaffinity} and {@code gettid}. {@code pthread_setaffinity_np} (the shim's pin) only
 * reaches the calling thread; moving the JVM's own threads (GC, JIT, control) needs their thread ids.
 * Control threads only.
 */
public final class Affinity {
    private Affinity() {}

    /** Bytes of the CPU mask passed to the kernel: 1024 CPUs, glibc's {@code cpu_set_t}. */
    private static final int MASK_BYTES = 128;
    private static final MethodHandle GETTID = SdNotify.libc("gettid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle GET = SdNotify.libc("sched_getaffinity", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));
    private static final MethodHandle SET = SdNotify.libc("sched_setaffinity", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS));

    /** The calling thread's Linux thread id. */
    public static int gettid() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The CPUs thread {@code tid} may run on, or null when the thread is gone (or not ours). */
    public static BitSet get(int tid) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(MASK_BYTES, 8);
            int rc = (int) GET.invokeExact(tid, (long) MASK_BYTES, m);
            if (rc != 0) {
                return null;
            }
            return BitSet.valueOf(m.toArray(JAVA_LONG));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Sets thread {@code tid}'s CPUs. @return false when the kernel refused (e.g. the thread exited) */
    public static boolean set(int tid, BitSet cpus) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(MASK_BYTES, 8);
            long[] words = cpus.toLongArray();
            for (int i = 0; i < words.length && i < MASK_BYTES / 8; i++) {
                m.setAtIndex(JAVA_LONG, i, words[i]);
            }
            return (int) SET.invokeExact(tid, (long) MASK_BYTES, m) == 0;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
