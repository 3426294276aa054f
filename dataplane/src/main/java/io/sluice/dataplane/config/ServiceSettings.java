package io.sluice.dataplane.config;

/**
 * How {@code ./sluice run} supervises the data plane (the {@code service:} section, docs/service.md).
 *
 * @param stallTimeoutMs a worker whose duty-cycle count does not move for this long has stalled:
 *                       the process stops with a non-zero status naming it
 * @param readyTimeoutMs start-up fails when not every worker polls within this time
 */
public record ServiceSettings(int stallTimeoutMs, int readyTimeoutMs) {
    /** 5 s stall timeout (well above any pause a healthy worker has), 30 s to become ready. */
    public static final ServiceSettings DEFAULT = new ServiceSettings(5000, 30000);
}
