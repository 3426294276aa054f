package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Set;

/**
 * {@code GET|PUT /v1/projects/{p}/vms/{vm}/firewall}: the VM's own rules in the security-group
 * document's shape ({@link VmFirewall}). Audit actions {@code vm.firewall.get|put}.
 */
final class VmFirewallApi {
    private VmFirewallApi() {}

    /** The route of {@code /v1/projects/{p}/vms/{vm}/firewall}, or null. */
    static ControlApi.Route route(ControlPlane plane, String[] s) {
        if (s.length != 5 || !s[2].equals("vms") || !s[4].equals("firewall")) return null;
        String p = s[1];
        String vm = s[3];
        return new ControlApi.Route("vm.firewall.", p, p + "/" + vm, Set.of("GET", "PUT"), false, c -> handle(plane, c, p, vm));
    }

    private static ControlApi.Reply handle(ControlPlane plane, ControlApi.Call c, String p, String vm) throws ApiException {
        long gen;
        String timing = null;
        if (c.method().equals("PUT")) {
            long t0 = System.nanoTime();
            JsonNode doc = GroupCodec.parse(c.body());
            long parse = System.nanoTime() - t0;
            long[] nanos = new long[ControlPlane.PHASES.length];
            gen = plane.change(new DesiredState.Change(VmFirewall.PUT, p, vm, doc), nanos);
            timing = ControlApi.timing(parse, nanos);
        } else {
            gen = plane.generation();
        }
        ObjectNode o = VmFirewall.encode(plane.state(), p, vm);
        if (o == null) throw ApiException.notFound("no VM '" + GroupCodec.clip(vm) + "' in project " + p);
        o.put("generation", gen);
        return new ControlApi.Reply(200, o, timing);
    }
}
