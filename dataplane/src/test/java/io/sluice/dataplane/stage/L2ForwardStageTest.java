package io.sluice.dataplane.stage;

import io.sluice.dataplane.config.SluiceConfig.MacEntry;
import io.sluice.dataplane.packet.NativeFrames;
import io.sluice.dataplane.packet.PacketSpec;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.sluice.dataplane.stage.TestConfigs.MAC_A;
import static io.sluice.dataplane.stage.TestConfigs.MAC_B;
import static io.sluice.dataplane.stage.TestConfigs.MAC_C;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class L2ForwardStageTest {
    private final NativeFrames frames = new NativeFrames();
    private final L2ForwardStage l2 = new L2ForwardStage(TestConfigs.config());

    @AfterEach
    void close() {
        frames.close();
    }

    /** One packet per (dst, inPort), Ethernet only: the L2 stage needs nothing from the parser. */
    private Burst burst(long[] dsts, int[] inPorts) {
        Burst b = new Burst(dsts.length);
        b.count = dsts.length;
        for (int i = 0; i < dsts.length; i++) {
            byte[] bytes = PacketSpec.frame("f").dst(dsts[i]).src(0x02_00_00_00_00_99L).ipv4(17).build().bytes();
            b.reset(i, 0, frames.put(bytes), bytes.length, inPorts[i]);
        }
        return b;
    }

    @Test
    void switchesByDestinationMacAndDropsTheRestWithAReason() {
        long bcast = 0xFFFF_FFFF_FFFFL;
        Burst b = burst(
                new long[] {MAC_B, MAC_C, MAC_A, MAC_B, 0x02_00_00_00_77_77L, bcast, 0x01_00_5e_00_00_01L, 0x33_33_00_00_00_01L},
                new int[] {0, 0, 2, 1, 0, 0, 1, 2});
        assertEquals(8, l2.process(b));
        assertEquals(Next.TX, b.next[0]);
        assertEquals(1, b.outPort[0]);
        assertEquals(Next.TX, b.next[1]);
        assertEquals(2, b.outPort[1]);
        assertEquals(Next.TX, b.next[2]);
        assertEquals(0, b.outPort[2]);
        assertDrop(b, 3, DropReason.L2_SAME_PORT);
        assertDrop(b, 4, DropReason.L2_UNKNOWN_DESTINATION);
        assertDrop(b, 5, DropReason.L2_BROADCAST);
        assertDrop(b, 6, DropReason.L2_MULTICAST);
        assertDrop(b, 7, DropReason.L2_MULTICAST);
    }

    @Test
    void leavesDecidedPacketsAlone() {
        Burst b = burst(new long[] {MAC_B, MAC_B, MAC_B}, new int[] {0, 0, 0});
        b.drop(0, DropReason.BAD_ARP);
        b.tx(1, 2);
        b.next[2] = Next.CONSUMED;
        assertEquals(0, l2.process(b));
        assertDrop(b, 0, DropReason.BAD_ARP);
        assertEquals(2, b.outPort[1]);
        assertEquals(Next.CONSUMED, b.next[2]);
    }

    @Test
    void lookupMatchesTheConfiguredTable() {
        assertEquals(0, l2.lookup(MAC_A));
        assertEquals(1, l2.lookup(MAC_B));
        assertEquals(2, l2.lookup(MAC_C));
        assertEquals(LongIntMap.MISSING, l2.lookup(0x02_00_00_00_00_00L));
    }

    @Test
    void rejectsBadTables() {
        assertThrows(IllegalArgumentException.class,
                () -> new L2ForwardStage(List.of(new MacEntry(MAC_A, 0), new MacEntry(MAC_A, 1))));
        assertThrows(IllegalArgumentException.class, () -> new L2ForwardStage(List.of(new MacEntry(0x01_00_5e_00_00_01L, 0))));
        assertThrows(IllegalArgumentException.class, () -> new L2ForwardStage(List.of(new MacEntry(MAC_A, -1))));
        new L2ForwardStage(List.of(new MacEntry(MAC_A, 0), new MacEntry(MAC_A, 0))); // same entry twice is fine
        new L2ForwardStage(List.of());
    }

    static void assertDrop(Burst b, int i, DropReason r) {
        assertEquals(Next.DROP, b.next[i], "packet " + i);
        assertEquals(r, DropReason.of(b.dropReason[i]), "packet " + i);
    }
}
