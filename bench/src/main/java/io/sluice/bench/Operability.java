package io.sluice.bench;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.debug.AdminServer;
import io.sluice.dataplane.debug.Tap;
import io.sluice.dataplane.firewall.FirewallState;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The operability features of issue 14 in the end-to-end benches (bench forward, bench conntrack), armed
 * through the same mechanisms an operator uses, not a bench-only path: the bench's data plane serves the
 * admin socket exactly as {@code ./sluice run} does ({@link AdminServer#start}, the call
 * {@code Service.startAdmin} makes), and the bench script arms a trace or a capture on it with
 * {@code ./sluice trace --socket PATH ...} / {@code ./sluice capture PORT --socket PATH ...}. The driver
 * only waits until the armed bits show on the workers' {@link Tap} before its warm-up starts, and says
 * at the end whether they were still armed (a client that died makes the run's check fail). Flow logs
 * come from a {@code flow-logs:} section of the driver's configuration (FirewallPcapBench).
 *
 * <p>Also the per-port packet sums the acceptance rule compares (bench/scripts/accept.py).
 */
public final class Operability {
    private Operability() {}

    /** {@code --await-armed none|trace|capture}: the {@link Tap} mode bits to wait for. */
    public static int mode(String s) {
        return switch (s) {
            case "none" -> 0;
            case "trace" -> Tap.TRACE;
            case "capture" -> Tap.CAPTURE;
            default -> throw new IllegalArgumentException("--await-armed none|trace|capture, not '" + s + "'");
        };
    }

    /** The admin socket at {@code socket} (null: none), as {@code ./sluice run} serves it. */
    public static AdminServer admin(String socket, Dataplane dp, FirewallState fw) throws IOException {
        if (socket == null) return null;
        AdminServer a = AdminServer.start(Path.of(socket), dp.tap(), dp.config().portNames(), null, fw);
        a.announce(System.out);
        return a;
    }

    /**
     * Keeps the driver's other threads (JIT, GC, admin socket, capture reader) off the worker's CPU, as
     * {@code ./sluice run} does ({@code service.housekeeping-cpus}, default {@code auto}): waits until
     * every worker has pinned itself (up to 10 s), then starts the same sweeper. Without it those
     * threads share the worker's core, and the acceptance rule rejects the run.
     */
    public static io.sluice.dataplane.service.Housekeeping housekeeping(Dataplane dp) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        for (io.sluice.dataplane.agent.Worker w : dp.workers()) {
            while (System.nanoTime() < end) {
                int tid = w.osTid();
                java.util.BitSet on = tid > 0 ? io.sluice.dataplane.ffi.Affinity.get(tid) : null;
                if (w.lcore() < 0 || on != null && on.cardinality() == 1) break;
                Thread.sleep(5);
            }
        }
        return io.sluice.dataplane.service.Service.startHousekeeping(dp.config(), dp, System.out);
    }

    /** Waits until every bit of {@code mode} is armed on {@code tap} (by a client of the admin socket). */
    public static void awaitArmed(Tap tap, int mode, long timeoutMs) throws InterruptedException {
        long end = System.nanoTime() + timeoutMs * 1_000_000L;
        while ((tap.mode() & mode) != mode) {
            if (System.nanoTime() > end) throw new IllegalStateException("nothing armed " + mode + " after " + timeoutMs + " ms (mode " + tap.mode() + ")");
            Thread.sleep(20);
        }
        System.out.println("armed mode=" + tap.mode());
    }

    /**
     * "armed at end mode=M expected=E ok|LOST, debug records lost=N": the line the scripts read to check
     * that the feature stayed armed over the whole window.
     */
    public static String endState(Tap tap, int expected) {
        long lost = 0;
        for (int w = 0; w < tap.workers(); w++) lost += tap.lost(w);
        int m = tap.mode();
        return "armed at end mode=" + m + " expected=" + expected + " " + ((m & expected) == expected ? "ok" : "DISARMED")
                + ", debug records lost=" + lost;
    }

    /** Sum of the counters "port P {@code what}" over every port ({@code what}: "rx packets", "tx packets"). */
    public static long ports(Map<String, Long> snap, String what) {
        long s = 0;
        for (Map.Entry<String, Long> e : snap.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("port ") && k.endsWith(" " + what)) s += e.getValue();
        }
        return s;
    }

    /** Sum of every per-port drop counter ("port P drop REASON"). */
    public static long portDrops(Map<String, Long> snap) {
        long s = 0;
        for (Map.Entry<String, Long> e : snap.entrySet()) {
            if (e.getKey().startsWith("port ") && e.getKey().contains(" drop ")) s += e.getValue();
        }
        return s;
    }
}
