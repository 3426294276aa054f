package io.sluice.rules.sg;

import io.sluice.rules.compile.FlatRules;
import io.sluice.rules.model.CloudConfig;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.PlatformLayer;
import io.sluice.rules.model.Protocols;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.SgRule;
import io.sluice.rules.model.VmInterface;
import io.sluice.rules.model.RuleValidationException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Expands an interface's rules for one direction and family into an ordered {@link FlatRules}
 * list: the platform denies that apply to it, then its groups' allows in group order, each
 * remote group expanded to one rule per member address. Key layout: IPv4
 * {@code [src, dst, sport, dport, proto]}, IPv6 {@code [src x4, dst x4, sport, dport, proto]};
 * the remote prefix goes on the source side for ingress and the destination side for egress;
 * ICMP type/code use the sport/dport dimensions.
 *
 * @param rules the flat rules
 * @param names rule id per position
 */
public record EffectiveRules(FlatRules rules, List<String> names) {

    /** Builds the list for {@code iface} in {@code cfg}. */
    public static EffectiveRules of(CloudConfig cfg, String iface, Direction dir, IpFamily f) {
        return expand(cfg, iface, dir, f, null);
    }

    /**
     * {@link #of}; with {@code ends} (one slot per group of the interface), also where each group's
     * rules landed: {@code ends[j][0]} is the position of group j's first rule in the list and
     * {@code ends[j][i + 1]} the position after its rule i's (0 for a rule of another direction or
     * family, one per member for a remote-group rule).
     */
    private static EffectiveRules expand(CloudConfig cfg, String iface, Direction dir, IpFamily f, int[][] ends) {
        VmInterface vm = cfg.interfaces().get(iface);
        if (vm == null) throw new RuleValidationException("interface", "unknown interface " + iface);
        int guess = cfg.platform().denies().size(); // the rules of this direction and family: room for them at once
        for (String gid : vm.groups()) {
            SecurityGroup g = cfg.groups().get(gid);
            if (g == null) continue;
            for (SgRule r : g.rules()) if (r.direction() == dir && r.appliesTo(f)) guess++;
        }
        FlatRules.Builder b = builder(f, guess);
        List<String> names = new ArrayList<>(guess);
        int[] lo = new int[dimsOf(f)], hi = new int[dimsOf(f)]; // scratch: the builder copies them
        for (SgRule r : cfg.platform().denies()) {
            if (r.direction() == dir && r.appliesTo(f) && cfg.platform().applies(r, iface)) add(b, names, lo, hi, r, r.remoteCidr(), dir, f, FlatRules.DENY);
        }
        for (int j = 0; j < vm.groups().size(); j++) {
            String gid = vm.groups().get(j);
            SecurityGroup g = cfg.groups().get(gid);
            if (g == null) throw new RuleValidationException("groups", "interface " + iface + " names unknown group " + gid);
            int[] end = ends == null ? null : (ends[j] = new int[g.rules().size() + 1]);
            if (end != null) end[0] = names.size();
            addRules(cfg, g.rules(), 0, g.rules().size(), b, names, lo, hi, dir, f, end, 0);
        }
        return new EffectiveRules(b.build(), nameList(names.toArray(new String[0])));
    }

    /** The names list of a result: one unmodifiable class for all (the callers' loops stay monomorphic), over an array no one else holds. */
    private static List<String> nameList(String[] names) {
        return new Names(names);
    }

    /** Unmodifiable names over an array; the cache copies ranges of it when it patches a list. */
    private static final class Names extends java.util.AbstractList<String> implements java.util.RandomAccess {
        final String[] a;

        Names(String[] a) { this.a = a; }

        @Override
        public String get(int i) { return a[i]; }

        @Override
        public int size() { return a.length; }
    }

    /** The array behind {@code v}'s names (a copy when they are not this class's). */
    private static String[] nameArray(EffectiveRules v) {
        return v.names() instanceof Names n ? n.a : v.names().toArray(new String[0]);
    }

    /** Key dimensions of a list of family {@code f}: IPv4 [src, dst, sport, dport, proto], IPv6 the addresses as 4 words each. */
    private static int dimsOf(IpFamily f) { return f == IpFamily.V4 ? 5 : 11; }

    /** A builder for a list of family {@code f} with room for {@code rules} rules. */
    private static FlatRules.Builder builder(IpFamily f, int rules) {
        boolean v4 = f == IpFamily.V4;
        return FlatRules.builder(v4 ? FlatRules.v4Dims() : FlatRules.v6Dims(), v4 ? FlatRules.v4PartitionDims() : FlatRules.v6PartitionDims(), rules);
    }

