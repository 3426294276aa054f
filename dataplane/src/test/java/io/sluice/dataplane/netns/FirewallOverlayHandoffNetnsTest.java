package io.sluice.dataplane.netns;

import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.counters.WorkerCounters;
import io.sluice.dataplane.demo.TcpProbe;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.handoff.FlowOwnerReference;
import io.sluice.dataplane.pipeline.DropReason;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static io.sluice.dataplane.netns.FirewallOverlayNetnsTest.APP_IP;
import static io.sluice.dataplane.netns.FirewallOverlayNetnsTest.DB_IP;
import static io.sluice.dataplane.netns.FirewallOverlayNetnsTest.DB_IP6;
import static io.sluice.dataplane.netns.FirewallOverlayNetnsTest.LB_IP;
import static io.sluice.dataplane.netns.FirewallOverlayNetnsTest.APP_IP6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shard hand-off on the <b>overlay</b> pipeline with real hosts: the topology and security groups of
 * {@link FirewallOverlayNetnsTest} (blue app and db in the default group, lb in "web" only) run by
 * <b>two workers</b> (lcores 0 and 1) on TAP ports with 2 rx / 2 tx queues; worker 0 polls the uplink
 * and lb, worker 1 app and db. The steer stage sits after route, before the firewall, so a packet
 * travels with its overlay metadata (zone, VMs, pending encapsulation) to its flow's owner. Real
 * sockets: SSH in connects, other ports time out, lb's HTTP connects from app and db, app and db
 * reach each other on any port (IPv4 and IPv6), outbound TCP 25 times out (the platform layer, decided
 * on the owner after a hand-off). Counters: hand-off both ways as the owner function predicts, no
 * full-ring drops, no {@code fw_invalid}, refusals counted exactly.
 */
class FirewallOverlayHandoffNetnsTest {
    static final OverlayHosts H = OverlayHosts.create();
    static final List<String> PORTS = List.of("up", "app", "db", "lb");

    @AfterAll
    static void cleanup() {
        H.close();
        assertFalse(Netns.run("ip", "netns", "list").contains(H.netns.prefix()), "namespaces left behind");
    }

    /** {@link FirewallOverlayNetnsTest#config} on lcores 0 and 1, 2 queues per port, two workers. */
    static String config() {
        String c = FirewallOverlayNetnsTest.config(H)
                .replace("\"-l\", \"0\"]", "\"-l\", \"0,1\"]")
                .replaceAll("(device: \"[^\"]*\")}", "$1, rx-queues: 2, tx-queues: 2}")
                .replace("mbufs: 16383\n", "mbufs: 16383\nworkers:\n  - {lcore: 0, rx: [up, lb]}\n  - {lcore: 1, rx: [app, db]}\n");
        assertTrue(c.contains("tx-queues: 2}") && c.contains("\"0,1\""), c);
        return c;
    }

    /** The worker of the port each address's VM sits behind. */
    static int workerOf(String ip) {
        return ip.equals(LB_IP) ? 0 : 1;
    }

    static void expectHandoff(Set<Integer> handingOff, String a, String b) throws Exception {
        int owner = FlowOwnerReference.owner(new FlowOwnerReference.Key(1, // blue is zone 1
                InetAddress.getByName(a).getAddress(), InetAddress.getByName(b).getAddress()), 2);
        if (workerOf(a) != owner) handingOff.add(workerOf(a));
        if (workerOf(b) != owner) handingOff.add(workerOf(b));
    }

    void assertConnect(TcpProbe.Outcome want, String fromNs, String ip, int port) {
        Netns.Result r = H.netns.exec(fromNs, 10, TcpProbe.connect(ip, port));
        assertEquals(want, TcpProbe.outcome(r.exit(), r.output()), fromNs + " -> " + ip + ":" + port + H.nonZero());
    }

