package io.sluice.dataplane.ffi;

import java.util.ArrayList;
import java.util.List;

/**
 * DPDK's Environment Abstraction Layer, once per process.
 *
 * <p>Rules (docs/ffi.md): {@code rte_eal_init} works once per process, so {@link #init} throws
 * on a second call, and after {@link #cleanup} EAL cannot be started again in this JVM (tests
 * fork a JVM per class). Without hugepages pass {@code --no-huge -m 1024 --no-shconf} and a
 * {@code --file-prefix} unique per process ({@link #uniquePrefix}). Threads that call rx/tx must
 * be registered ({@link Shim#threadRegister()}); the workers do it in {@code onStart}.
 */
public final class Eal {
    private Eal() {}

    private static boolean started;
    private static boolean cleaned;
    private static List<String> args = List.of();

    /** Starts EAL with {@code argv} (program name first). Returns the number of args EAL parsed. */
    public static synchronized int init(List<String> argv) {
        if (started) {
            throw new IllegalStateException("DPDK EAL already started in this process (it starts once per process); args were " + args);
        }
        if (cleaned) {
            throw new IllegalStateException("DPDK EAL was cleaned up in this process and cannot start again");
        }
        int rc = Shim.ealInit(argv.toArray(String[]::new));
        if (rc < 0) {
            cleaned = true; // rte_eal_init cannot be retried in this process
            throw new Dpdk.DpdkException("rte_eal_init(" + String.join(" ", argv) + ") failed: "
                    + Shim.strerror(-rc) + " (errno " + (-rc) + "); see EAL's messages above", -rc);
        }
        started = true;
        args = List.copyOf(argv);
        return rc;
    }

    public static synchronized boolean isStarted() {
        return started && !cleaned;
    }

    public static synchronized List<String> args() {
        return args;
    }

    /** rte_eal_cleanup; idempotent. */
    public static synchronized void cleanup() {
        if (started && !cleaned) {
            cleaned = true;
            Shim.ealCleanup();
        }
    }

    /** A --file-prefix value unique to this process: "{@code base}" + pid. */
    public static String uniquePrefix(String base) {
        return base + ProcessHandle.current().pid();
    }

    /** The no-hugepage, no-PCI argument set tests and the demo use: {@code -l LCORES --no-huge -m MB --no-pci --no-shconf --file-prefix P}. */
    public static List<String> noHugeArgs(String lcores, int memMb, String filePrefix) {
        List<String> a = new ArrayList<>();
        a.add("-l");
        a.add(lcores);
        a.add("--no-huge");
        a.add("-m");
        a.add(Integer.toString(memMb));
        a.add("--no-pci");
        a.add("--no-shconf");
        a.add("--file-prefix");
        a.add(filePrefix);
        return a;
    }
}
