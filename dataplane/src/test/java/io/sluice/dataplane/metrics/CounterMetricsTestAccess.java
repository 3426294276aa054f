package io.sluice.dataplane.metrics;

import io.sluice.dataplane.counters.Counters;

import java.util.Map;

/** The scrape helpers of {@link CounterMetricsTest}, for tests in other packages. */
public final class CounterMetricsTestAccess {
    private CounterMetricsTestAccess() {}

    public static Map<String, Double> scrape(int port) throws Exception {
        return CounterMetricsTest.scrape(port);
    }

    public static Map<String, Double> expected(Counters.Reading r) {
        return CounterMetricsTest.expected(r);
    }
}
