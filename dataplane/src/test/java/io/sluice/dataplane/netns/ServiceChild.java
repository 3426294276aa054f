package io.sluice.dataplane.netns;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A data plane in a child JVM, as an operator runs it: {@code Main run CONFIG} (or a test main that
 * goes through the same {@code Service.run}), with this JVM's flags and class path, output (stdout and
 * stderr) collected line by line with the time each line arrived.
 */
final class ServiceChild implements AutoCloseable {
    /** One line of the child's output and when this JVM read it. */
    record Line(long nanos, String text) {}

    final Process process;
    private final List<Line> lines = new ArrayList<>();
    /** This JVM's children's default conntrack-dir; removed when this JVM exits. */
    static final Path CONNTRACK_DIR = Path.of(System.getProperty("java.io.tmpdir"), "sluice-ct-" + ProcessHandle.current().pid());

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> Netns.deleteTree(CONNTRACK_DIR), "sluice-ct-dir-cleanup"));
    }

    private ServiceChild(Process p) {
        this.process = p;
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = r.readLine()) != null) {
                    synchronized (lines) {
                        lines.add(new Line(System.nanoTime(), l));
                        lines.notifyAll();
                    }
                }
            } catch (IOException ignored) {
                // the child ended
            }
        }, "child-output");
        t.setDaemon(true);
        t.start();
    }

    /** Collects the output of any process (a helper such as a notify listener). */
    static ServiceChild of(Process p) {
        return new ServiceChild(p);
    }

    /** The lines read so far. */
    List<Line> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /** The java command line of a child running {@code mainClass} with this JVM's flags and class path. */
    static List<String> javaCommand(String mainClass, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--") || a.startsWith("-XX:") || a.startsWith("-Dsluice")) {
                cmd.add(a);
            }
        }
        cmd.add("-Xmx256m");
        // a data plane keeps its conntrack shards (warm restart) in conntrack-dir, default /run/sluice:
        // children of this JVM keep theirs in a directory of this JVM's own (unless a test sets the key)
        cmd.add("-Dsluice.conntrack.dir=" + CONNTRACK_DIR);
        cmd.add("-Dsluice.native.lib=" + System.getProperty("sluice.native.lib"));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        return cmd;
    }

    static ServiceChild start(Map<String, String> env, String mainClass, String... args) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(javaCommand(mainClass, args)).redirectErrorStream(true);
        pb.environment().remove("NOTIFY_SOCKET");
        pb.environment().remove("WATCHDOG_USEC");
        pb.environment().putAll(env);
        return new ServiceChild(pb.start());
    }

    /** {@code Main run CONFIG} started through {@code prefix} (e.g. {@code nohup}, which execs it: same pid). */
    static ServiceChild runUnder(List<String> prefix, Path config) throws IOException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(javaCommand("io.sluice.dataplane.Main", "run", config.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("NOTIFY_SOCKET");
        pb.environment().remove("WATCHDOG_USEC");
        return new ServiceChild(pb.start());
    }

    /** {@code Main run CONFIG}: exactly what {@code ./sluice run CONFIG} executes. */
    static ServiceChild run(Path config) throws IOException {
        return start(Map.of(), "io.sluice.dataplane.Main", "run", config.toString());
    }

    /** Waits for a line that matches; returns it, or null after the timeout or when the child ended without one. */
    /**
     * The least any wait for an expected line or exit takes before it fails: every wait here is for
     * something the test expects to happen, so a longer wait costs only a failing run's time, while a
     * shorter one fails a correct data plane on a loaded machine (a full run beside other builds, at
     * load 16 on 2 cores, saw cold SIGHUP reloads take over 10 s).
     */
    static final long MIN_WAIT_MS = 60_000;

    Line await(Predicate<String> match, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + Math.max(timeoutMs, MIN_WAIT_MS) * 1_000_000L;
        int seen = 0;
        synchronized (lines) {
            while (true) {
                for (; seen < lines.size(); seen++) {
                    if (match.test(lines.get(seen).text())) {
                        return lines.get(seen);
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || (!process.isAlive() && seen == lines.size() && endedReading())) {
                    return null;
                }
                lines.wait(Math.max(1, Math.min(50, left / 1_000_000L)));
            }
        }
    }

    private boolean endedReading() {
        try {
            return process.waitFor(0, TimeUnit.MILLISECONDS) && process.getInputStream().available() == 0;
        } catch (IOException | InterruptedException e) {
            return true;
        }
    }

    /** Waits for {@code "sluice: ready:"}; fails with the output when it does not come. */
    Line awaitReady(long timeoutMs) throws InterruptedException {
        Line l = await(s -> s.startsWith("sluice: ready:"), timeoutMs);
        if (l == null) {
            throw new AssertionError("not ready within " + timeoutMs + " ms (alive=" + process.isAlive() + "):\n" + output());
        }
        return l;
    }

    String output() {
        StringBuilder sb = new StringBuilder();
        synchronized (lines) {
            for (Line l : lines) {
                sb.append(l.text()).append('\n');
            }
        }
        return sb.toString();
    }

    void signal(String sig) {
        Netns.run("kill", "-" + sig, Long.toString(process.pid()));
    }

    /** Exit status, or fails when the child is still running after {@code timeoutSec}. */
    int awaitExit(int timeoutSec) throws InterruptedException {
        timeoutSec = (int) Math.max(timeoutSec, MIN_WAIT_MS / 1000);
        if (!process.waitFor(timeoutSec, TimeUnit.SECONDS)) {
            throw new AssertionError("child still running after " + timeoutSec + " s:\n" + output());
        }
        // let the reader take the last lines
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                if (process.getInputStream().available() == 0) {
                    break;
                }
            } catch (IOException e) {
                break;
            }
            Thread.sleep(10);
        }
        Thread.sleep(50);
        return process.exitValue();
    }

    /** A minimal L2 configuration on two TAP ports, counters in {@code dir}; {@code extra} is appended. */
    static Path twoTapConfig(Path dir, String ifA, String ifB, String extra) throws IOException {
        String y = "eal: [\"--no-huge\", \"-m\", \"256\", \"--no-pci\", \"--no-shconf\", \"-l\", \"0\"]\n"
                + "idle-strategy: backoff\nmbufs: 2047\n"
                + "counters-file: " + dir.resolve("counters.dat") + "\n"
                + "metrics: { listen: \"127.0.0.1:0\" }\n"
                + "ports:\n"
                + "  - { name: a, device: \"net_tap0,iface=" + ifA + "\" }\n"
                + "  - { name: b, device: \"net_tap1,iface=" + ifB + "\" }\n"
                + "mac-table:\n"
                + "  - { mac: \"02:5c:00:00:01:01\", port: a }\n"
                + "  - { mac: \"02:5c:00:00:01:02\", port: b }\n"
                + extra;
        Path f = dir.resolve("sluice.yaml");
        Files.writeString(f, y);
        return f;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        // a child killed with SIGKILL (or halted) leaves its EAL runtime directory behind
        io.sluice.dataplane.ffi.Eal.removeRuntimeDirOf("sluice", process.pid());
    }
}
