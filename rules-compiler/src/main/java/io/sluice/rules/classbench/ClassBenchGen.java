package io.sluice.rules.classbench;

import io.sluice.rules.compile.FlatRules;

import java.util.SplittableRandom;

/**
 * A deterministic ClassBench-style rule and trace generator (our own code, not ClassBench's
 * db_generator): from a seed it produces IPv4 5-tuple first-match rule sets shaped like the
 * published acl, fw and ipc seeds, so that tests and checks run on a machine that has only
 * the repository.
 *
 * <p>Shape per kind (read off the published 1K sets): the prefix-length mix of source and
 * destination, the port kinds (wildcard, one well-known or random port, the 1024-65535 range,
 * a short range) and the protocol mix. Addresses come from a hierarchical pool (sites, /16s
 * within a site, /24s within a /16) that grows with the set size, so prefixes nest and overlap
 * the way real rule sets do. Rule {@code i} has id {@code i}; every rule allows.
 */
public final class ClassBenchGen {
    private ClassBenchGen() {}

    /** The published seed families the generator imitates. */
    public enum Kind {
        /** Access lists: specific source and destination, one destination port, mostly TCP. */
        ACL,
        /** Firewalls: many wildcard or /1 addresses, port ranges, several protocols. */
        FW,
        /** IP chains: mid-length prefixes on both sides, a third "any protocol". */
        IPC
    }

    private static final int[] WELL_KNOWN = {20, 21, 22, 23, 25, 53, 69, 80, 110, 123, 139, 143, 161, 179, 443, 445, 514, 1521, 1525, 1526, 3306, 5432, 8080};

