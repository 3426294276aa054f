package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The audit log's torn last record, as the journal's (docs/api.md, "Audit log"): a power loss can
 * leave the last record's pages on disk only in part (simulated: a changed byte in the last record,
 * no power is cut). {@code audit verify} names it; a start reports it, skips it and appends a chained
 * {@code audit.torn} record naming its index, after which the chain verifies and continues; damage
 * anywhere else stops the start naming the record, its file and index, and changes nothing.
 */
class AuditTornTest {
    @TempDir
    Path dir;

    static void append(AuditLog log, int i) {
        log.append("k", "127.0.0.1", "blue", "security_group.put", "blue/g" + i, "accepted", 200, "r" + i);
    }

    /** Opens the log, returning what it printed on stderr. */
    static String open(Path a, int... then) {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try (AuditLog log = AuditLog.open(a, true)) {
            for (int i : then) append(log, i);
        } finally {
            System.setErr(old);
        }
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aTornLastRecordIsReportedSkippedAndMarkedAndDamageElsewhereStopsTheStart() throws Exception {
        Path a = dir.resolve("audit");
        try (AuditLog log = AuditLog.open(a, true)) {
            for (int i = 0; i < 6; i++) append(log, i);
        }
        // power loss: the last record reached the disk only in part
        JournalSnapshotTest.corruptLast(a, "\"target\":\"blue/g5\"");
        long[] n = new long[2];
        String v = AuditLog.verify(a, n);
        assertNotNull(v);
        assertTrue(v.matches("record 6 \\(queue index 0x[0-9a-f]+\\) was changed: its checksum does not match its bytes \\(it is the last record: .*"), v);

        String printed = open(a, 6);
        assertTrue(printed.matches("(?s)sluice: audit log \\S+: record 6 \\(\\d{8}F\\.cq4, queue index 0x[0-9a-f]+\\), the audit log's last, is torn .*"
                + "skipped and marked torn \\(record 6 is now the mark\\).*"), printed);
        try (AuditLog log = AuditLog.open(a, true)) {
            List<ObjectNode> newest = log.newest(10, "", null);
            assertEquals(List.of(7L, 6L, 5L), newest.subList(0, 3).stream().map(o -> o.path("seq").asLong()).toList(), newest.toString());
            assertEquals("blue/g6", newest.get(0).path("target").asText(), "the call after the start");
            assertEquals(AuditLog.TORN, newest.get(1).path("action").asText());
            assertTrue(newest.get(1).path("torn_index").asLong() > 0);
            assertEquals("blue/g4", newest.get(2).path("target").asText(), "the torn record is skipped");
        }
        assertNull(AuditLog.verify(a, n));
        assertEquals(7, n[0]);
        assertEquals(1, n[1], "one torn record skipped");
        assertEquals("", open(a, 7), "a later start skips the marked record silently");
        assertNull(AuditLog.verify(a, n));
        assertEquals(8, n[0]);

        // damage anywhere else (record 3) stops the start, naming file and index, and changes nothing
        JournalSnapshotTest.corruptLast(a, "\"target\":\"blue/g2\"");
        byte[] before = Files.readAllBytes(JournalSnapshotTest.cq4(a).get(0));
        AuditLog.Damaged e = assertThrows(AuditLog.Damaged.class, () -> AuditLog.open(a, true));
        assertTrue(e.getMessage().matches("audit log \\S+: record 3 \\(\\d{8}F\\.cq4, queue index 0x[0-9a-f]+\\) was changed: its checksum does"
                + " not match its bytes\\. Start-up stopped; the audit log is left as it is.*"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(JournalSnapshotTest.cq4(a).get(0)), "the audit log was changed");
        v = AuditLog.verify(a, n);
        assertTrue(v != null && v.startsWith("record 3 (queue index 0x"), v);
    }
}