    @Test
    void twoWorkersOverlayFirewallBothDirections() throws Exception {
        FirewallState fw = H.startWithSecurityGroups(config());
        assertEquals(2, H.dp.workers().size());
        String[] vms = FirewallOverlayNetnsTest.plugHosts(H);
        String app = vms[0], db = vms[1], lb = vms[2];
        H.netns.spawn(app, H.dir.resolve("srv-app.txt"), TcpProbe.serve(22, 8080));
        H.netns.spawn(db, H.dir.resolve("srv-db.txt"), TcpProbe.serve(25, 587, 8080));
        H.netns.spawn(lb, H.dir.resolve("srv-lb.txt"), TcpProbe.serve(80, 8080));
        H.waitListening(app, 8080);
        H.waitListening(db, 8080);
        H.waitListening(lb, 8080);

        Set<Integer> handingOff = new TreeSet<>();
        int rounds = 2;
        for (int r = 0; r < rounds; r++) {
            expectHandoff(handingOff, LB_IP, APP_IP);
            assertConnect(TcpProbe.Outcome.CONNECTED, lb, APP_IP, 22);     // SSH from anywhere
            assertConnect(TcpProbe.Outcome.TIMED_OUT, lb, APP_IP, 8080);   // lb is not in app's default group
            assertConnect(TcpProbe.Outcome.CONNECTED, app, LB_IP, 80);     // web: HTTP in from anywhere
            expectHandoff(handingOff, DB_IP, LB_IP);
            assertConnect(TcpProbe.Outcome.CONNECTED, db, LB_IP, 80);
            expectHandoff(handingOff, APP_IP, DB_IP);
            assertConnect(TcpProbe.Outcome.CONNECTED, app, DB_IP, 8080);   // default group: any port, both ways
            assertConnect(TcpProbe.Outcome.CONNECTED, db, APP_IP, 8080);
            assertConnect(TcpProbe.Outcome.TIMED_OUT, app, DB_IP, 25);     // platform layer
            assertConnect(TcpProbe.Outcome.CONNECTED, app, DB_IP, 587);
            assertConnect(TcpProbe.Outcome.CONNECTED, app, DB_IP6, 8080);  // IPv6, routed across subnets
            assertConnect(TcpProbe.Outcome.CONNECTED, db, APP_IP6, 8080);
        }
        assertEquals(Set.of(0, 1), handingOff, "the VMs' address pairs make both workers hand off (else the test proves less)");

        String out0 = WorkerCounters.handoffLabel(0, "out packets"), out1 = WorkerCounters.handoffLabel(1, "out packets");
        long o0 = H.awaitCounter(out0, 1), o1 = H.awaitCounter(out1, 1);
        assertTrue(o0 > 0 && o1 > 0, "hand-off both ways: " + o0 + " / " + o1 + H.nonZero());
        assertEquals(o0, H.counter(WorkerCounters.handoffLabel(1, "in packets")), H.nonZero());
        assertEquals(o1, H.counter(WorkerCounters.handoffLabel(0, "in packets")), H.nonZero());
        for (int w = 0; w < 2; w++) {
            assertEquals(0, H.counter(WorkerCounters.handoffLabel(w, "full drops")), H.nonZero());
        }
        for (String p : PORTS) {
            assertEquals(0, H.counter(Counters.dropLabel(p, DropReason.FW_INVALID)), p + ": no packet met a shard without its connection" + H.nonZero());
            assertEquals(0, H.counter(Counters.dropLabel(p, DropReason.HANDOFF_FULL)), H.nonZero());
            assertEquals(0, fw.drops(PORTS.indexOf(p), DropReason.FW_INVALID), H.nonZero());
        }
        // exactly the refused SYNs, on the VM whose rules refused: app (lb's 8080, and 25 out), none on db/lb
        assertEquals(rounds, H.counter("firewall port app drop fw_no_rule"), H.nonZero());
        assertEquals(rounds, H.counter("firewall port app drop fw_platform"), H.nonZero());
        assertEquals(0, H.counter("firewall port lb drop fw_no_rule") + H.counter("firewall port db drop fw_no_rule"), H.nonZero());
        assertEquals(2L * rounds, H.counter("firewall rule blue:web/http connections"), H.nonZero());
        System.out.println("counters:" + H.nonZero());
    }
}
