package io.sluice.rules.table;

/**
 * A compiled, immutable first-match classifier: a forest of cut trees (one per rule partition)
 * stored in two flat {@code int} arrays.
 *
 * <p>Layout. A reference {@code >= 0} to an internal node is {@code (offset << 4) | dim}: the
 * dimension the node cuts travels with the reference, so the key load does not wait for the
 * node. A node cutting into {@code mask + 1} children is
 * {@code [h, base ^ MIN_VALUE, len ^ MIN_VALUE, child_lo .. child_(lo + len - 1), empty]} with
 * {@code h = shift | (mask << 5)} and {@code base = (regionLo >>> shift) + lo}: the children
 * before {@code lo} and after the last stored one are the tree's empty leaf and are not stored
 * (most of a sparse node's slots are, and they sit at its ends). The child for key {@code k} is
 * {@code a[offset + 3 + min_unsigned((k[dim] >>> h) - base, len)]} (Java's {@code >>>} uses the
 * low 5 bits of {@code h}; the key lies in the node's region, so no mask is needed): {@link #step},
 * one signed {@code min} on {@code MIN_VALUE}-offset values, no branch; a key outside the stored
 * children reads {@code empty}.
 * A reference {@code < 0} is {@code (offset << 4) | MIN_VALUE} to a leaf stub
 * {@code [0, leafOffset, MIN_VALUE, self]}: stepping a stub returns the stub itself (its len is 0,
 * so it reads {@code self}; the burst path advances four keys without a branch per key) and its
 * leaf is at {@code leaves[leafOffset]}. A leaf is {@code [count, entry...]}
 * in priority order. In a table of {@link #FIXED_DIMS} dimensions (the IPv4 5-tuple) an entry is
 * the 8 ints {@code [priority, srcLo, srcSpan ^ MIN_VALUE, dstLo, dstSpan ^ MIN_VALUE, sport, dport, proto]}
 * where each of the last three is {@code lo << 16 | span} (those dimensions are at most 16 bits
 * wide): every dimension is checked, unrolled, with no per-entry count to branch on
 * ({@link #fixedMatch}). In other tables an entry is
 * {@code [priority, checks, (dim, lo, span ^ MIN_VALUE) x checks]} (dimensions the rule covers over
 * the whole leaf region need no check). A check passes when {@code ((k[dim] - lo) + MIN_VALUE) <= span'}. Each tree's root node
 * sits in its own small array ({@code tops[t]}, at offset 0, cutting dimension {@code rootDim[t]}; a tree
 * whose root is a leaf has the one-child node {@code [0, MIN_VALUE, MIN_VALUE, stub]}: len 0, every key reads the stub), so that an update, which
 * copies the path from a changed node up to the root, copies the widest node into a fresh array
 * instead of leaving it behind in the shared one. Trees are ordered by their best (lowest)
 * priority so the search stops as soon as no later tree can win.
 *
 * <p>{@link #classify} allocates nothing, takes no lock and only reads final arrays, so any
 * number of threads may call it, including while a replacement is being compiled.
 */
public final class Classifier {
    /** Returned by {@link #classify} when no rule matches. */
    public static final int NO_MATCH = -1;
    /** Tables with this many dimensions (IPv4 5-tuples) store fixed-size leaf entries. */
    public static final int FIXED_DIMS = 5;
    /** Ints of one fixed leaf entry: the priority, (lo, span') for both addresses, lo << 16 | span for ports and protocol. */
    public static final int FIXED_ENTRY = 8;

    /** Ints of a leaf stub {@code [0, leafOffset, MIN_VALUE, self]}. */
    public static final int STUB_INTS = 4;
    /** Position of the leaf offset in a stub. */
    public static final int STUB_LEAF = 1;
    /** Ints of a node besides its stored children: {@code h, base ^ MIN_VALUE, len ^ MIN_VALUE} and the empty leaf after them. */
    public static final int NODE_HEADER = 4;

    /**
     * The child of the node at {@code a[n]} for key value {@code k} in its cut dimension:
     * {@code a[n + 3 + min_unsigned((k >>> shift) - base, len)]}, where {@code base} is the
     * region's first value {@code >>> shift} plus the first stored slot, so no mask is needed; one
     * signed {@code min} on {@code MIN_VALUE}-offset values makes it unsigned (a key below the
     * stored children wraps above {@code len} and reads the empty leaf after them). No branch.
     */
    public static int step(int[] a, int n, int k) {
        return a[n + (3 + Integer.MIN_VALUE) + Math.min((k >>> a[n]) - a[n + 1], a[n + 2])];
    }

