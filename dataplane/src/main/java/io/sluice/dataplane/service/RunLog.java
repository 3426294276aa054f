package io.sluice.dataplane.service;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.config.WorkerSpec;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.port.Port;

import java.io.PrintStream;
import java.util.Map;
import java.util.StringJoiner;

/**
 * What {@code ./sluice run} tells the operator (docs/operations.md, "Logs"): one line per port and
 * per worker once ready (listeners print their own line: metrics, control API, flow logs), and one
 * summary line per port and a total at stop. DPDK's own messages go to the DPDK log file instead.
 */
final class RunLog {
    private RunLog() {}

    static void started(PrintStream log, Dataplane dp, SluiceConfig cfg) {
        for (Port p : dp.ports()) {
            log.println("sluice: port " + p.name() + ": " + p.spec().devargs() + " (driver " + p.driver() + ", " + p.rxQueues()
                    + " rx / " + p.txQueues() + " tx queue(s)" + (p.rss() ? ", RSS" : "") + ", mac " + Port.macString(p.mac()) + ")");
        }
        for (int i = 0; i < cfg.workers().size(); i++) {
            WorkerSpec w = cfg.workers().get(i);
            StringJoiner rx = new StringJoiner(", ");
            // from the workers' port set: the file's queues and hot-plug slots filled at start
            int[] ports = dp.portSet().rxPorts(i);
            int[] queues = dp.portSet().rxQueueIds(i);
            for (int q = 0; q < ports.length; q++) rx.add(cfg.ports().get(ports[q]).name() + ":" + queues[q]);
            log.println("sluice: worker " + i + ": lcore " + (w.lcore() < 0 ? "main" : Integer.toString(w.lcore())) + ", polls " + rx + ", tx queue " + w.txQueue());
        }
    }

    static void stopped(PrintStream log, Counters counters, SluiceConfig cfg, long uptimeMs) {
        Map<String, Long> c = counters.snapshot();
        long rx = 0, tx = 0, drops = 0;
        for (String name : cfg.portNames()) {
            long r = c.getOrDefault("port " + name + " rx packets", 0L);
            long t = c.getOrDefault("port " + name + " tx packets", 0L);
            long d = 0;
            String prefix = "port " + name + " drop ";
            for (Map.Entry<String, Long> e : c.entrySet()) if (e.getKey().startsWith(prefix)) d += e.getValue();
            rx += r;
            tx += t;
            drops += d;
            log.println("sluice: port " + name + ": rx " + r + " packets, tx " + t + " packets, dropped " + d);
        }
        log.println("sluice: summary: up " + uptimeMs / 1000 + " s, rx " + rx + " packets, tx " + tx + " packets, dropped "
                + drops + " (by reason: ./sluice stats " + cfg.countersFile() + ")");
    }
}
