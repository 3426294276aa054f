package io.sluice.dataplane.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Real QEMU guests on vhost-user sockets (docs/vms.md): the guest {@code bench/vm/build-guest.sh}
 * builds (Debian kernel, busybox initramfs with ip, ping, ethtool, iperf3), booted by QEMU's software
 * emulation (TCG; {@code /dev/kvm} here cannot run it), with QEMU as the vhost-user socket server
 * ({@code server=on}) and Sluice's {@code net_vhost} port as the client. Each guest's serial console
 * is QEMU's stdin/stdout: the guest's {@code /init} (role {@code console}) runs a shell without echo
 * there, and {@link Guest#exec} writes a command line and reads its output up to a marker carrying
 * its exit status. Every QEMU this starts is killed by {@link #close()} (also from a shutdown hook),
 * and its socket removed.
 */
public final class Guests implements AutoCloseable {
    /** The outcome of one command in a guest. */
    public record Result(int exit, String out) {
        public boolean ok() { return exit == 0; }
    }

    private final Path image;
    private final Path logDir;
    private final List<Guest> guests = new ArrayList<>();
    private final Thread hook = new Thread(this::close, "sluice-guests-cleanup");

    private Guests(Path image, Path logDir) {
        this.image = image;
        this.logDir = logDir;
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** The repository root: {@code sluice.home} (the launcher sets it), else the first parent holding bench/vm. */
    public static Path home() {
        String h = System.getProperty("sluice.home");
        if (h != null) return Path.of(h);
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("bench/vm/build-guest.sh"))) return p;
        }
        throw new IllegalStateException("cannot find bench/vm/build-guest.sh (set -Dsluice.home=REPO)");
    }

    /**
     * Builds (or finds cached) the guest image with {@code bench/vm/build-guest.sh} under the
     * repository {@code home} and returns a guest launcher logging each console to {@code logDir}.
     */
    public static Guests open(Path home, Path logDir) throws IOException, InterruptedException {
        Path script = home.resolve("bench/vm/build-guest.sh");
        if (!Files.isExecutable(script)) {
            throw new IllegalStateException("guest build script missing: " + script);
        }
        Process p = new ProcessBuilder(script.toString()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("bench/vm/build-guest.sh failed: " + out);
        }
        String[] lines = out.strip().split("\n");
        Path image = Path.of(lines[lines.length - 1].strip());
        Files.createDirectories(logDir);
        return new Guests(image, logDir);
    }

    /** Where the QEMU command lines and console logs go. */
    public Path logDir() {
        return logDir;
    }

    /**
     * Starts a guest whose virtio-net device is the vhost-user server on {@code socket} (QEMU waits
     * there until the data plane's client connects), with MAC {@code mac}, address {@code cidr} and
     * default route {@code gateway}. Returns at once; {@link Guest#awaitReady} waits for the boot.
     */
    public synchronized Guest start(String name, Path socket, String mac, String cidr, String gateway) throws IOException {
        Guest g = new Guest(name, socket, mac, cidr, gateway);
        guests.add(g);
        g.launch();
        return g;
    }

    /** One QEMU guest. */
    public final class Guest {
        private final String name;
        private final Path socket;
        private final String mac, cidr, gateway;
        private volatile Process qemu;
        private OutputStream stdin;
        private final StringBuilder console = new StringBuilder();
        private int seq;
        private int boots;

        Guest(String name, Path socket, String mac, String cidr, String gateway) {
            this.name = name;
            this.socket = socket;
            this.mac = mac;
            this.cidr = cidr;
            this.gateway = gateway;
        }

        public String name() { return name; }

        public String ip() { return cidr.substring(0, cidr.indexOf('/')); }

        public String mac() { return mac; }

        /** QEMU's command line for this guest. */
        List<String> command() {
            return List.of("qemu-system-x86_64", "-accel", "tcg", "-cpu", "qemu64", "-m", "256", "-smp", "1",
                    "-display", "none", "-monitor", "none", "-serial", "stdio",
                    "-kernel", image.resolve("vmlinux").toString(), "-initrd", image.resolve("initramfs.gz").toString(),
                    "-append", "console=ttyS0 quiet panic=-1 vkg_role=console vkg_ip=" + cidr + (gateway == null ? "" : " vkg_gw=" + gateway),
                    "-object", "memory-backend-memfd,id=mem,size=256M,share=on", "-numa", "node,memdev=mem",
                    "-chardev", "socket,id=c0,path=" + socket + ",server=on,wait=off",
                    "-netdev", "vhost-user,id=n0,chardev=c0",
                    // INTx: QEMU 7.2 with TCG + vhost-user + MSI-X crashes (the recipe's pitfall 2)
                    "-device", "virtio-net-pci,netdev=n0,mac=" + mac + ",vectors=0");
        }

        synchronized void launch() throws IOException {
            boots++;
            Path log = logDir.resolve(name + "-" + boots + ".log");
            Files.writeString(logDir.resolve(name + ".cmd"), String.join(" ", command()) + "\n");
            synchronized (console) {
                console.setLength(0);
            }
            Process p = new ProcessBuilder(command()).redirectErrorStream(true).start();
            qemu = p;
            stdin = p.getOutputStream();
            Thread reader = new Thread(() -> pump(p.getInputStream(), log), "guest-" + name + "-console");
            reader.setDaemon(true);
            reader.start();
        }

        private void pump(InputStream in, Path log) {
            byte[] buf = new byte[4096];
            try (OutputStream file = Files.newOutputStream(log)) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    file.write(buf, 0, n);
                    file.flush();
                    String s = new String(buf, 0, n, StandardCharsets.UTF_8).replace("\r", "");
                    synchronized (console) {
                        console.append(s);
                        console.notifyAll();
                    }
                }
            } catch (IOException ignored) {
                // QEMU ended
            }
        }

        /** Waits until the guest's /init says READY (eth0 configured); false when it did not within the time. */
        public boolean awaitReady(int timeoutSeconds) {
            return await(Pattern.compile("vkg: READY"), 0, timeoutSeconds) != null;
        }

        private Matcher await(Pattern p, int from, int timeoutSeconds) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
            synchronized (console) {
                while (true) {
                    Matcher m = p.matcher(console);
                    if (m.find(Math.min(from, console.length()))) return m;
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || !qemu.isAlive()) return null;
                    try {
                        console.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return null;
                    }
                }
            }
        }

        /**
         * Runs one shell command line in the guest and returns its exit status and output; exit
         * 124 when it did not finish within {@code timeoutSeconds} (it is then interrupted).
         */
        public synchronized Result exec(int timeoutSeconds, String command) {
            int n = ++seq;
            int from;
            synchronized (console) {
                from = console.length();
            }
            String marker = "@@" + n + "@@";
            try {
                stdin.write((command + "; echo \"" + marker + "$?\"\n").getBytes(StandardCharsets.UTF_8));
                stdin.flush();
            } catch (IOException e) {
                return new Result(127, name + ": console closed: " + e.getMessage());
            }
            Matcher m = await(Pattern.compile(Pattern.quote(marker) + "(\\d+)"), from, timeoutSeconds);
            String out;
            synchronized (console) {
                out = console.substring(Math.min(from, console.length()), m == null ? console.length() : m.start());
            }
            if (m == null) {
                try {
                    stdin.write(3); // ^C to the foreground command (no job control: best effort)
                    stdin.flush();
                } catch (IOException ignored) {
                    // gone
                }
                return new Result(124, out + " (timed out)");
            }
            return new Result(Integer.parseInt(m.group(1)), out);
        }

        /**
         * Reboots the guest from inside ({@code reboot -f}: the kernel resets the machine, QEMU stays,
         * the virtio-net device is reset and set up again over the same vhost-user connection) and
         * waits until it is READY again; false when it was not within {@code timeoutSeconds}.
         */
        public synchronized boolean reboot(int timeoutSeconds) {
            int from;
            synchronized (console) {
                from = console.length();
            }
            try {
                stdin.write("reboot -f\n".getBytes(StandardCharsets.UTF_8));
                stdin.flush();
            } catch (IOException e) {
                return false;
            }
            return await(Pattern.compile("vkg: READY"), from, timeoutSeconds) != null;
        }

        /** Starts a command in the guest's background (its output goes to the console). */
        public Result background(String command) {
            return exec(10, "(" + command + ") >/dev/null 2>&1 & true");
        }

        /** Kills this guest's QEMU at once (as a crash or an operator's kill -9 would). */
        public void kill() {
            Process q = qemu;
            if (q != null) {
                q.destroyForcibly();
                try {
                    q.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        /** Starts QEMU again with the same command line (the same vhost-user socket path). */
        public synchronized void restart() throws IOException {
            kill();
            launch();
        }

        public boolean alive() {
            return qemu != null && qemu.isAlive();
        }

        /** QEMU's pid (for CPU accounting), or -1. */
        public long pid() {
            return qemu == null ? -1 : qemu.pid();
        }
    }

    @Override
    public synchronized void close() {
        for (Guest g : guests) {
            g.kill();
            try {
                Files.deleteIfExists(g.socket);
            } catch (IOException ignored) {
                // best effort
            }
        }
        guests.clear();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException ignored) {
            // already shutting down: this is the hook itself
        }
    }
}