    /** Child {@code i} (slot 0 .. mask) of the node at {@code a[n]} (the region is aligned: the first stored slot is {@code base & mask}). */
    public static int child(int[] a, int n, int i) {
        final int lo = (a[n + 1] ^ Integer.MIN_VALUE) & (a[n] >>> 5);
        return a[n + (3 + Integer.MIN_VALUE) + Math.min((i - lo) ^ Integer.MIN_VALUE, a[n + 2])];
    }

    /** Children of the node whose header is {@code h}. */
    public static int children(int h) { return (h >>> 5) + 1; }

    /** Ints of the node with children {@code kids}: {@link #NODE_HEADER} plus the children between the first and last that is not {@code emptyRef} (a one-child node: none). */
    public static int nodeInts(int[] kids, int emptyRef) {
        return kids.length == 1 ? NODE_HEADER : NODE_HEADER + (int) storedSpan(kids, emptyRef);
    }

    /** {@code lo << 32 | len}: the children from the first to the last that is not {@code emptyRef} (0: all of them). */
    private static long storedSpan(int[] kids, int emptyRef) {
        int lo = 0, hi = kids.length - 1;
        if (emptyRef != 0) {
            while (lo <= hi && kids[lo] == emptyRef) lo++;
            while (hi >= lo && kids[hi] == emptyRef) hi--;
        }
        return (long) lo << 32 | (hi - lo + 1);
    }

    /**
     * Writes the node cutting the region that starts at {@code regionLo} (in its cut dimension,
     * aligned to {@code kids.length << shift}) into {@code kids.length} (a power of two) children
     * to {@code a[at .. at + nodeInts(kids, emptyRef))}:
     * {@code [h = shift | mask << 5, ((regionLo >>> shift) + lo) ^ MIN_VALUE, len ^ MIN_VALUE, kids[lo .. lo + len), empty]}
     * where the children before {@code lo} and from {@code lo + len} on are the empty leaf
     * {@code emptyRef} (0: none; {@code empty} is 0 when no child was left out). A one-child node
     * (a tree whose root is a leaf) stores its child as {@code empty} with {@code len} 0, so every key reads it.
     */
    public static void encodeNode(int[] a, int at, int shift, int[] kids, int emptyRef, long regionLo) {
        if (kids.length == 1) {
            a[at] = shift;
            a[at + 1] = Integer.MIN_VALUE;
            a[at + 2] = Integer.MIN_VALUE;
            a[at + 3] = kids[0];
            return;
        }
        long span = storedSpan(kids, emptyRef);
        int lo = (int) (span >>> 32), len = (int) span;
        a[at] = shift | ((kids.length - 1) << 5);
        a[at + 1] = (int) ((regionLo >>> shift) + lo) ^ Integer.MIN_VALUE;
        a[at + 2] = len ^ Integer.MIN_VALUE;
        System.arraycopy(kids, lo, a, at + 3, len);
        a[at + 3 + len] = len == kids.length ? 0 : emptyRef;
    }

    /** Writes the leaf stub {@code [0, leafOffset, MIN_VALUE, self]} at {@code a[at]} (stepping it gives itself: len 0); returns its reference. */
    public static int encodeStub(int[] a, int at, int leafOffset) {
        int ref = (at << 4) | Integer.MIN_VALUE;
        a[at] = 0;
        a[at + 1] = leafOffset;
        a[at + 2] = Integer.MIN_VALUE;
        a[at + 3] = ref;
        return ref;
    }

    /** Ints of the leaf entry at {@code p} of {@code leaves} in a table of {@code dims} dimensions. */
    public static int entryInts(int dims, int[] leaves, int p) {
        return dims == FIXED_DIMS ? FIXED_ENTRY : 2 + 3 * leaves[p + 1];
    }

    private final int dims;
    private final boolean fixed;
    private final int[] nodes;
    private final int[] leaves;
    private final int[][] tops;
    private final int[] rootDim;
    private final int[] rootMinPrio;
    private final byte[] action;
    private final int[] ruleId;
    /** Rules changed since the trees were built (null: none; see {@link Overlay}). */
    private final Overlay overlay;