    /** Adds rules {@code [from, to)} of a group; {@code end[i + 1 - endOff]} (if given) gets the position after rule i's. */
    private static void addRules(CloudConfig cfg, List<SgRule> rules, int from, int to, FlatRules.Builder b, List<String> names, int[] lo, int[] hi,
                                 Direction dir, IpFamily f, int[] end, int endOff) {
        for (int i = from; i < to; i++) {
            SgRule r = rules.get(i);
            if (r.direction() == dir && r.appliesTo(f)) {
                if (r.remoteGroup() != null) {
                    if (!cfg.groups().containsKey(r.remoteGroup())) throw new RuleValidationException("remoteGroup", "unknown group " + r.remoteGroup() + " in rule " + r.id());
                    for (IpPrefix m : cfg.members(r.remoteGroup(), f)) add(b, names, lo, hi, r, m, dir, f, FlatRules.ALLOW);
                } else {
                    add(b, names, lo, hi, r, r.remoteCidr(), dir, f, FlatRules.ALLOW);
                }
            }
            if (end != null) end[i + 1 - endOff] = names.size();
        }
    }

    /**
     * Checks what {@link #of} checks (the interface, its groups and the remote groups their rules
     * name exist), in the same order and with the same exception, without building the list.
     *
     * @throws RuleValidationException exactly when {@link #of} throws it, with the same field and reason
     */
    public static void check(CloudConfig cfg, String iface, Direction dir, IpFamily f) {
        VmInterface vm = cfg.interfaces().get(iface);
        if (vm == null) throw new RuleValidationException("interface", "unknown interface " + iface);
        for (String gid : vm.groups()) {
            SecurityGroup g = cfg.groups().get(gid);
            if (g == null) throw new RuleValidationException("groups", "interface " + iface + " names unknown group " + gid);
            for (SgRule r : g.rules()) {
                if (r.remoteGroup() == null || r.direction() != dir || !r.appliesTo(f)) continue;
                if (!cfg.groups().containsKey(r.remoteGroup())) throw new RuleValidationException("remoteGroup", "unknown group " + r.remoteGroup() + " in rule " + r.id());
            }
        }
    }

    /**
     * {@link #of} remembered per (interface, direction, family): a list is expanded again only when
     * what it is made of changed, i.e. the platform layer, the interface's group list, one of those
     * groups (a new {@link SecurityGroup} value: groups are immutable, so the same object is the same
     * rules) or the members of a remote group their rules name. Otherwise the same
     * {@link EffectiveRules} object comes back (callers may compare by identity). One thread.
     */
    public static final class Cache {
        private record Key(String iface, Direction dir, IpFamily f) {}

        private record Entry(PlatformLayer platform, List<String> groupIds, SecurityGroup[] groups, List<List<IpPrefix>> members,
                             EffectiveRules value, int[][] ends) {}

        /** How one group's value changed: its rules before and after, and how many of the first ({@code p}) and last ({@code q}) are unchanged (by value). */
        private record Change(SecurityGroup was, SecurityGroup now, List<SgRule> wasRules, List<SgRule> nowRules, int p, int q) {}

        private final Map<Key, Entry> entries = new HashMap<>();
        /** Per group value: the remote groups its rules name, by direction and family (index dir * 2 + family). */
        private final Map<SecurityGroup, List<List<String>>> remotes = new IdentityHashMap<>();
        private int hits;
        private int misses;
        private int patches;
        /** The last group change compared (the four lists of an interface ask for the same one). */
        private Change change;

        /** As {@link EffectiveRules#of}, the same object when nothing it depends on changed. */
        public EffectiveRules of(CloudConfig cfg, String iface, Direction dir, IpFamily f) {
            VmInterface vm = cfg.interfaces().get(iface);
            Key k = new Key(iface, dir, f);
            Entry e = entries.get(k);
            if (vm == null) {
                entries.remove(k);
                return EffectiveRules.of(cfg, iface, dir, f); // throws
            }
            SecurityGroup[] gs = new SecurityGroup[vm.groups().size()];
            List<List<IpPrefix>> members = new ArrayList<>();
            for (int i = 0; i < gs.length; i++) {
                gs[i] = cfg.groups().get(vm.groups().get(i));
                if (e != null && i < e.groups.length && gs[i] != null && gs[i] != e.groups[i] && !remotes.containsKey(gs[i])) {
                    inheritRemotes(e.groups[i], gs[i]); // before remotes(gs[i]) scans the whole group
                }
                if (gs[i] == null) {
                    entries.remove(k);
                    return EffectiveRules.of(cfg, iface, dir, f); // throws
                }
                for (String rg : remotes(gs[i]).get(dir.ordinal() * 2 + f.ordinal())) {
                    if (!cfg.groups().containsKey(rg)) {
                        entries.remove(k);
                        return EffectiveRules.of(cfg, iface, dir, f); // throws
                    }
                    members.add(cfg.members(rg, f));
                }
            }
            // the same platform, group list and remote-group members: only group values can differ
            boolean sameFrame = e != null && (e.platform == cfg.platform() || e.platform.equals(cfg.platform())) && e.groupIds.equals(vm.groups())
                    && e.members.equals(members);
            if (sameFrame && sameObjects(e.groups, gs)) {
                hits++;
                return e.value;
            }
            misses++;
            int[][] ends = new int[gs.length][];
            EffectiveRules v = sameFrame ? patch(cfg, e, gs, dir, f, ends) : null; // one group's value changed: only its changed rules are expanded again
            if (v == null) v = expand(cfg, iface, dir, f, ends);
            else patches++;
            entries.put(k, new Entry(cfg.platform(), vm.groups(), gs, members, v, ends));
            return v;
        }

