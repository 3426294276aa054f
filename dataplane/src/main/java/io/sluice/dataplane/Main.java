package io.sluice.dataplane;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.demo.Demo;
import io.sluice.dataplane.agent.PipelineFactory;
import io.sluice.dataplane.firewall.FirewallConfig;
import io.sluice.dataplane.firewall.FirewallConfigLoader;
import io.sluice.dataplane.firewall.FirewallPipelines;
import io.sluice.dataplane.firewall.FirewallReloader;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.overlay.OverlayPipeline;
import io.sluice.dataplane.stage.Pipelines;

import java.nio.file.Path;
import java.util.Map;

/** Entry point of the sluice jar; the ./sluice launcher calls it. */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        String cmd = args.length == 0 ? "" : args[0];
        switch (cmd) {
            case "run" -> System.exit(run(args));
            case "stats" -> System.exit(stats(args));
            case "demo" -> System.exit(Demo.run(System.out));
            default -> {
                System.err.println("usage: sluice run CONFIG | stats [COUNTERS_FILE] | demo");
                System.exit(2);
            }
        }
    }

    private static int run(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: sluice run CONFIG.yaml");
            return 2;
        }
        SluiceConfig cfg;
        try {
            cfg = ConfigLoader.load(Path.of(args[1]));
        } catch (ConfigException e) {
            System.err.println("sluice: " + e.getMessage());
            return 2;
        }
        Counters counters = Counters.create(cfg.countersFile(), 4096);
        // Dataplane installs its own shutdown hook: SIGINT/SIGTERM stop the workers, close the
        // ports (TAP devices disappear) and clean up EAL; the worker threads then end.
        // security groups (docs/firewall.md): the firewall stage after the forwarding decision (l2, or the
        // overlay's route), rules reloaded on SIGHUP / file change
        FirewallState fw;
        try {
            FirewallConfig fwc = FirewallConfigLoader.load(Path.of(args[1]), cfg);
            fw = fwc == null ? null : new FirewallState(cfg.ports().size(), fwc);
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("sluice: " + e.getMessage());
            return 2;
        }
        PipelineFactory pipeline;
        if (cfg.overlay() != null) {
            pipeline = OverlayPipeline.factory(cfg, counters, fw);
        } else if (fw != null) {
            fw.exportCounters(counters, cfg.portNames());
            pipeline = FirewallPipelines.l2Factory(fw);
        } else {
            pipeline = PipelineFactory.of(Pipelines::l2);
        }
        if (fw != null) {
            new FirewallReloader(Path.of(args[1]), cfg, fw, System.err); // daemon thread, lives as long as the process
        }
        Dataplane dp = Dataplane.start(cfg, pipeline, counters);
        System.err.println("sluice: running " + cfg.ports().size() + " port(s), " + cfg.workers().size()
                + " worker(s); counters: ./sluice stats " + cfg.countersFile() + "; stop with Ctrl-C");
        dp.awaitTermination();
        return 0;
    }

    private static int stats(String[] args) {
        Path file = Path.of(args.length > 1 ? args[1] : "/run/sluice/counters.dat");
        try {
            Map<String, Long> values = Counters.read(file);
            Counters.print(values, System.out);
            return 0;
        } catch (IllegalStateException e) {
            System.err.println("sluice: " + e.getMessage());
            return 1;
        }
    }
}
