package io.sluice.rules.compile;

/**
 * One compiled cut tree over one rule partition, with references relative to its own arrays,
 * so that unchanged partitions can be reused when a rule set is updated.
 *
 * @param partition the partition class this tree covers
 * @param members priorities (global rule positions) of its rules, ascending
 * @param nodes internal nodes (layout as in {@link io.sluice.rules.table.Classifier})
 * @param leaves leaves, offset 0 is the shared empty leaf
 * @param root root reference
 */
public record TreeFragment(int partition, int[] members, int[] nodes, int[] leaves, int root) {}
