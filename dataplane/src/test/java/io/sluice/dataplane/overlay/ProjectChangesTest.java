package io.sluice.dataplane.overlay;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.control.ApiException;
import io.sluice.dataplane.control.DesiredState;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.service.RunningConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;

import static io.sluice.dataplane.overlay.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Projects and VMs changed the control API's way, at packet level without DPDK: a change computes
 * a new value ({@link DesiredState#apply}), {@link RunningConfig#applyChange} diffs it into the
 * overlay and firewall snapshots under one generation, and the next packet sees it. On the host-1
 * topology of {@link Fixtures} with {@link OverlayFirewallTest#SECTION}'s groups.
 */
class ProjectChangesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int NEW_IP = ip("10.0.1.30");
    static final long NEW_MAC = mac("02:00:00:00:01:30");

    final Arena arena = Arena.ofConfined();
    final Buffers buf = new Buffers(arena, 1);
    SluiceConfig start;
    FirewallState fw;
    OverlayPipeline pipe;
    Stage[] stages;
    RunningConfig running;
    DesiredState state;

    @BeforeEach
    void setUp() throws Exception {
        start = OverlayFirewallTest.cfg().withFirewall(OverlayFirewallTest.parse(OverlayFirewallTest.SECTION));
        fw = new FirewallState(5, start.firewall());
        pipe = new OverlayPipeline(start.overlay(), null, UnderlayNeighbours.withDefaults(), fw);
        stages = OverlayPipeline.vmStages(pipe.state(), new OverlayMeta(1), pipe.neighbours(), fw, 0);
        running = new RunningConfig("t.yaml", start, fw, pipe, null);
        state = new DesiredState(start);
    }

    @AfterEach
    void close() { arena.close(); }

    /** Applies a change as the control API does (value, then diff and publish); returns the new generation. */
    long change(String action, String project, String name, String body) throws Exception {
        DesiredState next = state.apply(new DesiredState.Change(action, project, name, body == null ? null : JSON.readTree(body)));
        long gen = running.applyChange(next.config());
        state = next;
        return gen;
    }

    ApiException refused(String action, String project, String name, String body) {
        return assertThrows(ApiException.class,
                () -> state.apply(new DesiredState.Change(action, project, name, body == null ? null : JSON.readTree(body))));
    }

    /** UDP from b2 (port 2) to {@code dst}: -1 when sent, else the drop reason. */
    int fromB2(int dst, long dstMac) {
        Burst b = new Burst(1);
        udp4(b, 0, buf.frame(0), 2, dstMac, B2_MAC, B2_IP, dst, 64, 16);
        b.count = 1;
        for (Stage s : stages) s.process(b);
        if (b.next[0] == Next.TX) return -1;
        assertEquals(Next.DROP, b.next[0], "neither sent nor dropped");
        return b.dropReason[0];
    }

    static final String REMOTE_VM = """
            {"subnet":"a","mac":"02:00:00:00:01:30","ipv4":"10.0.1.30","remote_vtep":"192.168.50.3","security_groups":["default"]}""";

    @Test
    void aRemoteVmCreatedIsReachedAtTheNextPacketAndNotAfterItsDelete() throws Exception {
        int before = fromB2(NEW_IP, NEW_MAC);
        assertNotEquals(-1, before, "no VM 10.0.1.30 yet");
        long g = change("vm.put", "blue", "b9", REMOTE_VM);
        assertEquals(2, g);
        assertEquals(-1, fromB2(NEW_IP, NEW_MAC), "b2 reaches the new remote VM (encapsulated to its VTEP)");
        assertEquals(HOST3, (int) (pipe.state().current().model.networks().get(0).vms().get(4).remoteVtep()));
        assertTrue(fw.config().vmPorts().stream().anyMatch(p -> p.name().equals("blue/b9") && p.groups().equals(java.util.List.of("blue:default"))));
        // PUT is idempotent: the same body again changes nothing but the generation
        assertEquals(3, change("vm.put", "blue", "b9", REMOTE_VM));
        assertEquals(-1, fromB2(NEW_IP, NEW_MAC));
        assertEquals(4, change("vm.delete", "blue", "b9", null));
        assertEquals(before, fromB2(NEW_IP, NEW_MAC), "deleted: dropped as before, " + DropReason.of(before));
        assertEquals(start.overlay(), pipe.state().current().model, "back to the start value");
        assertEquals(start.firewall(), fw.config());
        assertEquals(4, running.generation());
    }

    @Test
    void projectsAreCreatedWithTheirDefaultGroupAndDeletedOnlyWithoutVms() throws Exception {
        change("project.put", "green", "green", "{\"cidr\":\"10.8.0.0/16\",\"vni\":300,\"subnets\":[{\"name\":\"web\",\"cidr\":\"10.8.1.0/24\"}]}");
        assertEquals(3, pipe.state().current().model.networks().size());
        assertEquals(ip("10.8.1.1"), running.current().overlay().networks().get(2).subnets().get(0).gateway(), "gateway: first address");
        assertTrue(fw.config().groups().containsKey("green:default"));
        change("vm.put", "green", "g1", "{\"subnet\":\"web\",\"mac\":\"02:00:00:00:08:01\",\"ipv4\":\"10.8.1.10\",\"remote_vtep\":\"192.168.50.2\"}");
        assertEquals("project green still has 1 VM(s) (g1); delete them first", refused("project.delete", "green", "green", null).getMessage());
        assertEquals(409, refused("project.delete", "green", "green", null).status());
        // blue has VMs: 409 naming them
        assertEquals(409, refused("project.delete", "blue", "blue", null).status());
        change("vm.delete", "green", "g1", null);
        long g = change("project.delete", "green", "green", null);
        assertEquals(5, g);
        assertEquals(start.overlay(), pipe.state().current().model);
        assertFalse(fw.config().groups().containsKey("green:default"));
        assertEquals(404, refused("vm.put", "green", "g1", REMOTE_VM).status());
    }

    @Test
    void badBodiesNameTheFieldAndChangeNothing() throws Exception {
        DesiredState before = state;
        assertEquals("vni: 0 is out of range 1..16777215",
                refused("project.put", "green", "green", "{\"cidr\":\"10.8.0.0/16\",\"vni\":0,\"subnets\":[{\"name\":\"a\",\"cidr\":\"10.8.1.0/24\"}]}").getMessage());
        assertEquals("subnets[0].cidr: '10.8.1.0/33' is not an IPv4 prefix like 10.0.0.0/16",
                refused("project.put", "green", "green", "{\"cidr\":\"10.8.0.0/16\",\"vni\":5,\"subnets\":[{\"name\":\"a\",\"cidr\":\"10.8.1.0/33\"}]}").getMessage());
        assertEquals("remote_vtep: 'x' is not an IPv4 address like 10.0.1.10",
                refused("vm.put", "blue", "b9", REMOTE_VM.replace("192.168.50.3", "x")).getMessage());
        ApiException outside = refused("vm.put", "blue", "b9", REMOTE_VM.replace("10.0.1.30", "10.0.9.30"));
        assertEquals(400, outside.status());
        assertTrue(outside.getMessage().startsWith("ipv4: "), outside.getMessage());
        assertEquals("security_groups[0]: no group 'nope' in project blue (groups: [default, web])",
                refused("vm.put", "blue", "b9", REMOTE_VM.replace("[\"default\"]", "[\"nope\"]")).getMessage());
        assertTrue(refused("vm.put", "blue", "b9", REMOTE_VM.replace("\"subnet\"", "\"subnett\"")).getMessage()
                .startsWith("subnett: unknown field"));
        // a local VM on a device the data plane did not start with takes a hot-plug slot: without slots, 409 naming the field
        String local = REMOTE_VM.replace("\"remote_vtep\":\"192.168.50.3\"", "\"port\":{\"device\":\"net_tap7,iface=vm7\"}");
        ApiException hotplug = refused("vm.put", "blue", "b9", local);
        assertEquals(409, hotplug.status());
        assertTrue(hotplug.getMessage().startsWith("port.device: 'net_tap7,iface=vm7' would be hot-plugged, but the data plane has no hot-plug slots"),
                hotplug.getMessage());
        // not a device string: 400 naming the field
        ApiException bad = refused("vm.put", "blue", "b9", local.replace("net_tap7,iface=vm7", "net tap7;rm -rf"));
        assertEquals(400, bad.status());
        assertTrue(bad.getMessage().startsWith("port.device: 'net tap7;rm -rf' is not a DPDK device string"), bad.getMessage());
        // a port another VM uses: 409
        assertEquals(409, refused("vm.put", "blue", "b9", local.replace("net_tap7,iface=vm7", "net_null1")).status());
        assertSame(before, state);
        assertEquals(start.overlay(), pipe.state().current().model);
        assertEquals(1, running.generation());
    }

    @Test
    void aNewDeviceTakesTheFirstFreeHotplugSlotAndItsDeleteEmptiesIt() throws Exception {
        state = new DesiredState(io.sluice.dataplane.port.HotPlug.withSlots(start, 2));
        int n = start.ports().size();
        assertEquals(n + 2, state.config().ports().size());
        assertEquals("hotplug1", state.config().ports().get(n + 1).name());
        String local = REMOTE_VM.replace("\"remote_vtep\":\"192.168.50.3\"", "\"port\":{\"device\":\"net_tap7,iface=vm7\"}");
        DesiredState one = state.apply(new DesiredState.Change("vm.put", "blue", "b9", JSON.readTree(local)));
        assertEquals("net_tap7,iface=vm7", one.config().ports().get(n).devargs());
        assertEquals(n, one.config().overlay().networks().get(0).vms().get(4).localPort());
        assertEquals("hotplug0", io.sluice.dataplane.control.ProjectsAccess.vm(one, "blue", "b9").path("port").path("name").asText());
        // the same device name for another VM: 409; the same device string: 409 (the port is b9's)
        state = one;
        String other = local.replace("02:00:00:00:01:30", "02:00:00:00:01:31").replace("10.0.1.30", "10.0.1.31");
        assertEquals(409, refused("vm.put", "blue", "b8", other.replace("iface=vm7", "iface=vm8")).status());
        assertEquals(409, refused("vm.put", "blue", "b8", other).status());
        DesiredState two = one.apply(new DesiredState.Change("vm.put", "blue", "b8", JSON.readTree(other.replace("net_tap7,iface=vm7", "net_tap8,iface=vm8"))));
        assertEquals("net_tap8,iface=vm8", two.config().ports().get(n + 1).devargs());
        state = two;
        assertTrue(refused("vm.put", "blue", "b7", other.replace("net_tap7,iface=vm7", "net_tap9,iface=vm9").replace("10.0.1.31", "10.0.1.32")
                .replace("01:31", "01:32")).getMessage().contains("all 2 hot-plug slots (api.hotplug-ports) are in use"));
        // moving b9 to another new device takes a free slot, never its own (its device is unplugged after the new one is in)
        DesiredState moved = two.apply(new DesiredState.Change("vm.delete", "blue", "b8", null))
                .apply(new DesiredState.Change("vm.put", "blue", "b9", JSON.readTree(local.replace("net_tap7,iface=vm7", "net_tap9,iface=vm9"))));
        assertEquals("", moved.config().ports().get(n).devargs(), "b9's old slot is empty");
        assertEquals("net_tap9,iface=vm9", moved.config().ports().get(n + 1).devargs());
        DesiredState gone = moved.apply(new DesiredState.Change("vm.delete", "blue", "b9", null));
        assertEquals(io.sluice.dataplane.port.HotPlug.withSlots(start, 2).ports(), gone.config().ports(), "every slot empty again");
    }

    @Test
    void aProjectBeforeOthersIsDeletedAsATombstoneAndNoZoneMoves() throws Exception {
        String green = "{\"cidr\":\"10.8.0.0/16\",\"vni\":300,\"subnets\":[{\"name\":\"web\",\"cidr\":\"10.8.1.0/24\"}]}";
        change("project.put", "green", "green", green);
        change("project.put", "yellow", "yellow", green.replace("300", "301").replace("10.8.", "10.9."));
        change("vm.put", "yellow", "y1", "{\"subnet\":\"web\",\"mac\":\"02:00:00:00:09:01\",\"ipv4\":\"10.9.1.10\",\"remote_vtep\":\"192.168.50.2\"}");
        int nets = start.overlay().networks().size();
        int yellowZone = nets + 2;
        assertEquals("yellow", pipe.state().current().zoneName[yellowZone]);
        change("vm.put", "green", "g1", "{\"subnet\":\"web\",\"mac\":\"02:00:00:00:08:01\",\"ipv4\":\"10.8.1.10\",\"remote_vtep\":\"192.168.50.2\"}");
        assertEquals(409, refused("project.delete", "green", "green", null).status(), "green still has a VM");
        change("vm.delete", "green", "g1", null);
        long g = change("project.delete", "green", "green", null);
        assertEquals(running.generation(), g);
        // green is gone for the API; its zone stays as a tombstone, so yellow keeps its zone (and its connections)
        assertFalse(state.hasProject("green"));
        assertEquals(java.util.List.of("blue", "red", "yellow"), state.projects());
        assertEquals("yellow", pipe.state().current().zoneName[yellowZone], "yellow's zone moved");
        assertEquals("-" + (nets + 1), pipe.state().current().zoneName[nets + 1]);
        assertFalse(fw.config().groups().containsKey("green:default"));
        assertEquals(404, refused("vm.put", "-" + (nets + 1), "x", REMOTE_VM).status(), "a tombstone is no project");
        assertEquals(400, refused("project.put", "-9", "-9", green).status(), "a project name like a tombstone's");
        // green's VNI is free again: a new project takes it, after yellow
        change("project.put", "green", "green", green);
        assertEquals("green", pipe.state().current().zoneName[nets + 3]);
        change("project.delete", "green", "green", null);
        // the last project goes with the tombstones before it
        change("vm.delete", "yellow", "y1", null);
        change("project.delete", "yellow", "yellow", null);
        assertEquals(start.overlay(), pipe.state().current().model);
        assertEquals(start.overlay(), state.config().overlay());
    }
}
