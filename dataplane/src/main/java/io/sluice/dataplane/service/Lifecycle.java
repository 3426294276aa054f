package io.sluice.dataplane.service;

import org.agrona.concurrent.status.AtomicCounter;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The state of a running data plane, as {@code ./sluice run} and {@code ./sluice status} see it:
 * {@code STARTING → READY → RUNNING → DRAINING → STOPPED}, or {@code FAILED} from any state before
 * {@code STOPPED}. The main thread waits on {@link #awaitEnd()}, which returns only when a stop
 * was asked for ({@link #requestStop}) or something failed ({@link #fail}): never because of which
 * threads happen to exist. The first end wins; later calls only log.
 *
 * <p>The state is mirrored to a shared-memory counter ({@link State#ordinal()}) so another process
 * reads it. Thread-safe: signal handlers, the supervisor, worker error handlers and the main
 * thread all call in.
 */
public final class Lifecycle {
    /** The states, in order; the ordinal is what the counters file holds. */
    public enum State { STARTING, READY, RUNNING, DRAINING, STOPPED, FAILED }

    /** Why {@link #awaitEnd()} returned. */
    public record End(boolean failed, String reason) {}

    private final CountDownLatch ended = new CountDownLatch(1);
    private final AtomicCounter stateCounter;
    private volatile State state = State.STARTING;
    private End end;

    /** @param stateCounter counter that mirrors the state, or null */
    public Lifecycle(AtomicCounter stateCounter) {
        this.stateCounter = stateCounter;
        publish(State.STARTING);
    }

    public State state() {
        return state;
    }

    /** Moves to {@code next} unless the data plane already failed or stopped. */
    public synchronized void set(State next) {
        if (state == State.FAILED || state == State.STOPPED) {
            return;
        }
        state = next;
        publish(next);
    }

    /** Asks for an orderly stop (SIGTERM, SIGINT): {@link #awaitEnd()} returns {@code failed=false}. */
    public synchronized boolean requestStop(String why) {
        return end(new End(false, why));
    }

    /**
     * Records a failure (a worker died or stalled, start-up did not finish): the state becomes
     * FAILED and {@link #awaitEnd()} returns {@code failed=true} with {@code why}.
     *
     * @return true when this was the first end
     */
    public synchronized boolean fail(String why) {
        boolean first = end(new End(true, why));
        if (first) {
            state = State.FAILED;
            publish(State.FAILED);
        }
        return first;
    }

    private boolean end(End e) {
        if (end != null) {
            return false;
        }
        end = e;
        ended.countDown();
        return true;
    }

    /** True once a stop was asked for or a failure recorded. */
    public synchronized boolean ending() {
        return end != null;
    }

    /** Blocks until {@link #requestStop} or {@link #fail}. */
    public End awaitEnd() throws InterruptedException {
        ended.await();
        synchronized (this) {
            return end;
        }
    }

    /** As {@link #awaitEnd()}, giving up after {@code millis}: null when nothing ended. */
    public End awaitEnd(long millis) throws InterruptedException {
        if (!ended.await(millis, TimeUnit.MILLISECONDS)) {
            return null;
        }
        synchronized (this) {
            return end;
        }
    }

    private void publish(State s) {
        if (stateCounter != null) {
            stateCounter.setRelease(s.ordinal());
        }
    }
}
