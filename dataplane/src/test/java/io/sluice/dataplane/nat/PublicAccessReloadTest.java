package io.sluice.dataplane.nat;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.service.RunningConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Public access follows the configuration file of a running data plane through the one reload path
 * of {@code ./sluice run} (SIGHUP / rename into place: {@link RunningConfig}): reassign, release,
 * back to the start; a bad file and any other overlay change change nothing.
 */
class PublicAccessReloadTest {

    @Test
    void reassignAndReleaseFromTheFileAndRefuseWhatCannotChange() throws Exception {
        String yaml = NatHarness.yaml(64, 4);
        try (NatHarness h = new NatHarness(64, 4)) {
            SluiceConfig cfg = ConfigLoader.parse("nat.yaml", yaml);
            RunningConfig r = new RunningConfig("nat.yaml", cfg, h.fw, h.pipeline, null);
            var s0 = h.pipeline.state().current();
            assertEquals(0, s0.fipVm[0], "web holds .10");
            // reassign .10 to job, web becomes outbound-only
            String reassigned = yaml.replace("port: web, public: 203.0.113.10}", "port: web, public: outbound}")
                    .replace("port: job, public: outbound}", "port: job, public: 203.0.113.10}");
            String summary = r.apply(reassigned);
            assertTrue(summary.startsWith("applied public access; security-groups unchanged; generation 2"), summary);
            var s1 = h.pipeline.state().current();
            assertEquals(1, s1.fipVm[0], "job holds .10 now");
            assertEquals(io.sluice.dataplane.config.OverlayModel.Access.OUTBOUND.ordinal(), s1.vmAccess[0]);
            // the same file again: nothing to do
            assertEquals("nothing applied; security-groups unchanged; generation 2", r.apply(reassigned));
            assertSame(s1, h.pipeline.state().current());
            // a file that does not validate: refused with file:line: key, nothing changes
            ConfigException bad = assertThrows(ConfigException.class, () -> r.apply(
                    reassigned.replace("port: job, public: 203.0.113.10}", "port: job, public: 203.0.113.99}")));
            assertTrue(bad.getMessage().contains("nat.yaml:"), bad.getMessage());
            assertTrue(bad.getMessage().contains("overlay.networks[0].vms[1].public: 203.0.113.99 is not in overlay.external.floating-ips"),
                    bad.getMessage());
            assertSame(s1, h.pipeline.state().current());
            // anything but public access in the overlay: named as needing a restart, public access untouched
            String vni = reassigned.replace("vni: 100", "vni: 101");
            String s = r.apply(vni);
            assertTrue(s.contains("needs a restart, not applied: overlay"), s);
            assertSame(s1, h.pipeline.state().current());
            // release: nobody holds .10
            r.apply(reassigned.replace("port: job, public: 203.0.113.10}", "port: job}"));
            assertEquals(-1, h.pipeline.state().current().fipVm[0]);
            // back to the file the data plane started with
            assertTrue(r.apply(yaml).startsWith("applied public access"));
            assertEquals(0, h.pipeline.state().current().fipVm[0], "web holds .10 again");
            assertEquals(4, r.generation(), "reassign, release, back: three applied reloads");
        }
    }
}
