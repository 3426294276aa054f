package io.sluice.dataplane.netns;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Spoofing from a VM namespace on a real TAP port: "mallory" (10.0.1.10) sends frames with a
 * forged source IP (the neighbour's 10.0.1.11), a forged source MAC (the neighbour's), and
 * gratuitous ARP claiming the neighbour's IP — each dropped and counted by its exact reason on
 * mallory's port — while the neighbour ("alice") keeps pinging a VM in the other subnet without
 * loss, and nothing of the forgeries reaches the VMs (captures) or poisons their ARP caches.
 */
class AntiSpoofNetnsTest {
    static final OverlayHosts H;

    static {
        try {
            H = new OverlayHosts();
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final String MALLORY = "02:b1:00:00:01:10", ALICE = "02:b1:00:00:01:11", BOB = "02:b1:00:00:02:10";
    static final String ROUTER = "02:00:00:00:ff:01";
    static final int N = 5;

    @AfterAll
    static void cleanup() {
        H.close();
        assertFalse(Netns.run("ip", "netns", "list").contains(H.netns.prefix()), "namespaces left behind");
    }

    static String config(OverlayHosts h) {
        return """
                eal: ["--no-huge", "-m", "1024", "--no-pci", "--no-shconf", "-l", "0"]
                mbufs: 16383
                ports:
                  - {name: up,  device: "net_tap0,iface=%s"}
                  - {name: mallory, device: "net_tap1,iface=%s"}
                  - {name: alice, device: "net_tap2,iface=%s"}
                  - {name: bob, device: "net_tap3,iface=%s"}
                overlay:
                  uplink: up
                  underlay-ip: 192.168.50.1/24
                  underlay-mac: "02:00:00:00:aa:01"
                  router-mac: "%s"
                  networks:
                    - name: blue
                      vni: 100
                      cidr: 10.0.0.0/16
                      subnets:
                        - {name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1}
                        - {name: b, cidr: 10.0.2.0/24, gateway: 10.0.2.1}
                      vms:
                        - {name: mallory, subnet: a, mac: "%s", ip: 10.0.1.10, port: mallory}
                        - {name: alice, subnet: a, mac: "%s", ip: 10.0.1.11, port: alice}
                        - {name: bob, subnet: b, mac: "%s", ip: 10.0.2.10, port: bob}
                """.formatted(h.tap("up"), h.tap("mal"), h.tap("ali"), h.tap("bob"), ROUTER, MALLORY, ALICE, BOB);
    }

    @Test
    void forgedIpForgedMacAndGratuitousArpAreDroppedAndCountedWhileTheNeighbourGoesOn() throws Exception {
        H.start(config(H));
        OverlayHosts.awaitLink(H.tap("up"));
        String ul = H.netns.create("ul");
        Netns.run("ip", "link", "set", "dev", H.tap("up"), "netns", ul);
        String mal = H.vm("mal", H.tap("mal"), MALLORY, "10.0.1.10/24", "10.0.1.1", 1500);
        String ali = H.vm("ali", H.tap("ali"), ALICE, "10.0.1.11/24", "10.0.1.1", 1500);
        String bob = H.vm("bob", H.tap("bob"), BOB, "10.0.2.10/24", "10.0.2.1", 1500);
        H.assertPings(ali, "10.0.2.10");
        H.assertPings(mal, "10.0.1.11");

        String ipLabel = "port mallory drop overlay_spoof_src_ip";
        String macLabel = "port mallory drop overlay_spoof_src_mac";
        String arpLabel = "port mallory drop overlay_spoof_arp";
        long ip0 = H.counter(ipLabel), mac0 = H.counter(macLabel), arp0 = H.counter(arpLabel);
        long aliceRx0 = H.counter("port alice rx packets");

        Path capAlice = H.capture(ali, H.tap("ali"), "alice", "-Q", "in", "udp", "or", "arp");
        Path capBob = H.capture(bob, H.tap("bob"), "bob", "-Q", "in", "udp", "or", "arp");
        // the neighbour keeps talking to the other subnet the whole time
        Process alicePing = H.netns.spawn(ali, H.dir.resolve("alice-ping.txt"),
                "ping", "-c", "30", "-i", "0.1", "-W", "2", "10.0.2.10");

        List<String> forgedIp = new ArrayList<>();
        List<String> forgedMac = new ArrayList<>();
        List<String> garp = new ArrayList<>();
        for (int k = 0; k < N; k++) {
            // forged source IP (alice's) from mallory's own MAC: to bob via the router, and to alice directly
            forgedIp.add(OverlayHosts.udpFrame(ROUTER, MALLORY, "10.0.1.11", "10.0.2.10"));
            // forged source MAC (alice's) with alice's IP: a perfect copy of alice, but on mallory's port
            forgedMac.add(OverlayHosts.udpFrame(ROUTER, ALICE, "10.0.1.11", "10.0.2.10"));
            // gratuitous ARP: "10.0.1.11 is at mallory's MAC"
            garp.add(OverlayHosts.arpFrame(MALLORY, MALLORY, "10.0.1.11", "10.0.1.11"));
        }
        H.sendRaw(mal, H.tap("mal"), forgedIp);
        H.sendRaw(mal, H.tap("mal"), forgedMac);
        H.sendRaw(mal, H.tap("mal"), garp);
        // and the kernel's own gratuitous ARP tool, claiming alice's address
        Netns.run("ip", "-n", mal, "addr", "add", "10.0.1.11/32", "dev", H.tap("mal"));
        Netns.Result arping = H.netns.exec(mal, 10, "arping", "-U", "-c", "3", "-I", H.tap("mal"), "-s", "10.0.1.11", "10.0.1.11");

        assertEquals(N, H.awaitCounter(ipLabel, ip0 + N) - ip0, ipLabel + H.nonZero());
        assertEquals(N, H.awaitCounter(macLabel, mac0 + N) - mac0, macLabel + H.nonZero());
        long arpDrops = H.awaitCounter(arpLabel, arp0 + N + 3) - arp0;
        assertEquals(N + 3, arpDrops, arpLabel + " (arping: " + arping.output() + ")" + H.nonZero());

        assertTrue(alicePing.waitFor(20, TimeUnit.SECONDS), "alice's ping did not finish");
        String pingOut = Files.readString(H.dir.resolve("alice-ping.txt"));
        assertTrue(pingOut.contains("30 received") && pingOut.contains(" 0% packet loss"),
                "the neighbour's traffic was disturbed:\n" + pingOut);
        H.stopCaptures();
        for (Path cap : List.of(capAlice, capBob)) {
            String text = Files.readString(cap);
            assertFalse(text.contains("5001"), "a forged UDP packet arrived: " + text);
            assertFalse(text.contains("is-at " + MALLORY) || text.contains("Request who-has 10.0.1.11 tell 10.0.1.11"),
                    "a forged ARP arrived: " + text);
        }
        // ARP caches: nobody learned mallory's MAC for alice's address
        String neighBob = H.netns.exec(bob, 5, "ip", "neigh").output();
        String neighAli = H.netns.exec(ali, 5, "ip", "neigh").output();
        for (String line : (neighBob + neighAli).lines().toList()) {
            assertFalse(line.startsWith("10.0.1.11 ") && line.contains(MALLORY), "ARP cache poisoned: " + line);
        }
        // alice sent 30 echo requests; all of her packets went through
        assertTrue(H.counter("port alice rx packets") - aliceRx0 >= 30, H.nonZero());
        assertEquals(0, H.counter("port alice drop overlay_spoof_src_ip") + H.counter("port alice drop overlay_spoof_arp"));
        System.out.println("counters:" + H.nonZero());
    }
}
