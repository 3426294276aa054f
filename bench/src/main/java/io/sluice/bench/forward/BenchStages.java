package io.sluice.bench.forward;

import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;

/**
 * Benchmark-only stages standing in for the real ones (io.sluice.dataplane.stage, written on
 * another branch) until they are merged; ForwardBench runs the real ones through
 * {@code --pipeline <PipelineFactory class>}.
 */
public final class BenchStages {
    private BenchStages() {}

    /** Port 0 ↔ 1 without touching the frame (what testpmd's io mode does). */
    public static final class Crossover implements Stage {
        @Override
        public int process(Burst b) {
            for (int i = 0; i < b.count; i++) {
                if (b.next[i] == Next.CONTINUE) {
                    b.tx(i, b.inPort[i] ^ 1);
                }
            }
            return b.count;
        }

        @Override
        public String name() {
            return "crossover";
        }
    }

    /** Swaps source and destination MAC and sends to the other port (port 0 ↔ 1). */
    public static final class MacSwap implements Stage {
        @Override
        public int process(Burst b) {
            for (int i = 0; i < b.count; i++) {
                if (b.next[i] == Next.CONTINUE) {
                    long d = b.data[i];
                    long dst = Mem.mac(d);
                    Mem.putMac(d, Mem.mac(d + 6));
                    Mem.putMac(d + 6, dst);
                    b.tx(i, b.inPort[i] ^ 1);
                }
            }
            return b.count;
        }

        @Override
        public String name() {
            return "macswap";
        }
    }
}
