package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code overlay:} section of the data-plane configuration, and the pipeline built from it. */
class OverlayConfigWiringTest {
    static final String PORTS = """
            ports:
              - {name: up0, device: net_null0}
              - {name: vm1, device: net_null1}
              - {name: vm2, device: net_null2}
            """;
    static final String OVERLAY = """
            overlay:
              uplink: up0
              underlay-ip: 192.168.50.1/24
              underlay-mac: "02:00:00:00:aa:01"
              router-mac: "02:00:00:00:ff:01"
              networks:
                - name: blue
                  vni: 100
                  cidr: 10.0.0.0/16
                  subnets: [{name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1}]
                  vms:
                    - {name: web, subnet: a, mac: "02:00:00:00:01:01", ip: 10.0.1.10, port: vm1}
                    - {name: db, subnet: a, mac: "02:00:00:00:01:02", ip: 10.0.1.11, vtep: 192.168.50.2}
                - name: red
                  vni: 200
                  cidr: 10.0.0.0/16
                  subnets: [{name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1}]
                  vms: [{name: web, subnet: a, mac: "02:00:00:00:01:01", ip: 10.0.1.10, port: vm2}]
            """;

    @Test
    void overlaySectionBecomesTheModelWithPortIndices() throws Exception {
        SluiceConfig c = ConfigLoader.parse("t.yaml", PORTS + OVERLAY);
        OverlayModel m = c.overlay();
        assertEquals(0, m.host().uplinkPort());
        assertEquals(List.of("blue", "red"), m.networks().stream().map(OverlayModel.Network::name).toList());
        assertEquals(1, m.networks().get(0).vms().get(0).localPort());
        assertEquals(2, m.networks().get(1).vms().get(0).localPort());
    }

    @Test
    void withoutOverlayTheModelIsNull() throws Exception {
        assertNull(ConfigLoader.parse("t.yaml", PORTS).overlay());
    }

    @Test
    void overlayErrorsNameFileLineAndKey() {
        String first = "cidr: 10.0.1.0/24, gateway: 10.0.1.1";
        int at = OVERLAY.indexOf(first);
        String yaml = PORTS + OVERLAY.substring(0, at) + "cidr: 10.1.1.0/24, gateway: 10.1.1.1"
                + OVERLAY.substring(at + first.length());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("t.yaml", yaml));
        assertTrue(e.getMessage().startsWith("t.yaml:") && e.getMessage().contains("overlay.networks[0].subnets[0]")
                && e.getMessage().contains("outside network 10.0.0.0/16"), e.getMessage());
        ConfigException port = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("t.yaml", PORTS + OVERLAY.replace("port: vm2", "port: vm9")));
        assertTrue(port.getMessage().startsWith("t.yaml:") && port.getMessage().contains("vm9"), port.getMessage());
    }

    @Test
    void macTableOrArpNextToOverlayIsRejected() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("t.yaml",
                PORTS + "mac-table: [{mac: \"02:00:00:00:00:09\", port: vm1}]\n" + OVERLAY));
        assertTrue(e.getMessage().startsWith("t.yaml:5: mac-table: not used with 'overlay'"), e.getMessage());
    }

    @Test
    void pipelineHasEveryStageInOrderAndExportsNetworkCounters() throws Exception {
        SluiceConfig c = ConfigLoader.parse("t.yaml", PORTS + OVERLAY);
        Counters counters = Counters.inMemory(64);
        OverlayPipeline p = new OverlayPipeline(c.overlay(), counters);
        Stage[] st = p.stages(0);
        assertEquals(List.of("parse", "overlay-clock", "vxlan-decap", "underlay-arp", "anti-spoof", "overlay-arp",
                "overlay-route", "vxlan-encap", "overlay-out"), Arrays.stream(st).map(Stage::name).toList());
        assertTrue(counters.snapshot().containsKey("network blue rx packets"), counters.snapshot().toString());
        assertTrue(counters.snapshot().containsKey("network red tx packets"));
        assertTrue(counters.snapshot().containsKey("overlay underlay arp requests"));
    }

    @Test
    void everyOverlayDropHasItsOwnDropReason() {
        for (OverlayDrop d : OverlayDrop.values()) {
            if (d == OverlayDrop.NONE) {
                assertEquals(DropReason.NONE, d.dropReason);
            } else {
                assertTrue(d.dropReason.name().startsWith("OVERLAY_"), d.name());
                assertTrue(d.dropReason.name().endsWith(d.name()), d.name());
                assertEquals(d.description, d.dropReason.description());
            }
        }
    }
}