    /**
     * Wraps compiled arrays; the caller hands them over and must not modify them afterwards.
     *
     * @param dims number of key dimensions
     * @param nodes internal nodes of every tree
     * @param leaves leaves of every tree
     * @param tops root node of each tree at offset 0, ordered by {@code rootMinPrio}: an internal
     *     node (a tree whose root is a leaf: the one-child node {@code [0, MIN_VALUE, MIN_VALUE, stub reference]})
     * @param rootDim dimension each root cuts
     * @param rootMinPrio lowest priority present in each tree
     * @param action action per priority
     * @param ruleId external rule id per priority
     */
    public Classifier(int dims, int[] nodes, int[] leaves, int[][] tops, int[] rootDim, int[] rootMinPrio, byte[] action, int[] ruleId) {
        this(dims, nodes, leaves, tops, rootDim, rootMinPrio, action, ruleId, null);
    }

    private Classifier(int dims, int[] nodes, int[] leaves, int[][] tops, int[] rootDim, int[] rootMinPrio, byte[] action, int[] ruleId, Overlay overlay) {
        this.overlay = overlay;
        this.dims = dims;
        this.fixed = dims == FIXED_DIMS;
        this.nodes = nodes;
        this.leaves = leaves;
        this.tops = tops;
        this.rootDim = rootDim;
        this.rootMinPrio = rootMinPrio;
        this.action = action;
        this.ruleId = ruleId;
    }

    /**
     * This table's trees with the rules changed since they were built checked beside them
     * ({@link Overlay}): answers are positions in the current list, whose actions and ids are
     * {@code action} and {@code ruleId}. The arrays are handed over.
     */
    public Classifier withOverlay(Overlay o, byte[] action, int[] ruleId) {
        return new Classifier(dims, nodes, leaves, tops, rootDim, rootMinPrio, action, ruleId, o);
    }

    /** The rules checked beside the trees, or null when the trees hold the whole list. */
    public Overlay overlay() { return overlay; }

    /**
     * Returns the priority (0-based position) of the first rule matching
     * {@code key[off .. off + dims)}, or {@link #NO_MATCH}.
     */
    public int classify(int[] key, int off) {
        int p = classifyTrees(key, off);
        return overlay == null ? p : overlay.decide(key, off, p);
    }

    private int classifyTrees(int[] key, int off) {
        final int[] nd = nodes;
        int best = Integer.MAX_VALUE;
        for (int t = 0; t < tops.length; t++) {
            if (rootMinPrio[t] >= best) break;
            int[] top = tops[t];
            int c = step(top, 0, key[off + rootDim[t]]);
            while (c >= 0) c = step(nd, c >>> 4, key[off + (c & 15)]);
            int p = nd[((c & Integer.MAX_VALUE) >>> 4) + STUB_LEAF];
            best = fixed ? scanFixed(p + 1, leaves[p], key, off, best) : scanLeaf(p, key, off, best);
        }
        return best == Integer.MAX_VALUE ? NO_MATCH : best;
    }

