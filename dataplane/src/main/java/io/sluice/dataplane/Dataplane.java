package io.sluice.dataplane;

import io.sluice.dataplane.agent.IdleStrategies;
import io.sluice.dataplane.agent.PipelineFactory;
import io.sluice.dataplane.agent.Worker;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.config.WorkerSpec;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.counters.WorkerCounters;
import io.sluice.dataplane.ffi.Dpdk;
import io.sluice.dataplane.ffi.Eal;
import io.sluice.dataplane.ffi.Shim;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.port.Port;
import io.sluice.dataplane.port.Ports;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.IdleStrategy;

import java.util.ArrayList;
import java.util.List;

/**
 * The running data plane: EAL, the mbuf pool, the ports and one polling worker per
 * {@link WorkerSpec}. Start it with {@link #start}; stop it with {@link #close()} (also run by a
 * shutdown hook on SIGINT/SIGTERM): workers stop, ports stop and close (TAP devices disappear),
 * the pool is freed, {@code rte_eal_cleanup} runs. EAL starts once per process, so a process
 * runs at most one data plane.
 *
 * <p>EAL arguments: {@code "sluice"}, then {@link SluiceConfig#eal()} (plus
 * {@code --file-prefix sluice<pid>} when it names none), then one {@code --vdev}
 * (or {@code -a} for PCI) per port. Port index = position in {@link SluiceConfig#ports()}.
 *
 * <p>Tuning by system property: {@code sluice.rx.meta} (default false: measured faster, see docs/ffi.md) chooses how a worker
 * learns frame address and length (one native call for the burst vs reading mbuf fields from Java).
 */
public final class Dataplane implements AutoCloseable, io.sluice.dataplane.port.HotPlug.Plugger {
    private final SluiceConfig config;
    private final long pool;
    /** Port per index (an empty hot-plug slot has port id -1); replaced by {@link #plug} / {@link #unplug} under this object's monitor. */
    private final Port[] ports;
    /** The workers' port set (hot-plug publishes a new one). */
    private final io.sluice.dataplane.agent.PortSet.Board portBoard;
    private final List<Worker> workers;
    private final List<AgentRunner> runners;
    private final Thread shutdownHook;
    /** The worker threads, as {@link #startWorkers()} made them (empty before). */
    private final List<Thread> threads = new ArrayList<>();
    /** Told when a worker throws (see {@link #onWorkerError}); by default the error is printed. */
    private volatile WorkerErrorListener errorListener = (w, t) -> {
        System.err.println("sluice: " + w.roleName() + ": " + t);
        t.printStackTrace();
    };
    private boolean closed;
    private boolean workersStarted;
    /** Trace and capture of this data plane's workers (issue 14). */
    private io.sluice.dataplane.debug.Tap tap;
    /** Names of workers whose thread did not stop when asked (see {@link #stopWorkers()}). */
    private final List<String> stuck = new ArrayList<>();
    /** The counters (the link monitor adds its own). */
    private Counters counters;
    /** Link state of vhost-user / memif ports in the counters (docs/vms.md); null when there is none. */
    private io.sluice.dataplane.port.LinkMonitor linkMonitor;

    /** Told when a worker's duty cycle (or its start) throws. Called on the worker's thread. */
    @FunctionalInterface
    public interface WorkerErrorListener {
        void onError(Worker worker, Throwable error);
    }

    /** How long {@link #stopWorkers()} waits for one worker thread to end. */
    static final int STOP_TIMEOUT_MS = 2000;

    private Dataplane(SluiceConfig config, long pool, List<Port> ports, List<Worker> workers,
                      List<AgentRunner> runners, io.sluice.dataplane.agent.PortSet.Board portBoard) {
        this.config = config;
        this.pool = pool;
        this.ports = ports.toArray(new Port[0]);
        this.portBoard = portBoard;
        this.workers = workers;
        this.runners = runners;
        this.shutdownHook = new Thread(this::close, "sluice-shutdown");
    }

    /** Starts with the default tuning (see class comment). */
    public static Dataplane start(SluiceConfig cfg, PipelineFactory pipeline, Counters counters) {
        return start(cfg, pipeline, counters, Boolean.parseBoolean(System.getProperty("sluice.rx.meta", "false")));
    }

    /**
     * Starts EAL, the pool, the ports and the workers.
     *
     * @throws IllegalStateException (or {@link Dpdk.DpdkException}) naming what failed; what was
     *                               started is stopped again, except EAL itself (once per process)
     */
    public static Dataplane start(SluiceConfig cfg, PipelineFactory pipeline, Counters counters, boolean rxMeta) {
        return prepare(cfg, pipeline, counters, rxMeta).startWorkers();
    }

