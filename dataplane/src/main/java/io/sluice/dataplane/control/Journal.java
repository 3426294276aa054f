package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.dataplane.config.ConfigException;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The journal of accepted changes (Chronicle Queue): every change the API accepts is appended
 * before it is applied and acknowledged; {@code reload} records keep the generation of SIGHUP
 * reloads; {@code revert} marks a change whose apply failed after it was journaled; {@code torn}
 * marks a torn last record found at a start (a power loss during its append) that was skipped. A
 * record is {@code {"v":1,"gen":N,"action":…,"project":…,"name":…,"body":{…}}}.
 *
 * <p><b>Snapshots</b> (docs/api.md, "Journal snapshots") live in their own queue, {@code
 * snapshots/} inside the journal's directory: one record
 * {@code {"v":1,"gen":G,"journal_index":J,"changes":[{"action":…,"project":…,"name":…,"body":…},…]}}
 * holds the whole desired state the API made, as the shortest list of changes that rebuilds it over
 * the file (checked when written: the list replayed gives the value in use), taken at generation
 * {@code G} after journal record {@code J}. Start = the newest usable snapshot + the journal's records
 * after it. A snapshot that is torn or corrupt is reported (file and index) and the one before it is
 * used, with a longer replay; with none usable, the whole journal is replayed.
 *
 * <p>A record that is corrupt (checksum, JSON, version, or fields) stops start-up with a message
 * naming it, unless it is the journal's last record (a torn append: reported, skipped and marked
 * {@code torn}). The journal is never truncated or rewritten.
 */
final class Journal implements AutoCloseable {
    static final int VERSION = 1;
    static final String RELOAD = "reload";
    static final String REVERT = "revert";
    static final String TORN = "torn";
    /** The directory of the snapshot queue, inside the journal's. */
    static final String SNAPSHOTS = "snapshots";

    /** A journal record: the generation it made and the change (null for reload, revert and torn). */
    record Record(long gen, String action, DesiredState.Change change) {}

    /** A snapshot read back: its generation, the journal index it follows, the changes, and where it is. */
    record Snapshot(long gen, long journalIndex, List<DesiredState.Change> changes, String at) {}

    /**
     * What start-up replays: the newest usable snapshot (or null), the journal's records after it, and
     * the queue index of a torn last record that was skipped (or -1).
     */
    record Loaded(Snapshot snapshot, List<Record> tail, long torn, String tornAt) {}

    private final QueueLog queue;
    private final QueueLog snapshots;

    private Journal(QueueLog q, QueueLog s) {
        this.queue = q;
        this.snapshots = s;
    }

    static Journal open(Path dir, boolean msync) {
        QueueLog q = QueueLog.open(dir, msync);
        try {
            java.nio.file.Files.createDirectories(dir.resolve(SNAPSHOTS));
            return new Journal(q, QueueLog.open(dir.resolve(SNAPSHOTS), msync));
        } catch (java.io.IOException | RuntimeException e) {
            q.close();
            throw new IllegalStateException("cannot open " + dir.resolve(SNAPSHOTS) + ": " + e.getMessage(), e);
        }
    }

    Path dir() {
        return queue.dir();
    }

    /** The index of the newest journal record, or -1. */
    long lastIndex() {
        return queue.lastIndex();
    }

    /** Appends a change; returns the number of bytes journaled. */
    int change(long gen, DesiredState.Change c) {
        ObjectNode o = head(gen, c.action());
        o.put("project", c.project());
        o.put("name", c.name());
        if (c.body() != null) o.set("body", c.body());
        String text = o.toString();
        queue.append(text);
        return text.length();
    }

    void reload(long gen) {
        queue.append(head(gen, RELOAD).toString());
    }

    void revert(long gen) {
        queue.append(head(gen, REVERT).toString());
    }

    /** Marks the record at {@code index} as a torn append that start-up skipped (a later start skips it again). */
    void torn(long gen, long index) {
        ObjectNode o = head(gen, TORN);
        o.put("index", index);
        queue.append(o.toString());
    }

    /**
     * Appends a snapshot: {@code changes} rebuild the state of generation {@code gen} over the file,
     * which includes every journal record up to {@code journalIndex}.
     *
     * @return the snapshot's size in bytes
     */
    int snapshot(long gen, long journalIndex, List<DesiredState.Change> changes) {
        String text = encodeSnapshot(gen, journalIndex, changes);
        snapshots.append(text);
        return text.length();
    }

    /**
     * Journal retirement ({@code api.retain-journal: retire}, docs/api.md): deletes the journal's files
     * older than the one holding the <em>previous</em> snapshot's journal index, and the snapshot
     * queue's files older than the one holding that snapshot, so a start can still fall back from the
     * newest snapshot to the one before it. Nothing when there is no previous snapshot or it cannot
     * be read. Returns the deleted files' names (journal's, then {@code snapshots/…}).
     */
    List<String> retire() {
        List<QueueLog.Entry> two = snapshots.newest(2, e -> true);
        if (two.size() < 2 || !two.get(1).intact()) return List.of();
        Snapshot prev;
        try {
            prev = decodeSnapshot(two.get(1).text(), "the previous snapshot");
        } catch (IllegalArgumentException e) {
            return List.of();
        }
        List<String> out = new ArrayList<>(queue.retireBefore(prev.journalIndex()));
        for (String f : snapshots.retireBefore(two.get(1).index())) out.add(SNAPSHOTS + "/" + f);
        return out;
    }

