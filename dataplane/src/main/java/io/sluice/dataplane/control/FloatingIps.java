package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.config.OverlayModelException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Floating IPs as API resources (docs/api.md): the pool is {@code overlay.external.floating-ips};
 * an address is <i>allocated</i> to a project ({@link DesiredState#floating()}) and <i>associated</i>
 * with at most one of its VMs (the overlay's public access: that VM is {@code FLOATING} with the
 * address). Detaching or releasing leaves the VM outbound-only. Every change is a new overlay model
 * validated here and applied through {@code OverlayPipeline.applyPublicAccess}, NAT's hitless path
 * (connections through an address the VM no longer holds are cut at their next packet, docs/nat.md).
 * A VM that holds a floating IP in the file counts as its project's allocation.
 */
final class FloatingIps {
    /** Journaled actions: name = the address; allocate and release have no body, put has {@code {"vm":…}}. */
    static final String ALLOCATE = "floating_ip.allocate";
    static final String PUT = "floating_ip.put";
    static final String RELEASE = "floating_ip.release";

    private static final Set<String> ALLOCATE_FIELDS = Set.of("ip");
    private static final Set<String> PUT_FIELDS = Set.of("vm");

    private FloatingIps() {}

    /** The file's associations as allocations: each floating IP a VM holds belongs to that VM's project. */
    static Map<Integer, String> fromOverlay(OverlayModel m) {
        Map<Integer, String> out = new HashMap<>();
        if (m == null) return out;
        for (OverlayModel.Network n : m.networks()) {
            for (OverlayModel.Vm v : n.vms()) {
                if (v.access() == OverlayModel.Access.FLOATING) out.put(v.floatingIp(), n.name());
            }
        }
        return out;
    }

    /** A dotted quad as an unsigned value, or -1 (the path's address: 404; a body's: 400). */
    static long parse(String s) {
        return s == null ? -1 : ConfigLoader.parseIpv4(s);
    }

    static String format(int ip) {
        return ConfigLoader.formatIpv4(ip);
    }

    private static List<Integer> pool(DesiredState st) {
        OverlayModel.External e = st.overlay().external();
        return e == null ? List.of() : e.floatingIps();
    }

    /** An allocation without {@code "ip"}: the pool's first free address (409 when none is). */
    static DesiredState.Change resolve(DesiredState st, DesiredState.Change c) throws ApiException {
        long asked = c.body() == null ? -1 : requestedIp(c.body());
        if (asked >= 0) return new DesiredState.Change(ALLOCATE, c.project(), format((int) asked), c.body());
        List<Integer> pool = pool(st);
        if (pool.isEmpty()) throw ApiException.conflict("no floating-IP pool on this host (overlay.external.floating-ips)");
        for (int ip : pool) {
            if (!st.floating().containsKey(ip)) {
                ObjectNode b = GroupCodec.JSON.createObjectNode();
                b.put("ip", format(ip));
                return new DesiredState.Change(ALLOCATE, c.project(), format(ip), b);
            }
        }
        throw ApiException.conflict("the floating-IP pool is exhausted (" + pool.size() + " address(es), all allocated)");
    }

    /** The address an allocation asks for ({@code {"ip":"203.0.113.10"}}, optional: -1 without). */
    static long requestedIp(JsonNode body) throws ApiException {
        ObjectNode o = GroupCodec.object(body, "body");
        GroupCodec.fields(o, "", ALLOCATE_FIELDS);
        if (!o.has("ip")) return -1;
        String s = GroupCodec.text(o.get("ip"), "ip");
        long ip = parse(s);
        if (ip < 0) throw ApiException.invalid("ip", "'" + GroupCodec.clip(s) + "' is not an IPv4 address");
        return ip;
    }

    /** {@code {"vm":"web-1"}} or {@code {"vm":null}}: the VM's name, or null to detach. */
    static String requestedVm(JsonNode body) throws ApiException {
        ObjectNode o = GroupCodec.object(body, "body");
        GroupCodec.fields(o, "", PUT_FIELDS);
        if (!o.has("vm")) throw ApiException.invalid("vm", "missing (a VM of the project, or null to detach)");
        if (o.get("vm").isNull()) return null;
        String vm = GroupCodec.text(o.get("vm"), "vm");
        if (!vm.matches(GroupCodec.NAME)) throw ApiException.invalid("vm", "'" + GroupCodec.clip(vm) + "' is not 1-64 of [A-Za-z0-9_.-]");
        return vm;
    }

    /** The VM of {@code project} holding {@code ip}, or null. */
    static String holder(DesiredState st, String project, int ip) {
        for (OverlayModel.Network n : st.overlay().networks()) {
            if (!n.name().equals(project)) continue;
            for (OverlayModel.Vm v : n.vms()) {
                if (v.access() == OverlayModel.Access.FLOATING && v.floatingIp() == ip) return v.name();
            }
        }
        return null;
    }

    /**
     * The audit action of a PUT: {@code floating_ip.detach} ({@code vm} null), {@code reassign} (held
     * by another VM now) or {@code associate}.
     */
    static String putAction(DesiredState st, String project, long ip, String vm) {
        if (vm == null) return "floating_ip.detach";
        String h = ip < 0 ? null : holder(st, project, (int) ip);
        return h != null && !h.equals(vm) ? "floating_ip.reassign" : "floating_ip.associate";
    }

    static DesiredState apply(DesiredState st, DesiredState.Change c) throws ApiException {
        String p = c.project();
        Map<Integer, String> alloc = new HashMap<>(st.floating());
        OverlayModel m = st.overlay();
        switch (c.action()) {
            case ALLOCATE -> {
                long asked = c.body() == null ? -1 : requestedIp(c.body());
                if (asked < 0) throw ApiException.invalid("ip", "missing");
                int ip = (int) asked;
                if (!pool(st).contains(ip)) {
                    throw ApiException.invalid("ip", format(ip) + " is not in the floating-IP pool (overlay.external.floating-ips)");
                }
                String owner = alloc.get(ip);
                if (owner != null) throw ApiException.conflict("floating IP " + format(ip) + " is already allocated");
                alloc.put(ip, p);
            }
            case PUT -> {
                long parsed = parse(c.name());
                int ip = (int) parsed;
                String vm = requestedVm(c.body());
                String owner = parsed < 0 ? null : alloc.get(ip);
                if (owner != null && !owner.equals(p)) {
                    throw ApiException.conflict("floating IP " + c.name() + " is allocated to another project");
                }
                if (owner == null) {
                    // PUT creates: a free pool address is allocated to the project and associated at once
                    if (parsed < 0 || !pool(st).contains(ip)) throw ApiException.notFound("no floating IP '" + GroupCodec.clip(c.name()) + "' in the pool");
                    alloc.put(ip, p);
                }
                String was = holder(st, p, ip);
                if (vm == null) {
                    if (was != null) m = m.withAccess(p, was, OverlayModel.Access.OUTBOUND, 0);
                } else {
                    OverlayModel.Vm v = vm(m, p, vm);
                    if (v == null) throw ApiException.invalid("vm", "no VM '" + vm + "' in project " + p);
                    if (!v.isLocal()) throw ApiException.invalid("vm", "VM '" + vm + "' is not on this host; its own host gives it public access");
                    if (was != null && !was.equals(vm)) m = m.withAccess(p, was, OverlayModel.Access.OUTBOUND, 0);
                    m = m.withAccess(p, vm, OverlayModel.Access.FLOATING, ip);
                }
            }
            case RELEASE -> {
                long parsed = parse(c.name());
                int ip = (int) parsed;
                if (parsed < 0 || !p.equals(alloc.get(ip))) throw ApiException.notFound("no floating IP '" + GroupCodec.clip(c.name()) + "' in project " + p);
                String was = holder(st, p, ip);
                if (was != null) m = m.withAccess(p, was, OverlayModel.Access.OUTBOUND, 0);
                alloc.remove(ip);
            }
            default -> throw new ApiException(500, "unknown change '" + c.action() + "'");
        }
        try {
            m.validate();
        } catch (OverlayModelException e) {
            throw ApiException.invalid("vm", e.getMessage());
        }
        return st.withPublicAccess(m, alloc);
    }

    private static OverlayModel.Vm vm(OverlayModel m, String project, String name) {
        for (OverlayModel.Network n : m.networks()) {
            if (!n.name().equals(project)) continue;
            for (OverlayModel.Vm v : n.vms()) if (v.name().equals(name)) return v;
        }
        return null;
    }

    /** The project's floating IPs, in pool order. */
    static List<Integer> of(DesiredState st, String project) {
        List<Integer> out = new ArrayList<>();
        for (int ip : pool(st)) if (project.equals(st.floating().get(ip))) out.add(ip);
        return out;
    }

    /** {@code {"ip":…,"project":…,"vm":… or null}}. */
    static ObjectNode encode(DesiredState st, String project, int ip) {
        ObjectNode o = GroupCodec.JSON.createObjectNode();
        o.put("ip", format(ip));
        o.put("project", project);
        String h = holder(st, project, ip);
        if (h == null) o.putNull("vm");
        else o.put("vm", h);
        return o;
    }

    static void encodeAll(DesiredState st, String project, ArrayNode into) {
        for (int ip : of(st, project)) into.add(encode(st, project, ip));
    }
}
