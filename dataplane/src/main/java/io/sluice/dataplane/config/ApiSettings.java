package io.sluice.dataplane.config;

import org.snakeyaml.engine.v2.nodes.Node;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code api:} section of the configuration (docs/api.md): where the control API listens, its
 * keys (SHA-256 only), the journal and audit directories and the limits. Errors are
 * {@code file:line: api.key: problem}, as everywhere in the configuration.
 *
 * @param host             address to listen on (e.g. 127.0.0.1)
 * @param port             TCP port; 0 = any free port (the bound port is printed at start)
 * @param keys             the API keys
 * @param journal          Chronicle Queue directory of accepted changes
 * @param audit            Chronicle Queue directory of the audit records
 * @param maxBodyBytes     larger request bodies get 413
 * @param maxAuthFailures  failed authentications from one address within {@code authWindowSeconds}
 *                         after which that address gets 429 until the oldest failure is older than the window
 * @param authWindowSeconds the window of {@code maxAuthFailures}
 * @param msync            {@code sync: msync} (default): journal and audit appends are forced to disk
 *                         before the answer (power loss); {@code sync: none}: they survive a process
 *                         crash only
 * @param tls              {@code tls: {cert: FILE, key: FILE}} (PEM): HTTPS only; null: plain HTTP
 * @param hotplugPorts     {@code hotplug-ports} (default {@link #DEFAULT_HOTPLUG_PORTS}): port slots reserved at start
 *                         for VMs whose {@code port.device} is plugged in while running (DPDK hot-plug)
 * @param snapshotEvery    {@code snapshot-every} (default {@link #DEFAULT_SNAPSHOT_EVERY}; 0 = never): a journal snapshot after
 *                         this many changes since the last one
 * @param snapshotBytes    {@code snapshot-bytes} (default {@link #DEFAULT_SNAPSHOT_BYTES}): a journal snapshot once the
 *                         changes journaled since the last one reach this many bytes (whichever comes first)
 * @param retireJournal    {@code retain-journal: retire} (the default, docs/decisions.md): after each snapshot, the journal's
 *                         and the snapshot queue's files older than the previous snapshot's are deleted; {@code keep}: never
 */
public record ApiSettings(String host, int port, List<Key> keys, Path journal, Path audit, int maxBodyBytes,
                          int maxAuthFailures, int authWindowSeconds, boolean msync, Tls tls, int hotplugPorts,
                          int snapshotEvery, long snapshotBytes, boolean retireJournal) {
    /** Changes between journal snapshots when the section does not say. */
    public static final int DEFAULT_SNAPSHOT_EVERY = 1000;
    /** Journaled bytes between journal snapshots when the section does not say. */
    public static final long DEFAULT_SNAPSHOT_BYTES = 64L << 20;

    /** Settings with the default journal retirement ({@code retire}). */
    public ApiSettings(String host, int port, List<Key> keys, Path journal, Path audit, int maxBodyBytes,
                       int maxAuthFailures, int authWindowSeconds, boolean msync, Tls tls, int hotplugPorts,
                       int snapshotEvery, long snapshotBytes) {
        this(host, port, keys, journal, audit, maxBodyBytes, maxAuthFailures, authWindowSeconds, msync, tls, hotplugPorts,
                snapshotEvery, snapshotBytes, true);
    }

    /** Settings with the default snapshot intervals. */
    public ApiSettings(String host, int port, List<Key> keys, Path journal, Path audit, int maxBodyBytes,
                       int maxAuthFailures, int authWindowSeconds, boolean msync, Tls tls, int hotplugPorts) {
        this(host, port, keys, journal, audit, maxBodyBytes, maxAuthFailures, authWindowSeconds, msync, tls, hotplugPorts,
                DEFAULT_SNAPSHOT_EVERY, DEFAULT_SNAPSHOT_BYTES);
    }

    /** Hot-plug slots when the section does not say. */
    public static final int DEFAULT_HOTPLUG_PORTS = 4;
    /** Most hot-plug slots (each is a port index: counters, a tx array per worker, firewall per-port state). */
    public static final int MAX_HOTPLUG_PORTS = 64;

    /** Settings with the default hot-plug slots. */
    public ApiSettings(String host, int port, List<Key> keys, Path journal, Path audit, int maxBodyBytes,
                       int maxAuthFailures, int authWindowSeconds, boolean msync, Tls tls) {
        this(host, port, keys, journal, audit, maxBodyBytes, maxAuthFailures, authWindowSeconds, msync, tls, DEFAULT_HOTPLUG_PORTS);
    }

    /** The listener's certificate chain and private key, PEM files (read when the API starts). */
    public record Tls(Path cert, Path key) {}

    /** The top-level key. */
    public static final String KEY = "api";
    /** The project list of an operator key. */
    public static final String ALL = "*";

    private static final Set<String> KEYS = Set.of("listen", "keys", "journal", "audit", "max-body-bytes", "max-auth-failures",
            "auth-failure-window-s", "sync", "tls", "hotplug-ports",
            "snapshot-every", "snapshot-bytes", "retain-journal");
    private static final Set<String> TLS_KEYS = Set.of("cert", "key");
    private static final Set<String> KEY_KEYS = Set.of("id", "sha256", "projects");

    /**
     * One API key: only its SHA-256 is known.
     *
     * @param id       name in audit records (never the key)
     * @param sha256   SHA-256 of the key's UTF-8 bytes
     * @param projects overlay network names, or ["*"] for an operator key
     */
    public record Key(String id, byte[] sha256, List<String> projects) {
        public Key {
            projects = List.copyOf(projects);
        }

        /** By value (the hash's bytes), so a reload can tell an unchanged section. */
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && id.equals(k.id) && java.util.Arrays.equals(sha256, k.sha256) && projects.equals(k.projects);
        }

        @Override
        public int hashCode() {
            return id.hashCode() * 31 + java.util.Arrays.hashCode(sha256);
        }

        public boolean operator() {
            return projects.contains(ALL);
        }

        public boolean sees(String project) {
            return operator() || projects.contains(project);
        }
    }

    public ApiSettings {
        keys = List.copyOf(keys);
    }

    /**
     * Parses the section's node.
     *
     * @param overlay      the configuration's overlay (projects are its networks), or null
     * @param hasFirewall  whether the file has a {@code security-groups} section
     */
    public static ApiSettings parse(String file, Node node, OverlayModel overlay, boolean hasFirewall) throws ConfigException {
        Yaml p = new Yaml(file);
        if (overlay == null || !hasFirewall) {
            throw p.error(node, KEY, "needs an 'overlay' section and a 'security-groups' section (projects are overlay networks,"
                    + " and the API changes their security groups)");
        }
        Map<String, Node> top = p.mapping(node, KEY, KEYS);
        if (!top.containsKey("listen")) throw p.error(node, KEY + ".listen", "missing (e.g. 127.0.0.1:8080)");
        String listen = p.scalar(top.get("listen"), KEY + ".listen");
        int colon = listen.lastIndexOf(':');
        if (colon <= 0) throw p.error(top.get("listen"), KEY + ".listen", "'" + listen + "' is not host:port (e.g. 127.0.0.1:8080)");
        String host = listen.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port;
        try {
            port = Integer.parseInt(listen.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw p.error(top.get("listen"), KEY + ".listen", "'" + listen.substring(colon + 1) + "' is not a port number");
        }
        if (port < 0 || port > 65535) throw p.error(top.get("listen"), KEY + ".listen", port + " is out of range 0..65535");

        Set<String> networks = new TreeSet<>();
        for (OverlayModel.Network n : overlay.networks()) networks.add(n.name());
        List<Key> keys = new ArrayList<>();
        if (!top.containsKey("keys")) throw p.error(node, KEY + ".keys", "missing: at least one key {id, sha256, projects}");
        List<Node> kn = p.sequence(top.get("keys"), KEY + ".keys");
        if (kn.isEmpty()) throw p.error(top.get("keys"), KEY + ".keys", "empty: at least one key {id, sha256, projects}");
        Set<String> ids = new HashSet<>();
        Set<String> hashes = new HashSet<>();
        for (int i = 0; i < kn.size(); i++) {
            String k = KEY + ".keys[" + i + "]";
            Map<String, Node> m = p.mapping(kn.get(i), k, KEY_KEYS);
            for (String f : List.of("id", "sha256", "projects")) {
                if (!m.containsKey(f)) throw p.error(kn.get(i), k + "." + f, "missing");
            }
            String id = p.scalar(m.get("id"), k + ".id");
            if (!id.matches("[A-Za-z0-9_.-]{1,64}")) throw p.error(m.get("id"), k + ".id", "'" + id + "' is not 1-64 of [A-Za-z0-9_.-]");
            if (!ids.add(id)) throw p.error(m.get("id"), k + ".id", "key id '" + id + "' used twice");
            String hex = p.scalar(m.get("sha256"), k + ".sha256").toLowerCase();
            if (!hex.matches("[0-9a-f]{64}")) {
                throw p.error(m.get("sha256"), k + ".sha256", "not a SHA-256 in hex (64 characters; e.g. printf %s KEY | sha256sum)");
            }
            if (!hashes.add(hex)) throw p.error(m.get("sha256"), k + ".sha256", "the same key as another entry");
            List<Node> pn = p.sequence(m.get("projects"), k + ".projects");
            if (pn.isEmpty()) throw p.error(m.get("projects"), k + ".projects", "empty: give project names or [\"*\"] (operator)");
            List<String> projects = new ArrayList<>();
            for (int j = 0; j < pn.size(); j++) {
                String pr = p.scalar(pn.get(j), k + ".projects[" + j + "]");
                if (pr.equals(ALL)) {
                    if (pn.size() != 1) throw p.error(pn.get(j), k + ".projects[" + j + "]", "\"*\" (operator) stands alone");
                } else if (!networks.contains(pr)) {
                    throw p.error(pn.get(j), k + ".projects[" + j + "]", "no project '" + pr + "' (projects are overlay networks: " + networks + ")");
                }
                projects.add(pr);
            }
            keys.add(new Key(id, HexFormat.of().parseHex(hex), projects));
        }
        Path journal = path(p, top, node, "journal");
        Path audit = path(p, top, node, "audit");
        if (journal.toAbsolutePath().normalize().equals(audit.toAbsolutePath().normalize())) {
            throw p.error(top.get("audit"), KEY + ".audit", "must not be the journal's directory (each is its own queue)");
        }
        int maxBody = top.containsKey("max-body-bytes") ? p.intIn(top.get("max-body-bytes"), KEY + ".max-body-bytes", 256, 64 << 20) : 1 << 20;
        int fails = top.containsKey("max-auth-failures") ? p.intIn(top.get("max-auth-failures"), KEY + ".max-auth-failures", 1, 1_000_000) : 10;
        int window = top.containsKey("auth-failure-window-s") ? p.intIn(top.get("auth-failure-window-s"), KEY + ".auth-failure-window-s", 1, 86_400) : 60;
        boolean msync = true;
        if (top.containsKey("sync")) {
            String v = p.scalar(top.get("sync"), KEY + ".sync");
            if (v.equals("none")) msync = false;
            else if (!v.equals("msync")) throw p.error(top.get("sync"), KEY + ".sync", "'" + v + "' is not msync or none");
        }
        Tls tls = null;
        if (top.containsKey("tls")) {
            Map<String, Node> t = p.mapping(top.get("tls"), KEY + ".tls", TLS_KEYS);
            Path[] files = new Path[2];
            String[] names = {"cert", "key"};
            for (int i = 0; i < 2; i++) {
                String k = KEY + ".tls." + names[i];
                if (!t.containsKey(names[i])) throw p.error(top.get("tls"), k, "missing: a PEM file (tls needs cert and key)");
                files[i] = Path.of(p.scalar(t.get(names[i]), k));
                if (!java.nio.file.Files.isReadable(files[i])) throw p.error(t.get(names[i]), k, files[i] + " is not a readable file");
            }
            tls = new Tls(files[0], files[1]);
        }
        int hotplug = top.containsKey("hotplug-ports")
                ? p.intIn(top.get("hotplug-ports"), KEY + ".hotplug-ports", 0, MAX_HOTPLUG_PORTS) : DEFAULT_HOTPLUG_PORTS;
        int every = top.containsKey("snapshot-every")
                ? p.intIn(top.get("snapshot-every"), KEY + ".snapshot-every", 0, 100_000_000) : DEFAULT_SNAPSHOT_EVERY;
        long bytes = top.containsKey("snapshot-bytes")
                ? p.intIn(top.get("snapshot-bytes"), KEY + ".snapshot-bytes", 4096, Integer.MAX_VALUE) : DEFAULT_SNAPSHOT_BYTES;
        boolean retire = true;
        if (top.containsKey("retain-journal")) {
            String v = p.scalar(top.get("retain-journal"), KEY + ".retain-journal");
            if (v.equals("keep")) retire = false;
            else if (!v.equals("retire")) throw p.error(top.get("retain-journal"), KEY + ".retain-journal", "'" + v + "' is not retire or keep");
        }
        return new ApiSettings(host, port, keys, journal, audit, maxBody, fails, window, msync, tls, hotplug, every, bytes, retire);
    }

    private static Path path(Yaml p, Map<String, Node> top, Node section, String f) throws ConfigException {
        if (!top.containsKey(f)) throw p.error(section, KEY + "." + f, "missing: a directory for the " + f + " (Chronicle Queue)");
        String s = p.scalar(top.get(f), KEY + "." + f);
        if (s.isBlank()) throw p.error(top.get(f), KEY + "." + f, "empty");
        return Path.of(s);
    }
}
