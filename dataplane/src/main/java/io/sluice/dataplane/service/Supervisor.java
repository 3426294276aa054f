package io.sluice.dataplane.service;

import io.sluice.dataplane.ffi.SdNotify;

import java.io.PrintStream;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Watches the workers of a running data plane from a control thread and ends the
 * {@link Lifecycle} when one of them is no longer doing its job:
 * <ul>
 *   <li>its thread ended while the data plane should run ("worker W thread ended");</li>
 *   <li>its duty-cycle count ({@code Worker#cycles()}) did not move for {@code stallNs}
 *       ("worker W made no progress for N ms"): a worker blocked in a stage, in a native call or
 *       in an endless loop.</li>
 * </ul>
 * A half-dead data plane must not keep running: the failure stops the process with a non-zero
 * status, and systemd's {@code Restart=on-failure} starts it again.
 *
 * <p>Under systemd with {@code WatchdogSec=} ({@code $WATCHDOG_USEC} set), it also sends
 * {@code WATCHDOG=1} every half period, but only while every worker made progress since the last
 * keep-alive: a stalled worker stops the pings, so systemd notices even if this thread's own
 * check were somehow not to fire.
 *
 * <p>The checks read only what workers publish for anyone (an opaque read of their cycle count,
 * their thread's liveness): nothing a worker waits on.
 */
public final class Supervisor implements AutoCloseable {
    /** How often the checks run. */
    static final long TICK_MS = 50;

    /** What the supervisor sees of one worker: its name, its duty-cycle count (any thread may read it), its thread. */
    public record Watched(String name, LongSupplier cycles, Thread thread) {}

    private final List<Watched> workers;
    private final Lifecycle lifecycle;
    private final long stallNs;
    private final long watchdogNs;
    private final PrintStream log;
    private final LongSupplier clock;
    private final java.util.function.Predicate<String> notifier;
    private final long[] lastCycles;
    private final long[] lastProgressNs;
    private final long[] cyclesAtPing;
    private long lastPingNs;
    private Thread thread;
    private volatile boolean running = true;

    /**
     * @param workers    the workers, in order
     * @param stallNs    a worker whose cycle count stays still this long has stalled
     * @param watchdogNs systemd's watchdog period ({@code WATCHDOG_USEC} in ns), or 0: no keep-alives
     */
    public Supervisor(List<Watched> workers, Lifecycle lifecycle, long stallNs, long watchdogNs, PrintStream log) {
        this(workers, lifecycle, stallNs, watchdogNs, log, System::nanoTime, SdNotify::notify);
    }

    /** As above, with the clock and the keep-alive sender given (tests). */
    Supervisor(List<Watched> workers, Lifecycle lifecycle, long stallNs, long watchdogNs, PrintStream log,
               LongSupplier clock, java.util.function.Predicate<String> notifier) {
        this.workers = List.copyOf(workers);
        this.notifier = notifier;
        this.lifecycle = lifecycle;
        this.stallNs = stallNs;
        this.watchdogNs = watchdogNs;
        this.log = log;
        this.clock = clock;
        int n = workers.size();
        this.lastCycles = new long[n];
        this.lastProgressNs = new long[n];
        this.cyclesAtPing = new long[n];
    }

    /** systemd's watchdog period in ns from {@code $WATCHDOG_USEC} (0 when absent or meant for another process). */
    public static long watchdogNsFromEnv() {
        String usec = System.getenv("WATCHDOG_USEC");
        String pid = System.getenv("WATCHDOG_PID");
        if (usec == null || usec.isBlank()) {
            return 0;
        }
        if (pid != null && !pid.isBlank() && !pid.trim().equals(Long.toString(ProcessHandle.current().pid()))) {
            return 0;
        }
        try {
            return Math.max(0, Long.parseLong(usec.trim()) * 1000L);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * Waits until every worker has run at least one duty cycle (it polls its queues): the
     * data plane is then ready. Fails the lifecycle when a worker's thread ends first, or after
     * {@code timeoutNs}.
     *
     * @return true when ready; false when the lifecycle ended (failure or stop asked) first
     */
    public boolean awaitReady(long timeoutNs) throws InterruptedException {
        long start = clock.getAsLong();
        while (!lifecycle.ending()) {
            int polling = 0;
            for (int i = 0; i < workers.size(); i++) {
                Watched w = workers.get(i);
                if (w.cycles().getAsLong() > 0) {
                    polling++;
                } else if (!w.thread().isAlive() && threadStarted(w.thread())) {
                    lifecycle.fail(w.name() + " ended before it polled its first burst");
                    return false;
                }
            }
            if (polling == workers.size()) {
                long now = clock.getAsLong();
                for (int i = 0; i < workers.size(); i++) {
                    lastCycles[i] = workers.get(i).cycles().getAsLong();
                    lastProgressNs[i] = now;
                    cyclesAtPing[i] = lastCycles[i];
                }
                lastPingNs = now;
                return true;
            }
            if (clock.getAsLong() - start > timeoutNs) {
                lifecycle.fail("not ready after " + timeoutNs / 1_000_000 + " ms: " + (workers.size() - polling)
                        + " of " + workers.size() + " worker(s) never polled");
                return false;
            }
            Thread.sleep(5);
        }
        return false;
    }

    private static boolean threadStarted(Thread t) {
        return t.getState() != Thread.State.NEW;
    }

    /** Starts the checks on their own (daemon) thread. Call after {@link #awaitReady}. */
    public void start() {
        thread = new Thread(this::loop, "sluice-supervisor");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        while (running && !lifecycle.ending()) {
            try {
                Thread.sleep(TICK_MS);
            } catch (InterruptedException e) {
                return;
            }
            if (running) {
                check();
            }
        }
    }

    /**
     * One round of checks at the clock's current time.
     *
     * @return null when every worker is fine, else the failure (also given to the lifecycle)
     */
    String check() {
        long now = clock.getAsLong();
        boolean allSincePing = true;
        for (int i = 0; i < workers.size(); i++) {
            Watched w = workers.get(i);
            if (!w.thread().isAlive()) {
                return failed(w.name() + " thread ended while the data plane was running");
            }
            long c = w.cycles().getAsLong();
            if (c != lastCycles[i]) {
                lastCycles[i] = c;
                lastProgressNs[i] = now;
            } else if (now - lastProgressNs[i] > stallNs) {
                return failed(w.name() + " made no progress for " + (now - lastProgressNs[i]) / 1_000_000
                        + " ms (duty cycles stuck at " + c + "; stall timeout " + stallNs / 1_000_000 + " ms)");
            }
            if (c == cyclesAtPing[i]) {
                allSincePing = false;
            }
        }
        if (watchdogNs > 0 && now - lastPingNs >= watchdogNs / 2 && allSincePing) {
            for (int i = 0; i < workers.size(); i++) {
                cyclesAtPing[i] = lastCycles[i];
            }
            lastPingNs = now;
            try {
                notifier.test("WATCHDOG=1");
            } catch (IllegalStateException e) {
                log.println("sluice: " + e.getMessage());
            }
        }
        return null;
    }

    private String failed(String why) {
        lifecycle.fail(why);
        return why;
    }

    @Override
    public void close() {
        running = false;
        if (thread != null) {
            thread.interrupt();
        }
    }
}
