package io.sluice.dataplane.firewall;

import io.sluice.dataplane.handoff.FlowOwnerReference;
import io.sluice.dataplane.packet.NativeFrames;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.Set;
import java.util.TreeSet;

import static io.sluice.dataplane.firewall.FwTopology.EXT1;
import static io.sluice.dataplane.firewall.FwTopology.EXT2;
import static io.sluice.dataplane.firewall.FwTopology.VM1;
import static io.sluice.dataplane.firewall.FwTopology.VM2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shard hand-off with two workers of the L2 firewall pipeline, in one thread, no DPDK
 * ({@link TwoWorkers}): worker 0 polls the VM ports, worker 1 the outside ports, so the two
 * directions of every VM-to-outside connection arrive on different workers. With the steer stage
 * every tracked packet is decided by its flow's owner ({@link FlowOwnerReference}) and connections
 * work both ways; without it (the negative control) replies meet a shard that never saw the SYN.
 */
class FirewallHandoffTest {
    static final int SYN = 0x02, ACK = 0x10, SYNACK = 0x12, PSHACK = 0x18;
    static final int[] WORKER_OF = {0, 0, 1, 1}; // vm1, vm2 -> worker 0; ext1, ext2 -> worker 1
    static final int ZONE = 1; // the default zone of the topology's VM ports

    final NativeFrames frames = new NativeFrames();
    FirewallState fw;
    TwoWorkers two;

    @AfterEach
    void close() { frames.close(); }

    void setUp(boolean steering, int ringCapacity) throws Exception {
        var cfg = FwTopology.config("slfwh", "keep", "");
        fw = new FirewallState(4, FwTopology.firewall(cfg, "slfwh", "keep", ""));
        two = new TwoWorkers(cfg, fw, WORKER_OF, steering, ringCapacity);
    }

    static int owner(int a, int b) {
        byte[] f = Frames.tcp(a, b, 1, 2, SYN, 0, 0, 0);
        return FlowOwnerReference.owner(FlowOwnerReference.keyOf(f, ZONE), 2);
    }

    /** Sends a frame, asserts the outcome and that the flow's owner decided it. */
    void expect(int reasonOrPass, byte[] f, int in, int owner) {
        int got = two.send(frames, f, in);
        assertEquals(reasonOrPass, got, () -> "expected " + (reasonOrPass < 0 ? "pass" : DropReason.of(reasonOrPass))
                + ", got " + (got < 0 ? "pass" : DropReason.of(got)));
        assertEquals(owner, two.decidedBy, "decided by the flow's owner");
    }

    void handshake(int a, int b, int sport, int dport) {
        int o = owner(a, b);
        expect(-1, Frames.tcp(a, b, sport, dport, SYN, 1000, 0, 0), a, o);
        expect(-1, Frames.tcp(b, a, dport, sport, SYNACK, 5000, 1001, 0), b, o);
        expect(-1, Frames.tcp(a, b, sport, dport, ACK, 1001, 5001, 0), a, o);
        expect(-1, Frames.tcp(a, b, sport, dport, PSHACK, 1001, 5001, 10), a, o);
        expect(-1, Frames.tcp(b, a, dport, sport, PSHACK, 5001, 1011, 10), b, o);
    }

