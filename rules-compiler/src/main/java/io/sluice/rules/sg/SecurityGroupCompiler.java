package io.sluice.rules.sg;

import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.compile.DeferredClassifier;
import io.sluice.rules.compile.IncrementalClassifier;
import io.sluice.rules.model.CloudConfig;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.table.Classifier;
import io.sluice.rules.table.TableSlot;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * Compiles every interface's security groups and keeps them current: {@link #apply} takes the
 * next configuration, recompiles only the (interface, direction, family) lists whose effective
 * rules changed, and within those only the changed rule partitions, then publishes each
 * changed interface's new {@link SecurityGroupTable} with one volatile write. One writer thread.
 */
public final class SecurityGroupCompiler {
    /** Lists of at least this many rules (when created or when they grow past it) update their trees after the change took effect, with a folder. */
    public static final int DEFER_FROM = Integer.getInteger("sluice.rules.deferFrom", 1_000);

    private final CutTreeCompiler compiler;
    private final Executor folder;
    private final Runnable onFolded;
    private final int deferFrom;
    private final Map<String, State> states = new HashMap<>();
    private final EffectiveRules.Cache expansions = new EffectiveRules.Cache();
    private int rebuiltPartitions;
    private int reusedPartitions;
    private int unchangedLists;
    private int deferredLists;

    private static final class State {
        final IncrementalClassifier[] inc = new IncrementalClassifier[4];
        /** Large lists: trees updated by the folder (then {@code inc[i]} is null). */
        final DeferredClassifier[] dc = new DeferredClassifier[4];
        final EffectiveRules[] last = new EffectiveRules[4];
        List<List<String>> names;
        TableSlot<SecurityGroupTable> slot;

        Classifier table(int i) { return dc[i] != null ? dc[i].table() : inc[i].table(); }
    }

    /** A compiler with default parameters. */
    public SecurityGroupCompiler() { this(new CutTreeCompiler()); }

    /** A compiler with the given cut-tree compiler; every list's trees are updated inside {@link #apply}. */
    public SecurityGroupCompiler(CutTreeCompiler compiler) { this(compiler, null, null); }

    /**
     * A compiler whose lists of {@link #DEFER_FROM} rules or more take a change at once (the last
     * trees with the changed rules beside them, {@link DeferredClassifier}) and update their trees
     * on {@code folder}. {@code onFolded} is called (on the folder, under a lock of the list: it
     * must not block) when a list's plain trees are ready; the caller then calls {@link #refresh}
     * from its writer thread.
     */
    public SecurityGroupCompiler(CutTreeCompiler compiler, Executor folder, Runnable onFolded) {
        this(compiler, folder, onFolded, DEFER_FROM);
    }

    /** As above, deferring lists of {@code deferFrom} rules or more (tests: 0 defers every list). */
    public SecurityGroupCompiler(CutTreeCompiler compiler, Executor folder, Runnable onFolded, int deferFrom) {
        this.compiler = compiler;
        this.folder = folder;
        this.onFolded = onFolded;
        this.deferFrom = deferFrom;
    }

    private DeferredClassifier deferred(io.sluice.rules.compile.FlatRules rules) {
        return new DeferredClassifier(compiler, rules, folder, t -> {
            if (t.overlay() == null && onFolded != null) onFolded.run();
        });
    }

    /** Compiles one interface from scratch (no state kept). */
    public SecurityGroupTable compileFromScratch(CloudConfig cfg, String iface) {
        Classifier[] t = new Classifier[4];
        List<List<String>> names = new ArrayList<>();
        for (Direction d : Direction.values()) {
            for (IpFamily f : IpFamily.values()) {
                EffectiveRules e = EffectiveRules.of(cfg, iface, d, f);
                t[d.ordinal() * 2 + f.ordinal()] = compiler.compile(e.rules());
                names.add(e.names());
            }
        }
        return new SecurityGroupTable(t, names);
    }

