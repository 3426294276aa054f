package io.sluice.dataplane.port;

import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.ffi.Shim;
import org.agrona.concurrent.status.AtomicCounter;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The link state of ports whose link follows a peer that comes and goes: vhost-user (a QEMU guest
 * connects, disconnects, reboots, reconnects) and memif. One control thread (never a worker) reads
 * each such port's link every {@link #PERIOD_MS} ms with {@code rte_eth_link_get_nowait} (for the
 * vhost PMD a read of the state its new_device / destroy_device callbacks set) and publishes it
 * as two control-plane counters: {@code port NAME link up} (1 or 0) and {@code port NAME link changes}
 * (every up/down transition seen). Workers read nothing from here: a port whose guest is away
 * receives nothing and its transmits fail (counted {@code tx_full}), as DPDK's vhost PMD does.
 */
public final class LinkMonitor implements AutoCloseable {
    public static final int PERIOD_MS = 100;

    private final Counters counters;
    private final Supplier<List<Port>> ports;
    private final Map<String, AtomicCounter[]> byName = new HashMap<>();
    private final Map<String, Long> lastUp = new HashMap<>();
    private final Thread thread;
    private volatile boolean stop;

    /** Whether this port's link is worth watching: a vhost-user or memif device. */
    public static boolean watched(Port p) {
        return p.portId() >= 0 && (p.driver().contains("vhost") || p.driver().contains("memif"));
    }

    public static String upLabel(String port) {
        return "port " + port + " link up";
    }

    public static String changesLabel(String port) {
        return "port " + port + " link changes";
    }

    private LinkMonitor(Counters counters, Supplier<List<Port>> ports) {
        this.counters = counters;
        this.ports = ports;
        poll(); // counters exist (and show the state) before the first worker runs
        this.thread = new Thread(this::loop, "sluice-link-monitor");
        thread.setDaemon(true);
    }

    /**
     * Starts watching the ports {@code ports} returns (read again each period: hot-plugged ports are
     * picked up); null when none is watched at start and none can be plugged ({@code hotplug} false).
     */
    public static LinkMonitor start(Counters counters, Supplier<List<Port>> ports, boolean hotplug) {
        if (!hotplug && ports.get().stream().noneMatch(LinkMonitor::watched)) return null;
        LinkMonitor m = new LinkMonitor(counters, ports);
        m.thread.start();
        return m;
    }

    private void loop() {
        while (!stop) {
            try {
                Thread.sleep(PERIOD_MS);
            } catch (InterruptedException e) {
                return;
            }
            if (!stop) poll();
        }
    }

    /** One pass over the watched ports (the monitor's thread, or the constructor). */
    synchronized void poll() {
        for (Port p : ports.get()) {
            if (!watched(p)) continue;
            long up;
            try {
                up = Shim.portLink(p.portId(), false)[0] != 0 ? 1 : 0;
            } catch (RuntimeException e) {
                up = 0; // the device went away (hot-unplug in progress)
            }
            AtomicCounter[] c = byName.computeIfAbsent(p.name(), n -> new AtomicCounter[] {
                    counters.allocate(upLabel(n), -1), counters.allocate(changesLabel(n), -1)});
            Long before = lastUp.put(p.name(), up);
            if (before != null && before != up) c[1].incrementRelease();
            c[0].setRelease(up);
        }
    }

    @Override
    public void close() {
        stop = true;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