    /** {@code n} rules of the given kind from {@code seed}; the same arguments give the same rules. */
    public static FlatRules rules(Kind kind, int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed * 31 + kind.ordinal());
        int sites = 2 + n / 1500, nets = 8 + n / 400, subnets = 16;
        int[] site = new int[sites];
        for (int i = 0; i < sites; i++) site[i] = 1 + rnd.nextInt(223);
        int[] netOf = new int[sites * nets];
        for (int i = 0; i < netOf.length; i++) netOf[i] = rnd.nextInt(256);
        FlatRules.Builder b = FlatRules.builder(FlatRules.v4Dims(), FlatRules.v4PartitionDims());
        int[] lo = new int[5], hi = new int[5];
        for (int i = 0; i < n; i++) {
            prefix(lo, hi, 0, prefixLen(kind, true, rnd), rnd, site, netOf, nets, subnets);
            prefix(lo, hi, 1, prefixLen(kind, false, rnd), rnd, site, netOf, nets, subnets);
            port(lo, hi, 2, sportKind(kind, rnd), rnd);
            port(lo, hi, 3, dportKind(kind, rnd), rnd);
            int proto = proto(kind, rnd);
            if (proto < 0) { lo[4] = 0; hi[4] = 255; } else { lo[4] = proto; hi[4] = proto; }
            b.add(lo, hi, FlatRules.ALLOW, i);
        }
        return b.build();
    }

    /** Picks from {@code weights} (cumulative percentages ending at 100) the index of the bucket hit. */
    private static int pick(SplittableRandom rnd, int... cumulative) {
        int x = rnd.nextInt(100);
        for (int i = 0; i < cumulative.length; i++) if (x < cumulative[i]) return i;
        return cumulative.length - 1;
    }

    private static int between(SplittableRandom rnd, int a, int b) { return a + rnd.nextInt(b - a + 1); }

    private static int prefixLen(Kind kind, boolean src, SplittableRandom rnd) {
        return switch (kind) {
            case ACL -> switch (pick(rnd, 50, 70, 77, 87, 97, 100)) {
                case 0 -> 32; case 1 -> 31; case 2 -> 30; case 3 -> between(rnd, 24, 29); case 4 -> between(rnd, 16, 23); default -> between(rnd, 0, 8);
            };
            case FW -> src
                    ? switch (pick(rnd, 37, 55, 85, 100)) { case 0 -> 0; case 1 -> between(rnd, 1, 2); case 2 -> between(rnd, 27, 32); default -> between(rnd, 11, 26); }
                    : switch (pick(rnd, 20, 33, 88, 100)) { case 0 -> 0; case 1 -> between(rnd, 1, 2); case 2 -> between(rnd, 29, 32); default -> between(rnd, 20, 28); };
            case IPC -> switch (pick(rnd, 6, 11, 19, 64, 100)) {
                case 0 -> 0; case 1 -> 1; case 2 -> between(rnd, 15, 18); case 3 -> between(rnd, 21, 26); default -> between(rnd, 27, 32);
            };
        };
    }

    private static void prefix(int[] lo, int[] hi, int d, int len, SplittableRandom rnd, int[] site, int[] netOf, int nets, int subnets) {
        int s = rnd.nextInt(site.length);
        int net = netOf[s * nets + rnd.nextInt(nets)];
        int sub = (net * 7 + rnd.nextInt(subnets)) & 255;
        int addr = site[s] << 24 | net << 16 | sub << 8 | rnd.nextInt(256);
        int mask = len == 0 ? 0 : -1 << (32 - len);
        lo[d] = addr & mask;
        hi[d] = (addr & mask) | ~mask;
    }

    /** 0 wildcard, 1 one port, 2 the 1024-65535 range, 3 a short range. */
    private static int sportKind(Kind kind, SplittableRandom rnd) {
        return switch (kind) {
            case ACL -> 0;
            case FW -> pick(rnd, 85, 90, 100);
            case IPC -> pick(rnd, 85, 100);
        };
    }

    private static int dportKind(Kind kind, SplittableRandom rnd) {
        return switch (kind) {
            case ACL -> pick(rnd, 35, 90, 95, 100);
            case FW -> pick(rnd, 40, 85, 95, 100);
            case IPC -> pick(rnd, 55, 90, 97, 100);
        };
    }

    private static void port(int[] lo, int[] hi, int d, int kind, SplittableRandom rnd) {
        switch (kind) {
            case 0 -> { lo[d] = 0; hi[d] = 65535; }
            case 1 -> { int p = rnd.nextInt(3) == 0 ? rnd.nextInt(65536) : WELL_KNOWN[rnd.nextInt(WELL_KNOWN.length)]; lo[d] = p; hi[d] = p; }
            case 2 -> { lo[d] = 1024; hi[d] = 65535; }
            default -> { int p = rnd.nextInt(60000); lo[d] = p; hi[d] = p + rnd.nextInt(2000); }
        }
    }

    /** A protocol number, or -1 for any. */
    private static int proto(Kind kind, SplittableRandom rnd) {
        return switch (kind) {
            case ACL -> new int[] {6, -1, 1, 17}[pick(rnd, 80, 88, 92, 100)];
            case FW -> new int[] {6, 47, 1, 17, -1}[pick(rnd, 60, 65, 70, 90, 100)];
            case IPC -> new int[] {-1, 6, 17, 1}[pick(rnd, 33, 63, 98, 100)];
        };
    }

    /**
     * A ClassBench-style trace: for each rule, {@code perRule} headers, each dimension at the
     * rule's low end, high end or a random interior value, so every header matches at least
     * the rule it was drawn from. Five ints per header (src, dst, sport, dport, proto).
     */
    public static int[] trace(FlatRules r, int perRule, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int[] out = new int[r.size() * perRule * 5];
        int k = 0;
        for (int i = 0; i < r.size(); i++) {
            for (int j = 0; j < perRule; j++) {
                for (int d = 0; d < 5; d++) {
                    long lo = Integer.toUnsignedLong(r.lo(i, d)), hi = Integer.toUnsignedLong(r.hi(i, d));
                    int c = rnd.nextInt(3);
                    out[k++] = (int) (c == 0 ? lo : c == 1 ? hi : lo + (long) (rnd.nextDouble() * (hi - lo + 1)));
                }
            }
        }
        return out;
    }

    /**
     * {@code r} (IPv4 5-tuple rules) with rule {@code which}'s box changed and everything else
     * (positions, actions, ids) kept: a new destination port, a new destination prefix, the
     * source widened to any address (which moves it to another partition), another rule's box,
     * or a source prefix around another rule's source. The one-rule edits of the update tests
     * and benchmarks.
     */
    public static FlatRules withOneRuleChanged(FlatRules r, int which, SplittableRandom rnd) {
        return withOneRuleChanged(r, which, rnd, 5);
    }

    /**
     * As {@link #withOneRuleChanged(FlatRules, int, SplittableRandom)} but drawing the edit from
     * the first {@code kinds} kinds only: 1 = destination port only (a rule keeps its shape).
     */
    public static FlatRules withOneRuleChanged(FlatRules r, int which, SplittableRandom rnd, int kinds) {
        int[] lo = new int[5], hi = new int[5];
        for (int d = 0; d < 5; d++) { lo[d] = r.lo(which, d); hi[d] = r.hi(which, d); }
        int other = rnd.nextInt(r.size());
        switch (rnd.nextInt(kinds)) {
            case 0 -> { int p = rnd.nextInt(65536); lo[3] = p; hi[3] = p; }
            case 1 -> { int len = rnd.nextInt(33); int a = rnd.nextInt(); int m = len == 0 ? 0 : -1 << (32 - len); lo[1] = a & m; hi[1] = (a & m) | ~m; }
            case 2 -> { lo[0] = 0; hi[0] = -1; }
            case 3 -> { for (int d = 0; d < 5; d++) { lo[d] = r.lo(other, d); hi[d] = r.hi(other, d); } }
            default -> { int len = 16 + rnd.nextInt(17); int a = r.lo(other, 0); int m = -1 << (32 - len); lo[0] = a & m; hi[0] = (a & m) | ~m; }
        }
        FlatRules.Builder b = FlatRules.builder(FlatRules.v4Dims(), FlatRules.v4PartitionDims());
        int[] l = new int[5], h = new int[5];
        for (int i = 0; i < r.size(); i++) {
            for (int d = 0; d < 5; d++) { l[d] = i == which ? lo[d] : r.lo(i, d); h[d] = i == which ? hi[d] : r.hi(i, d); }
            b.add(l, h, r.action(i), r.id(i));
        }
        return b.build();
    }
}
