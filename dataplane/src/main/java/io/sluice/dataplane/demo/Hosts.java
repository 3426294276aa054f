package io.sluice.dataplane.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real Linux hosts for the demo: network namespaces with the data plane's TAP ports moved into
 * them, and commands run inside. Every namespace this creates is remembered and removed by
 * {@link #close()} (also from a shutdown hook), so nothing is left behind when a check fails.
 * Only names starting with the given prefix are ever created or deleted.
 */
public final class Hosts implements AutoCloseable {
    /** The outcome of one command. */
    public record Result(int exit, String out) {
        public boolean ok() { return exit == 0; }
    }

    private final String prefix;
    private final List<String> namespaces = new ArrayList<>();
    private final Thread hook = new Thread(this::close, "sluice-hosts-cleanup");

    public Hosts(String prefix) {
        if (!prefix.matches("[a-z][a-z0-9-]{1,8}")) {
            throw new IllegalArgumentException("namespace prefix must be 2-9 lowercase letters/digits: " + prefix);
        }
        this.prefix = prefix;
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Deletes namespaces left over from an earlier run with the same prefix. */
    public void removeStale() {
        Result r = run(5, "ip", "netns", "list");
        for (String line : r.out().split("\n")) {
            String name = line.split(" ", 2)[0].trim();
            if (name.startsWith(prefix)) {
                run(5, "ip", "netns", "delete", name);
            }
        }
    }

    /** Creates namespace {@code prefix + suffix} with loopback up; returns its name. */
    public String namespace(String suffix) {
        String ns = prefix + suffix;
        run(5, "ip", "netns", "delete", ns);
        must(run(5, "ip", "netns", "add", ns), "ip netns add " + ns);
        namespaces.add(ns);
        must(run(5, "ip", "-n", ns, "link", "set", "lo", "up"), "lo up in " + ns);
        return ns;
    }

    /** Waits until interface {@code ifname} exists in the root namespace. */
    public void awaitInterface(String ifname, long timeoutMs) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() - deadline < 0) {
            if (run(2, "ip", "link", "show", "dev", ifname).ok()) {
                return;
            }
            sleep(50);
        }
        throw new IllegalStateException("interface " + ifname + " did not appear within " + timeoutMs + " ms");
    }

    /** Moves a root-namespace interface into {@code ns} and gives it a MAC, an address and a link. */
    public void plug(String ifname, String ns, String mac, String cidr) {
        must(run(5, "ip", "link", "set", "dev", ifname, "netns", ns), "move " + ifname + " to " + ns);
        must(run(5, "ip", "-n", ns, "link", "set", "dev", ifname, "address", mac), "mac of " + ifname);
        must(run(5, "ip", "-n", ns, "addr", "add", cidr, "dev", ifname), "address of " + ifname);
        must(run(5, "ip", "-n", ns, "link", "set", "dev", ifname, "up"), "up " + ifname);
        // No IPv6 chatter (router solicitations, DAD) on the demo links: the checks count packets.
        run(5, "ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
    }

    /** Runs a command inside {@code ns}. */
    public Result in(String ns, int timeoutSeconds, String... cmd) {
        String[] full = new String[cmd.length + 4];
        full[0] = "ip";
        full[1] = "netns";
        full[2] = "exec";
        full[3] = ns;
        System.arraycopy(cmd, 0, full, 4, cmd.length);
        return run(timeoutSeconds, full);
    }

    /** Starts a command inside {@code ns} in the background. */
    public Process start(String ns, String... cmd) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        full.addAll(List.of(cmd));
        return new ProcessBuilder(full).redirectErrorStream(true).start();
    }

    /** Runs a command with a time limit; the output is stdout and stderr together. */
    public static Result run(int timeoutSeconds, String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(2, TimeUnit.SECONDS);
                return new Result(124, new String(p.getInputStream().readNBytes(1 << 16), StandardCharsets.UTF_8) + " (timed out)");
            }
            return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(127, cmd[0] + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(130, "interrupted");
        }
    }

    private static void must(Result r, String what) {
        if (!r.ok()) {
            throw new IllegalStateException(what + " failed (exit " + r.exit() + "): " + r.out().trim());
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public synchronized void close() {
        for (String ns : namespaces) {
            run(5, "ip", "netns", "pids", ns).out().lines()
                    .forEach(pid -> run(2, "kill", "-9", pid.trim()));
            run(5, "ip", "netns", "delete", ns);
        }
        namespaces.clear();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // already shutting down: this is the hook itself
        }
    }
}
