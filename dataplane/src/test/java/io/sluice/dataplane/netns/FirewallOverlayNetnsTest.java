package io.sluice.dataplane.netns;

import io.sluice.dataplane.demo.TcpProbe;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.pipeline.DropReason;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Security groups on the overlay pipeline with real hosts: namespaces as VMs of project blue on
 * DPDK TAP ports (app and db in blue's default group, lb in group "web" only), project red
 * (a remote VM with lb's very address, in red's default group) on the same CIDR. Real sockets
 * ({@link TcpProbe}: a refused connection times out, exactly one SYN) and pings:
 * <ul>
 *   <li>lb -> app: TCP 22 connects (default: SSH from anywhere), TCP 8080 times out — although a
 *       red VM with lb's address is in red's default group (groups are per network);</li>
 *   <li>app <-> db (other subnet, same default group): any port, both ways;</li>
 *   <li>app -> db TCP 25 times out (platform layer), 587 connects;</li>
 *   <li>app pings lb (web allows echo in; replies tracked), lb's pings to app get no reply;</li>
 *   <li>the same over IPv6 (ssh-v6, members any port across subnets, TCP 25 denied, lb's HTTP);</li>
 *   <li>drop counters move by exactly the expected amounts: per in-port ({@code port P drop fw_*})
 *       and per VM port whose rules decided ({@code firewall port P drop fw_*}); rule hits.</li>
 * </ul>
 * Every namespace and TAP is prefixed "slt&lt;pid&gt;" and removed in {@link #cleanup} (and by
 * Netns' shutdown hook).
 */
class FirewallOverlayNetnsTest {
    static final OverlayHosts H;

    static {
        try {
            H = new OverlayHosts();
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static final String APP = "02:b3:00:00:01:11", DB = "02:b3:00:00:02:10", LB = "02:b3:00:00:01:12";
    static final String APP_IP = "10.0.1.11", DB_IP = "10.0.2.10", LB_IP = "10.0.1.12";
    static final String APP_IP6 = "fd00:1:1::11", DB_IP6 = "fd00:1:2::10", LB_IP6 = "fd00:1:1::12";

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
                  - {name: app, device: "net_tap1,iface=%s"}
                  - {name: db,  device: "net_tap2,iface=%s"}
                  - {name: lb,  device: "net_tap3,iface=%s"}
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
                        - {name: b, cidr: 10.0.2.0/24, gateway: 10.0.2.1, cidr6: "fd00:1:2::/64", gateway6: "fd00:1:2::1"}
                      vms:
                        - {name: app, subnet: a, mac: "%s", ip: %s, ip6: "%s", port: app}
                        - {name: db,  subnet: b, mac: "%s", ip: %s, ip6: "%s", port: db}
                        - {name: lb,  subnet: a, mac: "%s", ip: %s, ip6: "%s", port: lb}
                    - name: red
                      vni: 200
                      cidr: 10.0.0.0/16
                      subnets: [{name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1}]
                      vms: [{name: ghost, subnet: a, mac: "02:b3:00:00:81:12", ip: %s, vtep: 192.168.50.2}]
                security-groups:
                  groups:
                    - name: web
                      rules:
                        - {id: http, direction: ingress, protocol: tcp, ports: 80}
                        - {id: ping, direction: ingress, protocol: icmp, icmp-type: 8}
                        - {id: out, direction: egress}
                  vm-ports:
                    - {vm: blue/lb, groups: [web]}
                """.formatted(h.tap("up"), h.tap("app"), h.tap("db"), h.tap("lb"), APP, APP_IP, APP_IP6, DB, DB_IP, DB_IP6, LB, LB_IP, LB_IP6, LB_IP);
    }

    /** Moves the uplink TAP into a namespace of its own and plugs app, db and lb (IPv4 and IPv6); returns their namespaces. */
    static String[] plugHosts(OverlayHosts h) throws Exception {
        OverlayHosts.awaitLink(h.tap("up"));
        String ul = h.netns.create("ul");
        Netns.run("ip", "link", "set", "dev", h.tap("up"), "netns", ul);
        String app = h.vm("app", h.tap("app"), APP, APP_IP + "/24", "10.0.1.1", 1500);
        String db = h.vm("db", h.tap("db"), DB, DB_IP + "/24", "10.0.2.1", 1500);
        String lb = h.vm("lb", h.tap("lb"), LB, LB_IP + "/24", "10.0.1.1", 1500);
        h.ipv6(app, h.tap("app"), APP_IP6 + "/64", "fd00:1:1::1");
        h.ipv6(db, h.tap("db"), DB_IP6 + "/64", "fd00:1:2::1");
        h.ipv6(lb, h.tap("lb"), LB_IP6 + "/64", "fd00:1:1::1");
        return new String[] {app, db, lb};
    }

    TcpProbe.Outcome connect(String fromNs, String ip, int port) {
        Netns.Result r = H.netns.exec(fromNs, 10, TcpProbe.connect(ip, port));
        return TcpProbe.outcome(r.exit(), r.output());
    }

    void assertConnect(TcpProbe.Outcome want, String fromNs, String ip, int port) {
        TcpProbe.Outcome got = connect(fromNs, ip, port);
        assertEquals(want, got, fromNs + " -> " + ip + ":" + port + H.nonZero());
    }

    /**
     * IP fragments on the overlay (VM MTU 1500, local VMs: not encapsulated): the first fragment
     * decides for its datagram. ping -s 4000 where ping is allowed (app -> lb: web/ping; app -> db
     * over IPv6: same default group), 4000-byte UDP datagrams echoed intact (app <-> db, both
     * families), and fragmented UDP from lb to app (no rule): exactly one fw_no_rule on app (the
     * first fragment, refused by app's ingress rules) and two fw_fragment_unknown per family,
     * charged like fw_invalid to the sender's port (lb).
     */
    static void fragments(FirewallState fw, String app, String db, String lb, List<Process> servers) throws Exception {
        UdpScripts.write(H.dir);
        servers.add(H.netns.spawn(db, H.dir.resolve("udp-db.txt"), "python3", H.dir.resolve("udpecho.py").toString(), "::", "7000"));
        for (int k = 0; k < 50 && !H.netns.exec(db, 5, "ss", "-lun").output().contains(":7000"); k++) Thread.sleep(100);
        long passed0 = fw.fragmentsPassed();
        for (String[] p : new String[][] {{app, LB_IP}, {app, DB_IP6}}) {
            Netns.Result r = H.netns.exec(p[0], 15, "ping", "-c", "2", "-i", "0.2", "-W", "2", "-s", "4000", p[1]);
            assertTrue(r.ok() && r.output().contains(" 0% packet loss"), "ping -s 4000 " + p[1] + ":\n" + r.output() + H.nonZero());
        }
        for (String ip : List.of(DB_IP, DB_IP6)) {
            Netns.Result r = H.netns.exec(app, 10, "python3", H.dir.resolve("udpask.py").toString(), ip, "7000", "4000");
            assertEquals(0, r.exit(), "4000-byte UDP app -> " + ip + " echoed intact: " + r.output() + H.nonZero());
        }
        // 2 pings x (echo + reply) x 2 later fragments, per family; one UDP exchange x 2 x 2 per family
        assertEquals(2 * 8 + 2 * 4, fw.fragmentsPassed() - passed0, H.nonZero());

        long noRule0 = fw.drops(1, DropReason.FW_NO_RULE);
        for (String ip : List.of(APP_IP, APP_IP6)) {
            Netns.Result r = H.netns.exec(lb, 10, "python3", H.dir.resolve("udpask.py").toString(), ip, "7000", "4000");
            assertEquals(1, r.exit(), "fragmented UDP lb -> app " + ip + " (no rule) must time out: " + r.output());
        }
        assertEquals(2, fw.drops(1, DropReason.FW_NO_RULE) - noRule0, "the first fragments" + H.nonZero());
        // a later fragment is charged like FW_INVALID: to the sending VM's port (no rule of app's was asked)
        assertEquals(4, fw.drops(3, DropReason.FW_FRAGMENT_UNKNOWN), "the later fragments" + H.nonZero());
        assertEquals(0, fw.drops(1, DropReason.FW_FRAGMENT_UNKNOWN), H.nonZero());
        assertEquals(4, H.awaitCounter("firewall port lb drop fw_fragment_unknown", 4), H.nonZero());
        assertEquals(4, H.awaitCounter("port lb drop fw_fragment_unknown", 4), "the in-port's count" + H.nonZero());
        for (int port = 1; port <= 3; port++) {
            assertEquals(0, fw.drops(port, DropReason.FW_FRAGMENT_OVERLAP) + fw.drops(port, DropReason.FW_FRAGMENT_TABLE_FULL), H.nonZero());
        }
    }

    @Test
    void securityGroupsOnTheOverlayWithRealHosts() throws Exception {
        FirewallState fw = H.startWithSecurityGroups(config(H));
        String[] vms = plugHosts(H);
        String app = vms[0], db = vms[1], lb = vms[2];
        List<Process> servers = new ArrayList<>();
        servers.add(H.netns.spawn(app, H.dir.resolve("srv-app.txt"), TcpProbe.serve(22, 8080)));
        servers.add(H.netns.spawn(db, H.dir.resolve("srv-db.txt"), TcpProbe.serve(25, 587, 8080)));
        servers.add(H.netns.spawn(lb, H.dir.resolve("srv-lb.txt"), TcpProbe.serve(80, 8080)));
        H.waitListening(app, 8080);
        H.waitListening(db, 8080);
        H.waitListening(lb, 8080);

        String appNoRule = "firewall port app drop fw_no_rule", lbInNoRule = "port lb drop fw_no_rule";
        String appPlatform = "firewall port app drop fw_platform", appInPlatform = "port app drop fw_platform";
        long noRule0 = H.counter(appNoRule), lbIn0 = H.counter(lbInNoRule);
        long plat0 = H.counter(appPlatform), platIn0 = H.counter(appInPlatform);
        long ssh0 = H.counter("firewall rule blue:default/ssh-v4 connections");

        // from outside app's default group (lb: web only; red's ghost has lb's address but is red's)
        assertConnect(TcpProbe.Outcome.CONNECTED, lb, APP_IP, 22);
        assertConnect(TcpProbe.Outcome.TIMED_OUT, lb, APP_IP, 8080);
        assertEquals(1, H.awaitCounter(appNoRule, noRule0 + 1) - noRule0, appNoRule + H.nonZero());
        assertEquals(1, H.counter(lbInNoRule) - lbIn0, lbInNoRule + " (the in-port's count)" + H.nonZero());
        assertEquals(1, H.counter("firewall rule blue:default/ssh-v4 connections") - ssh0);
        // lb's own rules: HTTP in from anywhere, 8080 not
        assertConnect(TcpProbe.Outcome.CONNECTED, app, LB_IP, 80);
        assertConnect(TcpProbe.Outcome.TIMED_OUT, app, LB_IP, 8080);
        long lbNoRule = H.awaitCounter("firewall port lb drop fw_no_rule", 1);
        assertEquals(1, lbNoRule, H.nonZero());

        // the same default group: any port, both ways, across subnets
        assertConnect(TcpProbe.Outcome.CONNECTED, app, DB_IP, 8080);
        assertConnect(TcpProbe.Outcome.CONNECTED, db, APP_IP, 8080);

        // platform layer: no outbound SMTP, submission fine
        assertConnect(TcpProbe.Outcome.TIMED_OUT, app, DB_IP, 25);
        assertEquals(1, H.awaitCounter(appPlatform, plat0 + 1) - plat0, appPlatform + H.nonZero());
        assertEquals(1, H.counter(appInPlatform) - platIn0, H.nonZero());
        assertConnect(TcpProbe.Outcome.CONNECTED, app, DB_IP, 587);

        // pings as the rules say
        H.assertPings(app, LB_IP);
        Netns.Result noPing = H.ping(lb, APP_IP, 2);
        assertFalse(noPing.ok(), noPing.output());
        assertTrue(noPing.output().contains("2 packets transmitted, 0 received"), noPing.output());
        assertEquals(3, H.awaitCounter(appNoRule, noRule0 + 3) - noRule0, "one SYN + two echo requests" + H.nonZero());
        assertEquals(1, H.counter("firewall rule blue:web/ping connections"), H.nonZero());

        // nothing else was dropped by the firewall: exact amounts per reason, on every port
        for (String port : List.of("app", "db", "lb")) {
            for (DropReason r : List.of(DropReason.FW_INVALID, DropReason.FW_LIMIT, DropReason.FW_CUT)) {
                assertEquals(0, fw.drops(List.of("up", "app", "db", "lb").indexOf(port), r), port + " " + r + H.nonZero());
            }
        }
        assertEquals(3, fw.drops(1, DropReason.FW_NO_RULE));
        assertEquals(1, fw.drops(1, DropReason.FW_PLATFORM));
        assertEquals(1, fw.drops(3, DropReason.FW_NO_RULE));
        assertEquals(0, fw.drops(2, DropReason.FW_NO_RULE) + fw.drops(2, DropReason.FW_PLATFORM));

        // IPv6: the same groups, rules of the other family (default group: ssh-v6, members any port)
        long ssh6 = H.counter("firewall rule blue:default/ssh-v6 connections");
        assertConnect(TcpProbe.Outcome.CONNECTED, lb, APP_IP6, 22);
        assertEquals(1, H.counter("firewall rule blue:default/ssh-v6 connections") - ssh6, H.nonZero());
        assertConnect(TcpProbe.Outcome.TIMED_OUT, lb, APP_IP6, 8080);
        assertEquals(4, H.awaitCounter(appNoRule, noRule0 + 4) - noRule0, "v6 SYN to 8080" + H.nonZero());
        assertConnect(TcpProbe.Outcome.CONNECTED, app, DB_IP6, 8080); // other subnet, routed, same group
        assertConnect(TcpProbe.Outcome.CONNECTED, db, APP_IP6, 8080);
        assertConnect(TcpProbe.Outcome.TIMED_OUT, app, DB_IP6, 25); // platform layer, both families
        assertEquals(2, H.awaitCounter(appPlatform, plat0 + 2) - plat0, appPlatform + H.nonZero());
        assertConnect(TcpProbe.Outcome.CONNECTED, app, LB_IP6, 80);
        assertConnect(TcpProbe.Outcome.TIMED_OUT, app, LB_IP6, 8080);
        assertEquals(2, H.awaitCounter("firewall port lb drop fw_no_rule", 2), H.nonZero());
        assertEquals(4, fw.drops(1, DropReason.FW_NO_RULE));
        assertEquals(2, fw.drops(1, DropReason.FW_PLATFORM));
        assertEquals(2, fw.drops(3, DropReason.FW_NO_RULE));
        assertEquals(0, fw.drops(1, DropReason.FW_INVALID) + fw.drops(2, DropReason.FW_INVALID) + fw.drops(3, DropReason.FW_INVALID));

        fragments(fw, app, db, lb, servers);
        for (Process p : servers) {
            p.destroyForcibly();
        }
        System.out.println("counters:" + H.nonZero());
    }
}
