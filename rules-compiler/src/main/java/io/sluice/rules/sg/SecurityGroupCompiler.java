package io.sluice.rules.sg;

import io.sluice.rules.compile.CutTreeCompiler;
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

/**
 * Compiles every interface's security groups and keeps them current: {@link #apply} takes the
 * next configuration, recompiles only the (interface, direction, family) lists whose effective
 * rules changed, and within those only the changed rule partitions, then publishes each
 * changed interface's new {@link SecurityGroupTable} with one volatile write. One writer thread.
 */
public final class SecurityGroupCompiler {
    private final CutTreeCompiler compiler;
    private final Map<String, State> states = new HashMap<>();
    private final EffectiveRules.Cache expansions = new EffectiveRules.Cache();
    private int rebuiltPartitions;
    private int reusedPartitions;
    private int unchangedLists;

    private static final class State {
        final IncrementalClassifier[] inc = new IncrementalClassifier[4];
        final EffectiveRules[] last = new EffectiveRules[4];
        TableSlot<SecurityGroupTable> slot;
    }

    /** A compiler with default parameters. */
    public SecurityGroupCompiler() { this(new CutTreeCompiler()); }

    /** A compiler with the given cut-tree compiler. */
    public SecurityGroupCompiler(CutTreeCompiler compiler) { this.compiler = compiler; }

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
                    if (s.inc[i] == null) {
                        s.inc[i] = new IncrementalClassifier(compiler, e.rules());
                        rebuiltPartitions += s.inc[i].lastRebuilt();
                        changed = true;
                    } else if (e != s.last[i] && (!e.rules().sameRules(s.last[i].rules()) || !e.names().equals(s.last[i].names()))) {
                        s.inc[i].update(e.rules());
                        rebuiltPartitions += s.inc[i].lastRebuilt();
                        reusedPartitions += s.inc[i].lastReused();
                        changed = true;
                    } else {
                        unchangedLists++;
                    }
                    s.last[i] = e;
                    t[i] = s.inc[i].table();
                    names.add(e.names());
                }
            }
            if (s.slot == null) s.slot = new TableSlot<>(new SecurityGroupTable(t, names));
            else if (changed) s.slot.publish(new SecurityGroupTable(t, names));
        }
        expansions.retain(cfg);
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
    /** Direction/family lists that did not change in the last {@link #apply}. */
    public int lastUnchangedLists() { return unchangedLists; }
}
