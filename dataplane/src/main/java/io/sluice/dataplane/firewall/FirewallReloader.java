package io.sluice.dataplane.firewall;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.SluiceConfig;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Rule changes for {@code ./sluice run}: re-reads the configuration file's
 * {@code security-groups} section on SIGHUP and when the file's modification time changes
 * (polled once a second), and applies it through {@link FirewallState#apply}. A file that does
 * not parse or compile changes nothing; the error is printed. Only the security-groups section
 * is reloaded (ports, MAC table, ARP need a restart).
 */
public final class FirewallReloader implements AutoCloseable {
    private final Path file;
    private final SluiceConfig cfg;
    private final FirewallState state;
    private final PrintStream log;
    private final AtomicBoolean hup = new AtomicBoolean();
    private final Thread thread;
    private volatile boolean running = true;
    private long lastModified;

    public FirewallReloader(Path file, SluiceConfig cfg, FirewallState state, PrintStream log) {
        this.file = file;
        this.cfg = cfg;
        this.state = state;
        this.log = log;
        this.lastModified = mtime();
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), s -> hup.set(true));
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            log.println("sluice: SIGHUP not available (" + e.getMessage() + "); reloading on file change only");
        }
        thread = new Thread(this::loop, "sluice-firewall-reload");
        thread.setDaemon(true);
        thread.start();
    }

    private long mtime() {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    private void loop() {
        while (running) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            long m = mtime();
            boolean signalled = hup.getAndSet(false);
            if (signalled || m != lastModified) {
                lastModified = m;
                reload(signalled ? "SIGHUP" : "file changed");
            }
        }
    }

    /** Reloads now; returns true when the new rules were applied. */
    public boolean reload(String why) {
        try {
            FirewallConfig next = FirewallConfigLoader.load(file, cfg);
            if (next == null) {
                log.println("sluice: " + file + ": no security-groups section any more; keeping the current rules (" + why + ")");
                return false;
            }
            state.apply(next);
            log.println("sluice: security groups reloaded (" + why + "): epoch " + state.current().epoch()
                    + ", " + state.lastRebuiltPartitions() + " partition(s) rebuilt, " + state.lastUnchangedLists()
                    + " list(s) unchanged, " + state.lastApplyNanos() / 1000 + " us");
            return true;
        } catch (ConfigException | IllegalArgumentException e) {
            log.println("sluice: reload refused, rules unchanged: " + e.getMessage());
            return false;
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