        /**
         * The list of {@code e} with the one group whose value changed expanded again between its
         * unchanged first and last rules (compared by value); null when more than one group changed.
         * Fills {@code ends} as {@link EffectiveRules#expand} does.
         */
        private EffectiveRules patch(CloudConfig cfg, Entry e, SecurityGroup[] gs, Direction dir, IpFamily f, int[][] ends) {
            int j = -1;
            for (int i = 0; i < gs.length; i++) {
                if (gs[i] == e.groups[i]) continue;
                if (j >= 0) return null;
                j = i;
            }
            if (j < 0) return null;
            int l = dir.ordinal() * 2 + f.ordinal();
            // the same remote groups named in the same order: equal member lists then mean every named
            // remote group kept its members, so an unchanged rule expands as before
            if (!remotes(e.groups[j]).get(l).equals(remotes(gs[j]).get(l))) return null;
            Change c = change(e.groups[j], gs[j]);
            int n0 = c.wasRules.size(), n1 = c.nowRules.size(), p = c.p, q = c.q;
            int[] oldEnd = e.ends[j];
            int cutFrom = oldEnd[p], cutTo = oldEnd[n0 - q]; // the old list's positions of the changed rules
            FlatRules old = e.value.rules();
            // the changed rules alone first (ids from 0, ends from 0), then the whole list at its exact size
            List<String> midNames = new ArrayList<>();
            FlatRules.Builder mb = builder(f, Math.max(1, n1 - q - p));
            int m = n1 - q - p;
            int[] midEnd = new int[m + 1];
            addRules(cfg, c.nowRules, p, n1 - q, mb, midNames, new int[dimsOf(f)], new int[dimsOf(f)], dir, f, midEnd, p);
            int mid = midNames.size(), shift = cutFrom + mid - cutTo; // positions after the changed rules move by this much (ids are positions)
            boolean sameEnds = n0 == n1 && shift == 0; // e.g. a rule changed in place: the old ends hold
            for (int k = 1; k <= m && sameEnds; k++) sameEnds = cutFrom + midEnd[k] == oldEnd[p + k];
            int[] end = oldEnd;
            if (!sameEnds) {
                end = new int[n1 + 1];
                System.arraycopy(oldEnd, 0, end, 0, p + 1);
                for (int k = 1; k <= m; k++) end[p + k] = cutFrom + midEnd[k];
                for (int i = n1 - q; i < n1; i++) end[i + 1] = oldEnd[i + 1 - (n1 - n0)] + shift;
            }
            for (int i = 0; i < gs.length; i++) {
                if (i == j) ends[i] = end;
                else if (i < j || shift == 0) ends[i] = e.ends[i];
                else {
                    ends[i] = e.ends[i].clone();
                    for (int x = 0; x < ends[i].length; x++) ends[i][x] += shift;
                }
            }
            if (mid == 0 && cutFrom == cutTo) return e.value; // none of the changed rules is in this list: the same list
            FlatRules changed = mb.build();
            int size = old.size() + shift;
            FlatRules.Builder b = builder(f, size);
            b.addRange(old, 0, cutFrom, 0);
            b.addRange(changed, 0, mid, cutFrom);
            b.addRange(old, cutTo, old.size(), shift);
            String[] oldNames = nameArray(e.value);
            boolean sameNames = shift == 0;
            for (int i = 0; i < mid && sameNames; i++) sameNames = midNames.get(i).equals(oldNames[cutFrom + i]);
            if (sameNames) return new EffectiveRules(b.build(), e.value.names()); // rules changed in place: the same names list
            String[] names = new String[size];
            System.arraycopy(oldNames, 0, names, 0, cutFrom);
            for (int i = 0; i < mid; i++) names[cutFrom + i] = midNames.get(i);
            System.arraycopy(oldNames, cutTo, names, cutFrom + mid, old.size() - cutTo);
            return new EffectiveRules(b.build(), nameList(names));
        }

