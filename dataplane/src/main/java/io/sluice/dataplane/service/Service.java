package io.sluice.dataplane.service;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.agent.PipelineFactory;
import io.sluice.dataplane.agent.Worker;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.ffi.SdNotify;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.metrics.MetricsServer;
import io.sluice.dataplane.overlay.OverlayPipeline;
import org.agrona.concurrent.status.AtomicCounter;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code ./sluice run} as a service: the data plane's life from start to exit, with one rule:
 * the process exits 0 only when asked to stop, and never runs half-dead.
 *
 * <pre>
 *   STARTING --every port started, every worker polled once--> READY --> RUNNING
 *   RUNNING --SIGTERM/SIGINT--> DRAINING --workers stopped, ports closed--> STOPPED  (exit 0)
 *   any    --worker threw / thread ended / stalled / not ready in time--> FAILED   (exit 1)
 * </pre>
 *
 * <ul>
 *   <li>The main thread waits on the {@link Lifecycle}, not on threads.</li>
 *   <li>SIGTERM and SIGINT drain (workers stop after their current burst, ports stop and close,
 *       TAP devices disappear, mbufs and EAL are freed) and exit 0; a second one exits at once
 *       (status 1).</li>
 *   <li>SIGHUP reloads ({@link ConfigReloader}, {@link RunningConfig}) and never stops the process.</li>
 *   <li>Under systemd ({@code Type=notify}): {@code READY=1} once ready, {@code STOPPING=1} when
 *       draining, {@code WATCHDOG=1} keep-alives while every worker makes progress
 *       ({@link Supervisor}).</li>
 *   <li>State, start time and config generation go to the counters file ({@code ./sluice status}).</li>
 * </ul>
 */
public final class Service {
    /** Counter labels of the control plane ({@code ./sluice status} reads them). */
    public static final String STATE = "sluice lifecycle state";
    public static final String STARTED_MS = "sluice started at ms";
    public static final String GENERATION = "sluice config generation";
    /** Owner id of the control counters (workers own 0..n-1). */
    public static final int CONTROL = -1;

    private Service() {}

    /**
     * Something that runs beside the data plane while it runs (the control API, docs/api.md):
     * started once the data plane is ready, closed when it drains or fails.
     */
    public interface Control extends AutoCloseable {
        /**
         * @param running      the reload target (generation, firewall) shared with SIGHUP reloads
         * @param workerCycles each worker's duty-cycle count (a change is in use once each moved twice)
         */
        void start(RunningConfig running, java.util.List<java.util.function.LongSupplier> workerCycles, PrintStream log) throws Exception;

        /** The data plane's hot-plug (docs/api.md), given before {@link #start}. */
        default void hotplug(io.sluice.dataplane.port.HotPlug.Plugger plugger) {}

        /** The file's own value, of which {@code running} (what the data plane started with) is a replay. */
        default SluiceConfig fromFile(SluiceConfig running) {
            return running;
        }

        @Override
        void close();
    }

    /** {@link #run(Path, SluiceConfig, Counters, PipelineFactory, FirewallState, OverlayPipeline, PrintStream, Control)} without an overlay or a control API. */
    public static int run(Path file, SluiceConfig cfg, Counters counters, PipelineFactory pipeline,
                          FirewallState firewall, PrintStream log) throws InterruptedException {
        return run(file, cfg, counters, pipeline, firewall, null, log, null);
    }