    /**
     * Classifies {@code count} keys stored back to back in {@code keys} (key {@code i} at
     * {@code (from + i) * dims()}), writing each result (priority or {@link #NO_MATCH}) to {@code out[i]}.
     * Four keys walk the trees in lock step so that their memory accesses overlap, and the four
     * leaves' offsets and counts are loaded before any of them is scanned; the result is the same
     * as calling {@link #classify} on each key.
     */
    public void classifyBurst(int[] keys, int from, int count, int[] out) {
        final int[] nd = nodes, lv = leaves;
        final boolean fx = fixed;
        final int dm = dims;
        int i = 0;
        for (; i + 4 <= count; i += 4) {
            final int o0 = (from + i) * dm, o1 = o0 + dm, o2 = o1 + dm, o3 = o2 + dm;
            int b0 = Integer.MAX_VALUE, b1 = b0, b2 = b0, b3 = b0;
            for (int t = 0; t < tops.length; t++) {
                int m = rootMinPrio[t];
                if (m >= b0 && m >= b1 && m >= b2 && m >= b3) break;
                final int[] top = tops[t];
                final int d0 = rootDim[t];
                int c0 = step(top, 0, keys[o0 + d0]), c1 = step(top, 0, keys[o1 + d0]);
                int c2 = step(top, 0, keys[o2 + d0]), c3 = step(top, 0, keys[o3 + d0]);
                while ((c0 & c1 & c2 & c3) >= 0) { // until all four reach a leaf stub; a stub steps to itself
                    c0 = step(nd, (c0 & Integer.MAX_VALUE) >>> 4, keys[o0 + (c0 & 15)]);
                    c1 = step(nd, (c1 & Integer.MAX_VALUE) >>> 4, keys[o1 + (c1 & 15)]);
                    c2 = step(nd, (c2 & Integer.MAX_VALUE) >>> 4, keys[o2 + (c2 & 15)]);
                    c3 = step(nd, (c3 & Integer.MAX_VALUE) >>> 4, keys[o3 + (c3 & 15)]);
                }
                final int p0 = nd[((c0 & Integer.MAX_VALUE) >>> 4) + STUB_LEAF], p1 = nd[((c1 & Integer.MAX_VALUE) >>> 4) + STUB_LEAF];
                final int p2 = nd[((c2 & Integer.MAX_VALUE) >>> 4) + STUB_LEAF], p3 = nd[((c3 & Integer.MAX_VALUE) >>> 4) + STUB_LEAF];
                if (fx) { // all four leaf counts in flight before the first scan
                    final int n0 = lv[p0], n1 = lv[p1], n2 = lv[p2], n3 = lv[p3];
                    b0 = scanFixed(p0 + 1, n0, keys, o0, b0);
                    b1 = scanFixed(p1 + 1, n1, keys, o1, b1);
                    b2 = scanFixed(p2 + 1, n2, keys, o2, b2);
                    b3 = scanFixed(p3 + 1, n3, keys, o3, b3);
                } else {
                    b0 = scanLeaf(p0, keys, o0, b0);
                    b1 = scanLeaf(p1, keys, o1, b1);
                    b2 = scanLeaf(p2, keys, o2, b2);
                    b3 = scanLeaf(p3, keys, o3, b3);
                }
            }
            out[i] = b0 == Integer.MAX_VALUE ? NO_MATCH : b0;
            out[i + 1] = b1 == Integer.MAX_VALUE ? NO_MATCH : b1;
            out[i + 2] = b2 == Integer.MAX_VALUE ? NO_MATCH : b2;
            out[i + 3] = b3 == Integer.MAX_VALUE ? NO_MATCH : b3;
        }
        if (overlay != null) for (int j = 0; j < i; j++) out[j] = overlay.decide(keys, (from + j) * dm, out[j]);
        for (; i < count; i++) out[i] = classify(keys, (from + i) * dm);
    }

    /** {@link #classify} for an IPv4 5-tuple given as values (dimension order src, dst, sport, dport, proto). */
    public int classifyV4(int src, int dst, int sport, int dport, int proto) {
        if (!fixed) throw new IllegalStateException("classifyV4 on a table of " + dims + " dimensions");
        final int[] nd = nodes;
        int best = Integer.MAX_VALUE;
        for (int t = 0; t < tops.length; t++) {
            if (rootMinPrio[t] >= best) break;
            int[] top = tops[t];
            int d0 = rootDim[t];
            int v0 = d0 == 0 ? src : d0 == 1 ? dst : d0 == 2 ? sport : d0 == 3 ? dport : proto;
            int c = step(top, 0, v0);
            while (c >= 0) {
                int d = c & 15;
                int v = d == 0 ? src : d == 1 ? dst : d == 2 ? sport : d == 3 ? dport : proto;
                c = step(nd, c >>> 4, v);
            }
            final int[] lv = leaves; // a 5-dimension table: fixed entries
            int p = nd[((c & Integer.MAX_VALUE) >>> 4) + STUB_LEAF];
            int n = lv[p++];
            for (int i = 0; i < n; i++, p += FIXED_ENTRY) {
                int prio = lv[p];
                if (prio >= best) break;
                if (fixedMatch(lv, p, src, dst, sport, dport, proto)) {
                    best = prio;
                    break;
                }
            }
        }
        best = best == Integer.MAX_VALUE ? NO_MATCH : best;
        return overlay == null ? best : overlay.decideValues(best, src, dst, 0, 0, sport, dport, proto);
    }

