package io.sluice.dataplane.netns;

import io.sluice.dataplane.overlay.UnderlayNeighbours;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Interop with an implementation nobody here wrote: the Linux kernel's VXLAN device. Namespace
 * "rh" plays the remote host: it holds the data plane's uplink TAP (the underlay link,
 * 192.168.50.2/24, the data plane is 192.168.50.1) and {@code vx0 type vxlan id 100 remote
 * 192.168.50.1 local 192.168.50.2 dstport 4789} in a bridge with a veth to the remote VM's
 * namespace (10.0.1.20). Local VMs: 10.0.1.10 (same subnet) and 10.0.2.10 (other subnet).
 * Ping and TCP (sha256) in both directions; ARP between the remote VM and the data plane crosses
 * the tunnel; a tcpdump on the underlay decodes the traffic as VXLAN with VNI 100.
 */
class KernelVxlanInteropNetnsTest {
    static final OverlayHosts H;

    static {
        try {
            H = new OverlayHosts();
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final String LA1 = "02:b1:00:00:01:10", LB1 = "02:b1:00:00:02:10", RVM = "02:b1:00:00:01:20";

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
                  - {name: la1, device: "net_tap1,iface=%s"}
                  - {name: lb1, device: "net_tap2,iface=%s"}
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
                        - {name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1, cidr6: "fd00:1:1::/64", gateway6: "fd00:1:1::1"}
                        - {name: b, cidr: 10.0.2.0/24, gateway: 10.0.2.1}
                      vms:
                        - {name: la1, subnet: a, mac: "%s", ip: 10.0.1.10, ip6: "fd00:1:1::10", port: la1}
                        - {name: lb1, subnet: b, mac: "%s", ip: 10.0.2.10, port: lb1}
                        - {name: rvm, subnet: a, mac: "%s", ip: 10.0.1.20, ip6: "fd00:1:1::20", vtep: 192.168.50.2}
                """.formatted(h.tap("up"), h.tap("la1"), h.tap("lb1"), LA1, LB1, RVM);
    }

    @Test
    void localAndKernelVxlanRemoteVmTalkBothWays() throws Exception {
        // underlay neighbour entries due for a refresh after 2 s (default 4 min), valid 60 s:
        // the refresh requests leave from fresh mbufs while traffic flows
        H.start(config(H), new UnderlayNeighbours(1024, 60_000_000_000L, 2_000_000_000L, 1_000_000_000L));
        // the remote host: underlay link = the data plane's uplink TAP, kernel VXLAN, bridge, VM behind it
        String ul = H.tap("up");
        String[] remote = H.kernelVxlanRemote(ul, RVM);
        String rh = remote[0], rvm = remote[1], vv = remote[2];
        // local VMs: MTU 1450 like any VM behind a VXLAN overlay on a 1500-byte underlay
        String la1 = H.vm("la1", H.tap("la1"), LA1, "10.0.1.10/24", "10.0.1.1", 1450);
        String lb1 = H.vm("lb1", H.tap("lb1"), LB1, "10.0.2.10/24", "10.0.2.1", 1450);

        Path under = H.capture(rh, ul, "underlay", "udp", "port", "4789");
        // The first packet towards the unresolved VTEP is turned into the underlay ARP request
        // (by design, docs/overlay.md: NO_NEXT_HOP); the kernel's ARP reply is learned.
        H.ping(la1, "10.0.1.20", 1);
        assertTrue(H.awaitCounter("overlay underlay arp requests", 1) == 1, H.nonZero());
        assertTrue(H.awaitCounter("port up drop overlay_underlay_arp_learned", 1) == 1, H.nonZero());
        H.assertPings(la1, "10.0.1.20");  // local -> remote, same subnet (ARP answered locally, encap)
        H.assertPings(rvm, "10.0.1.10");  // remote -> local (the remote's ARP crosses the tunnel)
        H.assertPings(lb1, "10.0.1.20");  // other subnet -> remote: routed, then encapsulated
        H.assertPings(rvm, "10.0.2.10");
        H.assertPings(rvm, "10.0.1.1");   // the gateway, through the tunnel
        H.tcp(la1, rvm, "10.0.1.20", 5201, 1 << 20);
        H.tcp(rvm, la1, "10.0.1.10", 5202, 1 << 20);
        H.tcp(rvm, lb1, "10.0.2.10", 5203, 512 << 10);
        // IPv6 across the tunnel: neighbour solicitations answered by the data plane (locally, or
        // encapsulated back to the kernel VTEP), echo both ways, the gateway's IPv6 address
        H.ipv6(la1, H.tap("la1"), "fd00:1:1::10/64", "fd00:1:1::1");
        H.ipv6(rvm, vv, "fd00:1:1::20/64", "fd00:1:1::1");
        H.assertPings(la1, "fd00:1:1::20");
        H.assertPings(rvm, "fd00:1:1::10");
        H.assertPings(rvm, "fd00:1:1::1");
        assertTrue(H.counter("overlay nd replies") >= 2, H.nonZero());
        H.stopCaptures();
        // the refresh: more underlay ARP requests than the first one, each answered and learned,
        // and no packet lost for want of a next hop after the first (pings above had 0% loss)
        long requests = H.counter("overlay underlay arp requests");
        long learned = H.counter("port up drop overlay_underlay_arp_learned");
        assertTrue(requests >= 2 && learned >= 2, "refresh requests " + requests + ", learned " + learned + H.nonZero());

        String text = Files.readString(under);
        long vxlanLines = text.lines().filter(l -> l.contains("VXLAN, flags [I] (0x08), vni 100")).count();
        assertTrue(vxlanLines > 1000, "underlay capture does not decode as VXLAN vni 100 (" + vxlanLines + " lines):\n"
                + text.lines().limit(20).reduce("", (a, b) -> a + b + "\n"));
        // both directions were seen on the wire, and the inner frames carry the VMs' addresses
        assertTrue(text.contains("192.168.50.1.") && text.contains("> 192.168.50.1.4789"), "both directions");
        assertTrue(text.contains("10.0.1.20") && text.contains("10.0.1.10"), "inner addresses decoded");
        assertTrue(H.counter("port up rx packets") > 1000 && H.counter("port up tx packets") > 1000, H.nonZero());
        System.out.println("underlay sample:\n" + text.lines().filter(l -> l.contains("VXLAN")).limit(2)
                .reduce("", (a, b) -> a + b + "\n") + "counters:" + H.nonZero());
    }
}
