package io.sluice.dataplane.service;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.firewall.FwTopology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reload path of {@code ./sluice run}: rename into place applies, a file written in place is
 * never applied half, an explicit request (SIGHUP) reads until two reads agree, a bad file or an
 * unexpected exception changes nothing and reloading goes on.
 */
class ConfigReloaderTest {
    static final String HTTP = "        - { id: http, direction: ingress, protocol: tcp, ports: 80 }\n";

    private static void await(java.util.function.BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L; // long: only a failing run waits it out (loaded machines)
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    private static void renameIntoPlace(Path file, String text) throws Exception {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void renameAppliesInPlaceHalfWriteNeverDoesSighupDoes(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, FwTopology.yaml("slrl", "keep", ""));
        SluiceConfig cfg = ConfigLoader.load(file);
        FirewallState fw = new FirewallState(4, cfg.firewall());
        RunningConfig running = new RunningConfig(file.toString(), cfg, fw, null);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (ConfigReloader r = new ConfigReloader(file, running, new PrintStream(log, true, StandardCharsets.UTF_8))) {
            int e0 = fw.current().epoch();
            // 1. rename into place: applied, incrementally
            renameIntoPlace(file, FwTopology.yaml("slrl", "cut", HTTP));
            await(() -> fw.current().epoch() == e0 + 1, "rename applied: " + log);
            assertEquals(1, fw.config().groups().get("web").rules().size());
            assertTrue(fw.config().cuts("web"));
            assertTrue(fw.lastUnchangedLists() > 0, "vm2's lists did not change and were not rebuilt");
            await(() -> log.toString().contains("reload (file renamed into place): applied security-groups"), "log: " + log);
            assertEquals(2, running.generation());

            // 2. the same file written in place, slowly, in two halves: the first half alone is a valid
            // config (no rules in 'web'), yet nothing is applied: in-place writes are only logged
            String full = FwTopology.yaml("slrl", "keep", HTTP + HTTP.replace("http", "http2").replace("80", "8080"));
            String half = full.substring(0, full.indexOf(HTTP) + HTTP.length());
            // a naive reader would apply the half: it is a valid config on its own
            ConfigLoader.parse("half", half);
            assertEquals(1, FirewallConfigLoader.parseDocument("half", half, cfg).groups().get("web").rules().size(),
                    "the first half parses, with one rule");
            try (var out = Files.newOutputStream(file, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
                out.write(half.getBytes(StandardCharsets.UTF_8));
                out.flush();
                Thread.sleep(700);
            }
            await(() -> log.toString().contains("was changed in place: not applied"), "in-place logged: " + log);
            Files.writeString(file, full);
            Thread.sleep(700);
            assertEquals(e0 + 1, fw.current().epoch(), "an in-place write was applied: " + log);
            assertEquals(1, fw.config().groups().get("web").rules().size());

            // 3. SIGHUP when the write is done: the whole file is applied
            r.request("SIGHUP");
            await(() -> log.toString().contains("reload (SIGHUP): applied security-groups"), "SIGHUP applied: " + log);
            assertEquals(e0 + 2, fw.current().epoch());
            assertEquals(2, fw.config().groups().get("web").rules().size());
            assertFalse(fw.config().cuts("web"));

            // 4. a bad file: refused with file:line:key, nothing changes, reloading goes on
            Files.writeString(file, FwTopology.yaml("slrl", "keep", "        - { direction: ingress, protocol: tcp, ports: 0 }\n"));
            r.request("SIGHUP");
            await(() -> log.toString().contains("reload (SIGHUP) refused, nothing changed: " + file + ":"), "refused: " + log);
            assertEquals(e0 + 2, fw.current().epoch());
            assertEquals(3, running.generation());
        }
    }

    @Test
    void unexpectedExceptionDoesNotStopLaterReloads(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("x.yaml");
        Files.writeString(file, "a: 1\n");
        AtomicInteger calls = new AtomicInteger();
        List<String> applied = new CopyOnWriteArrayList<>();
        ConfigReloader.Target target = text -> {
            if (calls.incrementAndGet() == 1) {
                throw new NullPointerException("planted");
            }
            if (calls.get() == 2) {
                throw new IllegalStateException("planted too");
            }
            applied.add(text);
            return "ok";
        };
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try (ConfigReloader r = new ConfigReloader(file, target, new PrintStream(log, true, StandardCharsets.UTF_8))) {
            r.request("SIGHUP");
            await(() -> r.failures() == 1, "first failure");
            r.request("SIGHUP");
            await(() -> r.failures() == 2, "second failure");
            renameIntoPlace(file, "a: 2\n");
            await(() -> applied.size() == 1, "a later reload still runs: " + log);
            assertEquals("a: 2\n", applied.get(0));
            String l = log.toString();
            assertTrue(l.contains("failed, nothing changed: java.lang.NullPointerException: planted; reloading goes on"), l);
            assertTrue(l.contains("reload (file renamed into place): ok"), l);
        }
    }

    @Test
    void reloadReportsWhatNeedsARestart(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sluice.yaml");
        String text = FwTopology.yaml("slrn", "keep", "");
        Files.writeString(file, text);
        SluiceConfig cfg = ConfigLoader.load(file);
        // no firewall at start: a security-groups section needs a restart, and so does a new burst size
        RunningConfig running = new RunningConfig(file.toString(), cfg, null, null);
        String summary = running.apply(text.replace("burst-size: 32", "burst-size: 64"));
        assertTrue(summary.startsWith("nothing applied; changed but needs a restart, not applied: burstSize, "
                + "security-groups (the data plane started without them)"), summary);
        assertEquals(1, running.generation());
        try {
            running.apply(text.replace("ports:", "portz:"));
            throw new AssertionError("a bad key was accepted");
        } catch (ConfigException e) {
            assertTrue(e.getMessage().startsWith(file + ":"), e.getMessage());
        }
    }
}
