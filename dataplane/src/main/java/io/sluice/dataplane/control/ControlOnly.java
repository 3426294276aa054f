package io.sluice.dataplane.control;

import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.service.RunningConfig;

import java.nio.file.Path;
import java.util.List;

/**
 * The control plane of {@code ./sluice run} without the data plane: the same configuration, journal
 * replay, audit log, HTTP API and {@link ControlPlane#change} path (validate, journal, compile and
 * publish into a {@link FirewallState}), but no EAL, ports or workers (so no worker pickup to wait
 * for, and floating-IP changes are refused: there is no overlay pipeline). It starts in a fraction of
 * {@code Main run}'s time, which is what the crash loop ({@link CrashLoop}: kill -9 at random
 * moments, many times) needs; what it checks, the journal and the audit chain, is the same code.
 * Not a way to run Sluice.
 */
public final class ControlOnly {
    private ControlOnly() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: ControlOnly CONFIG.yaml");
            System.exit(2);
        }
        Path file = Path.of(args[0]);
        SluiceConfig cfg = ConfigLoader.load(file);
        ControlPlane cp = ControlPlane.open(file, cfg);
        if (cp == null) {
            System.err.println("sluice: " + file + " has no api section");
            System.exit(2);
        }
        SluiceConfig desired = cp.desired(); // the file's value with the journal replayed
        FirewallState fw = new FirewallState(desired.ports().size(), desired.firewall());
        RunningConfig running = new RunningConfig(file.toString(), desired, fw, null, null);
        cp.start(running, List.of(), System.err);
        Thread.currentThread().join(); // until killed
    }
}