    /**
     * {@link #classify} for an IPv6 tuple given as values: addresses as high/low 64-bit halves
     * (dimensions: 4 source words, 4 destination words, sport, dport, proto).
     */
    public int classifyV6(long srcHi, long srcLo, long dstHi, long dstLo, int sport, int dport, int proto) {
        final int[] nd = nodes;
        int best = Integer.MAX_VALUE;
        for (int t = 0; t < tops.length; t++) {
            if (rootMinPrio[t] >= best) break;
            int[] top = tops[t];
            int c = step(top, 0, v6(rootDim[t], srcHi, srcLo, dstHi, dstLo, sport, dport, proto));
            while (c >= 0) c = step(nd, c >>> 4, v6(c & 15, srcHi, srcLo, dstHi, dstLo, sport, dport, proto));
            final int[] lv = leaves;
            int p = nd[((c & Integer.MAX_VALUE) >>> 4) + STUB_LEAF];
            int n = lv[p++];
            for (int i = 0; i < n; i++) {
                int prio = lv[p];
                if (prio >= best) break;
                int end = p + 2 + 3 * lv[p + 1];
                int miss = 0;
                for (int q = p + 2; q < end; q += 3) {
                    int v = v6(lv[q], srcHi, srcLo, dstHi, dstLo, sport, dport, proto);
                    miss |= (((v - lv[q + 1]) + Integer.MIN_VALUE) > lv[q + 2]) ? 1 : 0;
                }
                if (miss == 0) {
                    best = prio;
                    break;
                }
                p = end;
            }
        }
        best = best == Integer.MAX_VALUE ? NO_MATCH : best;
        return overlay == null ? best : overlay.decideValues(best, srcHi, srcLo, dstHi, dstLo, sport, dport, proto);
    }

    /** Dimension {@code d} of an IPv6 key given as values ({@link #classifyV6}'s order). */
    static int v6(int d, long sh, long sl, long dh, long dl, int sport, int dport, int proto) {
        return switch (d) {
            case 0 -> (int) (sh >>> 32);
            case 1 -> (int) sh;
            case 2 -> (int) (sl >>> 32);
            case 3 -> (int) sl;
            case 4 -> (int) (dh >>> 32);
            case 5 -> (int) dh;
            case 6 -> (int) (dl >>> 32);
            case 7 -> (int) dl;
            case 8 -> sport;
            case 9 -> dport;
            default -> proto;
        };
    }

    /** True if both classifiers have identical compiled arrays (same trees, same rules) and neither checks an {@link Overlay}. */
    public boolean sameStructure(Classifier o) {
        return overlay == null && o.overlay == null && dims == o.dims && java.util.Arrays.equals(nodes, o.nodes) && java.util.Arrays.equals(leaves, o.leaves)
                && java.util.Arrays.deepEquals(tops, o.tops) && java.util.Arrays.equals(rootDim, o.rootDim) && java.util.Arrays.equals(rootMinPrio, o.rootMinPrio)
                && java.util.Arrays.equals(action, o.action) && java.util.Arrays.equals(ruleId, o.ruleId);
    }

    /**
     * True if both classifiers hold the same trees (same cuts, same leaves, same sharing of
     * children), the same tree order and the same rules, wherever in their arrays the nodes sit,
     * and neither checks an {@link Overlay}:
     * what an incremental update must give compared with a compile from scratch.
     */
    public boolean sameTrees(Classifier o) {
        if (overlay != null || o.overlay != null || dims != o.dims || !java.util.Arrays.equals(rootMinPrio, o.rootMinPrio) || !java.util.Arrays.equals(action, o.action)
                || !java.util.Arrays.equals(ruleId, o.ruleId) || !java.util.Arrays.equals(rootDim, o.rootDim)) return false;
        java.util.Map<Integer, Integer> seen = new java.util.HashMap<>();
        for (int t = 0; t < tops.length; t++) {
            if (tops[t].length != o.tops[t].length || tops[t][0] != o.tops[t][0]) return false;
            for (int c = 0; c < children(tops[t][0]); c++) if (!sameRef(child(tops[t], 0, c), o, child(o.tops[t], 0, c), seen)) return false;
        }
        return true;
    }