    /** A snapshot record's text ({@link #decodeSnapshot} reads it back). */
    static String encodeSnapshot(long gen, long journalIndex, List<DesiredState.Change> changes) {
        ObjectNode o = GroupCodec.JSON.createObjectNode();
        o.put("v", VERSION);
        o.put("gen", gen);
        o.put("journal_index", journalIndex);
        ArrayNode a = o.putArray("changes");
        for (DesiredState.Change c : changes) {
            ObjectNode n = a.addObject();
            n.put("action", c.action());
            n.put("project", c.project());
            n.put("name", c.name());
            if (c.body() != null) n.set("body", c.body());
        }
        return o.toString();
    }

    private static ObjectNode head(long gen, String action) {
        ObjectNode o = GroupCodec.JSON.createObjectNode();
        o.put("v", VERSION);
        o.put("gen", gen);
        o.put("action", action);
        return o;
    }

    /**
     * The newest usable snapshot and the journal's records after it. Each snapshot that cannot be used
     * is reported on {@code log} (file, index, why), and the one before it is tried.
     *
     * @throws ConfigException a corrupt journal record (not the last), records missing before the tail
     */
    Loaded load(PrintStream log) throws ConfigException {
        Snapshot s = newestSnapshot(log);
        if (s == null) return tail(read(-1), 0);
        List<QueueLog.Entry> from = read(s.journalIndex());
        boolean there = false;
        if (!from.isEmpty() && from.get(0).intact()) {
            try {
                there = GroupCodec.JSON.readTree(from.get(0).text()).path("gen").asLong(-1) == s.gen();
            } catch (Exception e) {
                there = false;
            }
        }
        if (there) {
            from = from.subList(1, from.size());
        } else {
            // the journal does not hold the snapshot's last record where it says (sync: none and a power loss
            // can lose journal pages the snapshot's file kept): the records of later generations follow it
            from = read(-1);
        }
        return tail(from, s.gen(), s);
    }

    private Snapshot newestSnapshot(PrintStream log) {
        Snapshot[] found = new Snapshot[1];
        snapshots.newest(1, e -> {
            String at = "snapshot " + snapshots.dir().resolve(snapshots.fileOf(e.index())) + " index 0x" + Long.toHexString(e.index());
            try {
                if (!e.intact()) throw new IllegalArgumentException("its checksum does not match its bytes (torn or corrupt)");
                found[0] = decodeSnapshot(e.text(), at);
                return true;
            } catch (IllegalArgumentException ex) {
                log.println("sluice: journal " + queue.dir() + ": " + at + " cannot be used: " + ex.getMessage()
                        + "; falling back to the snapshot before it (a longer replay of the journal)");
                return false;
            }
        });
        return found[0];
    }

    /**
     * A snapshot record's text decoded (the fuzz target's path).
     *
     * @throws IllegalArgumentException what is wrong with it
     */
    static Snapshot decodeSnapshot(String text, String at) {
        JsonNode n;
        try {
            n = GroupCodec.JSON.readTree(text);
        } catch (Exception ex) {
            throw new IllegalArgumentException("not JSON");
        }
        if (!(n instanceof ObjectNode o)) throw new IllegalArgumentException("not a JSON object");
        if (o.path("v").asInt(-1) != VERSION) {
            throw new IllegalArgumentException("format version " + o.path("v") + ", this Sluice reads version " + VERSION);
        }
        long gen = o.path("gen").isIntegralNumber() ? o.path("gen").asLong() : -1;
        if (gen < 1) throw new IllegalArgumentException("generation missing or not positive");
        if (!o.path("journal_index").isIntegralNumber()) throw new IllegalArgumentException("journal_index missing");
        if (!(o.get("changes") instanceof ArrayNode a)) throw new IllegalArgumentException("changes missing");
        List<DesiredState.Change> out = new ArrayList<>(a.size());
        for (int i = 0; i < a.size(); i++) {
            String what = decodeChange(a.get(i), out);
            if (what != null) throw new IllegalArgumentException("changes[" + i + "]: " + what);
        }
        return new Snapshot(gen, o.path("journal_index").asLong(), List.copyOf(out), at);
    }

    /**
     * True when {@code body} is written back as the same JSON: false for a number read as a double
     * that is not finite (a float literal beyond the double range, such as {@code 7E400}, becomes
     * Infinity, which JSON cannot carry), so a snapshot holding one is refused, not re-encoded wrong.
     */
    static boolean storable(JsonNode body) {
        if (body.isFloatingPointNumber()) return Double.isFinite(body.doubleValue());
        for (JsonNode c : body) if (!storable(c)) return false;
        return true;
    }

