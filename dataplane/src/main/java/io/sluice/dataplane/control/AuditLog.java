package io.sluice.dataplane.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The audit log: one record per API call (accepted, denied, invalid alike) in its own Chronicle
 * Queue, append-only and chained by SHA-256. A record is a JSON object
 * <pre>
 * {"seq":7,"time":"2026-12-06T01:02:03.456Z","key_id":"blue-admin","client":"127.0.0.1","project":"blue",
 *  "action":"security_group.put","target":"blue/web","outcome":"accepted","status":200,"request_id":"r7",
 *  "prev":"&lt;hash of record 6&gt;","hash":"&lt;SHA-256 of prev + '\n' + this object without hash&gt;"}
 * </pre>
 * The key itself never appears (only its configured id). {@link #verify} walks the chain and names
 * the first record that was changed or removed.
 */
public final class AuditLog implements AutoCloseable {
    /** The {@code prev} of the first record. */
    static final String GENESIS = "0".repeat(64);

    private final QueueLog queue;
    private long seq;
    private String last = GENESIS;

    private AuditLog(QueueLog q) {
        this.queue = q;
        List<QueueLog.Entry> tail = q.newest(1, e -> true);
        if (!tail.isEmpty()) {
            try {
                JsonNode n = GroupCodec.JSON.readTree(tail.get(0).text());
                seq = n.path("seq").asLong();
                last = n.path("hash").asText(GENESIS);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("audit log " + q.dir() + ": its last record is not readable (" + e.getOriginalMessage()
                        + "); check it with ./sluice audit verify " + q.dir());
            }
        }
    }

    /** Opens (or creates) the audit queue in {@code dir} and continues its chain; {@code msync}: each record on disk before the answer. */
    public static AuditLog open(Path dir, boolean msync) {
        return new AuditLog(QueueLog.open(dir, msync));
    }

    /** One call's record (fields as in the class comment; null fields are written as ""). */
    public synchronized void append(String keyId, String client, String project, String action, String target, String outcome,
                                    int status, String requestId) {
        ObjectNode o = GroupCodec.JSON.createObjectNode();
        o.put("seq", seq + 1);
        o.put("time", Instant.now().toString());
        o.put("key_id", nz(keyId));
        o.put("client", nz(client));
        o.put("project", nz(project));
        o.put("action", nz(action));
        o.put("target", nz(target));
        o.put("outcome", nz(outcome));
        o.put("status", status);
        o.put("request_id", nz(requestId));
        o.put("prev", last);
        String hash = hash(last, o);
        o.put("hash", hash);
        queue.append(o.toString());
        seq++;
        last = hash;
    }

    /**
     * Up to {@code limit} records, newest first, whose action starts with {@code actionPrefix} (""
     * for all) and, when {@code projects} is not null, whose project is one of them.
     */
    public List<ObjectNode> newest(int limit, String actionPrefix, Set<String> projects) {
        List<ObjectNode> out = new ArrayList<>();
        for (QueueLog.Entry e : queue.newest(limit, e -> keep(e, actionPrefix, projects))) {
            out.add(parse(e));
        }
        return out;
    }

    private static boolean keep(QueueLog.Entry e, String prefix, Set<String> projects) {
        ObjectNode o = parse(e);
        if (o == null) return false;
        if (!o.path("action").asText().startsWith(prefix)) return false;
        return projects == null || projects.contains(o.path("project").asText());
    }

    private static ObjectNode parse(QueueLog.Entry e) {
        try {
            return GroupCodec.JSON.readTree(e.text()) instanceof ObjectNode o ? o : null;
        } catch (JsonProcessingException ex) {
            return null;
        }
    }

    static String hash(String prev, ObjectNode withoutHash) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(prev.getBytes(StandardCharsets.UTF_8));
            md.update((byte) '\n');
            md.update(withoutHash.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Walks the chain of the queue in {@code dir}.
     *
     * @return null when every record is intact and none is missing; else one line naming the first
     *         record changed or removed
     */
    public static String verify(Path dir, long[] count) {
        if (!Files.isDirectory(dir)) return dir + ": no audit log here (not a directory)";
        try (QueueLog q = QueueLog.openReadOnly(dir)) {
            List<QueueLog.Entry> all;
            try {
                all = q.readAll();
            } catch (RuntimeException e) {
                return dir + ": a record cannot be read at all: " + e.getMessage();
            }
            String prev = GENESIS;
            long expect = 1;
            for (QueueLog.Entry e : all) {
                String at = " (queue index 0x" + Long.toHexString(e.index()) + ")";
                ObjectNode o = parse(e);
                if (!e.intact() || o == null) {
                    return "record " + expect + at + " was changed: " + (!e.intact() ? "its checksum does not match its bytes" : "it is not a JSON object");
                }
                long s = o.path("seq").asLong(-1);
                String h = o.path("hash").asText("");
                String p = o.path("prev").asText("");
                ObjectNode body = o.deepCopy();
                body.remove("hash");
                if (!hash(p, body).equals(h)) {
                    return "record " + (s > 0 ? s : expect) + at + " was changed: its hash does not match its contents";
                }
                if (s != expect || !p.equals(prev)) {
                    if (s > expect) {
                        return "record " + expect + (s - expect > 1 ? ".." + (s - 1) : "") + " was removed: record " + s + at
                                + " follows record " + (expect - 1);
                    }
                    return "record " + s + at + " was changed: it does not follow record " + (expect - 1) + " (sequence or prev hash differs)";
                }
                prev = h;
                expect++;
            }
            if (count != null) count[0] = expect - 1;
            return null;
        }
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    @Override
    public void close() {
        queue.close();
    }
}
