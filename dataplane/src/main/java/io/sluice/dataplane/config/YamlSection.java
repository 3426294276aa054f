package io.sluice.dataplane.config;

import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The small YAML helpers of a section parsed outside {@link ConfigLoader} (the control API's, the
 * flow logs'): the same messages, {@code file:line: key: what}.
 */
public record YamlSection(String file) {
    /** A mapping's entries in order; keys outside {@code allowed} (null: any key) are errors, as are repeated keys. */
    public Map<String, Node> mapping(Node n, String key, Set<String> allowed) throws ConfigException {
        if (!(n instanceof MappingNode mn)) throw error(n, key, "must be a mapping (key: value lines)");
        Map<String, Node> out = new LinkedHashMap<>();
        for (NodeTuple t : mn.getValue()) {
            String k = scalar(t.getKeyNode(), key + " key");
            if (allowed != null && !allowed.contains(k)) throw error(t.getKeyNode(), key + "." + k, "unknown key; expected one of " + new TreeSet<>(allowed));
            if (out.put(k, t.getValueNode()) != null) throw error(t.getKeyNode(), key + "." + k, "given twice");
        }
        return out;
    }

    public List<Node> sequence(Node n, String key) throws ConfigException {
        if (!(n instanceof SequenceNode sn)) throw error(n, key, "must be a list");
        return sn.getValue();
    }

    public String scalar(Node n, String key) throws ConfigException {
        if (!(n instanceof ScalarNode sn)) throw error(n, key, "must be a single value, not a list or mapping");
        return sn.getValue();
    }

    public int intIn(Node n, String key, int min, int max) throws ConfigException {
        String s = scalar(n, key);
        int v;
        try {
            v = Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw error(n, key, "'" + s + "' is not a whole number");
        }
        if (v < min || v > max) throw error(n, key, v + " is out of range " + min + ".." + max);
        return v;
    }

    public ConfigException error(Node n, String key, String what) {
        int line = n == null ? 0 : n.getStartMark().map(Mark::getLine).orElse(-1) + 1;
        return new ConfigException(file + ":" + line + ": " + key + ": " + what);
    }
}
