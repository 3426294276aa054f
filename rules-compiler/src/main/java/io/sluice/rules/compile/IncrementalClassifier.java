package io.sluice.rules.compile;

import io.sluice.rules.table.Classifier;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Keeps the compiled trees of the last rule list together with the compiler's record of every
 * node ({@link BNode}: its rules, region, cut and, for large nodes, the statistics the cut was
 * chosen from), and moves to the next rule list with as little work as the change allows:
 * <ul>
 * <li>only actions or ids changed: the trees are kept;</li>
 * <li>one rule's box changed (same positions): only the nodes whose rule list changes are
 * redone, each deciding its cut exactly as a compile from scratch would (large nodes from kept
 * sorted keys and span sums, in O(log n + n) instead of a sort); a node whose decision changes,
 * or a small subtree, is rebuilt from scratch. New and changed nodes are appended to the arrays
 * the published table uses, past anything a reader of the previous table can reach, and the
 * path above them is copied (a persistent tree), so the previous table stays intact;</li>
 * <li>anything else (rules inserted or removed, several boxes changed): partitions whose rules
 * changed are rebuilt, the others laid out again with renamed priorities.</li>
 * </ul>
 * The trees are the ones a compile from scratch gives; {@link #compacted()} lays them out
 * again in the compiler's order, byte-identical to {@link CutTreeCompiler#compile} (tested).
 * Old copies accumulate at the end of the arrays until they exceed the live part, then the
 * next update lays everything out again. Not thread-safe: one writer (the control thread)
 * owns it; readers use the published {@link Classifier}s.
 */
public final class IncrementalClassifier {
    /** Subtrees this small (ints) are rebuilt from scratch instead of updated node by node. */
    private static final int SMALL_SUBTREE = 256;
    /** Garbage allowed before a relayout, as a multiple of the live ints (plus a fixed allowance). */
    private static final int GARBAGE_FACTOR = Integer.getInteger("sluice.rules.garbageFactor", 3);
    private static final int GARBAGE_ALLOWANCE = 1 << 20;

    private final CutTreeCompiler compiler;
    private FlatRules rules;
    private IntList nodes;
    private IntList leaves;
    private Tree[] trees = new Tree[0];
    /** The current rules' bounds, unsigned ({@link CutTreeCompiler.Build#bounds}), patched by one-rule changes. */
    private long[][] bounds;
    private Classifier table;
    private int rebuilt;
    private int reused;
    private boolean lastWasLocal;
    /** What the last update did (counted as it goes, for the latency breakdown). */
    private final Cost cost = new Cost();

    /**
     * What the last {@link #update} did, for explaining its latency (bench breakdown; not read by lookups).
     * {@code compacted}: the garbage threshold laid everything out again; {@code relaidOut}: the
     * general path (several rules, inserts); {@code flipRules}: the most rules of a large node
     * (> 256 ints) rebuilt from scratch because its cut decision changed (0 if none);
     * {@code scratchNodes}/{@code scratchRules}: subtrees built from scratch and their rule
     * lists' summed length; {@code appendedInts}: node and leaf ints appended; {@code grown}:
     * a backing array was reallocated (copied).
     */
    public static final class Cost {
        public boolean compacted, relaidOut, grown;
        public int flipRules, scratchNodes;
        /** Child slots whose list the rule changed, over all visited nodes. */
        public long slotsVisited;
        /** Why the largest flip happened: 'p' covering prefix changed, 'd' cut dimension, 'b' cut bits, 'n' no progress, 's' statistics threshold. */
        public char flipWhy;
        /** Subtrees of a flipped node reused in its rebuild. */
        public int reusedSubtrees;
        public long scratchRules, appendedInts;

        void clear() {
            compacted = relaidOut = grown = false;
            flipRules = scratchNodes = 0;
            slotsVisited = 0;
            reusedSubtrees = 0;
            flipWhy = 0;
            scratchRules = appendedInts = 0;
        }
    }

    /** One partition's tree. */
    private static final class Tree {
        int[] members;
        BNode root;
        /** The root node's own array, as the table holds it. */
        int[] top;
        boolean budgetHit;
        long budget;
        int emptyLeaf;
        int emptyRef;
        /** Its leaves by content (shared as the compiler shares them). */
        CutTreeCompiler.LeafIndex leafIndex;

        int liveInts() { return 1 + Classifier.STUB_INTS + root.size; }
    }

    /** Starts from {@code initial}. */
    public IncrementalClassifier(CutTreeCompiler compiler, FlatRules initial) {
        this.compiler = compiler;
        update(initial);
    }

    /** Moves to {@code next}; returns the new table. */
    public Classifier update(FlatRules next) {
        CutTreeCompiler.checkShape(next);
        rebuilt = 0;
        reused = 0;
        lastWasLocal = false;
        cost.clear();
        if (rules == null || !sameShape(rules, next) || rules.size() != next.size()) {
            relayout(next, true);
            return table;
        }
        int[] boxes = FlatRules.changedBoxes(rules, next, 1);
        int count = boxes.length, changed = count == 0 ? -1 : boxes[0];
        if (count > 1 || count == 1 && !oneRuleApplies(rules, next, changed)) {
            cost.relaidOut = true;
            relayout(next, true);
            return table;
        }
        FlatRules prev = rules;
        rules = next;
        if (count == 1 && !oneRule(prev, next, changed)) {
            cost.relaidOut = true;
            relayout(next, false); // a tree outgrew its memory budget: compile everything as from scratch
            return table;
        }
        lastWasLocal = true;
        reused = 0;
        for (Tree t : trees) if (t != null) reused++;
        reused -= rebuilt;
        long live = 0;
        for (Tree t : trees) if (t != null) live += t.liveInts();
        if (nodes.size() + leaves.size() > GARBAGE_FACTOR * live + GARBAGE_ALLOWANCE) {
            relayout(next, true); // compaction: reuses every tree
            cost.compacted = true;
            reused = rebuilt = 0;
            lastWasLocal = false;
            return table;
        }
        publish();
        return table;
    }

    /** The current table. */
    public Classifier table() { return table; }
    /** Partitions rebuilt (or, for a one-rule change, updated) by the last update. */
    public int lastRebuilt() { return rebuilt; }
    /** Partitions reused unchanged by the last update. */
    public int lastReused() { return reused; }
    /** The trees' root records, in partition order (tests walk them). */
    BNode[] roots() {
        return Arrays.stream(trees).filter(t -> t != null).map(t -> t.root).toArray(BNode[]::new);
    }

    /** The current leaf array (tests). */
    int[] leafArray() { return leaves.array(); }

    /** What the last update did (the same object, overwritten by the next update). */
    public Cost lastCost() { return cost; }
    /** True if the last update changed only the nodes one rule touches. */
    public boolean lastWasLocal() { return lastWasLocal; }

    /** The current trees laid out again in the compiler's order: byte-identical to a compile from scratch. */
    public Classifier compacted() {
        IntList n = nodes, l = leaves;
        Tree[] ts = trees;
        // lay out into fresh arrays without disturbing this instance's state
        IntList nn = new IntList(n.size()), nl = new IntList(l.size());
        int[] order = treeOrder(ts);
        int[][] tops = new int[order.length][];
        int[] minPrio = new int[order.length], rootDim = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            Tree t = ts[order[i]];
            tops[i] = emitTree(rules.dims(), t, nn, nl, leaves.array(), null, null, true);
            rootDim[i] = t.root.kind == BNode.INNER ? t.root.dim : 0;
            minPrio[i] = t.members[0];
        }
        return new Classifier(rules.dims(), nn.toArray(), nl.toArray(), tops, rootDim, minPrio, actions(rules), ids(rules));
    }

    // ---------------------------------------------------------------- one-rule change

    /** True if the box change of rule {@code r} can be applied node by node (its trees exist, stay non-empty, never hit the budget). */
    private boolean oneRuleApplies(FlatRules prev, FlatRules next, int r) {
        int po = compiler.partitionOf(prev, r), pn = compiler.partitionOf(next, r);
        for (int c : new int[] {po, pn}) {
            Tree t = c < trees.length ? trees[c] : null;
            if (t == null || t.budgetHit || po != pn && c == po && t.members.length == 1) return false;
        }
        return true;
    }

    /** Applies the box change of rule {@code r} node by node; false if a tree outgrew its budget (the caller then compiles afresh). */
    private boolean oneRule(FlatRules prev, FlatRules next, int r) {
        int po = compiler.partitionOf(prev, r), pn = compiler.partitionOf(next, r);
        int dims = next.dims();
        long[] oldBox = box(prev, r), newBox = box(next, r);
        for (int d = 0; d < dims; d++) { bounds[0][r * dims + d] = newBox[d]; bounds[1][r * dims + d] = newBox[dims + d]; }
        int[] na = nodes.array(), la = leaves.array();
        long before = nodes.size() + leaves.size();
        try {
            return oneRuleTrees(prev, next, r, po, pn, oldBox, newBox);
        } finally {
            cost.appendedInts = nodes.size() + leaves.size() - before;
            cost.grown = na != nodes.array() || la != leaves.array();
        }
    }

    private boolean oneRuleTrees(FlatRules prev, FlatRules next, int r, int po, int pn, long[] oldBox, long[] newBox) {
        int dims = next.dims();
        for (int c : po == pn ? new int[] {po} : new int[] {po, pn}) {
            Tree t = trees[c];
            boolean inOld = c == po, inNew = c == pn;
            int[] nm = inOld && !inNew ? without(t.members, r) : !inOld && inNew ? with(t.members, r) : t.members;
            CutTreeCompiler.Build b = new CutTreeCompiler.Build(next, bounds, compiler.params(), nodes, leaves, t.emptyLeaf, t.emptyRef, t.leafIndex);
            Change ch = new Change(r, inOld ? oldBox : null, inNew ? newBox : null, dims);
            BNode root = update(b, t.root, nm, ch);
            if (1 + Classifier.STUB_INTS + root.size > t.budget) return false; // a compile from scratch would have hit the memory budget
            t.root = root;
            if (root.kind != BNode.INNER) t.top = CutTreeCompiler.Build.leafTop(root.ref);
            else if (b.top.size() > 0) t.top = b.top.toArray(); // the root was redone: its fresh array
            t.members = nm;
            t.emptyRef = b.emptyRef;
            rebuilt++;
        }
        return true;
    }

    /** Rule {@code r}'s box before (null if it was not in this tree) and after (null if it left). */
    private record Change(int r, long[] oldBox, long[] newBox, int dims) {
        long key(long[] box, int d, long[] rlo, long[] rhi) {
            long a = Math.max(box[d], rlo[d]) - rlo[d];
            long b = Math.min(box[dims + d], rhi[d]) - rlo[d];
            return a * 0x9E3779B97F4A7C15L ^ b;
        }
    }

    /** The node for rule list {@code in} (which differs from {@code n.in} only by the changed rule) as a compile from scratch makes it. */
    private BNode update(CutTreeCompiler.Build b, BNode n, int[] in, Change ch) {
        int live = b.live(in, in.length, n.rlo, n.rhi);
        int ro = indexOf(n.in, ch.r), rn = indexOf(in, ch.r);
        boolean effOld = ro >= 0 && ro < n.live, effNew = rn >= 0 && rn < live;
        if (!samePrefixButR(n.in, n.live, in, live, ch.r)) return n.size > SMALL_SUBTREE ? flip(b, in, n, ch.r, 'p') : scratch(b, in, n);
        if (!effOld && !effNew) { // the rule cannot win anywhere in this region, before or after
            n.in = in;
            return n;
        }
        if (n.kind != BNode.INNER || n.size <= SMALL_SUBTREE || live <= b.p.binth()) return scratch(b, in, n);
        int dim, bits;
        if (n.keys != null && live >= CutTreeCompiler.Build.STATS_MIN) {
            for (int d = 0; d < b.dims; d++) {
                if (n.keys[d] == null) continue;
                if (effOld) n.distinct[d] += removeKey(n, d, ch.key(ch.oldBox, d, n.rlo, n.rhi));
                if (effNew) n.distinct[d] += insertKey(n, d, ch.key(ch.newBox, d, n.rlo, n.rhi));
            }
            dim = b.chooseDimFromStats(n);
            if (dim != n.dim) return flip(b, in, n, ch.r, 'd');
            int widthBits = widthBits(n, dim);
            if (effOld) b.addSpans(n.spanSum, ch.oldBox[dim], ch.oldBox[ch.dims + dim], n.rlo[dim], n.rhi[dim], widthBits, -1);
            if (effNew) b.addSpans(n.spanSum, ch.newBox[dim], ch.newBox[ch.dims + dim], n.rlo[dim], n.rhi[dim], widthBits, 1);
            bits = b.cutBitsFromSums(n.spanSum, live, widthBits);
        } else if (live >= CutTreeCompiler.Build.STATS_MIN) {
            return flip(b, in, n, ch.r, 's'); // grew past the statistics threshold: record it afresh
        } else {
            n.keys = null;
            n.distinct = null;
            n.spanSum = null;
            dim = b.chooseDim(in, live, n.rlo, n.rhi, null, null);
            if (dim != n.dim) return flip(b, in, n, ch.r, 'd');
            bits = b.chooseCutBits(in, live, dim, n.rlo[dim], n.rhi[dim], widthBits(n, dim));
        }
        if (bits != n.bits) return flip(b, in, n, ch.r, 'b');
        int np = 1 << bits, shift = n.shift;
        // children whose list changes: the slots the rule's range covered before and covers now
        int ao = 1, bo = 0, an = 1, bn = 0;
        if (effOld) { ao = slot(ch.oldBox[dim], n, dim); bo = slot(ch.oldBox[ch.dims + dim], n, dim); }
        if (effNew) { an = slot(ch.newBox[dim], n, dim); bn = slot(ch.newBox[ch.dims + dim], n, dim); }
        int from = Math.min(effOld ? ao : an, effNew ? an : ao), to = Math.max(effOld ? bo : bn, effNew ? bn : bo);
        int[][] lists = new int[to - from + 1][];
        cost.slotsVisited += to - from + 1;
        for (int c = from; c <= to; c++) {
            int[] l = n.kids[c].kind == BNode.EMPTY ? EMPTY : n.kids[c].in;
            boolean wasIn = c >= ao && c <= bo, isIn = c >= an && c <= bn;
            if (wasIn && !isIn) l = without(l, ch.r);
            else if (!wasIn && isIn) l = with(l, ch.r);
            lists[c - from] = l;
        }
        if (n.depth > CutTreeCompiler.Build.NO_PROGRESS_DEPTH) {
            int largest = 0;
            for (int c = 0; c < np; c++) {
                int len = c >= from && c <= to ? lists[c - from].length : n.kids[c].kind == BNode.EMPTY ? 0 : n.kids[c].in.length;
                largest = Math.max(largest, len);
            }
            if (largest == live) return flip(b, in, n, ch.r, 'n'); // no child got smaller: a compile from scratch makes a leaf here
        }
        BNode[] kids = n.kids.clone();
        // Sharing as a compile from scratch does it: children whose lists are equal and all cover the
        // cut dimension share one subtree. Unchanged children keep their sharing; a changed child
        // joins an equal list among the unchanged (index built on first need) or the changed ones.
        Map<CutTreeCompiler.ChildKey, BNode> shared = null;
        long[] clo = n.rlo.clone(), chi = n.rhi.clone();
        int delta = 0;
        for (int c = from; c <= to; c++) {
            int[] l = lists[c - from];
            BNode old = n.kids[c];
            BNode k;
            if (l.length == 0) {
                k = BNode.EMPTY_NODE;
            } else {
                clo[dim] = n.rlo[dim] + ((long) c << shift);
                chi[dim] = clo[dim] + (1L << shift) - 1;
                CutTreeCompiler.ChildKey key = null;
                BNode s = null;
                if (b.allCover(l, dim, clo, chi)) {
                    if (shared == null) shared = unchangedShared(b, n, from, to, dim);
                    key = new CutTreeCompiler.ChildKey(l);
                    s = shared.get(key);
                }
                if (s != null) k = s;
                // a shared child (identical subtrees) records the region of its first slot: build the others afresh
                else if (old.kind == BNode.EMPTY || old.users > 1 || old.rlo[dim] != clo[dim]) k = scratch(b, l, clo, chi, n.depth + 1);
                else {
                    int before = old.size;
                    k = update(b, old, l, ch);
                    if (k == old) delta += k.size - before;
                }
                if (key != null && s == null) shared.put(key, k);
            }
            if (k != old) {
                if (old.kind != BNode.EMPTY && --old.users == 0) delta -= old.size;
                if (k.kind != BNode.EMPTY && k.users++ == 0) delta += k.size;
                kids[c] = k;
            }
        }
        int[] refs = new int[np];
        int empty = 0;
        for (int c = 0; c < np; c++) {
            BNode k = kids[c];
            if (k.kind == BNode.EMPTY && empty == 0) empty = emptyRef(b);
            refs[c] = k.kind == BNode.EMPTY ? empty : k.ref;
        }
        int at = CutTreeCompiler.Build.writeNode(n.depth == 0 ? b.top : nodes, shift, refs, empty, n.rlo[dim]);
        delta += CutTreeCompiler.Build.ownInts(kids) - CutTreeCompiler.Build.ownInts(n.kids); // the stored span of children may have changed
        n.in = in;
        n.live = live;
        n.kids = kids;
        n.ref = (at << 4) | dim;
        n.size += delta;
        return n;
    }

    /** Unchanged children (outside slots {@code from..to}) whose lists all cover the cut dimension, by list. */
    private static Map<CutTreeCompiler.ChildKey, BNode> unchangedShared(CutTreeCompiler.Build b, BNode n, int from, int to, int dim) {
        Map<CutTreeCompiler.ChildKey, BNode> m = new HashMap<>();
        long[] clo = n.rlo.clone(), chi = n.rhi.clone();
        for (int c = 0; c < n.kids.length; c++) {
            BNode k = n.kids[c];
            if (c >= from && c <= to || k.kind == BNode.EMPTY) continue;
            clo[dim] = n.rlo[dim] + ((long) c << n.shift);
            chi[dim] = clo[dim] + (1L << n.shift) - 1;
            if (b.allCover(k.in, dim, clo, chi)) m.putIfAbsent(new CutTreeCompiler.ChildKey(k.in), k);
        }
        return m;
    }

    private static final int[] EMPTY = new int[0];

    private static int emptyRef(CutTreeCompiler.Build b) {
        if (b.emptyRef == 0) b.emptyRef = b.stub(b.emptyLeaf);
        return b.emptyRef;
    }

    private BNode scratch(CutTreeCompiler.Build b, int[] in, BNode region) {
        return scratch(b, in, region.rlo, region.rhi, region.depth);
    }

    /** A large node whose cut decision changed: rebuilt from scratch (counted as a flip). */
    private BNode flip(CutTreeCompiler.Build b, int[] in, BNode n, int r, char why) {
        if (in.length > cost.flipRules) { cost.flipRules = in.length; cost.flipWhy = why; }
        if (n.kind != BNode.INNER) return scratch(b, in, n);
        // subtrees of the old node whose region, depth and rules (without the changed one) a
        // compile from scratch meets again are the same subtrees: reuse them, arrays and records
        b.reuseFrom = n;
        b.reuseSkip = r;
        int before = b.reusedSubtrees;
        try {
            return scratch(b, in, n);
        } finally {
            cost.reusedSubtrees += b.reusedSubtrees - before;
            b.reuseFrom = null;
            b.reuseSkip = -1;
        }
    }

    private BNode scratch(CutTreeCompiler.Build b, int[] in, long[] rlo, long[] rhi, int depth) {
        cost.scratchNodes++;
        cost.scratchRules += in.length;
        b.node(in, in.length, rlo.clone(), rhi.clone(), depth);
        return b.made;
    }

    private static int widthBits(BNode n, int dim) { return 63 - Long.numberOfLeadingZeros(n.rhi[dim] - n.rlo[dim] + 1); }

    private static int slot(long v, BNode n, int dim) {
        long c = Math.min(Math.max(v, n.rlo[dim]), n.rhi[dim]) - n.rlo[dim];
        return (int) (c >>> n.shift);
    }

    /** Removes one occurrence of {@code key} from the node's sorted keys of {@code d}; returns the change of the distinct count. */
    private static int removeKey(BNode n, int d, long key) {
        long[] k = n.keys[d];
        int i = Arrays.binarySearch(k, key);
        if (i < 0) throw new IllegalStateException("key not recorded");
        boolean alone = (i == 0 || k[i - 1] != key) && (i == k.length - 1 || k[i + 1] != key);
        long[] out = new long[k.length - 1];
        System.arraycopy(k, 0, out, 0, i);
        System.arraycopy(k, i + 1, out, i, k.length - i - 1);
        n.keys[d] = out;
        return alone ? -1 : 0;
    }

    private static int insertKey(BNode n, int d, long key) {
        long[] k = n.keys[d];
        int i = Arrays.binarySearch(k, key);
        boolean fresh = i < 0;
        if (i < 0) i = -i - 1;
        long[] out = new long[k.length + 1];
        System.arraycopy(k, 0, out, 0, i);
        out[i] = key;
        System.arraycopy(k, i, out, i + 1, k.length - i);
        n.keys[d] = out;
        return fresh ? 1 : 0;
    }

    /** True if {@code a[0..na)} and {@code b[0..nb)} are equal once rule {@code r} is left out of both. */
    private static boolean samePrefixButR(int[] a, int na, int[] b, int nb, int r) {
        int i = 0, j = 0;
        while (true) {
            if (i < na && a[i] == r) i++;
            if (j < nb && b[j] == r) j++;
            if (i == na || j == nb) return i == na && j == nb;
            if (a[i++] != b[j++]) return false;
        }
    }

    private static int indexOf(int[] sorted, int r) {
        int i = Arrays.binarySearch(sorted, r);
        return i < 0 ? -1 : i;
    }

    private static int[] without(int[] sorted, int r) {
        int i = Arrays.binarySearch(sorted, r);
        if (i < 0) return sorted;
        int[] out = new int[sorted.length - 1];
        System.arraycopy(sorted, 0, out, 0, i);
        System.arraycopy(sorted, i + 1, out, i, sorted.length - i - 1);
        return out;
    }

    private static int[] with(int[] sorted, int r) {
        int i = Arrays.binarySearch(sorted, r);
        if (i >= 0) return sorted;
        i = -i - 1;
        int[] out = new int[sorted.length + 1];
        System.arraycopy(sorted, 0, out, 0, i);
        out[i] = r;
        System.arraycopy(sorted, i, out, i + 1, sorted.length - i);
        return out;
    }

    private static long[] box(FlatRules f, int r) {
        int dims = f.dims();
        long[] b = new long[2 * dims];
        for (int d = 0; d < dims; d++) { b[d] = Integer.toUnsignedLong(f.lo(r, d)); b[dims + d] = Integer.toUnsignedLong(f.hi(r, d)); }
        return b;
    }

    // ---------------------------------------------------------------- general path

    static boolean sameShape(FlatRules a, FlatRules b) {
        return a.dims() == b.dims() && Arrays.equals(a.dimBitsArray(), b.dimBitsArray()) && Arrays.equals(a.partitionDims(), b.partitionDims());
    }

    /**
     * Lays out all trees into fresh arrays: with {@code reuse}, partitions whose rules (boxes, in
     * order) are unchanged are reused with renamed priorities; the others are built.
     */
    private void relayout(FlatRules next, boolean reuse) {
        java.util.List<int[]> parts = compiler.partitions(next);
        Tree[] ts = new Tree[parts.size()];
        boolean[] kept = new boolean[parts.size()];
        int[][] oldMembers = new int[parts.size()][];
        for (int c = 0; c < parts.size(); c++) {
            int[] m = parts.get(c);
            if (m.length == 0) continue;
            Tree old = reuse && c < trees.length ? trees[c] : null;
            ts[c] = new Tree();
            ts[c].members = m;
            if (old != null && sameRules(rules, old.members, next, m)) {
                kept[c] = true;
                ts[c].root = old.root;
                ts[c].budgetHit = old.budgetHit;
                ts[c].budget = old.budget;
                if (!Arrays.equals(old.members, m)) {
                    oldMembers[c] = old.members;
                    rename(old.root, old.members, m, BNode.nextMark());
                }
                reused++;
            } else {
                rebuilt++;
            }
        }
        long size = 0;
        for (Tree t : trees) if (t != null) size += t.liveInts();
        IntList nn = new IntList((int) Math.min(Integer.MAX_VALUE - 8, size / 2 + 16), true);
        IntList nl = new IntList((int) Math.min(Integer.MAX_VALUE - 8, size / 2 + 16), true);
        int[] order = treeOrder(ts);
        for (int i : order) {
            Tree t = ts[i];
            if (kept[i]) {
                t.top = emitTree(next.dims(), t, nn, nl, leaves.array(), oldMembers[i], t.members, false);
            } else {
                CutTreeCompiler.Build b = new CutTreeCompiler.Build(next, compiler.params(), nn, nl, true, true);
                t.top = b.top(b.node(t.members, t.members.length, b.fullRegionLo(), b.fullRegionHi(), 0));
                t.root = b.made;
                t.budgetHit = b.budgetHit;
                t.budget = CutTreeCompiler.Build.budgetFor(next);
                t.emptyLeaf = b.emptyLeaf;
                t.emptyRef = b.emptyRef;
                t.leafIndex = b.leafIndex;
            }
        }
        // a small table holds exactly what a compile from scratch holds (many of them: one per interface
        // and direction); a large one keeps a quarter spare, so that the next updates append without
        // copying the whole array inside one update
        nn.trim(headroom(nn.size()));
        nl.trim(headroom(nl.size()));
        nodes = nn;
        leaves = nl;
        trees = ts;
        rules = next;
        bounds = CutTreeCompiler.Build.bounds(next);
        publish();
    }

    private static void rename(BNode n, int[] from, int[] to, int mark) {
        if (n.kind == BNode.EMPTY || n.mark == mark) return;
        n.mark = mark;
        int[] in = new int[n.in.length];
        for (int i = 0; i < in.length; i++) in[i] = to[Arrays.binarySearch(from, n.in[i])];
        n.in = in;
        if (n.kind == BNode.INNER) for (BNode k : n.kids) rename(k, from, to, mark);
    }

    /** Tree indexes in order of their best priority. */
    private static int[] treeOrder(Tree[] ts) {
        return java.util.stream.IntStream.range(0, ts.length).filter(i -> ts[i] != null)
                .boxed().sorted((x, y) -> Integer.compare(ts[x].members[0], ts[y].members[0])).mapToInt(Integer::intValue).toArray();
    }

    /**
     * Emits tree {@code t} into {@code nn}/{@code nl} in the compiler's order (its empty leaf, then
     * depth first: children in order before their node, a leaf's entries before its stub, the
     * empty stub where first needed). Leaves are copied from {@code src} (the current leaf array), their
     * priorities renamed from {@code from} to {@code to} when given. Updates the records'
     * references unless {@code dryRun}.
     */
    private static int[] emitTree(int dims, Tree t, IntList nn, IntList nl, int[] src, int[] from, int[] to, boolean dryRun) {
        Emit e = new Emit(dims, nn, nl, src, from, to, dryRun);
        e.emptyLeaf = nl.size();
        nl.add(0);
        e.root = t.root;
        int root = e.emit(t.root);
        if (!dryRun) {
            t.emptyLeaf = e.emptyLeaf;
            t.emptyRef = e.emptyRef;
            t.leafIndex = e.leafIndex;
        }
        return root < 0 ? CutTreeCompiler.Build.leafTop(root) : e.top.toArray();
    }

    /** One layout walk. */
    private static final class Emit {
        final int dims;
        final IntList nn, nl;
        final int[] src;
        final int[] from;
        final int[] to;
        final boolean dryRun;
        /** Nodes this walk has emitted carry this mark and their reference in {@link BNode#emitRef} (shared subtrees are emitted once). */
        final int mark = BNode.nextMark();
        final IntList top = new IntList(16);
        final CutTreeCompiler.LeafIndex leafIndex = new CutTreeCompiler.LeafIndex();
        BNode root;
        int emptyLeaf;
        int emptyRef;

        Emit(int dims, IntList nn, IntList nl, int[] src, int[] from, int[] to, boolean dryRun) {
            this.dims = dims;
            this.nn = nn;
            this.nl = nl;
            this.src = src;
            this.from = from;
            this.to = to;
            this.dryRun = dryRun;
        }

        int emit(BNode b) {
            if (b.kind == BNode.EMPTY) {
                if (emptyRef == 0) emptyRef = stub(emptyLeaf);
                return emptyRef;
            }
            if (b.emitMark == mark) return b.emitRef;
            int ref;
            if (b.kind == BNode.LEAF) {
                int p = b.leafAt + 1, n = src[b.leafAt];
                int end = p;
                for (int i = 0; i < n; i++) end += Classifier.entryInts(dims, src, end);
                int at = nl.reserve(end - b.leafAt);
                int[] out = nl.array();
                System.arraycopy(src, b.leafAt, out, at, end - b.leafAt); // one block: the count, then the entries
                if (from != null) { // rename the entries' priorities
                    for (int q = p; q < end; q += Classifier.entryInts(dims, src, q)) out[at + q - b.leafAt] = to[Arrays.binarySearch(from, src[q])];
                }
                long shared = leafIndex.intern(nl, at, nn); // equal entries emitted before: shared, as the compiler shares them
                ref = (int) (shared >> 32);
                at = (int) shared;
                if (!dryRun) b.leafAt = at;
            } else {
                int np = b.kids.length;
                int[] kids = new int[np];
                for (int c = 0; c < np; c++) kids[c] = emit(b.kids[c]); // children first, as the compiler lays them out
                ref = (CutTreeCompiler.Build.writeNode(b == root ? top : nn, b.shift, kids, emptyRef, b.rlo[b.dim]) << 4) | b.dim;
            }
            b.emitMark = mark;
            b.emitRef = ref;
            if (!dryRun) b.ref = ref;
            return ref;
        }

        int stub(int leafOffset) { return CutTreeCompiler.Build.stub(nn, leafOffset); }
    }

    private void publish() {
        int[] order = treeOrder(trees);
        int[][] tops = new int[order.length][];
        int[] rootDim = new int[order.length], minPrio = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            Tree t = trees[order[i]];
            tops[i] = t.top;
            rootDim[i] = t.root.kind == BNode.INNER ? t.root.dim : 0;
            minPrio[i] = t.members[0];
        }
        CutTreeCompiler.checkSize(nodes.size());
        table = new Classifier(rules.dims(), nodes.array(), leaves.array(), tops, rootDim, minPrio, actions(rules), ids(rules));
    }

    private static byte[] actions(FlatRules f) { return f.actionArray().clone(); }
    private static int[] ids(FlatRules f) { return f.idArray().clone(); }

    /** Spare ints kept after a re-layout of an array of {@code size} ints. */
    static int headroom(int size) { return size < HEADROOM_MIN ? 0 : size / 4; }

    private static final int HEADROOM_MIN = 1 << 16;

    private static boolean sameRules(FlatRules a, int[] am, FlatRules b, int[] bm) {
        if (a == null || am.length != bm.length || a.dims() != b.dims()) return false;
        for (int j = 0; j < am.length; j++) {
            for (int d = 0; d < a.dims(); d++) {
                if (a.lo(am[j], d) != b.lo(bm[j], d) || a.hi(am[j], d) != b.hi(bm[j], d)) return false;
            }
        }
        return true;
    }
}
