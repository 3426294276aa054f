package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.dataplane.config.ConfigException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The journal of accepted changes (Chronicle Queue): every change the API accepts is appended
 * before it is applied and acknowledged; {@code reload} records keep the generation of SIGHUP
 * reloads; {@code revert} marks a change whose apply failed after it was journaled. A record is
 * {@code {"v":1,"gen":N,"action":…,"project":…,"name":…,"body":{…}}}.
 *
 * <p>Replay at start reads every record; one that is corrupt (checksum, JSON, version, or fields)
 * stops start-up with a message naming it. The journal is never truncated or rewritten.
 */
final class Journal implements AutoCloseable {
    static final int VERSION = 1;
    static final String RELOAD = "reload";
    static final String REVERT = "revert";

    /** A journal record: the generation it made and the change (null for reload and revert). */
    record Record(long gen, String action, DesiredState.Change change) {}

    private final QueueLog queue;

    private Journal(QueueLog q) {
        this.queue = q;
    }

    static Journal open(Path dir, boolean msync) {
        return new Journal(QueueLog.open(dir, msync));
    }

    Path dir() {
        return queue.dir();
    }

    void change(long gen, DesiredState.Change c) {
        ObjectNode o = head(gen, c.action());
        o.put("project", c.project());
        o.put("name", c.name());
        if (c.body() != null) o.set("body", c.body());
        queue.append(o.toString());
    }

    void reload(long gen) {
        queue.append(head(gen, RELOAD).toString());
    }

    void revert(long gen) {
        queue.append(head(gen, REVERT).toString());
    }

    private static ObjectNode head(long gen, String action) {
        ObjectNode o = GroupCodec.JSON.createObjectNode();
        o.put("v", VERSION);
        o.put("gen", gen);
        o.put("action", action);
        return o;
    }

    /**
     * Every record, oldest first, checked; the first bad one stops start-up.
     *
     * @throws ConfigException naming the journal, the record and what is wrong
     */
    List<Record> replay() throws ConfigException {
        List<QueueLog.Entry> all;
        try {
            all = queue.readAll();
        } catch (RuntimeException e) {
            throw corrupt(all0(), "a record cannot be read: " + e.getMessage());
        }
        List<Record> out = new ArrayList<>();
        long lastGen = 0;
        for (int i = 0; i < all.size(); i++) {
            QueueLog.Entry e = all.get(i);
            String at = "record " + (i + 1) + " (queue index 0x" + Long.toHexString(e.index()) + ")";
            if (!e.intact()) throw corrupt(at, "its checksum does not match its bytes");
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
            if (gen < 1 || gen < lastGen) throw corrupt(at, "generation " + gen + " after " + lastGen);
            lastGen = gen;
            switch (action) {
                case RELOAD, REVERT -> out.add(new Record(gen, action, null));
                case DesiredState.PUT_GROUP, DesiredState.DELETE_GROUP, DesiredState.PUT_MEMBERSHIP,
                     Projects.PUT_PROJECT, Projects.DELETE_PROJECT, Projects.PUT_VM, Projects.DELETE_VM -> {
                    if (!o.path("project").isTextual() || !o.path("name").isTextual()) throw corrupt(at, "project or name missing");
                    JsonNode body = o.get("body");
                    if (!action.endsWith(".delete") && body == null) throw corrupt(at, "body missing");
                    out.add(new Record(gen, action, new DesiredState.Change(action, o.get("project").textValue(), o.get("name").textValue(), body)));
                }
                case FloatingIps.ALLOCATE, FloatingIps.PUT, FloatingIps.RELEASE, VmFirewall.PUT -> {
                    if (!o.path("project").isTextual() || !o.path("name").isTextual()) throw corrupt(at, "project or name missing");
                    JsonNode body = o.get("body");
                    if ((action.equals(FloatingIps.PUT) || action.equals(VmFirewall.PUT) || action.equals(FloatingIps.ALLOCATE)) && body == null) {
                        throw corrupt(at, "body missing");
                    }
                    out.add(new Record(gen, action, new DesiredState.Change(action, o.get("project").textValue(), o.get("name").textValue(), body)));
                }
                default -> throw corrupt(at, "unknown action '" + action + "'");
            }
        }
        return out;
    }

    private static String all0() {
        return "a record";
    }

    private ConfigException corrupt(String at, String what) {
        return new ConfigException("journal " + queue.dir() + ": " + at + " is corrupt: " + what
                + ". Start-up stopped; the journal is left as it is (never truncated). To start from the configuration"
                + " file alone, move the directory aside (the changes it holds are then not applied).");
    }

    @Override
    public void close() {
        queue.close();
    }
}
