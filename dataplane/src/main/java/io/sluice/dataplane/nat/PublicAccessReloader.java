package io.sluice.dataplane.nat;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.overlay.OverlayPipeline;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Public-access changes for {@code ./sluice run} (docs/nat.md, "Changes at runtime"): when the
 * configuration file's modification time changes (polled once a second), re-reads and validates the
 * whole file and applies its VMs' public access through {@link OverlayPipeline#applyPublicAccess}
 * (associate, reassign, release a floating IP; switch a VM between floating IP, outbound only and
 * private). A file that does not load, or that changes anything else in the overlay, changes nothing;
 * the error is printed. Started by {@link OverlayPipeline#factory} when the data plane has NAT and
 * its configuration is a file. (SIGHUP stays with the security groups' reloader.)
 */
public final class PublicAccessReloader implements AutoCloseable {
    private final Path file;
    private final OverlayPipeline pipeline;
    private final PrintStream log;
    private final Thread thread;
    private volatile boolean running = true;
    private long lastModified;

    public PublicAccessReloader(Path file, OverlayPipeline pipeline, PrintStream log) {
        this.file = file;
        this.pipeline = pipeline;
        this.log = log;
        this.lastModified = mtime();
        thread = new Thread(this::loop, "sluice-nat-reload");
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
            if (m != lastModified) {
                lastModified = m;
                reload();
            }
        }
    }

    /** Reloads now; true when the file's public access was applied. */
    public boolean reload() {
        try {
            SluiceConfig next = ConfigLoader.load(file);
            if (next.overlay() == null) throw new IllegalArgumentException("no 'overlay' section any more");
            pipeline.applyPublicAccess(next.overlay());
            log.println("sluice: public access reloaded from " + file);
            return true;
        } catch (ConfigException | IllegalArgumentException e) {
            log.println("sluice: public access reload refused, nothing changed: " + e.getMessage());
            return false;
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
