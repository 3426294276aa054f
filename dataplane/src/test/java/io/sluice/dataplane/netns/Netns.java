package io.sluice.dataplane.netns;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces for tests with real hosts. Every name starts with {@link #prefix()}
 * ("slt" + this JVM's pid), so concurrent test JVMs never collide. Everything made here is
 * removed by {@link #close()}; a JVM shutdown hook does it too when a test never reaches its
 * finally block; and {@link #removeStale()} removes what a killed JVM left behind.
 *
 * <p>Only addresses inside the namespaces are used (10.199.x.x); nothing is sent elsewhere.
 */
public final class Netns implements AutoCloseable {
    private static final Set<Netns> LIVE = Collections.synchronizedSet(new LinkedHashSet<>());

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            List<Netns> all;
            synchronized (LIVE) {
                all = new ArrayList<>(LIVE);
            }
            for (Netns n : all) {
                n.close();
            }
        }, "netns-cleanup"));
    }

    private final String prefix;
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> tempDirs = new ArrayList<>();

    public Netns() {
        this.prefix = "slt" + ProcessHandle.current().pid();
        removeStale();
        LIVE.add(this);
    }

    public String prefix() {
        return prefix;
    }

    /** An interface or namespace name with this run's prefix (at most 15 characters). */
    public String name(String suffix) {
        String n = prefix + suffix;
        if (n.length() > 15) {
            throw new IllegalArgumentException("interface name too long: " + n);
        }
        return n;
    }

    /** A fresh directory under the system temp dir, named with the prefix, deleted with its files by {@link #close()}. */
    public synchronized Path tempDir() throws IOException {
        Path d = java.nio.file.Files.createTempDirectory(prefix);
        tempDirs.add(d);
        return d;
    }

    /** Creates namespace prefix+suffix with lo up; returns its name. */
    public synchronized String create(String suffix) {
        String ns = name(suffix);
        run("ip", "netns", "add", ns);
        namespaces.add(ns);
        run("ip", "-n", ns, "link", "set", "lo", "up");
        return ns;
    }

    /** Moves a root-namespace link into {@code ns}, gives it {@code cidr} and brings it up. */
    public void moveAndAddress(String ifname, String ns, String cidr) {
        run("ip", "link", "set", "dev", ifname, "netns", ns);
        run("ip", "-n", ns, "addr", "add", cidr, "dev", ifname);
        run("ip", "-n", ns, "link", "set", "dev", ifname, "up");
    }

    /** Runs a command inside {@code ns}, waits up to {@code timeoutSec}; returns the result. */
    public Result exec(String ns, int timeoutSec, String... cmd) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(List.of(cmd));
        return runResult(c, timeoutSec);
    }

    /** Starts a command inside {@code ns} in the background (killed by {@link #close()}). */
    public synchronized Process spawn(String ns, Path stdout, String... cmd) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        c.addAll(List.of(cmd));
        try {
            ProcessBuilder pb = new ProcessBuilder(c).redirectErrorStream(false);
            if (stdout != null) {
                pb.redirectOutput(stdout.toFile());
            }
            Process p = pb.start();
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + c + ": " + e.getMessage(), e);
        }
    }

    public record Result(int exit, String output) {
        public boolean ok() {
            return exit == 0;
        }
    }

    public static Result runResult(List<String> cmd, int timeoutSec) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            if (!p.waitFor(timeoutSec, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                return new Result(-1, "timed out after " + timeoutSec + " s: " + String.join(" ", cmd)
                        + "\n" + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(-2, "cannot run " + cmd + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-3, "interrupted: " + cmd);
        }
    }

    /** Runs a command; throws with its output when it fails. */
    public static String run(String... cmd) {
        Result r = runResult(List.of(cmd), 30);
        if (!r.ok()) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed (" + r.exit() + "): " + r.output());
        }
        return r.output();
    }

    /** True when a link of that name exists in {@code ns} (null: the root namespace). */
    public static boolean linkExists(String ns, String ifname) {
        List<String> c = ns == null
                ? List.of("ip", "link", "show", "dev", ifname)
                : List.of("ip", "-n", ns, "link", "show", "dev", ifname);
        return runResult(c, 10).ok();
    }

    public synchronized List<String> namespaces() {
        return List.copyOf(namespaces);
    }

    /** Kills spawned processes and processes left in our namespaces, deletes the namespaces. Idempotent. */
    @Override
    public synchronized void close() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        processes.clear();
        for (String ns : namespaces) {
            deleteNamespace(ns);
        }
        namespaces.clear();
        for (Path d : tempDirs) {
            deleteTree(d);
        }
        tempDirs.clear();
        LIVE.remove(this);
    }

    /** Deletes a directory tree, best effort (cleanup must not hide the test's own failure). */
    public static void deleteTree(Path dir) {
        try (var walk = java.nio.file.Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | java.io.UncheckedIOException e) {
            System.err.println("netns: could not delete " + dir + ": " + e.getMessage());
        }
    }

    private static void deleteNamespace(String ns) {
        Result pids = runResult(List.of("ip", "netns", "pids", ns), 10);
        if (pids.ok()) {
            for (String pid : pids.output().trim().split("\\s+")) {
                if (!pid.isEmpty()) {
                    runResult(List.of("kill", "-9", pid), 5);
                }
            }
        }
        runResult(List.of("ip", "netns", "del", ns), 10);
    }

    /** Deletes "slt<pid>..." namespaces whose JVM no longer runs (left by a killed test run). */
    public static void removeStale() {
        Result r = runResult(List.of("ip", "netns", "list"), 10);
        if (!r.ok()) {
            return;
        }
        for (String line : r.output().split("\n")) {
            String ns = line.trim().split("\\s+")[0];
            if (!ns.matches("slt\\d+.*")) {
                continue;
            }
            String digits = ns.substring(3).replaceAll("\\D.*$", "");
            if (digits.isEmpty()) {
                continue;
            }
            long pid = Long.parseLong(digits);
            if (ProcessHandle.of(pid).isEmpty()) {
                deleteNamespace(ns);
            }
        }
    }
}
