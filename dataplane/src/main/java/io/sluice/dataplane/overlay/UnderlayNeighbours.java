package io.sluice.dataplane.overlay;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The underlay neighbour (ARP) cache: next-hop IPv4 → MAC, shared by all workers, lock-free.
 * Fixed capacity, open addressing, entries never removed (they age: an entry older than
 * {@code ttlNs} is treated as missing). Learning and request bookkeeping are idempotent, so
 * several writers only race to write the same facts (last writer wins on the MAC).
 *
 * <p>Per slot four longs: key (ip + 1, 0 = empty), MAC, confirmed-at, requested-at.
 * <ul>
 * <li>{@link #lookup}: the MAC, or -1 when missing/expired.</li>
 * <li>{@link #requestDue}: true at most once per {@code retryNs} per address while it is missing,
 *     expired or due for a refresh; the caller then sends an ARP request.</li>
 * <li>{@link #refreshDue}: addresses whose entry is older than {@code refreshNs} (still valid),
 *     so the worker can send a refresh from a fresh mbuf before expiry.</li>
 * </ul>
 * Times are {@code System.nanoTime} values compared by subtraction.
 */
public final class UnderlayNeighbours {
    private static final int KEY = 0, MAC = 1, CONFIRMED = 2, REQUESTED = 3;

    private final AtomicLongArray slots;
    private final int mask;
    public final long ttlNs;
    public final long refreshNs;
    public final long retryNs;

    public UnderlayNeighbours(int capacity, long ttlNs, long refreshNs, long retryNs) {
        int cap = Integer.highestOneBit(Math.max(4, capacity) * 2 - 1);
        slots = new AtomicLongArray(cap * 4);
        mask = cap - 1;
        this.ttlNs = ttlNs;
        this.refreshNs = refreshNs;
        this.retryNs = retryNs;
    }

    /** Defaults: 1024 next hops, entries valid 5 min, refreshed after 4 min, requests 1/s. */
    public static UnderlayNeighbours withDefaults() {
        return new UnderlayNeighbours(1024, 300_000_000_000L, 240_000_000_000L, 1_000_000_000L);
    }

    /** MAC of {@code ip}, or -1 when unknown or expired. */
    public long lookup(int ip, long nowNs) {
        int s = find(ip, false);
        if (s < 0) {
            return -1;
        }
        long mac = slots.get(s + MAC);
        if (mac < 0 || nowNs - slots.get(s + CONFIRMED) > ttlNs) {
            return -1;
        }
        return mac;
    }

    /** Records (or refreshes) ip → mac. Returns false when the table is full. */
    public boolean learn(int ip, long mac, long nowNs) {
        int s = find(ip, true);
        if (s < 0) {
            return false;
        }
        slots.set(s + MAC, mac);
        slots.set(s + CONFIRMED, nowNs);
        return true;
    }

    /**
     * Updates ip → mac only when ip is already in the table (we asked for it, or learned it
     * before). ARP from the underlay goes through here, so unsolicited ARP cannot fill the
     * table or plant entries for addresses we never use. Returns false when ip is unknown.
     */
    public boolean update(int ip, long mac, long nowNs) {
        int s = find(ip, false);
        if (s < 0) {
            return false;
        }
        slots.set(s + MAC, mac);
        slots.set(s + CONFIRMED, nowNs);
        return true;
    }

    /**
     * True when the caller should send an ARP request for ip now (missing, expired or stale, and
     * no request in the last retryNs). Marks the request as sent.
     */
    public boolean requestDue(int ip, long nowNs) {
        int s = find(ip, true);
        if (s < 0) {
            return false;
        }
        long mac = slots.get(s + MAC);
        boolean fresh = mac >= 0 && slots.get(s + CONFIRMED) != 0 && nowNs - slots.get(s + CONFIRMED) <= refreshNs;
        if (fresh) {
            return false;
        }
        long req = slots.get(s + REQUESTED);
        if (req != 0 && nowNs - req < retryNs) {
            return false;
        }
        return slots.compareAndSet(s + REQUESTED, req, nowNs == 0 ? 1 : nowNs);
    }

    /** Writes into out the next hops that are valid but due for a refresh request; returns how many. */
    public int refreshDue(long nowNs, int[] out) {
        int n = 0;
        for (int s = 0; s < slots.length() && n < out.length; s += 4) {
            long key = slots.get(s + KEY);
            if (key == 0 || slots.get(s + MAC) < 0) {
                continue;
            }
            long age = nowNs - slots.get(s + CONFIRMED);
            if (age > refreshNs && age <= ttlNs && requestDue((int) (key - 1), nowNs)) {
                out[n++] = (int) (key - 1);
            }
        }
        return n;
    }

    private int find(int ip, boolean insert) {
        long key = (ip & 0xFFFF_FFFFL) + 1;
        long h = key * 0x9E37_79B9_7F4A_7C15L;
        int i = (int) (h ^ (h >>> 32)) & mask;
        for (int probes = 0; probes <= mask; probes++) {
            int s = i * 4;
            long k = slots.get(s + KEY);
            if (k == key) {
                return s;
            }
            if (k == 0) {
                if (!insert) {
                    return -1;
                }
                if (slots.compareAndSet(s + KEY, 0, key)) {
                    slots.set(s + MAC, -1);
                    return s;
                }
                if (slots.get(s + KEY) == key) {
                    return s;
                }
            }
            i = (i + 1) & mask;
        }
        return -1;
    }
}
