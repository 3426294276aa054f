package io.sluice.dataplane.control;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Fuzzes the project and VM decoders through the path a request takes ({@link GroupCodec#parse},
 * then {@link DesiredState#apply} of {@code project.put} for a new project and {@code vm.put} for a
 * new VM of blue): any body is accepted or refused with 400 naming a field (as {@link ApiDecoderFuzz}
 * checks); the only other answers are 409 and 501 about {@code port.device} (a port another VM uses,
 * or one that would need hot-plug). An accepted project's GET document PUT again gives the same
 * value (idempotent). Seeds in src/test/resources/io/sluice/dataplane/control/ProjectDecoderFuzzInputs/.
 */
class ProjectDecoderFuzz {
    private static final DesiredState STATE = ControlFixtures.state();

    @FuzzTest(maxDuration = "10s")
    void decoders(byte[] body) throws Exception {
        JsonNode doc = ApiDecoderFuzz.parsed(body);
        if (doc == null) return;
        try {
            DesiredState next = STATE.apply(new DesiredState.Change(Projects.PUT_PROJECT, "green", "green", doc));
            ObjectNode back = Projects.project(next.config(), "green");
            back.remove("name");
            back.remove("vms");
            DesiredState again = next.apply(new DesiredState.Change(Projects.PUT_PROJECT, "green", "green", back));
            if (!again.config().equals(next.config())) throw new IllegalStateException("PUT of the GET document changed the state: " + back);
        } catch (ApiException e) {
            ApiDecoderFuzz.only400(e);
        }
        try {
            DesiredState next = STATE.apply(new DesiredState.Change(Projects.PUT_VM, "blue", "fz", doc));
            if (Projects.vm(next.config(), "blue", "fz") == null) throw new IllegalStateException("accepted VM missing");
        } catch (ApiException e) {
            if ((e.status() == 409 || e.status() == 501) && e.getMessage().startsWith("port.device: ")) return;
            ApiDecoderFuzz.only400(e);
        }
    }
}
