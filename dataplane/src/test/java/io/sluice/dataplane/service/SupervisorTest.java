package io.sluice.dataplane.service;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The supervisor's checks on a fake clock: stall, dead thread, readiness, and keep-alives only while workers progress. */
class SupervisorTest {
    private static final long MS = 1_000_000L;
    private final AtomicLong now = new AtomicLong(1_000 * MS);
    private final AtomicLong c0 = new AtomicLong();
    private final AtomicLong c1 = new AtomicLong();
    private final CountDownLatch release = new CountDownLatch(1);
    private final List<String> pings = new ArrayList<>();
    private final Lifecycle life = new Lifecycle(null);
    private final Thread t0 = parked("w0");
    private final Thread t1 = parked("w1");

    private Thread parked(String name) {
        Thread t = new Thread(() -> {
            try {
                release.await();
            } catch (InterruptedException ignored) {
                // end
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    @AfterEach
    void end() {
        release.countDown();
    }

    private Supervisor supervisor(long watchdogNs) {
        List<Supervisor.Watched> w = List.of(
                new Supervisor.Watched("sluice-worker-0", c0::get, t0),
                new Supervisor.Watched("sluice-worker-1", c1::get, t1));
        return new Supervisor(w, life, 500 * MS, watchdogNs, new PrintStream(new ByteArrayOutputStream()), now::get,
                m -> pings.add(m));
    }

    private void tick(long ms, boolean w0Moves, boolean w1Moves) {
        now.addAndGet(ms * MS);
        if (w0Moves) c0.incrementAndGet();
        if (w1Moves) c1.incrementAndGet();
    }

    @Test
    void readyOnlyOnceEveryWorkerPolled() throws Exception {
        Supervisor s = supervisor(0);
        c0.set(1);
        // worker 1 never polls: readiness fails by the timeout (the fake clock moves 1 ms per look)
        Thread clock = new Thread(() -> {
            while (!life.ending()) {
                now.addAndGet(MS);
                Thread.onSpinWait();
            }
        });
        clock.setDaemon(true);
        clock.start();
        assertFalse(s.awaitReady(50 * MS));
        Lifecycle.End end = life.awaitEnd(1000);
        assertTrue(end.failed());
        assertTrue(end.reason().contains("1 of 2 worker(s) never polled"), end.reason());
    }

    @Test
    void readyWhenBothPolled() throws Exception {
        Supervisor s = supervisor(0);
        c0.set(1);
        c1.set(3);
        assertTrue(s.awaitReady(50 * MS));
        assertFalse(life.ending());
    }

    @Test
    void stalledWorkerFailsNamingIt() throws Exception {
        Supervisor s = supervisor(0);
        c0.set(1);
        c1.set(1);
        assertTrue(s.awaitReady(50 * MS));
        for (int i = 0; i < 10; i++) {
            tick(50, true, true);
            assertNull(s.check());
        }
        // worker 1 stops making progress: fine until the stall timeout (500 ms) has passed
        for (int i = 0; i < 10; i++) {
            tick(50, true, false);
            assertNull(s.check(), "at " + (i + 1) * 50 + " ms");
        }
        tick(50, true, false);
        String why = s.check();
        assertTrue(why != null && why.startsWith("sluice-worker-1 made no progress for 550 ms"), why);
        Lifecycle.End end = life.awaitEnd(0);
        assertTrue(end.failed());
        assertEquals(Lifecycle.State.FAILED, life.state());
    }

    @Test
    void deadThreadFails() throws Exception {
        Supervisor s = supervisor(0);
        c0.set(1);
        c1.set(1);
        assertTrue(s.awaitReady(50 * MS));
        release.countDown();
        t0.join();
        t1.join();
        tick(50, true, true);
        String why = s.check();
        assertEquals("sluice-worker-0 thread ended while the data plane was running", why);
        assertTrue(life.awaitEnd(0).failed());
    }

    @Test
    void keepAlivesOnlyWhileEveryWorkerProgresses() throws Exception {
        Supervisor s = supervisor(200 * MS); // ping every 100 ms
        c0.set(1);
        c1.set(1);
        assertTrue(s.awaitReady(50 * MS));
        for (int i = 0; i < 8; i++) {
            tick(50, true, true);
            assertNull(s.check());
        }
        assertEquals(4, pings.size(), pings::toString);
        assertTrue(pings.stream().allMatch("WATCHDOG=1"::equals));
        // worker 0 stalls (still within the stall timeout): no more keep-alives
        for (int i = 0; i < 8; i++) {
            tick(50, false, true);
            assertNull(s.check());
        }
        assertEquals(4, pings.size(), "pinged while a worker made no progress: " + pings);
        tick(50, true, true);
        assertNull(s.check());
        assertEquals(5, pings.size(), "progress again: keep-alives resume");
    }

    @Test
    void firstEndWins() throws Exception {
        assertTrue(life.requestStop("SIGTERM"));
        assertFalse(life.fail("late"));
        Lifecycle.End end = life.awaitEnd(0);
        assertFalse(end.failed());
        assertEquals("SIGTERM", end.reason());
    }
}
