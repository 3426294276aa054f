package io.sluice.dataplane.config;

import org.snakeyaml.engine.v2.nodes.Node;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code flow-logs:} section (docs/operations.md, "Flow logs"; docs/config.md). Validated by
 * {@link ConfigLoader} with the rest of the file, into the one value ({@link SluiceConfig#flowLogs()};
 * errors are {@code file:line: key: what}).
 *
 * @param directory       the Chronicle Queue's directory
 * @param intervalS       interim record of a long connection every this many seconds
 * @param rejectIntervalS rejected first packets: one record per source per this many seconds
 * @param rollCycle       {@code five-minutely}, {@code hourly} or {@code daily}: one queue file per cycle
 * @param maxAgeH         roll files whose cycle ended more than this many hours ago are deleted
 * @param ringKb          per-worker hand-off ring (KiB, a power of two)
 * @param fallback        on/off and sampling of projects not listed (and of every VM port without an overlay)
 * @param projects        per project (overlay network): on/off and sampling
 */
public record FlowLogSettings(Path directory, int intervalS, int rejectIntervalS, String rollCycle, int maxAgeH, int ringKb,
                              Project fallback, Map<String, Project> projects) {
    public static final String KEY = "flow-logs";
    private static final Set<String> KEYS = Set.of("directory", "interval-s", "reject-interval-s", "roll-cycle", "max-age-h",
            "ring-kb", "default", "projects");
    private static final Set<String> PROJECT_KEYS = Set.of("enabled", "sample");

    /** A project's flow-log setting: on/off, and the fraction of connections logged (0..1]. */
    public record Project(boolean enabled, double sample) {
        public static final Project ALL = new Project(true, 1.0);
    }

    public FlowLogSettings {
        projects = Map.copyOf(projects);
    }

    /** The setting of a project (null or unknown: the default). */
    public Project project(String name) {
        return name == null ? fallback : projects.getOrDefault(name, fallback);
    }

    /** Parses the section's node; {@code overlay} (or null) names the projects. */
    public static FlowLogSettings parse(String file, Node node, OverlayModel overlay) throws ConfigException {
        Yaml p = new Yaml(file);
        Map<String, Node> top = p.mapping(node, KEY, KEYS);
        if (!top.containsKey("directory")) throw p.error(node, KEY + ".directory", "missing: a directory for the flow-log queue");
        String dir = p.scalar(top.get("directory"), KEY + ".directory");
        if (dir.isBlank()) throw p.error(top.get("directory"), KEY + ".directory", "empty");
        int interval = top.containsKey("interval-s") ? p.intIn(top.get("interval-s"), KEY + ".interval-s", 1, 86_400) : 60;
        int reject = top.containsKey("reject-interval-s") ? p.intIn(top.get("reject-interval-s"), KEY + ".reject-interval-s", 1, 3600) : 10;
        String roll = "hourly";
        if (top.containsKey("roll-cycle")) {
            roll = p.scalar(top.get("roll-cycle"), KEY + ".roll-cycle");
            if (!Set.of("five-minutely", "hourly", "daily").contains(roll)) {
                throw p.error(top.get("roll-cycle"), KEY + ".roll-cycle", "'" + roll + "' is not five-minutely, hourly or daily");
            }
        }
        int maxAge = top.containsKey("max-age-h") ? p.intIn(top.get("max-age-h"), KEY + ".max-age-h", 1, 87_600) : 24 * 7;
        int ringKb = 1024;
        if (top.containsKey("ring-kb")) {
            ringKb = p.intIn(top.get("ring-kb"), KEY + ".ring-kb", 64, 1 << 20);
            if (Integer.bitCount(ringKb) != 1) throw p.error(top.get("ring-kb"), KEY + ".ring-kb", ringKb + " is not a power of two");
        }
        Project fallback = top.containsKey("default") ? project(p, top.get("default"), KEY + ".default") : Project.ALL;
        Map<String, Project> projects = new LinkedHashMap<>();
        if (top.containsKey("projects")) {
            Set<String> names = new TreeSet<>();
            if (overlay != null) for (OverlayModel.Network n : overlay.networks()) names.add(n.name());
            Map<String, Node> pm = p.mapping(top.get("projects"), KEY + ".projects", null);
            for (Map.Entry<String, Node> e : pm.entrySet()) {
                String k = KEY + ".projects." + e.getKey();
                if (!names.contains(e.getKey())) {
                    throw p.error(e.getValue(), k, "no project '" + e.getKey() + "' (projects are overlay networks: " + names + ")");
                }
                projects.put(e.getKey(), project(p, e.getValue(), k));
            }
        }
        return new FlowLogSettings(Path.of(dir), interval, reject, roll, maxAge, ringKb, fallback, projects);
    }

    private static Project project(Yaml p, Node n, String key) throws ConfigException {
        Map<String, Node> m = p.mapping(n, key, PROJECT_KEYS);
        boolean on = true;
        if (m.containsKey("enabled")) {
            String v = p.scalar(m.get("enabled"), key + ".enabled");
            if (v.equals("true")) on = true;
            else if (v.equals("false")) on = false;
            else throw p.error(m.get("enabled"), key + ".enabled", "'" + v + "' is not true or false");
        }
        double sample = 1.0;
        if (m.containsKey("sample")) {
            String v = p.scalar(m.get("sample"), key + ".sample");
            try {
                sample = Double.parseDouble(v.trim());
            } catch (NumberFormatException e) {
                throw p.error(m.get("sample"), key + ".sample", "'" + v + "' is not a number");
            }
            if (!(sample > 0 && sample <= 1)) throw p.error(m.get("sample"), key + ".sample", v + " is out of range (0, 1]");
        }
        return new Project(on, sample);
    }
}
