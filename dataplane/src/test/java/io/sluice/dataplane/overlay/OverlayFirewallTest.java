package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.Net;
import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.PortSpec;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.config.WorkerSpec;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.config.FirewallConfig;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.sluice.dataplane.overlay.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Security groups on the overlay pipeline at packet level (decap -> ... -> route -> firewall ->
 * encap), on the host-1 topology of {@link Fixtures}: blue b1, b2 (subnet a), b3 (subnet b) on
 * ports 1..3, b4 remote behind host 2; red r1 on port 4 with b1's address, r2 remote with b2's.
 * b1 is in group "web" only, everything else in its network's default group.
 */
class OverlayFirewallTest {
    static final int P1 = 1, P2 = 2, P3 = 3, P4 = 4;
    static final String SECTION = """
            security-groups:
              groups:
                - name: web
                  rules:
                    - { id: http, direction: ingress, protocol: tcp, ports: 80 }
                    - { id: out, direction: egress }
              vm-ports:
                - { port: p1, groups: [web] }
                - { vm: blue/b3, groups: [default, web] }
              platform:
                exemptions:
                  - { rule: platform/smtp-25, ports: [blue/b3] }
            """;

    final Arena arena = Arena.ofConfined();
    final Buffers buf = new Buffers(arena, 2);
    FirewallState fw;
    Pipeline host1;

    @AfterEach
    void close() { arena.close(); }

    static SluiceConfig cfg() {
        List<PortSpec> ports = new ArrayList<>();
        String[] names = {"uplink", "p1", "p2", "p3", "p4"};
        for (int i = 0; i < names.length; i++) ports.add(new PortSpec(names[i], "net_null" + i, 1, 1, -1));
        List<WorkerSpec.RxQueue> rx = new ArrayList<>();
        for (int i = 0; i < names.length; i++) rx.add(new WorkerSpec.RxQueue(i, 0));
        return new SluiceConfig("t.yaml", List.of(), ports, List.of(new WorkerSpec(0, rx, 0)), 32, "backoff", 16383,
                List.of(), List.of(), Path.of("/tmp/unused"), host1Model(NEXT_HOP_MAC));
    }

    static FirewallConfig parse(String section) throws ConfigException {
        return FirewallConfigLoader.parseDocument("t.yaml", section, cfg());
    }

    void setUp() throws ConfigException {
        fw = new FirewallState(5, parse(SECTION));
        host1 = new Pipeline(compile(host1Model(NEXT_HOP_MAC)), 1, fw);
    }

    // ------------------------------------------------------------------ frames through host 1

    /** Runs slot 0; returns -1 when sent (TX), else the drop reason. */
    int run(Burst b) {
        b.count = 1;
        host1.run(b);
        if (b.next[0] == Next.TX) return -1;
        assertEquals(Next.DROP, b.next[0], "neither sent nor dropped");
        return b.dropReason[0];
    }

    int udp(int port, long dstMac, long srcMac, int src, int dst, int sport, int dport) {
        Burst b = new Burst(1);
        long d = buf.frame(0);
        udp4(b, 0, d, port, dstMac, srcMac, src, dst, 64, 16);
        Mem.put32(d + 34, (sport << 16) | dport);
        return run(b);
    }

    int tcp(int port, long dstMac, long srcMac, int src, int dst, int sport, int dport, int tcpFlags) {
        Burst b = new Burst(1);
        long d = buf.frame(0);
        udp4(b, 0, d, port, dstMac, srcMac, src, dst, 64, 12); // 20 bytes of L4, rewritten into TCP
        Mem.put8(d + 23, 6);
        Mem.put16(d + 24, 0);
        Mem.put16(d + 24, Net.checksum(d + 14, 20));
        long t = d + 34;
        Mem.put32(t, (sport << 16) | dport);
        Mem.put32(t + 4, 1000);
        Mem.put32(t + 8, 0);
        Mem.put16(t + 12, (5 << 12) | tcpFlags);
        Mem.put16(t + 14, 65535);
        Mem.put32(t + 16, 0);
        b.ipProto[0] = 6;
        b.flags[0] = PacketFlags.IPV4 | PacketFlags.TCP;
        return run(b);
    }

