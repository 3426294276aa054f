package io.sluice.rules.compile;

/**
 * The writer's record of one built tree node (control plane only, never read by lookups): what
 * the compiler decided for it and from which rules, so that a one-rule change can redo only
 * the nodes whose rule list changed and come out as the compiler would from scratch.
 */
final class BNode {
    static final int EMPTY = 0, LEAF = 1, INNER = 2;
    /** The shared empty child (no rule reaches it). */
    static final BNode EMPTY_NODE = new BNode();

    int kind;
    /** Rules reaching this node (ascending priority), before dropping those behind a covering rule. */
    int[] in;
    /** How many of {@code in} remain (up to and including the first rule covering the region). */
    int live;
    long[] rlo;
    long[] rhi;
    int depth;
    /** Reference of this node in the node array (as a parent stores it). */
    int ref;
    /** LEAF: offset of its leaf in the leaf array. */
    int leafAt;
    /** Ints this subtree occupies (nodes and leaves, shared children once, the empty stub not counted). */
    int size;
    /** INNER: the cut. */
    int dim;
    int bits;
    int shift;
    BNode[] kids;
    /** INNER with many rules: per dimension, the sorted clipped-range keys of the live rules (null for dims not considered). */
    long[][] keys;
    /** Distinct keys per dimension (valid where {@code keys[d] != null}). */
    int[] distinct;
    /** For the cut dimension: per cut width k, the summed child counts of the live rules. */
    long[] spanSum;
    /** Parent slots that reference this node (more than one: a shared child). */
    int users;
    /** Visit mark (size and layout walks); values from {@link #nextMark}. */
    int mark;
    /** Layout walk ({@code IncrementalClassifier}): the walk that emitted this node last, and where. */
    int emitMark;
    int emitRef;

    private static final java.util.concurrent.atomic.AtomicInteger MARKS = new java.util.concurrent.atomic.AtomicInteger();

    /** A mark no walk has used yet. */
    static int nextMark() { return MARKS.incrementAndGet(); }
}
