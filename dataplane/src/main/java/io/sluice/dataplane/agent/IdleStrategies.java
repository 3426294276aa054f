package io.sluice.dataplane.agent;

import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.SleepingIdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

import java.util.concurrent.TimeUnit;

/** Parses {@link io.sluice.dataplane.config.SluiceConfig#idleStrategy()} names. */
public final class IdleStrategies {
    private IdleStrategies() {}

    /**
     * "busy-spin", "yield", "backoff", "sleep" (1 ms) or "sleep-&lt;micros&gt;".
     *
     * @throws IllegalArgumentException naming the value when it is none of these
     */
    public static IdleStrategy parse(String name) {
        String n = name == null ? "" : name.trim();
        switch (n) {
            case "busy-spin":
                return new BusySpinIdleStrategy();
            case "yield":
                return new YieldingIdleStrategy();
            case "backoff":
                return new BackoffIdleStrategy();
            case "sleep":
                return new SleepingIdleStrategy(TimeUnit.MILLISECONDS.toNanos(1));
            default:
                if (n.startsWith("sleep-")) {
                    try {
                        long us = Long.parseLong(n.substring("sleep-".length()));
                        if (us >= 1) {
                            return new SleepingIdleStrategy(TimeUnit.MICROSECONDS.toNanos(us));
                        }
                    } catch (NumberFormatException ignored) {
                        // fall through to the error below
                    }
                }
                throw new IllegalArgumentException("idle strategy '" + name
                        + "' is not one of busy-spin, yield, backoff, sleep, sleep-<micros> (micros >= 1)");
        }
    }
}
