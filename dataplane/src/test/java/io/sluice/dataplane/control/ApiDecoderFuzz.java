package io.sluice.dataplane.control;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Fuzzes the control API's JSON decoders through the code path a request takes
 * ({@link GroupCodec#parse}, then {@link DesiredState#apply} for a security group PUT, a VM
 * membership PUT, a VM firewall PUT and a floating-IP PUT in an existing project, and the floating-IP
 * allocation's decoder): any body is either accepted or refused with 400, never
 * another status or an exception. An accepted group, encoded as GET returns it and PUT again, gives
 * the same state (PUT is idempotent). Seed and regression inputs in src/test/resources/io/sluice/dataplane/control/ApiDecoderFuzzInputs/.
 */
class ApiDecoderFuzz {
    private static final DesiredState STATE = ControlFixtures.state();
    private static final DesiredState NAT = ControlFixtures.natState();

    @FuzzTest(maxDuration = "20s")
    void decoders(byte[] body) throws Exception {
        JsonNode doc = parsed(body);
        if (doc == null) return;
        try {
            DesiredState next = STATE.apply(new DesiredState.Change(DesiredState.PUT_GROUP, "blue", "fz", doc));
            ObjectNode back = next.group("blue", "fz");
            back.remove("name");
            DesiredState again = next.apply(new DesiredState.Change(DesiredState.PUT_GROUP, "blue", "fz", back));
            if (!again.firewall().equals(next.firewall()) || !again.group("blue", "fz").equals(next.group("blue", "fz"))) {
                throw new IllegalStateException("PUT of the GET document changed the state: " + back);
            }
        } catch (ApiException e) {
            only400(e);
        }
        try {
            STATE.apply(new DesiredState.Change(DesiredState.PUT_MEMBERSHIP, "blue", "app", doc));
        } catch (ApiException e) {
            only400(e);
        }
        try {
            STATE.apply(new DesiredState.Change(VmFirewall.PUT, "blue", "app", doc));
        } catch (ApiException e) {
            only400(e);
        }
        try {
            NAT.apply(new DesiredState.Change(FloatingIps.PUT, "blue", "203.0.113.10", doc));
        } catch (ApiException e) {
            only400(e);
        }
        try {
            FloatingIps.requestedIp(doc);
        } catch (ApiException e) {
            only400(e);
        }
    }

    /** The body as JSON, or null after checking that its refusal is a 400 naming a field. */
    static JsonNode parsed(byte[] body) {
        try {
            return GroupCodec.parse(body);
        } catch (ApiException e) {
            only400(e);
            return null;
        }
    }

    static void only400(ApiException e) {
        if (e.status() != 400) throw new IllegalStateException("status " + e.status() + " for a body: " + e.getMessage());
        if (!e.getMessage().contains(": ")) throw new IllegalStateException("no field path: " + e.getMessage());
    }
}
