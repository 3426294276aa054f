package io.sluice.bench.rules;

import io.sluice.rules.compile.CutTreeCompiler;
import io.sluice.rules.table.Classifier;
import io.sluice.rules.table.LookupProfile;

/**
 * Prints, per rule set, the work one lookup does on the set's trace (trees, node steps, leaf
 * entries, range checks) next to the table size: the profile behind the rte_acl comparison.
 * Usage: {@code ProfileReport SET...} (names as in {@link RuleSets}).
 */
public final class ProfileReport {
    private ProfileReport() {}

    /** Entry point. */
    public static void main(String[] args) throws Exception {
        System.out.println("| set | rules | trees | trees searched | node steps | leaf entries | range checks | bytes |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        for (String set : args) {
            RuleSets.Loaded l = RuleSets.load(set);
            Classifier c = new CutTreeCompiler().compile(l.rules());
            LookupProfile p = LookupProfile.of(c, l.trace(), l.trace().length / 5);
            System.out.printf("| %s | %d | %d | %.2f | %.2f | %.2f | %.2f | %d |%n", set, l.rules().size(), c.trees(),
                    p.trees(), p.steps(), p.entries(), p.checks(), c.memoryBytes());
        }
    }
}
