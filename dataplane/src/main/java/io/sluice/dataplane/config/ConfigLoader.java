package io.sluice.dataplane.config;

import io.sluice.dataplane.overlay.OverlayConfigLoader;
import io.sluice.dataplane.overlay.OverlayModel;
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

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads and validates the YAML configuration (format: docs/config.md). Every problem is reported
 * as a {@link ConfigException} naming the file, the line, the key path and what is wrong, before
 * anything touches DPDK. Unknown keys are errors (a typo must not silently fall back to a default).
 */
public final class ConfigLoader {
    /** The embedded default configuration used by {@code ./sluice demo}. */
    public static final String DEFAULT_RESOURCE = "/io/sluice/dataplane/config/default.yaml";

    private static final Set<String> TOP_KEYS = Set.of(
            "eal", "ports", "workers", "burst-size", "idle-strategy", "mbufs", "mac-table", "arp", "counters-file", "overlay", "service", "metrics",
            io.sluice.dataplane.firewall.FirewallConfigLoader.KEY, io.sluice.dataplane.control.ApiSettings.KEY,
            io.sluice.dataplane.flowlog.FlowLogSettings.KEY, DpdkLog.KEY);
    private static final Set<String> PORT_KEYS = Set.of("name", "device", "rx-queues", "tx-queues", "mac");
    private static final Set<String> WORKER_KEYS = Set.of("lcore", "rx");
    private static final Set<String> MAC_KEYS = Set.of("mac", "port");
    private static final Set<String> ARP_KEYS = Set.of("ip", "mac", "port");
    private static final Set<String> METRICS_KEYS = Set.of("listen");
    private static final Set<String> SERVICE_KEYS = Set.of("stall-timeout-ms", "ready-timeout-ms");

    private final String file;

    private ConfigLoader(String file) {
        this.file = file;
    }

