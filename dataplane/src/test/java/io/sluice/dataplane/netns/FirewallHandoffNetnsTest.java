package io.sluice.dataplane.netns;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.counters.WorkerCounters;
import io.sluice.dataplane.demo.TcpProbe;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.firewall.FirewallPipelines;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.handoff.FlowOwnerReference;
import io.sluice.dataplane.pipeline.DropReason;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shard hand-off with real hosts on the L2 firewall pipeline: <b>two workers</b> (lcores 0 and 1)
 * on DPDK TAP ports with 2 rx / 2 tx queues each. Worker 0 polls the VM ports (vm1, vm2), worker 1
 * the outside hosts' ports (ext1, ext2), so the two directions of every VM-to-outside connection
 * arrive on different workers, each with its own conntrack shard. Real sockets ({@link TcpProbe}):
 * SSH in from outside connects, other ports in time out (the default group's SSH-only inbound rule),
 * outbound connections get their replies, VMs of the default group reach each other on any port.
 * The exported counters show hand-off in both directions ({@code worker W handoff out packets} on
 * the workers the owner function predicts), none dropped on a full ring, and no {@code fw_invalid}:
 * a reply that reached a shard without its connection would be dropped so (and its connection fail).
 * Names start with "slt&lt;pid&gt;" and are removed in {@link #cleanup} (and by Netns' shutdown hook).
 */
class FirewallHandoffNetnsTest {
    static final OverlayHosts H = OverlayHosts.create();

    static final String[] NAME = {"vm1", "vm2", "ext1", "ext2"};
    static final String[] IP = {"10.199.66.1", "10.199.66.2", "10.199.66.11", "10.199.66.12"};
    static final int VM1 = 0, VM2 = 1, EXT1 = 2, EXT2 = 3;
    static final int[] WORKER_OF = {0, 0, 1, 1};

    static String mac(int p) { return String.format("02:5e:00:00:00:%02x", p + 1); }

    @AfterAll
    static void cleanup() {
        H.close();
        assertFalse(Netns.run("ip", "netns", "list").contains(H.netns.prefix()), "namespaces left behind");
    }

    static String config() {
        StringBuilder y = new StringBuilder();
        y.append("eal: [\"--no-huge\", \"-m\", \"1024\", \"--no-pci\", \"--no-shconf\", \"-l\", \"0,1\"]\n");
        y.append("burst-size: 32\nidle-strategy: backoff\nmbufs: 16383\nports:\n");
        for (int p = 0; p < 4; p++) {
            y.append("  - {name: ").append(NAME[p]).append(", device: \"net_tap").append(p).append(",iface=")
                    .append(H.tap(NAME[p])).append("\", rx-queues: 2, tx-queues: 2}\n");
        }
        y.append("workers:\n  - {lcore: 0, rx: [vm1, vm2]}\n  - {lcore: 1, rx: [ext1, ext2]}\n");
        y.append("mac-table:\n");
        for (int p = 0; p < 4; p++) y.append("  - {mac: \"").append(mac(p)).append("\", port: ").append(NAME[p]).append("}\n");
        y.append("arp:\n");
        for (int p = 0; p < 4; p++) y.append("  - {ip: ").append(IP[p]).append(", mac: \"").append(mac(p)).append("\"}\n");
        y.append("""
                security-groups:
                  vm-ports:
                    - {port: vm1, addresses: [10.199.66.1]}
                    - {port: vm2, addresses: [10.199.66.2]}
                """);
        return y.toString();
    }

    /** The worker owning the flows between two hosts (zone 1, the default of the VM ports). */
    static int owner(int a, int b) throws Exception {
        return FlowOwnerReference.owner(new FlowOwnerReference.Key(1,
                InetAddress.getByName(IP[a]).getAddress(), InetAddress.getByName(IP[b]).getAddress()), 2);
    }

    /** The worker that hands packets between two hosts off: the one polling the side that is not the owner's. */
    static void expectHandoff(Set<Integer> handingOff, int a, int b) throws Exception {
        int o = owner(a, b);
        if (WORKER_OF[a] != o) handingOff.add(WORKER_OF[a]);
        if (WORKER_OF[b] != o) handingOff.add(WORKER_OF[b]);
    }

    void assertConnect(TcpProbe.Outcome want, String fromNs, int to, int port) {
        Netns.Result r = H.netns.exec(fromNs, 10, TcpProbe.connect(IP[to], port));
        assertEquals(want, TcpProbe.outcome(r.exit(), r.output()), fromNs + " -> " + NAME[to] + ":" + port + H.nonZero());
    }

    @Test
    void twoWorkersStatefulFirewallBothDirections() throws Exception {
        String yaml = config();
        SluiceConfig cfg = ConfigLoader.parse("test-handoff.yaml", yaml);
        assertEquals(2, cfg.workers().size());
        FirewallState fw = new FirewallState(cfg.ports().size(), FirewallConfigLoader.parseDocument("test-handoff.yaml", yaml, cfg));
        fw.exportCounters(H.counters, cfg.portNames());
        H.dp = Dataplane.start(cfg, FirewallPipelines.l2Factory(fw), H.counters);
        String[] ns = new String[4];
        for (int p = 0; p < 4; p++) {
            ns[p] = H.vm(NAME[p], H.tap(NAME[p]), mac(p), IP[p] + "/24", null, 1500);
        }
        H.netns.spawn(ns[VM1], H.dir.resolve("srv-vm1.txt"), TcpProbe.serve(22, 8080));
        H.netns.spawn(ns[VM2], H.dir.resolve("srv-vm2.txt"), TcpProbe.serve(22, 8080));
        H.netns.spawn(ns[EXT1], H.dir.resolve("srv-ext1.txt"), TcpProbe.serve(443));
        H.netns.spawn(ns[EXT2], H.dir.resolve("srv-ext2.txt"), TcpProbe.serve(443));
        for (int p = 0; p < 4; p++) H.waitListening(ns[p], p < 2 ? 8080 : 443);

        Set<Integer> handingOff = new TreeSet<>();
        int timedOut = 0;
        for (int round = 0; round < 2; round++) {
            for (int ext : new int[] {EXT1, EXT2}) {
                for (int vm : new int[] {VM1, VM2}) {
                    expectHandoff(handingOff, ext, vm);
                    assertConnect(TcpProbe.Outcome.CONNECTED, ns[ext], vm, 22);   // SSH in: default group
                    assertConnect(TcpProbe.Outcome.CONNECTED, ns[vm], ext, 443);  // anything out, replies back
                }
            }
            expectHandoff(handingOff, VM1, VM2);
            assertConnect(TcpProbe.Outcome.CONNECTED, ns[VM1], VM2, 8080);        // default group: any port
            assertConnect(TcpProbe.Outcome.CONNECTED, ns[VM2], VM1, 8080);
            assertConnect(TcpProbe.Outcome.TIMED_OUT, ns[EXT1], VM1, 8080);       // only SSH from outside
            assertConnect(TcpProbe.Outcome.TIMED_OUT, ns[EXT2], VM2, 8080);
            timedOut++;
        }
        assertEquals(Set.of(0, 1), handingOff, "the hosts' address pairs make both workers hand off (else the test proves less)");

        String out0 = WorkerCounters.handoffLabel(0, "out packets"), out1 = WorkerCounters.handoffLabel(1, "out packets");
        long o0 = H.awaitCounter(out0, 1), o1 = H.awaitCounter(out1, 1);
        assertTrue(o0 > 0 && o1 > 0, "hand-off both ways: " + out0 + " " + o0 + ", " + out1 + " " + o1 + H.nonZero());
        assertEquals(o0, H.counter(WorkerCounters.handoffLabel(1, "in packets")), "worker 1 took in what worker 0 handed off");
        assertEquals(o1, H.counter(WorkerCounters.handoffLabel(0, "in packets")), "worker 0 took in what worker 1 handed off");
        for (int w = 0; w < 2; w++) {
            assertEquals(0, H.counter(WorkerCounters.handoffLabel(w, "full drops")), H.nonZero());
        }
        for (int p = 0; p < 4; p++) {
            assertEquals(0, H.counter(Counters.dropLabel(NAME[p], DropReason.FW_INVALID)), "no reply met a shard without its connection" + H.nonZero());
            assertEquals(0, H.counter(Counters.dropLabel(NAME[p], DropReason.HANDOFF_FULL)), H.nonZero());
        }
        // exactly the refused SYNs (one per timed-out attempt), counted on the VM whose rules refused
        assertEquals(timedOut, H.counter("firewall port vm1 drop fw_no_rule"), H.nonZero());
        assertEquals(timedOut, H.counter("firewall port vm2 drop fw_no_rule"), H.nonZero());
        assertEquals(0, fw.drops(VM1, DropReason.FW_INVALID) + fw.drops(VM2, DropReason.FW_INVALID));
        assertEquals(8, fw.hits("default/ssh-v4"), fw.allHits().toString());
    }
}
