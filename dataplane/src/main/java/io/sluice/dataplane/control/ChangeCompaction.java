package io.sluice.dataplane.control;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The shortening of the API's change list that a journal snapshot stores (docs/api.md, "Journal
 * snapshots"). Each change has a resource (a group, a VM's memberships, a VM's own firewall, a VM, a
 * project, a floating IP); a resource's <em>span</em> runs from the change that creates or first
 * replaces it to the change that deletes it. Within a span, only the first change (which made the
 * resource exist where the later changes of other resources expect it) and the latest (its value
 * now) are kept: a PUT replaces the whole resource, so the ones between give nothing the latest does
 * not. A delete ends the span and is kept. The result is bounded by the state's size (two changes
 * per resource, plus its deletes), not by the number of changes made.
 *
 * <p>This is a candidate: whether it rebuilds exactly the same value is checked by replaying it
 * ({@link ControlPlane}), and a family whose shortening does not is left whole.
 */
final class ChangeCompaction {
    /** The families of resources, by the first character of their key. */
    static final Set<Character> ALL = Set.of('g', 'm', 'f', 'v', 'p', 'i');
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
                case DesiredState.DELETE_GROUP -> span.remove("g\u0000" + p);
                case DesiredState.PUT_MEMBERSHIP -> put(span, drop, "m\u0000" + p, i, families);
                case VmFirewall.PUT -> put(span, drop, "f\u0000" + p, i, families);
                case Projects.PUT_VM -> {
                    // a VM PUT sets its groups too: its memberships and own rules start new spans
                    span.remove("m\u0000" + p);
                    span.remove("f\u0000" + p);
                    put(span, drop, "v\u0000" + p, i, families);
                }
                case Projects.DELETE_VM -> {
                    span.remove("m\u0000" + p);
                    span.remove("f\u0000" + p);
                    span.remove("v\u0000" + p);
                }
                case Projects.PUT_PROJECT -> put(span, drop, "p\u0000" + c.project() + "\u0000", i, families);
                case Projects.DELETE_PROJECT -> {
                    // everything of the project ends with it
                    String in = "\u0000" + c.project() + "\u0000";
                    span.keySet().removeIf(k -> k.startsWith(in, 1));
                }
                case FloatingIps.ALLOCATE, FloatingIps.PUT -> put(span, drop, "i\u0000\u0000" + c.name(), i, families);
                case FloatingIps.RELEASE -> span.remove("i\u0000\u0000" + c.name());
                default -> span.clear(); // an action this does not know: nothing before it is shortened across it
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
