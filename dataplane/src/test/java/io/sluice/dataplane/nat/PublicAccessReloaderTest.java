package io.sluice.dataplane.nat;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.*;

/** Public access follows the configuration file of a running data plane (reassign, release), and a bad file changes nothing. */
class PublicAccessReloaderTest {

    @Test
    void reassignAndReleaseFromTheFileAndRefuseWhatCannotChange() throws Exception {
        Path file = Files.createTempFile("sluice-nat", ".yaml");
        String yaml = NatHarness.yaml(64, 4);
        Files.writeString(file, yaml);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (NatHarness h = new NatHarness(64, 4);
             PublicAccessReloader r = new PublicAccessReloader(file, h.pipeline, new PrintStream(log, true, StandardCharsets.UTF_8))) {
            var s0 = h.pipeline.state().current();
            assertEquals(0, s0.fipVm[0], "web holds .10");
            // reassign .10 to job, web becomes outbound-only: picked up from the file by the poller
            String reassigned = yaml.replace("port: web, public: 203.0.113.10}", "port: web, public: outbound}")
                    .replace("port: job, public: outbound}", "port: job, public: 203.0.113.10}");
            Files.writeString(file, reassigned);
            Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 5000));
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (h.pipeline.state().current() == s0 && System.nanoTime() < deadline) Thread.sleep(50);
            var s1 = h.pipeline.state().current();
            assertEquals(1, s1.fipVm[0], "job holds .10 now: " + log);
            assertEquals(io.sluice.dataplane.overlay.OverlayModel.Access.OUTBOUND.ordinal(), s1.vmAccess[0]);
            // a file that does not validate: refused with file:line: key, nothing changes
            Files.writeString(file, reassigned.replace("port: job, public: 203.0.113.10}", "port: job, public: 203.0.113.99}"));
            assertFalse(r.reload());
            assertTrue(log.toString().contains(file + ":"), log::toString);
            assertTrue(log.toString().contains("overlay.networks[0].vms[1].public: 203.0.113.99 is not in overlay.external.floating-ips"), log::toString);
            assertSame(s1, h.pipeline.state().current());
            // anything but public access: refused
            Files.writeString(file, reassigned.replace("vni: 100", "vni: 101"));
            assertFalse(r.reload());
            assertTrue(log.toString().contains("only public access"), log::toString);
            assertSame(s1, h.pipeline.state().current());
            // release: nobody holds .10
            Files.writeString(file, reassigned.replace("port: job, public: 203.0.113.10}", "port: job}"));
            assertTrue(r.reload(), log::toString);
            assertEquals(-1, h.pipeline.state().current().fipVm[0]);
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
