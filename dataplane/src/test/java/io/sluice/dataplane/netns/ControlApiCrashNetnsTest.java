package io.sluice.dataplane.netns;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.dataplane.control.AuditLog;
import org.junit.jupiter.api.Test;

import io.sluice.dataplane.control.ControlOnly;
import io.sluice.dataplane.control.CrashLoop;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash safety of the control API: changes are streamed and the process serving them is killed
 * with SIGKILL at a random moment, then restarted on the same journal. After each restart, every
 * acknowledged change is there, an unacknowledged one is there whole or not at all (each change sets
 * two rules, ports n and n+1, together), the generation is at least the last acknowledged one, and
 * in the end the audit chain is intact.
 * <ul>
 *   <li>{@value #CONTROL_KILLS} kills (more with {@code -Dsluice.api.kills=N}) of the control plane
 *       alone ({@link ControlOnly}: the same configuration, journal, audit log, API and change path,
 *       without EAL, ports and workers, so a round costs a JVM start instead of a data plane's);
 *       the loop is {@link CrashLoop}, which {@code ./sluice bench api-crash} runs 1,000 times;</li>
 *   <li>{@value #DATAPLANE_KILLS} kills ({@code -Dsluice.api.dpKills=N}) of {@code Main run}, the
 *       whole data plane on TAP ports, where the acknowledgement also waits for the workers.</li>
 * </ul>
 */
class ControlApiCrashNetnsTest {
    static final int CONTROL_KILLS = 50;
    static final int DATAPLANE_KILLS = 2;

    @Test
    void killNineOfTheControlPlaneNeverLosesAnAcknowledgedChange() throws Exception {
        int kills = Integer.getInteger("sluice.api.kills", CONTROL_KILLS);
        long seed = Long.getLong("sluice.api.seed", System.nanoTime());
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            // a journal snapshot every 7 changes: kills land before, during and after snapshots too
            Path cfg = ControlApiNetnsTest.config(net, dir, "  snapshot-every: 7\n");
            // the class archive is trained on a journal of its own (the loop's first start finds an empty one)
            Path train = java.nio.file.Files.createDirectories(dir.resolve("aot"));
            Path trainCfg = ControlApiNetnsTest.config(net, train, "  snapshot-every: 7\n");
            long t0 = System.nanoTime();
            List<String> cmd = archived(dir, cfg, trainCfg);
            long archivedMs = (System.nanoTime() - t0) / 1_000_000;
            CrashLoop.Result r = CrashLoop.run(k -> cmd, dir.resolve("audit"), ControlApiNetnsTest.BLUE_KEY, kills, new Random(seed));
            assertNull(r.failure(), r.failure() + " (seed " + seed + ")");
            assertEquals(kills, r.kills());
            assertTrue(r.acked() >= kills, "at least one acknowledged change per round: " + r.acked());
            // every CrashLoop.SNAPSHOT_ROUND-th round kills only after a snapshot, and the loop fails when the next start ignores it
            assertTrue(r.snapshotStarts() >= kills / CrashLoop.SNAPSHOT_ROUND, "restarts from a journal snapshot: " + r.snapshotStarts() + " (" + r.acked() + " changes)");
            System.out.println("ControlApiCrashNetnsTest: " + kills + " kills of the control plane in " + (System.nanoTime() - t0) / 1_000_000
                    + " ms (class archive " + archivedMs + " ms), " + r.acked() + " changes acknowledged, " + r.auditRecords() + " audit records, " + r.snapshotStarts() + " starts from a snapshot, start to API line median "
                    + r.startMillis().stream().sorted().toList().get(r.startMillis().size() / 2) + " ms, seed " + seed);
        }
    }

    /**
     * The command of a {@link ControlOnly} child that starts from an AOT cache of itself (JDK 25,
     * {@code -XX:AOTCacheOutput} / {@code -XX:AOTCache}): the classes it loads (Chronicle Queue,
     * Helidon) are mapped already loaded and linked, which cuts its start to about a third of a plain
     * start (a class-data archive alone: about 0.4). The cache needs jars on the class path, so the
     * main classes are jarred first; it is written by one child that serves a change and exits on
     * SIGTERM. Without a usable cache the JVM starts as usual.
     */
    static List<String> archived(Path dir, Path cfg, Path trainCfg) throws Exception {
        List<String> base = ServiceChild.javaCommand(ControlOnly.class.getName(), cfg.toString());
        int cpAt = base.indexOf("-cp") + 1;
        List<String> cp = new ArrayList<>();
        for (String e : base.get(cpAt).split(java.io.File.pathSeparator)) {
            Path p = Path.of(e);
            if (java.nio.file.Files.isDirectory(p)) {
                if (!p.endsWith("test-classes")) cp.add(jar(p, dir.resolve("classes-" + cp.size() + ".jar")).toString());
            } else {
                cp.add(e);
            }
        }
        List<String> cmd = new ArrayList<>(base);
        cmd.set(cpAt, String.join(java.io.File.pathSeparator, cp));
        cmd.addAll(1, List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
        Path jsa = dir.resolve("control-only.aot");
        List<String> dump = new ArrayList<>(cmd);
        dump.set(dump.size() - 1, trainCfg.toString());
        dump.add(1, "-XX:AOTCacheOutput=" + jsa);
        String failed = CrashLoop.trainArchive(dump, ControlApiNetnsTest.BLUE_KEY);
        assertNull(failed, failed);
        List<String> run = new ArrayList<>(cmd);
        if (java.nio.file.Files.exists(jsa)) run.add(1, "-XX:AOTCache=" + jsa);
        return run;
    }

    private static Path jar(Path classes, Path out) throws Exception {
        try (var j = new java.util.jar.JarOutputStream(java.nio.file.Files.newOutputStream(out)); var files = java.nio.file.Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(java.nio.file.Files::isRegularFile)::iterator) {
                j.putNextEntry(new java.util.jar.JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                java.nio.file.Files.copy(f, j);
                j.closeEntry();
            }
        }
        return out;
    }

    @Test
    void killNineOfTheDataPlaneNeverLosesAnAcknowledgedChange() throws Exception {
        int kills = Integer.getInteger("sluice.api.dpKills", DATAPLANE_KILLS);
        long seed = Long.getLong("sluice.api.seed", System.nanoTime());
        Random rnd = new Random(seed);
        String why = " (seed " + seed + ")";
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            Path cfg = ControlApiNetnsTest.config(net, dir, "");
            AtomicLong sent = new AtomicLong();
            AtomicLong acked = new AtomicLong();
            AtomicLong ackedGen = new AtomicLong();
            long totalAcked = 0;
            for (int k = 0; k <= kills; k++) {
                try (ControlApiNetnsTest.Started s = ControlApiNetnsTest.start(cfg)) {
                    long gen = s.get("/v1/health", null).json().path("generation").asLong();
                    assertTrue(gen >= ackedGen.get(), "generation " + gen + " < last acknowledged " + ackedGen.get() + why);
                    ControlApiNetnsTest.Reply r = s.get("/v1/projects/blue/security-groups/crash", ControlApiNetnsTest.BLUE_KEY);
                    if (acked.get() == 0) {
                        assertTrue(r.status() == 404 || (r.status() == 200 && sent.get() > 0), r + why);
                    } else {
                        assertEquals(200, r.status(), r + why);
                        JsonNode in = r.json().path("inbound_rules");
                        assertEquals(2, in.size(), r + why);
                        int port = in.get(0).path("port").asInt();
                        assertEquals(port + 1, in.get(1).path("port").asInt(), "half a change: " + r + why);
                        assertTrue(port >= acked.get() && port <= sent.get(),
                                "after kill " + k + ": port " + port + ", acknowledged " + acked.get() + ", sent " + sent.get() + why);
                        // what is there now counts as acknowledged from here on
                        acked.set(port);
                        sent.set(port);
                    }
                    if (k == kills) {
                        s.child().signal("TERM");
                        assertEquals(0, s.child().awaitExit(30), s.child().output());
                        break;
                    }
                    Thread streamer = new Thread(() -> {
                        try {
                            while (true) {
                                long n = sent.incrementAndGet();
                                String body = "{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":" + n + "},{\"protocol\":\"tcp\",\"port\":" + (n + 1) + "}]}";
                                ControlApiNetnsTest.Reply a = s.put("/v1/projects/blue/security-groups/crash", ControlApiNetnsTest.BLUE_KEY, body);
                                if (a.status() != 200) throw new AssertionError("refused: " + a);
                                acked.set(n);
                                ackedGen.set(a.json().path("generation").asLong());
                            }
                        } catch (Exception expected) {
                            // the data plane was killed under the request
                        }
                    }, "api-streamer");
                    long before = acked.get();
                    streamer.start();
                    // kill at a random moment once the stream is flowing (on a loaded machine the first
                    // acknowledgement can take longer than any fixed pause)
                    long flowing = System.nanoTime() + 30_000_000_000L;
                    while (acked.get() == before && streamer.isAlive() && System.nanoTime() < flowing) Thread.sleep(5);
                    Thread.sleep(rnd.nextInt(600));
                    s.child().process.destroyForcibly(); // SIGKILL
                    s.child().process.waitFor();
                    streamer.join(15_000);
                    assertTrue(!streamer.isAlive(), "the client did not notice the kill" + why);
                    assertTrue(acked.get() > before, "no change acknowledged before kill " + k + why + ":\n" + s.child().output());
                    totalAcked += acked.get() - before;
                }
            }
            long[] n = new long[1];
            assertNull(AuditLog.verify(dir.resolve("audit"), n), "audit chain after " + kills + " kills" + why);
            assertTrue(n[0] >= totalAcked, "audit records " + n[0] + " < acknowledged changes " + totalAcked);
            System.out.println("ControlApiCrashNetnsTest: " + kills + " kills, " + totalAcked + " changes acknowledged, "
                    + n[0] + " audit records, seed " + seed);
        }
    }
}
