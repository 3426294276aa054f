package io.sluice.dataplane.demo;

import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.firewall.FirewallCounters;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.flowlog.FlowLogRecord;
import io.sluice.dataplane.config.FlowLogSettings;
import io.sluice.dataplane.flowlog.FlowLogs;
import io.sluice.dataplane.flowlog.FlowsCli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The demo's flow log (docs/operations.md, "Flow logs"): on for every project, in a temp directory. */
final class DemoFlowLog implements AutoCloseable {
    interface Check {
        void check(String name, boolean passed, String detail);
    }

    private final Path dir;
    private final FlowLogs logs;

    private DemoFlowLog(Path dir, FlowLogs logs) {
        this.dir = dir;
        this.logs = logs;
    }

    /** Opens the flow log and gives it to the firewall: call before the pipelines are made. */
    static DemoFlowLog open(SluiceConfig cfg, FirewallState fw, Counters counters) throws Exception {
        Path dir = Files.createTempDirectory("sldemo-flows");
        FlowLogs logs = FlowLogs.open(new FlowLogSettings(dir, 60, 10, "hourly", 24, 1024, FlowLogSettings.Project.ALL, Map.of()),
                cfg, counters);
        logs.ruleNames(fw::ruleName);
        logs.reasonNames(i -> i >= 0 && i < FirewallCounters.REASONS.length ? FirewallCounters.REASONS[i].name().toLowerCase() : "reason#" + i);
        fw.flowLogs(logs);
        logs.start();
        return new DemoFlowLog(dir, logs);
    }

    /** The TCP transfer blue web -> blue db:5001 (4 MiB) has its ACCEPT record, closed, with the bytes. */
    void checkTransfer(Check c, String src, String dst, int port, int payload) throws InterruptedException {
        FlowLogRecord found = null;
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (found == null && System.nanoTime() < deadline) {
            List<FlowLogRecord> all = new ArrayList<>();
            FlowsCli.read(dir, false, all::add);
            for (FlowLogRecord r : all) {
                if (r.src().equals(src) && r.dst().equals(dst) && r.dport() == port && r.action().equals("ACCEPT")) found = r;
            }
            if (found == null) Thread.sleep(100);
        }
        FlowLogRecord r = found;
        c.check("flow log: one ACCEPT record for that transfer, counts both ways (./sluice flows)",
                r != null && r.status().equals("closed") && r.bytes() >= payload && r.packets() > 0 && r.packetsReply() > 0,
                r == null ? "no record" : r.vm() + " " + r.src() + ":" + r.sport() + " > " + r.dst() + ":" + r.dport() + " "
                        + r.packets() + "/" + r.packetsReply() + " pkts " + r.bytes() + "/" + r.bytesReply() + " bytes "
                        + r.action() + " " + r.status() + " " + r.reason());
    }

    @Override
    public void close() throws Exception {
        logs.close();
        FlowLogs.deleteQueue(dir);
    }
}
