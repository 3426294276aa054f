package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The changes a reload replays over the file ({@link ControlPlane#remember}): a whole-resource PUT
 * right after a PUT of the same resource replaces it, so a stream of changes to one group keeps one
 * entry (the list kept every body and ran a 1 GB heap out of memory in {@code bench api}), and the
 * replay of the shortened list gives the same value as the replay of every change.
 */
class ChangeListTest {
    private static JsonNode json(String s) throws Exception {
        return GroupCodec.parse(s.getBytes(StandardCharsets.UTF_8));
    }

    private static DesiredState.Change group(String project, int port) throws Exception {
        return new DesiredState.Change(DesiredState.PUT_GROUP, project, "web",
                json("{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":" + port + "}]}"));
    }

    @Test
    void aPutRightAfterAPutOfTheSameResourceReplacesItAndTheReplayIsTheSame() throws Exception {
        SluiceConfig file = ConfigLoader.parse("t.yaml", ControlFixtures.OVERLAY);
        DesiredState.Change membership = new DesiredState.Change(DesiredState.PUT_MEMBERSHIP, "blue", "app", json("{\"groups\":[\"web\"]}"));
        List<DesiredState.Change> every = new ArrayList<>();
        for (int i = 0; i < 1000; i++) every.add(group("blue", 1000 + i));
        every.add(membership);
        every.add(group("red", 22));
        every.add(group("blue", 443));
        every.add(group("blue", 8443));
        List<DesiredState.Change> kept = new ArrayList<>();
        for (DesiredState.Change c : every) ControlPlane.remember(kept, c);

        assertEquals(4, kept.size(), "blue/web (last of 1000), membership, red/web, blue/web (last of 2)");
        assertSame(every.get(999), kept.get(0));
        assertSame(membership, kept.get(1));
        assertEquals("red", kept.get(2).project(), "the same group name in another project is another resource");
        assertSame(every.get(every.size() - 1), kept.get(3));

        DesiredState all = DesiredState.replay(file, every), some = DesiredState.replay(file, kept);
        assertEquals(all.firewall(), some.firewall());
        assertEquals(all.config().overlay(), some.config().overlay());
        assertEquals(8443, some.group("blue", "web").path("inbound_rules").get(0).path("port").asInt());
        assertEquals(22, some.group("red", "web").path("inbound_rules").get(0).path("port").asInt());
    }

    @Test
    void otherChangesAreKeptInOrderEvenWhenRepeated() throws Exception {
        DesiredState.Change del = new DesiredState.Change(Projects.DELETE_VM, "red", "ghost", null);
        List<DesiredState.Change> kept = new ArrayList<>();
        ControlPlane.remember(kept, del);
        ControlPlane.remember(kept, del);
        assertEquals(2, kept.size(), "only whole-resource PUTs collapse");
    }
}