    /**
     * Everything {@link #start} does except starting the worker threads (benchmarks prepare the
     * mbufs in between); call {@link #startWorkers()} next, or {@link #close()}.
     */
    public static Dataplane prepare(SluiceConfig cfg, PipelineFactory pipeline, Counters counters, boolean rxMeta) {
        IdleStrategies.parse(cfg.idleStrategy()); // fail before touching anything
        List<String> argv = new ArrayList<>();
        argv.add("sluice");
        argv.addAll(cfg.eal());
        if (!cfg.eal().contains("--file-prefix") && cfg.eal().stream().noneMatch(a -> a.startsWith("--file-prefix="))) {
            // two EAL processes must not share a runtime directory: default to one per process
            argv.add("--file-prefix");
            argv.add(Eal.uniquePrefix("sluice"));
        }
        argv.addAll(Ports.ealArgs(cfg.ports()));
        Eal.init(argv);

        long pool = 0;
        io.sluice.dataplane.debug.Tap tap = null;
        List<Port> ports = List.of();
        List<Worker> workers = new ArrayList<>();
        io.sluice.dataplane.agent.PortSet.Board board = null;
        try {
            int cache = cfg.mbufs() >= 8192 ? 256 : Math.max(0, Math.min(64, cfg.mbufs() / 16));
            pool = Shim.pktmbufPoolCreate("sluice_mbufs", cfg.mbufs(), cache, 2048 + 128, -1);
            if (pool == 0) {
                int e = Shim.rteErrno();
                throw new Dpdk.DpdkException("cannot create the mbuf pool (" + cfg.mbufs() + " mbufs): "
                        + Shim.strerror(e) + " (with --no-huge give EAL -m 1024 or more)", e);
            }
            int n = cfg.ports().size();
            int[] rxNeeded = new int[n];
            int[] txNeeded = new int[n];
            for (WorkerSpec w : cfg.workers()) {
                for (WorkerSpec.RxQueue q : w.rxQueues()) {
                    if (q.port() < 0 || q.port() >= n) {
                        throw new IllegalStateException("worker on lcore " + w.lcore() + " polls port index " + q.port()
                                + " but there are " + n + " ports");
                    }
                    rxNeeded[q.port()] = Math.max(rxNeeded[q.port()], q.queue() + 1);
                }
                for (int p = 0; p < n; p++) {
                    txNeeded[p] = Math.max(txNeeded[p], w.txQueue() + 1);
                }
            }
            ports = Ports.openAll(cfg.ports(), pool, rxNeeded, txNeeded);
            int[] portIds = ports.stream().mapToInt(Port::portId).toArray();
            // hot-plug slots filled by the journal's replay are ports at start: their queue 0 goes to one worker
            int[][] rxPorts = new int[cfg.workers().size()][];
            int[][] rxQueues = new int[cfg.workers().size()][];
            for (int i = 0; i < rxPorts.length; i++) {
                List<WorkerSpec.RxQueue> qs = new ArrayList<>(cfg.workers().get(i).rxQueues());
                for (int p = 0; p < n; p++) {
                    io.sluice.dataplane.config.PortSpec ps = cfg.ports().get(p);
                    if (io.sluice.dataplane.port.HotPlug.isSlot(ps) && !ps.devargs().isEmpty() && slotWorker(ps, rxPorts.length) == i) {
                        qs.add(new WorkerSpec.RxQueue(p, 0));
                    }
                }
                rxPorts[i] = qs.stream().mapToInt(WorkerSpec.RxQueue::port).toArray();
                rxQueues[i] = qs.stream().mapToInt(WorkerSpec.RxQueue::queue).toArray();
            }
            board = new io.sluice.dataplane.agent.PortSet.Board(io.sluice.dataplane.agent.PortSet.of(portIds, rxPorts, rxQueues));
            tap = new io.sluice.dataplane.debug.Tap(cfg.workers().size());
            List<String> portNames = cfg.portNames();

            for (int i = 0; i < cfg.workers().size(); i++) {
                WorkerSpec w = cfg.workers().get(i);
                Stage[] stages = pipeline.stages(cfg, i);
                List<String> stageNames = new ArrayList<>();
                for (Stage s : stages) {
                    stageNames.add(s.name());
                }
                boolean handoff = java.util.Arrays.stream(stages).anyMatch(s -> s instanceof io.sluice.dataplane.handoff.SteerStage);
                WorkerCounters wc = counters.worker(i, portNames, stageNames, handoff);
                workers.add(new Worker(i, w.lcore(), rxPorts[i], rxQueues[i], w.txQueue(), portIds, stages, wc, cfg.burstSize(), rxMeta));
                workers.get(i).ports(board);
                workers.get(i).tap(tap);
                tap.exportLost(i, counters);
                tap.stages(i, stageNames);
            }
        } catch (RuntimeException e) {
            Ports.stopAndClose(ports);
            if (pool != 0) {
                Shim.mempoolFree(pool);
            }
            Eal.cleanup();
            throw e;
        }

        List<AgentRunner> runners = new ArrayList<>();
        Dataplane dp = new Dataplane(cfg, pool, ports, workers, runners, board);
        dp.tap = tap;
        dp.counters = counters;
        for (Worker w : workers) {
            IdleStrategy idle = IdleStrategies.parse(cfg.idleStrategy());
            runners.add(new AgentRunner(idle, t -> dp.errorListener.onError(w, t), null, w));
        }
        Runtime.getRuntime().addShutdownHook(dp.shutdownHook);
        return dp;
    }