    private boolean sameRef(int a, Classifier o, int b, java.util.Map<Integer, Integer> seen) {
        Integer prev = seen.putIfAbsent(a, b);
        if (prev != null) return prev == b; // a shared child must be shared the same way
        if ((a < 0) != (b < 0) || (a >= 0 && (a & 15) != (b & 15))) return false;
        if (a < 0) {
            int la = nodes[((a & Integer.MAX_VALUE) >>> 4) + STUB_LEAF], lb = o.nodes[((b & Integer.MAX_VALUE) >>> 4) + STUB_LEAF];
            int n = leaves[la];
            if (o.leaves[lb] != n) return false;
            int pa = la + 1, pb = lb + 1;
            for (int i = 0; i < n; i++) {
                int len = entryInts(dims, leaves, pa);
                if (!java.util.Arrays.equals(leaves, pa, pa + len, o.leaves, pb, pb + len)) return false;
                pa += len;
                pb += len;
            }
            return true;
        }
        int na = a >>> 4, nb = b >>> 4, h = nodes[na];
        if (o.nodes[nb] != h) return false;
        for (int c = 0; c < children(h); c++) if (!sameRef(child(nodes, na, c), o, child(o.nodes, nb, c), seen)) return false;
        return true;
    }

    /**
     * {@link #scanLeaf} for fixed entries: {@code n} entries from {@code p}; the five checks of an
     * entry are evaluated without a branch between them.
     */
    private int scanFixed(int p, int n, int[] key, int off, int best) {
        final int[] lv = leaves;
        final int k0 = key[off], k1 = key[off + 1], k2 = key[off + 2], k3 = key[off + 3], k4 = key[off + 4];
        for (int i = 0; i < n; i++, p += FIXED_ENTRY) {
            int prio = lv[p];
            if (prio >= best) return best;
            if (fixedMatch(lv, p, k0, k1, k2, k3, k4)) return prio;
        }
        return best;
    }

    /**
     * True if the fixed entry at {@code p} of {@code lv} contains the key: five range checks, no
     * branch between them ({@code &}, not {@code &&}).
     */
    public static boolean fixedMatch(int[] lv, int p, int k0, int k1, int k2, int k3, int k4) {
        final int s = lv[p + 5], d = lv[p + 6], q = lv[p + 7];
        return ((k0 - lv[p + 1]) + Integer.MIN_VALUE) <= lv[p + 2] & ((k1 - lv[p + 3]) + Integer.MIN_VALUE) <= lv[p + 4]
                & ((k2 - (s >>> 16)) + Integer.MIN_VALUE) <= ((s & 0xFFFF) | Integer.MIN_VALUE)
                & ((k3 - (d >>> 16)) + Integer.MIN_VALUE) <= ((d & 0xFFFF) | Integer.MIN_VALUE)
                & ((k4 - (q >>> 16)) + Integer.MIN_VALUE) <= ((q & 0xFFFF) | Integer.MIN_VALUE);
    }

    /** Returns the priority of the first entry of the leaf at {@code p} that matches and beats {@code best}, else {@code best}. */
    private int scanLeaf(int p, int[] key, int off, int best) {
        final int[] lv = leaves;
        int n = lv[p++];
        for (int i = 0; i < n; i++) {
            int prio = lv[p];
            if (prio >= best) return best;
            int end = p + 2 + 3 * lv[p + 1];
            int miss = 0;
            for (int q = p + 2; q < end; q += 3) {
                miss |= (((key[off + lv[q]] - lv[q + 1]) + Integer.MIN_VALUE) > lv[q + 2]) ? 1 : 0;
            }
            if (miss == 0) return prio;
            p = end;
        }
        return best;
    }

    /** Number of key dimensions. */
    public int dims() { return dims; }
    /** Number of rules compiled in. */
    public int size() { return action.length; }
    /** Number of trees (rule partitions). */
    public int trees() { return tops.length; }
    /** True if the rule at {@code priority} allows. */
    public boolean allows(int priority) { return action[priority] != 0; }
    /** External id of the rule at {@code priority}. */
    public int ruleId(int priority) { return ruleId[priority]; }

    /** Bytes held by the lookup structure (array payloads plus headers). */
    public long memoryBytes() {
        long top = 0;
        for (int[] t : tops) top += 16 + 4L * t.length;
        return 16L * 8 + top + 4L * (nodes.length + leaves.length + tops.length + rootDim.length + rootMinPrio.length + ruleId.length) + action.length;
    }

    /** Number of int slots used by internal nodes. */
    public int nodeInts() { return nodes.length; }
    /** Number of int slots used by leaves. */
    public int leafInts() { return leaves.length; }

    int[] nodesArray() { return nodes; }
    int[] leavesArray() { return leaves; }
    int[][] topsArray() { return tops; }
    int[] rootDimArray() { return rootDim; }
    int[] rootMinPrioArray() { return rootMinPrio; }
}
