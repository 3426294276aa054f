package io.sluice.dataplane.firewall;

import io.sluice.dataplane.config.FirewallConfig;
import io.sluice.dataplane.conntrack.ConnLimits;
import io.sluice.dataplane.conntrack.Conntrack;
import io.sluice.dataplane.conntrack.CtTimeouts;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.rules.model.CloudConfig;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.RuleValidationException;
import io.sluice.rules.sg.SecurityGroupCompiler;
import io.sluice.rules.sg.SecurityGroupTable;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The control side of the firewall: compiles the security groups of every VM port with the rules
 * compiler (incrementally: {@link SecurityGroupCompiler#apply} rebuilds only what changed), builds a
 * {@link FirewallSnapshot} and publishes it with one volatile write. Workers' {@link FirewallStage}s
 * read {@link #current()} once per burst. {@link #apply} is the rule-change path (configuration
 * reload today, the control API later); it is called from one control thread at a time.
 *
 * <p>Also owns what all workers share: the conntrack limits, the rule-id to hit-counter registry
 * and the list of worker counters (summed by {@link #hits} and {@link #drops}).
 */
public final class FirewallState {
    private final int ports;
    private static final String PLATFORM_PREFIX = "platform/";
    /** Updates the trees of large rule lists after their change took effect (one thread for every firewall of the process). */
    private static final java.util.concurrent.ExecutorService FOLDER = io.sluice.rules.compile.DeferredClassifier.folderThread("sluice-rules-fold");
    /** Publishes the snapshots with the updated trees (not the folder: it must never wait for {@link #apply}). */
    private static final java.util.concurrent.ExecutorService REFRESHER = io.sluice.rules.compile.DeferredClassifier.folderThread("sluice-rules-refresh");
    private final java.util.concurrent.atomic.AtomicBoolean refreshQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private final SecurityGroupCompiler compiler = new SecurityGroupCompiler(new io.sluice.rules.compile.CutTreeCompiler(), FOLDER, this::folded);
    private final Map<String, Integer> ruleCounter = new HashMap<>();
    private final List<String> ruleNames = new ArrayList<>();
    private final List<FirewallCounters> workers = new CopyOnWriteArrayList<>();
    private final ConnLimits limits;
    private final int shardEntries;
    private volatile FirewallSnapshot current;
    private volatile FirewallConfig config;
    private int epoch;
    private boolean cutSeen;
    private long lastApplyNanos;
    /** Ports that have been VM ports in some applied configuration (their drop counters are exported). */
    private final boolean[] vmPortsSeen;
    /** Per port: the rule names (per list) of the snapshot in use, as the compiler's expansion cache gave them. */
    private final List<List<String>>[] lastNames;
    private Counters export;
    private List<String> portNames;
    private boolean exportFull;

    /**
     * @param ports number of data-plane ports
     * @param cfg   the initial security-groups configuration
     * @throws IllegalArgumentException when a rule cannot be compiled
     */
    public FirewallState(int ports, FirewallConfig cfg) {
        this.ports = ports;
        this.vmPortsSeen = new boolean[ports];
        @SuppressWarnings("unchecked")
        List<List<String>>[] ln = new List[ports];
        this.lastNames = ln;
        this.limits = new ConnLimits(cfg.maxConnections(), ports, cfg.maxConnectionsPerVm());
        this.shardEntries = cfg.maxConnections();
        apply(cfg);
    }

    /** The snapshot workers use now. */
    public FirewallSnapshot current() { return current; }

    /** The configuration of the current snapshot. */
    public FirewallConfig config() { return config; }

    public ConnLimits limits() { return limits; }

    /**
     * Moves to a new configuration: recompiles only the changed interfaces/lists/partitions and
     * publishes a new snapshot with one reference swap. Established connections that the new rules
     * no longer allow are kept or cut as their allowing rule's group says (lazily, at their next
     * packet; see {@link FirewallStage}). Nothing changes when it throws.
     *
     * @throws IllegalArgumentException when the configuration does not fit this data plane or a rule is invalid
     */
    public synchronized void apply(FirewallConfig cfg) {
        long t0 = System.nanoTime();
        for (FirewallConfig.VmPort v : cfg.vmPorts()) {
            if (v.port() < -1 || v.port() >= ports) throw new IllegalArgumentException("VM port " + v.name() + " index " + v.port() + " outside 0.." + (ports - 1));
        }
        CloudConfig cloud = cfg.cloud();
        // validate every interface's expansion before touching the compiler's state
        Map<String, List<List<String>>> names = new LinkedHashMap<>();
        for (FirewallConfig.VmPort v : cfg.vmPorts()) {
            if (v.port() < 0) continue; // a remote VM: a group member only, its host checks its own rules
            List<List<String>> perList = new ArrayList<>(4);
            for (Direction d : Direction.values()) {
                for (IpFamily f : IpFamily.values()) {
                    try {
                        perList.add(compiler.effective(cloud, v.name(), d, f).names());
                    } catch (RuleValidationException e) {
                        throw new IllegalArgumentException("security-groups: port " + v.name() + ": " + e.getMessage(), e);
                    }
                }
            }
            names.put(v.name(), perList);
        }
        compiler.apply(cloud);
        FirewallConfig before = config;
        boolean sameCuts = before != null && before.cutGroups().equals(cfg.cutGroups());
        SecurityGroupTable[] table = new SecurityGroupTable[ports];
        int[] zone = new int[ports];
        int[][][] hit = new int[ports][][];
        boolean[][][] cut = new boolean[ports][][];
        for (FirewallConfig.VmPort v : cfg.vmPorts()) {
            int p = v.port();
            if (p < 0) continue;
            table[p] = compiler.slot(v.name()).get();
            zone[p] = v.zone();
            List<List<String>> perList = names.get(v.name());
            hit[p] = new int[4][];
            cut[p] = new boolean[4][];
            FirewallSnapshot prev = current;
            for (int l = 0; l < 4; l++) {
                List<String> n = perList.get(l);
                List<String> was = lastNames[p] == null || prev == null ? null : lastNames[p].get(l);
                int size = n.size(), ws = was == null ? 0 : was.size(), a = 0, b = 0;
                if (was == n) {
                    a = size; // the same list (the compiler's cache or a rule changed in place)
                } else if (was != null) {
                    // the names of the snapshot in use kept at both ends (the compiler's patched
                    // lists share them): their counters and cut flags stay where they were
                    while (a < ws && a < size && was.get(a) == n.get(a)) a++;
                    while (b < ws - a && b < size - a && was.get(ws - 1 - b) == n.get(size - 1 - b)) b++;
                }
                if (was != null && a == size && size == ws) { // the same rule names at the same positions: the same counters
                    hit[p][l] = prev.hitIndex[p][l];
                    if (sameCuts) {
                        cut[p][l] = prev.cut[p][l];
                        continue;
                    }
                } else {
                    hit[p][l] = new int[size];
                    if (was != null) keepEnds(prev.hitIndex[p][l], ws, hit[p][l], size, a, b);
                    for (int k = a; k < size - b; k++) hit[p][l][k] = counterIndex(n.get(k));
                }
                cut[p][l] = new boolean[size];
                if (sameCuts && was != null) keepEnds(prev.cut[p][l], ws, cut[p][l], size, a, b);
                else a = b = 0; // the cut flags of every rule again
                String g = null;
                boolean gCuts = false;
                for (int k = a; k < size - b; k++) {
                    String name = n.get(k);
                    if (g == null || !sameGroup(name, g)) { // names of one group sit together: one lookup per run
                        g = groupOf(name);
                        gCuts = cfg.cuts(g);
                    }
                    cut[p][l][k] = gCuts;
                }
            }
        }
        for (int p = 0; p < ports; p++) lastNames[p] = null;
        for (FirewallConfig.VmPort v : cfg.vmPorts()) if (v.port() >= 0) lastNames[v.port()] = names.get(v.name());
        for (FirewallConfig.VmPort v : cfg.vmPorts()) if (v.port() >= 0) limits.setVmLimit(v.port(), cfg.maxConnectionsPerVm());
        for (FirewallConfig.VmPort v : cfg.vmPorts()) if (v.port() >= 0) vmPortsSeen[v.port()] = true;
        for (FirewallCounters c : workers) export(c); // before the snapshot that can reach the new counters
        epoch++;
        config = cfg;
        for (FirewallConfig.VmPort v : cfg.vmPorts()) for (String g : v.groups()) cutSeen |= cfg.cuts(g);
        current = new FirewallSnapshot(ports, table, zone, hit, cut, epoch, cutSeen);
        lastApplyNanos = System.nanoTime() - t0;
    }

    /** Called on the folder when a large list's trees caught up: publish them from the refresh thread. */
    private void folded() {
        if (refreshQueued.compareAndSet(false, true)) REFRESHER.execute(this::refreshTables);
    }

    /**
     * Publishes a snapshot whose large lists use their updated trees: the same rules, the same
     * answers and the same epoch (no connection is re-checked), only without the changed rules
     * checked beside the trees.
     */
    private synchronized void refreshTables() {
        refreshQueued.set(false); // a fold after this point queues another refresh
        FirewallSnapshot s = current;
        FirewallConfig cfg = config;
        if (s == null || cfg == null || !compiler.refresh()) return;
        SecurityGroupTable[] table = s.table.clone();
        boolean changed = false;
        for (FirewallConfig.VmPort v : cfg.vmPorts()) {
            if (v.port() < 0) continue;
            SecurityGroupTable t = compiler.slot(v.name()).get();
            changed |= t != table[v.port()];
            table[v.port()] = t;
        }
        if (!changed) return;
        current = new FirewallSnapshot(ports, table, s.zone, s.hitIndex, s.cut, s.epoch, s.cutSeen);
    }

    /**
     * Tests, benchmarks: waits until the trees of every large rule list hold its latest rules and
     * publishes them (as the refresh thread would).
     */
    public synchronized void settleTables() {
        compiler.settle();
        refreshTables();
    }

    /** Large rule lists whose change the last {@link #apply} handed to the folder. */
    public int lastDeferredLists() { return compiler.lastDeferredLists(); }

    /** Nanoseconds the last {@link #apply} took (compile + publish). */
    public long lastApplyNanos() { return lastApplyNanos; }

    /** The rules compiler's statistics of the last apply: partitions rebuilt. */
    public int lastRebuiltPartitions() { return compiler.lastRebuiltPartitions(); }

    /** Lists (interface, direction, family) unchanged by the last apply. */
    public int lastUnchangedLists() { return compiler.lastUnchangedLists(); }

    /** Copies the first {@code a} and the last {@code b} entries of array {@code from} (length {@code fromLen}) to the same ends of {@code to} (length {@code toLen}). */
    private static void keepEnds(Object from, int fromLen, Object to, int toLen, int a, int b) {
        System.arraycopy(from, 0, to, 0, a);
        System.arraycopy(from, fromLen - b, to, toLen - b, b);
    }

    /** True if {@code ruleId}'s group is {@code group} (a {@link #groupOf} result: it holds no '/'). */
    private static boolean sameGroup(String ruleId, String group) {
        int n = group.length();
        return ruleId.startsWith(group) && (ruleId.length() == n || ruleId.charAt(n) == '/');
    }

    private static String groupOf(String ruleId) {
        int slash = ruleId.indexOf('/');
        return slash < 0 ? ruleId : ruleId.substring(0, slash);
    }

    private int counterIndex(String ruleId) {
        Integer i = ruleCounter.get(ruleId);
        if (i != null) return i;
        int n = Math.min(ruleNames.size(), FirewallCounters.MAX_RULES - 1);
        if (ruleNames.size() < FirewallCounters.MAX_RULES - 1) ruleNames.add(ruleId);
        ruleCounter.put(ruleId, n);
        return n;
    }

    /** A new stage for the L2 pipeline, counters not exported (tests, benchmarks). */
    public FirewallStage newStage() {
        return newStage(-1, null);
    }

    /**
     * A new stage for one worker, with its own conntrack shard and counters. Control thread,
     * before the worker starts. Both directions of a flow must reach the same worker: with two or
     * more workers a steer stage ({@link #steerPolicy}) goes in front of it; see docs/firewall.md.
     *
     * @param worker    worker id: its counters are exported under it (after {@link #exportCounters});
     *                  -1 = not exported
     * @param pendingTx overlay pipeline: the worker's per-slot "encapsulation pending" array (packets
     *                  still {@code CONTINUE} that are decided and leave by {@code outPort}); null on L2
     */
    public synchronized FirewallStage newStage(int worker, int[] pendingTx) {
        return newStage(worker, pendingTx, null);
    }

    /**
     * As {@link #newStage(int, int[])}; with warm restart, a kept connection carrying a NAT word is
     * offered to {@code nat} (the worker's NAT rebuilds its SNAT binding) and kept if it accepts
     * (docs/conntrack.md, "Limits and NAT"); without one such connections are deleted.
     */
    public synchronized FirewallStage newStage(int worker, int[] pendingTx, Conntrack.NatAdopt nat) {
        FirewallCounters c = new FirewallCounters(ports, worker);
        if (worker >= 0) export(c);
        workers.add(c);
        FirewallConfig cfg = config;
        Conntrack ct;
        if (keepWorkers > 0 && worker >= 0 && cfg.conntrackDir() != null) {
            // warm restart (docs/conntrack.md): the shard lives in a file-backed mapping the next process attaches
            java.nio.file.Path file = java.nio.file.Path.of(cfg.conntrackDir(), "conntrack-" + worker + ".shard");
            long fingerprint = ((long) worker << 32 | keepWorkers) ^ ((long) ports << 48);
            ct = Conntrack.attach(shardEntries, CtTimeouts.defaults(), limits, SEED, file, fingerprint, keepLog, nat);
            if (ct.file() != null) {
                keepLog.accept("sluice: conntrack " + file + ": " + ct.attachedCount() + " connection(s) kept"
                        + (ct.natKeptAtAttach() > 0 ? ", " + ct.natKeptAtAttach() + " with NAT (bindings rebuilt)" : "")
                        + (ct.natDroppedAtAttach() > 0 ? ", " + ct.natDroppedAtAttach() + " with NAT dropped ("
                                + (nat == null ? "no NAT on this worker" : "the NAT could not take their translation back") + ")" : ""));
            }
        } else {
            ct = new Conntrack(shardEntries, CtTimeouts.defaults(), limits, SEED);
        }
        ct.tcpPickup(cfg.tcpPickup());
        FragmentTable frags = new FragmentTable(cfg.maxFragmentDatagrams(), cfg.fragmentTimeoutMs() * 1_000_000L,
                java.util.concurrent.ThreadLocalRandom.current().nextLong());
        FirewallStage stage = new FirewallStage(this, ct, frags, c, pendingTx);
        if (flowLogs != null) {
            io.sluice.dataplane.flowlog.FlowLogger l = flowLogs.newLogger();
            ct.flowSink(l, flowLogs.intervalS());
            stage.flowLogger(l);
        }
        return stage;
    }

    private io.sluice.dataplane.flowlog.FlowLogs flowLogs;
    private static final long SEED = 0x5eed_f1ae_0001L;
    private int keepWorkers;
    private java.util.function.Consumer<String> keepLog;

    /**
     * Keeps the conntrack shards of the stages made after this call in {@code conntrack-dir}
     * (warm restart, docs/conntrack.md): {@code ./sluice run} only, so in-process tests and tools
     * never share a host-wide directory. {@code workers}: the shard count (part of the layout:
     * flows are owned by worker). Control thread, before the workers start.
     */
    public synchronized void keepConntrack(int workers, java.util.function.Consumer<String> log) {
        this.keepWorkers = workers;
        this.keepLog = log;
    }

    /** Flow logs (docs/operations.md): stages made after this call log to it. Control thread, before the workers start. */
    public synchronized void flowLogs(io.sluice.dataplane.flowlog.FlowLogs f) {
        this.flowLogs = f;
    }

    /** The rule id of a hit-counter index (as in {@code firewall rule ID connections}), or "rule#N". */
    public synchronized String ruleName(int counterIndex) {
        return counterIndex >= 0 && counterIndex < ruleNames.size() ? ruleNames.get(counterIndex) : "rule#" + counterIndex;
    }

    /**
     * The steer policy of one worker's {@link io.sluice.dataplane.handoff.SteerStage} in front of
     * its firewall stage (two or more workers): the packets that stage will track, in its zone.
     *
     * @param pendingTx as for {@link #newStage(int, int[])}
     */
    public io.sluice.dataplane.handoff.SteerPolicy steerPolicy(int[] pendingTx) {
        return new FirewallSteer(this, pendingTx);
    }

    /**
     * Exports the workers' firewall counters to the shared counters file ({@code ./sluice stats}):
     * per VM port and reason {@code firewall port P drop fw_...} (the port whose rules decided),
     * per rule id {@code firewall rule ID connections} (connections that rule allowed), and
     * {@code firewall connections created}. Call before {@link #newStage(int, int[])}; rule ids and VM
     * ports that appear later (rule changes) get their counters in {@link #apply}. A full counters
     * file leaves further counters in memory only ({@link #hits}, {@link #drops}).
     *
     * @param portNames data-plane port names by index
     */
    /** Gauge labels: conntrack entries and fragment datagrams held by one worker. */
    public static final String TRACKED_LABEL = "firewall connections tracked";
    public static final String FRAGMENT_TABLE_LABEL = "firewall fragment datagrams tracked";

    public synchronized void exportCounters(Counters counters, List<String> portNames) {
        this.export = counters;
        this.portNames = List.copyOf(portNames);
        for (FirewallCounters c : workers) export(c);
    }

    /** Allocates the missing shared counters of one worker's counters. Control thread (synchronized callers). */
    private void export(FirewallCounters c) {
        if (export == null || c.worker < 0 || exportFull) return;
        try {
            if (c.createdOut == null) c.createdOut = export.allocate("firewall connections created", c.worker);
            if (c.fragmentsOut == null) c.fragmentsOut = export.allocate("firewall fragments passed", c.worker);
            if (c.trackedOut == null) c.trackedOut = export.allocate(TRACKED_LABEL, c.worker);
            if (c.fragmentTableOut == null) c.fragmentTableOut = export.allocate(FRAGMENT_TABLE_LABEL, c.worker);
            for (int p = 0; p < ports; p++) {
                if (!vmPortsSeen[p]) continue;
                for (int r = 0; r < FirewallCounters.REASONS.length; r++) {
                    int k = p * FirewallCounters.REASONS.length + r;
                    if (c.dropOut[k] == null) {
                        c.dropOut[k] = export.allocate("firewall port " + portNames.get(p) + " drop "
                                + FirewallCounters.REASONS[r].name().toLowerCase(), c.worker);
                    }
                }
            }
            for (int i = 0; i < ruleNames.size(); i++) {
                if (ruleNames.get(i).startsWith(PLATFORM_PREFIX)) continue; // denies: never allow a connection
                if (c.hitOut[i] == null) c.hitOut[i] = export.allocate("firewall rule " + ruleNames.get(i) + " connections", c.worker);
            }
        } catch (IllegalStateException full) {
            exportFull = true; // counters file full: the rest stays in memory (hits(), drops())
        }
    }

    // ---- stats (any thread; racy sums of single-writer counters) ----

    /** Connections created by rule {@code ruleId} (group/id, e.g. "default/ssh-v4"), summed over workers. */
    public synchronized long hits(String ruleId) {
        Integer i = ruleCounter.get(ruleId);
        if (i == null) return 0;
        long s = 0;
        for (FirewallCounters c : workers) s += c.hits[i];
        return s;
    }

    /** Every rule id seen so far with its hit count. */
    public synchronized Map<String, Long> allHits() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String r : ruleNames) out.put(r, hits(r));
        return out;
    }

    /** Drops decided for VM port {@code port} with {@code reason}, summed over workers. */
    public long drops(int port, DropReason reason) {
        long s = 0;
        for (FirewallCounters c : workers) s += c.drops(port, reason);
        return s;
    }

    /** Later IP fragments passed (their first fragment passed), summed over workers. */
    public long fragmentsPassed() {
        long s = 0;
        for (FirewallCounters c : workers) s += c.fragmentsPassed();
        return s;
    }

    /** New connections created, summed over workers. */
    public long created() {
        long s = 0;
        for (FirewallCounters c : workers) s += c.created();
        return s;
    }
}
