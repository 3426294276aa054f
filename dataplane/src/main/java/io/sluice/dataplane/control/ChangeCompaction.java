package io.sluice.dataplane.control;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The shortening of the API's change list that a journal snapshot stores (docs/api.md, "Journal
 * snapshots"). Each change has a resource (a group, a VM's memberships, a VM's own firewall, a VM, a
 * project); a resource's <em>span</em> runs from the change that creates or first replaces it until
 * a delete in its project. Within a span only the first change (it made the resource exist where
 * later changes of other resources expect it, and gives it its place in the value's order) and the
 * latest (its value now) are kept: a PUT replaces the whole resource, so the ones between give
 * nothing the latest does not. A delete (of a group, a VM or the project) is kept and ends every
 * span of its project: what was deleted may have been named by an earlier version of another
 * resource there. Floating-IP changes are kept whole (each one also changes another VM's public
 * access). Without deletes the result is at most two changes per resource, however many were made.
 *
 * <p>This is a candidate: whether it rebuilds exactly the same value is checked by replaying it
 * ({@link ControlPlane#snapshot}), and a family whose shortening does not is left whole.
 */
final class ChangeCompaction {
    /** The families of resources, by the first character of their key: groups, memberships, a VM's own rules, VMs, projects. */
    static final Set<Character> ALL = Set.of('g', 'm', 'f', 'v', 'p');
    /** The families whose changes are the rules themselves (groups, memberships, a VM's own rules). */
    static final Set<Character> RULES = Set.of('g', 'm', 'f');
    /** Groups alone. */
    static final Set<Character> GROUPS = Set.of('g');

    private ChangeCompaction() {}

    /** {@code changes} with the changes between the first and the latest of each span of the {@code families} left out. */
    static List<DesiredState.Change> compact(List<DesiredState.Change> changes, Set<Character> families) {
        Map<String, int[]> span = new HashMap<>(); // key -> {first, latest}
        boolean[] drop = new boolean[changes.size()];
        for (int i = 0; i < changes.size(); i++) {
            DesiredState.Change c = changes.get(i);
            String a = c.action();
            String p = c.project() + "\u0000" + c.name();
            switch (a) {
                case DesiredState.PUT_GROUP -> put(span, drop, "g\u0000" + p, i, families);
                case DesiredState.PUT_MEMBERSHIP -> put(span, drop, "m\u0000" + p, i, families);
                case VmFirewall.PUT -> put(span, drop, "f\u0000" + p, i, families);
                case Projects.PUT_VM -> put(span, drop, "v\u0000" + p, i, families);
                case Projects.PUT_PROJECT -> put(span, drop, "p\u0000" + c.project() + "\u0000", i, families);
                case DesiredState.DELETE_GROUP, Projects.DELETE_VM, Projects.DELETE_PROJECT -> {
                    // every span of the project ends here
                    String in = "\u0000" + c.project() + "\u0000";
                    span.keySet().removeIf(k -> k.startsWith(in, 1));
                }
                default -> { } // floating IPs (and anything else): kept as they are, spans go on across them
            }
        }
        List<DesiredState.Change> out = new ArrayList<>();
        for (int i = 0; i < changes.size(); i++) if (!drop[i]) out.add(changes.get(i));
        return out;
    }

    private static void put(Map<String, int[]> span, boolean[] drop, String key, int i, Set<Character> families) {
        if (!families.contains(key.charAt(0))) return;
        int[] s = span.get(key);
        if (s == null) {
            span.put(key, new int[] {i, i});
            return;
        }
        if (s[1] != s[0]) drop[s[1]] = true; // neither the first nor the latest any more
        s[1] = i;
    }
}
