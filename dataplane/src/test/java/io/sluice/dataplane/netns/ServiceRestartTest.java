package io.sluice.dataplane.netns;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./sluice run} started and stopped 100 times in a row (two lanes at a time, each with its
 * own TAP names and counters file): every start becomes ready and stays up until SIGTERM (it is
 * still alive after a pause, as an operator's service would be); every exit after SIGTERM is 0
 * with both TAP devices gone; no exit is ever unasked. Before the lifecycle existed, 7 of 20 such
 * starts exited 0 on their own within 2 s.
 */
class ServiceRestartTest {
    static final int STARTS = Integer.getInteger("sluice.test.starts", 100);
    static final int LANES = 2;

    @Test
    void hundredStartsEachStaysUpUntilSigtermAndExitsZero() throws Exception {
        try (Netns net = new Netns()) {
            ExecutorService pool = Executors.newFixedThreadPool(LANES);
            try {
                List<Future<Integer>> lanes = new ArrayList<>();
                for (int lane = 0; lane < LANES; lane++) {
                    Path dir = net.tempDir();
                    String ifA = net.name("r" + lane + "a");
                    String ifB = net.name("r" + lane + "b");
                    lanes.add(pool.submit(() -> lane(dir, ifA, ifB, STARTS / LANES)));
                }
                int total = 0;
                for (Future<Integer> f : lanes) {
                    total += f.get();
                }
                assertEquals(STARTS, total);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    private static int lane(Path dir, String ifA, String ifB, int starts) throws Exception {
        Path cfg = ServiceChild.twoTapConfig(dir, ifA, ifB, "");
        for (int i = 0; i < starts; i++) {
            try (ServiceChild c = ServiceChild.run(cfg)) {
                c.awaitReady(60_000);
                assertTrue(Netns.linkExists(null, ifA) && Netns.linkExists(null, ifB), "TAPs up when ready:\n" + c.output());
                Thread.sleep(300); // the old bug exited here, with status 0
                assertTrue(c.process.isAlive(), "start " + i + " exited by itself:\n" + c.output());
                c.signal("TERM");
                int rc = c.awaitExit(30);
                assertEquals(0, rc, "start " + i + ": exit status after SIGTERM\n" + c.output());
                assertTrue(c.output().contains("sluice: SIGTERM: draining\n") && c.output().contains("sluice: stopped\n"),
                        c.output());
                assertFalse(Netns.linkExists(null, ifA), ifA + " left behind after start " + i);
                assertFalse(Netns.linkExists(null, ifB), ifB + " left behind after start " + i);
            }
        }
        return starts;
    }
}