    /** Moves to {@code cfg}: recompiles what changed and publishes changed interfaces. */
    public void apply(CloudConfig cfg) {
        rebuiltPartitions = 0;
        reusedPartitions = 0;
        unchangedLists = 0;
        deferredLists = 0;
        states.keySet().retainAll(cfg.interfaces().keySet());
        for (String iface : cfg.interfaces().keySet()) {
            State s = states.computeIfAbsent(iface, k -> new State());
            boolean changed = false;
            Classifier[] t = new Classifier[4];
            List<List<String>> names = new ArrayList<>();
            for (Direction d : Direction.values()) {
                for (IpFamily f : IpFamily.values()) {
                    int i = d.ordinal() * 2 + f.ordinal();
                    EffectiveRules e = expansions.of(cfg, iface, d, f);
                    boolean large = folder != null && e.rules().size() >= deferFrom;
                    if (s.inc[i] == null && s.dc[i] == null || large && s.dc[i] == null) { // new, or grown past DEFER_FROM
                        s.inc[i] = null;
                        if (large) s.dc[i] = deferred(e.rules());
                        else {
                            s.inc[i] = new IncrementalClassifier(compiler, e.rules());
                            rebuiltPartitions += s.inc[i].lastRebuilt();
                        }
                        changed = true;
                    } else if (e != s.last[i] && (!e.rules().sameRules(s.last[i].rules()) || !e.names().equals(s.last[i].names()))) {
                        if (s.dc[i] != null) {
                            s.dc[i].update(e.rules()); // its trees follow on the folder
                            deferredLists++;
                        } else {
                            s.inc[i].update(e.rules());
                            rebuiltPartitions += s.inc[i].lastRebuilt();
                            reusedPartitions += s.inc[i].lastReused();
                        }
                        changed = true;
                    } else {
                        unchangedLists++;
                    }
                    s.last[i] = e;
                    t[i] = s.table(i);
                    names.add(e.names());
                }
            }
            s.names = names;
            if (s.slot == null) s.slot = new TableSlot<>(new SecurityGroupTable(t, names));
            else if (changed) s.slot.publish(new SecurityGroupTable(t, names));
        }
        expansions.retain(cfg);
    }

    /**
     * Publishes the tables of large lists whose trees the folder updated since (same rules, same
     * answers, no overlay to check). The writer thread, like {@link #apply}.
     *
     * @return true if some interface got a new table
     */
    public boolean refresh() {
        boolean any = false;
        for (State s : states.values()) {
            if (s.slot == null) continue;
            SecurityGroupTable cur = s.slot.get();
            Classifier[] t = new Classifier[4];
            boolean changed = false;
            for (Direction d : Direction.values()) {
                for (IpFamily f : IpFamily.values()) {
                    int i = d.ordinal() * 2 + f.ordinal();
                    t[i] = s.table(i);
                    changed |= t[i] != cur.classifier(d, f);
                }
            }
            if (changed) {
                s.slot.publish(new SecurityGroupTable(t, s.names));
                any = true;
            }
        }
        return any;
    }

    /** Waits until every large list's trees hold its latest rules (tests, benchmarks); {@link #refresh} then publishes them. */
    public void settle() {
        for (State s : states.values()) for (DeferredClassifier c : s.dc) if (c != null) c.settle();
    }

    /**
     * The expansion of one list of {@code cfg} ({@link EffectiveRules#of}), from this compiler's
     * cache: the same object as the last call's when nothing it depends on changed, so a caller
     * that validates before {@link #apply} does not expand the lists twice.
     */
    public EffectiveRules effective(CloudConfig cfg, String iface, Direction d, IpFamily f) {
        return expansions.of(cfg, iface, d, f);
    }

    /** The published table slot of an interface (readers call {@code get()} per burst). */
    public TableSlot<SecurityGroupTable> slot(String iface) {
        State s = states.get(iface);
        return s == null ? null : s.slot;
    }

    /** Rule partitions rebuilt by the last {@link #apply}. */
    public int lastRebuiltPartitions() { return rebuiltPartitions; }
    /** Rule partitions reused by the last {@link #apply}. */
    public int lastReusedPartitions() { return reusedPartitions; }
    /** Large lists whose change the last {@link #apply} handed to the folder (their partitions are not counted as rebuilt). */
    public int lastDeferredLists() { return deferredLists; }
    /** Direction/family lists that did not change in the last {@link #apply}. */
    public int lastUnchangedLists() { return unchangedLists; }
}
