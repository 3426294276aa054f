package io.sluice.dataplane.agent;

import java.util.Arrays;

/**
 * The ports the workers poll and send on, as one immutable value with a generation
 * (../shared/DESIGN.md: a snapshot published with one volatile write, read once per duty cycle).
 * A hot-plug (docs/api.md) publishes a new set with the new port's ethdev id and its rx queue given
 * to one worker; an unplug publishes a set without it and waits until every worker has
 * {@linkplain Worker#portGeneration() moved past} the old one before the device is closed.
 *
 * <p>Every array is built here, on the control thread: a worker adopting a set only copies
 * references (no allocation on the fast path).
 *
 * @see Board
 */
public final class PortSet {
    final long generation;
    /** ethdev port id per port index; -1: no device (an empty hot-plug slot). */
    final int[] portIds;
    /** Per worker: the port index, ethdev id and queue of each rx queue it polls. */
    final int[][] rxPort;
    final int[][] rxPortId;
    final int[][] rxQueue;

    private PortSet(long generation, int[] portIds, int[][] rxPort, int[][] rxQueue) {
        this.generation = generation;
        this.portIds = portIds;
        this.rxPort = rxPort;
        this.rxQueue = rxQueue;
        this.rxPortId = new int[rxPort.length][];
        for (int w = 0; w < rxPort.length; w++) {
            rxPortId[w] = new int[rxPort[w].length];
            for (int q = 0; q < rxPort[w].length; q++) rxPortId[w][q] = portIds[rxPort[w][q]];
        }
    }

    /**
     * The first set (generation 1).
     *
     * @param portIds ethdev id of each port index (-1: none)
     * @param rxPort  per worker, the port index of each rx queue
     * @param rxQueue per worker, the queue id of each rx queue
     */
    public static PortSet of(int[] portIds, int[][] rxPort, int[][] rxQueue) {
        for (int w = 0; w < rxPort.length; w++) {
            if (rxPort[w].length != rxQueue[w].length) throw new IllegalArgumentException("worker " + w + ": rxPort and rxQueue differ in length");
            for (int p : rxPort[w]) {
                if (p < 0 || p >= portIds.length || portIds[p] < 0) throw new IllegalArgumentException("worker " + w + " polls port " + p + ", which has no device");
            }
        }
        return new PortSet(1, portIds.clone(), deep(rxPort), deep(rxQueue));
    }

    /** This set with port {@code index} as ethdev {@code portId}, its queue 0 polled by worker {@code worker}. */
    public PortSet plus(int index, int portId, int worker) {
        if (portIds[index] >= 0) throw new IllegalArgumentException("port " + index + " is in use");
        int[] ids = portIds.clone();
        ids[index] = portId;
        int[][] rp = deep(rxPort);
        int[][] rq = deep(rxQueue);
        rp[worker] = Arrays.copyOf(rp[worker], rp[worker].length + 1);
        rq[worker] = Arrays.copyOf(rq[worker], rq[worker].length + 1);
        rp[worker][rp[worker].length - 1] = index;
        rq[worker][rq[worker].length - 1] = 0;
        return new PortSet(generation + 1, ids, rp, rq);
    }

    /** This set without port {@code index}: no worker polls it, a packet sent to it is dropped ({@code BAD_OUT_PORT}). */
    public PortSet minus(int index) {
        int[] ids = portIds.clone();
        ids[index] = -1;
        int[][] rp = new int[rxPort.length][];
        int[][] rq = new int[rxPort.length][];
        for (int w = 0; w < rxPort.length; w++) {
            int n = 0;
            for (int p : rxPort[w]) if (p != index) n++;
            rp[w] = new int[n];
            rq[w] = new int[n];
            for (int q = 0, k = 0; q < rxPort[w].length; q++) {
                if (rxPort[w][q] == index) continue;
                rp[w][k] = rxPort[w][q];
                rq[w][k++] = rxQueue[w][q];
            }
        }
        return new PortSet(generation + 1, ids, rp, rq);
    }

    public long generation() {
        return generation;
    }

    /** The ethdev id of port {@code index}, or -1. */
    public int portId(int index) {
        return portIds[index];
    }

    /** The number of rx queues worker {@code w} polls. */
    public int rxQueues(int w) {
        return rxPort[w].length;
    }

    /** The port indexes of worker {@code w}'s rx queues, in polling order (a copy). */
    public int[] rxPorts(int w) {
        return rxPort[w].clone();
    }

    /** The queue ids of worker {@code w}'s rx queues, in polling order (a copy). */
    public int[] rxQueueIds(int w) {
        return rxQueue[w].clone();
    }

    /** Whether worker {@code w} polls port {@code index}. */
    public boolean polls(int w, int index) {
        for (int p : rxPort[w]) if (p == index) return true;
        return false;
    }

    private static int[][] deep(int[][] a) {
        int[][] c = new int[a.length][];
        for (int i = 0; i < a.length; i++) c[i] = a[i].clone();
        return c;
    }

    /** Where the current set is published: one volatile write by the control thread, one volatile read per duty cycle by each worker. */
    public static final class Board {
        private volatile PortSet current;

        public Board(PortSet first) {
            this.current = first;
        }

        public PortSet current() {
            return current;
        }

        public void publish(PortSet s) {
            current = s;
        }
    }
}