    @Test
    void bothDirectionsMeetOnTheOwnerAndTheRulesStillHold() throws Exception {
        setUp(true, 1024);
        Set<Integer> owners = new TreeSet<>();
        for (int ext : new int[] {EXT1, EXT2}) {
            for (int vm : new int[] {VM1, VM2}) {
                owners.add(owner(ext, vm));
                handshake(ext, vm, 40000 + ext * 10 + vm, 22);          // SSH in from outside: default group
                handshake(vm, ext, 41000 + ext * 10 + vm, 443);         // anything out, replies come back
                expect(DropReason.FW_NO_RULE.ordinal(), Frames.tcp(ext, vm, 42000 + ext * 10 + vm, 8080, SYN, 1, 0, 0), ext, owner(ext, vm));
            }
        }
        // within the default group: any port; both VMs are polled by worker 0, the pair may live on 1
        owners.add(owner(VM2, VM1));
        handshake(VM2, VM1, 43000, 8080);
        handshake(VM1, VM2, 43001, 5432);
        assertEquals(Set.of(0, 1), owners, "the topology's address pairs are owned by both workers (else the test proves less)");
        assertTrue(two.steer[0].outPackets() > 0 && two.steer[1].outPackets() > 0,
                "hand-off in both directions: out " + two.steer[0].outPackets() + " / " + two.steer[1].outPackets());
        assertEquals(two.steer[0].outPackets(), two.steer[1].inPackets());
        assertEquals(two.steer[1].outPackets(), two.steer[0].inPackets());
        assertEquals(0, two.steer[0].fullDrops() + two.steer[1].fullDrops());
        for (int p : new int[] {VM1, VM2}) {
            assertEquals(0, fw.drops(p, DropReason.FW_INVALID), "no reply met a shard without its connection");
        }
        assertEquals(2, fw.drops(VM1, DropReason.FW_NO_RULE));
        assertEquals(2, fw.drops(VM2, DropReason.FW_NO_RULE));
        assertEquals(4, fw.hits("default/ssh-v4"));
        assertEquals(2, fw.hits("default/self"));
        // a reply-looking packet of no connection stays invalid on its owner
        expect(DropReason.FW_INVALID.ordinal(), Frames.tcp(EXT1, VM1, 443, 49999, SYNACK, 1, 1, 0), EXT1, owner(EXT1, VM1));
    }

    @Test
    void withoutHandOffRepliesMissTheirConnection() throws Exception {
        setUp(false, 1024);
        // SYN from outside: worker 1's shard creates the connection; the reply arrives on worker 0
        assertEquals(-1, two.send(frames, Frames.tcp(EXT1, VM1, 40000, 22, SYN, 1000, 0, 0), EXT1));
        assertEquals(1, two.decidedBy);
        assertEquals(DropReason.FW_INVALID.ordinal(), two.send(frames, Frames.tcp(VM1, EXT1, 22, 40000, SYNACK, 5000, 1001, 0), VM1),
                "the reply meets a shard that never saw the SYN");
        assertEquals(0, two.decidedBy);
        assertEquals(1, fw.drops(VM1, DropReason.FW_INVALID));
    }

    @Test
    void icmpErrorFromAnotherHostReachesTheFlowsOwner() throws Exception {
        setUp(true, 1024);
        byte[] out = Frames.udp(VM1, EXT1, 5353, 53, 10);
        int o = owner(VM1, EXT1);
        expect(-1, out, VM1, o);
        // ext2 (a "router" on the path) answers port unreachable to vm1, quoting vm1 -> ext1: it
        // arrives on worker 1; hashed by its own addresses (ext2, vm1) it would go wherever that pair lives
        byte[] err = Frames.icmpError(EXT2, VM1, 3, 3, out);
        expect(-1, err, EXT2, o);
        // vm2 as the router: the pair (vm2, vm1) lives on the other worker, the flow does not
        assertNotEquals(o, owner(VM2, VM1), "the error's own address pair must have another owner (else this proves less)");
        expect(-1, Frames.icmpError(VM2, VM1, 11, 0, out), VM2, o);
        assertEquals(0, fw.drops(VM1, DropReason.FW_INVALID));
        // the same error quoting a flow that does not exist is dropped, by that flow's owner
        byte[] forged = Frames.icmpError(EXT2, VM1, 3, 3, Frames.udp(VM1, EXT2, 5353, 53, 10));
        expect(DropReason.FW_INVALID.ordinal(), forged, EXT2, owner(VM1, EXT2));
    }

