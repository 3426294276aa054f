package io.sluice.dataplane.stage;

import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.packet.ArpHeader;
import io.sluice.dataplane.packet.EthernetHeader;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import io.sluice.dataplane.pipeline.Stage;

import java.util.List;

/**
 * Answers ARP requests for configured addresses (the configuration's {@code arp} list) in place:
 * the request becomes the reply and goes back out of the port it came in on. No new mbuf.
 *
 * <p><b>Uses</b> {@link Burst#flags} (ARP, BROADCAST), {@link Burst#l3Offset}, {@link Burst#data},
 * {@link Burst#inPort} of packets whose {@link Burst#next} is {@link Next#CONTINUE}; the parser
 * has checked the ARP header is complete and Ethernet/IPv4 with opcode 1 or 2.
 * <p><b>Sets</b>, for ARP packets only:
 * <ul>
 *   <li>a <b>request</b> (opcode 1, sender IP != target IP) whose target IP is configured for
 *       the in-port (or for any port, entry port -1): rewritten as a reply (opcode 2; target
 *       MAC/IP = the request's sender MAC/IP; sender MAC/IP = the configured MAC and the asked IP;
 *       Ethernet destination = the requester, source = the configured MAC; VLAN tags kept) and
 *       {@code tx(i, inPort)};</li>
 *   <li>a request from the very MAC the address is configured with (a host probing for its own
 *       address, RFC 5227) is not answered: whoever owns the address is the asker;</li>
 *   <li>a <b>broadcast request</b> for any other address (or such a self-probe): DROP {@code ARP_NOT_FOR_US}. The data
 *       plane does not flood (the MAC table is static and tenant traffic must not leak between
 *       ports); addresses that should resolve across it are configured here;</li>
 *   <li>a <b>unicast request</b> for another address (a host refreshing its cache entry),
 *       <b>replies</b> and <b>gratuitous</b> ARP (sender IP == target IP): left CONTINUE for L2,
 *       which switches unicast ones and drops broadcast ones ({@code L2_BROADCAST}).</li>
 * </ul>
 */
public final class ArpResponderStage implements Stage {
    private static final int ANY_PORT = -1;

    /** Key (ipv4, port) -> index into macs. */
    private final LongIntMap table;
    private final long[] macs;

    /** From the configuration's ARP entries. */
    public ArpResponderStage(SluiceConfig cfg) {
        this(cfg.arp());
    }

    /** @throws IllegalArgumentException for a port &lt; -1, a group MAC, or the same (ipv4, port) twice with different MACs */
    public ArpResponderStage(List<SluiceConfig.ArpEntry> entries) {
        long[] keys = new long[entries.size()];
        int[] idx = new int[entries.size()];
        macs = new long[entries.size()];
        for (int e = 0; e < keys.length; e++) {
            SluiceConfig.ArpEntry a = entries.get(e);
            if (a.port() < ANY_PORT) {
                throw new IllegalArgumentException("ARP entry port must be >= -1, was " + a.port());
            }
            if (EthernetHeader.isGroup(a.mac())) {
                throw new IllegalArgumentException("ARP entry MAC " + EthernetHeader.macToString(a.mac())
                        + " is a multicast/broadcast address");
            }
            keys[e] = key(a.ipv4(), a.port());
            macs[e] = a.mac() & 0xFFFF_FFFF_FFFFL;
            idx[e] = e;
        }
        // the same (ip, port) twice: keep it only if the MACs agree
        for (int e = 0; e < keys.length; e++) {
            for (int f = 0; f < e; f++) {
                if (keys[f] == keys[e]) {
                    if (macs[f] != macs[e]) {
                        throw new IllegalArgumentException("ARP entry for the same address and port twice with different MACs: "
                                + entries.get(f) + ", " + entries.get(e));
                    }
                    idx[e] = idx[f];
                }
            }
        }
        table = new LongIntMap(keys, idx);
    }

    private static long key(int ipv4, int port) {
        return ((long) ipv4 << 32) | (port & 0xFFFF_FFFFL);
    }

    @Override
    public int process(Burst b) {
        final int n = b.count;
        final byte[] next = b.next;
        final int[] flags = b.flags;
        int answered = 0;
        for (int i = 0; i < n; i++) {
            if ((flags[i] & PacketFlags.ARP) == 0 || next[i] != Next.CONTINUE) {
                continue;
            }
            long arp = b.data[i] + b.l3Offset[i];
            if (Mem.u16(arp + ArpHeader.OPER_OFFSET) != ArpHeader.OPER_REQUEST) {
                continue;                                     // reply: L2 switches it
            }
            int spa = Mem.i32(arp + ArpHeader.SPA_OFFSET);
            int tpa = Mem.i32(arp + ArpHeader.TPA_OFFSET);
            if (spa == tpa) {
                continue;                                     // gratuitous: an announcement, not a question
            }
            int port = b.inPort[i];
            int e = table.get(key(tpa, port));
            if (e == LongIntMap.MISSING) {
                e = table.get(key(tpa, ANY_PORT));
            }
            long sha = Mem.mac(arp + ArpHeader.SHA_OFFSET);
            if (e == LongIntMap.MISSING || macs[e] == sha) {       // not ours, or a host asking about itself
                if ((b.flags[i] & PacketFlags.BROADCAST) != 0) {
                    b.drop(i, DropReason.ARP_NOT_FOR_US);
                }
                continue;
            }
            long ours = macs[e];
            long frame = b.data[i];
            Mem.putMac(frame + EthernetHeader.DST_OFFSET, Mem.mac(frame + EthernetHeader.SRC_OFFSET));
            Mem.putMac(frame + EthernetHeader.SRC_OFFSET, ours);
            Mem.put16(arp + ArpHeader.OPER_OFFSET, ArpHeader.OPER_REPLY);
            Mem.putMac(arp + ArpHeader.THA_OFFSET, sha);
            Mem.put32(arp + ArpHeader.TPA_OFFSET, spa);
            Mem.putMac(arp + ArpHeader.SHA_OFFSET, ours);
            Mem.put32(arp + ArpHeader.SPA_OFFSET, tpa);
            b.tx(i, port);
            answered++;
        }
        return answered;
    }

    @Override
    public String name() {
        return "arp";
    }
}