    /** A UDP packet from remote b4 (host 2) to a host-1 VM, encapsulated by host 2's pipeline, received on the uplink. */
    int fromB4(long dstMac, int dst) {
        Pipeline host2 = new Pipeline(compile(host2Model(NEXT_HOP_MAC)), 1);
        Burst one = new Burst(1);
        udp4(one, 0, buf.frame(1), 1, dstMac, B4_MAC, B4_IP, dst, 64, 16);
        one.count = 1;
        host2.run(one);
        assertEquals(Next.TX, one.next[0]);
        Burst b = new Burst(1);
        parsedOuter(b, 0, one.data[0], one.length[0]);
        return run(b);
    }

    static void sent(int r) { assertEquals(-1, r, () -> "expected TX, dropped " + DropReason.of(r)); }

    static void dropped(DropReason want, int r) {
        assertEquals(want.ordinal(), r, () -> "expected " + want + ", got " + (r < 0 ? "TX" : DropReason.of(r)));
    }

    // ------------------------------------------------------------------ tests

    @Test
    void configurationMapsOverlayVmsZonesAndGroupsPerNetwork() throws Exception {
        FirewallConfig c = parse(SECTION);
        Map<String, FirewallConfig.VmPort> byName = new java.util.HashMap<>();
        for (FirewallConfig.VmPort v : c.vmPorts()) byName.put(v.name(), v);
        assertEquals(6, byName.size(), "every overlay VM, local or remote: " + byName.keySet());
        assertEquals(new FirewallConfig.VmPort(P1, "blue/b1", List.of(io.sluice.rules.model.IpPrefix.parse("10.0.1.10/32"),
                io.sluice.rules.model.IpPrefix.parse("fd00:1:1::10/128")), List.of("blue:web"), 1), byName.get("blue/b1"));
        assertEquals(List.of("blue:default", "blue:web"), byName.get("blue/b3").groups());
        assertEquals(List.of("blue:default"), byName.get("blue/b2").groups(), "unlisted: default");
        assertEquals(-1, byName.get("blue/b4").port(), "remote VM: member only");
        assertEquals(2, byName.get("red/r1").zone(), "zone = network");
        assertEquals(List.of("red:default"), byName.get("red/r1").groups());
        assertTrue(c.groups().containsKey("red:web") && c.groups().containsKey("blue:default"), c.groups().keySet()::toString);
        assertEquals("blue:default", c.groups().get("blue:default").rules().get(2).remoteGroup().replace("/self", ""));
        assertTrue(c.platform().toString().contains("blue/b3"), c.platform()::toString);
    }

    @Test
    void defaultGroupAdmitsItsMembersOnlyPerNetwork() throws Exception {
        setUp();
        // b1 (web only) -> b2 (default): only SSH. red r1 is in red's default with b1's very address,
        // which must not make b1 a member of blue's default
        dropped(DropReason.FW_NO_RULE, udp(P1, B2_MAC, B1_MAC, B1_IP, B2_IP, 40000, 5001));
        assertEquals(1, fw.drops(P2, DropReason.FW_NO_RULE), "decided by b2's rules");
        sent(tcp(P1, B2_MAC, B1_MAC, B1_IP, B2_IP, 40001, 22, 0x02));
        // b3 (default, other subnet: routed) -> b2: any port
        sent(udp(P3, ROUTER, B3_MAC, B3_IP, B2_IP, 40000, 5001));
        // b2 -> b1: web's http rule
        sent(tcp(P2, B1_MAC, B2_MAC, B2_IP, B1_IP, 40002, 80, 0x02));
        dropped(DropReason.FW_NO_RULE, tcp(P2, B1_MAC, B2_MAC, B2_IP, B1_IP, 40003, 8080, 0x02));
        assertEquals(1, fw.hits("blue:web/http"));
        assertEquals(1, fw.hits("blue:default/ssh-v4"));
        assertEquals(1, fw.hits("blue:default/self"));
        assertEquals(3, fw.hits("blue:default/egress") + fw.hits("blue:web/out"), "one egress rule per new connection");
        assertEquals(3, fw.created());
    }

