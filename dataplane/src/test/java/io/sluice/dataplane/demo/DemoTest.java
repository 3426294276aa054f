package io.sluice.dataplane.demo;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs {@code ./sluice demo}'s checks in the test suite: the overlay data plane on six DPDK TAP
 * ports, namespaces as VMs of two projects on the same CIDR, ping and a TCP transfer within a
 * project, isolation between them (capture, counters, a red VM aiming at a blue MAC), and the
 * drops that must happen (spoofed source IP, malformed IPv4, ARP for an unowned address), and the
 * security groups (SSH only from outside the default group, any port within it, no outbound TCP 25,
 * pings as the rules say) with their drop and rule-hit counters, and public access through NAT
 * (an "internet" router and server: floating IP in and out, outbound-only through SNAT, unsolicited
 * inbound and a private VM dropped and counted, a floating IP reassigned at runtime). Own JVM
 * (surefire forks per class): EAL once.
 */
class DemoTest {
    @Test
    void everyDemoCheckPassesAndNothingIsLeftBehind() throws Exception {
        // Holds the demo lock over the run and the leftover check, so a demo started from another
        // checkout meanwhile neither collides with this one nor shows up as "left behind".
        Demo.exclusively(System.out, () -> {
            runAndCheck();
            return null;
        });
    }

    private static void runAndCheck() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc;
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            rc = Demo.runHoldingLock(ps);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertTrue(out.contains("33 passed, 0 failed"), out);
        assertEquals(0, rc, out);
        assertTrue(out.contains("port red-web drop overlay_unknown_destination"), out);
        assertTrue(out.contains("firewall port blue-app drop fw_no_rule"), out);
        assertTrue(out.contains("firewall rule blue:default/ssh-v4 connections"), out);
        assertTrue(out.contains("nat vm blue/db no public access"), out);
        assertTrue(out.contains("nat snat connections created"), out);
        assertTrue(out.contains("PASS   ... explain says why, no packet sent: DROP fw_no_rule"), out);
        assertTrue(out.contains("PASS flow log: one ACCEPT record for that transfer"), out);
        assertTrue(out.contains("PASS API audit log: the firewall PUT, the denied call and the reassign are records"), out);

        String netns = Hosts.run(5, "ip", "netns", "list").out();
        assertFalse(netns.contains("sldemo-"), "namespaces left behind: " + netns);
        String links = Hosts.run(5, "ip", "link", "show").out();
        assertFalse(links.contains("sldemo"), "TAP devices left behind: " + links);
    }
}
