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
    /** An SSH-port stand-in: greets "hello NAME PEER-ADDRESS", then echoes lines. */
    static final String ECHO_SERVER = """
            import socket,sys,threading
            s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('0.0.0.0',int(sys.argv[1]))); s.listen(16)
            def serve(c,peer):
                c.sendall(('hello '+sys.argv[2]+' '+peer+'\\n').encode())
                while True:
                    d=c.recv(256)
                    if not d: break
                    c.sendall(d)
            print('ready',flush=True)
            while True:
                c,a=s.accept(); threading.Thread(target=serve,args=(c,a[0]),daemon=True).start()
            """;
    /** Holds one connection open: prints the greeting, waits for the trigger file, sends a line, prints the echo or the failure. */
    static final String HOLD_CLIENT = """
            import socket,sys,os,time
            s=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=5); print('greeting',s.recv(64).decode().strip(),flush=True)
            while not os.path.exists(sys.argv[3]): time.sleep(0.05)
            try:
                s.settimeout(3); s.sendall(b'ping\\n'); d=s.recv(64); print('echo',d.decode().strip() if d else 'closed',flush=True)
            except Exception as e:
                print('cut',type(e).__name__,flush=True)
            """;
    /** IPv6 only ({@code python3 -c V6_PEER PORT}): greets each connection with "peer ADDRESS" as seen here, prints "ready". */
    static final String V6_PEER = """
            import socket,sys
            s=socket.socket(socket.AF_INET6); s.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_V6ONLY,1)
            s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('::',int(sys.argv[1]))); s.listen(16)
            print('ready',flush=True)
            while True:
                c,a=s.accept(); c.sendall(('peer '+a[0]+'\\n').encode()); c.close()
            """;
    /** Opens held connections to an echo server until one fails, then checks every open one still echoes. */
    static final String OPEN_UNTIL_REFUSED = """
            import socket,sys
            socks=[]
            for k in range(64):
                try:
                    s=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=2.5); s.recv(64); socks.append(s)
                except Exception as e:
                    print('failed after',len(socks),type(e).__name__,flush=True); break
            ok=0
            for s in socks:
                s.settimeout(3); s.sendall(b'more\\n')
                if s.recv(64)==b'more\\n': ok+=1
            print('echoed',ok,'of',len(socks),flush=True)
            """;
    static final String SERVER6 = "2001:db8:99::10";
    static final List<Process> SERVERS = new ArrayList<>();
    static String web, job, vault, router, server;
    static io.sluice.dataplane.overlay.OverlayPipeline pipeline;

    /** The NAT test host of {@link io.sluice.dataplane.nat.NatHarness} on TAP ports, with real EAL settings. */
    static String config() {
        String[] taps = new String[5];
        String[] names = {"up", "ext", "web", "job", "vault"};
        for (int k = 0; k < 5; k++) taps[k] = "net_tap" + k + ",iface=" + H.tap(names[k]);
        return io.sluice.dataplane.nat.NatHarness.yaml(8, 2, taps, new String[] {WEB, JOB, VAULT})
                .replace("eal: [\"--no-huge\"]", "eal: [\"--no-huge\", \"-m\", \"1024\", \"--no-pci\", \"--no-shconf\", \"-l\", \"0\"]\nmbufs: 16383");
    }

    @BeforeAll
    static void start() throws Exception {
        pipeline = H.startPipeline(config());
        String[] ns = internet(H, SERVERS);
        router = ns[0];
        server = ns[1];
        web = ns[2];
        job = ns[3];
        vault = ns[4];
        Process s8080 = H.netns.spawn(web, null, TcpProbe.serve(8080));
        SERVERS.add(s8080);
        TcpProbe.awaitReady(s8080);
    }

    /**
     * The hosts around a running data plane of {@link #config()}'s ports (also the control API's
     * floating-IP test): the uplink's TAP parked in a namespace, the router and the server behind
     * it, VMs web, job and vault, the server's peer-address service on 8000 and the echo "SSH" of
     * web and job on 22 (started into {@code servers}). Returns {router, server, web, job, vault}.
     */
    static String[] internet(OverlayHosts h, List<Process> servers) throws Exception {
        OverlayHosts.awaitLink(h.tap("up"));
        String ul = h.netns.create("ul");
        Netns.run("ip", "link", "set", "dev", h.tap("up"), "netns", ul);
        // the internet: router (the gateway, on the external TAP) and a server behind it
        String router = h.vm("rt", h.tap("ext"), "02:b5:00:00:99:01", "203.0.113.1/24", null, 1500);
        String server = h.netns.create("srv");
        h.netns.exec(server, 5, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
        Netns.run("ip", "-n", router, "link", "add", h.tap("rs"), "type", "veth", "peer", "name", h.tap("sr"), "netns", server);
        Netns.run("ip", "-n", router, "addr", "add", "198.51.100.1/24", "dev", h.tap("rs"));
        Netns.run("ip", "-n", router, "link", "set", "dev", h.tap("rs"), "mtu", "1400", "up"); // a small-MTU hop
        Netns.run("ip", "-n", server, "addr", "add", SERVER + "/24", "dev", h.tap("sr"));
        Netns.run("ip", "-n", server, "link", "set", "dev", h.tap("sr"), "mtu", "1400", "up");
        Netns.run("ip", "-n", server, "route", "add", "default", "via", "198.51.100.1");
        h.netns.exec(router, 5, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        // IPv6 (no NAT): the router is the gateway6 2001:db8:ee::1 and routes the VMs' prefix to our link-local address
        for (String[] ni : new String[][] {{router, h.tap("ext")}, {router, h.tap("rs")}, {server, h.tap("sr")}}) {
            h.netns.exec(ni[0], 5, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=0");
            h.netns.exec(ni[0], 5, "sysctl", "-q", "-w", "net.ipv6.conf." + ni[1] + ".accept_dad=0");
            h.netns.exec(ni[0], 5, "sysctl", "-q", "-w", "net.ipv6.conf." + ni[1] + ".accept_ra=0");
            h.netns.exec(ni[0], 5, "sysctl", "-q", "-w", "net.ipv6.conf." + ni[1] + ".disable_ipv6=0");
        }
        h.netns.exec(router, 5, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1");
        Netns.run("ip", "-n", router, "-6", "addr", "add", "2001:db8:ee::1/64", "dev", h.tap("ext"), "nodad");
        Netns.run("ip", "-n", router, "-6", "addr", "add", "2001:db8:99::1/64", "dev", h.tap("rs"), "nodad");
        Netns.run("ip", "-n", router, "-6", "route", "add", "2001:db8:1::/64", "via", "fe80::ff:fe00:ee01", "dev", h.tap("ext"));
        Netns.run("ip", "-n", server, "-6", "addr", "add", SERVER6 + "/64", "dev", h.tap("sr"), "nodad");
        Netns.run("ip", "-n", server, "-6", "route", "add", "default", "via", "2001:db8:99::1");
        String web = h.vm("web", h.tap("web"), WEB, "10.0.1.2/24", "10.0.1.1", 1500);
        String job = h.vm("job", h.tap("job"), JOB, "10.0.1.3/24", "10.0.1.1", 1500);
        String vault = h.vm("vault", h.tap("vault"), VAULT, "10.0.1.4/24", "10.0.1.1", 1500);
        Process p = h.netns.spawn(server, null, TcpProbe.servePeer(8000, null));
        servers.add(p);
        TcpProbe.awaitReady(p);
        for (String[] vm : new String[][] {{web, "web"}, {job, "job"}}) {
            Process s = h.netns.spawn(vm[0], null, "python3", "-c", ECHO_SERVER, "22", vm[1]);
            servers.add(s);
            TcpProbe.awaitReady(s);
        }
        return new String[] {router, server, web, job, vault};
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
        Netns.Result r = H.netns.exec(ns, 15, TcpProbe.askPeer(SERVER, 8000));
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

    /**
     * Reassign during an open connection (OSSN-0020): the server holds an SSH-like connection to the
     * floating IP (web); the address moves to job through the runtime apply path; the held connection
     * is cut (its next segment reaches job, where it belongs to nothing), job answers on the address,
     * the move is announced by gratuitous ARP. Release: nobody holds the address, it stops answering.
     */
    @Test
    @Order(7)
    void reassignCutsTheOpenConnectionAndReleaseStopsTheAddress() throws Exception {
        java.nio.file.Path trigger = H.dir.resolve("go");
        java.nio.file.Path out = H.dir.resolve("hold.txt");
        Process hold = H.netns.spawn(server, out, "python3", "-c", HOLD_CLIENT, FIP, "22", trigger.toString());
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!java.nio.file.Files.readString(out).contains("greeting") && System.nanoTime() < deadline) Thread.sleep(50);
        assertTrue(java.nio.file.Files.readString(out).contains("greeting hello web"), java.nio.file.Files.readString(out) + H.nonZero());
        java.nio.file.Path arp = H.capture(router, H.tap("ext"), "garp", "arp");
        long garps = H.counter("nat gratuitous arps sent");

        var m = pipeline.state().current().model;
        m = m.withAccess("blue", "web", io.sluice.dataplane.config.OverlayModel.Access.OUTBOUND, 0);
        m = m.withAccess("blue", "job", io.sluice.dataplane.config.OverlayModel.Access.FLOATING, (int) io.sluice.dataplane.config.ConfigLoader.parseIpv4(FIP));
        pipeline.applyPublicAccess(m);
        java.nio.file.Files.writeString(trigger, "go");
        assertTrue(hold.waitFor(15, java.util.concurrent.TimeUnit.SECONDS), "held client did not finish");
        String held = java.nio.file.Files.readString(out);
        assertTrue(held.contains("cut"), "the old VM's connection must be cut:\n" + held + H.nonZero());
        assertEquals(TcpProbe.Outcome.CONNECTED, connect(server, FIP, 22));
        Netns.Result who = H.netns.exec(server, 10, TcpProbe.connect(FIP, 22));
        assertTrue(who.output().contains("hello job"), "the new holder answers: " + who.output());
        assertEquals("peer " + SNAT, peerSeenByServer(web), "web is outbound-only now" + H.nonZero());
        assertTrue(H.awaitCounter("nat gratuitous arps sent", garps + 1) >= garps + 1, H.nonZero());
        H.stopCaptures();
        String cap = java.nio.file.Files.readString(arp);
        assertTrue(cap.lines().anyMatch(l -> l.contains("02:00:00:00:ee:01") && l.contains("203.0.113.10 tell 203.0.113.10")
                || l.contains("02:00:00:00:ee:01") && l.contains("Announcement") && l.contains("203.0.113.10")),
                "gratuitous ARP for the moved address on the router's side:\n" + cap);

        // release: nobody holds it
        pipeline.applyPublicAccess(m.withAccess("blue", "job", io.sluice.dataplane.config.OverlayModel.Access.OUTBOUND, 0));
        long unanswered = H.counter("port ext drop nat_no_mapping") + H.counter("port ext drop nat_arp");
        assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(server, FIP, 22), "a released address answers nothing");
        assertTrue(H.awaitCounter("port ext drop nat_no_mapping", 0) + H.counter("port ext drop nat_arp") > unanswered, H.nonZero());
    }

    /**
     * Fragmented UDP through SNAT, both ways, with real hosts (after the reassign test both web and
     * job are outbound-only): 3000-byte datagrams echoed by the server arrive intact; the VMs' MTU is
     * 1400 here so that no fragment needs the router to fragment again on its 1400-byte hop.
     */
    @Test
    @Order(8)
    void fragmentedUdpThroughSnatBothWays() throws Exception {
        UdpScripts.write(H.dir);
        SERVERS.add(H.netns.spawn(server, H.dir.resolve("udp-srv.txt"), "python3", H.dir.resolve("udpecho.py").toString(), "0.0.0.0", "7000"));
        for (int k = 0; k < 50 && !H.netns.exec(server, 5, "ss", "-lun").output().contains(":7000"); k++) Thread.sleep(100);
        for (String[] vm : new String[][] {{job, H.tap("job")}, {web, H.tap("web")}}) {
            Netns.run("ip", "-n", vm[0], "link", "set", "dev", vm[1], "mtu", "1400");
            Netns.Result r = H.netns.exec(vm[0], 10, "python3", H.dir.resolve("udpask.py").toString(), SERVER, "7000", "3000");
            assertEquals(0, r.exit(), vm[0] + ": 3000-byte UDP through SNAT echoed intact: " + r.output() + H.nonZero());
        }
    }

    /**
     * Hairpin inside Sluice (RFC 4787): job (outbound only) reaches web's floating IP and web its own;
     * web sees job's SNAT address / its own floating IP as the source; web's groups decide (8080
     * refused, counted). A capture on the router's side of the external network sees none of it,
     * only the server's own connection to the floating IP made at the end (the capture works).
     */
    @Test
    @Order(5)
    void hairpinIsTurnedAroundInsideSluice() throws Exception {
        java.nio.file.Path cap = H.capture(router, H.tap("ext"), "hairpin", "tcp and host " + FIP);
        long hairpins = H.counter("nat hairpin packets");
        Netns.Result r = H.netns.exec(job, 10, TcpProbe.connect(FIP, 22));
        assertTrue(r.output().contains("hello web " + SNAT), "job -> web's floating IP, web sees the SNAT address: " + r.output() + H.nonZero());
        Netns.Result self = H.netns.exec(web, 10, TcpProbe.connect(FIP, 22));
        assertTrue(self.output().contains("hello web " + FIP), "web -> its own floating IP, seen from it: " + self.output() + H.nonZero());
        String label = "firewall port web drop fw_no_rule";
        long refused = H.counter(label);
        long dropped = H.counter("nat hairpin dropped");
        assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(job, FIP, 8080), "8080 is not in web's groups, hairpin included");
        assertTrue(H.awaitCounter(label, refused + 1) >= refused + 1, H.nonZero());
        assertTrue(H.awaitCounter("nat hairpin dropped", dropped + 1) >= dropped + 1, H.nonZero());
        assertTrue(H.awaitCounter("nat hairpin packets", hairpins + 6) >= hairpins + 6, "both handshakes turned around" + H.nonZero());
        assertEquals(TcpProbe.Outcome.CONNECTED, connect(server, FIP, 22), "the server's connection does pass the router");
        H.stopCaptures();
        java.util.List<String> seen = java.nio.file.Files.readAllLines(cap).stream().filter(l -> l.contains(" > ") && l.contains("203.0.113.")).toList();
        assertTrue(seen.stream().anyMatch(l -> l.contains(SERVER)), "the capture saw the server's connection:\n" + seen);
        assertTrue(seen.stream().allMatch(l -> l.contains(SERVER)), "no hairpin packet reached the router:\n" + seen);
    }

    @Test
    @Order(6)
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

    /**
     * IPv6 to the outside without NAT: web and job (public, outbound-only after the reassign test)
     * reach the server behind the router from their own global addresses (the server sees them as
     * they are); the server reaches web's SSH port over IPv6 and not a port its groups do not allow
     * (counted); vault (private) reaches nothing over IPv6 (counted per VM).
     */
    @Test
    @Order(9)
    void ipv6OfPublicVmsReachesTheServerWithoutNatAndPrivateVmsDoNot() throws Exception {
        Process srv6 = H.netns.spawn(server, null, "python3", "-c", V6_PEER, "8006");
        SERVERS.add(srv6);
        TcpProbe.awaitReady(srv6);
        String[][] vms = {{web, "web", "2001:db8:1::2"}, {job, "job", "2001:db8:1::3"}, {vault, "vault", "2001:db8:1::4"}};
        for (String[] vm : vms) H.ipv6(vm[0], H.tap(vm[1]), vm[2] + "/64", "2001:db8:1::1");
        Process web22 = H.netns.spawn(web, null, "python3", "-c", V6_PEER, "22");
        SERVERS.add(web22);
        TcpProbe.awaitReady(web22);
        for (String[] vm : new String[][] {vms[0], vms[1]}) {
            Netns.Result r = H.netns.exec(vm[0], 15, TcpProbe.askPeer(SERVER6, 8006));
            if (!r.output().contains("peer")) r = H.netns.exec(vm[0], 15, TcpProbe.askPeer(SERVER6, 8006)); // the first may resolve the gateway
            assertEquals("peer " + vm[2], r.output().trim(), vm[1] + " over IPv6, its own address seen" + H.nonZero());
        }
        Netns.Result ping = H.netns.exec(job, 10, "ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", SERVER6);
        assertTrue(ping.output().contains(" 0% packet loss"), "job pings the server over IPv6:\n" + ping.output() + H.nonZero());
        Netns.Result in = H.netns.exec(server, 15, TcpProbe.askPeer("2001:db8:1::2", 22));
        assertEquals("peer " + SERVER6, in.output().trim(), "server -> web's global address :22" + H.nonZero());
        String refusedLabel = "firewall port web drop fw_no_rule";
        long refused = H.counter(refusedLabel);
        assertEquals(TcpProbe.Outcome.TIMED_OUT, connect(server, "2001:db8:1::2", 8080));
        assertTrue(H.awaitCounter(refusedLabel, refused + 1) >= refused + 1, H.nonZero());
        String label = "nat vm blue/vault no public access";
        long before = H.counter(label);
        Netns.Result no = H.netns.exec(vault, 10, "ping", "-6", "-c", "2", "-i", "0.2", "-W", "1", SERVER6);
        assertTrue(no.output().contains("100% packet loss"), "vault's IPv6 must not leave:\n" + no.output());
        assertTrue(H.awaitCounter(label, before + 2) >= before + 2, H.nonZero());
        assertTrue(H.counter("nat ipv6 packets out") >= 4 && H.counter("nat ipv6 packets in") >= 4, H.nonZero());
        assertTrue(H.counter("nat gateway6 learned") >= 1, "the IPv6 gateway resolved by neighbour discovery" + H.nonZero());
    }

    /**
     * SNAT exhaustion with real TCP (port blocks of 8, 2 per VM here): job opens held connections to
     * an echo server until one fails; that one is dropped with the exhaustion reason and counted on
     * job; every connection opened before still echoes.
     */
    @Test
    @Order(10)
    void exhaustionDropsTheExtraConnectionWhileTheOpenOnesContinue() throws Exception {
        Process echo = H.netns.spawn(server, null, "python3", "-c", ECHO_SERVER, "9000", "srv");
        SERVERS.add(echo);
        TcpProbe.awaitReady(echo);
        String perVm = "nat vm blue/job snat exhausted", port = "port job drop nat_exhausted";
        long vmBefore = H.counter(perVm), portBefore = H.counter(port);
        Netns.Result r = H.netns.exec(job, 60, "python3", "-c", OPEN_UNTIL_REFUSED, SERVER, "9000");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("failed after (\\d+) \\w+\\s+echoed (\\d+) of (\\d+)").matcher(r.output());
        assertTrue(m.find(), "job must run out of ports:\n" + r.output() + H.nonZero());
        int open = Integer.parseInt(m.group(1));
        assertTrue(open >= 1 && open <= 16, "at most 2 blocks of 8 ports: " + r.output());
        assertEquals(open, Integer.parseInt(m.group(2)), "every open connection still echoes: " + r.output());
        long vmDrops = H.awaitCounter(perVm, vmBefore + 1) - vmBefore;
        assertTrue(vmDrops >= 1, H.nonZero());
        assertEquals(vmDrops, H.counter(port) - portBefore, "the port's nat_exhausted drops are job's" + H.nonZero());
        assertTrue(H.counter("nat snat 203.0.113.5 blocks in use") >= 2, "job holds its two blocks" + H.nonZero());
    }
}
