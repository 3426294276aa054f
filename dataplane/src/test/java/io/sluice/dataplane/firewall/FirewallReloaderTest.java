package io.sluice.dataplane.firewall;

import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The run-time rule-change path of {@code ./sluice run}: file change / explicit reload, bad files change nothing. */
class FirewallReloaderTest {
    static final String HTTP = "        - { id: http, direction: ingress, protocol: tcp, ports: 80 }\n";

    @Test
    void reloadsOnFileChangeAndRefusesBadFiles(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, FwTopology.yaml("slfwr", "keep", ""));
        SluiceConfig cfg = ConfigLoader.load(file);
        FirewallState fw = new FirewallState(4, FirewallConfigLoader.load(file, cfg));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (FirewallReloader r = new FirewallReloader(file, cfg, fw, new PrintStream(log, true))) {
            int e0 = fw.current().epoch();
            assertEquals(0, fw.config().groups().get("web").rules().size());

            Files.writeString(file, FwTopology.yaml("slfwr", "cut", HTTP));
            Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 5000));
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (fw.current().epoch() == e0 && System.nanoTime() - deadline < 0) Thread.sleep(100);
            assertEquals(e0 + 1, fw.current().epoch(), "file change reloaded: " + log);
            assertEquals(1, fw.config().groups().get("web").rules().size());
            assertTrue(fw.config().cuts("web"));
            assertTrue(fw.lastUnchangedLists() > 0, "vm2's lists did not change and were not rebuilt");

            Files.writeString(file, FwTopology.yaml("slfwr", "keep", "        - { direction: ingress, protocol: tcp, ports: 0 }\n"));
            assertFalse(r.reload("test"));
            assertEquals(e0 + 1, fw.current().epoch(), "a bad file changes nothing");
            assertTrue(log.toString().contains("reload refused, rules unchanged: " + file + ":"), log.toString());
        }
    }
}
