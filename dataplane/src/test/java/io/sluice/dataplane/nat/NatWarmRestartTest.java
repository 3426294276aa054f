package io.sluice.dataplane.nat;

import static io.sluice.dataplane.nat.NatHarness.EXT;
import static io.sluice.dataplane.nat.NatHarness.EXT_MAC;
import static io.sluice.dataplane.nat.NatHarness.GW;
import static io.sluice.dataplane.nat.NatHarness.GW_MAC;
import static io.sluice.dataplane.nat.NatHarness.JOB;
import static io.sluice.dataplane.nat.NatHarness.JOB_IP;
import static io.sluice.dataplane.nat.NatHarness.JOB_MAC;
import static io.sluice.dataplane.nat.NatHarness.ROUTER;
import static io.sluice.dataplane.nat.NatHarness.SERVER;
import static io.sluice.dataplane.nat.NatHarness.SNAT;
import static io.sluice.dataplane.nat.NatHarness.arp;
import static io.sluice.dataplane.nat.NatHarness.tcp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.dataplane.packet.Mem;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Warm restart through the overlay pipeline with NAT (docs/conntrack.md, "Limits and NAT"): the
 * external network's settings that give a kept entry's NAT word its meaning (SNAT and floating
 * addresses, port-block, blocks-per-vm) are part of the shard file's fingerprint, so a table kept
 * under other settings starts empty with a line saying why, instead of mapping kept SNAT ports onto
 * the new layout.
 */
class NatWarmRestartTest {
    @TempDir
    Path dir;
    private final List<String> log = new ArrayList<>();

    /** The outbound-only VM opens a TCP connection through SNAT; returns its external port. */
    private static int snatConnection(NatHarness h) {
        long d = h.frame(0);
        h.run(EXT, arp(d, EXT_MAC, GW_MAC, 2, GW_MAC, GW, EXT_MAC, SNAT)); // the gateway's MAC
        assertEquals(-1, h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 40000, 80, 0x02, 1000, 0, 0)));
        assertEquals(SNAT, Mem.i32(d + 26), "left with the SNAT address");
        int ext = Mem.u16(d + 34);
        assertEquals(-1, h.run(EXT, tcp(d, EXT_MAC, GW_MAC, SERVER, SNAT, 80, ext, 0x12, 5000, 1001, 0)));
        assertEquals(-1, h.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 40000, 80, 0x10, 1001, 5001, 0)));
        return ext;
    }

    @Test
    void aTableKeptUnderOtherExternalNetworkSettingsStartsEmpty() throws Exception {
        int[][] changed = {{128, 4}, {64, 2}}; // port-block, blocks-per-vm
        for (int[] c : changed) {
            String what = "port-block " + c[0] + ", blocks-per-vm " + c[1];
            NatHarness a = new NatHarness(64, 4, dir, log::add);
            int ext;
            try {
                ext = snatConnection(a);
                assertEquals(1, a.nat.ports.blocksInUse(0));
            } finally {
                a.close();
            }
            // the same settings: kept, the SNAT binding rebuilt, the next segment leaves by the same port
            log.clear();
            NatHarness b = new NatHarness(64, 4, dir, log::add);
            try {
                assertEquals(1, b.ct.attachedCount(), log.toString());
                assertTrue(log.stream().anyMatch(l -> l.contains("1 connection(s) kept, 1 with NAT (bindings rebuilt)")), log.toString());
                assertEquals(1, b.nat.ports.blocksInUse(0));
                long d = b.frame(0);
                b.run(EXT, arp(d, EXT_MAC, GW_MAC, 2, GW_MAC, GW, EXT_MAC, SNAT));
                assertEquals(-1, b.run(JOB, tcp(d, ROUTER, JOB_MAC, JOB_IP, SERVER, 40000, 80, 0x18, 1001, 5001, 10)));
                assertEquals(ext, Mem.u16(d + 34), "the kept connection keeps its external port");
            } finally {
                b.close();
            }
            // other settings: nothing kept, no binding taken, one line naming the file and the reason
            log.clear();
            NatHarness n = new NatHarness(c[0], c[1], dir, log::add);
            try {
                assertEquals(0, n.ct.attachedCount(), what + ": " + log);
                assertEquals(0, n.ct.size(), what);
                assertEquals(0, n.nat.ports.blocksInUse(0), what + ": no SNAT binding rebuilt");
                assertTrue(log.stream().anyMatch(l -> l.contains(dir.resolve("conntrack-0.shard").toString())
                        && l.contains("external network settings changed") && l.contains("starting empty")), what + ": " + log);
            } finally {
                n.close();
            }
            // what the fallback wrote is a good table for the new settings
            log.clear();
            NatHarness again = new NatHarness(c[0], c[1], dir, log::add);
            try {
                assertTrue(log.stream().noneMatch(l -> l.contains("not kept")), what + ": " + log);
                assertEquals(0, again.ct.attachedCount(), what);
            } finally {
                again.close();
            }
            Files.delete(dir.resolve("conntrack-0.shard"));
            log.clear();
        }
    }
}
