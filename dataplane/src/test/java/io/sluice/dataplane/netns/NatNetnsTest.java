package io.sluice.dataplane.netns;

import io.sluice.dataplane.demo.TcpProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NAT with real hosts (docs/nat.md): the data plane on DPDK TAP ports; the external port's TAP is
 * the "internet" router's interface (203.0.113.1/24, the gateway), which routes to a server
 * namespace (198.51.100.10) over a veth pair. Project blue's VMs are namespaces on TAP ports:
 * web (floating IP 203.0.113.10), job (outbound only, SNAT address 203.0.113.5), vault (private).
 * All three are in blue's default group (SSH from anywhere, everything out).
 * <ul>
 *   <li>the server reaches web's SSH port through the floating IP; a port web's groups do not allow
 *       times out (one SYN) and is counted on web's port ({@code fw_no_rule});</li>
 *   <li>web's outbound connection reaches the server with the floating IP as its source (the server
 *       answers with the peer address it sees);</li>
 *   <li>job reaches the server, which sees the SNAT address; job pings the server (ICMP echo
 *       identifiers mapped); unsolicited connections to the SNAT address time out and are counted
 *       ({@code nat_no_mapping});</li>
 *   <li>vault reaches nothing outside (ping and TCP), counted per VM; it still reaches web inside.</li>
 * </ul>
 * Every namespace, TAP and veth is prefixed "slt&lt;pid&gt;" and removed in {@link #cleanup} (and
 * by Netns' shutdown hook).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NatNetnsTest {
    static final OverlayHosts H = OverlayHosts.create();
    static final String WEB = "02:b5:00:00:01:02", JOB = "02:b5:00:00:01:03", VAULT = "02:b5:00:00:01:04";
    static final String FIP = "203.0.113.10", SNAT = "203.0.113.5", SERVER = "198.51.100.10";
    /** A server that greets each connection with the address it sees the client at. */
    static final String PEER_SERVER = """
            import socket,sys
            s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('0.0.0.0',int(sys.argv[1]))); s.listen(16)
            print('ready',flush=True)
            while True:
                c,a=s.accept(); c.sendall(('peer '+a[0]+'\\n').encode()); c.close()
            """;
    static final String PEER_CLIENT = """
            import socket,sys
            s=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=5); print(s.recv(64).decode().strip())
            """;
    static final List<Process> SERVERS = new ArrayList<>();
    static String web, job, vault, router, server;

    static String config() {
        return """
                eal: ["--no-huge", "-m", "1024", "--no-pci", "--no-shconf", "-l", "0"]
                mbufs: 16383
                ports:
                  - {name: up,    device: "net_tap0,iface=%s"}
                  - {name: ext,   device: "net_tap1,iface=%s"}
                  - {name: web,   device: "net_tap2,iface=%s"}
                  - {name: job,   device: "net_tap3,iface=%s"}
                  - {name: vault, device: "net_tap4,iface=%s"}
                overlay:
                  uplink: up
                  underlay-ip: 192.168.50.1/24
                  underlay-mac: "02:00:00:00:aa:01"
                  router-mac: "02:00:00:00:ff:01"
                  external:
                    port: ext
                    mac: "02:00:00:00:ee:01"
                    subnet: 203.0.113.0/24
                    gateway: 203.0.113.1
                    floating-ips: [203.0.113.10-203.0.113.12]
                    snat-addresses: [203.0.113.5]
                    port-block: 64
                    blocks-per-vm: 4
                  networks:
                    - name: blue
                      vni: 100
                      cidr: 10.0.0.0/16
                      subnets: [{name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1}]
                      vms:
                        - {name: web,   subnet: a, mac: "%s", ip: 10.0.1.2, port: web, public: 203.0.113.10}
                        - {name: job,   subnet: a, mac: "%s", ip: 10.0.1.3, port: job, public: outbound}
                        - {name: vault, subnet: a, mac: "%s", ip: 10.0.1.4, port: vault}
                security-groups:
                  groups: []
                """.formatted(H.tap("up"), H.tap("ext"), H.tap("web"), H.tap("job"), H.tap("vault"), WEB, JOB, VAULT);
    }

    @BeforeAll
    static void start() throws Exception {
        H.startWithSecurityGroups(config());
        OverlayHosts.awaitLink(H.tap("up"));
        String ul = H.netns.create("ul");
        Netns.run("ip", "link", "set", "dev", H.tap("up"), "netns", ul);
        // the internet: router (the gateway, on the external TAP) and a server behind it
        router = H.vm("rt", H.tap("ext"), "02:b5:00:00:99:01", "203.0.113.1/24", null, 1500);
        server = H.netns.create("srv");
        H.netns.exec(server, 5, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
        Netns.run("ip", "-n", router, "link", "add", H.tap("rs"), "type", "veth", "peer", "name", H.tap("sr"), "netns", server);
        Netns.run("ip", "-n", router, "addr", "add", "198.51.100.1/24", "dev", H.tap("rs"));
        Netns.run("ip", "-n", router, "link", "set", "dev", H.tap("rs"), "mtu", "1400", "up"); // a small-MTU hop
        Netns.run("ip", "-n", server, "addr", "add", SERVER + "/24", "dev", H.tap("sr"));
        Netns.run("ip", "-n", server, "link", "set", "dev", H.tap("sr"), "mtu", "1400", "up");
        Netns.run("ip", "-n", server, "route", "add", "default", "via", "198.51.100.1");
        H.netns.exec(router, 5, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        web = H.vm("web", H.tap("web"), WEB, "10.0.1.2/24", "10.0.1.1", 1500);
        job = H.vm("job", H.tap("job"), JOB, "10.0.1.3/24", "10.0.1.1", 1500);
        vault = H.vm("vault", H.tap("vault"), VAULT, "10.0.1.4/24", "10.0.1.1", 1500);
        Process p = H.netns.spawn(server, null, "python3", "-c", PEER_SERVER, "8000");
        SERVERS.add(p);
        TcpProbe.awaitReady(p);
        Process s = H.netns.spawn(web, null, TcpProbe.serve(22, 8080));
        SERVERS.add(s);
        TcpProbe.awaitReady(s);
    }

    @AfterAll
    static void cleanup() {
        for (Process p : SERVERS) p.destroyForcibly();
        H.close();
        assertFalse(Netns.run("ip", "netns", "list").contains(H.netns.prefix()), "namespaces left behind");
    }

    static TcpProbe.Outcome connect(String ns, String ip, int port) {
        Netns.Result r = H.netns.exec(ns, 10, TcpProbe.connect(ip, port));
        return TcpProbe.outcome(r.exit(), r.output());
    }

    /** What the server says it sees as the client's address, or the client's failure. */
    static String peerSeenByServer(String ns) {
        Netns.Result r = H.netns.exec(ns, 15, "python3", "-c", PEER_CLIENT, SERVER, "8000");
        return r.output().trim();
    }

    @Test
    @Order(1)
    void floatingIpIsReachableUnderTheVmsGroups() throws Exception {
        // the first attempt may be the one whose SYN resolves the gateway (ARP); TCP retries within the probe's timeout
        TcpProbe.Outcome first = connect(server, FIP, 22);
        if (first != TcpProbe.Outcome.CONNECTED) first = connect(server, FIP, 22);
        assertEquals(TcpProbe.Outcome.CONNECTED, first, "server -> floating IP :22" + H.nonZero());
        String label = "firewall port web drop fw_no_rule"; // charged to the VM whose rules decided
        long before = H.counter(label);
        assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(server, FIP, 8080), "8080 is not in web's groups");
        assertEquals(before + 1, H.awaitCounter(label, before + 1), "exactly one SYN refused" + H.nonZero());
        assertTrue(H.counter("nat arp replies") >= 1, "the router resolved the floating IP through us" + H.nonZero());
    }

    @Test
    @Order(2)
    void floatingIpIsTheSourceOfTheVmsOwnConnections() {
        assertEquals("peer " + FIP, peerSeenByServer(web), H.nonZero());
    }

    @Test
    @Order(3)
    void outboundOnlyVmLeavesThroughTheSnatAddressAndCannotBeReached() throws Exception {
        assertEquals("peer " + SNAT, peerSeenByServer(job), H.nonZero());
        Netns.Result ping = H.ping(job, SERVER, 3);
        assertTrue(ping.ok() && ping.output().contains(" 0% packet loss"), "job pings the server through SNAT:\n" + ping.output() + H.nonZero());
        String label = "port ext drop nat_no_mapping";
        long before = H.counter(label);
        assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(server, SNAT, 22));
        assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(server, SNAT, 1024 + 5));
        assertEquals(before + 2, H.awaitCounter(label, before + 2), "unsolicited inbound dropped and counted" + H.nonZero());
        assertTrue(H.counter("nat snat connections created") >= 2, H.nonZero());
        assertEquals(1, H.counter("nat snat 203.0.113.5 blocks in use"), H.nonZero());
    }

    /**
     * A hop with MTU 1400 behind the router: a 1478-byte DF ping gets "fragmentation needed" from the
     * router, sent to the SNAT address / floating IP and translated (outer and quoted header) back to
     * the VM, whose stack takes the new path MTU.
     */
    @Test
    @Order(4)
    void fragmentationNeededReachesTheVmThroughNat() throws Exception {
        long before = H.counter("nat icmp errors translated in");
        for (String ns : new String[] {job, web}) {
            Netns.Result r = H.netns.exec(ns, 15, "ping", "-M", "do", "-s", "1450", "-c", "2", "-i", "0.5", "-W", "2", SERVER);
            assertTrue(r.output().contains("mtu = 1400") || r.output().contains("mtu=1400"),
                    ns + ": ping -M do -s 1450 must learn MTU 1400:\n" + r.output() + H.nonZero());
        }
        assertTrue(H.awaitCounter("nat icmp errors translated in", before + 2) >= before + 2, H.nonZero());
        Netns.Result small = H.netns.exec(job, 15, "ping", "-M", "do", "-s", "1300", "-c", "2", "-i", "0.3", "-W", "2", SERVER);
        assertTrue(small.output().contains(" 0% packet loss"), "under the path MTU it passes:\n" + small.output());
    }

    @Test
    @Order(5)
    void privateVmReachesNothingOutside() throws Exception {
        String label = "nat vm blue/vault no public access";
        long before = H.counter(label);
        Netns.Result ping = H.ping(vault, SERVER, 2);
        assertTrue(ping.output().contains("100% packet loss"), "vault's pings must not leave:\n" + ping.output());
        assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(vault, SERVER, 8000));
        assertEquals(before + 3, H.awaitCounter(label, before + 3), H.nonZero());
        assertEquals(before + 3, H.counter("port vault drop nat_no_public_access"), H.nonZero());
        assertEquals(TcpProbe.Outcome.CONNECTED, connect(vault, "10.0.1.2", 22), "inside the project it still talks");
    }
}
