package io.sluice.dataplane.config;

/**
 * How {@code ./sluice run} supervises the data plane (the {@code service:} section, docs/service.md).
 *
 * @param stallTimeoutMs a worker whose duty-cycle count does not move for this long has stalled:
 *                       the process stops with a non-zero status naming it
 * @param readyTimeoutMs start-up fails when not every worker polls within this time
 * @param housekeepingCpus where the threads that are not workers run: {@code auto} (the process's CPUs
 *                       minus the pinned workers'), {@code off}, or a CPU list such as {@code "0,2-3"}
 */
public record ServiceSettings(int stallTimeoutMs, int readyTimeoutMs, String housekeepingCpus) {
    /** 5 s stall timeout (well above any pause a healthy worker has), 30 s to become ready, housekeeping auto. */
    public static final ServiceSettings DEFAULT = new ServiceSettings(5000, 30000, "auto");
}
