package io.sluice.dataplane.stage;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.dataplane.packet.ArpHeader;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.packet.NativeFrames;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;

import java.lang.foreign.Arena;

/**
 * Coverage-guided fuzzing of the parser and the L2 pipeline behind it (Jazzer). Input: byte 0
 * picks the in-port (0..3, 3 is not in the MAC table), the rest is the frame. Invariants: nothing
 * throws; after parse a packet is dropped with a parser reason or its offsets and flags are
 * consistent ({@link ParseInvariants}); after arp and l2 every packet is DROP with a reason, or
 * TX: back to its in-port only as an ARP reply, otherwise to another port of the MAC table.
 *
 * <p>Plain {@code mvn test} replays the saved inputs in
 * {@code src/test/resources/io/sluice/dataplane/stage/ParserFuzzInputs/parse/}; to fuzz, see
 * docs/stages.md ({@code JAZZER_FUZZ=1}).
 */
class ParserFuzz {
    private static final int MAX = 16 * 1024;
    private static final long BUF = Arena.global().allocate(MAX, 64).address();
    private static final Stage[] PIPELINE = Pipelines.l2(TestConfigs.config());
    private static final Burst B = new Burst(1);

    @FuzzTest(maxDuration = "60s")
    void parse(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int port = input[0] & 3;
        int len = Math.min(input.length - 1, MAX);
        byte[] frame = new byte[len];
        System.arraycopy(input, 1, frame, 0, len);
        NativeFrames.write(BUF, frame);
        Burst b = B;
        b.count = 1;
        b.reset(0, 0, BUF, len, port);
        PIPELINE[0].process(b);
        String broken = ParseInvariants.check(b, 0);
        if (broken != null) {
            throw new AssertionError("after parse: " + broken);
        }
        PIPELINE[1].process(b);
        PIPELINE[2].process(b);
        if (b.next[0] == Next.TX) {
            boolean arpReply = (b.flags[0] & PacketFlags.ARP) != 0 && Mem.u16(BUF + b.l3Offset[0] + ArpHeader.OPER_OFFSET) == 2;
            if (b.outPort[0] == port ? !arpReply : (b.outPort[0] < 0 || b.outPort[0] > 2)) {
                throw new AssertionError("tx to port " + b.outPort[0] + " from " + port + (arpReply ? " (ARP reply)" : ""));
            }
        } else if (b.next[0] == Next.DROP) {
            if (b.dropReason[0] == 0) {
                throw new AssertionError("drop without a reason");
            }
        } else {
            throw new AssertionError("after l2 next=" + b.next[0]);
        }
    }
}
