package io.sluice.dataplane.nat;

import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.overlay.OverlaySnapshot;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.DropReason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.sluice.dataplane.nat.NatHarness.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Stable NAT VM slots at packet level ({@link NatHarness}: web 203.0.113.10, job outbound-only,
 * vault private): VMs deleted and added at runtime ({@code OverlayPipeline.applyModel}, the control
 * API's path) move no other VM's NAT state. Before slots, deleting web (the first VM) renumbered
 * job, and the replies of job's SNAT connection went to the VM now at job's old position (vault).
 */
class NatSlotsPipelineTest {
    static final long NEO_MAC = mac("02:00:00:00:01:05"), LATE_MAC = mac("02:00:00:00:01:06");
    static final int NEO_IP = ip("10.0.1.5"), LATE_IP = ip("10.0.1.6");
    NatHarness h;

    @AfterEach
    void close() {
        if (h != null) h.close();
    }

    static OverlayModel without(OverlayModel m, String vm) {
        OverlayModel.Network n = m.networks().get(0);
        List<OverlayModel.Vm> vms = new ArrayList<>(n.vms());
        assertTrue(vms.removeIf(v -> v.name().equals(vm)));
        return new OverlayModel(m.host(), List.of(new OverlayModel.Network(n.name(), n.vni(), n.cidr(), n.prefix(), n.subnets(), vms)), m.external());
    }

    static OverlayModel with(OverlayModel m, String vm, long mac, int ip, int port) {
        return with(m, vm, mac, ip, port, OverlayModel.Access.OUTBOUND);
    }

    static OverlayModel with(OverlayModel m, String vm, long mac, int ip, int port, OverlayModel.Access access) {
        OverlayModel.Network n = m.networks().get(0);
        List<OverlayModel.Vm> vms = new ArrayList<>(n.vms());
        vms.add(new OverlayModel.Vm(vm, "a", mac, ip, null, port, 0, access, 0));
        return new OverlayModel(m.host(), List.of(new OverlayModel.Network(n.name(), n.vni(), n.cidr(), n.prefix(), n.subnets(), vms)), m.external());
    }

    OverlaySnapshot s() { return h.pipeline.state().current(); }

    int slotOf(String vm) {
        OverlaySnapshot s = s();
        for (int v = 0; v < s.vmCount(); v++) if (s.vmName[v].equals("blue/" + vm)) return s.vmSlot[v];
        return -1;
    }

    /** The SYN/ACK from the server to external port {@code ext}: delivered (its out port and destination), or dropped. */
    int reply(long d, int ext) {
        return h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, SNAT, 80, ext, 0x10, 5001, 1001, 0));
    }

    /** A connection from (port, mac, ip, sport) to the server:80 through SNAT, handshake done; its external port. */
    int open(long d, int port, long mac, int ip, int sport) {
        NatPipelineTest.sent(h.run(port, tcp(d, ROUTER, mac, ip, SERVER, sport, 80, 0x02, 1000, 0, 0)));
        assertEquals(SNAT, Mem.i32(d + 26), "leaves with the SNAT address");
        int ext = Mem.u16(d + 34);
        NatPipelineTest.sent(h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, SNAT, 80, ext, 0x12, 5000, 1001, 0)));
        assertEquals(port, h.b.outPort[0]);
        assertEquals(ip, Mem.i32(d + 30));
        NatPipelineTest.sent(h.run(port, tcp(d, ROUTER, mac, ip, SERVER, sport, 80, 0x10, 1001, 5001, 0)));
        return ext;
    }

    @Test
    void vmsAddedAndDeletedAtRuntimeKeepEveryOtherVmsSnatState() throws Exception {
        h = new NatHarness(64, 4);
        long d = h.frame(0);
        NatPipelineTest.dropped(DropReason.NAT_ARP, h.run(EXT, arp(d, EXT_MAC, GW_MAC, 2, GW_MAC, GW, EXT_MAC, SNAT)));
        assertEquals(GW_MAC, h.nat.gatewayMac);
        assertEquals(1, slotOf("job"));
        int jobExt = open(d, JOB, JOB_MAC, JOB_IP, 40000);
        NatPipelineTest.sent(reply(d, jobExt));
        assertEquals(JOB, h.b.outPort[0]);

        // web (the first VM) is deleted: job is now VM 0 of the snapshot but keeps slot 1
        OverlayModel m0 = s().model;
        h.pipeline.applyModel(without(m0, "web"));
        assertEquals(0, s().vmOfPort(JOB), "job moved to position 0");
        assertEquals(1, slotOf("job"), "job kept its slot");
        NatPipelineTest.sent(reply(d, jobExt));
        assertEquals(JOB, h.b.outPort[0], "job's connection goes on: its reply reaches job, not the VM at job's old position");
        assertEquals(JOB_IP, Mem.i32(d + 30));
        assertEquals(40000, Mem.u16(d + 36));

        // neo (outbound-only, on web's port) takes web's slot: web held no SNAT block; its counters are renamed and start at 0
        h.pipeline.applyModel(with(s().model, "neo", NEO_MAC, NEO_IP, WEB));
        assertEquals(0, slotOf("neo"));
        assertEquals(2, s().slotGen[0], "the slot's second VM");
        int neoExt = open(d, WEB, NEO_MAC, NEO_IP, 40001);
        assertNotEquals(jobExt / 64, neoExt / 64, "neo has a block of its own");
        NatPipelineTest.sent(reply(d, neoExt));
        assertEquals(WEB, h.b.outPort[0]);
        assertEquals(NEO_IP, Mem.i32(d + 30));
        NatPipelineTest.sent(reply(d, jobExt));
        assertEquals(JOB, h.b.outPort[0]);
        var c = h.counters.snapshot();
        assertTrue(c.containsKey("nat vm blue/neo snat exhausted") && c.containsKey("nat vm blue/neo no public access"), c::toString);
        assertFalse(c.containsKey("nat vm blue/web snat exhausted"), "web's counters were renamed for neo: " + c);

        // job is deleted while its connection holds its block: its slot is busy, a new VM gets another one
        h.pipeline.applyModel(without(s().model, "job"));
        assertTrue(h.nat.ports.busy(1), "job's slot holds its connection's block");
        NatPipelineTest.dropped(DropReason.NAT_NO_MAPPING, reply(d, jobExt));
        h.pipeline.applyModel(with(s().model, "late", LATE_MAC, LATE_IP, JOB));
        assertEquals(3, slotOf("late"), "not job's busy slot 1 (nor vault's 2)");
        NatPipelineTest.dropped(DropReason.NAT_NO_MAPPING, reply(d, jobExt));
        int lateExt = open(d, JOB, LATE_MAC, LATE_IP, 40000);
        assertNotEquals(jobExt, lateExt, "job's binding is still held: late gets its own");
        NatPipelineTest.sent(reply(d, lateExt));
        assertEquals(LATE_IP, Mem.i32(d + 30));

        // once job's connection is gone its slot is free again, and the next new VM takes it
        h.ct.expire(System.nanoTime() + 10L * 24 * 3600 * 1_000_000_000L, h.ct.capacity());
        assertFalse(h.nat.ports.busy(1));
        h.pipeline.applyModel(without(s().model, "late"));
        h.pipeline.applyModel(with(s().model, "again", JOB_MAC, JOB_IP, JOB));
        assertEquals(-1, slotOf("job"));
        assertEquals(1, slotOf("again"), "the drained slot is reused");
    }

    /**
     * The per-VM counters in the shared counters file follow the worker's: each burst publishes only
     * the slots counted in it, and a new snapshot every VM's (a slot given to a new VM starts at 0).
     */
    @Test
    void perVmCountersArePublishedAsCountedAndRestartForASlotsNextVm() throws Exception {
        h = new NatHarness(64, 4);
        long d = h.frame(0);
        String vault = "nat vm blue/vault no public access";
        assertEquals(2, slotOf("vault"));
        for (int k = 1; k <= 3; k++) {
            NatPipelineTest.dropped(DropReason.NAT_NO_PUBLIC_ACCESS, h.run(VAULT, tcp(d, ROUTER, VAULT_MAC, VAULT_IP, SERVER, 40000 + k, 80, 0x02, 1, 0, 0)));
            assertEquals((long) k, h.counters.snapshot().get(vault), "published in the burst that counted it");
        }
        NatPipelineTest.sent(h.run(VAULT, tcp(d, WEB_MAC, VAULT_MAC, VAULT_IP, WEB_IP, 40000, 22, 0x02, 1, 0, 0)));
        assertEquals(3L, h.counters.snapshot().get(vault), "a burst that counts nothing leaves it");

        h.pipeline.applyModel(without(s().model, "vault"));
        NatPipelineTest.sent(h.run(WEB, tcp(d, JOB_MAC, WEB_MAC, WEB_IP, JOB_IP, 40000, 22, 0x02, 1, 0, 0)));
        h.pipeline.applyModel(with(s().model, "neo", NEO_MAC, NEO_IP, VAULT, OverlayModel.Access.PRIVATE));
        assertEquals(2, slotOf("neo"), "vault's slot, drained");
        NatPipelineTest.sent(h.run(WEB, tcp(d, JOB_MAC, WEB_MAC, WEB_IP, JOB_IP, 40001, 22, 0x02, 1, 0, 0)));
        var c = h.counters.snapshot();
        assertEquals(0L, c.get("nat vm blue/neo no public access"), "the slot's new VM starts at 0: " + c);
        assertFalse(c.containsKey(vault), c::toString);
        NatPipelineTest.dropped(DropReason.NAT_NO_PUBLIC_ACCESS, h.run(VAULT, tcp(d, ROUTER, NEO_MAC, NEO_IP, SERVER, 40000, 80, 0x02, 1, 0, 0)));
        assertEquals(1L, h.counters.snapshot().get("nat vm blue/neo no public access"));
        assertEquals(1L, h.nat.noPublicAccess[2]);
    }

    @Test
    void noFreeSlotRefusesTheChangeAndChangesNothing() throws Exception {
        h = new NatHarness(64, 4);
        OverlaySnapshot before = s();
        int capacity = before.slotVm.length;
        assertEquals(3 + io.sluice.dataplane.overlay.NatSlots.HEADROOM, capacity);
        OverlayModel m = before.model;
        OverlayModel.Network n = m.networks().get(0);
        List<OverlayModel.Vm> vms = new ArrayList<>(n.vms());
        for (int k = 0; k < capacity - 2; k++) { // one more than the free slots: remote VMs need slots too
            vms.add(new OverlayModel.Vm("r" + k, "b", 0x0200_0100_0000L + k, ip("10.0.64.10") + k, null, -1, ip("192.168.50.9"),
                    OverlayModel.Access.PRIVATE, 0));
        }
        List<OverlayModel.Subnet> subnets = new ArrayList<>(n.subnets());
        subnets.add(new OverlayModel.Subnet("b", ip("10.0.64.0"), 18, ip("10.0.64.1"), null, 0, null));
        OverlayModel big = new OverlayModel(m.host(), List.of(new OverlayModel.Network(n.name(), n.vni(), n.cidr(), n.prefix(), subnets, vms)), m.external());
        String problem = h.pipeline.natSlotProblem(big);
        assertNotNull(problem);
        assertTrue(problem.contains("no free NAT VM slot"), problem);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> h.pipeline.applyModel(big));
        assertTrue(e.getMessage().contains("no free NAT VM slot"), e.getMessage());
        assertSame(before, s(), "nothing published");
    }
}