    /** Loads a configuration file. */
    public static SluiceConfig load(Path path) throws ConfigException {
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(path + ": cannot read configuration file: " + e.getMessage());
        }
        return parse(path.toString(), text);
    }

    /** Loads the embedded default configuration. */
    public static SluiceConfig loadDefault() throws ConfigException {
        return parse(DEFAULT_NAME, defaultText());
    }

    /** Name of the embedded default in messages. */
    public static final String DEFAULT_NAME = "embedded:default.yaml";

    /** The text of the embedded default configuration. */
    public static String defaultText() throws ConfigException {
        try (InputStream in = ConfigLoader.class.getResourceAsStream(DEFAULT_RESOURCE)) {
            if (in == null) {
                throw new ConfigException(DEFAULT_RESOURCE + ": embedded default configuration is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(DEFAULT_RESOURCE + ": " + e.getMessage());
        }
    }

    /** Parses configuration text; {@code name} is used in messages. */
    public static SluiceConfig parse(String name, String text) throws ConfigException {
        return new ConfigLoader(name).build(text);
    }

    /**
     * Where DPDK's own log goes (EAL and drivers: TAP qdisc messages, multi-process messages): the
     * {@code dpdk-log} section ({@code file}: a path or {@code terminal}; {@code level}: error,
     * warning, notice, info or debug). docs/operations.md, "Logs".
     *
     * @param file  the log file, or null for the terminal
     * @param level DPDK's level number (RTE_LOG_ERR 4 .. RTE_LOG_DEBUG 8)
     */
    public record DpdkLog(String file, int level) {
        public static final String KEY = "dpdk-log";
        public static final DpdkLog DEFAULT = new DpdkLog("/var/log/sluice/dpdk.log", 7);
        /** Level names, by {@code level - 4}. */
        public static final java.util.List<String> LEVELS = java.util.List.of("error", "warning", "notice", "info", "debug");
    }

    /** The {@code dpdk-log} section of a configuration text (validated already), or the default. */
    public static DpdkLog dpdkLog(String name, String text) throws ConfigException {
        Node root = new Compose(LoadSettings.builder().setLabel(name).build()).composeString(text).orElse(null);
        if (root instanceof MappingNode mn) {
            for (NodeTuple t : mn.getValue()) {
                if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals(DpdkLog.KEY)) return new ConfigLoader(name).dpdkLog(t.getValueNode());
            }
        }
        return DpdkLog.DEFAULT;
    }

    private DpdkLog dpdkLog(Node node) throws ConfigException {
        Map<String, Node> m = mapping(node, DpdkLog.KEY, Set.of("file", "level"));
        String f = DpdkLog.DEFAULT.file();
        if (m.containsKey("file")) {
            f = scalar(m.get("file"), DpdkLog.KEY + ".file");
            if (f.isBlank()) throw error(m.get("file"), DpdkLog.KEY + ".file", "empty (a path, or terminal)");
            if (f.equals("terminal")) f = null;
        }
        int level = DpdkLog.DEFAULT.level();
        if (m.containsKey("level")) {
            String l = scalar(m.get("level"), DpdkLog.KEY + ".level");
            int i = DpdkLog.LEVELS.indexOf(l);
            if (i < 0) throw error(m.get("level"), DpdkLog.KEY + ".level", "'" + l + "' is not one of " + DpdkLog.LEVELS);
            level = 4 + i;
        }
        return new DpdkLog(f, level);
    }

    // ------------------------------------------------------------------------------------------

    /** A DPDK TAP device (net_tap...): its queues are kernel tun queues the host delivers into. */
    private static boolean isTap(String device) {
        return device.startsWith("net_tap");
    }

    private SluiceConfig build(String text) throws ConfigException {
        Optional<Node> rootOpt;
        try {
            rootOpt = new Compose(LoadSettings.builder().setLabel(file).build()).composeString(text);
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().map(m -> m.getLine() + 1).orElse(0);
            throw new ConfigException(file + ":" + line + ": not valid YAML: " + e.getProblem());
        } catch (YamlEngineException e) {
            throw new ConfigException(file + ": not valid YAML: " + e.getMessage());
        }
        if (rootOpt.isEmpty()) {
            throw new ConfigException(file + ":1: the file is empty; it needs at least 'ports'");
        }
        Map<String, Node> top = mapping(rootOpt.get(), "(top level)", TOP_KEYS);

        List<String> eal = new ArrayList<>();
        if (top.containsKey("eal")) {
            for (Node n : sequence(top.get("eal"), "eal")) {
                String arg = scalar(n, "eal[]");
                if (arg.startsWith("--vdev") || arg.equals("-a") || arg.startsWith("--allow")) {
                    throw error(n, "eal", "'" + arg + "' is set by the data plane from 'ports'; declare the device as a port instead");
                }
                if (arg.startsWith("--file-prefix")) {
                    throw error(n, "eal", "'--file-prefix' is chosen by the data plane (unique per process); remove it");
                }
                eal.add(arg);
            }
        } else {
            eal.addAll(List.of("--no-huge", "-m", "1024", "--no-pci", "-l", "0"));
        }

        int burst = top.containsKey("burst-size") ? intIn(top.get("burst-size"), "burst-size", 1, 256) : 32;
        String idle = top.containsKey("idle-strategy") ? scalar(top.get("idle-strategy"), "idle-strategy") : "backoff";
        if (!idle.matches("busy-spin|yield|backoff|sleep-[1-9][0-9]{0,6}")) {
            throw error(top.get("idle-strategy"), "idle-strategy",
                    "'" + idle + "' is not one of busy-spin, yield, backoff, sleep-<micros>");
        }
        int mbufs = top.containsKey("mbufs") ? intIn(top.get("mbufs"), "mbufs", 1023, 4_194_303) : 16383;
        Path counters = top.containsKey("counters-file")
                ? Path.of(scalar(top.get("counters-file"), "counters-file"))
                : Path.of("/run/sluice/counters.dat");

        // ---- ports ----
        if (!top.containsKey("ports")) {
            throw new ConfigException(file + ":1: ports: missing; at least one port is needed");
        }
        List<PortSpec> ports = new ArrayList<>();
        Map<String, Integer> portIndex = new HashMap<>();
        Set<String> devices = new HashSet<>();
        List<Node> portNodes = sequence(top.get("ports"), "ports");
        if (portNodes.isEmpty()) {
            throw error(top.get("ports"), "ports", "empty; at least one port is needed");
        }
        for (int i = 0; i < portNodes.size(); i++) {
            String key = "ports[" + i + "]";
            Map<String, Node> p = mapping(portNodes.get(i), key, PORT_KEYS);
            String pname = required(p, portNodes.get(i), key, "name");
            if (!pname.matches("[A-Za-z0-9_.-]{1,32}")) {
                throw error(p.get("name"), key + ".name", "'" + pname + "' must be 1-32 characters of letters, digits, '_', '.', '-'");
            }
            if (portIndex.putIfAbsent(pname, i) != null) {
                throw error(p.get("name"), key + ".name", "'" + pname + "' is already the name of ports[" + portIndex.get(pname) + "]");
            }
            String device = required(p, portNodes.get(i), key, "device");
            if (device.isBlank() || device.contains(" ")) {
                throw error(p.get("device"), key + ".device", "'" + device + "' is not a DPDK device argument (e.g. net_tap0,iface=sl0)");
            }
            String devName = device.split(",", 2)[0];
            if (!devices.add(devName)) {
                throw error(p.get("device"), key + ".device", "device '" + devName + "' is used by another port");
            }
            int rxq = p.containsKey("rx-queues") ? intIn(p.get("rx-queues"), key + ".rx-queues", 1, 64) : 1;
            int txq = p.containsKey("tx-queues") ? intIn(p.get("tx-queues"), key + ".tx-queues", 1, 64) : 1;
            long mac = p.containsKey("mac") ? mac(p.get("mac"), key + ".mac") : -1;
            if (isTap(devName) && rxq < txq) {
                // a TAP queue is one kernel tun queue used both ways: the host delivers into every one
                throw error(p.containsKey("rx-queues") ? p.get("rx-queues") : portNodes.get(i), key + ".rx-queues",
                        "TAP port '" + pname + "' has " + rxq + " rx queue(s) but " + txq + " tx queue(s): each TAP queue is also"
                                + " a queue the kernel delivers into, so give rx-queues: " + txq + " or more (and poll every one)");
            }
            ports.add(new PortSpec(pname, device, rxq, txq, mac));
        }

        // ---- workers ----
        List<WorkerSpec> workers = new ArrayList<>();
        if (top.containsKey("workers")) {
            List<Node> wNodes = sequence(top.get("workers"), "workers");
            Set<Integer> lcores = new HashSet<>();
            Set<Long> owned = new HashSet<>();
            for (int w = 0; w < wNodes.size(); w++) {
                String key = "workers[" + w + "]";
                Map<String, Node> wm = mapping(wNodes.get(w), key, WORKER_KEYS);
                if (!wm.containsKey("lcore")) {
                    throw error(wNodes.get(w), key + ".lcore", "missing");
                }
                int lcore = intIn(wm.get("lcore"), key + ".lcore", 0, 127);
                if (!lcores.add(lcore)) {
                    throw error(wm.get("lcore"), key + ".lcore", "lcore " + lcore + " already has a worker");
                }
                if (w >= 64) {
                    throw error(wNodes.get(w), key, "at most 64 workers");
                }
                List<WorkerSpec.RxQueue> rx = new ArrayList<>();
                if (!wm.containsKey("rx")) {
                    throw error(wNodes.get(w), key + ".rx", "missing: list the ports (or port:queue) this worker polls");
                }
                for (Node q : sequence(wm.get("rx"), key + ".rx")) {
                    String s = scalar(q, key + ".rx[]");
                    String[] pq = s.split(":", 2);
                    Integer pi = portIndex.get(pq[0]);
                    if (pi == null) {
                        throw error(q, key + ".rx", "no port named '" + pq[0] + "'");
                    }
                    int from = 0;
                    int to = ports.get(pi).rxQueues() - 1;
                    if (pq.length == 2) {
                        try {
                            from = to = Integer.parseInt(pq[1]);
                        } catch (NumberFormatException e) {
                            throw error(q, key + ".rx", "'" + s + "': queue after ':' must be a number");
                        }
                        if (from < 0 || from >= ports.get(pi).rxQueues()) {
                            throw error(q, key + ".rx", "'" + s + "': port '" + pq[0] + "' has rx queues 0.." + (ports.get(pi).rxQueues() - 1));
                        }
                    }
                    for (int qi = from; qi <= to; qi++) {
                        if (!owned.add(((long) pi << 32) | qi)) {
                            throw error(q, key + ".rx", "rx queue " + pq[0] + ":" + qi + " is already polled by another worker");
                        }
                        rx.add(new WorkerSpec.RxQueue(pi, qi));
                    }
                }
                workers.add(new WorkerSpec(lcore, List.copyOf(rx), w));
            }
            for (int pi = 0; pi < ports.size(); pi++) {
                if (ports.get(pi).txQueues() < workers.size()) {
                    Node pn = portNodes.get(pi);
                    throw error(pn, "ports[" + pi + "].tx-queues",
                            "port '" + ports.get(pi).name() + "' has " + ports.get(pi).txQueues()
                                    + " tx queue(s) but there are " + workers.size() + " workers (each needs its own)");
                }
                // the kernel spreads a TAP's traffic over all its queues: one nobody polls loses flows
                for (int qi = 0; isTap(ports.get(pi).devargs()) && qi < ports.get(pi).rxQueues(); qi++) {
                    if (!owned.contains(((long) pi << 32) | qi)) {
                        throw error(top.get("workers"), "workers",
                                "rx queue " + ports.get(pi).name() + ":" + qi + " of TAP port '" + ports.get(pi).name()
                                        + "' is polled by no worker (the kernel delivers flows into every TAP queue)");
                    }
                }
            }
        } else {
            List<WorkerSpec.RxQueue> all = new ArrayList<>();
            for (int pi = 0; pi < ports.size(); pi++) {
                for (int qi = 0; qi < ports.get(pi).rxQueues(); qi++) {
                    all.add(new WorkerSpec.RxQueue(pi, qi));
                }
            }
            workers.add(new WorkerSpec(-1, List.copyOf(all), 0));
        }

        // ---- mac-table ----
        List<SluiceConfig.MacEntry> macTable = new ArrayList<>();
        Map<Long, Integer> seenMac = new HashMap<>();
        if (top.containsKey("mac-table")) {
            List<Node> entries = sequence(top.get("mac-table"), "mac-table");
            for (int i = 0; i < entries.size(); i++) {
                String key = "mac-table[" + i + "]";
                Map<String, Node> m = mapping(entries.get(i), key, MAC_KEYS);
                if (!m.containsKey("mac")) {
                    throw error(entries.get(i), key + ".mac", "missing");
                }
                long mac = mac(m.get("mac"), key + ".mac");
                if ((mac & 0x0100_0000_0000L) != 0) {
                    throw error(m.get("mac"), key + ".mac", "is a multicast/broadcast address; the MAC table holds unicast addresses");
                }
                Integer prev = seenMac.putIfAbsent(mac, i);
                if (prev != null) {
                    throw error(m.get("mac"), key + ".mac", "already in mac-table[" + prev + "]");
                }
                int port = portRef(m, entries.get(i), key, portIndex, false);
                macTable.add(new SluiceConfig.MacEntry(mac, port));
            }
        }

        // ---- arp ----
        List<SluiceConfig.ArpEntry> arp = new ArrayList<>();
        if (top.containsKey("arp")) {
            List<Node> entries = sequence(top.get("arp"), "arp");
            Map<Long, Integer> seen = new HashMap<>();
            for (int i = 0; i < entries.size(); i++) {
                String key = "arp[" + i + "]";
                Map<String, Node> m = mapping(entries.get(i), key, ARP_KEYS);
                if (!m.containsKey("ip")) {
                    throw error(entries.get(i), key + ".ip", "missing");
                }
                if (!m.containsKey("mac")) {
                    throw error(entries.get(i), key + ".mac", "missing");
                }
                int ip = ipv4(m.get("ip"), key + ".ip");
                long mac = mac(m.get("mac"), key + ".mac");
                if ((mac & 0x0100_0000_0000L) != 0) {
                    throw error(m.get("mac"), key + ".mac", "is a multicast/broadcast address; ARP answers need a unicast MAC");
                }
                int port = m.containsKey("port") ? portRef(m, entries.get(i), key, portIndex, true) : -1;
                long k = ((long) ip << 8) | (port & 0xFF);
                Integer prev = seen.putIfAbsent(k, i);
                if (prev != null) {
                    throw error(m.get("ip"), key + ".ip", "already answered by arp[" + prev + "]");
                }
                arp.add(new SluiceConfig.ArpEntry(ip, mac, port));
            }
        }

        // ---- overlay (tenant networks; parsed and validated by the overlay package) ----
        OverlayModel overlay = null;
        if (top.containsKey("overlay")) {
            for (String l2Key : List.of("mac-table", "arp")) {
                if (top.containsKey(l2Key)) {
                    throw error(top.get(l2Key), l2Key, "not used with 'overlay' (the overlay answers ARP and forwards"
                            + " by its own tables); remove it");
                }
            }
            overlay = OverlayConfigLoader.parse(file, top.get("overlay"), portIndex);
            if (overlay.external() != null) {
                // NAT state lives in the firewall's conntrack entries, owned by one worker (docs/nat.md)
                Node ext = valueOf(top.get("overlay"), "external");
                if (!top.containsKey(io.sluice.dataplane.firewall.FirewallConfigLoader.KEY)) {
                    throw error(ext, "overlay.external", "needs a 'security-groups' section: NAT state lives in the"
                            + " firewall's conntrack entries");
                }
                if (workers.size() != 1) {
                    throw error(ext, "overlay.external", "NAT runs on one worker today; the configuration has "
                            + workers.size() + " workers");
                }
            }
        }
        if (top.containsKey(io.sluice.dataplane.firewall.FirewallConfigLoader.KEY)) {
            // validated here (file:line errors at load); built again by the firewall from the file.
            // With an overlay, VM ports name overlay VMs (docs/firewall.md, "On the overlay")
            // with several workers, each flow's packets are handed to the worker owning its conntrack
            // shard (docs/firewall.md, "Workers"); each worker has its own tx queue (checked above)
            io.sluice.dataplane.firewall.FirewallConfigLoader.parse(file, top.get(io.sluice.dataplane.firewall.FirewallConfigLoader.KEY), portIndex, overlay);
        }

        if (top.containsKey(io.sluice.dataplane.control.ApiSettings.KEY)) {
            // the control API (docs/api.md): validated here, read again by Main.run like security-groups
            io.sluice.dataplane.control.ApiSettings.parse(file, top.get(io.sluice.dataplane.control.ApiSettings.KEY), overlay,
                    top.containsKey(io.sluice.dataplane.firewall.FirewallConfigLoader.KEY));
        }
        if (top.containsKey(io.sluice.dataplane.flowlog.FlowLogSettings.KEY)) {
            // flow logs (docs/operations.md): validated here, read again by Main.run like the api section
            if (!top.containsKey(io.sluice.dataplane.firewall.FirewallConfigLoader.KEY)) {
                throw error(top.get(io.sluice.dataplane.flowlog.FlowLogSettings.KEY), io.sluice.dataplane.flowlog.FlowLogSettings.KEY,
                        "needs a 'security-groups' section (flow logs are kept by the firewall's connection tracking)");
            }
            io.sluice.dataplane.flowlog.FlowLogSettings.parse(file, top.get(io.sluice.dataplane.flowlog.FlowLogSettings.KEY), overlay);
        }
        if (top.containsKey(DpdkLog.KEY)) {
            dpdkLog(top.get(DpdkLog.KEY)); // validated here, read again by Main.run (ConfigLoader.dpdkLog)
        }
        ServiceSettings service = ServiceSettings.DEFAULT;
        if (top.containsKey("service")) {
            Map<String, Node> s = mapping(top.get("service"), "service", SERVICE_KEYS);
            int stall = s.containsKey("stall-timeout-ms")
                    ? intIn(s.get("stall-timeout-ms"), "service.stall-timeout-ms", 100, 3_600_000) : service.stallTimeoutMs();
            int ready = s.containsKey("ready-timeout-ms")
                    ? intIn(s.get("ready-timeout-ms"), "service.ready-timeout-ms", 100, 3_600_000) : service.readyTimeoutMs();
            service = new ServiceSettings(stall, ready);
        }

        MetricsSettings metrics = MetricsSettings.DEFAULT;
        if (top.containsKey("metrics")) {
            Map<String, Node> m = mapping(top.get("metrics"), "metrics", METRICS_KEYS);
            if (m.containsKey("listen")) {
                String l = scalar(m.get("listen"), "metrics.listen");
                if (l.equals("off")) {
                    metrics = MetricsSettings.OFF;
                } else {
                    int colon = l.lastIndexOf(':');
                    int port = -1;
                    try {
                        port = colon > 0 ? Integer.parseInt(l.substring(colon + 1)) : -1;
                    } catch (NumberFormatException e) {
                        port = -1;
                    }
                    if (colon <= 0 || port < 0 || port > 65535) {
                        throw error(m.get("listen"), "metrics.listen", "'" + l + "' is not HOST:PORT (port 0..65535) or 'off'");
                    }
                    metrics = new MetricsSettings(l.substring(0, colon), port);
                }
            }
        }

        return new SluiceConfig(file, List.copyOf(eal), List.copyOf(ports), List.copyOf(workers), burst, idle, mbufs,
                List.copyOf(macTable), List.copyOf(arp), counters, overlay, service, metrics);
    }

    // ------------------------------------------------------------------------------------------

    private int portRef(Map<String, Node> m, Node owner, String key, Map<String, Integer> portIndex, boolean optional)
            throws ConfigException {
        if (!m.containsKey("port")) {
            if (optional) {
                return -1;
            }
            throw error(owner, key + ".port", "missing");
        }
        String name = scalar(m.get("port"), key + ".port");
        Integer pi = portIndex.get(name);
        if (pi == null) {
            throw error(m.get("port"), key + ".port", "no port named '" + name + "' (ports: " + portIndex.keySet() + ")");
        }
        return pi;
    }

    private String required(Map<String, Node> m, Node owner, String key, String field) throws ConfigException {
        if (!m.containsKey(field)) {
            throw error(owner, key + "." + field, "missing");
        }
        return scalar(m.get(field), key + "." + field);
    }

    private Map<String, Node> mapping(Node n, String key, Set<String> allowed) throws ConfigException {
        if (!(n instanceof MappingNode mn)) {
            throw error(n, key, "must be a mapping (key: value lines)");
        }
        Map<String, Node> out = new LinkedHashMap<>();
        for (NodeTuple t : mn.getValue()) {
            String k = scalar(t.getKeyNode(), key + " key");
            String path = key.equals("(top level)") ? k : key + "." + k;
            if (!allowed.contains(k)) {
                throw error(t.getKeyNode(), path, "unknown key; expected one of " + new java.util.TreeSet<>(allowed));
            }
            if (out.put(k, t.getValueNode()) != null) {
                throw error(t.getKeyNode(), path, "given twice");
            }
        }
        return out;
    }

    private List<Node> sequence(Node n, String key) throws ConfigException {
        if (!(n instanceof SequenceNode sn)) {
            throw error(n, key, "must be a list");
        }
        return sn.getValue();
    }

    private String scalar(Node n, String key) throws ConfigException {
        if (!(n instanceof ScalarNode sn)) {
            throw error(n, key, "must be a single value, not a list or mapping");
        }
        return sn.getValue();
    }

    private int intIn(Node n, String key, int min, int max) throws ConfigException {
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

    private long mac(Node n, String key) throws ConfigException {
        String s = scalar(n, key);
        long v = parseMac(s);
        if (v < 0) {
            throw error(n, key, "'" + s + "' is not a MAC address like 02:00:00:00:00:01");
        }
        return v;
    }

    private int ipv4(Node n, String key) throws ConfigException {
        String s = scalar(n, key);
        long v = parseIpv4(s);
        if (v < 0) {
            throw error(n, key, "'" + s + "' is not an IPv4 address like 10.0.0.1");
        }
        return (int) v;
    }

    /** The value node of {@code key} in mapping {@code n} (already validated), or {@code n} itself. */
    private static Node valueOf(Node n, String key) {
        if (n instanceof MappingNode mn) {
            for (NodeTuple t : mn.getValue()) {
                if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals(key)) {
                    return t.getValueNode();
                }
            }
        }
        return n;
    }

    private ConfigException error(Node n, String key, String what) {
        int line = n == null ? 0 : n.getStartMark().map(Mark::getLine).orElse(-1) + 1;
        return new ConfigException(file + ":" + line + ": " + key + ": " + what);
    }

    /** Parses "aa:bb:cc:dd:ee:ff" into the low 48 bits of a long, or -1. */
    public static long parseMac(String s) {
        String[] parts = s.trim().split(":");
        if (parts.length != 6) {
            return -1;
        }
        long v = 0;
        for (String p : parts) {
            if (!p.matches("[0-9a-fA-F]{2}")) {
                return -1;
            }
            v = (v << 8) | Integer.parseInt(p, 16);
        }
        return v;
    }

    /** Parses a dotted-quad IPv4 address into an unsigned 32-bit value, or -1. */
    public static long parseIpv4(String s) {
        String[] parts = s.trim().split("\\.", -1);
        if (parts.length != 4) {
            return -1;
        }
        long v = 0;
        for (String p : parts) {
            if (!p.matches("0|[1-9][0-9]{0,2}")) {
                return -1;
            }
            int b = Integer.parseInt(p);
            if (b > 255) {
                return -1;
            }
            v = (v << 8) | b;
        }
        return v;
    }

    public static String formatMac(long mac) {
        return String.format("%02x:%02x:%02x:%02x:%02x:%02x", (mac >>> 40) & 0xFF, (mac >>> 32) & 0xFF,
                (mac >>> 24) & 0xFF, (mac >>> 16) & 0xFF, (mac >>> 8) & 0xFF, mac & 0xFF);
    }

    public static String formatIpv4(int ip) {
        return ((ip >>> 24) & 0xFF) + "." + ((ip >>> 16) & 0xFF) + "." + ((ip >>> 8) & 0xFF) + "." + (ip & 0xFF);
    }
}
