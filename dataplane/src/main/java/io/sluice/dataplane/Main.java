package io.sluice.dataplane;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.demo.Demo;
import io.sluice.dataplane.agent.PipelineFactory;
import io.sluice.dataplane.config.FirewallConfig;
import io.sluice.dataplane.firewall.FirewallPipelines;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.overlay.OverlayPipeline;
import io.sluice.dataplane.service.Service;
import io.sluice.dataplane.service.Status;
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
            case "status" -> System.exit(status(args));
            case "check" -> System.exit(check(args));
            case "audit" -> System.exit(io.sluice.dataplane.control.AuditCli.run(args, System.out, System.err));
            case "flows" -> System.exit(io.sluice.dataplane.flowlog.FlowsCli.run(args, System.out, System.err));
            case "ctl" -> System.exit(io.sluice.dataplane.control.Ctl.run(args, System.getenv(), System.out, System.err));
            case "demo" -> System.exit(args.length == 1 ? Demo.run(System.out)
                    : args.length == 3 && args[1].equals("--vms") && args[2].equals("qemu") ? io.sluice.dataplane.demo.VmDemo.run(System.out)
                    : usage("usage: sluice demo [--vms qemu]"));
            case "trace", "capture", "explain" -> System.exit(io.sluice.dataplane.debug.DebugCli.run(args, System.in, System.out, System.err));
            default -> {
                System.err.println("usage: sluice run CONFIG | check CONFIG | stats [COUNTERS_FILE] | status [COUNTERS_FILE] | audit verify [DIR] | trace | capture PORT | explain | flows [--dir DIR] [--vm VM] [--follow] [--json] | ctl COMMAND | demo [--vms qemu]");
                System.exit(2);
            }
        }
    }

    private static int run(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: sluice run CONFIG.yaml");
            return 2;
        }
        Path file = Path.of(args[1]);
        SluiceConfig cfg;
        FirewallState fw;
        io.sluice.dataplane.control.ControlPlane control = null;
        try {
            // the file, parsed once into the one value (docs/architecture.md, "Desired state")
            cfg = ConfigLoader.load(file);
            // the control API (docs/api.md): the journal's changes replayed over the file's value
            control = io.sluice.dataplane.control.ControlPlane.open(file, cfg);
            if (control != null) {
                cfg = control.desired();
            }
            // security groups (docs/firewall.md): the firewall stage after the forwarding decision (l2,
            // or the overlay's route); rules reloaded on SIGHUP / rename into place (docs/service.md)
            fw = cfg.firewall() == null ? null : new FirewallState(cfg.ports().size(), cfg.firewall());
            if (fw != null) {
                fw.keepConntrack(cfg.workers().size(), System.err::println); // warm restart (docs/conntrack.md)
            }
        } catch (ConfigException | IllegalArgumentException e) {
            if (control != null) {
                control.close();
            }
            System.err.println("sluice: " + e.getMessage());
            return 2;
        }
        // DPDK's own messages (EAL, TAP qdisc, multi-process) go to a file, not the terminal (docs/operations.md)
        ConfigLoader.DpdkLog dpdkLog = cfg.dpdkLog();
        if (dpdkLog.file() != null) {
            java.nio.file.Path parent = Path.of(dpdkLog.file()).toAbsolutePath().getParent();
            if (parent != null) java.nio.file.Files.createDirectories(parent);
            io.sluice.dataplane.ffi.Eal.logTo(dpdkLog.file(), dpdkLog.level());
            System.err.println("sluice: DPDK log: " + dpdkLog.file() + " (level " + ConfigLoader.DpdkLog.LEVELS.get(dpdkLog.level() - 4) + ")");
        }
        Counters counters = Counters.create(cfg.countersFile(), 4096);
        // flow logs (docs/operations.md): each worker's firewall stage gets a logger; one writer thread
        io.sluice.dataplane.flowlog.FlowLogs flowLogs;
        try {
            flowLogs = io.sluice.dataplane.flowlog.FlowLogWiring.open(cfg, fw, counters);
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("sluice: " + e.getMessage());
            return 2;
        }
        PipelineFactory pipeline;
        OverlayPipeline overlay = null;
        if (cfg.overlay() != null) {
            // kept: a reload changes VMs' public access through it (docs/nat.md, docs/service.md)
            OverlayPipeline p = OverlayPipeline.create(cfg, counters, fw);
            overlay = p;
            pipeline = (c, worker) -> p.stages(worker);
        } else if (fw != null) {
            fw.exportCounters(counters, cfg.portNames());
            pipeline = FirewallPipelines.l2Factory(fw);
        } else {
            pipeline = PipelineFactory.of(Pipelines::l2);
        }
        System.err.println("sluice: starting " + cfg.ports().size() + " port(s), " + cfg.workers().size()
                + " worker(s) from " + file);
        try {
            io.sluice.dataplane.flowlog.FlowLogWiring.nat(flowLogs, overlay);
            return Service.run(file, cfg, counters, pipeline, fw, overlay, System.err, control);
        } finally {
            if (flowLogs != null) {
                flowLogs.close();
            }
            if (control != null) {
                control.close();
            }
        }
    }

    /** {@code check CONFIG}: validates a configuration file as {@code run} would, touching nothing. */
    private static int check(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: sluice check CONFIG.yaml");
            return 2;
        }
        try {
            SluiceConfig cfg = ConfigLoader.load(Path.of(args[1]));
            FirewallConfig fwc = cfg.firewall();
            if (fwc != null) {
                new FirewallState(cfg.ports().size(), fwc);
            }
            System.out.println(args[1] + ": ok (" + cfg.ports().size() + " port(s), " + cfg.workers().size() + " worker(s)"
                    + (cfg.overlay() != null ? ", overlay" : "") + (fwc != null ? ", security groups" : "") + ")");
            return 0;
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("sluice: " + e.getMessage());
            return 2;
        }
    }

    private static int status(String[] args) throws InterruptedException {
        Path file = Path.of(args.length > 1 ? args[1] : "/run/sluice/counters.dat");
        return Status.run(file, System.out, System.err);
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

    private static int usage(String text) {
        System.err.println(text);
        return 2;
    }
}
