package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.port.HotPlug;
import io.sluice.dataplane.service.RunningConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Journal snapshots (docs/api.md, "Journal snapshots"): the change list a reload replays stays
 * bounded by the state, not by the changes made; a start from a snapshot plus the journal's tail
 * gives exactly the value a replay of every change gives; a corrupt snapshot is named and the one
 * before it used; a journal without snapshots (the older layout) still replays whole. And power loss
 * ({@code api.sync}): a torn last record (an append cut short) is reported and skipped, every change
 * acknowledged before it is replayed, and a torn record in the middle still stops start-up.
 */
class JournalSnapshotTest {
    @TempDir
    Path dir;

    private SluiceConfig config(String extra) throws Exception {
        return ConfigLoader.parse("t.yaml", ControlFixtures.OVERLAY + "api:\n  listen: 127.0.0.1:0\n"
                + "  keys: [{id: op, sha256: " + ControlModelTest.KEY_HASH + ", projects: [\"*\"]}]\n"
                + "  journal: " + dir.resolve("journal") + "\n  audit: " + dir.resolve("audit") + "\n" + extra);
    }

    /** The control plane on {@code cfg}'s journal, attached to a firewall state without HTTP or workers (as ControlOnly). */
    private static ControlPlane open(SluiceConfig cfg) throws Exception {
        ControlPlane cp = ControlPlane.open(Path.of("t.yaml"), cfg);
        SluiceConfig desired = cp.desired();
        FirewallState fw = new FirewallState(desired.ports().size(), desired.firewall());
        cp.attach(new RunningConfig("t.yaml", desired, fw, null, null), List.of(), System.err);
        return cp;
    }

    /** Opens with System.err captured; returns the control plane and what it printed. */
    private static ControlPlane open(SluiceConfig cfg, StringBuilder printed) throws Exception {
        PrintStream err = System.err;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        System.setErr(new PrintStream(b, true, StandardCharsets.UTF_8));
        try {
            return open(cfg);
        } finally {
            System.setErr(err);
            printed.append(b.toString(StandardCharsets.UTF_8));
        }
    }

    private static DesiredState.Change group(String name, int port) throws Exception {
        return new DesiredState.Change(DesiredState.PUT_GROUP, "blue", name,
                GroupCodec.parse(("{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":" + port + "}]}").getBytes(StandardCharsets.UTF_8)));
    }

    private static DesiredState.Change membership(String vm, String... groups) throws Exception {
        return new DesiredState.Change(DesiredState.PUT_MEMBERSHIP, "blue", vm,
                GroupCodec.parse(("{\"groups\":[\"" + String.join("\",\"", groups) + "\"]}").getBytes(StandardCharsets.UTF_8)));
    }

