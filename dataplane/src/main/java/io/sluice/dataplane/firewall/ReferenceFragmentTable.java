package io.sluice.dataplane.firewall;

import java.util.HashMap;
import java.util.Map;

/**
 * The slow, obviously-right twin of {@link FragmentTable} (a {@link HashMap} keyed by a record),
 * which {@code FragmentTableProperties} holds equal to it. Not for the fast path: it allocates.
 * Same results for the same calls, except that it can only reclaim by a full sweep
 * ({@link #expireAll}), the fast table's {@code expire} with a budget of every slot.
 */
public final class ReferenceFragmentTable {
    record Key(int zone, int family, long srcHi, long srcLo, long dstHi, long dstLo, int proto, int id) {}

    private static final class Datagram {
        long deadline;
        int l4End;
        long seen;
        long total = -1;
    }

    private final Map<Key, Datagram> map = new HashMap<>();
    private final int maxEntries;
    private final long timeoutNs;
    private Key key;

    public ReferenceFragmentTable(int maxEntries, long timeoutNs) {
        this.maxEntries = maxEntries;
        this.timeoutNs = timeoutNs;
    }

    public void key(int zone, int family, long srcHi, long srcLo, long dstHi, long dstLo, int proto, int id) {
        key = new Key(zone, family & 0xFF, srcHi, srcLo, dstHi, dstLo, proto & 0xFF, id);
    }

    public int first(int l4End, int dataLen, long now) {
        Datagram d = map.get(key);
        if (d == null) {
            if (map.size() >= maxEntries) return FragmentTable.FULL;
            d = new Datagram();
            map.put(key, d);
        }
        d.deadline = now + timeoutNs;
        d.l4End = l4End;
        d.seen = dataLen;
        d.total = -1;
        return FragmentTable.RECORDED;
    }

    public void forget() { map.remove(key); }

    public int later(int offset, int dataLen, boolean last, long now) {
        if (key.proto() == FragmentTable.TCP && offset == 1) return FragmentTable.OVERLAP;
        Datagram d = map.get(key);
        if (d == null) return FragmentTable.UNKNOWN;
        if (now - d.deadline >= 0) {
            map.remove(key);
            return FragmentTable.UNKNOWN;
        }
        long start = offset * 8L;
        if (start < d.l4End) {
            map.remove(key);
            return FragmentTable.OVERLAP;
        }
        d.seen += dataLen;
        if (last) d.total = start + dataLen;
        if (d.total >= 0 && d.seen >= d.total) map.remove(key);
        return FragmentTable.PASS;
    }

    /** Deletes every expired datagram (the twin may sweep; the fast table may not). */
    public int expireAll(long now) {
        int before = map.size();
        map.values().removeIf(d -> now - d.deadline >= 0);
        return before - map.size();
    }

    public int size() { return map.size(); }
}
