package io.sluice.dataplane.nat;

import io.sluice.dataplane.overlay.NatSlots;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * Stable NAT VM slots (QuickTheories, shrinking on failure), on random sequences of runtime changes
 * (VMs added, deleted, SNAT connections opened and ended):
 * <ul>
 *   <li>{@link NatSlots#next} equals its plain twin ({@link Twin}: a map of name to slot, the rule
 *       "a kept VM keeps its slot, a new one takes the lowest slot held by no VM before or after and
 *       holding no SNAT block" written out), and refuses exactly when the twin finds no slot;</li>
 *   <li>a VM that stays keeps its slot and its SNAT bindings: every live connection's slot leads
 *       back (inbound) to the same NAT VM slot and, through the snapshot, to the same VM name;</li>
 *   <li>no slot ever holds two VMs, and a slot is never given to a new VM while a connection of the
 *       VM before holds a block in it ({@link SnatPorts#busy});</li>
 *   <li>{@link SnatPorts} with slots reused after they drained still equals {@link ReferenceSnatPorts}.</li>
 * </ul>
 */
class NatSlotsProperties {

    /** The twin: the same rule over a map and sets. */
    static final class Twin {
        final int capacity;
        Map<String, Integer> slot = new HashMap<>();

        Twin(List<String> names, int capacity) {
            this.capacity = Math.max(capacity, names.size());
            for (int v = 0; v < names.size(); v++) slot.put(names.get(v), v);
        }

        /** The slots of {@code names}, or null when a new VM finds none. */
        Map<String, Integer> next(List<String> names, Set<Integer> busy) {
            Map<String, Integer> out = new HashMap<>();
            Set<Integer> taken = new HashSet<>(slot.values());
            for (String n : names) {
                if (slot.containsKey(n)) {
                    out.put(n, slot.get(n));
                    taken.add(slot.get(n));
                }
            }
            for (String n : names) {
                if (out.containsKey(n)) continue;
                Integer free = null;
                for (int s = 0; s < capacity && free == null; s++) if (!taken.contains(s) && !busy.contains(s)) free = s;
                if (free == null) return null;
                out.put(n, free);
                taken.add(free);
            }
            return out;
        }
    }

    record Conn(String vm, int slot, int cls, int port, int snatSlot) {}

    @Test
    void slotsEqualTheTwinSurviveOtherVmsChangesAndAreNeverReusedWhileBusy() {
        qt().withExamples(1000).withShrinkCycles(300)
                .forAll(integers().between(0, 3), lists().of(integers().all()).ofSizeBetween(1, 150))
                .checkAssert((headroom, ops) -> run(headroom, ops));
    }

    static void run(int headroom, List<Integer> ops) {
        List<String> names = new ArrayList<>(List.of("p/a", "p/b", "p/c"));
        NatSlots slots = NatSlots.initial(names.toArray(new String[0]), names.size() + headroom);
        Twin twin = new Twin(names, names.size() + headroom);
        SnatPorts ports = new SnatPorts(1, 4, 2, 2, slots.capacity());
        ReferenceSnatPorts ref = new ReferenceSnatPorts(1, 4, 2, 2);
        List<Conn> live = new ArrayList<>();
        int made = 0;
        for (int x : ops) {
            int op = x & 7;
            String what = "ops " + ops + " at " + x;
            if (op <= 1) { // add a VM
                List<String> next = new ArrayList<>(names);
                next.add((x >>> 3) % (next.size() + 1), "p/n" + made++);
                change(slots, twin, next, ports, what);
                NatSlots after = apply(slots, next, ports);
                if (after != null) {
                    slots = after;
                    names = next;
                    twin.slot = twin.next(next, busy(ports, slots.capacity()));
                }
            } else if (op <= 3 && !names.isEmpty()) { // delete a VM: its connections stay until they end
                List<String> next = new ArrayList<>(names);
                next.remove((x >>> 3) % next.size());
                change(slots, twin, next, ports, what);
                slots = apply(slots, next, ports);
                twin.slot = twin.next(next, busy(ports, slots.capacity()));
                names = next;
            } else if (op <= 5 && !names.isEmpty()) { // a VM opens a connection (class, internal port)
                int v = (x >>> 3) % names.size();
                int cls = (x >>> 10) % 3, port = 1000 + ((x >>> 12) & 3);
                int s = slots.vmSlot[v];
                int got = ports.acquire(s, cls, port);
                ReferenceSnatPorts.External e = ref.acquire(s, cls, port);
                if ((got < 0) != (e == null)) throw new AssertionError(what + ": acquire " + got + " vs twin " + e);
                if (got >= 0) {
                    if (ports.externalPort(got) != e.port()) throw new AssertionError(what + ": port " + ports.externalPort(got) + " vs " + e);
                    live.add(new Conn(names.get(v), s, cls, port, got));
                }
            } else if (!live.isEmpty()) { // a connection ends
                Conn c = live.remove((x >>> 3) % live.size());
                ports.release(c.snatSlot);
                ref.release(new ReferenceSnatPorts.External(0, c.cls, ports.externalPort(c.snatSlot)));
            }
            // invariants
            Set<Integer> seen = new HashSet<>();
            for (int v = 0; v < names.size(); v++) {
                int s = slots.vmSlot[v];
                if (!seen.add(s) || slots.slotVm[s] != v || !names.get(v).equals(slots.slotName[s])) throw new AssertionError(what + ": slot " + s + " of VM " + v);
                if (!Integer.valueOf(s).equals(twin.slot.get(names.get(v)))) throw new AssertionError(what + ": " + names.get(v) + " in " + s + ", twin " + twin.slot);
            }
            for (Conn c : live) {
                int in = ports.inbound(0, c.cls, ports.externalPort(c.snatSlot));
                if (in != c.snatSlot || ports.vmOf(in) != c.slot) throw new AssertionError(what + ": connection " + c + " leads to slot " + ports.vmOf(in));
                int v = slots.slotVm[c.slot];
                if (v >= 0 && !names.get(v).equals(c.vm)) throw new AssertionError(what + ": " + c + " now reaches " + names.get(v));
            }
            for (int s = 0; s < slots.capacity(); s++) {
                if (ports.busy(s) != (ref.blocksOf(s) > 0)) throw new AssertionError(what + ": busy(" + s + ")");
            }
        }
    }

    static Set<Integer> busy(SnatPorts ports, int n) {
        Set<Integer> out = new HashSet<>();
        for (int s = 0; s < n; s++) if (ports.busy(s)) out.add(s);
        return out;
    }

    /** Checks next against the twin: same slots, or both refuse; a new VM never lands in a busy slot. */
    static void change(NatSlots slots, Twin twin, List<String> next, SnatPorts ports, String what) {
        Map<String, Integer> want = twin.next(next, busy(ports, slots.capacity()));
        NatSlots got = apply(slots, next, ports);
        if ((want == null) != (got == null)) throw new AssertionError(what + ": refused " + (got == null) + ", twin " + want);
        if (got == null) return;
        for (int v = 0; v < next.size(); v++) {
            int s = got.vmSlot[v];
            if (s != want.get(next.get(v))) throw new AssertionError(what + ": " + next.get(v) + " in " + s + ", twin " + want);
            boolean kept = false;
            for (int p = 0; p < slots.capacity(); p++) if (slots.slotVm[p] >= 0 && next.get(v).equals(slots.slotName[p])) kept = p == s;
            if (!kept && (ports.busy(s) || slots.slotVm[s] >= 0)) throw new AssertionError(what + ": new VM " + next.get(v) + " in busy or held slot " + s);
            if (!kept && got.slotGen[s] != slots.slotGen[s] + 1) throw new AssertionError(what + ": generation of " + s);
        }
    }

    static NatSlots apply(NatSlots slots, List<String> next, SnatPorts ports) {
        try {
            return slots.next(next.toArray(new String[0]), ports::busy);
        } catch (io.sluice.dataplane.config.OverlayModelException e) {
            if (!e.getMessage().contains("no free NAT VM slot")) throw new AssertionError(e);
            return null;
        }
    }
}
