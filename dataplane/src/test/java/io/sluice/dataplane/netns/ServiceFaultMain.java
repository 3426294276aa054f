package io.sluice.dataplane.netns;

import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.service.Service;
import io.sluice.dataplane.stage.Pipelines;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Test child: {@code ./sluice run}'s {@link Service#run} on a configuration file, with the L2
 * pipeline plus a stage that, on the first ARP request for 10.199.251.1 it sees, does what {@code args[1]} says:
 * {@code throw} (an exception out of the worker's duty cycle) or {@code stall} (the worker never
 * returns from the stage). It prints {@code FAULT: <mode>} first. Packets reach it when the test
 * sends frames into a TAP port.
 */
public final class ServiceFaultMain {
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        String mode = args[1];
        SluiceConfig cfg = ConfigLoader.load(file);
        Counters counters = Counters.create(cfg.countersFile(), 4096);
        int rc = Service.run(file, cfg, counters, (c, w) -> {
            Stage[] l2 = Pipelines.l2(c);
            Stage[] all = Arrays.copyOf(l2, l2.length + 1);
            all[l2.length] = new Fault(mode);
            return all;
        }, null, System.err);
        System.exit(rc);
    }

    static final class Fault implements Stage {
        private final String mode;

        Fault(String mode) {
            this.mode = mode;
        }

        /** 10.199.251.1, the address the test's arping asks for. */
        static final int TRIGGER_IP = (10 << 24) | (199 << 16) | (251 << 8) | 1;

        /** An ARP request for {@link #TRIGGER_IP}: other frames the kernel sends on its own do not trigger. */
        private static boolean trigger(Burst b) {
            for (int i = 0; i < b.count; i++) {
                long d = b.data[i];
                if (b.length[i] >= 42 && Mem.u16(d + 12) == 0x0806 && Mem.i32(d + 38) == TRIGGER_IP) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public int process(Burst b) {
            if (trigger(b)) {
                System.err.println("FAULT: " + mode);
                System.err.flush();
                if (mode.equals("throw")) {
                    throw new IllegalStateException("planted fault in a stage");
                }
                if (mode.equals("stall")) {
                    while (true) {
                        Thread.onSpinWait();
                        java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
                    }
                }
            }
            return 0;
        }

        @Override
        public String name() {
            return "fault";
        }
    }
}