    /**
     * Runs the data plane until asked to stop or until it fails.
     *
     * @param file     the configuration file (reloaded on SIGHUP and on rename into place)
     * @param firewall the firewall state the pipeline reads, or null (no security groups)
     * @param overlay  the overlay pipeline (a reload changes VMs' public access through it), or null
     * @param control  started once ready and closed when draining (the control API), or null
     * @return the process exit status: 0 after an asked-for stop, 1 after a failure
     */
    public static int run(Path file, SluiceConfig cfg, Counters counters, PipelineFactory pipeline,
                          FirewallState firewall, OverlayPipeline overlay, PrintStream log, Control control) throws InterruptedException {
        AtomicCounter state = counters.allocate(STATE, CONTROL);
        AtomicCounter started = counters.allocate(STARTED_MS, CONTROL);
        AtomicCounter generation = counters.allocate(GENERATION, CONTROL);
        started.setRelease(System.currentTimeMillis());
        Lifecycle life = new Lifecycle(state);
        installStopSignals(life, log);
        RunningConfig running = new RunningConfig(file.toString(), control == null ? cfg : control.fromFile(cfg), cfg, firewall,
                overlay, generation);
        ConfigReloader reloader = new ConfigReloader(file, running, log);
        installReloadSignal(reloader, log);

        Dataplane dp;
        try {
            dp = Dataplane.prepare(cfg, pipeline, counters, Boolean.parseBoolean(System.getProperty("sluice.rx.meta", "false")));
        } catch (RuntimeException e) {
            reloader.close();
            life.fail("start-up failed: " + e.getMessage());
            log.println("sluice: start-up failed: " + e.getMessage());
            return 1;
        }
        AtomicInteger errors = new AtomicInteger();
        dp.onWorkerError((w, t) -> workerError(life, w, t, errors, log));
        dp.startWorkers();
        java.util.List<Supervisor.Watched> watched = new java.util.ArrayList<>();
        for (int i = 0; i < dp.workers().size(); i++) {
            Worker w = dp.workers().get(i);
            watched.add(new Supervisor.Watched(w.roleName(), w::cycles, dp.workerThreads().get(i)));
        }
        Supervisor sup = new Supervisor(watched, life, cfg.service().stallTimeoutMs() * 1_000_000L,
                Supervisor.watchdogNsFromEnv(), log);
        MetricsServer metrics = null;
        io.sluice.dataplane.debug.AdminServer admin = null;
        Housekeeping housekeeping = null;
        Lifecycle.End end;
        try {
            if (sup.awaitReady(cfg.service().readyTimeoutMs() * 1_000_000L)) {
                life.set(Lifecycle.State.READY);
                String summary = dp.ports().size() + " port(s), " + cfg.workers().size() + " worker(s) polling"; // empty hot-plug slots are none
                notifySystemd("READY=1\nSTATUS=" + summary + "\nMAINPID=" + ProcessHandle.current().pid(), log);
                log.println("sluice: ready: " + summary + ", config generation " + running.generation()
                        + "; counters: ./sluice stats " + cfg.countersFile() + "; status: ./sluice status "
                        + cfg.countersFile() + "; reload: SIGHUP; stop: SIGTERM or Ctrl-C");
                RunLog.started(log, dp, cfg);
                housekeeping = startHousekeeping(cfg, dp, log);
                life.set(Lifecycle.State.RUNNING);
                sup.start();
                metrics = startMetrics(cfg, counters, log);
                admin = startAdmin(cfg, dp, firewall, overlay, log);
                if (control != null) {
                    try {
                        control.hotplug(dp);
                        control.start(running, watched.stream().map(Supervisor.Watched::cycles).toList(), log);
                    } catch (Exception e) {
                        life.fail("control API failed to start: " + e.getMessage());
                    }
                }
            }
            end = life.awaitEnd();
            if (!end.failed()) {
                life.set(Lifecycle.State.DRAINING);
                notifySystemd("STOPPING=1", log);
                log.println("sluice: " + end.reason() + ": draining");
            } else {
                notifySystemd("STOPPING=1\nSTATUS=failed: " + end.reason(), log);
                log.println("sluice: FAILED: " + end.reason() + "; stopping (exit status 1)");
            }
        } finally {
            // the control threads stop before the workers, on every way out
            if (control != null) {
                control.close();
            }
            sup.close();
            reloader.close();
            if (housekeeping != null) {
                housekeeping.close();
            }
            if (metrics != null) {
                metrics.close();
            }
            if (admin != null) {
                admin.close();
            }
        }
        dp.close();
        if (end.failed()) {
            return 1;
        }
        if (!dp.stuckWorkers().isEmpty()) {
            life.fail(dp.stuckWorkers() + " did not stop");
            return 1;
        }
        life.set(Lifecycle.State.STOPPED);
        RunLog.stopped(log, counters, cfg, System.currentTimeMillis() - started.get());
        log.println("sluice: stopped");
        return 0;
    }

