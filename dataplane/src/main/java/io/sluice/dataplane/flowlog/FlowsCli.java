package io.sluice.dataplane.flowlog;

import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * {@code ./sluice flows [--dir DIR] [--vm PROJECT/VM|PORT] [--follow] [--json]}: prints the flow
 * log (docs/operations.md, "Flow logs"), oldest first; {@code --follow} then waits for new records
 * as {@code tail -f} does. Opens the queue read-only: it never changes it.
 */
public final class FlowsCli {
    static {
        io.sluice.dataplane.control.QueueLog.quietChronicle();
    }

    /** Default queue directory (the {@code flow-logs.directory} of the examples). */
    public static final String DEFAULT_DIR = "/var/log/sluice/flows";

    private FlowsCli() {}

    public static int run(String[] args, PrintStream out, PrintStream err) {
        Path dir = Path.of(DEFAULT_DIR);
        String vm = null;
        boolean follow = false, json = false;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> {
                    if (++i >= args.length) return usage(err);
                    dir = Path.of(args[i]);
                }
                case "--vm" -> {
                    if (++i >= args.length) return usage(err);
                    vm = args[i];
                }
                case "--follow", "-f" -> follow = true;
                case "--json" -> json = true;
                default -> {
                    return usage(err);
                }
            }
        }
        if (!Files.isDirectory(dir)) {
            err.println("sluice: no flow log at " + dir + " (flow-logs.directory; --dir DIR)");
            return 1;
        }
        String want = vm;
        boolean asJson = json;
        if (!json) out.println("end                  vm                   proto src                    > dst                    pkts out/in   bytes out/in          action status     rule/reason");
        read(dir, follow, r -> {
            if (want != null && !want.equals(r.vm()) && !want.equals(r.iface())) return;
            out.println(asJson ? r.json() : r.line());
            out.flush();
        });
        return 0;
    }

    /** Reads every record from the first; with {@code follow}, keeps waiting for more until interrupted. */
    public static void read(Path dir, boolean follow, Consumer<FlowLogRecord> each) {
        try (ChronicleQueue q = ChronicleQueue.singleBuilder(dir.toFile()).readOnly(true).build();
             ExcerptTailer t = q.createTailer()) {
            t.singleThreadedCheckDisabled(true);
            while (true) {
                boolean got;
                try (DocumentContext dc = t.readingDocument()) {
                    got = dc.isPresent();
                    if (got) each.accept(FlowLogRecord.readFrom(dc.wire()));
                }
                if (!got) {
                    if (!follow || Thread.currentThread().isInterrupted()) return;
                    try {
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }
    }

    private static int usage(PrintStream err) {
        err.println("usage: sluice flows [--dir DIR] [--vm PROJECT/VM|PORT] [--follow] [--json]");
        return 2;
    }
}
