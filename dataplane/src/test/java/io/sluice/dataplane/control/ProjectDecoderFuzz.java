package io.sluice.dataplane.control;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Fuzzes the project and VM decoders through the path a request takes ({@link GroupCodec#parse},
 * then {@link DesiredState#apply} of {@code project.put} for a new project and {@code vm.put} for a
 * new VM of blue): any body is accepted or refused with 400 naming a field (as {@link ApiDecoderFuzz}
 * checks); the only other answer is 409 about {@code port.device} (a port another VM uses, or a
 * device name another port has). A new device takes a hot-plug slot (the state has two). An accepted project's GET document PUT again gives the same
 * value (idempotent). Seeds in src/test/resources/io/sluice/dataplane/control/ProjectDecoderFuzzInputs/.
 */
class ProjectDecoderFuzz {
    /** With two hot-plug slots: a new {@code port.device} takes one (the accepted path of a hot-plug). */
    private static final DesiredState STATE = withSlots();

    private static DesiredState withSlots() {
        try {
            return new DesiredState(io.sluice.dataplane.port.HotPlug.withSlots(ControlFixtures.state().config(), 2));
        } catch (io.sluice.dataplane.config.ConfigException e) {
            throw new IllegalStateException(e);
        }
    }

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
            if (e.status() == 409 && e.getMessage().startsWith("port.device: ")) return;
            ApiDecoderFuzz.only400(e);
        }
    }
}
