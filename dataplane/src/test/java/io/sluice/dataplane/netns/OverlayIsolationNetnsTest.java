package io.sluice.dataplane.netns;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two projects on the same CIDR 10.0.0.0/16, each with VMs in two subnets on local DPDK TAP ports
 * (namespaces as VMs, the overlay pipeline from an {@code overlay:} configuration section):
 * ping and TCP (sha256) within and across subnets; nothing of one project reaches the other,
 * shown by incoming-only tcpdump captures in the other project's VMs (no frame at all while only
 * the other project talks), by per-network tx counters that do not move, and by the drop counter
 * of a red VM that addresses a blue VM's MAC directly.
 */
class OverlayIsolationNetnsTest {
    static final OverlayHosts H;

    static {
        try {
            H = new OverlayHosts();
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final String BA1 = "02:b1:00:00:01:10", BA2 = "02:b1:00:00:01:11", BB1 = "02:b1:00:00:02:10";
    static final String RA1 = "02:4e:00:00:01:10", RB1 = "02:4e:00:00:02:10";

    @AfterAll
    static void cleanup() {
        H.close();
        assertFalse(Netns.run("ip", "netns", "list").contains(H.netns.prefix()), "namespaces left behind");
        assertFalse(Netns.linkExists(null, H.tap("ba1")), "TAP left behind");
    }

    static String config(OverlayHosts h) {
        return """
                eal: ["--no-huge", "-m", "1024", "--no-pci", "--no-shconf", "-l", "0"]
                mbufs: 16383
                ports:
                  - {name: up,  device: "net_tap0,iface=%s"}
                  - {name: ba1, device: "net_tap1,iface=%s"}
                  - {name: ba2, device: "net_tap2,iface=%s"}
                  - {name: bb1, device: "net_tap3,iface=%s"}
                  - {name: ra1, device: "net_tap4,iface=%s"}
                  - {name: rb1, device: "net_tap5,iface=%s"}
                overlay:
                  uplink: up
                  underlay-ip: 192.168.50.1/24
                  underlay-mac: "02:00:00:00:aa:01"
                  router-mac: "02:00:00:00:ff:01"
                  networks:
                    - name: blue
                      vni: 100
                      cidr: 10.0.0.0/16
                      subnets:
                        - {name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1}
                        - {name: b, cidr: 10.0.2.0/24, gateway: 10.0.2.1}
                      vms:
                        - {name: ba1, subnet: a, mac: "%s", ip: 10.0.1.10, port: ba1}
                        - {name: ba2, subnet: a, mac: "%s", ip: 10.0.1.11, port: ba2}
                        - {name: bb1, subnet: b, mac: "%s", ip: 10.0.2.10, port: bb1}
                    - name: red
                      vni: 200
                      cidr: 10.0.0.0/16
                      subnets:
                        - {name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1}
                        - {name: b, cidr: 10.0.2.0/24, gateway: 10.0.2.1}
                      vms:
                        - {name: ra1, subnet: a, mac: "%s", ip: 10.0.1.10, port: ra1}
                        - {name: rb1, subnet: b, mac: "%s", ip: 10.0.2.10, port: rb1}
                """.formatted(h.tap("up"), h.tap("ba1"), h.tap("ba2"), h.tap("bb1"), h.tap("ra1"), h.tap("rb1"),
                BA1, BA2, BB1, RA1, RB1);
    }

    @Test
    void sameCidrTwoProjectsReachableWithinIsolatedBetween() throws Exception {
        H.start(config(H));
        OverlayHosts.awaitLink(H.tap("up"));
        String ul = H.netns.create("ul");
        Netns.run("ip", "link", "set", "dev", H.tap("up"), "netns", ul);
        String ba1 = H.vm("ba1", H.tap("ba1"), BA1, "10.0.1.10/24", "10.0.1.1", 1500);
        String ba2 = H.vm("ba2", H.tap("ba2"), BA2, "10.0.1.11/24", "10.0.1.1", 1500);
        String bb1 = H.vm("bb1", H.tap("bb1"), BB1, "10.0.2.10/24", "10.0.2.1", 1500);
        String ra1 = H.vm("ra1", H.tap("ra1"), RA1, "10.0.1.10/24", "10.0.1.1", 1500);
        String rb1 = H.vm("rb1", H.tap("rb1"), RB1, "10.0.2.10/24", "10.0.2.1", 1500);

        // ---- blue talks; red's VMs capture everything that arrives ----
        Path capRa1 = H.capture(ra1, H.tap("ra1"), "red-a1-during-blue", "-Q", "in");
        Path capRb1 = H.capture(rb1, H.tap("rb1"), "red-b1-during-blue", "-Q", "in");
        long redTxBefore = H.counter("network red tx packets");
        H.assertPings(ba1, "10.0.1.11");   // same subnet (L2)
        H.assertPings(ba1, "10.0.2.10");   // across subnets (routed by the data plane)
        H.assertPings(bb1, "10.0.1.11");
        H.assertPings(ba1, "10.0.1.1");    // the gateway answers ping
        H.tcp(ba1, bb1, "10.0.2.10", 5101, 1 << 20);  // across subnets
        H.tcp(ba2, ba1, "10.0.1.10", 5102, 1 << 20);  // within a subnet
        H.stopCaptures();
        assertEquals(redTxBefore, H.counter("network red tx packets"), "red received packets while only blue talked");
        assertNothingArrived(capRa1, "red a1");
        assertNothingArrived(capRb1, "red b1");
        assertTrue(H.counter("network blue rx packets") > 700, "blue rx " + H.nonZero());
        assertTrue(H.counter("network blue tx packets") > 700, "blue tx " + H.nonZero());

        // ---- red talks (same addresses); blue's VMs capture; red also aims at blue's MACs ----
        Path capBa1 = H.capture(ba1, H.tap("ba1"), "blue-a1-during-red", "-Q", "in");
        Path capBa2 = H.capture(ba2, H.tap("ba2"), "blue-a2-during-red", "-Q", "in");
        Path capBb1 = H.capture(bb1, H.tap("bb1"), "blue-b1-during-red", "-Q", "in");
        long blueTxBefore = H.counter("network blue tx packets");
        H.assertPings(ra1, "10.0.2.10");
        H.assertPings(rb1, "10.0.1.10");
        H.tcp(ra1, rb1, "10.0.2.10", 5103, 1 << 20);
        // red a1 sends straight to blue a2's MAC (a static neighbour entry): dropped, counted
        String unknown = "port ra1 drop overlay_unknown_destination";
        long before = H.counter(unknown);
        H.netns.exec(ra1, 5, "ip", "neigh", "replace", "10.0.1.11", "lladdr", BA2, "dev", H.tap("ra1"), "nud", "permanent");
        Netns.Result cross = H.ping(ra1, "10.0.1.11", 3);
        assertFalse(cross.ok(), "red reached blue's MAC:\n" + cross.output());
        // and to the router MAC with a destination only blue has (10.0.1.11 is no red VM)
        H.sendRaw(ra1, H.tap("ra1"), List.of(OverlayHosts.udpFrame("02:00:00:00:ff:01", RA1, "10.0.1.10", "10.0.1.11")));
        long after = H.awaitCounter(unknown, before + 4);
        H.stopCaptures();
        assertTrue(after - before >= 4, unknown + " +" + (after - before) + H.nonZero());
        assertEquals(blueTxBefore, H.counter("network blue tx packets"), "blue received packets while only red talked");
        assertNothingArrived(capBa1, "blue a1");
        assertNothingArrived(capBa2, "blue a2");
        assertNothingArrived(capBb1, "blue b1");
        assertTrue(H.counter("network red rx packets") > 700, "red rx " + H.nonZero());
        System.out.println("counters:" + H.nonZero());
    }

    /** No IPv4 frame and no frame from the other project arrived (the capture must have run). */
    static void assertNothingArrived(Path capture, String who) throws Exception {
        assertTrue(Files.exists(capture), "capture of " + who + " missing");
        String text = Files.readString(capture);
        for (String line : text.lines().toList()) {
            assertFalse(line.contains("IPv4"), who + " received an IPv4 packet: " + line + "\n" + text);
            assertFalse(line.contains("02:b1:") && who.startsWith("red") || line.contains("02:4e:") && who.startsWith("blue"),
                    who + " received a frame of the other project: " + line);
        }
    }
}