    @Test
    void zonesKeepOverlappingCidrsApart() throws Exception {
        setUp();
        // red r1 10.0.1.10:40000 -> r2 10.0.1.11:5001 (remote: encapsulation pending when the firewall runs)
        sent(udp(P4, R2_MAC, R1_MAC, R1_IP, R2_IP, 40000, 5001));
        assertEquals(1, fw.created());
        // blue b2 10.0.1.11:5001 -> b1 10.0.1.10:40000 is the reply's tuple, but in zone blue: new, refused
        dropped(DropReason.FW_NO_RULE, udp(P2, B1_MAC, B2_MAC, B2_IP, B1_IP, 5001, 40000));
        assertEquals(1, fw.drops(P1, DropReason.FW_NO_RULE));
        // red's connection is there all along
        sent(udp(P4, R2_MAC, R1_MAC, R1_IP, R2_IP, 40000, 5001));
        assertEquals(1, fw.created());
    }

    @Test
    void remoteVmInboundAfterDecap() throws Exception {
        setUp();
        dropped(DropReason.FW_NO_RULE, fromB4(B1_MAC, B1_IP)); // b4 in blue default, b1 web only
        assertEquals(1, fw.drops(P1, DropReason.FW_NO_RULE));
        sent(fromB4(B2_MAC, B2_IP)); // b4 is a (remote) member of blue's default
        assertEquals(1, fw.hits("blue:default/self"));
        // b2's reply goes out encapsulated: established, nothing new
        sent(udp(P2, B4_MAC, B2_MAC, B2_IP, B4_IP, 5001, 40000));
        assertEquals(1, fw.created());
    }

    @Test
    void platformBlocksSmtpUnlessExempt() throws Exception {
        setUp();
        dropped(DropReason.FW_PLATFORM, tcp(P2, ROUTER, B2_MAC, B2_IP, B3_IP, 40000, 25, 0x02));
        assertEquals(1, fw.drops(P2, DropReason.FW_PLATFORM));
        sent(tcp(P2, ROUTER, B2_MAC, B2_IP, B3_IP, 40000, 587, 0x02));
        sent(tcp(P3, ROUTER, B3_MAC, B3_IP, B2_IP, 40000, 25, 0x02)); // b3 is exempt
    }

    @Test
    void answersOfTheDataPlaneAreNotFirewalled() throws Exception {
        setUp();
        // b1 (web only: no ICMP inbound) pings its gateway: the echo reply is the data plane's own answer
        Burst b = new Burst(1);
        long d = buf.frame(0);
        udp4(b, 0, d, P1, ROUTER, B1_MAC, B1_IP, GW_A, 64, 32);
        Mem.put8(d + 23, 1);
        Mem.put16(d + 24, 0);
        Mem.put16(d + 24, Net.checksum(d + 14, 20));
        Mem.put32(d + 34, 0x0800_0000);
        Mem.put16(d + 36, Net.checksum(d + 34, b.length[0] - 34));
        b.ipProto[0] = 1;
        b.flags[0] = PacketFlags.IPV4 | PacketFlags.ICMP;
        sent(run(b));
        assertEquals(P1, b.outPort[0]);
        assertEquals(0, fw.created());
    }

    @Test
    void countersExportedPerVmPortAndRule() throws Exception {
        fw = new FirewallState(5, parse(SECTION));
        Counters counters = Counters.inMemory(512);
        fw.exportCounters(counters, cfg().portNames());
        OverlayState st = new OverlayState(compile(host1Model(NEXT_HOP_MAC)));
        OverlayMeta meta = new OverlayMeta(1);
        Stage[] stages = OverlayPipeline.vmStages(st, meta, UnderlayNeighbours.withDefaults(), fw, 0);
        Burst b = new Burst(1);
        udp4(b, 0, buf.frame(0), P1, B2_MAC, B1_MAC, B1_IP, B2_IP, 64, 16);
        b.count = 1;
        for (Stage s : stages) s.process(b);
        udp4(b, 0, buf.frame(0), P3, ROUTER, B3_MAC, B3_IP, B2_IP, 64, 16);
        b.count = 1;
        for (Stage s : stages) s.process(b);
        Map<String, Long> snap = counters.snapshot();
        assertEquals(1L, snap.get("firewall port p2 drop fw_no_rule"), snap::toString);
        assertEquals(1L, snap.get("firewall rule blue:default/self connections"), snap::toString);
        assertEquals(1L, snap.get("firewall connections created"), snap::toString);
        assertEquals(1L, snap.get("firewall connections tracked"), "occupancy gauge: " + snap);
        assertEquals(0L, snap.get("firewall fragment datagrams tracked"), snap::toString);
        assertEquals(0L, snap.get("firewall rule red:default/ssh-v4 connections"), snap::toString);
        assertNull(snap.get("firewall port uplink drop fw_no_rule"), "not a VM port");
    }

