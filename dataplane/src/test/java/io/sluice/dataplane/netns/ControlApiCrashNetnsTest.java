package io.sluice.dataplane.netns;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.dataplane.control.AuditLog;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash safety of the control API: changes are streamed to a running data plane ({@code Main run}
 * in a child JVM) and the process is killed with SIGKILL at a random moment, then restarted on the
 * same journal, {@value #DEFAULT_KILLS} times (more with {@code -Dsluice.api.kills=N}). After each
 * restart, every acknowledged change is there, an unacknowledged one is there whole or not at all
 * (each change sets two rules, ports n and n+1, together), the generation is at least the last
 * acknowledged one, and in the end the audit chain is intact.
 */
class ControlApiCrashNetnsTest {
    static final int DEFAULT_KILLS = 10;

    @Test
    void killNineNeverLosesAnAcknowledgedChange() throws Exception {
        int kills = Integer.getInteger("sluice.api.kills", DEFAULT_KILLS);
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
