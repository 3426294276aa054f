package io.sluice.dataplane.control;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.overlay.OverlayPipeline;
import io.sluice.dataplane.overlay.UnderlayNeighbours;
import io.sluice.dataplane.service.RunningConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A reload of the file over projects and VMs the API changed (no DPDK): the API's changes are
 * replayed over the file's overlay, also when the new file changes a part of the overlay that needs
 * a restart, so a VM the API deleted stays deleted and the reload is not refused.
 */
class ReloadKeepsApiChangesTest {
    @Test
    void aVmDeletedByTheApiStaysDeletedAcrossReloads() throws Exception {
        String text = ControlFixtures.OVERLAY;
        SluiceConfig cfg = ConfigLoader.parse("t.yaml", text);
        FirewallState fw = new FirewallState(cfg.ports().size(), cfg.firewall());
        OverlayPipeline pipe = new OverlayPipeline(cfg.overlay(), null, UnderlayNeighbours.withDefaults(), fw);
        RunningConfig running = new RunningConfig("t.yaml", cfg, fw, pipe, null);
        List<DesiredState.Change> changes = new ArrayList<>();
        // ControlPlane.over's replay, without a journal
        running.attach(new RunningConfig.Layer() {
            @Override
            public SluiceConfig over(SluiceConfig fromFile) throws ConfigException {
                return DesiredState.replay(fromFile, changes).config();
            }

            @Override
            public void applied(long generation) {}
        }, 1);
        DesiredState.Change delete = new DesiredState.Change(Projects.DELETE_VM, "red", "ghost", null);
        DesiredState st = new DesiredState(cfg).apply(delete);
        running.applyChange(st.config());
        changes.add(delete);
        assertEquals(2, running.generation());
        assertNull(Projects.vm(running.current(), "red", "ghost"));

        String vni = running.apply(text.replace("vni: 200", "vni: 201"));
        assertTrue(vni.startsWith("nothing applied; changed but needs a restart, not applied: overlay"), vni);
        assertNull(Projects.vm(running.current(), "red", "ghost"), "still deleted");
        assertTrue(pipe.state().current().model.networks().get(1).vms().isEmpty(), "red has no VM in the overlay snapshot");
        String same = running.apply(text);
        assertTrue(same.startsWith("nothing applied"), same);
        assertNull(Projects.vm(running.current(), "red", "ghost"));
        assertEquals(2, running.generation());
    }

    /**
     * After a restart the data plane starts with the file plus the journal (here: a VM the API
     * deleted): a reload of the unchanged file is compared with the file's own value and the journal
     * replayed over it once, not over the already-replayed value (which refused the reload: "no VM").
     */
    @Test
    void aReloadAfterARestartReplaysTheJournalOverTheFilesValue() throws Exception {
        String text = ControlFixtures.OVERLAY;
        SluiceConfig fromFile = ConfigLoader.parse("t.yaml", text);
        List<DesiredState.Change> changes = List.of(new DesiredState.Change(Projects.DELETE_VM, "red", "ghost", null));
        SluiceConfig desired = DesiredState.replay(fromFile, changes).config();
        FirewallState fw = new FirewallState(desired.ports().size(), desired.firewall());
        OverlayPipeline pipe = new OverlayPipeline(desired.overlay(), null, UnderlayNeighbours.withDefaults(), fw);
        RunningConfig running = new RunningConfig("t.yaml", fromFile, desired, fw, pipe, null);
        running.attach(new RunningConfig.Layer() {
            @Override
            public SluiceConfig over(SluiceConfig f) throws ConfigException {
                return DesiredState.replay(f, changes).config();
            }

            @Override
            public void applied(long generation) {}
        }, 2);
        assertNull(Projects.vm(running.current(), "red", "ghost"));
        String same = running.apply(text);
        assertTrue(same.startsWith("nothing applied"), same);
        assertNull(Projects.vm(running.current(), "red", "ghost"), "still deleted");
        assertTrue(pipe.state().current().model.networks().get(1).vms().isEmpty(), "red has no VM in the overlay snapshot");
        assertEquals(2, running.generation());
    }
}
