package io.sluice.bench.firewall;

import io.sluice.dataplane.config.FirewallConfig;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.PlatformLayer;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.SgRule;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The whole {@link FirewallState#apply} of a one-rule change to a VM port whose group has
 * {@code RULES} rules (what the control API waits for): effective-list expansion, the table
 * update, the snapshot. Changes: two of three set a random rule's port, the third inserts a rule
 * at a random position or removes one (alternately). One change every {@code EVERY_US}
 * microseconds, 300 of warm-up, then {@code CHANGES} timed ({@code -Dsluice.bench.portOnly=true}: port
 * changes only; {@code -Dsluice.bench.decoded=true}: the group's rules decoded anew, as from a PUT). Prints one table row: wall p50 / p99 /
 * p99.9 / max of apply in microseconds, and how many applies handed a list to the folder.
 * Run it twice, with the default (lists of 1,000+ rules deferred) and with
 * {@code -Dsluice.rules.deferFrom=2000000000} (every list updated inside apply), for the A/B.
 * Usage: {@code FirewallApplyLatency RULES CHANGES EVERY_US}.
 */
public final class FirewallApplyLatency {
    private FirewallApplyLatency() {}

    /** {@code -Dsluice.bench.portOnly=true}: every change sets a rule's port (no inserts or removals). */
    private static final boolean PORT_ONLY = Boolean.getBoolean("sluice.bench.portOnly");
    /**
     * {@code -Dsluice.bench.decoded=true}: every rule of the changed group is a new object equal by
     * value to the one before (as the control API's PUT of a whole group decodes them), not the same object.
     */
    private static final boolean DECODED = Boolean.getBoolean("sluice.bench.decoded");

    private static SgRule rule(int i, int port) {
        IpPrefix from = IpPrefix.parse("10." + ((i >> 8) & 255) + "." + (i & 255) + ".0/24");
        return new SgRule("big/r" + i, Direction.INGRESS, IpFamily.V4, 6, port, port, -1, -1, from, null);
    }

    private static FirewallConfig config(List<SgRule> rules) {
        List<FirewallConfig.VmPort> vms = List.of(new FirewallConfig.VmPort(0, "vm0", List.of(IpPrefix.parse("192.168.0.5/32")), List.of("big"), 1));
        return new FirewallConfig(Map.of("big", new SecurityGroup("big", rules)), Map.of("big", false), vms, PlatformLayer.defaults(), 1 << 16, 1 << 16, 64, 1000, true, null);
    }

    /** Entry point. */
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]), changes = Integer.parseInt(args[1]), everyUs = Integer.parseInt(args[2]);
        List<SgRule> rules = new ArrayList<>();
        for (int i = 0; i < n; i++) rules.add(rule(i, 1000 + i % 60000));
        FirewallState fw = new FirewallState(1, config(rules));
        SplittableRandom rnd = new SplittableRandom(7);
        int warm = 300, next = n;
        boolean insert = true;
        long[] ns = new long[changes];
        long deferred = 0;
        long due = System.nanoTime();
        for (int c = 0; c < warm + changes; c++) {
            List<SgRule> r = new ArrayList<>(rules);
            if (c % 3 != 2 || PORT_ONLY) {
                int at = rnd.nextInt(r.size());
                SgRule old = r.get(at);
                int port = 1 + rnd.nextInt(65535);
                r.set(at, new SgRule(old.id(), old.direction(), old.family(), old.protocol(), port, port, -1, -1, old.remoteCidr(), null));
            } else if (insert) {
                r.add(rnd.nextInt(r.size() + 1), rule(next++, 1 + rnd.nextInt(65535)));
                insert = false;
            } else {
                r.remove(rnd.nextInt(r.size()));
                insert = true;
            }
            if (DECODED) r.replaceAll(x -> new SgRule(new String(x.id()), x.direction(), x.family(), x.protocol(), x.portMin(), x.portMax(),
                    x.icmpType(), x.icmpCode(), x.remoteCidr() == null ? null : new IpPrefix(x.remoteCidr().family(), x.remoteCidr().hi(), x.remoteCidr().lo(), x.remoteCidr().length()), null));
            FirewallConfig cfg = config(r);
            due += everyUs * 1000L;
            while (System.nanoTime() < due) java.util.concurrent.locks.LockSupport.parkNanos(Math.min(50_000, due - System.nanoTime()));
            long t = System.nanoTime();
            fw.apply(cfg);
            long d = System.nanoTime() - t;
            if (c >= warm) {
                ns[c - warm] = d;
                if (fw.lastDeferredLists() > 0) deferred++;
            }
            rules = r;
        }
        fw.settleTables();
        Arrays.sort(ns);
        System.out.printf("| %d | %d | %d | %s | %.0f | %.0f | %.0f | %.0f | %d |%n", n, changes, everyUs, System.getProperty("sluice.rules.deferFrom", "1000 (default)"),
                ns[changes / 2] / 1e3, ns[pct(changes, 0.99)] / 1e3, ns[pct(changes, 0.999)] / 1e3, ns[changes - 1] / 1e3, deferred);
    }

    private static int pct(int n, double q) {
        return (int) Math.min(n - 1, Math.ceil(n * q) - 1);
    }
}
