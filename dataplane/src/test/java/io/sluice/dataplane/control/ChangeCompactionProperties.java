package io.sluice.dataplane.control;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * QuickTheories: random sequences of API changes (groups put and deleted, with references between
 * them; memberships; a VM's own rules; VMs created, replaced and deleted; a project created and
 * deleted) over the control fixture, each applied as the API would (a refused one is not made).
 * The reference is the replay of every change made. The shortened list a snapshot stores
 ({@link ChangeCompaction}) for the rules' families (groups, memberships, a VM's own rules), the
 * candidate a snapshot falls back to, always rebuilds exactly that value, and keeps at most the first
 * and the latest change of each resource between two deletes; a stream of replacements of every
 * family (VMs and projects too) shortens to two changes per resource and rebuilds the value.
 */
class ChangeCompactionProperties {
    private static final SluiceConfig FILE;

    static {
        try {
            FILE = ConfigLoader.parse("t.yaml", ControlFixtures.OVERLAY);
        } catch (ConfigException e) {
            throw new IllegalStateException(e);
        }
    }

    private static DesiredState.Change change(int op) throws Exception {
        int a = (op >>> 4) & 3, b = (op >>> 6) & 3, port = 1 + ((op >>> 8) & 1023);
        String[] vms = {"app", "db", "v0", "v1"};
        String body;
        return switch (op & 15) {
            case 0, 1, 2 -> {
                String ref = b == 0 ? "" : ",\"source_group\":\"g" + b + "\"";
                yield new DesiredState.Change(DesiredState.PUT_GROUP, "blue", "g" + a,
                        json("{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":" + port + ref + "}]}"));
            }
            case 3 -> new DesiredState.Change(DesiredState.DELETE_GROUP, "blue", "g" + a, null);
            case 4, 5 -> new DesiredState.Change(DesiredState.PUT_MEMBERSHIP, "blue", vms[a],
                    json("{\"groups\":[\"default\"" + (b == 0 ? "" : ",\"g" + b + "\"") + "]}"));
            case 6 -> new DesiredState.Change(VmFirewall.PUT, "blue", vms[a],
                    json(b == 0 ? "{}" : "{\"inbound_rules\":[{\"protocol\":\"udp\",\"port\":" + port + "}]}"));
            case 7, 8 -> {
                body = "{\"subnet\":\"a\",\"mac\":\"02:00:00:00:01:" + (40 + a) + "\",\"ipv4\":\"10.0.1." + (40 + a) + "\",\"remote_vtep\":\"192.0.2."
                        + (1 + b) + "\",\"security_groups\":[\"default\"" + (b == 0 ? "" : ",\"g" + b + "\"") + "]}";
                yield new DesiredState.Change(Projects.PUT_VM, "blue", vms[2 + (a & 1)], json(body));
            }
            case 9 -> new DesiredState.Change(Projects.DELETE_VM, "blue", vms[2 + (a & 1)], null);
            case 10 -> new DesiredState.Change(Projects.PUT_PROJECT, "green", "green",
                    json("{\"cidr\":\"10.8.0.0/16\",\"vni\":" + (300 + b) + ",\"subnets\":[{\"name\":\"web\",\"cidr\":\"10.8.1.0/24\"}]}"));
            case 11 -> new DesiredState.Change(Projects.DELETE_PROJECT, "green", "green", null);
            case 12 -> new DesiredState.Change(DesiredState.PUT_GROUP, "green", "g" + a,
                    json("{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":" + port + "}]}"));
            default -> new DesiredState.Change(DesiredState.PUT_GROUP, "red", "g" + a,
                    json("{\"outbound_rules\":[{\"protocol\":\"tcp\",\"port\":" + port + "}]}"));
        };
    }

    private static com.fasterxml.jackson.databind.JsonNode json(String s) throws ApiException {
        return GroupCodec.parse(s.getBytes(StandardCharsets.UTF_8));
    }

    /** The changes of {@code ops} that the API accepts, in order; {@code end[0]} the state they make. */
    private static List<DesiredState.Change> made(List<Integer> ops, DesiredState[] end) throws Exception {
        DesiredState st = new DesiredState(FILE);
        List<DesiredState.Change> made = new ArrayList<>();
        for (int op : ops) {
            DesiredState.Change c = change(op);
            try {
                st = st.apply(c);
            } catch (ApiException refused) {
                continue;
            }
            ControlPlane.remember(made, c);
        }
        end[0] = st;
        return made;
    }

    private static boolean rebuilds(List<DesiredState.Change> list, DesiredState value) {
        try {
            return DesiredState.replay(FILE, list).sameAs(value);
        } catch (ConfigException e) {
            return false;
        }
    }

    @Test
    void aSnapshotsListRebuildsTheValueOfEveryChange() {
        qt().withExamples(400).withShrinkCycles(200)
                .forAll(lists().of(integers().between(0, 1 << 18)).ofSizeBetween(0, 120))
                .checkAssert(ops -> {
                    try {
                        DesiredState[] end = new DesiredState[1];
                        List<DesiredState.Change> made = made(ops, end);
                        assertTrue(rebuilds(made, end[0]), "the change list itself (a reload's) rebuilds the value");
                        List<DesiredState.Change> rules = ChangeCompaction.compact(made, ChangeCompaction.RULES);
                        assertTrue(rebuilds(rules, end[0]), "the rules' families shortened: " + rules);
                        assertTrue(rules.size() <= made.size());
                        // between two deletes of a project, at most the first and the latest change of each of its resources
                        int deletes = (int) made.stream().filter(c -> c.action().endsWith(".delete")).count();
                        int resources = 3 * 4 * 3 + 4 * 2; // blue/green/red groups, 4 VMs' memberships and own rules
                        assertTrue(rules.stream().filter(c -> RULE_ACTIONS.contains(c.action())).count() <= 2L * resources * (deletes + 1),
                                "kept " + rules.size() + " of " + made.size());
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
    }

    private static final Set<String> RULE_ACTIONS = Set.of(DesiredState.PUT_GROUP, DesiredState.PUT_MEMBERSHIP, VmFirewall.PUT);

    @Test
    void allFamiliesShortenAStreamOfReplacements() throws Exception {
        // the common case: groups re-PUT with references to each other, memberships and VMs replaced
        List<Integer> ops = new ArrayList<>();
        java.util.Random r = new java.util.Random(7);
        for (int i = 0; i < 2000; i++) {
            int kind = new int[] {0, 1, 2, 4, 5, 6, 7, 8}[r.nextInt(8)];
            ops.add(kind | (r.nextInt(1 << 14) << 4));
        }
        DesiredState[] end = new DesiredState[1];
        List<DesiredState.Change> made = made(ops, end);
        List<DesiredState.Change> all = ChangeCompaction.compact(made, ChangeCompaction.ALL);
        assertTrue(rebuilds(all, end[0]));
        assertTrue(all.size() <= 2 * (4 + 4 + 4 + 2), "kept " + all.size() + " of " + made.size());
        assertEquals(end[0].config(), DesiredState.replay(FILE, all).config());
    }
}