    @Test
    void fullRingDropsCountsAndRecovers() throws Exception {
        setUp(true, 2);
        int o = owner(EXT1, VM1);
        int rx = 1 - o; // the worker that must hand these off
        int from = rx == 1 ? EXT1 : VM1, to = rx == 1 ? VM1 : EXT1;
        Burst b = new Burst(4);
        b.count = 4;
        for (int k = 0; k < 4; k++) {
            byte[] f = Frames.tcp(from, to, 44000 + k, 22, SYN, 1, 0, 0);
            b.reset(k, 0, frames.put(f), f.length, from);
        }
        two.receive(rx, b);
        assertEquals(Next.CONSUMED, b.next[0]);
        assertEquals(Next.CONSUMED, b.next[1]);
        for (int k = 2; k < 4; k++) {
            assertEquals(Next.DROP, b.next[k]);
            assertEquals(DropReason.HANDOFF_FULL.ordinal(), b.dropReason[k]);
        }
        assertEquals(2, two.steer[rx].outPackets());
        assertEquals(2, two.steer[rx].fullDrops());
        Burst d = two.resume(o);
        assertEquals(2, d.count, "the two that fit arrive, in order");
        assertEquals(b.data[0], d.data[0]);
        assertEquals(b.data[1], d.data[1]);
        // drained: room again
        assertEquals(-1, two.send(frames, Frames.tcp(from, to, 44009, 22, SYN, 1, 0, 0), from));
        assertEquals(2, two.steer[rx].fullDrops());
    }

    @Test
    void untrackedPacketsStayOnTheReceivingWorker() throws Exception {
        setUp(true, 1024);
        // outside to outside: no VM port, the firewall does not track it, so it is not moved
        int r = two.send(frames, Frames.udp(EXT1, EXT2, 1, 2, 10), EXT1);
        assertEquals(-1, r);
        assertEquals(1, two.decidedBy);
        assertEquals(0, two.steer[1].outPackets() + two.steer[0].outPackets());
    }

    @Test
    void steerAndResumeAllocateNothing() throws Exception {
        setUp(true, 1024);
        // 32 packets arriving on worker 1 (outside ports): established both ways, new, denied
        byte[][] mix = new byte[32][];
        int[] in = new int[32];
        for (int k = 0; k < 32; k++) {
            int ext = k % 2 == 0 ? EXT1 : EXT2, vm = (k / 2) % 2 == 0 ? VM1 : VM2;
            handshake(ext, vm, 50000 + k, 22);
            mix[k] = switch (k % 4) {
                case 0, 1 -> Frames.tcp(ext, vm, 50000 + k, 22, PSHACK, 1011, 5011, 0);
                case 2 -> Frames.tcp(ext, vm, 51000 + k, 22, SYN, 1, 0, 0);
                default -> Frames.tcp(ext, vm, 52000 + k, 8080, SYN, 1, 0, 0);
            };
            in[k] = ext;
        }
        Burst b = new Burst(32);
        long[] addr = new long[32];
        for (int k = 0; k < 32; k++) addr[k] = frames.put(mix[k]);
        var t = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        long before = 0;
        int rounds = 100_000;
        long resumed = 0;
        for (int r = 0; r < rounds + 10_000; r++) {
            if (r == 10_000) before = t.getThreadAllocatedBytes(tid);
            b.count = 32;
            for (int k = 0; k < 32; k++) b.reset(k, 0, addr[k], mix[k].length, in[k]);
            two.receive(1, b);
            resumed += two.resume(0).count;
        }
        long allocated = t.getThreadAllocatedBytes(tid) - before;
        System.out.println("steer + resume: " + rounds + " bursts of 32 allocated " + allocated + " bytes; resumed " + resumed);
        assertTrue(allocated < 64 * 1024, "allocated " + allocated + " bytes over " + rounds + " bursts");
        assertTrue(resumed > 0, "some packets were handed off");
        assertNotEquals(0, two.steer[1].outPackets());
        assertEquals(0, two.steer[1].fullDrops());
    }
}
