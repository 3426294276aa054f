package io.sluice.rules.compile;

import io.sluice.rules.table.Classifier;
import io.sluice.rules.table.Overlay;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * An {@link IncrementalClassifier} whose tree updates run after the change has taken effect.
 * {@link #update} publishes, in time proportional to the list's length and independent of what the
 * change does to the trees, a table that answers for the new list exactly: the last trees with the
 * changed rules checked beside them ({@link Overlay}). The tree update itself (the incremental
 * update, one list version after the other, as exact as ever) runs on {@code folder}; when it
 * catches up with the latest list it publishes the plain table, which is the compile from scratch
 * ({@link #settle}, then {@link #compacted}: byte-identical).
 *
 * <p>Described edits: boxes changed in place, one rule inserted, one rule removed, actions or ids
 * changed. Anything else (a new shape, several inserts) and an overlay that would exceed
 * {@link #MAX_DELTA} rules make {@code update} wait for the folds (and then for the tree update
 * of that list): the overlay's cost per lookup grows with its rules, so it stays small.
 *
 * <p>One writer thread calls {@link #update}; the folds run one at a time on {@code folder}; the
 * publish callback is called with every new table in order, under this object's lock (a writer's
 * lock: readers use the published tables, which are immutable and never lock).
 */
public final class DeferredClassifier {
    /** Most changed and inserted rules an overlay holds; an update that would pass it waits for the folds. */
    public static final int MAX_DELTA = Integer.getInteger("sluice.rules.maxDelta", 64);
    /** Published intermediate tables while the folds lag behind: at most this many list versions between the trees and the latest list are replayed for one. */
    private static final int REPLAY_MAX = 8;
    /** More list versions than this waiting: the next fold goes straight to the latest. */
    private static final int JUMP_AT = Integer.getInteger("sluice.rules.foldJumpAt", 32);

    private static final int BOXES = 0, INSERT = 1, REMOVE = 2;

    /** How a list differs from the one before it: {@code BOXES} at positions {@code at} (none: actions or ids only), or one rule inserted or removed at {@code at[0]}. */
    private record Edit(int kind, int[] at) {
        /** Per current position, the base priority (-1: changed or inserted), after this edit. */
        int[] apply(int[] map) {
            switch (kind) {
                case BOXES -> {
                    if (at.length == 0) return map;
                    int[] m = map.clone();
                    for (int i : at) m[i] = -1;
                    return m;
                }
                case INSERT -> {
                    int i = at[0];
                    int[] m = new int[map.length + 1];
                    System.arraycopy(map, 0, m, 0, i);
                    m[i] = -1;
                    System.arraycopy(map, i, m, i + 1, map.length - i);
                    return m;
                }
                default -> {
                    int i = at[0];
                    int[] m = new int[map.length - 1];
                    System.arraycopy(map, 0, m, 0, i);
                    System.arraycopy(map, i + 1, m, i, map.length - i - 1);
                    return m;
                }
            }
        }
    }

    /** A list version not yet folded into the trees; {@code edit} null: not described (a barrier). */
    private record Step(long version, FlatRules rules, Edit edit) {}

    private final CutTreeCompiler compiler;
    /** The folds' (one at a time); the writer's only while none runs (a restart after a failed fold replaces it). */
    private IncrementalClassifier inc;
    /** Tests: called on the folder with each list before it is folded (a throw there is a failed fold). */
    java.util.function.Consumer<FlatRules> beforeFold;
    private final Executor folder;
    private final Consumer<Classifier> onPublish;
    private final Object lock = new Object();
    // guarded by lock
    private FlatRules latest;
    private long version;
    /** The rules the trees of {@link #folded} hold. */
    private FlatRules base;
    /** The list version {@link #base} is (0: the initial list, then one per update). */
    private long baseVersion;
    private Classifier folded;
    /** Per position of {@link #latest}: its rule's priority in {@link #base}, -1 if changed or inserted since; null while a barrier is pending. */
    private int[] curToBase;
    private final ArrayDeque<Step> pending = new ArrayDeque<>();
    private boolean folding;
    private int writersWaiting;
    private Classifier current;
    private RuntimeException failure;
    private long waits, folds, overlaysPublished, restarts;

    /**
     * Compiles {@code initial} (on the calling thread) and from then on folds on {@code folder}.
     *
     * @param onPublish called with every new table, in order (null: none; read {@link #table})
     */
    public DeferredClassifier(CutTreeCompiler compiler, FlatRules initial, Executor folder, Consumer<Classifier> onPublish) {
        this.compiler = compiler;
        this.folder = folder;
        this.onPublish = onPublish;
        startFrom(initial);
    }

    /** A single daemon thread for folds, named {@code name}. */
    public static ExecutorService folderThread(String name) {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Moves to {@code next} and returns a table that answers for it (published before this
     * returns). Waits for the folds only when the change is not a described edit or the overlay
     * would pass {@link #MAX_DELTA} rules.
     *
     * After a failed fold (its list's table stays published: it answers for that list exactly,
     * with the overlay), the next update compiles {@code next} from scratch on the calling thread
     * and starts over from it.
     *
     * @throws RuntimeException what compiling {@code next} from scratch throws after a failed fold (nothing changed then)
     */
    public Classifier update(FlatRules next) {
        CutTreeCompiler.checkShape(next);
        synchronized (lock) {
            if (failure != null) return restart(next);
            Edit e = curToBase == null ? null : edit(latest, next);
            if (e != null) {
                int[] map = e.apply(curToBase);
                int delta = deltaOf(map);
                while (delta > MAX_DELTA && !pending.isEmpty()) { // let the folds catch up first
                    waits++;
                    await();
                    if (failure != null) return restart(next);
                    map = e.apply(curToBase); // the trees moved on: the same edit over the new base
                    delta = deltaOf(map);
                }
                if (delta <= MAX_DELTA) {
                    latest = next;
                    curToBase = map;
                    pending.addLast(new Step(++version, next, e));
                    publish(overlaid());
                    kick();
                    return current;
                }
            }
            // not described, or too many changed rules even over the latest trees: fold, and wait for it
            latest = next;
            curToBase = null;
            long v = ++version;
            pending.addLast(new Step(v, next, null));
            kick();
            while (!pending.isEmpty() && pending.peekFirst().version <= v) {
                waits++;
                await();
                if (failure != null) return restart(next);
            }
            return current;
        }
    }

    /** Trees compiled from scratch for {@code list}, nothing beside them (a throw changes nothing). */
    private void startFrom(FlatRules list) {
        IncrementalClassifier fresh = new IncrementalClassifier(compiler, list);
        inc = fresh;
        latest = base = list;
        folded = current = fresh.table();
        curToBase = identity(list.size());
    }

    /** After a failed fold: {@code next} compiled from scratch, the folds' state dropped, its table published. */
    private Classifier restart(FlatRules next) {
        startFrom(next); // throws: the last table stays, the failure too
        failure = null;
        pending.clear();
        baseVersion = ++version;
        restarts++;
        publish(current);
        return current;
    }

    /** Waits until the trees hold the latest list and returns its plain table (no overlay). */
    public Classifier settle() {
        synchronized (lock) {
            while (folding || !pending.isEmpty()) await();
            check();
            return current;
        }
    }

    /** The latest table published. */
    public Classifier table() {
        synchronized (lock) { return current; }
    }

    /** After {@link #settle}: the trees laid out again, byte-identical to a compile from scratch of the latest list. */
    public Classifier compacted() {
        synchronized (lock) {
            settle();
            return inc.compacted();
        }
    }

    /** Updates that waited for folds, folds done, overlay tables published, restarts after a failed fold (since construction). */
    public long[] counts() {
        synchronized (lock) { return new long[] {waits, folds, overlaysPublished, restarts}; }
    }

    /** The list version the published trees hold: 0 for the initial list, n after the n-th {@link #update} was folded. */
    public long treesVersion() {
        synchronized (lock) { return baseVersion; }
    }

    private void check() {
        if (failure != null) throw new IllegalStateException("the tree update of an earlier list failed: " + failure.getMessage(), failure);
    }

    private void await() {
        writersWaiting++;
        try {
            lock.wait();
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the rule tables' update", ie);
        } finally {
            writersWaiting--;
        }
    }

    private void kick() {
        if (folding) return;
        folding = true;
        folder.execute(this::drain);
    }

    private void publish(Classifier t) {
        current = t;
        if (onPublish != null) onPublish.accept(t);
    }

    /** Folds the pending list versions one after the other into the trees; a failure is kept and reported to the writer. */
    private void drain() {
        try {
            drainSteps();
        } catch (RuntimeException | Error ex) {
            synchronized (lock) {
                failure = ex instanceof RuntimeException r ? r : new IllegalStateException(ex);
                pending.clear();
                folding = false;
                lock.notifyAll();
            }
            if (ex instanceof Error err) throw err;
        }
    }

    private void drainSteps() {
        while (true) {
            Step[] all;
            int j;
            boolean replayable;
            synchronized (lock) {
                if (pending.isEmpty() || failure != null) {
                    folding = false;
                    lock.notifyAll();
                    return;
                }
                all = pending.toArray(new Step[0]);
                // far behind: fold straight to the latest version (one update of the changed partitions)
                // instead of one version after the other
                j = all.length > JUMP_AT ? all.length - 1 : 0;
                replayable = all.length - 1 - j <= REPLAY_MAX || writersWaiting > 0;
            }
            Step s = all[j];
            if (beforeFold != null) beforeFold.accept(s.rules);
            Classifier t = inc.update(s.rules);
            // the versions after this one, over these trees (outside the lock; the writer may add more meanwhile)
            int[] map = replayable ? replay(identity(s.rules.size()), all, j + 1, all.length) : null;
            synchronized (lock) {
                for (int i = 0; i <= j; i++) pending.removeFirst();
                folds++;
                if (pending.isEmpty()) { // caught up: the plain table
                    base = s.rules;
                    baseVersion = s.version;
                    folded = t;
                    curToBase = identity(s.rules.size());
                    publish(t);
                } else if (map != null) {
                    Iterator<Step> it = pending.iterator();
                    for (int i = j + 1; i < all.length; i++) it.next();
                    while (it.hasNext() && map != null) {
                        Step n = it.next();
                        map = n.edit == null ? null : n.edit.apply(map);
                    }
                    if (map != null) { // these trees and a smaller overlay
                        base = s.rules;
                        baseVersion = s.version;
                        folded = t;
                        curToBase = map;
                        publish(overlaid());
                    }
                }
                lock.notifyAll();
            }
        }
    }

    private static int[] replay(int[] map, Step[] steps, int from, int to) {
        for (int i = from; i < to && map != null; i++) map = steps[i].edit == null ? null : steps[i].edit.apply(map);
        return map;
    }

    /** The trees of {@link #folded} with the rules changed since checked beside them, answering for {@link #latest}. */
    private Classifier overlaid() {
        int[] map = curToBase;
        int n = map.length, dims = latest.dims();
        int[] posOf = new int[base.size()];
        Arrays.fill(posOf, -1);
        int delta = 0;
        for (int i = 0; i < n; i++) {
            if (map[i] >= 0) posOf[map[i]] = i;
            else delta++;
        }
        if (delta == 0 && n == base.size()) { // actions or ids only: the trees as they are
            overlaysPublished++;
            return folded.withOverlay(null, latest.actionArray(), latest.idArray()); // a list's arrays are never written after build
        }
        int[] dp = new int[delta], dlo = new int[delta * dims], dhi = new int[delta * dims];
        int[] lo = latest.loArray(), hi = latest.hiArray();
        for (int i = 0, j = 0; i < n; i++) {
            if (map[i] >= 0) continue;
            dp[j] = i;
            System.arraycopy(lo, i * dims, dlo, j * dims, dims);
            System.arraycopy(hi, i * dims, dhi, j * dims, dims);
            j++;
        }
        overlaysPublished++;
        return folded.withOverlay(new Overlay(dims, posOf, dp, dlo, dhi, base.loArray(), base.hiArray()),
                latest.actionArray(), latest.idArray());
    }

    private static int deltaOf(int[] map) {
        int d = 0;
        for (int v : map) if (v < 0) d++;
        return d;
    }

    private static int[] identity(int n) {
        int[] m = new int[n];
        for (int i = 0; i < n; i++) m[i] = i;
        return m;
    }

    /** How {@code b} differs from {@code a}, or null if not one described edit. */
    static Edit edit(FlatRules a, FlatRules b) {
        if (a == null || !IncrementalClassifier.sameShape(a, b)) return null;
        int dims = a.dims();
        if (a.size() == b.size()) {
            int[] changed = FlatRules.changedBoxes(a, b, MAX_DELTA);
            return changed.length > MAX_DELTA ? null : new Edit(BOXES, changed);
        }
        if (Math.abs(a.size() - b.size()) != 1) return null;
        FlatRules small = a.size() < b.size() ? a : b, big = small == a ? b : a;
        int[] sl = small.loArray(), sh = small.hiArray(), gl = big.loArray(), gh = big.hiArray();
        int ns = small.size() * dims, ng = big.size() * dims;
        int x = Arrays.mismatch(sl, 0, ns, gl, 0, ns), y = Arrays.mismatch(sh, 0, ns, gh, 0, ns);
        int m = x < 0 ? y : y < 0 ? x : Math.min(x, y);
        int r = m < 0 ? small.size() : m / dims; // the first rule that differs: the one inserted or removed
        int from = r * dims;
        if (!Arrays.equals(sl, from, ns, gl, from + dims, ng) || !Arrays.equals(sh, from, ns, gh, from + dims, ng)) return null;
        return new Edit(big == b ? INSERT : REMOVE, new int[] {r});
    }
}
