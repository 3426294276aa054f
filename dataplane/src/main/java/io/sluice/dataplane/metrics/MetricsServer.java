package io.sluice.dataplane.metrics;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.sluice.dataplane.counters.Counters;

import java.io.IOException;

/**
 * The Prometheus endpoint of {@code ./sluice run} ({@code metrics.listen}, default
 * {@code 127.0.0.1:9464}; {@code GET /metrics}), served by the official client's HTTP server on its
 * own threads. Scrapes read the shared-memory counters ({@link CounterMetrics}); they never call
 * into a worker.
 */
public final class MetricsServer implements AutoCloseable {
    private final HTTPServer server;

    private MetricsServer(HTTPServer server) {
        this.server = server;
    }

    /** Starts serving {@code counters} on {@code host:port} (port 0: any free port, see {@link #port()}). */
    public static MetricsServer start(String host, int port, Counters counters) throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        registry.register(new CounterMetrics(counters::readAll));
        HTTPServer s = HTTPServer.builder().hostname(host).port(port).registry(registry).buildAndStart();
        return new MetricsServer(s);
    }

    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.close();
    }
}
