package io.sluice.dataplane.conntrack;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Host-wide and per-VM caps on tracked connections, shared by every shard of a host. Counting is
 * lock-free (one atomic add per created or deleted connection, none per lookup) and allocates
 * nothing. A connection counts from its creation until its entry is deleted (expiry, RST reopen,
 * {@link Conntrack#kill}); nothing is ever evicted to make room, so one VM at its limit cannot
 * take entries from another.
 *
 * <p>Limits are read with plain volatile semantics: the control side may change a VM's limit at
 * any time; lowering it below the current count refuses new connections but cuts none.
 */
public final class ConnLimits {
    /** {@link #tryAcquire} results. */
    public static final int OK = 0;
    public static final int HOST_FULL = 1;
    public static final int VM_FULL = 2;

    private final int hostLimit;
    private final AtomicInteger hostCount = new AtomicInteger();
    private final AtomicIntegerArray vmCount;
    private final AtomicIntegerArray vmLimit;

    /**
     * @param hostLimit  most connections tracked on the host, all shards together
     * @param maxVms     VM ids are {@code 0..maxVms-1}
     * @param vmDefault  per-VM limit until {@link #setVmLimit} says otherwise
     */
    public ConnLimits(int hostLimit, int maxVms, int vmDefault) {
        if (hostLimit < 1 || maxVms < 1 || vmDefault < 0) {
            throw new IllegalArgumentException("need hostLimit >= 1, maxVms >= 1, vmDefault >= 0: " + hostLimit + ", " + maxVms + ", " + vmDefault);
        }
        this.hostLimit = hostLimit;
        this.vmCount = new AtomicIntegerArray(maxVms);
        this.vmLimit = new AtomicIntegerArray(maxVms);
        for (int i = 0; i < maxVms; i++) vmLimit.set(i, vmDefault);
    }

    public void setVmLimit(int vm, int limit) {
        if (limit < 0) throw new IllegalArgumentException("VM limit must be >= 0, was " + limit);
        vmLimit.set(vm, limit);
    }

    public int maxVms() { return vmCount.length(); }
    public int hostLimit() { return hostLimit; }
    public int hostCount() { return hostCount.get(); }
    public int vmCount(int vm) { return vmCount.get(vm); }
    public int vmLimit(int vm) { return vmLimit.get(vm); }

    /** Reserves one connection for {@code vm}: {@link #OK}, or which limit refused it (nothing reserved then). */
    int tryAcquire(int vm) {
        if (vmCount.incrementAndGet(vm) > vmLimit.get(vm)) {
            vmCount.decrementAndGet(vm);
            return VM_FULL;
        }
        if (hostCount.incrementAndGet() > hostLimit) {
            hostCount.decrementAndGet();
            vmCount.decrementAndGet(vm);
            return HOST_FULL;
        }
        return OK;
    }

    /** Counts one connection for {@code vm} whatever the limits say (an entry kept across a restart). */
    void charge(int vm) {
        vmCount.incrementAndGet(vm);
        hostCount.incrementAndGet();
    }

    void release(int vm) {
        vmCount.decrementAndGet(vm);
        hostCount.decrementAndGet();
    }
}
