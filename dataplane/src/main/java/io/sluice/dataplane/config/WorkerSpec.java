package io.sluice.dataplane.config;

import java.util.List;

/**
 * One polling worker, pinned to one lcore, owning the listed rx queues (and tx queue
 * {@code txQueue} on every port).
 *
 * @param lcore   DPDK lcore id the worker runs on (must be in the EAL core list)
 * @param rxQueues the (port index, queue id) pairs this worker polls
 * @param txQueue the tx queue id this worker owns on every port
 */
public record WorkerSpec(int lcore, List<RxQueue> rxQueues, int txQueue) {
    /** A port's rx queue. */
    public record RxQueue(int port, int queue) {}
}