    /** Makes {@code c} through the change path; adds it to {@code made} as journaled. */
    private static long change(ControlPlane cp, DesiredState.Change c, List<DesiredState.Change> made) throws ApiException {
        DesiredState.Change[] journaled = new DesiredState.Change[1];
        long gen = cp.change(c, new long[ControlPlane.PHASES.length], journaled);
        made.add(journaled[0]);
        try {
            cp.awaitSnapshots(); // the snapshot thread's work, so the counts below are exact
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        return gen;
    }

    /** The value a replay of every change over the file gives (what a start without snapshots gives). */
    private static DesiredState fullReplay(SluiceConfig cfg, List<DesiredState.Change> made) throws ConfigException {
        return DesiredState.replay(HotPlug.withSlots(cfg, cfg.api().hotplugPorts()), made);
    }

    @Test
    void theChangeListStaysBoundedAfter10kChangesToDifferentResourcesAndARestartGivesTheFullReplaysValue() throws Exception {
        SluiceConfig cfg = config("  sync: none\n  snapshot-every: 100\n");
        List<DesiredState.Change> made = new ArrayList<>();
        long gen;
        int groups = 40;
        try (ControlPlane cp = open(cfg)) {
            for (int g = 0; g < groups; g++) change(cp, group("g" + g, 1 + g), made);
            int max = 0;
            for (int i = 0; i < 10_000; i++) {
                // each change names another resource than the one before: the consecutive-PUT rule alone keeps them all
                change(cp, i % 5 == 4 ? membership(i % 2 == 0 ? "app" : "db", "default", "g" + (i % groups))
                        : group("g" + (i % groups), 1000 + i % 60000), made);
                max = Math.max(max, cp.changeCount());
            }
            assertTrue(cp.snapshotsWritten() >= 99, "snapshots: " + cp.snapshotsWritten());
            cp.awaitSnapshots();
            var health = GroupCodec.JSON.createObjectNode();
            cp.journalHealth(health); // what GET /v1/health shows under "journal"
            assertEquals(100, health.path("snapshot_every").asInt());
            assertEquals(0, health.path("started_from_snapshot").asLong(), "a fresh journal: " + health);
            assertEquals(cp.snapshotsWritten(), health.path("snapshots_written").asInt());
            long last = health.path("last_snapshot").asLong();
            assertTrue(last > cp.generation() - 200 && last <= cp.generation(), "the newest snapshot written: " + health);
            // bounded by the state (2 per group, 2 per VM's memberships) plus the changes since the last snapshot
            assertTrue(max <= 2 * groups + 4 + 100, "the change list reached " + max + " entries after " + made.size() + " changes");
            gen = cp.generation();
            assertEquals(made.size() + 1, gen);
        }
        DesiredState full = fullReplay(cfg, made);
        StringBuilder printed = new StringBuilder();
        try (ControlPlane cp = open(cfg, printed)) {
            assertTrue(cp.state().sameAs(full), "the start from the snapshot differs from the replay of every change");
            assertEquals(gen, cp.generation());
            assertEquals(full.config(), cp.desired());
            assertEquals(full.group("blue", "g7"), cp.state().group("blue", "g7"));
            assertTrue(cp.startSnapshotGeneration() > gen - 100, "started from the snapshot of generation " + cp.startSnapshotGeneration());
            assertTrue(cp.replayedChanges() < 100, "replayed " + cp.replayedChanges());
            var health = GroupCodec.JSON.createObjectNode();
            cp.journalHealth(health);
            assertEquals(cp.startSnapshotGeneration(), health.path("started_from_snapshot").asLong(), health.toString());
            assertEquals(cp.replayedChanges(), health.path("replayed").asInt(), health.toString());
            assertEquals(0, health.path("last_snapshot").asLong(), "none written by this process yet: " + health);
            // a reload of the same file replays the snapshot's list: the same value
            SluiceConfig over = cp.over(cfg);
            assertEquals(full.config(), over);
        }
    }

    static List<Path> cq4(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.filter(p -> p.toString().endsWith(".cq4")).sorted().toList();
        }
    }

