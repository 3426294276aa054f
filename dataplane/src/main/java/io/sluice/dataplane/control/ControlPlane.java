package io.sluice.dataplane.control;

import io.sluice.dataplane.config.ApiSettings;
import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.service.RunningConfig;
import io.sluice.dataplane.service.Service;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The control side of {@code ./sluice run} with an {@code api:} section (docs/api.md):
 * <ul>
 *   <li>at start, before the data plane is built: the file's {@code security-groups} plus the
 *       journal replayed give the rules and the generation the data plane starts with
 *       ({@link #open}); a corrupt journal or a change that no longer applies stops start-up;</li>
 *   <li>once the data plane is ready ({@link Service.Control#start}): the HTTP API;</li>
 *   <li>each accepted change ({@link #change}): validated into a new {@link DesiredState},
 *       journaled, applied through {@link RunningConfig#applyChange} (the SIGHUP path's diff,
 *       atomic publish and generation counter), and acknowledged once every worker has run a full
 *       duty cycle since;</li>
 *   <li>a reload of the file ({@link RunningConfig.Layer}): the new file's rules with every API
 *       change replayed on top, so reload and restart agree.</li>
 * </ul>
 */
public final class ControlPlane implements Service.Control, RunningConfig.Layer {
    /** How long an acknowledgement waits for the workers to take a change. */
    static final long WORKER_PICKUP_TIMEOUT_MS = 2000;

    private final ApiSettings settings;
    private final Journal journal;
    private final AuditLog audit;
    private final List<DesiredState.Change> changes;
    private final long startGeneration;
    /** The file's value (with the hot-plug slots) that {@link #changes} replay over: a snapshot is checked against it. */
    private SluiceConfig base;
    private SluiceConfig pendingBase;
    /** Changes and journaled bytes since the last snapshot (or the start). */
    private int sinceSnapshot;
    private long bytesSinceSnapshot;
    /** Snapshots written by this process (the snapshot thread writes it, under the change lock). */
    private volatile int snapshotsWritten;
    /** The generation of the newest snapshot this process wrote (0: none yet); read by /v1/health. */
    private volatile long lastSnapshotGen;
    /** Files deleted by journal retirement since this start (the snapshot thread writes it). */
    private volatile int retired;
    /** A snapshot is being checked and written (on {@link #snapshotter}); guarded by the change lock. */
    private boolean snapshotBusy;
    private final java.util.concurrent.ExecutorService snapshotter = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sluice-journal-snapshot");
        t.setDaemon(true);
        return t;
    });
    private final long startSnapshotGen;
    private final int replayedChanges;
    private volatile DesiredState state;
    private DesiredState pending;
    private RunningConfig running;
    /** The data plane's hot-plug, or null (no data plane: a new device is refused with 501). */
    private volatile io.sluice.dataplane.port.HotPlug.Plugger plugger;
    /** Where hot-plug lines go (the run's log). */
    private PrintStream log = System.err;
    private List<LongSupplier> cycles = List.of();
    private ControlApi http;
    private boolean closed;

    private ControlPlane(ApiSettings settings, Journal journal, AuditLog audit, DesiredState state, List<DesiredState.Change> changes, long gen,
                         SluiceConfig base, long snapshotGen, int replayed) {
        this.settings = settings;
        this.journal = journal;
        this.audit = audit;
        this.state = state;
        this.changes = changes;
        this.startGeneration = gen;
        this.base = base;
        this.startSnapshotGen = snapshotGen;
        this.replayedChanges = replayed;
    }

    /**
     * Null when {@code cfg} (the file's value, parsed once) has no {@code api} section. Otherwise
     * opens the journal and the audit log and replays the journal over {@code cfg}.
     *
     * @throws ConfigException a bad section, a journal that cannot be opened, is corrupt, or holds a change that no longer applies
     */
    public static ControlPlane open(Path file, SluiceConfig cfg) throws ConfigException {
        ApiSettings s = cfg.api();
        if (s == null) return null;
        Journal j = null;
        AuditLog a = null;
        try {
            j = Journal.open(dirFor(s.journal(), "journal"), s.msync());
            Journal.Loaded loaded = j.load(System.err);
            List<Journal.Record> records = loaded.tail();
            // the hot-plug slots (api.hotplug-ports) are ports of the value: a replayed VM fills the same slot
            SluiceConfig base = io.sluice.dataplane.port.HotPlug.withSlots(cfg, s.hotplugPorts());
            DesiredState st = new DesiredState(base);
            List<DesiredState.Change> applied = new ArrayList<>();
            long gen = 1;
            Journal.Snapshot snap = loaded.snapshot();
            if (snap != null) {
                st = rebuild(st, snap, s.journal() + "", file);
                applied.addAll(snap.changes());
                gen = snap.gen();
            }
            for (int i = 0; i < records.size(); i++) {
                Journal.Record r = records.get(i);
                boolean reverted = i + 1 < records.size() && records.get(i + 1).action().equals(Journal.REVERT)
                        && records.get(i + 1).gen() == r.gen();
                if (r.action().equals(Journal.REVERT) || r.action().equals(Journal.TORN) || reverted) continue;
                gen = r.gen();
                if (r.change() == null) continue;
                try {
                    st = st.apply(r.change());
                } catch (ApiException e) {
                    throw new ConfigException("journal " + s.journal() + ": record " + (i + 1) + " (generation " + r.gen() + ", "
                            + r.change().action() + " " + r.change().project() + "/" + r.change().name() + ") no longer applies over "
                            + file + ": " + e.getMessage() + ". Start-up stopped; the journal is left as it is.");
                }
                remember(applied, r.change());
            }
            if (loaded.torn() >= 0) {
                // an append cut short (a power loss while it was written): never acknowledged with sync: msync
                System.err.println("sluice: journal " + s.journal() + ": " + loaded.tornAt() + ", the journal's last, is torn (its checksum does"
                        + " not match its bytes: an append cut short, e.g. by a power loss); skipped (" + (s.msync()
                        ? "with sync: msync it was never acknowledged" : "with sync: none it may have been acknowledged")
                        + ") and marked torn, the journal is otherwise left as it is");
                j.torn(gen, loaded.torn());
            }
            a = AuditLog.open(dirFor(s.audit(), "audit"), s.msync());
            ControlPlane cp = new ControlPlane(s, j, a, st, applied, gen, base, snap == null ? 0 : snap.gen(), records.size());
            cp.fromFile = cfg;
            return cp;
        } catch (ConfigException e) {
            closeQuietly(j, a);
            throw e;
        } catch (AuditLog.Damaged e) {
            closeQuietly(j, a);
            throw new ConfigException(e.getMessage());
        } catch (RuntimeException e) {
            closeQuietly(j, a);
            throw new ConfigException("api: cannot open the journal " + s.journal() + " or the audit log " + s.audit() + ": " + e);
        }
    }

    /**
     * The state of a snapshot's generation: its changes applied over {@code st} (the file's value).
     *
     * @throws ConfigException naming the snapshot and the first change that no longer applies over the file
     */
    static DesiredState rebuild(DesiredState st, Journal.Snapshot snap, String journal, Object file) throws ConfigException {
        for (DesiredState.Change c : snap.changes()) {
            try {
                st = st.apply(c);
            } catch (ApiException e) {
                throw new ConfigException("journal " + journal + ": " + snap.at() + " (generation " + snap.gen() + ", change "
                        + c.action() + " " + c.project() + "/" + c.name() + ") no longer applies over " + file + ": " + e.getMessage()
                        + ". Start-up stopped; the journal is left as it is.");
            }
        }
        return st;
    }

    private static Path dirFor(Path dir, String what) throws ConfigException {
        try {
            Files.createDirectories(dir);
            return dir;
        } catch (IOException e) {
            throw new ConfigException("api." + what + ": cannot create " + dir + ": " + e.getMessage());
        }
    }

    private static void closeQuietly(Journal j, AuditLog a) {
        if (j != null) j.close();
        if (a != null) a.close();
    }

    /** The file's value the journal was replayed over (a reload compares with it and replays over it). */
    private SluiceConfig fromFile;

    @Override
    public SluiceConfig fromFile(SluiceConfig running) {
        return fromFile;
    }

    /** The value to start with: the file's, with the journal replayed. */
    public SluiceConfig desired() {
        return state.config();
    }

    ApiSettings settings() {
        return settings;
    }

    AuditLog audit() {
        return audit;
    }

    DesiredState state() {
        return state;
    }

    /** The API's base address ({@code http://127.0.0.1:PORT}), once started. */
    public String address() {
        return http.scheme() + "://" + settings.host() + ":" + http.port();
    }

    long generation() {
        RunningConfig r = running;
        return r == null ? startGeneration : r.generation();
    }

    @Override
    public void hotplug(io.sluice.dataplane.port.HotPlug.Plugger p) {
        this.plugger = p;
    }

    @Override
    public synchronized void start(RunningConfig runningConfig, List<LongSupplier> workerCycles, PrintStream log) throws Exception {
        attach(runningConfig, workerCycles, log);
        http = new ControlApi(this, log);
        http.start();
        log.println("sluice: control API on " + http.scheme() + "://" + settings.host() + ":" + http.port() + " (generation " + startGeneration
                + ", " + (startSnapshotGen > 0 ? "snapshot of generation " + startSnapshotGen + " + " + replayedChanges : changes.size())
                + " change(s) replayed from " + journal.dir() + ", audit " + settings.audit() + ")");
    }

    /** The change path without the HTTP listener (start, and tests that call {@link #change} directly). */
    synchronized void attach(RunningConfig runningConfig, List<LongSupplier> workerCycles, PrintStream log) {
        this.running = runningConfig;
        this.log = log;
        this.cycles = List.copyOf(workerCycles);
        runningConfig.attach(this, startGeneration);
    }

    /**
     * Applies one change: validated, journaled, applied, in use by every worker.
     *
     * @param nanos  out: the time of each of {@link #PHASES}
     * @return the new generation
     * @throws ApiException 400/404/409 when refused (nothing changed), 5xx when the journal or the apply failed
     */
    long change(DesiredState.Change c, long[] nanos) throws ApiException {
        return change(c, nanos, new DesiredState.Change[1]);
    }

    /** As {@link #change(DesiredState.Change, long[])}; {@code journaled[0]} is the change as journaled ({@link DesiredState#resolve}). */
    long change(DesiredState.Change c, long[] nanos, DesiredState.Change[] journaled) throws ApiException {
        long[] before;
        long gen;
        long t0 = System.nanoTime();
        synchronized (running) {
            long t1 = System.nanoTime();
            c = state.resolve(c);
            journaled[0] = c;
            DesiredState next = state.apply(c);
            if (next.config().overlay() != state.config().overlay() && next.config().overlay() != null) {
                // with NAT a new VM needs a free NAT VM slot (docs/nat.md, "VM slots")
                String slots = running == null ? null : running.natSlotProblem(next.config().overlay());
                if (slots != null) throw ApiException.conflict(slots);
            }
            // hot-plug (docs/api.md): a new device is plugged in and polled before anything is journaled
            List<Integer> plugged = plug(state.config(), next.config());
            long t2 = System.nanoTime();
            gen = running.generation() + 1;
            int bytes;
            try {
                bytes = journal.change(gen, c);
            } catch (RuntimeException e) {
                unplugQuietly(plugged);
                throw new ApiException(503, "the journal could not be written, nothing changed: " + e.getMessage());
            }
            long t3 = System.nanoTime();
            before = new long[cycles.size()];
            for (int i = 0; i < before.length; i++) before[i] = cycles.get(i).getAsLong();
            try {
                gen = running.applyChange(next.config());
            } catch (RuntimeException e) {
                journal.revert(gen);
                unplugQuietly(plugged);
                throw new ApiException(500, "the change could not be applied, nothing changed: " + e.getMessage());
            }
            // a device no VM uses any more leaves the workers' port set, then it is closed and removed
            unplug(state.config(), next.config());
            state = next;
            remember(changes, c);
            maybeSnapshot(gen, bytes);
            long t4 = System.nanoTime();
            nanos[0] = t1 - t0; // waiting for the lock
            nanos[1] = t2 - t1; // decode + validate into the new value
            nanos[2] = t3 - t2; // journal append
            long compile = running.firewall() == null ? 0 : Math.min(t4 - t3, running.firewall().lastApplyNanos());
            nanos[3] = compile; // expand + compile + snapshot (FirewallState.apply)
            nanos[4] = t4 - t3 - compile; // the rest of the apply: diff, overlay, the volatile writes
        }
        long t5 = System.nanoTime();
        awaitWorkers(before);
        nanos[5] = System.nanoTime() - t5; // every worker took it
        return gen;
    }

    /**
     * Plugs in every device {@code next} has in a hot-plug slot that {@code cur} has not; returns their
     * port indexes. A failure unplugs what this call plugged and answers the plugger's status, naming
     * {@code port.device}.
     */
    private List<Integer> plug(SluiceConfig cur, SluiceConfig next) throws ApiException {
        List<Integer> done = new ArrayList<>();
        if (cur.ports() == next.ports()) return done; // no VM change: the same list
        for (int i = 0; i < next.ports().size(); i++) {
            io.sluice.dataplane.config.PortSpec n = next.ports().get(i);
            if (!io.sluice.dataplane.port.HotPlug.isSlot(n) || n.devargs().isEmpty() || n.equals(cur.ports().get(i))) continue;
            io.sluice.dataplane.port.HotPlug.Plugger p = plugger;
            if (p == null) {
                unplugQuietly(done);
                throw new ApiException(501, "port.device: '" + GroupCodec.clip(n.devargs()) + "' would be hot-plugged, and this control plane"
                        + " runs without a data plane");
            }
            try {
                p.plug(i, n);
                log.println("sluice: hot-plug: port " + n.name() + ": " + n.devargs() + " plugged in and polled");
            } catch (io.sluice.dataplane.port.HotPlug.Failed e) {
                unplugQuietly(done);
                throw new ApiException(e.status(), e.getMessage());
            } catch (RuntimeException e) {
                unplugQuietly(done);
                throw new ApiException(500, "port.device: '" + GroupCodec.clip(n.devargs()) + "' could not be plugged in: " + e.getMessage());
            }
            done.add(i);
        }
        return done;
    }

    /** Unplugs every device {@code cur} has in a hot-plug slot that {@code next} has not (the change is applied: errors are logged). */
    private void unplug(SluiceConfig cur, SluiceConfig next) {
        if (cur.ports() == next.ports()) return;
        List<Integer> gone = new ArrayList<>();
        for (int i = 0; i < cur.ports().size(); i++) {
            io.sluice.dataplane.config.PortSpec c = cur.ports().get(i);
            if (io.sluice.dataplane.port.HotPlug.isSlot(c) && !c.devargs().isEmpty() && !c.equals(next.ports().get(i))) gone.add(i);
        }
        unplugQuietly(gone);
    }

    private void unplugQuietly(List<Integer> ports) {
        io.sluice.dataplane.port.HotPlug.Plugger p = plugger;
        if (p == null) return;
        for (int i : ports) {
            try {
                p.unplug(i);
                log.println("sluice: hot-plug: port " + state.config().ports().get(i).name() + " unplugged and removed");
            } catch (RuntimeException e) {
                System.err.println("sluice: unplug of port " + i + ": " + e.getMessage());
            }
        }
    }

    /**
     * Starts a snapshot when {@code api.snapshot-every} changes or {@code api.snapshot-bytes} were
     * journaled since the last one (under the change lock): what it needs is taken here (the change
     * list's copy, the immutable value, the file's value, the journal's last index), the check and the
     * write run on the snapshot thread, so the call that reaches the interval is not slowed by them.
     * One snapshot at a time; one due while another runs is skipped.
     */
    private void maybeSnapshot(long gen, int bytes) {
        if (settings.snapshotEvery() <= 0) return;
        sinceSnapshot++;
        bytesSinceSnapshot += bytes;
        if (sinceSnapshot < settings.snapshotEvery() && bytesSinceSnapshot < settings.snapshotBytes()) return;
        sinceSnapshot = 0;
        bytesSinceSnapshot = 0;
        if (snapshotBusy) return;
        snapshotBusy = true;
        List<DesiredState.Change> list = List.copyOf(changes);
        DesiredState value = state;
        SluiceConfig over = base;
        long index = journal.lastIndex();
        Object lock = running;
        snapshotter.execute(() -> {
            String skipped = snapshot(gen, index, list, value, over, lock);
            if (skipped != null) log.println("sluice: journal " + journal.dir() + ": snapshot at generation " + gen + " skipped: " + skipped);
        });
    }

    /**
     * Writes a snapshot of {@code value}, the state of generation {@code gen} after journal record
     * {@code index}: {@code list} shortened ({@link ChangeCompaction}: all families, else the rules'
     * families, else groups alone, else none), the first candidate whose replay over {@code over} (the
     * file's value) gives exactly {@code value}. Then, under {@code lock} (the change lock), the
     * shortened list replaces {@code list} at the head of the change list a reload replays (unless a
     * reload changed the file's value meanwhile). Returns null, or why nothing was written.
     */
    private String snapshot(long gen, long index, List<DesiredState.Change> list, DesiredState value, SluiceConfig over, Object lock) {
        try {
            String why = "no shortening of the change list rebuilds the value in use";
            List<DesiredState.Change> found = null;
            for (java.util.Set<Character> families : List.of(ChangeCompaction.ALL, ChangeCompaction.RULES, ChangeCompaction.GROUPS, java.util.Set.<Character>of())) {
                List<DesiredState.Change> c = ChangeCompaction.compact(list, families);
                try {
                    if (DesiredState.replay(over, c).sameAs(value)) {
                        found = c;
                        break;
                    }
                } catch (ConfigException e) {
                    // this candidate does not apply: the next one
                }
            }
            if (found == null) return why;
            try {
                journal.snapshot(gen, index, found);
            } catch (RuntimeException e) {
                return "the snapshot could not be written: " + e.getMessage(); // the journal still holds every change
            }
            if (settings.retireJournal()) {
                try {
                    List<String> gone = journal.retire();
                    if (!gone.isEmpty()) {
                        retired += gone.size();
                        log.println("sluice: journal " + journal.dir() + ": retired " + String.join(", ", gone)
                                + " (older than the previous snapshot's files; api.retain-journal: retire)");
                    }
                } catch (RuntimeException e) {
                    log.println("sluice: journal " + journal.dir() + ": retiring old files failed (they stay): " + e.getMessage());
                }
            }
            synchronized (lock) {
                snapshotsWritten++;
                lastSnapshotGen = gen;
                int n = list.size();
                if (base == over && changes.size() >= n && (n == 0 || changes.subList(0, n - 1).equals(list.subList(0, n - 1)))) {
                    // the changes made since stay after it (the last one taken may have been replaced by a PUT of the same resource)
                    List<DesiredState.Change> after = new ArrayList<>(n > 0 && changes.get(n - 1) != list.get(n - 1)
                            ? changes.subList(n - 1, changes.size()) : changes.subList(n, changes.size()));
                    changes.clear();
                    changes.addAll(found);
                    changes.addAll(after);
                }
            }
            return null;
        } finally {
            synchronized (lock) {
                snapshotBusy = false;
                lock.notifyAll();
            }
        }
    }

    /** Waits until no snapshot is being written (tests). */
    void awaitSnapshots() throws InterruptedException {
        Object lock = running;
        synchronized (lock) {
            while (snapshotBusy) lock.wait(100);
        }
    }

    /** The length of the change list a reload replays (tests: it stays bounded). */
    int changeCount() {
        return changes.size();
    }

    /** Journal and snapshot files deleted by retirement since this start (tests). */
    int retiredFiles() {
        return retired;
    }

    int snapshotsWritten() {
        return snapshotsWritten;
    }

    /**
     * The journal's part of {@code GET /v1/health}: {@code api.snapshot-every}, the snapshot start-up used ({@code
     * started_from_snapshot}, 0 = the whole journal was replayed), the journal records replayed after it, the snapshots
     * this process has written and the generation of the newest of them ({@code last_snapshot}, 0 = none
     * yet), and the journal files retired since this start ({@code retired_files}). An operator sees that snapshots are being taken; the crash loop waits on it.
     */
    void journalHealth(com.fasterxml.jackson.databind.node.ObjectNode o) {
        o.put("snapshot_every", settings.snapshotEvery());
        o.put("started_from_snapshot", startSnapshotGen);
        o.put("replayed", replayedChanges);
        o.put("snapshots_written", snapshotsWritten());
        o.put("last_snapshot", lastSnapshotGen);
        o.put("retired_files", retired);
    }

    /** The generation of the snapshot start-up used (0: none), and the journal records replayed after it. */
    long startSnapshotGeneration() {
        return startSnapshotGen;
    }

    int replayedChanges() {
        return replayedChanges;
    }

    Journal journal() {
        return journal;
    }

    /** The {@code Server-Timing} names of {@link #change}'s phases, in the order of its {@code nanos}. */
    static final String[] PHASES = {"lock", "validate", "journal", "compile", "publish", "pickup"};

    /** Waits until every worker has run two duty cycles since {@code before}: each has read the new snapshot. */
    private void awaitWorkers(long[] before) throws ApiException {
        long deadline = System.nanoTime() + WORKER_PICKUP_TIMEOUT_MS * 1_000_000L;
        for (int i = 0; i < before.length; i++) {
            while (cycles.get(i).getAsLong() < before[i] + 2) {
                if (System.nanoTime() > deadline) {
                    throw new ApiException(503, "the change is journaled and published, but worker " + i + " has not taken it within "
                            + WORKER_PICKUP_TIMEOUT_MS + " ms");
                }
                Thread.onSpinWait();
                try {
                    Thread.sleep(0, 100_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ApiException(503, "interrupted while waiting for the workers");
                }
            }
        }
    }

    /** Changes that replace their whole resource (PUT is idempotent): the later of two in a row subsumes the earlier. */
    private static final java.util.Set<String> REPLACES = java.util.Set.of(DesiredState.PUT_GROUP, DesiredState.PUT_MEMBERSHIP, VmFirewall.PUT);

    /**
     * Adds {@code c} to the changes a reload replays over the file ({@link #over}). A whole-resource
     * PUT right after a PUT of the same resource replaces it instead of being added: replaying both
     * gives what the later one gives (PUT replaces the whole resource). Without this the list kept
     * every accepted change's parsed body: 1,000-rule group PUTs (~0.7 MB of JSON nodes each) filled
     * a 1 GB heap after about 1,500 changes (`./sluice bench api`). The journal keeps every record.
     */
    static void remember(List<DesiredState.Change> changes, DesiredState.Change c) {
        int last = changes.size() - 1;
        if (last >= 0 && REPLACES.contains(c.action())) {
            DesiredState.Change p = changes.get(last);
            if (p.action().equals(c.action()) && java.util.Objects.equals(p.project(), c.project())
                    && java.util.Objects.equals(p.name(), c.name())) {
                changes.set(last, c);
                return;
            }
        }
        changes.add(c);
    }

    // ---- RunningConfig.Layer: reloads of the file keep the API's changes ----------------------

    @Override
    public SluiceConfig over(SluiceConfig fromFile) throws ConfigException {
        // the value and descriptions are rebuilt from the new file plus every change, in order
        SluiceConfig b = io.sluice.dataplane.port.HotPlug.withSlots(fromFile, settings.hotplugPorts());
        DesiredState st = DesiredState.replay(b, changes);
        pending = st;
        pendingBase = b;
        return st.config();
    }

    @Override
    public void applied(long generation) {
        if (pending != null) {
            state = pending;
            base = pendingBase;
        }
        pending = null;
        journal.reload(generation);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (http != null) http.close();
        snapshotter.shutdown();
        try {
            snapshotter.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        journal.close();
        audit.close();
    }
}
