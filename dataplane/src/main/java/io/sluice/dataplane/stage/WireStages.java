package io.sluice.dataplane.stage;

import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;

/**
 * Two-port "wire" stages: the reference points of the forwarding benchmark (what
 * {@code dpdk-testpmd --forward-mode=io|macswap} does) and the simplest pipelines the port and
 * worker tests run. Port 0 ↔ port 1; a packet already decided by an earlier stage is left alone.
 */
public final class WireStages {
    private WireStages() {}

    /** Port 0 ↔ port 1, frames untouched (testpmd's io mode). */
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

    /** Swaps source and destination MAC, then port 0 ↔ port 1 (testpmd's macswap mode). */
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
