package io.sluice.dataplane.control;

import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;

/** A small overlay configuration (projects blue and red) with security groups, for the control API's tests. */
public final class ControlFixtures {
    private ControlFixtures() {}

    /** {@link #overlay} on TAP names that are never created (parsing only). */
    static final String OVERLAY = overlay("x0", "x1", "x2");

    /**
     * Ports {@code up} (uplink), {@code app} and {@code db} on TAP interfaces {@code ifUp}, {@code ifApp},
     * {@code ifDb}; project blue with local VMs app and db (db in {@code web}), project red with a remote VM;
     * group {@code web} allows TCP 80 in.
     */
    public static String overlay(String ifUp, String ifApp, String ifDb) {
        return """
            ports:
              - {name: up,  device: "net_tap0,iface=%s"}
              - {name: app, device: "net_tap1,iface=%s"}
              - {name: db,  device: "net_tap2,iface=%s"}
            overlay:
              uplink: up
              underlay-ip: 192.168.50.1/24
              underlay-mac: "02:00:00:00:aa:01"
              router-mac: "02:00:00:00:ff:01"
              networks:
                - name: blue
                  vni: 100
                  cidr: 10.0.0.0/16
                  subnets: [{name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1}]
                  vms:
                    - {name: app, subnet: a, mac: "02:b3:00:00:01:11", ip: 10.0.1.11, port: app}
                    - {name: db,  subnet: a, mac: "02:b3:00:00:01:12", ip: 10.0.1.12, port: db}
                - name: red
                  vni: 200
                  cidr: 10.0.0.0/16
                  subnets: [{name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1}]
                  vms: [{name: ghost, subnet: a, mac: "02:b3:00:00:81:12", ip: 10.0.1.12, vtep: 192.168.50.2}]
            security-groups:
              groups:
                - name: web
                  rules:
                    - {id: http, direction: ingress, protocol: tcp, ports: 80}
              vm-ports:
                - {vm: blue/db, groups: [web]}
            """.formatted(ifUp, ifApp, ifDb);
    }

    /** The state the API starts from with {@link #OVERLAY}. */
    static DesiredState state() {
        try {
            SluiceConfig cfg = ConfigLoader.parse("t.yaml", OVERLAY);
            return new DesiredState(cfg);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The state of NAT's test host ({@code NatHarness.yaml}: web holds 203.0.113.10, job outbound, pool .10-.11). */
    static DesiredState natState() {
        try {
            String y = io.sluice.dataplane.nat.NatHarness.yaml(64, 4);
            return new DesiredState(ConfigLoader.parse("nat.yaml", y));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
