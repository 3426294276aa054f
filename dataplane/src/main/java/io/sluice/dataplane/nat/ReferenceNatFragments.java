package io.sluice.dataplane.nat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The plain twin of {@link NatFragments}: a map from slot to the datagram holding it, with its
 * value and deadline, written as directly as the rule reads ("a live datagram keeps its slot").
 */
public final class ReferenceNatFragments {
    private record Held(List<Integer> key, int value, long deadline) {}

    private final int mask;
    private final long timeoutNs;
    private final Map<Integer, Held> slots = new HashMap<>();

    public ReferenceNatFragments(int mask, long timeoutNs) {
        this.mask = mask;
        this.timeoutNs = timeoutNs;
    }

    private int slot(int dir, int src, int dst, int proto, int id) {
        return NatFragments.slotOf(NatFragments.addrs(src, dst), NatFragments.rest(dir, proto, id), mask);
    }

    public boolean record(int dir, int src, int dst, int proto, int id, int v, long now) {
        List<Integer> key = List.of(dir, src, dst, proto & 0xFF, id & 0xFFFF);
        int s = slot(dir, src, dst, proto, id);
        Held h = slots.get(s);
        boolean live = h != null && now < h.deadline;
        if (live && !h.key.equals(key)) return false;
        slots.put(s, new Held(key, v, now + timeoutNs));
        return true;
    }

    public long lookup(int dir, int src, int dst, int proto, int id, long now) {
        Held h = slots.get(slot(dir, src, dst, proto, id));
        if (h == null || now >= h.deadline || !h.key.equals(List.of(dir, src, dst, proto & 0xFF, id & 0xFFFF))) return -1;
        return h.value & 0xFFFF_FFFFL;
    }
}
