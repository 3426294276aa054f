package io.sluice.dataplane.overlay;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * Stable NAT VM slots (docs/nat.md, "VM slots"): NAT keeps its per-VM state (SNAT port blocks and
 * bindings, the per-VM counters) by <em>slot</em>, not by the VM's position in the compiled
 * snapshot, so that adding or deleting a VM at runtime (the control API) moves no other VM's state.
 * The number of slots is fixed at start ({@link #initial}); a VM keeps its slot across every
 * runtime change that keeps it (same {@code network/vm} name); a new VM takes the lowest slot that
 * no VM of the running snapshot holds, no other VM of the new one holds, and that holds no NAT
 * state any more ({@code busy}: SNAT blocks still held by the connections of the VM that had it),
 * so a reused slot never inherits another VM's connections. Each assignment of a slot to a new VM
 * bumps the slot's generation, which resets its counters (on the worker) and guards the NAT
 * fragment table (a record names slot and generation).
 *
 * <p>Immutable; computed on the control thread when a snapshot is compiled.
 */
public final class NatSlots {
    /** Per VM index of the snapshot: its slot. */
    public final int[] vmSlot;
    /** Per slot: the VM index holding it in the snapshot, or -1. */
    public final int[] slotVm;
    /** Per slot: how many times it was given to a VM (0: never). */
    public final int[] slotGen;
    /** Per slot: the name ({@code network/vm}) of the VM holding it, or that held it last (null: never held). */
    public final String[] slotName;

    private NatSlots(int[] vmSlot, int[] slotVm, int[] slotGen, String[] slotName) {
        this.vmSlot = vmSlot;
        this.slotVm = slotVm;
        this.slotGen = slotGen;
        this.slotName = slotName;
    }

    /** At start: VM {@code v} in slot {@code v}, {@code capacity} slots (at least one per VM). */
    public static NatSlots initial(String[] names, int capacity) {
        if (names.length > MAX) throw new IllegalArgumentException(names.length + " VMs: at most " + MAX + " NAT VM slots");
        int n = Math.min(MAX, Math.max(capacity, names.length));
        int[] vmSlot = new int[names.length];
        int[] slotVm = new int[n];
        int[] gen = new int[n];
        String[] slotName = new String[n];
        Arrays.fill(slotVm, -1);
        for (int v = 0; v < names.length; v++) {
            vmSlot[v] = v;
            slotVm[v] = v;
            gen[v] = 1;
            slotName[v] = names[v];
        }
        return new NatSlots(vmSlot, slotVm, gen, slotName);
    }

    /** The number of slots. */
    public int capacity() { return slotVm.length; }

    /**
     * The slots of the VMs {@code names} (in snapshot order) after {@code this} (the running
     * snapshot's): kept by name, new VMs in the lowest slot free in both and not {@code busy}.
     *
     * @throws io.sluice.dataplane.config.OverlayModelException when no slot is free for a new VM
     */
    public NatSlots next(String[] names, IntPredicate busy) throws io.sluice.dataplane.config.OverlayModelException {
        Map<String, Integer> had = new HashMap<>();
        for (int s = 0; s < slotVm.length; s++) if (slotVm[s] >= 0) had.put(slotName[s], s);
        int n = slotVm.length;
        int[] vmSlot = new int[names.length];
        int[] nextVm = new int[n];
        Arrays.fill(nextVm, -1);
        int[] gen = slotGen.clone();
        String[] slotNames = slotName.clone();
        for (int v = 0; v < names.length; v++) {
            Integer s = had.get(names[v]);
            vmSlot[v] = s == null ? -1 : s;
            if (s != null) nextVm[s] = v;
        }
        int from = 0;
        for (int v = 0; v < names.length; v++) {
            if (vmSlot[v] >= 0) continue;
            int s = from;
            while (s < n && (slotVm[s] >= 0 || nextVm[s] >= 0 || busy.test(s))) s++;
            if (s == n) {
                throw new io.sluice.dataplane.config.OverlayModelException("vms", "VM " + names[v] + ": no free NAT VM slot (" + n
                        + " slots, fixed at start: the VMs at start + " + HEADROOM + "; a deleted VM's slot is free again once its"
                        + " SNAT connections have ended)");
            }
            vmSlot[v] = s;
            nextVm[s] = v;
            gen[s]++;
            slotNames[s] = names[v];
            from = s + 1;
        }
        return new NatSlots(vmSlot, nextVm, gen, slotNames);
    }

    /** At most this many slots (a NAT fragment record names a slot in 20 bits). */
    public static final int MAX = 1 << 20;

    /** Slots beyond the VMs at start (docs/decisions.md). */
    public static final int HEADROOM = 1024;
}
