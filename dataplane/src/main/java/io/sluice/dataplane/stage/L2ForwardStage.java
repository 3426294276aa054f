package io.sluice.dataplane.stage;

import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.packet.EthernetHeader;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;

import java.util.List;

/**
 * L2 switching by a static MAC table (the configuration's {@code macTable}): a frame whose
 * destination MAC is in the table leaves by that entry's port.
 *
 * <p><b>Uses</b> {@link Burst#data} (the destination MAC, read as the top 6 of the first 8
 * bytes: the parser has already checked the frame holds a 14-byte Ethernet header) and {@link Burst#inPort} of packets whose
 * {@link Burst#next} is {@link Next#CONTINUE}.
 * <p><b>Sets</b> {@link Burst#next} = TX and {@link Burst#outPort}, or DROP with:
 * <ul>
 *   <li>{@code L2_BROADCAST}: ff:ff:ff:ff:ff:ff. There is no flooding: with a static table every
 *       host is known, and the one broadcast that matters (ARP) is answered or dropped by
 *       {@link ArpResponderStage} before this stage, so what is left is dropped and counted;</li>
 *   <li>{@code L2_MULTICAST}: any other group address (same reason; IPv6 neighbour discovery to
 *       solicited-node multicast is therefore not switched yet);</li>
 *   <li>{@code L2_UNKNOWN_DESTINATION}: not in the table;</li>
 *   <li>{@code L2_SAME_PORT}: the table says the destination is behind the port the frame came
 *       in on (hairpin), which an L2 switch never sends back.</li>
 * </ul>
 * A packet that is already TX, DROP or CONSUMED is left alone.
 */
public final class L2ForwardStage implements Stage {
    private final LongIntMap table;

    /** From the configuration's MAC table. */
    public L2ForwardStage(SluiceConfig cfg) {
        this(cfg.macTable());
    }

    /**
     * @throws IllegalArgumentException for a negative port, a group (multicast/broadcast) MAC, or
     *                                  a MAC listed with two different ports
     */
    public L2ForwardStage(List<SluiceConfig.MacEntry> entries) {
        long[] macs = new long[entries.size()];
        int[] ports = new int[entries.size()];
        for (int e = 0; e < macs.length; e++) {
            SluiceConfig.MacEntry m = entries.get(e);
            if (EthernetHeader.isGroup(m.mac())) {
                throw new IllegalArgumentException("MAC table entry " + EthernetHeader.macToString(m.mac())
                        + " is a multicast/broadcast address");
            }
            macs[e] = m.mac() & 0xFFFF_FFFF_FFFFL;
            ports[e] = m.port();
        }
        this.table = new LongIntMap(macs, ports);
    }

    @Override
    public int process(Burst b) {
        final int n = b.count;
        final byte[] next = b.next;
        final long[] data = b.data;
        final int[] inPort = b.inPort;
        final LongIntMap macs = table;
        int done = 0;
        for (int i = 0; i < n; i++) {
            if (next[i] != Next.CONTINUE) {
                continue;
            }
            done++;
            long dst = Mem.i64(data[i] + EthernetHeader.DST_OFFSET) >>> 16;   // one load: the frame has >= 14 bytes
            if (EthernetHeader.isGroup(dst)) {
                b.drop(i, dst == EthernetHeader.BROADCAST_MAC ? DropReason.L2_BROADCAST : DropReason.L2_MULTICAST);
                continue;
            }
            int port = macs.get(dst);
            if (port == LongIntMap.MISSING) {
                b.drop(i, DropReason.L2_UNKNOWN_DESTINATION);
            } else if (port == inPort[i]) {
                b.drop(i, DropReason.L2_SAME_PORT);
            } else {
                b.tx(i, port);
            }
        }
        return done;
    }

    /** The port for {@code mac}, or {@link LongIntMap#MISSING}; for tests and diagnostics. */
    public int lookup(long mac) {
        return table.get(mac);
    }

    @Override
    public String name() {
        return "l2";
    }
}
