package io.sluice.dataplane.ffi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * systemd's notify protocol ({@code sd_notify(3)}): one datagram of {@code KEY=VALUE} lines to the
 * {@code AF_UNIX} socket named by {@code $NOTIFY_SOCKET}. Java's {@code DatagramChannel} has no
 * {@code AF_UNIX}, and libsystemd is not a dependency we want, so this calls libc's
 * {@code socket}/{@code sendto}/{@code close} directly. A name starting with {@code @} is an
 * abstract socket (first byte 0), as systemd documents. Control threads only (each call opens
 * and closes its own socket, as {@code sd_notify} does).
 */
public final class SdNotify {
    private SdNotify() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SOCKET = libc("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SENDTO = libc("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int SUN_PATH = 108;

    /** A downcall to libc's {@code name} (also used by {@link Affinity}). */
    static MethodHandle libc(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(
                () -> new IllegalStateException("libc has no " + name)), fd);
    }

    /** The socket systemd gave this process, or null when it runs outside a {@code Type=notify} unit. */
    public static String socketPath() {
        String s = System.getenv("NOTIFY_SOCKET");
        return s == null || s.isEmpty() ? null : s;
    }

    /**
     * Sends {@code state} (e.g. {@code "READY=1"}) to {@code $NOTIFY_SOCKET}.
     *
     * @return true when sent; false when there is no socket
     * @throws IllegalStateException when the socket is named but the datagram could not be sent
     */
    public static boolean notify(String state) {
        String path = socketPath();
        return path != null && send(path, state);
    }

    /** Sends {@code state} to the notify socket at {@code path} ({@code @name}: abstract). */
    public static boolean send(String path, String state) {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        if (name.length >= SUN_PATH) {
            throw new IllegalStateException("NOTIFY_SOCKET too long: " + path);
        }
        byte[] msg = state.getBytes(StandardCharsets.UTF_8);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment addr = a.allocate(2 + SUN_PATH, 8);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
            int addrLen;
            if (name[0] == '@') {
                addr.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
                addrLen = 2 + name.length; // abstract: no trailing NUL
            } else {
                addrLen = 2 + name.length + 1;
            }
            MemorySegment buf = a.allocate(Math.max(1, msg.length));
            MemorySegment.copy(msg, 0, buf, ValueLayout.JAVA_BYTE, 0, msg.length);
            int fd = (int) SOCKET.invokeExact(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw new IllegalStateException("sd_notify: socket(AF_UNIX) failed");
            }
            try {
                long n = (long) SENDTO.invokeExact(fd, buf, (long) msg.length, MSG_NOSIGNAL, addr, addrLen);
                if (n != msg.length) {
                    throw new IllegalStateException("sd_notify: sendto " + path + " failed");
                }
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
            return true;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("sd_notify: " + t, t);
        }
    }
}
