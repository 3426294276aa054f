package io.sluice.dataplane.netns;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.dataplane.demo.TcpProbe;
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
 * VMs with public access created and deleted through the control API while NAT runs (stable NAT VM
 * slots, docs/nat.md "VM slots"), with real hosts: ControlApiFloatingIpNetnsTest's host (web holds
 * 203.0.113.10, job is outbound-only, SNAT address 203.0.113.5) with one hot-plug slot.
 * <ol>
 *   <li>job holds a connection through SNAT to the server (an echo server on the internet side);</li>
 *   <li>{@code PUT …/vms/neo} (a hot-plugged TAP, {@code outbound-only}): neo reaches the server from
 *       the SNAT address; a floating IP allocated and associated through the API carries the server's
 *       connection to neo, and neo then leaves with it;</li>
 *   <li>{@code DELETE …/vms/web} (the first VM, so job's and neo's positions in the overlay move):
 *       job's held connection still echoes, neo's floating IP still reaches neo, job's new
 *       connections still leave from the SNAT address;</li>
 *   <li>{@code DELETE …/vms/neo}: its address answers nothing any more; a restart replays it all
 *       (same generation, job still outbound).</li>
 * </ol>
 */
class ControlApiNatVmNetnsTest {
    static final String OP = ControlApiNetnsTest.OPERATOR_KEY, BLUE = ControlApiNetnsTest.BLUE_KEY;
    static final String SNAT = "203.0.113.5", FIP2 = "203.0.113.11", SERVER = NatNetnsTest.SERVER;
    static final String NEO_MAC = "02:b5:00:00:01:05";

    @Test
    void vmsWithPublicAccessComeAndGoThroughTheApiAndOthersConnectionsGoOn() throws Exception {
        List<Process> servers = new ArrayList<>();
        try (OverlayHosts h = new OverlayHosts()) {
          try {
            Path cfg = ControlApiFloatingIpNetnsTest.config(h);
            Files.writeString(cfg, Files.readString(cfg) + "  hotplug-ports: 1\n");
            long gen;
            try (ControlApiNetnsTest.Started s = ControlApiNetnsTest.start(cfg)) {
                String[] ns = NatNetnsTest.internet(h, servers);
                String server = ns[1], job = ns[3];
                Process echo = h.netns.spawn(server, null, "python3", "-c", NatNetnsTest.ECHO_SERVER, "22", "srv");
                servers.add(echo);
                TcpProbe.awaitReady(echo);

                // job holds a connection through SNAT
                Path trigger = h.dir.resolve("go");
                Path out = h.dir.resolve("hold.txt");
                Process hold = h.netns.spawn(job, out, "python3", "-c", NatNetnsTest.HOLD_CLIENT, SERVER, "22", trigger.toString());
                servers.add(hold);
                awaitText(out, "greeting");
                assertTrue(Files.readString(out).contains("greeting hello srv " + SNAT), Files.readString(out));

                // a new outbound-only VM on a hot-plugged TAP
                String tap = h.tap("neo");
                ControlApiNetnsTest.Reply r = s.put("/v1/projects/blue/vms/neo", OP, "{\"subnet\":\"a\",\"mac\":\"" + NEO_MAC
                        + "\",\"ipv4\":\"10.0.1.5\",\"port\":{\"device\":\"net_tap7,iface=" + tap + "\"},\"public_access\":\"outbound-only\"}");
                assertEquals(200, r.status(), r.toString());
                String neo = h.vm("neo", tap, NEO_MAC, "10.0.1.5/24", "10.0.1.1", 1500);
                assertEquals("peer " + SNAT, ControlApiFloatingIpNetnsTest.peer(h, neo), "neo leaves from the SNAT address");
                Process neoServer = h.netns.spawn(neo, null, "python3", "-c", NatNetnsTest.ECHO_SERVER, "22", "neo");
                servers.add(neoServer);
                TcpProbe.awaitReady(neoServer);

                // a floating IP for it, through the API
                JsonNode fip = ControlApiFloatingIpNetnsTest.ok(ControlApiFloatingIpNetnsTest.post(s, "/v1/projects/blue/floating-ips", BLUE, null));
                assertEquals(FIP2, fip.path("ip").asText(), fip.toString());
                ControlApiFloatingIpNetnsTest.ok(s.put("/v1/projects/blue/floating-ips/" + FIP2, BLUE, "{\"vm\":\"neo\"}"));
                assertTrue(helloAt(h, server, FIP2).contains("hello neo"), "the floating IP reaches neo: " + helloAt(h, server, FIP2));
                assertEquals("peer " + FIP2, ControlApiFloatingIpNetnsTest.peer(h, neo), "neo leaves with its floating IP");

                // web, the first VM, is deleted: every other VM's position moves, not its NAT state
                r = s.call("DELETE", "/v1/projects/blue/vms/web", OP, null, null);
                assertEquals(200, r.status(), r.toString());
                Files.writeString(trigger, "go");
                assertTrue(hold.waitFor(30, TimeUnit.SECONDS), "held client did not finish");
                assertTrue(Files.readString(out).contains("echo ping"), "job's SNAT connection goes on:\n" + Files.readString(out));
                assertTrue(helloAt(h, server, FIP2).contains("hello neo"), "neo's floating IP after web's delete");
                assertEquals("peer " + SNAT, ControlApiFloatingIpNetnsTest.peer(h, job), "job's new connections");

                // neo is deleted: its address answers nothing
                r = s.call("DELETE", "/v1/projects/blue/vms/neo", OP, null, null);
                assertEquals(200, r.status(), r.toString());
                gen = r.json().path("generation").asLong();
                assertFalse(Netns.linkExists(neo, tap), "the TAP is still there after the DELETE's 200");
                assertEquals(TcpProbe.Outcome.TIMED_OUT, ControlApiFloatingIpNetnsTest.connect(h, server, FIP2, 22), "a deleted VM's address");
                s.child().signal("TERM");
                assertEquals(0, s.child().awaitExit(30), s.child().output());
            }
            try (ControlApiNetnsTest.Started s = ControlApiNetnsTest.start(cfg)) {
                assertEquals(gen, s.get("/v1/health", null).json().path("generation").asLong(), "the generation after the restart");
                ControlApiNetnsTest.Reply r = s.get("/v1/projects/blue/vms/web", OP);
                assertEquals(404, r.status(), r.toString());
                JsonNode f = ControlApiFloatingIpNetnsTest.ok(s.get("/v1/projects/blue/floating-ips/" + FIP2, BLUE));
                assertTrue(f.path("vm").isNull(), f.toString());
                s.child().signal("TERM");
                assertEquals(0, s.child().awaitExit(30), s.child().output());
            }
          } finally {
            for (Process p : servers) p.destroyForcibly();
          }
        }
    }

    static String helloAt(OverlayHosts h, String ns, String ip) {
        return h.netns.exec(ns, 10, TcpProbe.connect(ip, 22)).output();
    }

    static void awaitText(Path file, String text) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while ((!Files.exists(file) || !Files.readString(file).contains(text)) && System.nanoTime() < deadline) Thread.sleep(50);
    }
}
