package io.sluice.dataplane.stage;

import io.sluice.dataplane.config.SluiceConfig.ArpEntry;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.packet.NativeFrames;
import io.sluice.dataplane.packet.PacketSpec;
import io.sluice.dataplane.packet.PacketSpec.Built;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static io.sluice.dataplane.stage.L2ForwardStageTest.assertDrop;
import static io.sluice.dataplane.stage.TestConfigs.IP_B;
import static io.sluice.dataplane.stage.TestConfigs.IP_GW;
import static io.sluice.dataplane.stage.TestConfigs.IP_PORT2_ONLY;
import static io.sluice.dataplane.stage.TestConfigs.MAC_A;
import static io.sluice.dataplane.stage.TestConfigs.MAC_B;
import static io.sluice.dataplane.stage.TestConfigs.MAC_GW;
import static io.sluice.dataplane.stage.TestConfigs.MAC_PORT2_ONLY;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ArpResponderStageTest {
    private static final long BCAST = 0xFFFF_FFFF_FFFFL;
    private static final int IP_A = TestConfigs.IP_A;
    private final NativeFrames frames = new NativeFrames();
    private final Stage[] pipeline = Pipelines.l2(TestConfigs.config());

    @AfterEach
    void close() {
        frames.close();
    }

    private Burst run(Built f, int inPort) {
        Burst b = new Burst(1);
        b.count = 1;
        b.reset(0, 0, frames.put(f.bytes()), f.bytes().length, inPort);
        for (Stage s : pipeline) {
            s.process(b);
        }
        return b;
    }

    private static Built request(long dstMac, int spa, int tpa) {
        return PacketSpec.frame("req").dst(dstMac).src(MAC_A).arp(1, MAC_A, spa, 0, tpa).build();
    }

    @Test
    void requestForAConfiguredAddressIsAnsweredInPlaceOnTheInPort() {
        Built f = request(BCAST, IP_A, IP_GW);
        Burst b = run(f, 0);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(0, b.outPort[0]);
        assertEquals(f.bytes().length, b.length[0]);
        long eth = b.data[0];
        long arp = eth + 14;
        assertEquals(MAC_A, Mem.mac(eth), "eth dst = requester");
        assertEquals(MAC_GW, Mem.mac(eth + 6), "eth src = answered MAC");
        assertEquals(0x0806, Mem.u16(eth + 12), "ethertype");
        assertEquals(1, Mem.u16(arp), "htype");
        assertEquals(0x0800, Mem.u16(arp + 2), "ptype");
        assertEquals(6, Mem.u8(arp + 4), "hlen");
        assertEquals(4, Mem.u8(arp + 5), "plen");
        assertEquals(2, Mem.u16(arp + 6), "opcode reply");
        assertEquals(MAC_GW, Mem.mac(arp + 8), "sha");
        assertEquals(IP_GW, Mem.i32(arp + 14), "spa");
        assertEquals(MAC_A, Mem.mac(arp + 18), "tha");
        assertEquals(IP_A, Mem.i32(arp + 24), "tpa");
        // and byte for byte against a reply built independently
        Built want = PacketSpec.frame("reply").dst(MAC_A).src(MAC_GW).arp(2, MAC_GW, IP_GW, MAC_A, IP_A).build();
        assertArrayEquals(want.bytes(), NativeFrames.read(eth, f.bytes().length));
    }

    @Test
    void unicastRequestAndArpProbeAreAnsweredToo() {
        Burst b = run(request(MAC_B, IP_A, IP_B), 0);                       // cache refresh
        assertEquals(Next.TX, b.next[0]);
        assertEquals(MAC_B, Mem.mac(b.data[0] + 14 + 8));
        Burst probe = run(request(BCAST, 0, IP_B), 0);                       // RFC 5227 probe, sender IP 0
        assertEquals(Next.TX, probe.next[0]);
        assertEquals(0, Mem.i32(probe.data[0] + 14 + 24));
        assertEquals(MAC_A, Mem.mac(probe.data[0] + 14 + 18));
    }

    @Test
    void aHostProbingForItsOwnAddressIsNotAnswered() {
        // A (MAC_A) probes for IP_A, configured with MAC_A: answering would report a conflict with itself
        Built probe = PacketSpec.frame("self-probe").dst(BCAST).src(MAC_A).arp(1, MAC_A, 0, 0, IP_A).build();
        Burst b = run(probe, 0);
        assertDrop(b, 0, DropReason.ARP_NOT_FOR_US);
        assertArrayEquals(probe.bytes(), NativeFrames.read(b.data[0], probe.bytes().length));
        // B probing for IP_A is answered: that is a real conflict B must learn about
        Built other = PacketSpec.frame("probe").dst(BCAST).src(MAC_B).arp(1, MAC_B, 0, 0, IP_A).build();
        assertEquals(Next.TX, run(other, 1).next[0]);
    }

    @Test
    void vlanTagsAreKeptInTheReply() {
        Built f = PacketSpec.frame("vreq").dst(BCAST).src(MAC_A).vlan(0x8100, 42).arp(1, MAC_A, IP_A, 0, IP_GW).build();
        Burst b = run(f, 1);
        assertEquals(Next.TX, b.next[0]);
        assertEquals(1, b.outPort[0]);
        Built want = PacketSpec.frame("vreply").dst(MAC_A).src(MAC_GW).vlan(0x8100, 42).arp(2, MAC_GW, IP_GW, MAC_A, IP_A).build();
        assertArrayEquals(want.bytes(), NativeFrames.read(b.data[0], f.bytes().length));
    }

    @Test
    void portSpecificEntryAnswersOnlyOnItsPort() {
        Burst on2 = run(request(BCAST, IP_A, IP_PORT2_ONLY), 2);
        assertEquals(Next.TX, on2.next[0]);
        assertEquals(MAC_PORT2_ONLY, Mem.mac(on2.data[0] + 14 + 8));
        Burst on0 = run(request(BCAST, IP_A, IP_PORT2_ONLY), 0);
        assertDrop(on0, 0, DropReason.ARP_NOT_FOR_US);
    }

    @Test
    void broadcastRequestForAnotherAddressIsDroppedNotFlooded() {
        Built f = request(BCAST, IP_A, 0x0A_C7_00_63);
        Burst b = run(f, 0);
        assertDrop(b, 0, DropReason.ARP_NOT_FOR_US);
        assertArrayEquals(f.bytes(), NativeFrames.read(b.data[0], f.bytes().length), "frame untouched");
    }

    @Test
    void unicastRequestForAnotherAddressRepliesAndGratuitousGoToL2() {
        Burst uni = run(request(MAC_B, IP_A, 0x0A_C7_00_63), 0);
        assertEquals(Next.TX, uni.next[0]);
        assertEquals(1, uni.outPort[0]);
        assertEquals(1, Mem.u16(uni.data[0] + 14 + 6), "still a request");
        Built reply = PacketSpec.frame("reply").dst(MAC_B).src(MAC_A).arp(2, MAC_A, IP_A, MAC_B, IP_B).build();
        Burst r = run(reply, 0);
        assertEquals(Next.TX, r.next[0]);
        assertEquals(1, r.outPort[0]);
        assertArrayEquals(reply.bytes(), NativeFrames.read(r.data[0], reply.bytes().length), "reply untouched");
        Burst garp = run(request(BCAST, IP_GW, IP_GW), 0);
        assertDrop(garp, 0, DropReason.L2_BROADCAST);
        Built garpReply = PacketSpec.frame("garp").dst(BCAST).src(MAC_A).arp(2, MAC_A, IP_A, BCAST, IP_A).build();
        assertDrop(run(garpReply, 0), 0, DropReason.L2_BROADCAST);
    }

    @Test
    void onlyArpPacketsStillInThePipelineAreLookedAt() {
        ArpResponderStage arp = new ArpResponderStage(TestConfigs.arp());
        Built req = request(BCAST, IP_A, IP_GW);
        Burst b = new Burst(3);
        b.count = 3;
        for (int i = 0; i < 3; i++) {
            b.reset(i, 0, frames.put(req.bytes()), req.bytes().length, 0);
            b.l3Offset[i] = 14;
        }
        b.flags[0] = io.sluice.dataplane.pipeline.PacketFlags.ARP | io.sluice.dataplane.pipeline.PacketFlags.BROADCAST;
        b.flags[1] = io.sluice.dataplane.pipeline.PacketFlags.ARP;
        b.drop(1, DropReason.TRUNCATED_ARP);
        b.flags[2] = io.sluice.dataplane.pipeline.PacketFlags.IPV4;
        assertEquals(1, arp.process(b));
        assertEquals(Next.TX, b.next[0]);
        assertDrop(b, 1, DropReason.TRUNCATED_ARP);
        assertEquals(Next.CONTINUE, b.next[2]);
        assertArrayEquals(req.bytes(), NativeFrames.read(b.data[1], req.bytes().length));
        assertArrayEquals(req.bytes(), NativeFrames.read(b.data[2], req.bytes().length));
    }

    @Test
    void rejectsInconsistentEntries() {
        assertThrows(IllegalArgumentException.class,
                () -> new ArpResponderStage(List.of(new ArpEntry(IP_A, MAC_A, -1), new ArpEntry(IP_A, MAC_B, -1))));
        assertThrows(IllegalArgumentException.class, () -> new ArpResponderStage(List.of(new ArpEntry(IP_A, BCAST, -1))));
        assertThrows(IllegalArgumentException.class, () -> new ArpResponderStage(List.of(new ArpEntry(IP_A, MAC_A, -2))));
        // same address with different MACs on different ports is fine; the port entry wins on its port
        ArpResponderStage arp = new ArpResponderStage(List.of(new ArpEntry(IP_A, MAC_A, -1), new ArpEntry(IP_A, MAC_B, 1),
                new ArpEntry(IP_A, MAC_A, -1)));
        Built f = request(BCAST, IP_B, IP_A);
        for (int port : new int[] {0, 1}) {
            Burst b = new Burst(1);
            b.count = 1;
            b.reset(0, 0, frames.put(f.bytes()), f.bytes().length, port);
            pipeline[0].process(b);
            arp.process(b);
            assertEquals(port == 1 ? MAC_B : MAC_A, Mem.mac(b.data[0] + 14 + 8), "port " + port);
        }
    }

    @Test
    void afterTheL2PipelineEveryPacketIsTxOrDrop() {
        List<Built> all = PacketSpec.catalog();
        Burst b = new Burst(all.size());
        b.count = all.size();
        for (int i = 0; i < all.size(); i++) {
            byte[] bytes = all.get(i).bytes();
            b.reset(i, 0, frames.put(bytes), bytes.length, i % 3);
        }
        for (Stage s : pipeline) {
            s.process(b);
        }
        int[] seen = new int[4];
        for (int i = 0; i < b.count; i++) {
            seen[b.next[i]]++;
            if (b.next[i] == Next.DROP) {
                assertEquals(true, b.dropReason[i] != 0);
            }
        }
        assertEquals(0, seen[Next.CONTINUE] + seen[Next.CONSUMED], Arrays.toString(seen));
        assertEquals(3, pipeline.length);
        assertEquals(List.of("parse", "arp", "l2"), Arrays.stream(pipeline).map(Stage::name).toList());
    }
}
