package io.sluice.dataplane.ffi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A signal that the parent process set to "ignore" stays ignored across {@code exec}, and the JVM
 * then never installs a Java handler for it: {@code sun.misc.Signal.handle} returns as if it had, and
 * the handler never runs. {@code nohup ./sluice run …} starts the data plane with SIGHUP ignored, so
 * its reload signal would do nothing, silently. This reads a signal's disposition with libc's
 * {@code sigaction} and sets an ignored one back to the default, before the handler is installed (as
 * daemons that reload on SIGHUP, nginx among them, do). Control thread, once at start.
 */
public final class SignalDisposition {
    private SignalDisposition() {}

    private static final MethodHandle SIGACTION = SdNotify.libc("sigaction", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SIGNAL = SdNotify.libc("signal", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG));
    /** {@code struct sigaction} on x86_64/aarch64 glibc: the handler first, 152 bytes in all (room to spare). */
    private static final int SIGACTION_SIZE = 256;
    private static final long SIG_DFL = 0;
    private static final long SIG_IGN = 1;
    public static final int SIGHUP = 1;

    /** True when {@code sig} is set to be ignored in this process. */
    public static boolean ignored(int sig) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment old = a.allocate(SIGACTION_SIZE, 8);
            int rc = (int) SIGACTION.invokeExact(sig, MemorySegment.NULL, old);
            return rc == 0 && old.get(JAVA_LONG, 0) == SIG_IGN;
        } catch (Throwable t) {
            throw new IllegalStateException("sigaction(" + sig + "): " + t, t);
        }
    }

    /**
     * Sets {@code sig} back to its default action when it is ignored.
     *
     * @return true when it was ignored (and is not any more)
     */
    public static boolean unignore(int sig) {
        if (!ignored(sig)) return false;
        try {
            long prev = (long) SIGNAL.invokeExact(sig, SIG_DFL);
            return prev == SIG_IGN;
        } catch (Throwable t) {
            throw new IllegalStateException("signal(" + sig + ", SIG_DFL): " + t, t);
        }
    }
}
