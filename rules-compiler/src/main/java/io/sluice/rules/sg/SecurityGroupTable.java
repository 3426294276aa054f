package io.sluice.rules.sg;

import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.table.Classifier;

import java.util.List;

/**
 * The compiled rules of one VM interface: one classifier per direction and family, each a
 * first-match list of platform denies followed by the tenant allows. Lookups return a decision
 * ({@link #allowed}, {@link #ruleIndex}); no match means deny ({@link #DEFAULT_DENY}).
 * Immutable; lookups allocate nothing and take no lock.
 *
 * <p>ICMP: pass the type as {@code sport} and the code as {@code dport}.
 */
public final class SecurityGroupTable {
    /** Decision when no rule matched: denied, no rule id. */
    public static final int DEFAULT_DENY = -1;

    private final Classifier[] tables; // [direction * 2 + family]
    private final List<List<String>> ruleNames;

    SecurityGroupTable(Classifier[] tables, List<List<String>> ruleNames) {
        this.tables = tables;
        this.ruleNames = ruleNames;
    }

    /** Looks up an IPv4 packet. */
    public int lookupV4(Direction dir, int protocol, int src, int dst, int sport, int dport) {
        Classifier c = tables[dir.ordinal() * 2];
        int p = c.classifyV4(src, dst, sport, dport, protocol);
        return p < 0 ? DEFAULT_DENY : (p << 1) | (c.allows(p) ? 1 : 0);
    }

    /** Looks up an IPv6 packet (addresses as high/low 64-bit halves). */
    public int lookupV6(Direction dir, int protocol, long srcHi, long srcLo, long dstHi, long dstLo, int sport, int dport) {
        Classifier c = tables[dir.ordinal() * 2 + 1];
        int p = c.classifyV6(srcHi, srcLo, dstHi, dstLo, sport, dport, protocol);
        return p < 0 ? DEFAULT_DENY : (p << 1) | (c.allows(p) ? 1 : 0);
    }

    /** True if the decision allows the packet. */
    public static boolean allowed(int decision) { return decision >= 0 && (decision & 1) == 1; }

    /** Position of the deciding rule in the effective list of that direction and family, or -1. */
    public static int ruleIndex(int decision) { return decision < 0 ? -1 : decision >>> 1; }

    /** Id of the deciding rule ({@code null} for the default deny). */
    public String ruleId(Direction dir, IpFamily f, int decision) {
        return decision < 0 ? null : ruleNames.get(dir.ordinal() * 2 + f.ordinal()).get(decision >>> 1);
    }

    /** The classifier for a direction and family. */
    public Classifier classifier(Direction dir, IpFamily f) { return tables[dir.ordinal() * 2 + f.ordinal()]; }

    /** Total bytes of the four classifiers. */
    public long memoryBytes() {
        long b = 0;
        for (Classifier c : tables) b += c.memoryBytes();
        return b;
    }
}
