package io.sluice.dataplane.config;

import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
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
            io.sluice.dataplane.config.FirewallConfigLoader.KEY, io.sluice.dataplane.config.ApiSettings.KEY,
            io.sluice.dataplane.config.FlowLogSettings.KEY, DpdkLog.KEY);
    private static final Set<String> PORT_KEYS = Set.of("name", "device", "rx-queues", "tx-queues", "mac");
    private static final Set<String> WORKER_KEYS = Set.of("lcore", "rx");
    private static final Set<String> MAC_KEYS = Set.of("mac", "port");
    private static final Set<String> ARP_KEYS = Set.of("ip", "mac", "port");
    private static final Set<String> METRICS_KEYS = Set.of("listen");
    private static final Set<String> SERVICE_KEYS = Set.of("stall-timeout-ms", "ready-timeout-ms", "housekeeping-cpus");

    private final String file;
    private final Yaml y;

    private ConfigLoader(String file) {
        this.file = file;
        this.y = new Yaml(file);
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

    private DpdkLog dpdkLog(Node node) throws ConfigException {
        Map<String, Node> m = y.mapping(node, DpdkLog.KEY, Set.of("file", "level"));
        String f = DpdkLog.DEFAULT.file();
        if (m.containsKey("file")) {
            f = y.scalar(m.get("file"), DpdkLog.KEY + ".file");
            if (f.isBlank()) throw y.error(m.get("file"), DpdkLog.KEY + ".file", "empty (a path, or terminal)");
            if (f.equals("terminal")) f = null;
        }
        int level = DpdkLog.DEFAULT.level();
        if (m.containsKey("level")) {
            String l = y.scalar(m.get("level"), DpdkLog.KEY + ".level");
            int i = DpdkLog.LEVELS.indexOf(l);
            if (i < 0) throw y.error(m.get("level"), DpdkLog.KEY + ".level", "'" + l + "' is not one of " + DpdkLog.LEVELS);
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
        Optional<Node> rootOpt = y.compose(text);
        if (rootOpt.isEmpty()) {
            throw new ConfigException(file + ":1: the file is empty; it needs at least 'ports'");
        }
        Map<String, Node> top = y.mapping(rootOpt.get(), Yaml.TOP, TOP_KEYS);

        List<String> eal = new ArrayList<>();
        if (top.containsKey("eal")) {
            for (Node n : y.sequence(top.get("eal"), "eal")) {
                String arg = y.scalar(n, "eal[]");
                if (arg.startsWith("--vdev") || arg.equals("-a") || arg.startsWith("--allow")) {
                    throw y.error(n, "eal", "'" + arg + "' is set by the data plane from 'ports'; declare the device as a port instead");
                }
                if (arg.startsWith("--file-prefix")) {
                    throw y.error(n, "eal", "'--file-prefix' is chosen by the data plane (unique per process); remove it");
                }
                eal.add(arg);
            }
        } else {
            eal.addAll(List.of("--no-huge", "-m", "1024", "--no-pci", "-l", "0"));
        }

        int burst = top.containsKey("burst-size") ? y.intIn(top.get("burst-size"), "burst-size", 1, 256) : 32;
        String idle = top.containsKey("idle-strategy") ? y.scalar(top.get("idle-strategy"), "idle-strategy") : "backoff";
        if (!idle.matches("busy-spin|yield|backoff|sleep-[1-9][0-9]{0,6}")) {
            throw y.error(top.get("idle-strategy"), "idle-strategy",
                    "'" + idle + "' is not one of busy-spin, yield, backoff, sleep-<micros>");
        }
        int mbufs = top.containsKey("mbufs") ? y.intIn(top.get("mbufs"), "mbufs", 1023, 4_194_303) : 16383;
        Path counters = top.containsKey("counters-file")
                ? Path.of(y.scalar(top.get("counters-file"), "counters-file"))
                : Path.of("/run/sluice/counters.dat");

        // ---- ports ----
        if (!top.containsKey("ports")) {
            throw new ConfigException(file + ":1: ports: missing; at least one port is needed");
        }
        List<PortSpec> ports = new ArrayList<>();
        Map<String, Integer> portIndex = new HashMap<>();
        Set<String> devices = new HashSet<>();
        List<Node> portNodes = y.sequence(top.get("ports"), "ports");
        if (portNodes.isEmpty()) {
            throw y.error(top.get("ports"), "ports", "empty; at least one port is needed");
        }
        for (int i = 0; i < portNodes.size(); i++) {
            String key = "ports[" + i + "]";
            Map<String, Node> p = y.mapping(portNodes.get(i), key, PORT_KEYS);
            String pname = y.required(p, portNodes.get(i), key, "name");
            if (!pname.matches("[A-Za-z0-9_.-]{1,32}")) {
                throw y.error(p.get("name"), key + ".name", "'" + pname + "' must be 1-32 characters of letters, digits, '_', '.', '-'");
            }
            if (portIndex.putIfAbsent(pname, i) != null) {
                throw y.error(p.get("name"), key + ".name", "'" + pname + "' is already the name of ports[" + portIndex.get(pname) + "]");
            }
            String device = y.required(p, portNodes.get(i), key, "device");
            if (device.isBlank() || device.contains(" ")) {
                throw y.error(p.get("device"), key + ".device", "'" + device + "' is not a DPDK device argument (e.g. net_tap0,iface=sl0)");
            }
            String devName = device.split(",", 2)[0];
            if (!devices.add(devName)) {
                throw y.error(p.get("device"), key + ".device", "device '" + devName + "' is used by another port");
            }
            int rxq = p.containsKey("rx-queues") ? y.intIn(p.get("rx-queues"), key + ".rx-queues", 1, 64) : 1;
            int txq = p.containsKey("tx-queues") ? y.intIn(p.get("tx-queues"), key + ".tx-queues", 1, 64) : 1;
            long mac = p.containsKey("mac") ? y.mac(p.get("mac"), key + ".mac") : -1;
            if (isTap(devName) && rxq < txq) {
                // a TAP queue is one kernel tun queue used both ways: the host delivers into every one
                throw y.error(p.containsKey("rx-queues") ? p.get("rx-queues") : portNodes.get(i), key + ".rx-queues",
                        "TAP port '" + pname + "' has " + rxq + " rx queue(s) but " + txq + " tx queue(s): each TAP queue is also"
                                + " a queue the kernel delivers into, so give rx-queues: " + txq + " or more (and poll every one)");
            }
            ports.add(new PortSpec(pname, device, rxq, txq, mac));
        }

        // ---- workers ----
        List<WorkerSpec> workers = new ArrayList<>();
        if (top.containsKey("workers")) {
            List<Node> wNodes = y.sequence(top.get("workers"), "workers");
            Set<Integer> lcores = new HashSet<>();
            Set<Long> owned = new HashSet<>();
            for (int w = 0; w < wNodes.size(); w++) {
                String key = "workers[" + w + "]";
                Map<String, Node> wm = y.mapping(wNodes.get(w), key, WORKER_KEYS);
                if (!wm.containsKey("lcore")) {
                    throw y.error(wNodes.get(w), key + ".lcore", "missing");
                }
                int lcore = y.intIn(wm.get("lcore"), key + ".lcore", 0, 127);
                if (!lcores.add(lcore)) {
                    throw y.error(wm.get("lcore"), key + ".lcore", "lcore " + lcore + " already has a worker");
                }
                if (w >= 64) {
                    throw y.error(wNodes.get(w), key, "at most 64 workers");
                }
                List<WorkerSpec.RxQueue> rx = new ArrayList<>();
                if (!wm.containsKey("rx")) {
                    throw y.error(wNodes.get(w), key + ".rx", "missing: list the ports (or port:queue) this worker polls");
                }
                for (Node q : y.sequence(wm.get("rx"), key + ".rx")) {
                    String s = y.scalar(q, key + ".rx[]");
                    String[] pq = s.split(":", 2);
                    Integer pi = portIndex.get(pq[0]);
                    if (pi == null) {
                        throw y.error(q, key + ".rx", "no port named '" + pq[0] + "'");
                    }
                    int from = 0;
                    int to = ports.get(pi).rxQueues() - 1;
                    if (pq.length == 2) {
                        try {
                            from = to = Integer.parseInt(pq[1]);
                        } catch (NumberFormatException e) {
                            throw y.error(q, key + ".rx", "'" + s + "': queue after ':' must be a number");
                        }
                        if (from < 0 || from >= ports.get(pi).rxQueues()) {
                            throw y.error(q, key + ".rx", "'" + s + "': port '" + pq[0] + "' has rx queues 0.." + (ports.get(pi).rxQueues() - 1));
                        }
                    }
                    for (int qi = from; qi <= to; qi++) {
                        if (!owned.add(((long) pi << 32) | qi)) {
                            throw y.error(q, key + ".rx", "rx queue " + pq[0] + ":" + qi + " is already polled by another worker");
                        }
                        rx.add(new WorkerSpec.RxQueue(pi, qi));
                    }
                }
                workers.add(new WorkerSpec(lcore, List.copyOf(rx), w));
            }
            for (int pi = 0; pi < ports.size(); pi++) {
                if (ports.get(pi).txQueues() < workers.size()) {
                    Node pn = portNodes.get(pi);
                    throw y.error(pn, "ports[" + pi + "].tx-queues",
                            "port '" + ports.get(pi).name() + "' has " + ports.get(pi).txQueues()
                                    + " tx queue(s) but there are " + workers.size() + " workers (each needs its own)");
                }
                // the kernel spreads a TAP's traffic over all its queues: one nobody polls loses flows
                for (int qi = 0; isTap(ports.get(pi).devargs()) && qi < ports.get(pi).rxQueues(); qi++) {
                    if (!owned.contains(((long) pi << 32) | qi)) {
                        throw y.error(top.get("workers"), "workers",
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
            List<Node> entries = y.sequence(top.get("mac-table"), "mac-table");
            for (int i = 0; i < entries.size(); i++) {
                String key = "mac-table[" + i + "]";
                Map<String, Node> m = y.mapping(entries.get(i), key, MAC_KEYS);
                if (!m.containsKey("mac")) {
                    throw y.error(entries.get(i), key + ".mac", "missing");
                }
                long mac = y.mac(m.get("mac"), key + ".mac");
                if ((mac & 0x0100_0000_0000L) != 0) {
                    throw y.error(m.get("mac"), key + ".mac", "is a multicast/broadcast address; the MAC table holds unicast addresses");
                }
                Integer prev = seenMac.putIfAbsent(mac, i);
                if (prev != null) {
                    throw y.error(m.get("mac"), key + ".mac", "already in mac-table[" + prev + "]");
                }
                int port = portRef(m, entries.get(i), key, portIndex, false);
                macTable.add(new SluiceConfig.MacEntry(mac, port));
            }
        }

        // ---- arp ----
        List<SluiceConfig.ArpEntry> arp = new ArrayList<>();
        if (top.containsKey("arp")) {
            List<Node> entries = y.sequence(top.get("arp"), "arp");
            Map<Long, Integer> seen = new HashMap<>();
            for (int i = 0; i < entries.size(); i++) {
                String key = "arp[" + i + "]";
                Map<String, Node> m = y.mapping(entries.get(i), key, ARP_KEYS);
                if (!m.containsKey("ip")) {
                    throw y.error(entries.get(i), key + ".ip", "missing");
                }
                if (!m.containsKey("mac")) {
                    throw y.error(entries.get(i), key + ".mac", "missing");
                }
                int ip = y.ipv4(m.get("ip"), key + ".ip");
                long mac = y.mac(m.get("mac"), key + ".mac");
                if ((mac & 0x0100_0000_0000L) != 0) {
                    throw y.error(m.get("mac"), key + ".mac", "is a multicast/broadcast address; ARP answers need a unicast MAC");
                }
                int port = m.containsKey("port") ? portRef(m, entries.get(i), key, portIndex, true) : -1;
                long k = ((long) ip << 8) | (port & 0xFF);
                Integer prev = seen.putIfAbsent(k, i);
                if (prev != null) {
                    throw y.error(m.get("ip"), key + ".ip", "already answered by arp[" + prev + "]");
                }
                arp.add(new SluiceConfig.ArpEntry(ip, mac, port));
            }
        }

        // ---- overlay (tenant networks; parsed and validated by the overlay package) ----
        OverlayModel overlay = null;
        if (top.containsKey("overlay")) {
            for (String l2Key : List.of("mac-table", "arp")) {
                if (top.containsKey(l2Key)) {
                    throw y.error(top.get(l2Key), l2Key, "not used with 'overlay' (the overlay answers ARP and forwards"
                            + " by its own tables); remove it");
                }
            }
            overlay = OverlayConfigLoader.parse(file, top.get("overlay"), portIndex);
            if (overlay.external() != null) {
                // NAT state lives in the firewall's conntrack entries, owned by one worker (docs/nat.md)
                Node ext = valueOf(top.get("overlay"), "external");
                if (!top.containsKey(io.sluice.dataplane.config.FirewallConfigLoader.KEY)) {
                    throw y.error(ext, "overlay.external", "needs a 'security-groups' section: NAT state lives in the"
                            + " firewall's conntrack entries");
                }
                if (workers.size() != 1) {
                    throw y.error(ext, "overlay.external", "NAT runs on one worker today; the configuration has "
                            + workers.size() + " workers");
                }
            }
        }
        io.sluice.dataplane.config.FirewallConfig firewall = null;
        if (top.containsKey(io.sluice.dataplane.config.FirewallConfigLoader.KEY)) {
            // parsed once, here, into the value (docs/architecture.md, "Desired state").
            // With an overlay, VM ports name overlay VMs (docs/firewall.md, "On the overlay")
            // with several workers, each flow's packets are handed to the worker owning its conntrack
            // shard (docs/firewall.md, "Workers"); each worker has its own tx queue (checked above)
            firewall = io.sluice.dataplane.config.FirewallConfigLoader.parse(file,
                    top.get(io.sluice.dataplane.config.FirewallConfigLoader.KEY), portIndex, overlay);
        }

        io.sluice.dataplane.config.ApiSettings api = null;
        if (top.containsKey(io.sluice.dataplane.config.ApiSettings.KEY)) {
            // the control API (docs/api.md)
            api = io.sluice.dataplane.config.ApiSettings.parse(file, top.get(io.sluice.dataplane.config.ApiSettings.KEY), overlay,
                    firewall != null);
        }
        FlowLogSettings flowLogs = null;
        if (top.containsKey(FlowLogSettings.KEY)) {
            // flow logs (docs/operations.md)
            if (!top.containsKey(io.sluice.dataplane.config.FirewallConfigLoader.KEY)) {
                throw y.error(top.get(io.sluice.dataplane.config.FlowLogSettings.KEY), io.sluice.dataplane.config.FlowLogSettings.KEY,
                        "needs a 'security-groups' section (flow logs are kept by the firewall's connection tracking)");
            }
            flowLogs = FlowLogSettings.parse(file, top.get(FlowLogSettings.KEY), overlay);
        }
        DpdkLog dpdkLog = top.containsKey(DpdkLog.KEY) ? dpdkLog(top.get(DpdkLog.KEY)) : DpdkLog.DEFAULT;
        ServiceSettings service = ServiceSettings.DEFAULT;
        if (top.containsKey("service")) {
            Map<String, Node> s = y.mapping(top.get("service"), "service", SERVICE_KEYS);
            int stall = s.containsKey("stall-timeout-ms")
                    ? y.intIn(s.get("stall-timeout-ms"), "service.stall-timeout-ms", 100, 3_600_000) : service.stallTimeoutMs();
            int ready = s.containsKey("ready-timeout-ms")
                    ? y.intIn(s.get("ready-timeout-ms"), "service.ready-timeout-ms", 100, 3_600_000) : service.readyTimeoutMs();
            String hk = service.housekeepingCpus();
            if (s.containsKey("housekeeping-cpus")) {
                hk = y.scalar(s.get("housekeeping-cpus"), "service.housekeeping-cpus").strip();
                if (!hk.equals("auto") && !hk.equals("off")) {
                    try {
                        io.sluice.dataplane.service.CpuList.parse(hk);
                    } catch (IllegalArgumentException e) {
                        throw y.error(s.get("housekeeping-cpus"), "service.housekeeping-cpus",
                                e.getMessage() + " (expected auto, off, or a CPU list such as \"0,2-3\")");
                    }
                }
            }
            service = new ServiceSettings(stall, ready, hk);
        }

        MetricsSettings metrics = MetricsSettings.DEFAULT;
        if (top.containsKey("metrics")) {
            Map<String, Node> m = y.mapping(top.get("metrics"), "metrics", METRICS_KEYS);
            if (m.containsKey("listen")) {
                String l = y.scalar(m.get("listen"), "metrics.listen");
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
                        throw y.error(m.get("listen"), "metrics.listen", "'" + l + "' is not HOST:PORT (port 0..65535) or 'off'");
                    }
                    metrics = new MetricsSettings(l.substring(0, colon), port);
                }
            }
        }

        return new SluiceConfig(file, List.copyOf(eal), List.copyOf(ports), List.copyOf(workers), burst, idle, mbufs,
                List.copyOf(macTable), List.copyOf(arp), counters, overlay, service, metrics, firewall, api, flowLogs, dpdkLog);
    }

    // ------------------------------------------------------------------------------------------

    private int portRef(Map<String, Node> m, Node owner, String key, Map<String, Integer> portIndex, boolean optional)
            throws ConfigException {
        if (!m.containsKey("port")) {
            if (optional) {
                return -1;
            }
            throw y.error(owner, key + ".port", "missing");
        }
        String name = y.scalar(m.get("port"), key + ".port");
        Integer pi = portIndex.get(name);
        if (pi == null) {
            throw y.error(m.get("port"), key + ".port", "no port named '" + name + "' (ports: " + portIndex.keySet() + ")");
        }
        return pi;
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
