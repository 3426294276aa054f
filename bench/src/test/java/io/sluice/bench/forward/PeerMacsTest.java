package io.sluice.bench.forward;

import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.stage.L2ForwardStage;
import io.sluice.dataplane.stage.ParseStage;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** bench forward's parse-l2: every packet forwarded to the other port, over every learned MAC of that port. */
class PeerMacsTest {
    static final int BURST = 32;

    /** Bursts as the worker sees them (one port's burst, then the other's); returns the destinations seen per out port. */
    private static Set<Long>[] run(Stage[] stages, int bursts, int[] txTo, int[] drops) {
        @SuppressWarnings("unchecked")
        Set<Long>[] seen = new Set[] {new HashSet<Long>(), new HashSet<Long>()};
        try (Arena a = Arena.ofConfined()) {
            long mem = a.allocate(128L * BURST, 64).address();
            Burst b = new Burst(BURST);
            for (int r = 0; r < bursts; r++) {
                int port = r & 1;
                b.count = BURST;
                for (int i = 0; i < BURST; i++) {
                    long d = mem + 128L * i;
                    ForwardBench.writeFrame(d);
                    b.reset(i, 0, d, 64, port);
                }
                for (Stage s : stages) s.process(b);
                for (int i = 0; i < BURST; i++) {
                    if (b.next[i] == Next.TX) {
                        txTo[b.inPort[i] * 2 + b.outPort[i]]++;
                        seen[b.outPort[i]].add(Mem.mac(b.data[i]));
                    } else {
                        drops[b.dropReason[i] & 0xFF]++;
                    }
                }
            }
        }
        return seen;
    }

    @Test
    void everyPacketLeavesByTheOtherPortOverEveryLearnedMac() {
        int macs = 1000, per = macs / 2, bursts = 2 * (per / BURST + 2);
        Stage[] st = {new ForwardBench.PeerMacs(per), new ParseStage(), new L2ForwardStage(ForwardBench.macTable(macs))};
        int[] tx = new int[4];
        int[] drops = new int[256];
        Set<Long>[] seen = run(st, bursts, tx, drops);
        assertEquals(0, tx[0], "port 0 -> port 0");
        assertEquals(0, tx[3], "port 1 -> port 1");
        assertEquals(bursts / 2 * BURST, tx[1], "port 0 -> port 1");
        assertEquals(bursts / 2 * BURST, tx[2], "port 1 -> port 0");
        assertEquals(0, java.util.Arrays.stream(drops).sum(), "drops");
        assertEquals(per, seen[0].size(), "distinct destinations behind port 0");
        assertEquals(per, seen[1].size(), "distinct destinations behind port 1");
        for (long m : seen[1]) assertEquals(1, new L2ForwardStage(ForwardBench.macTable(macs)).lookup(m));
    }

    @Test
    void withoutTheGeneratorThePrefilledFrameIsHalfDroppedAsBefore() {
        // the old parse-l2: every frame to MAC_B (behind port 1): port 1's packets are hairpins
        Stage[] st = {new ParseStage(), new L2ForwardStage(ForwardBench.macTable(1000))};
        int[] tx = new int[4];
        int[] drops = new int[256];
        run(st, 4, tx, drops);
        assertEquals(2 * BURST, tx[1]);
        assertEquals(0, tx[2]);
        assertEquals(2 * BURST, drops[DropReason.L2_SAME_PORT.ordinal()]);
    }
}
