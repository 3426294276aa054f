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

    /** The action of the record a start appends after a torn last record it skipped ({@code torn_index} names it). */
    static final String TORN = "audit.torn";

    /** The audit log cannot be continued: a record other than the last is damaged (named, with its file and index). */
    public static final class Damaged extends IllegalStateException {
        Damaged(String message) { super(message); }
    }

    private AuditLog(QueueLog q) {
        this.queue = q;
        Chain c = new Chain(index -> q.fileOf(index) + ", queue index 0x" + Long.toHexString(index));
        q.forEach(c);
        String problem = c.finish();
        if (problem != null) {
            throw new Damaged("audit log " + q.dir() + ": " + problem + ". Start-up stopped; the audit log is left as it is (never"
                    + " truncated). ./sluice audit verify " + q.dir() + " names the same record; to start a new chain, move the directory aside");
        }
        seq = c.expect - 1;
        last = c.prev;
        if (c.tornLast != null) {
            // an append cut short (a power loss while it was written): its call was never answered with sync: msync
            System.err.println("sluice: audit log " + q.dir() + ": record " + c.expect + " (" + c.where.apply(c.tornLast.index())
                    + "), the audit log's last, is torn (its checksum does not match its bytes, or it is not JSON: an append cut short,"
                    + " e.g. by a power loss); skipped and marked torn (record " + c.expect + " is now the mark), the audit log is"
                    + " otherwise left as it is");
            ObjectNode o = GroupCodec.JSON.createObjectNode();
            o.put("torn_index", c.tornLast.index());
            record(o, "", "", "", TORN, "queue index 0x" + Long.toHexString(c.tornLast.index()), "skipped", 0, "");
        }
    }

    /**
     * Walks the chain one record at a time: the next {@code seq} expected and the last hash, the first
     * problem, and a torn last record. A record whose bytes do not add up is skipped when the record
     * after it is the {@link #TORN} mark naming its index (a start found it torn and marked it).
     */
    private static final class Chain implements java.util.function.Consumer<QueueLog.Entry> {
        final java.util.function.LongFunction<String> where;
        String prev = GENESIS, problem;
        long expect = 1, marked;
        /** A damaged record not yet judged: torn last, skipped (a mark follows), or changed. */
        QueueLog.Entry pending, tornLast;

        Chain(java.util.function.LongFunction<String> where) { this.where = where; }

        @Override
        public void accept(QueueLog.Entry e) {
            if (problem != null) return;
            ObjectNode o = parse(e);
            if (pending != null) {
                if (o != null && e.intact() && TORN.equals(o.path("action").asText()) && o.path("torn_index").asLong(-1) == pending.index()) {
                    pending = null;
                    marked++;
                } else {
                    problem = changed(pending, null);
                    return;
                }
            }
            if (!e.intact() || o == null) {
                pending = e;
                return;
            }
            String at = " (" + where.apply(e.index()) + ")";
            long s = o.path("seq").asLong(-1);
            String h = o.path("hash").asText("");
            String p = o.path("prev").asText("");
            ObjectNode body = o.deepCopy();
            body.remove("hash");
            if (!hash(p, body).equals(h)) {
                problem = "record " + (s > 0 ? s : expect) + at + " was changed: its hash does not match its contents";
            } else if (s != expect || !p.equals(prev)) {
                problem = s > expect
                        ? "record " + expect + (s - expect > 1 ? ".." + (s - 1) : "") + " was removed: record " + s + at + " follows record " + (expect - 1)
                        : "record " + s + at + " was changed: it does not follow record " + (expect - 1) + " (sequence or prev hash differs)";
            } else {
                prev = h;
                expect++;
            }
        }

        private String changed(QueueLog.Entry e, String tail) {
            return "record " + expect + " (" + where.apply(e.index()) + ") was changed: " + (!e.intact()
                    ? "its checksum does not match its bytes" : "it is not a JSON object") + (tail == null ? "" : tail);
        }

        /** After the last record: the problem, or null (a damaged last record is then {@link #tornLast}). */
        String finish() {
            if (problem == null && pending != null) {
                tornLast = pending;
                pending = null;
            }
            return problem;
        }
    }

    /** Opens (or creates) the audit queue in {@code dir} and continues its chain; {@code msync}: each record on disk before the answer. */
    public static AuditLog open(Path dir, boolean msync) {
        return new AuditLog(QueueLog.open(dir, msync));
    }

    /** One call's record (fields as in the class comment; null fields are written as ""). */
    public synchronized void append(String keyId, String client, String project, String action, String target, String outcome,
                                    int status, String requestId) {
        record(GroupCodec.JSON.createObjectNode(), keyId, client, project, action, target, outcome, status, requestId);
    }

    private void record(ObjectNode extra, String keyId, String client, String project, String action, String target, String outcome,
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
        o.setAll(extra);
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
            Chain c = new Chain(index -> "queue index 0x" + Long.toHexString(index));
            try {
                q.forEach(c);
            } catch (RuntimeException e) {
                return dir + ": a record cannot be read at all: " + e.getMessage();
            }
            String problem = c.finish();
            if (problem != null) return problem;
            if (c.tornLast != null) {
                return c.changed(c.tornLast, " (it is the last record: an append cut short, e.g. by a power loss, or a change;"
                        + " the next start reports it, skips it and marks it torn)");
            }
            if (count != null) {
                count[0] = c.expect - 1;
                if (count.length > 1) count[1] = c.marked;
            }
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
