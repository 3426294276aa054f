package io.sluice.rules.table;

/**
 * The rules changed since a table's trees were built, checked beside them so that a change takes
 * effect before the trees are rebuilt (see {@code DeferredClassifier}). The trees were compiled
 * from the <em>base</em> list; the current list is the base with some rules' boxes changed, some
 * rules inserted and some removed, the unchanged rules in the same relative order. Then, for a key
 * whose first match in the trees is base rule {@code p}:
 * <ul>
 * <li>if {@code p} is unchanged (at current position {@code posOf[p] >= 0}), no unchanged rule
 * before it matches either (its order is kept), so the answer is {@code posOf[p]} or an earlier
 * changed rule that matches: the <em>delta</em> rules (current positions, ascending, with their
 * current boxes), scanned until one matches or the positions pass {@code posOf[p]};</li>
 * <li>no base rule matches: the first matching delta rule;</li>
 * <li>{@code p} was changed or removed ({@code posOf[p] < 0}): the trees' leaves dropped rules it
 * shadowed, so the next unchanged match is found by scanning the base rules after {@code p}
 * ({@code baseLo}/{@code baseHi}, skipping the changed ones), then the delta as above.</li>
 * </ul>
 * The last case costs a scan of the base list; it only concerns keys the changed rules matched
 * before, and only until the trees are rebuilt. Immutable; lookups allocate nothing. The arrays
 * are handed over and must not be modified.
 */
public final class Overlay {
    private final int dims;
    private final int[] posOf;
    private final int[] deltaPrio;
    private final int[] deltaLo;
    private final int[] deltaHi;
    private final int[] baseLo;
    private final int[] baseHi;
    private final int baseSize;

    /**
     * @param dims      key dimensions
     * @param posOf     per base rule: its current position, or -1 if it was changed or removed
     * @param deltaPrio current positions of the changed and inserted rules, ascending
     * @param deltaLo   their lower bounds, {@code dims} per rule (unsigned, inclusive)
     * @param deltaHi   their upper bounds (unsigned, inclusive)
     * @param baseLo    the base rules' lower bounds, {@code dims} per rule
     * @param baseHi    the base rules' upper bounds
     */
    public Overlay(int dims, int[] posOf, int[] deltaPrio, int[] deltaLo, int[] deltaHi, int[] baseLo, int[] baseHi) {
        this.dims = dims;
        this.posOf = posOf;
        this.deltaPrio = deltaPrio;
        this.deltaLo = deltaLo;
        this.deltaHi = deltaHi;
        this.baseLo = baseLo;
        this.baseHi = baseHi;
        this.baseSize = posOf.length;
    }

    /** Rules changed or inserted since the trees were built. */
    public int deltaRules() { return deltaPrio.length; }

    /** Base rules changed or removed since the trees were built. */
    public int deadRules() {
        int n = 0;
        for (int p : posOf) if (p < 0) n++;
        return n;
    }

    /**
     * The current answer for {@code key[off .. off + dims)} given the trees' answer {@code p}
     * (a base priority or {@link Classifier#NO_MATCH}): a current position or {@code NO_MATCH}.
     */
    int decide(int[] key, int off, int p) {
        return decide(p, key, off, 0, 0, 0, 0, 0, 0, 0);
    }

    /**
     * {@link #decide(int[], int, int)} for a key given as values: IPv4 {@code a} = source, {@code b} =
     * destination ({@code c}, {@code e} unused); IPv6 the addresses' high and low halves
     * ({@link Classifier#classifyV6}'s order).
     */
    int decideValues(int p, long a, long b, long c, long e, int sport, int dport, int proto) {
        return decide(p, null, 0, a, b, c, e, sport, dport, proto);
    }

    private int decide(int p, int[] key, int off, long a, long b, long c, long e, int sport, int dport, int proto) {
        int best;
        if (p < 0) best = Integer.MAX_VALUE;
        else {
            best = posOf[p];
            if (best < 0) { // the next unchanged base rule that matches
                for (int r = p + 1; r < baseSize && best < 0; r++) {
                    if (posOf[r] >= 0 && matches(baseLo, baseHi, r, key, off, a, b, c, e, sport, dport, proto)) best = posOf[r];
                }
                if (best < 0) best = Integer.MAX_VALUE;
            }
        }
        final int[] dp = deltaPrio;
        for (int i = 0; i < dp.length && dp[i] < best; i++) {
            if (matches(deltaLo, deltaHi, i, key, off, a, b, c, e, sport, dport, proto)) {
                best = dp[i];
                break;
            }
        }
        return best == Integer.MAX_VALUE ? Classifier.NO_MATCH : best;
    }

    /** True if rule {@code r} of {@code lo}/{@code hi} contains the key ({@code key[off..]}, or the values when {@code key} is null). */
    private boolean matches(int[] lo, int[] hi, int r, int[] key, int off, long a, long b, long c, long e, int sport, int dport, int proto) {
        int at = r * dims;
        for (int d = 0; d < dims; d++) {
            int v = (key != null ? key[off + d] : value(d, a, b, c, e, sport, dport, proto)) ^ Integer.MIN_VALUE;
            if (v < (lo[at + d] ^ Integer.MIN_VALUE) || v > (hi[at + d] ^ Integer.MIN_VALUE)) return false;
        }
        return true;
    }

    private int value(int d, long a, long b, long c, long e, int sport, int dport, int proto) {
        if (dims == Classifier.FIXED_DIMS) return d == 0 ? (int) a : d == 1 ? (int) b : d == 2 ? sport : d == 3 ? dport : proto;
        return Classifier.v6(d, a, b, c, e, sport, dport, proto);
    }
}
