package io.sluice.dataplane.config;

import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiConsumer;

/**
 * The one YAML reader of the configuration file: every section's parser (host settings in
 * {@link ConfigLoader}, {@code overlay}, {@code security-groups}, {@code api}, and any section
 * added later) reads its nodes through it, so every problem reads the same way:
 * {@code file:line: key.path: what is wrong}. Unknown keys and keys given twice are errors. A
 * new section needs only its key set and its fields: {@code mapping(node, "section", KEYS)},
 * then {@code scalar}/{@code intIn}/{@code mac}/{@code ipv4}/{@code sequence} per field.
 */
public final class Yaml {
    /** The key path of the document's top level in messages (keys below it are named alone). */
    public static final String TOP = "(top level)";

    private final String file;
    /** Told each mapping and each mapping value with its key path (to place later errors on a line), or null. */
    private final BiConsumer<String, Node> seen;

    public Yaml(String file) {
        this(file, null);
    }

    /** @param seen told every mapping and mapping value read, with its key path */
    public Yaml(String file, BiConsumer<String, Node> seen) {
        this.file = file;
        this.seen = seen;
    }

    /** The file name messages start with. */
    public String file() {
        return file;
    }

    /** Composes {@code text} into nodes; empty when the text holds no document. */
    public Optional<Node> compose(String text) throws ConfigException {
        try {
            return new Compose(LoadSettings.builder().setLabel(file).build()).composeString(text);
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().map(m -> m.getLine() + 1).orElse(0);
            throw new ConfigException(file + ":" + line + ": not valid YAML: " + e.getProblem());
        } catch (YamlEngineException e) {
            throw new ConfigException(file + ": not valid YAML: " + e.getMessage());
        }
    }

    /** The value of top-level key {@code key} of a composed document, or null (no such key, or not a mapping). */
    public static Node section(Optional<Node> root, String key) {
        if (root.isEmpty() || !(root.get() instanceof MappingNode mn)) {
            return null;
        }
        for (NodeTuple t : mn.getValue()) {
            if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals(key)) {
                return t.getValueNode();
            }
        }
        return null;
    }

    /** The keys of mapping {@code n}, each one of {@code allowed} (null: any key) and given once, in order. */
    public Map<String, Node> mapping(Node n, String key, Set<String> allowed) throws ConfigException {
        if (!(n instanceof MappingNode mn)) {
            throw error(n, key, "must be a mapping (key: value lines)");
        }
        if (seen != null) {
            seen.accept(key, n);
        }
        Map<String, Node> out = new LinkedHashMap<>();
        for (NodeTuple t : mn.getValue()) {
            String k = scalar(t.getKeyNode(), key + " key");
            String path = key.equals(TOP) ? k : key + "." + k;
            if (allowed != null && !allowed.contains(k)) {
                throw error(t.getKeyNode(), path, "unknown key; expected one of " + new TreeSet<>(allowed));
            }
            if (out.put(k, t.getValueNode()) != null) {
                throw error(t.getKeyNode(), path, "given twice");
            }
            if (seen != null) {
                seen.accept(path, t.getValueNode());
            }
        }
        return out;
    }

    public List<Node> sequence(Node n, String key) throws ConfigException {
        if (!(n instanceof SequenceNode sn)) {
            throw error(n, key, "must be a list");
        }
        return sn.getValue();
    }

    public String scalar(Node n, String key) throws ConfigException {
        if (!(n instanceof ScalarNode sn)) {
            throw error(n, key, "must be a single value, not a list or mapping");
        }
        return sn.getValue();
    }

    /** The scalar of {@code field} in {@code m}; "missing" on {@code owner}'s line when absent. */
    public String required(Map<String, Node> m, Node owner, String key, String field) throws ConfigException {
        if (!m.containsKey(field)) {
            throw error(owner, key + "." + field, "missing");
        }
        return scalar(m.get(field), key + "." + field);
    }

    public int intIn(Node n, String key, int min, int max) throws ConfigException {
        String s = scalar(n, key);
        int v;
        try {
            v = Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw error(n, key, "'" + s + "' is not a whole number");
        }
        if (v < min || v > max) {
            throw error(n, key, v + " is out of range " + min + ".." + max);
        }
        return v;
    }

    public long mac(Node n, String key) throws ConfigException {
        String s = scalar(n, key);
        long v = ConfigLoader.parseMac(s);
        if (v < 0) {
            throw error(n, key, "'" + s + "' is not a MAC address like 02:00:00:00:00:01");
        }
        return v;
    }

    public int ipv4(Node n, String key) throws ConfigException {
        String s = scalar(n, key);
        long v = ConfigLoader.parseIpv4(s);
        if (v < 0) {
            throw error(n, key, "'" + s + "' is not an IPv4 address like 10.0.0.1");
        }
        return (int) v;
    }

    /** The 1-based line of {@code n}, 0 for none. */
    public static int line(Node n) {
        return n == null ? 0 : n.getStartMark().map(Mark::getLine).orElse(-1) + 1;
    }

    /** {@code file:line: key: what}. */
    public ConfigException error(Node n, String key, String what) {
        return new ConfigException(file + ":" + line(n) + ": " + key + ": " + what);
    }
}