        /** The rules of {@code was} and {@code now} compared from both ends (by value); remembered for the next list. */
        private Change change(SecurityGroup was, SecurityGroup now) {
            Change c = change;
            if (c != null && c.was == was && c.now == now) return c;
            List<SgRule> a = was.rules(), b = now.rules();
            int n0 = a.size(), n1 = b.size(), p = 0, q = 0;
            while (p < n0 && p < n1 && same(a.get(p), b.get(p))) p++;
            while (q < n0 - p && q < n1 - p && same(a.get(n0 - 1 - q), b.get(n1 - 1 - q))) q++;
            return change = new Change(was, now, a, b, p, q);
        }

        /**
         * The remote groups {@code now} names, taken from {@code was} when the rules that differ name
         * none (the names are kept in order of first use, so they are the same); else left to
         * {@link #remotes} to find.
         */
        private void inheritRemotes(SecurityGroup was, SecurityGroup now) {
            List<List<String>> r = remotes.get(was);
            if (r == null) return;
            Change c = change(was, now);
            for (int i = c.p; i < c.wasRules.size() - c.q; i++) if (c.wasRules.get(i).remoteGroup() != null) return;
            for (int i = c.p; i < c.nowRules.size() - c.q; i++) if (c.nowRules.get(i).remoteGroup() != null) return;
            remotes.put(now, r);
        }

        /** Forgets what is not in {@code cfg} any more (interfaces and group values). */
        public void retain(CloudConfig cfg) {
            entries.keySet().removeIf(k -> !cfg.interfaces().containsKey(k.iface()));
            java.util.Set<SecurityGroup> live = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
            live.addAll(cfg.groups().values());
            remotes.keySet().retainAll(live);
        }

        /** Lists served from the cache since this object was made. */
        public int hits() { return hits; }

        /** Lists expanded since this object was made. */
        public int misses() { return misses; }

        /** Of the misses, lists made from the previous one with only one group's changed rules expanded again. */
        public int patches() { return patches; }

        private List<List<String>> remotes(SecurityGroup g) {
            List<List<String>> r = remotes.get(g);
            if (r != null) return r;
            List<java.util.Set<String>> sets = new ArrayList<>(4);
            for (int i = 0; i < 4; i++) sets.add(new java.util.LinkedHashSet<>());
            for (SgRule rule : g.rules()) { // one pass (a group can hold thousands of rules)
                if (rule.remoteGroup() == null) continue;
                for (IpFamily f : IpFamily.values()) if (rule.appliesTo(f)) sets.get(rule.direction().ordinal() * 2 + f.ordinal()).add(rule.remoteGroup());
            }
            List<List<String>> out = new ArrayList<>(4);
            for (java.util.Set<String> names : sets) out.add(List.copyOf(names));
            remotes.put(g, out);
            return out;
        }

        private static boolean same(SgRule a, SgRule b) {
            return a == b || a.equals(b);
        }

        private static boolean sameObjects(Object[] a, Object[] b) {
            if (a.length != b.length) return false;
            for (int i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
            return true;
        }
    }

    private static void add(FlatRules.Builder b, List<String> names, int[] lo, int[] hi, SgRule r, IpPrefix remote, Direction dir, IpFamily f, byte action) {
        int words = f == IpFamily.V4 ? 1 : 4;
        int remoteBase = dir == Direction.INGRESS ? 0 : words;
        int localBase = dir == Direction.INGRESS ? words : 0;
        IpPrefix rp = remote == null ? IpPrefix.any(f) : remote;
        for (int w = 0; w < words; w++) {
            long[] x = rp.wordRange(w);
            lo[remoteBase + w] = (int) x[0];
            hi[remoteBase + w] = (int) x[1];
            lo[localBase + w] = 0;
            hi[localBase + w] = -1;
        }
        int sp = 2 * words, dp = sp + 1, pr = sp + 2;
        lo[sp] = 0; hi[sp] = 65535;
        lo[dp] = 0; hi[dp] = 65535;
        if (Protocols.hasPorts(r.protocol()) && (r.portMin() != 0 || r.portMax() != 0)) {
            lo[dp] = r.portMin(); hi[dp] = r.portMax();
        } else if (Protocols.isIcmp(r.protocol()) && r.icmpType() >= 0) {
            lo[sp] = r.icmpType(); hi[sp] = r.icmpType();
            if (r.icmpCode() >= 0) { lo[dp] = r.icmpCode(); hi[dp] = r.icmpCode(); }
        }
        if (r.protocol() == Protocols.ANY) { lo[pr] = 0; hi[pr] = 255; } else { lo[pr] = r.protocol(); hi[pr] = r.protocol(); }
        b.add(lo, hi, action, names.size());
        names.add(r.id());
    }
}