    /**
     * Keeps the threads that are not workers off the pinned workers' CPUs ({@code service.housekeeping-cpus}).
     * Called once every worker polls, so each has pinned itself (the bench drivers call it too). A
     * failure here is logged, never fatal.
     */
    public static Housekeeping startHousekeeping(SluiceConfig cfg, Dataplane dp, PrintStream log) {
        try {
            java.util.Set<Integer> tids = new java.util.HashSet<>();
            java.util.BitSet pinned = new java.util.BitSet();
            for (Worker w : dp.workers()) {
                tids.add(w.osTid());
                java.util.BitSet on = w.lcore() >= 0 ? io.sluice.dataplane.ffi.Affinity.get(w.osTid()) : null;
                if (on != null) {
                    pinned.or(on);
                }
            }
            return Housekeeping.start(cfg.service().housekeepingCpus(), tids, pinned, log);
        } catch (RuntimeException e) {
            log.println("sluice: housekeeping: " + e.getMessage() + "; other threads stay where they are");
            return null;
        }
    }

    /**
     * The Prometheus endpoint, or null when off. A port that cannot be bound is reported and the data
     * plane runs on without metrics: the packet path does not depend on them.
     */
    private static MetricsServer startMetrics(SluiceConfig cfg, Counters counters, PrintStream log) {
        if (!cfg.metrics().enabled()) {
            return null;
        }
        try {
            MetricsServer m = MetricsServer.start(cfg.metrics().host(), cfg.metrics().port(), counters);
            log.println("sluice: metrics: http://" + cfg.metrics().host() + ":" + m.port() + "/metrics");
            return m;
        } catch (java.io.IOException | RuntimeException e) {
            log.println("sluice: metrics: cannot listen on " + cfg.metrics() + " (" + e.getMessage()
                    + "); running without metrics");
            return null;
        }
    }

    /**
     * The admin socket of {@code ./sluice trace / capture / explain} (docs/operations.md), next to the
     * counters file; or null when it cannot be bound (reported; the data plane runs on without it).
     */
    private static io.sluice.dataplane.debug.AdminServer startAdmin(SluiceConfig cfg, Dataplane dp, FirewallState firewall,
                                                                   OverlayPipeline overlay, PrintStream log) {
        Path sock = io.sluice.dataplane.debug.AdminServer.socketFor(cfg.countersFile());
        try {
            io.sluice.dataplane.debug.AdminServer a = io.sluice.dataplane.debug.AdminServer.start(sock, dp.tap(), cfg.portNames(), overlay, firewall);
            a.announce(log);
            return a;
        } catch (java.io.IOException | RuntimeException e) {
            log.println("sluice: admin socket: cannot listen on " + sock + " (" + e.getMessage() + "); running without trace/capture/explain");
            return null;
        }
    }

    private static void workerError(Lifecycle life, Worker w, Throwable t, AtomicInteger errors, PrintStream log) {
        if (errors.getAndIncrement() == 0) {
            t.printStackTrace(log);
        }
        life.fail(w.roleName() + " failed: " + t);
    }

    private static void notifySystemd(String msg, PrintStream log) {
        try {
            SdNotify.notify(msg);
        } catch (IllegalStateException e) {
            log.println("sluice: " + e.getMessage());
        }
    }

    /** SIGTERM / SIGINT: first asks for a drain, a second one exits at once. */
    private static void installStopSignals(Lifecycle life, PrintStream log) {
        AtomicInteger count = new AtomicInteger();
        for (String sig : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> {
                    if (count.getAndIncrement() > 0) {
                        log.println("sluice: second signal (SIG" + s.getName() + ") while draining: exiting now");
                        log.flush();
                        io.sluice.dataplane.ffi.Eal.removeOwnRuntimeDir();
                        Runtime.getRuntime().halt(1);
                    }
                    life.requestStop("SIG" + s.getName());
                });
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                log.println("sluice: cannot handle SIG" + sig + " (" + e.getMessage() + ")");
            }
        }
    }

    private static void installReloadSignal(ConfigReloader reloader, PrintStream log) {
        try {
            // an ignored SIGHUP (nohup) would leave the handler below silently unused: reloading is what it is for here
            if (io.sluice.dataplane.ffi.SignalDisposition.unignore(io.sluice.dataplane.ffi.SignalDisposition.SIGHUP)) {
                log.println("sluice: SIGHUP was set to be ignored (started under nohup?); Sluice takes it back: SIGHUP reloads the configuration");
            }
        } catch (IllegalStateException e) {
            log.println("sluice: cannot read SIGHUP's disposition (" + e.getMessage() + ")");
        }
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), s -> reloader.request("SIGHUP"));
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            log.println("sluice: cannot handle SIGHUP (" + e.getMessage() + "); reloading on rename into place only");
        }
    }
}