    /** Starts the worker threads of a {@link #prepare prepared} data plane. Once. */
    public synchronized Dataplane startWorkers() {
        if (closed || workersStarted) {
            throw new IllegalStateException(closed ? "data plane closed" : "workers already started");
        }
        workersStarted = true;
        linkMonitor = io.sluice.dataplane.port.LinkMonitor.start(counters, this::ports,
                config.ports().stream().anyMatch(io.sluice.dataplane.port.HotPlug::isSlot));
        for (AgentRunner r : runners) {
            AgentRunner.startOnThread(r, task -> {
                Thread t = new Thread(task);
                t.setName(r.agent().roleName());
                threads.add(t);
                return t;
            });
        }
        return this;
    }

    /** Replaces what happens when a worker throws (default: print it). Set it before {@link #startWorkers()}. */
    public void onWorkerError(WorkerErrorListener listener) {
        this.errorListener = listener;
    }

    /** The worker threads (empty before {@link #startWorkers()}), in worker order. */
    public synchronized List<Thread> workerThreads() {
        return List.copyOf(threads);
    }

    public SluiceConfig config() {
        return config;
    }

    /** The ports with a device, in index order (an empty hot-plug slot is not among them). */
    public synchronized List<Port> ports() {
        List<Port> out = new ArrayList<>();
        for (Port p : ports) if (p.portId() >= 0) out.add(p);
        return out;
    }

    /** The worker that polls hot-plug slot {@code s}: slot number modulo the workers. */
    private static int slotWorker(io.sluice.dataplane.config.PortSpec s, int workers) {
        return io.sluice.dataplane.port.HotPlug.number(s) % workers;
    }

    /** The workers' current port set. */
    public io.sluice.dataplane.agent.PortSet portSet() {
        return portBoard.current();
    }

    /**
     * Hot-plug (docs/api.md): creates {@code spec}'s device, configures and starts it as port
     * {@code index} (a hot-plug slot), publishes a port set in which one worker polls it and every
     * worker may send to it, and returns once every worker has moved to that set.
     */
    @Override
    public synchronized void plug(int index, io.sluice.dataplane.config.PortSpec spec) {
        if (closed) throw new io.sluice.dataplane.port.HotPlug.Failed(503, "the data plane is stopping");
        if (index < 0 || index >= ports.length || ports[index].portId() >= 0) {
            throw new io.sluice.dataplane.port.HotPlug.Failed(503, "port.device: port index " + index + " is not an empty hot-plug slot"
                    + (index >= 0 && index < ports.length ? " (" + ports[index].spec().devargs() + " is still open there after a worker"
                    + " did not move past it; a restart frees it)" : ""));
        }
        int tx = 1;
        for (WorkerSpec w : config.workers()) tx = Math.max(tx, w.txQueue() + 1);
        Port p = Ports.plug(index, spec, pool, tx);
        io.sluice.dataplane.agent.PortSet next = portBoard.current().plus(index, p.portId(), slotWorker(spec, workers.size()));
        portBoard.publish(next);
        ports[index] = p;
        if (!awaitPorts(next.generation())) {
            // taken out of the set again; the device stays open (a worker may still use the set that has
            // it) until the data plane stops, and the slot stays taken until then
            portBoard.publish(next.minus(index));
            throw new io.sluice.dataplane.port.HotPlug.Failed(503, "port.device: '" + spec.devargs() + "' was plugged in, but a worker"
                    + " has not taken the new port set within " + STOP_TIMEOUT_MS + " ms; it is out of the set again and stays open"
                    + " (slot " + spec.name() + " unusable) until the data plane stops");
        }
    }

