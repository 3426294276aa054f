package io.sluice.dataplane.service;

import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.counters.WorkerCounters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.TreeSet;

/**
 * {@code ./sluice status [COUNTERS-FILE]}: is the data plane running, and is every worker doing its
 * job? Reads the counters file twice, one second apart, and prints the lifecycle state, the pid,
 * the uptime, the config generation and, per worker, duty cycles and received packets per second.
 *
 * <p>Exit status: 0 running with every worker making progress; 1 running but a worker is stuck
 * (its duty-cycle count did not move during the second) or the state is not RUNNING; 3 not running
 * (the process that wrote the file is gone, or never ran: systemd's "inactive" status code); 4 no
 * counters file (no data plane was ever started with it).
 */
public final class Status {
    private Status() {}

    /** How long the rates are measured over. */
    static final long SAMPLE_MS = 1000;

    public static int run(Path file, PrintStream out, PrintStream err) throws InterruptedException {
        Counters.Reading a;
        try {
            a = Counters.readDetailed(file);
        } catch (IllegalStateException e) {
            err.println("sluice: " + e.getMessage());
            return 4;
        }
        if (!a.has(Service.STATE)) {
            err.println("sluice: " + file + " was not written by `./sluice run` (no lifecycle state)");
            return 4;
        }
        boolean alive = ProcessHandle.of(a.pid()).map(ProcessHandle::isAlive).orElse(false);
        Lifecycle.State state = state(a);
        if (!alive) {
            out.println("state:      not running (last state " + state.name().toLowerCase() + "; pid " + a.pid() + " is gone)");
            return 3;
        }
        Thread.sleep(SAMPLE_MS);
        Counters.Reading b = Counters.readDetailed(file);
        state = state(b);
        long startedMs = b.get(Service.STARTED_MS, Service.CONTROL);
        Duration up = Duration.ofMillis(Math.max(0, System.currentTimeMillis() - startedMs));
        out.println("state:      " + state.name().toLowerCase());
        out.println("pid:        " + b.pid());
        out.printf("uptime:     %dd %02d:%02d:%02d%n", up.toDays(), up.toHoursPart(), up.toMinutesPart(), up.toSecondsPart());
        out.println("generation: " + b.get(Service.GENERATION, Service.CONTROL));
        TreeSet<Integer> workers = new TreeSet<>();
        for (Counters.Value v : b.values()) {
            if (v.owner() >= 0) {
                workers.add(v.owner());
            }
        }
        int stuck = 0;
        out.printf("%-8s %14s %14s %12s  %s%n", "worker", "duty cycles", "cycles/s", "rx pkts/s", "");
        for (int w : workers) {
            String label = WorkerCounters.cyclesLabel(w);
            long c0 = a.get(label, w);
            long c1 = b.get(label, w);
            long rx0 = rxPackets(a, w);
            long rx1 = rxPackets(b, w);
            boolean moving = c1 != c0;
            if (!moving) {
                stuck++;
            }
            out.printf("%-8d %14d %14d %12d  %s%n", w, c1, (c1 - c0) * 1000 / SAMPLE_MS, (rx1 - rx0) * 1000 / SAMPLE_MS,
                    moving ? "ok" : "STUCK (no duty cycle in " + SAMPLE_MS + " ms)");
        }
        if (stuck > 0) {
            err.println("sluice: " + stuck + " worker(s) stuck");
            return 1;
        }
        return state == Lifecycle.State.RUNNING ? 0 : 1;
    }

    private static Lifecycle.State state(Counters.Reading r) {
        long s = r.get(Service.STATE, Service.CONTROL);
        Lifecycle.State[] all = Lifecycle.State.values();
        return s >= 0 && s < all.length ? all[(int) s] : Lifecycle.State.FAILED;
    }

    private static long rxPackets(Counters.Reading r, int worker) {
        long sum = 0;
        for (Counters.Value v : r.values()) {
            if (v.owner() == worker && v.label().startsWith("port ") && v.label().endsWith(" rx packets")) {
                sum += v.value();
            }
        }
        return sum;
    }
}
