package io.sluice.dataplane.service;

import io.sluice.dataplane.ffi.Affinity;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/**
 * Keeps every thread of the process that is not a worker (the JVM's GC and JIT threads, the control
 * API, metrics, admin, capture reader, supervisor) off the CPUs the workers are pinned to, so a
 * busy-polling worker owns its core (docs/service.md, "CPUs"). A worker pins itself when it starts;
 * the rest of the process would otherwise run on every CPU it may use, including the workers'.
 * <p>
 * After the workers are pinned, each thread under {@code /proc/self/task} other than the workers gets
 * the housekeeping CPUs, and the same sweep repeats every second from this class's own thread, because
 * the JVM starts threads later (compiler and GC threads on demand, virtual-thread carriers) and a thread
 * inherits the affinity of the thread that created it. The workers are never touched. Control threads
 * only; nothing here is on a worker's path.
 */
public final class Housekeeping implements AutoCloseable {
    /** The sweep period: a thread started since the last sweep runs on the workers' CPUs at most this long. */
    public static final long PERIOD_MS = 1000;
    private static final long PERIOD_NS = PERIOD_MS * 1_000_000L;

    private final BitSet cpus;
    private final Set<Integer> workerTids;
    private final Thread thread;
    private volatile boolean closed;
    private volatile int moved;

    private Housekeeping(BitSet cpus, Set<Integer> workerTids) {
        this.cpus = cpus;
        this.workerTids = workerTids;
        this.thread = new Thread(this::loop, "sluice-housekeeping");
        this.thread.setDaemon(true);
    }

    /**
     * The CPUs for the other threads: {@code setting} is {@code off} (none: nothing is moved),
     * {@code auto} (the CPUs the process was started on, minus those of pinned workers), or an
     * explicit list ({@code "0,2-3"}, checked by the config loader).
     *
     * @return the set, or an empty set when there is nothing to do
     */
    static BitSet resolve(String setting, BitSet processCpus, BitSet workerCpus) {
        if (setting.equals("off")) {
            return new BitSet();
        }
        BitSet out;
        if (setting.equals("auto")) {
            out = (BitSet) processCpus.clone();
            out.andNot(workerCpus);
        } else {
            out = CpuList.parse(setting);
        }
        return out;
    }

    /**
     * Moves the non-worker threads, logs one line saying what it did, and keeps doing it every second.
     *
     * @param workerTids the workers' Linux thread ids
     * @param pinnedCpus the CPUs the pinned workers run on
     * @return the running sweeper, or null when there is nothing to do (logged)
     */
    public static Housekeeping start(String setting, Set<Integer> workerTids, BitSet pinnedCpus, PrintStream log) {
        if (setting.equals("off")) {
            return null;
        }
        BitSet process = Affinity.get((int) ProcessHandle.current().pid()); // the primordial thread: the mask the process was started with
        if (process == null) {
            log.println("sluice: housekeeping: cannot read the process's CPUs; other threads stay where they are");
            return null;
        }
        BitSet hk = resolve(setting, process, pinnedCpus);
        if (setting.equals("auto") && pinnedCpus.isEmpty()) {
            log.println("sluice: housekeeping: no worker is pinned to a CPU; other threads stay where they are");
            return null;
        }
        if (hk.isEmpty()) {
            log.println("sluice: housekeeping: every CPU (" + CpuList.format(process) + ") has a worker; the other threads share the"
                    + " workers' CPUs (leave a CPU without a worker, or set service.housekeeping-cpus)");
            return null;
        }
        Housekeeping h = new Housekeeping(hk, Set.copyOf(workerTids));
        int n = h.sweep();
        BitSet overlap = (BitSet) hk.clone();
        overlap.and(pinnedCpus);
        log.println("sluice: housekeeping: threads other than the workers run on CPU(s) " + CpuList.format(hk)
                + " (workers on " + CpuList.format(pinnedCpus) + "); " + n + " thread(s) moved"
                + (overlap.isEmpty() ? "" : "; NOTE: CPU(s) " + CpuList.format(overlap) + " are shared with workers"));
        h.thread.start();
        return h;
    }

    /** One pass over the process's threads. @return how many were moved */
    int sweep() {
        int n = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path t : tasks) {
                int tid;
                try {
                    tid = Integer.parseInt(t.getFileName().toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                if (workerTids.contains(tid)) {
                    continue;
                }
                BitSet now = Affinity.get(tid);
                if (now != null && !now.equals(cpus) && Affinity.set(tid, cpus)) {
                    n++;
                }
            }
        } catch (IOException e) {
            // /proc not readable: nothing moved this time
        }
        moved += n;
        return n;
    }

    private void loop() {
        while (!closed) {
            LockSupport.parkNanos(PERIOD_NS);
            if (!closed) {
                sweep();
            }
        }
    }

    /** The CPUs the other threads are kept on. */
    public BitSet cpus() {
        return (BitSet) cpus.clone();
    }

    /** Threads moved so far (a thread is moved once unless something resets its affinity). */
    public int moved() {
        return moved;
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
    }
}