    private static int lastIndexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = hay.length - needle.length; i >= 0; i--) {
            for (int k = 0; k < needle.length; k++) if (hay[i + k] != needle[k]) continue outer;
            return i;
        }
        return -1;
    }

    /** Changes one byte of the last place {@code text} is in the one queue file of {@code queueDir}. */
    static void corruptLast(Path queueDir, String text) throws IOException {
        List<Path> files = cq4(queueDir);
        assertEquals(1, files.size(), files.toString());
        byte[] b = Files.readAllBytes(files.get(0));
        int at = lastIndexOf(b, text.getBytes(StandardCharsets.UTF_8));
        assertTrue(at >= 0, text + " not in " + files.get(0));
        b[at + text.length() - 1] ^= 0x01;
        Files.write(files.get(0), b);
    }

    @Test
    void aCorruptSnapshotIsNamedAndTheOneBeforeItIsUsedWithALongerReplay() throws Exception {
        SluiceConfig cfg = config("  sync: none\n  snapshot-every: 10\n");
        List<DesiredState.Change> made = new ArrayList<>();
        try (ControlPlane cp = open(cfg)) {
            for (int i = 0; i < 35; i++) change(cp, i % 3 == 2 ? membership("app", "default", "g" + (i % 2)) : group("g" + (i % 2), 7000 + i), made);
            assertEquals(3, cp.snapshotsWritten());
        }
        DesiredState full = fullReplay(cfg, made);
        // the newest snapshot (generation 31) is the only one holding port 7028 (the change of generation 30): corrupt it there
        corruptLast(dir.resolve("journal").resolve(Journal.SNAPSHOTS), "\"port\":7028");
        StringBuilder printed = new StringBuilder();
        try (ControlPlane cp = open(cfg, printed)) {
            assertTrue(printed.toString().matches("(?s).*sluice: journal \\S+: snapshot \\S+/snapshots/\\d{8}F\\.cq4 index 0x[0-9a-f]+ cannot be used:"
                    + " its checksum does not match its bytes \\(torn or corrupt\\); falling back to the snapshot before it.*"), printed.toString());
            assertEquals(21, cp.startSnapshotGeneration(), "the snapshot before the corrupt one");
            assertEquals(15, cp.replayedChanges(), "the longer replay: generations 22..36");
            assertTrue(cp.state().sameAs(full));
            assertEquals(36, cp.generation());
        }
        // every snapshot corrupt: the whole journal is replayed
        corruptLast(dir.resolve("journal").resolve(Journal.SNAPSHOTS), "\"port\":7018");
        corruptLast(dir.resolve("journal").resolve(Journal.SNAPSHOTS), "\"port\":7006");
        printed.setLength(0);
        try (ControlPlane cp = open(cfg, printed)) {
            assertEquals(3, printed.toString().split("cannot be used", -1).length - 1, printed.toString());
            assertEquals(0, cp.startSnapshotGeneration());
            assertTrue(cp.state().sameAs(full));
        }
    }

    @Test
    void aJournalOfTheOlderLayoutReplaysWholeThenGetsSnapshots() throws Exception {
        SluiceConfig old = config("  sync: none\n  snapshot-every: 0\n");
        List<DesiredState.Change> made = new ArrayList<>();
        try (ControlPlane cp = open(old)) {
            for (int i = 0; i < 25; i++) change(cp, group("g" + (i % 3), 100 + i), made);
            assertEquals(0, cp.snapshotsWritten());
        }
        // the older layout: no snapshots directory at all
        for (Path p : cq4(dir.resolve("journal").resolve(Journal.SNAPSHOTS))) Files.delete(p);
        Files.deleteIfExists(dir.resolve("journal").resolve(Journal.SNAPSHOTS).resolve("metadata.cq4t"));
        Files.delete(dir.resolve("journal").resolve(Journal.SNAPSHOTS));
        SluiceConfig now = config("  sync: none\n  snapshot-every: 10\n");
        try (ControlPlane cp = open(now)) {
            assertEquals(0, cp.startSnapshotGeneration());
            assertEquals(25, cp.replayedChanges());
            assertTrue(cp.state().sameAs(fullReplay(now, made)));
            for (int i = 0; i < 12; i++) change(cp, group("g" + (i % 3), 200 + i), made);
            assertEquals(1, cp.snapshotsWritten());
        }
        try (ControlPlane cp = open(now)) {
            assertEquals(36, cp.startSnapshotGeneration());
            assertEquals(2, cp.replayedChanges());
            assertTrue(cp.state().sameAs(fullReplay(now, made)));
        }
    }

    @Test
    void aSnapshotWhoseJournalRecordIsNotWhereItSaysIsFollowedByGeneration() throws Exception {
        // sync: none and a power loss can keep a snapshot and lose the journal pages it points at: then the
        // journal is read from the start and the records of later generations follow the snapshot
        SluiceConfig cfg = config("  sync: none\n  snapshot-every: 0\n");
        List<DesiredState.Change> made = new ArrayList<>();
        try (ControlPlane cp = open(cfg)) {
            for (int i = 0; i < 12; i++) change(cp, group("g" + (i % 3), 300 + i), made);
        }
        // a snapshot of generation 9 (the first 8 changes) that names a journal index the journal does not have
        try (QueueLog q = QueueLog.open(dir.resolve("journal").resolve(Journal.SNAPSHOTS), false)) {
            q.append(Journal.encodeSnapshot(9, 0x7fff_0000_0000L, ChangeCompaction.compact(made.subList(0, 8), ChangeCompaction.ALL)));
        }
        try (ControlPlane cp = open(cfg)) {
            assertEquals(9, cp.startSnapshotGeneration());
            assertEquals(4, cp.replayedChanges(), "generations 10..13, found from the journal's start");
            assertTrue(cp.state().sameAs(fullReplay(cfg, made)));
            assertEquals(13, cp.generation());
        }
    }

    @Test
    void powerLossTornTailIsReportedAndSkippedAndEveryAcknowledgedChangeIsReplayed() throws Exception {
        SluiceConfig cfg = config("  sync: msync\n  snapshot-every: 0\n");
        List<DesiredState.Change> acked = new ArrayList<>();
        try (ControlPlane cp = open(cfg)) {
            for (int i = 0; i < 20; i++) change(cp, group("g" + (i % 4), 4000 + i), acked);
            // an append the power loss cut short: journaled but never acknowledged (the msync had not returned)
            cp.journal().change(cp.generation() + 1, group("g0", 4999));
        }
        DesiredState ackedState = fullReplay(cfg, acked);
        // power loss: the last record's pages reached the disk only in part
        corruptLast(dir.resolve("journal"), "\"port\":4999");
        StringBuilder printed = new StringBuilder();
        try (ControlPlane cp = open(cfg, printed)) {
            assertTrue(printed.toString().matches("(?s).*sluice: journal \\S+: record 21 \\(\\d{8}F\\.cq4, queue index 0x[0-9a-f]+\\), the journal's last,"
                    + " is torn .*skipped \\(with sync: msync it was never acknowledged\\) and marked torn.*"), printed.toString());
            assertTrue(cp.state().sameAs(ackedState), "every acknowledged change, and nothing of the torn one");
            assertEquals(21, cp.generation());
            change(cp, group("g1", 5000), acked);
        }
        // the torn record is now in the middle, followed by its mark: skipped again, silently; the later change is there
        printed.setLength(0);
        try (ControlPlane cp = open(cfg, printed)) {
            assertTrue(!printed.toString().contains("torn"), printed.toString());
            assertTrue(cp.state().sameAs(fullReplay(cfg, acked)));
            assertEquals(22, cp.generation());
        }
        // a torn (corrupt) record in the middle without a mark is corruption: start-up stops, the journal unchanged
        corruptLast(dir.resolve("journal"), "\"port\":4010");
        byte[] before = Files.readAllBytes(cq4(dir.resolve("journal")).get(0));
        ConfigException e = assertThrows(ConfigException.class, () -> ControlPlane.open(Path.of("t.yaml"), cfg));
        assertTrue(e.getMessage().contains("is corrupt: its checksum does not match its bytes. Start-up stopped"), e.getMessage());
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(cq4(dir.resolve("journal")).get(0))), "the journal was changed");
    }

    /**
     * Changes over three (simulated) days, a snapshot every 5 changes: with {@code retain-journal}
     * as given, returns the generation; {@code made} gets every change.
     */
    private long threeDays(SluiceConfig cfg, List<DesiredState.Change> made, int[] retired) throws Exception {
        net.openhft.chronicle.core.time.SetTimeProvider clock = new net.openhft.chronicle.core.time.SetTimeProvider(
                java.time.Instant.parse("2026-12-01T10:00:00Z"));
        QueueLog.clock = clock;
        try (ControlPlane cp = open(cfg)) {
            for (int day = 0; day < 3; day++) {
                for (int i = 0; i < 7; i++) change(cp, group("g" + (i % 3), 100 * day + i + 1), made);
                clock.advanceMillis(24 * 3600_000L);
            }
            retired[0] = cp.retiredFiles();
            cp.awaitSnapshots();
            var health = GroupCodec.JSON.createObjectNode();
            cp.journalHealth(health);
            assertEquals(cp.retiredFiles(), health.path("retired_files").asInt(), "what /v1/health shows: " + health);
            return cp.generation();
        } finally {
            QueueLog.clock = net.openhft.chronicle.core.time.SystemTimeProvider.INSTANCE;
        }
    }

    @Test
    void retiredJournalFilesLeaveTheSameValueAndGenerationAfterARestart() throws Exception {
        SluiceConfig cfg = config("  sync: none\n  snapshot-every: 5\n");
        assertTrue(cfg.api().retireJournal(), "retire is the default");
        List<DesiredState.Change> made = new ArrayList<>();
        int[] retired = new int[1];
        long gen = threeDays(cfg, made, retired);
        // snapshots at generations 6 (day 1), 11 (day 2), 16 and 21 (day 3): at 16 the previous one (11) is in day 2's
        // files, so day 1's go; at 21 the previous one (16) is in day 3's, so day 2's go (the one before the newest stays readable)
        assertEquals(List.of("20261203F.cq4"), cq4(dir.resolve("journal")).stream().map(p -> p.getFileName().toString()).toList());
        assertEquals(List.of("20261203F.cq4"), cq4(dir.resolve("journal").resolve(Journal.SNAPSHOTS)).stream()
                .map(p -> p.getFileName().toString()).toList());
        assertEquals(4, retired[0], "two journal and two snapshot files");
        StringBuilder printed = new StringBuilder();
        try (ControlPlane cp = open(cfg, printed)) {
            assertTrue(cp.state().sameAs(fullReplay(cfg, made)), "the start after retirement differs from the replay of every change");
            assertEquals(gen, cp.generation());
            assertTrue(cp.startSnapshotGeneration() > 0, printed.toString());
            change(cp, group("g1", 999), made);
        }
        try (ControlPlane cp = open(cfg)) {
            assertTrue(cp.state().sameAs(fullReplay(cfg, made)));
            assertEquals(gen + 1, cp.generation());
        }
    }

    @Test
    void keepRetiresNothing() throws Exception {
        SluiceConfig cfg = config("  sync: none\n  snapshot-every: 5\n  retain-journal: keep\n");
        List<DesiredState.Change> made = new ArrayList<>();
        int[] retired = new int[1];
        long gen = threeDays(cfg, made, retired);
        assertEquals(0, retired[0]);
        assertEquals(3, cq4(dir.resolve("journal")).size());
        try (ControlPlane cp = open(cfg)) {
            assertEquals(gen, cp.generation());
            assertTrue(cp.state().sameAs(fullReplay(cfg, made)));
        }
        ConfigException e = assertThrows(ConfigException.class, () -> config("  retain-journal: never\n"));
        assertTrue(e.getMessage().contains("api.retain-journal: 'never' is not retire or keep"), e.getMessage());
    }

    @Test
    void snapshotSettingsDefaultAndErrorsNameFileLineAndKey() throws Exception {
        SluiceConfig d = config("");
        assertEquals(1000, d.api().snapshotEvery());
        assertEquals(64L << 20, d.api().snapshotBytes());
        int line = ControlFixtures.OVERLAY.split("\n", -1).length + 5; // the line after audit:
        ConfigException e = assertThrows(ConfigException.class, () -> config("  snapshot-every: -1\n"));
        assertTrue(e.getMessage().startsWith("t.yaml:" + line + ": api.snapshot-every: "), e.getMessage());
        e = assertThrows(ConfigException.class, () -> config("  snapshot-bytes: 12\n"));
        assertTrue(e.getMessage().startsWith("t.yaml:" + line + ": api.snapshot-bytes: "), e.getMessage());
    }

    @Test
    void snapshotDecoderRefusesWhatIsNotASnapshot() {
        assertEquals("changes[0]: body missing", assertThrows(IllegalArgumentException.class, () -> Journal.decodeSnapshot(
                "{\"v\":1,\"gen\":3,\"journal_index\":5,\"changes\":[{\"action\":\"security_group.put\",\"project\":\"blue\",\"name\":\"x\"}]}",
                "t")).getMessage());
        assertEquals("format version 2, this Sluice reads version 1", assertThrows(IllegalArgumentException.class,
                () -> Journal.decodeSnapshot("{\"v\":2,\"gen\":3,\"journal_index\":5,\"changes\":[]}", "t")).getMessage());
        JsonNode ok = GroupCodec.JSON.createObjectNode();
        assertEquals(3, Journal.decodeSnapshot("{\"v\":1,\"gen\":3,\"journal_index\":5,\"changes\":[{\"action\":\"security_group.delete\","
                + "\"project\":\"blue\",\"name\":\"x\"}]}", "t").gen(), ok.toString());
    }
}