    /** Decodes one change object into {@code out}; null, or what is wrong with it. */
    private static String decodeChange(JsonNode n, List<DesiredState.Change> out) {
        if (!(n instanceof ObjectNode o)) return "not a JSON object";
        String action = o.path("action").asText("");
        switch (action) {
            case DesiredState.PUT_GROUP, DesiredState.DELETE_GROUP, DesiredState.PUT_MEMBERSHIP,
                 Projects.PUT_PROJECT, Projects.DELETE_PROJECT, Projects.PUT_VM, Projects.DELETE_VM,
                 FloatingIps.ALLOCATE, FloatingIps.PUT, FloatingIps.RELEASE, VmFirewall.PUT -> {
                if (!o.path("project").isTextual() || !o.path("name").isTextual()) return "project or name missing";
                JsonNode body = o.get("body");
                if (!action.endsWith(".delete") && !action.equals(FloatingIps.RELEASE) && body == null) return "body missing";
                if (body != null && !storable(body)) return "body holds a number that JSON cannot carry (e.g. a float beyond the double range)";
                out.add(new DesiredState.Change(action, o.get("project").textValue(), o.get("name").textValue(), body));
                return null;
            }
            default -> {
                return "unknown action '" + GroupCodec.clip(action) + "'";
            }
        }
    }

    private List<QueueLog.Entry> read(long from) throws ConfigException {
        try {
            return from < 0 ? queue.readAll() : queue.readFrom(from);
        } catch (RuntimeException e) {
            throw corrupt("a record", "it cannot be read: " + e.getMessage());
        }
    }

    private Loaded tail(List<QueueLog.Entry> all, long afterGen) throws ConfigException {
        return tail(all, afterGen, null);
    }

    /**
     * The records of {@code all} with a generation after {@code afterGen}, checked. A corrupt record
     * stops start-up unless it is the last one (a torn append, returned as {@code torn}) or a {@code torn}
     * record naming it follows.
     */
    private Loaded tail(List<QueueLog.Entry> all, long afterGen, Snapshot s) throws ConfigException {
        List<Record> out = new ArrayList<>();
        long lastGen = 0;
        long torn = -1;
        String tornAt = null;
        boolean first = true;
        for (int i = 0; i < all.size(); i++) {
            QueueLog.Entry e = all.get(i);
            String at = "record " + (i + 1) + " (" + queue.fileOf(e.index()) + ", queue index 0x" + Long.toHexString(e.index()) + ")";
            if (!e.intact()) {
                if (i == all.size() - 1) {
                    torn = e.index();
                    tornAt = at;
                    break;
                }
                if (markedTorn(all.get(i + 1), e.index())) continue;
                throw corrupt(at, "its checksum does not match its bytes");
            }
            JsonNode n;
            try {
                n = GroupCodec.JSON.readTree(e.text());
            } catch (Exception ex) {
                throw corrupt(at, "not JSON");
            }
            if (!(n instanceof ObjectNode o)) throw corrupt(at, "not a JSON object");
            if (o.path("v").asInt(-1) != VERSION) {
                throw corrupt(at, "journal format version " + o.path("v") + ", this Sluice reads version " + VERSION
                        + " (written by an incompatible version)");
            }
            long gen = o.path("gen").asLong(-1);
            String action = o.path("action").asText("");
            if (gen < 1 || gen < lastGen && !action.equals(TORN)) throw corrupt(at, "generation " + gen + " after " + lastGen);
            if (s != null && gen <= s.gen()) continue; // in the snapshot already
            if (first && !action.equals(TORN)) {
                // the first record after the start (generation 1) or the snapshot makes the next generation:
                // a later one means records before it are missing (retired without a snapshot that covers them)
                long expect = Math.max(afterGen, 1) + 1;
                if (gen > expect) {
                    throw corrupt(at, "it is generation " + gen + " but generation " + expect + " comes first: the records before it are missing"
                            + (s == null ? " and no snapshot covers them" : " (after " + s.at() + ")"));
                }
                first = false;
            }
            if (!action.equals(TORN)) lastGen = gen;
            switch (action) {
                case RELOAD, REVERT, TORN -> out.add(new Record(gen, action, null));
                default -> {
                    List<DesiredState.Change> one = new ArrayList<>(1);
                    String what = decodeChange(o, one);
                    if (what != null) throw corrupt(at, what);
                    out.add(new Record(gen, action, one.get(0)));
                }
            }
        }
        return new Loaded(s, out, torn, tornAt);
    }

    private static boolean markedTorn(QueueLog.Entry next, long index) {
        if (!next.intact()) return false;
        try {
            JsonNode n = GroupCodec.JSON.readTree(next.text());
            return TORN.equals(n.path("action").asText()) && n.path("index").asLong(-1) == index;
        } catch (Exception e) {
            return false;
        }
    }

    private ConfigException corrupt(String at, String what) {
        return new ConfigException("journal " + queue.dir() + ": " + at + " is corrupt: " + what
                + ". Start-up stopped; the journal is left as it is (never truncated). To start from the configuration"
                + " file alone, move the directory aside (the changes it holds are then not applied).");
    }

    @Override
    public void close() {
        queue.close();
        snapshots.close();
    }
}
