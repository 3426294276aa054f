package io.sluice.dataplane.demo;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real QEMU guests behind Sluice (issue 18; docs/vms.md): {@code ./sluice demo --vms qemu} in the
 * test suite. Four guests boot once (software emulation, ~10-40 s) on vhost-user ports with Sluice
 * as the client; then: ping and an iperf3 TCP transfer between two guests of one project, checked by
 * the bytes iperf3 reports against the ports' byte counters; SSH-only inbound from a guest outside
 * the default group (TCP 8080 dropped, {@code fw_no_rule}), TCP 25 refused by the platform layer
 * ({@code fw_platform}); a guest of another project with the same address cannot reach them
 * ({@code overlay_unknown_destination}, blue's tx unchanged); a guest's QEMU killed and started again
 * on the same socket: link down then up in the counters, its connectivity back with no call into the
 * data plane. Own JVM (surefire forks per class): EAL once. Nothing may be left behind: no QEMU
 * child, no socket directory.
 */
class VmGuestsTest {
    @Test
    void guestsOnVhostUserPortsPassEveryCheckAndNothingIsLeftBehind() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc;
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            rc = VmDemo.run(ps);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertTrue(out.contains("21 passed, 0 failed"), out);
        assertEquals(0, rc, out);
        for (String check : new String[] {
                "PASS iperf3 TCP blue web -> blue app through Sluice",
                "PASS blue lb (group web only) -> blue app TCP 22: connects",
                "PASS   ... its SYN dropped, counted for blue app's rules (fw_no_rule)",
                "PASS   ... its SYN dropped, counted for blue web (fw_platform)",
                "PASS red web -> blue app's MAC and address: dropped (overlay_unknown_destination)",
                "PASS blue app's QEMU killed: its port's link goes down",
                "PASS blue app's QEMU started again on the same socket"}) {
            assertTrue(out.contains(check), check + "\n" + out);
        }
        assertTrue(out.contains("port blue-app link changes"), out);

        long pid = ProcessHandle.current().pid();
        assertFalse(Files.exists(Path.of("/tmp/slvm-" + pid)), "socket directory left behind");
        assertFalse(Files.exists(Path.of("/tmp/slvm-" + pid + "-logs")), "console logs kept although every check passed");
        assertTrue(ProcessHandle.current().descendants().noneMatch(p -> p.info().command().orElse("").contains("qemu")),
                "QEMU processes left behind");
    }
}
