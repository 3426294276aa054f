package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Map;
import java.util.Set;

/**
 * {@code /v1/projects/{p}/floating-ips[/{ip}]} (docs/api.md; the state side is {@link FloatingIps}):
 * GET the collection or one address, POST allocates, PUT associates / reassigns / detaches, DELETE
 * releases. An address another project holds is 404 to GET and DELETE (as one that does not exist)
 * and 409 to PUT and to a POST that asks for it. Audit actions: {@code floating_ip.list|get|allocate|
 * associate|reassign|detach|release}.
 */
final class FloatingIpApi {
    /** The audit action of a call before its handler makes it precise ({@link ControlApi}). */
    static final Map<String, String> VERBS = Map.of("floating_ip.POST", "allocate", "floating_ip.PUT", "associate",
            "floating_ip.DELETE", "release");

    private FloatingIpApi() {}

    /** The route of {@code /v1/projects/{p}/floating-ips…} ({@code s}: the path's segments after {@code /v1/}), or null. */
    static ControlApi.Route route(ControlPlane plane, String[] s) {
        if (s.length < 3 || !s[2].equals("floating-ips")) return null;
        String p = s[1];
        if (s.length == 3) {
            return new ControlApi.Route("floating_ip.", p, p, Set.of("GET", "POST"), false, c -> collection(plane, c, p));
        }
        if (s.length == 4) {
            String ip = s[3];
            return new ControlApi.Route("floating_ip.", p, p + "/" + ip, Set.of("GET", "PUT", "DELETE"), false, c -> item(plane, c, p, ip));
        }
        return null;
    }

    private static ControlApi.Reply collection(ControlPlane plane, ControlApi.Call c, String p) throws ApiException {
        if (c.method().equals("GET")) {
            c.action()[0] = "floating_ip.list";
            ObjectNode o = GroupCodec.JSON.createObjectNode();
            o.put("project", p);
            long gen = plane.generation();
            FloatingIps.encodeAll(plane.state(), p, o.putArray("floating_ips"));
            o.put("generation", gen);
            return new ControlApi.Reply(200, o);
        }
        JsonNode body = c.body().length == 0 ? null : GroupCodec.parse(c.body());
        if (body != null) FloatingIps.requestedIp(body); // 400 before the lock
        long[] nanos = new long[ControlPlane.PHASES.length];
        DesiredState.Change[] done = new DesiredState.Change[1];
        long gen = plane.change(new DesiredState.Change(FloatingIps.ALLOCATE, p, "", body), nanos, done);
        c.action()[0] = FloatingIps.ALLOCATE;
        ObjectNode o = FloatingIps.encode(plane.state(), p, (int) FloatingIps.parse(done[0].name()));
        o.put("generation", gen);
        return new ControlApi.Reply(200, o, ControlApi.timing(0, nanos));
    }

    private static ControlApi.Reply item(ControlPlane plane, ControlApi.Call c, String p, String ip) throws ApiException {
        DesiredState st = plane.state();
        long addr = FloatingIps.parse(ip);
        switch (c.method()) {
            case "GET" -> {
                c.action()[0] = "floating_ip.get";
                long gen = plane.generation();
                if (addr < 0 || !p.equals(st.floating().get((int) addr))) {
                    throw ApiException.notFound("no floating IP '" + GroupCodec.clip(ip) + "' in project " + p);
                }
                ObjectNode o = FloatingIps.encode(st, p, (int) addr);
                o.put("generation", gen);
                return new ControlApi.Reply(200, o);
            }
            case "PUT" -> {
                long t0 = System.nanoTime();
                JsonNode body = GroupCodec.parse(c.body());
                String vm = FloatingIps.requestedVm(body);
                long parse = System.nanoTime() - t0;
                c.action()[0] = FloatingIps.putAction(st, p, addr, vm);
                long[] nanos = new long[ControlPlane.PHASES.length];
                long gen = plane.change(new DesiredState.Change(FloatingIps.PUT, p, ip, body), nanos);
                ObjectNode o = FloatingIps.encode(plane.state(), p, (int) addr);
                o.put("generation", gen);
                return new ControlApi.Reply(200, o, ControlApi.timing(parse, nanos));
            }
            default -> {
                c.action()[0] = FloatingIps.RELEASE;
                long[] nanos = new long[ControlPlane.PHASES.length];
                long gen = plane.change(new DesiredState.Change(FloatingIps.RELEASE, p, ip, null), nanos);
                ObjectNode o = GroupCodec.JSON.createObjectNode();
                o.put("released", ip);
                o.put("project", p);
                o.put("generation", gen);
                return new ControlApi.Reply(200, o, ControlApi.timing(0, nanos));
            }
        }
    }
}
