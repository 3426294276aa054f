package io.sluice.dataplane.control;

import java.io.PrintStream;
import java.nio.file.Path;

/** {@code ./sluice audit verify [DIR]}: checks the audit log's SHA-256 chain (docs/api.md). */
public final class AuditCli {
    /** The audit directory when none is given. */
    public static final String DEFAULT_DIR = "/var/lib/sluice/audit";

    private AuditCli() {}

    /**
     * @param args {@code audit verify [DIR]}
     * @return 0 intact, 1 a record changed or removed (named on stderr), 2 usage
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length < 2 || args.length > 3 || !args[1].equals("verify")) {
            err.println("usage: sluice audit verify [DIR]   (default " + DEFAULT_DIR + ")");
            return 2;
        }
        Path dir = Path.of(args.length == 3 ? args[2] : DEFAULT_DIR);
        long[] count = new long[2];
        String problem = AuditLog.verify(dir, count);
        if (problem != null) {
            err.println("sluice: audit " + dir + ": " + problem);
            return 1;
        }
        out.println("audit " + dir + ": " + count[0] + " record(s), chain intact"
                + (count[1] > 0 ? " (" + count[1] + " torn record(s) skipped: each marked torn by the start that found it)" : ""));
        return 0;
    }
}
