package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Set;

/**
 * The project and VM resources of the control API (docs/api.md), beside {@link ControlApi}'s
 * security-group routes: {@code /v1/projects/{p}} and {@code /v1/projects/{p}/vms[/{vm}]}. Every
 * change goes the one way: {@link Projects} computes the new value, {@link ControlPlane#change}
 * journals it, applies the diff and answers once every worker uses it.
 */
final class ProjectRoutes {
    /** The audit action prefix of {@code /v1/projects/{p}} (the one route whose project may not exist yet). */
    static final String PROJECT = "project.";

    private ProjectRoutes() {}

    /** The route of {@code /v1/projects/...} split into segments {@code s}, or null when it is none of these. */
    static ControlApi.Route route(ControlPlane plane, String[] s) {
        String p = s[1];
        if (s.length == 2) {
            return new ControlApi.Route(PROJECT, p, p, Set.of("GET", "PUT", "DELETE"), true, c -> project(plane, c, p));
        }
        if (s.length == 3 && s[2].equals("vms")) {
            return new ControlApi.Route("vm.list", p, p, Set.of("GET"), false, c -> vms(plane, p));
        }
        if (s.length == 4 && s[2].equals("vms")) {
            String vm = s[3];
            return new ControlApi.Route("vm.", p, p + "/" + vm, Set.of("GET", "PUT", "DELETE"), false, c -> vm(plane, c, p, vm));
        }
        return null;
    }

    private static ControlApi.Reply project(ControlPlane plane, ControlApi.Call c, String p) throws ApiException {
        switch (c.method()) {
            case "GET" -> {
                ObjectNode o = Projects.project(plane.state().config(), p);
                if (o == null) throw ApiException.notFound("no project '" + GroupCodec.clip(p) + "'");
                o.put("generation", plane.generation());
                return new ControlApi.Reply(200, o);
            }
            case "PUT" -> {
                return put(plane, c, Projects.PUT_PROJECT, p, p, () -> Projects.project(plane.state().config(), p));
            }
            default -> {
                long gen = plane.change(new DesiredState.Change(Projects.DELETE_PROJECT, p, p, null), new long[ControlPlane.PHASES.length]);
                return deleted(p, gen);
            }
        }
    }

    private static ControlApi.Reply vms(ControlPlane plane, String p) {
        ObjectNode o = GroupCodec.JSON.createObjectNode();
        o.put("project", p);
        ArrayNode a = o.putArray("vms");
        ObjectNode proj = Projects.project(plane.state().config(), p);
        if (proj != null) {
            for (JsonNode name : proj.get("vms")) a.add(Projects.vm(plane.state().config(), p, name.textValue()));
        }
        o.put("generation", plane.generation());
        return new ControlApi.Reply(200, o);
    }

    private static ControlApi.Reply vm(ControlPlane plane, ControlApi.Call c, String p, String vm) throws ApiException {
        if (!c.method().equals("GET") && !c.key().operator()) throw new ApiException(403, "vm." + c.method().toLowerCase(java.util.Locale.ROOT) + " needs an operator key");
        switch (c.method()) {
            case "GET" -> {
                ObjectNode o = Projects.vm(plane.state().config(), p, vm);
                if (o == null) throw ApiException.notFound("no VM '" + GroupCodec.clip(vm) + "' in project " + p);
                o.put("generation", plane.generation());
                return new ControlApi.Reply(200, o);
            }
            case "PUT" -> {
                return put(plane, c, Projects.PUT_VM, p, vm, () -> Projects.vm(plane.state().config(), p, vm));
            }
            default -> {
                long gen = plane.change(new DesiredState.Change(Projects.DELETE_VM, p, vm, null), new long[ControlPlane.PHASES.length]);
                return deleted(p + "/" + vm, gen);
            }
        }
    }

    /** A PUT: the body parsed, the change made, the resource answered with the new generation and the phases' timing. */
    private static ControlApi.Reply put(ControlPlane plane, ControlApi.Call c, String action, String p, String name,
                                        java.util.function.Supplier<ObjectNode> answer) throws ApiException {
        long t0 = System.nanoTime();
        JsonNode doc = GroupCodec.parse(c.body());
        long parse = System.nanoTime() - t0;
        long[] nanos = new long[ControlPlane.PHASES.length];
        long gen = plane.change(new DesiredState.Change(action, p, name, doc), nanos);
        ObjectNode o = answer.get();
        o.put("generation", gen);
        return new ControlApi.Reply(200, o, ControlApi.timing(parse, nanos));
    }

    private static ControlApi.Reply deleted(String what, long gen) {
        ObjectNode o = GroupCodec.JSON.createObjectNode();
        o.put("deleted", what);
        o.put("generation", gen);
        return new ControlApi.Reply(200, o);
    }
}
