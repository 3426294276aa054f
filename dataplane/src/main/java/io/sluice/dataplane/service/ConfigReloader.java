package io.sluice.dataplane.service;

import io.sluice.dataplane.config.ConfigException;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Reloads the configuration file of {@code ./sluice run} when asked, on its own thread:
 * <ul>
 *   <li><b>SIGHUP</b> ({@link #request}): always; the file is read until two reads 50 ms apart
 *       agree, then applied.</li>
 *   <li><b>Rename into place</b> (inotify through {@link WatchService}: the file's name appears
 *       in its directory, as {@code mv new.yaml sluice.yaml} or an editor's atomic save makes it):
 *       applied automatically. A rename is atomic, so the reader sees the old file or the new one
 *       whole.</li>
 *   <li><b>Written in place</b> (the file's contents modified): never applied automatically,
 *       because a reader can meet a half-written file that still parses. It is logged, with the
 *       safe way to edit; SIGHUP applies it once the write is done.</li>
 * </ul>
 * The text read is handed to a {@link Target} once: it parses and validates it whole before it
 * changes anything, and applies it atomically. Any error, expected ({@link ConfigException}) or
 * not (any other exception), is logged and changes nothing; reloading goes on.
 */
public final class ConfigReloader implements AutoCloseable {
    /** What a reload applies to: the running data plane. */
    @FunctionalInterface
    public interface Target {
        /**
         * Parses and validates {@code text} whole, then applies what can change at run time.
         *
         * @return a one-line summary of what was applied and what needs a restart
         * @throws ConfigException naming file, line and key when the text is invalid (nothing changed)
         */
        String apply(String text) throws ConfigException;
    }

    /** Pause between the reads that must agree. */
    static final long SETTLE_MS = 50;
    /** Reads tried before a file that keeps changing is given up on. */
    static final int MAX_READS = 40;

    private final Path file;
    private final Target target;
    private final PrintStream log;
    private final AtomicReference<String> requested = new AtomicReference<>();
    private final WatchService watch;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long reloads;
    private volatile long failures;

    public ConfigReloader(Path file, Target target, PrintStream log) {
        this.file = file.toAbsolutePath();
        this.target = target;
        this.log = log;
        WatchService ws = null;
        try {
            ws = FileSystems.getDefault().newWatchService();
            this.file.getParent().register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
        } catch (IOException | UnsupportedOperationException e) {
            log.println("sluice: cannot watch " + this.file.getParent() + " (" + e.getMessage() + "); reloading on SIGHUP only");
            ws = null;
        }
        this.watch = ws;
        this.thread = new Thread(this::loop, "sluice-reload");
        thread.setDaemon(true);
        thread.start();
    }

    /** Asks for a reload (the SIGHUP handler calls this); the reload runs on the reloader's thread. */
    public void request(String why) {
        requested.set(why);
        synchronized (requested) {
            requested.notifyAll();
        }
    }

    /** Reloads attempted so far (applied or refused). */
    public long reloads() {
        return reloads;
    }

    /** Reloads that failed with an error so far. */
    public long failures() {
        return failures;
    }

    private void loop() {
        while (running) {
            try {
                String why = awaitTrigger();
                if (why != null) {
                    reloadNow(why);
                }
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            } catch (Throwable t) { // NOSONAR: a reload must never end reloading
                log.println("sluice: reload loop error (" + t + "); reloading goes on");
            }
        }
    }

    /** Waits up to 100 ms for SIGHUP or a file event; returns the reason to reload, or null. */
    private String awaitTrigger() throws InterruptedException {
        String why = requested.getAndSet(null);
        if (why != null) {
            return why;
        }
        if (watch == null) {
            synchronized (requested) {
                if (requested.get() == null) {
                    requested.wait(100);
                }
            }
            return requested.getAndSet(null);
        }
        WatchKey key = watch.poll(100, TimeUnit.MILLISECONDS);
        if (key == null) {
            return requested.getAndSet(null);
        }
        boolean renamed = false;
        boolean modified = false;
        do {
            for (WatchEvent<?> e : key.pollEvents()) {
                if (e.context() instanceof Path p && p.getFileName().equals(file.getFileName())) {
                    if (e.kind() == StandardWatchEventKinds.ENTRY_CREATE) {
                        renamed = true;
                    } else if (e.kind() == StandardWatchEventKinds.ENTRY_MODIFY) {
                        modified = true;
                    }
                }
            }
            key.reset();
            key = watch.poll(SETTLE_MS, TimeUnit.MILLISECONDS); // events of one save come together
        } while (key != null);
        why = requested.getAndSet(null);
        if (why != null) {
            return why;
        }
        if (renamed) {
            return "file renamed into place";
        }
        if (modified) {
            log.println("sluice: " + file + " was changed in place: not applied (a reader could meet it half-written);"
                    + " write a new file and rename it over this one, or send SIGHUP when the write is done");
        }
        return null;
    }

    /**
     * Reads the file until two reads agree and applies it; any error is logged.
     *
     * @return true when the target accepted the text
     */
    public boolean reloadNow(String why) {
        reloads++;
        try {
            String text = readStable();
            String summary = target.apply(text);
            log.println("sluice: reload (" + why + "): " + summary);
            return true;
        } catch (ConfigException e) {
            failures++;
            log.println("sluice: reload (" + why + ") refused, nothing changed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception | LinkageError | AssertionError e) {
            failures++;
            log.println("sluice: reload (" + why + ") failed, nothing changed: " + e + "; reloading goes on");
            e.printStackTrace(log);
        }
        return false;
    }

    private String readStable() throws ConfigException, InterruptedException {
        byte[] prev = read();
        for (int i = 0; i < MAX_READS; i++) {
            Thread.sleep(SETTLE_MS);
            byte[] cur = read();
            if (Arrays.equals(prev, cur)) {
                return new String(cur, java.nio.charset.StandardCharsets.UTF_8);
            }
            prev = cur;
        }
        throw new ConfigException(file + ": still changing after " + MAX_READS * SETTLE_MS + " ms; not applied");
    }

    private byte[] read() throws ConfigException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read configuration file: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        if (watch != null) {
            try {
                watch.close();
            } catch (IOException ignored) {
                // closing only
            }
        }
    }
}
