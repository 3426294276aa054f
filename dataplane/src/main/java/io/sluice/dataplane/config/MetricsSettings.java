package io.sluice.dataplane.config;

/**
 * The Prometheus endpoint of {@code ./sluice run} (the {@code metrics:} section).
 *
 * @param host address to listen on, or null: no endpoint ({@code listen: off})
 * @param port TCP port (0: any free port)
 */
public record MetricsSettings(String host, int port) {
    /** {@code 127.0.0.1:9464}: loopback only (metrics name tenants' VMs and rules), the port the issue asked for. */
    public static final MetricsSettings DEFAULT = new MetricsSettings("127.0.0.1", 9464);
    public static final MetricsSettings OFF = new MetricsSettings(null, 0);

    public boolean enabled() {
        return host != null;
    }

    @Override
    public String toString() {
        return enabled() ? host + ":" + port : "off";
    }
}