    @Test
    void reloadReadsOverlayNamesAndRefusesBadReferences() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("sg-overlay", ".yaml");
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        try (java.io.PrintStream ps = new java.io.PrintStream(log, true, java.nio.charset.StandardCharsets.UTF_8)) {
            java.nio.file.Files.writeString(file, SECTION);
            setUp();
            dropped(DropReason.FW_NO_RULE, udp(P1, B2_MAC, B1_MAC, B1_IP, B2_IP, 40000, 5001));
            io.sluice.dataplane.service.RunningConfig r = new io.sluice.dataplane.service.RunningConfig(file.toString(), cfg(), fw, null);
            {
                // b1 joins blue's default group
                String applied = r.applyFirewallSection(SECTION.replace("{ port: p1, groups: [web] }", "{ vm: blue/b1, groups: [default, web] }"));
                assertTrue(applied.startsWith("applied security-groups"), applied);
                assertEquals(2, r.generation());
                sent(udp(P1, B2_MAC, B1_MAC, B1_IP, B2_IP, 40000, 5001));
                // a reference to no VM: refused with file:line:key, rules unchanged
                io.sluice.dataplane.config.ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(
                        io.sluice.dataplane.config.ConfigException.class,
                        () -> r.applyFirewallSection(SECTION.replace("{ port: p1, groups: [web] }", "{ vm: blue/b7 }")));
                assertTrue(e.getMessage().contains(file + ":8: security-groups.vm-ports[0].vm: no overlay VM 'blue/b7'"), e::getMessage);
                assertEquals(2, r.generation());
                sent(udp(P1, B2_MAC, B1_MAC, B1_IP, B2_IP, 40001, 5001));
            }
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "{ port: uplink }|t.yaml:3: security-groups.vm-ports[0].port: port 'uplink' belongs to no overlay VM (overlay VMs: [blue/b1 on port p1",
            "{ port: nope }|t.yaml:3: security-groups.vm-ports[0].port: no port named 'nope' (ports: [p1, p2, p3, p4, uplink])",
            "{ vm: blue/b9 }|t.yaml:3: security-groups.vm-ports[0].vm: no overlay VM 'blue/b9' (overlay VMs: [",
            "{ vm: b1 }|t.yaml:3: security-groups.vm-ports[0].vm: no overlay VM 'b1'",
            "{ port: p1, vm: blue/b1 }|t.yaml:3: security-groups.vm-ports[0].vm: give port (a local VM's port) or vm (network/name), not both",
            "{ groups: [web] }|t.yaml:3: security-groups.vm-ports[0].port: missing: a local VM's port, or vm: network/name",
            "{ port: p1, addresses: [10.0.1.10] }|t.yaml:3: security-groups.vm-ports[0].addresses: not used with 'overlay'",
            "{ port: p1, zone: 3 }|t.yaml:3: security-groups.vm-ports[0].zone: not used with 'overlay': the VM's zone is its network",
            "{ port: p1, groups: [nope] }|t.yaml:3: security-groups.vm-ports[0].groups[0]: no group named 'nope'",
    })
    void vmPortErrorsNameFileLineAndKey(String entry, String want) {
        String y = "security-groups:\n  vm-ports:\n    - " + entry + "\n";
        ConfigException e = assertThrows(ConfigException.class, () -> parse(y));
        assertTrue(e.getMessage().startsWith(want), () -> "got: " + e.getMessage());
    }

    @Test
    void vmListedTwiceAndBadExemption() {
        String twice = "security-groups:\n  vm-ports:\n    - { port: p1 }\n    - { vm: blue/b1, groups: [default] }\n";
        ConfigException e = assertThrows(ConfigException.class, () -> parse(twice));
        assertEquals("t.yaml:4: security-groups.vm-ports[1].vm: VM blue/b1 listed twice", e.getMessage());
        String ex = "security-groups:\n  platform:\n    exemptions:\n      - { rule: platform/smtp-25, ports: [p1, uplink] }\n";
        e = assertThrows(ConfigException.class, () -> parse(ex));
        assertTrue(e.getMessage().startsWith("t.yaml:4: security-groups.platform.exemptions[0].ports[1]: 'uplink' is no overlay VM"), e.getMessage());
    }
}