    /**
     * Hot-unplug: publishes a port set without port {@code index}, waits until every worker has moved
     * past the old set, then stops, closes and removes the device; the slot is empty again. A worker
     * that does not move on in time leaves the device open (503; it is closed at stop).
     */
    @Override
    public synchronized void unplug(int index) {
        Port p = ports[index];
        if (p.portId() < 0) return;
        io.sluice.dataplane.agent.PortSet next = portBoard.current().minus(index);
        portBoard.publish(next);
        if (!awaitPorts(next.generation())) {
            throw new io.sluice.dataplane.port.HotPlug.Failed(503, "port " + p.name() + " (" + p.spec().devargs() + ") is out of the"
                    + " workers' port set, but a worker has not moved past the old set within " + STOP_TIMEOUT_MS + " ms: the device stays open");
        }
        ports[index] = Ports.empty(index, io.sluice.dataplane.port.HotPlug.slot(io.sluice.dataplane.port.HotPlug.number(p.spec()), ""));
        String err = Ports.unplug(p);
        if (err != null) System.err.println("sluice: unplug " + p.name() + " (" + p.spec().devargs() + "): " + err);
    }

    /** Waits until every running worker has ended a duty cycle with port set {@code gen}; false on timeout. */
    private boolean awaitPorts(long gen) {
        if (!workersStarted) return true;
        long deadline = System.nanoTime() + STOP_TIMEOUT_MS * 1_000_000L;
        for (int i = 0; i < workers.size(); i++) {
            while (workers.get(i).portGeneration() < gen) {
                if (runners.get(i).isClosed()) break;
                if (System.nanoTime() > deadline) return false;
                java.util.concurrent.locks.LockSupport.parkNanos(50_000);
            }
        }
        return true;
    }

    public List<Worker> workers() {
        return workers;
    }

    /** The workers' trace/capture tap (docs/operations.md). */
    public io.sluice.dataplane.debug.Tap tap() {
        return tap;
    }

    /** The mbuf pool (rte_mempool*). */
    public long pool() {
        return pool;
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Blocks until every worker thread has ended (after {@link #close()} from another thread).
     * It waits on the threads {@link #startWorkers()} made, whether or not they have run yet: it
     * never returns early because a worker has not started. {@code ./sluice run} waits on its
     * {@code Lifecycle} instead (a worker that dies must stop the process too).
     */
    public void awaitTermination() throws InterruptedException {
        for (Thread t : workerThreads()) {
            t.join();
        }
    }

    /** The thread of worker i (null until it has started). */
    public Thread workerThread(int i) {
        return workers.get(i).thread();
    }

    /**
     * Stops every worker and waits for its thread to end (counters flushed). Ports stay
     * started; {@link #close()} does the rest. Idempotent.
     */
    public synchronized void stopWorkers() {
        for (AgentRunner r : runners) {
            if (r.isClosed() || stuck.contains(r.agent().roleName())) {
                continue;
            }
            try {
                r.close(STOP_TIMEOUT_MS, t -> {
                    throw new WorkerStuck(t.getName());
                });
            } catch (WorkerStuck e) {
                stuck.add(e.getMessage());
                System.err.println("sluice: " + e.getMessage() + " did not stop within " + STOP_TIMEOUT_MS + " ms");
            }
        }
    }

    /** Names of workers whose thread did not end when stopped: the ports were then left to the OS. */
    public synchronized List<String> stuckWorkers() {
        return List.copyOf(stuck);
    }

    /** Ends AgentRunner's otherwise endless wait for a worker thread that does not stop. */
    private static final class WorkerStuck extends RuntimeException {
        WorkerStuck(String name) {
            super(name, null, false, false);
        }
    }

    /** Stops workers, stops and closes ports, frees the pool, cleans up EAL. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // already in shutdown: the hook may be running concurrently and will return at `closed`
            }
        }
        if (linkMonitor != null) linkMonitor.close();
        stopWorkers();
        if (!stuck.isEmpty()) {
            // a thread still runs a duty cycle over the ports, the pool and the worker's arrays:
            // freeing them under it could crash the process; the kernel removes the TAP devices and
            // frees the memory when the process exits
            System.err.println("sluice: " + stuck + " still running: ports and memory left to the OS at exit");
            Eal.removeOwnRuntimeDir(); // files only: nothing a running duty cycle touches
            return;
        }
        for (Worker w : workers) {
            w.release();
        }
        Ports.stopAndClose(java.util.Arrays.asList(ports));
        Shim.mempoolFree(pool);
        Eal.cleanup();
    }
}
