package io.sluice.dataplane.control;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.dataplane.config.ConfigException;

import java.nio.charset.StandardCharsets;

/**
 * Fuzzes the journal snapshot's decoder through the path start-up takes with a snapshot record's
 * text ({@link Journal#decodeSnapshot}, then {@link ControlPlane#rebuild} over the file's state):
 * any text is either refused with {@link IllegalArgumentException} (start-up reports it and falls
 * back to the snapshot before it), or decodes into changes that are re-encoded to the same
 * snapshot ({@link Journal#encodeSnapshot}) and either rebuild a state or are refused with a
 * {@link ConfigException} naming the snapshot, never another exception. Seeds in
 * src/test/resources/io/sluice/dataplane/control/SnapshotDecoderFuzzInputs/.
 */
class SnapshotDecoderFuzz {
    private static final DesiredState STATE = ControlFixtures.state();

    @FuzzTest(maxDuration = "10s")
    void snapshot(byte[] record) throws Exception {
        String text = new String(record, StandardCharsets.UTF_8);
        Journal.Snapshot s;
        try {
            s = Journal.decodeSnapshot(text, "snapshot fuzz");
        } catch (IllegalArgumentException refused) {
            if (refused.getMessage() == null || refused.getMessage().isEmpty()) throw new IllegalStateException("a refusal without a reason");
            return;
        }
        Journal.Snapshot again = Journal.decodeSnapshot(Journal.encodeSnapshot(s.gen(), s.journalIndex(), s.changes()), "again");
        if (again.gen() != s.gen() || again.journalIndex() != s.journalIndex() || !again.changes().equals(s.changes())) {
            throw new IllegalStateException("the snapshot does not survive its own encoding: " + text);
        }
        try {
            ControlPlane.rebuild(STATE, s, "fuzz", "t.yaml");
        } catch (ConfigException e) {
            if (!e.getMessage().contains("snapshot fuzz (generation " + s.gen() + ", change ")) throw new IllegalStateException("unnamed: " + e.getMessage());
        }
    }
}
