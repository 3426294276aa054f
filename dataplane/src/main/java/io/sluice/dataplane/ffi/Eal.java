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

    private static String logFile;
    private static int logLevel = 8;

    /**
     * DPDK's own log (EAL and drivers) goes to {@code file} at most at {@code level} (1 emerg ..
     * 8 debug) from {@link #init} on, instead of the terminal; null: the terminal (the default).
     */
    public static synchronized void logTo(String file, int level) {
        logFile = file;
        logLevel = level;
    }

    /** The DPDK log file set by {@link #logTo}, or null. */
    public static synchronized String logFile() { return logFile; }

    /** Starts EAL with {@code argv} (program name first). Returns the number of args EAL parsed. */
    public static synchronized int init(List<String> argv) {
        if (started) {
            throw new IllegalStateException("DPDK EAL already started in this process (it starts once per process); args were " + args);
        }
        if (cleaned) {
            throw new IllegalStateException("DPDK EAL was cleaned up in this process and cannot start again");
        }
        if (logFile != null) {
            int lr = Shim.logOpen(logFile, logLevel);
            if (lr < 0) throw new Dpdk.DpdkException("DPDK log file " + logFile + ": " + Shim.strerror(-lr), -lr);
        }
        int rc = Shim.ealInit(argv.toArray(String[]::new));
        if (rc < 0) {
            cleaned = true; // rte_eal_init cannot be retried in this process
            throw new Dpdk.DpdkException("rte_eal_init(" + String.join(" ", argv) + ") failed: "
                    + Shim.strerror(-rc) + " (errno " + (-rc) + "); see EAL's messages "
                    + (logFile != null ? "in " + logFile : "above"), -rc);
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

    /** rte_eal_cleanup, then removes this process's EAL runtime directory; idempotent. */
    public static synchronized void cleanup() {
        if (started && !cleaned) {
            cleaned = true;
            Shim.ealCleanup();
            removeRuntimeDir(args);
        }
    }

    /**
     * Removes this process's EAL runtime directory without {@code rte_eal_cleanup}: for an exit
     * that cannot clean EAL up (a worker thread that would not stop still uses it). Idempotent.
     */
    public static synchronized void removeOwnRuntimeDir() {
        if (started && !cleaned) {
            removeRuntimeDir(args);
        }
    }

    /**
     * Removes the runtime directory a process that died without cleaning up (SIGKILL) left under
     * the default prefix {@code base + pid} ({@link #uniquePrefix}); tests that kill their children.
     */
    public static void removeRuntimeDirOf(String base, long pid) {
        removeRuntimeDir(List.of("--file-prefix", base + pid));
    }

    /**
     * EAL leaves its runtime directory ({@code /var/run/dpdk/<file-prefix>} for root, else
     * {@code $XDG_RUNTIME_DIR/dpdk/<file-prefix>}) behind after {@code rte_eal_cleanup}; every
     * run has its own prefix, so without this they pile up. Removes only that directory's files.
     */
    static void removeRuntimeDir(List<String> argv) {
        String prefix = null;
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i);
            if (a.equals("--file-prefix") && i + 1 < argv.size()) prefix = argv.get(i + 1);
            else if (a.startsWith("--file-prefix=")) prefix = a.substring("--file-prefix=".length());
        }
        if (prefix == null || prefix.isEmpty() || prefix.contains("/") || prefix.startsWith(".")) return;
        java.nio.file.Path dir = runtimeBase().resolve(prefix);
        try (var files = java.nio.file.Files.list(dir)) {
            for (java.nio.file.Path f : (Iterable<java.nio.file.Path>) files::iterator) java.nio.file.Files.deleteIfExists(f);
            java.nio.file.Files.deleteIfExists(dir);
        } catch (java.io.IOException | RuntimeException e) {
            // not there (e.g. --no-shconf with in-memory mode) or not ours to remove: leave it
        }
    }

    /** The directory EAL keeps its per-prefix runtime directories in. */
    static java.nio.file.Path runtimeBase() {
        String xdg = System.getenv("XDG_RUNTIME_DIR");
        boolean root = "root".equals(System.getProperty("user.name"));
        return root || xdg == null ? java.nio.file.Path.of("/var/run/dpdk") : java.nio.file.Path.of(xdg, "dpdk");
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
