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

    /**
     * A parser doing the checks a real one does for Ethernet / 802.1Q / IPv4 / UDP / TCP (lengths,
     * version, IHL, total length, fragments, data offset), setting l3Offset, l4Offset, etherType,
     * vlan, ipProto and flags, dropping with a reason otherwise. IPv6 and ARP are only classified.
     */
    public static final class Parse implements Stage {
        @Override
        public int process(Burst b) {
            int n = 0;
            for (int i = 0; i < b.count; i++) {
                if (b.next[i] != Next.CONTINUE) {
                    continue;
                }
                n++;
                long d = b.data[i];
                int len = b.length[i];
                if (len < 14) {
                    b.drop(i, DropReason.TRUNCATED_ETHERNET);
                    continue;
                }
                int off = 14;
                int et = Mem.u16(d + 12);
                int flags = 0;
                if (et == 0x8100) {
                    if (len < 18) {
                        b.drop(i, DropReason.TRUNCATED_VLAN);
                        continue;
                    }
                    b.vlan[i] = (short) (Mem.u16(d + 14) & 0xFFF);
                    et = Mem.u16(d + 16);
                    off = 18;
                    flags |= PacketFlags.VLAN;
                }
                b.etherType[i] = (short) et;
                b.l3Offset[i] = (short) off;
                if ((Mem.u8(d) & 1) != 0) {
                    flags |= PacketFlags.MULTICAST;
                }
                if (et == 0x0800) {
                    if (len < off + 20) {
                        b.drop(i, DropReason.TRUNCATED_IPV4);
                        continue;
                    }
                    int vihl = Mem.u8(d + off);
                    if ((vihl >>> 4) != 4) {
                        b.drop(i, DropReason.BAD_IPV4_VERSION);
                        continue;
                    }
                    int ihl = (vihl & 0xF) * 4;
                    if (ihl < 20) {
                        b.drop(i, DropReason.BAD_IPV4_IHL);
                        continue;
                    }
                    int total = Mem.u16(d + off + 2);
                    if (total < ihl || off + total > len) {
                        b.drop(i, DropReason.BAD_IPV4_TOTAL_LENGTH);
                        continue;
                    }
                    flags |= PacketFlags.IPV4;
                    if (ihl > 20) {
                        flags |= PacketFlags.IP_OPTIONS;
                    }
                    int frag = Mem.u16(d + off + 6);
                    int proto = Mem.u8(d + off + 9);
                    b.ipProto[i] = (short) proto;
                    if ((frag & 0x3FFF) != 0) {
                        flags |= PacketFlags.FRAGMENT;
                        if ((frag & 0x1FFF) != 0) {
                            b.flags[i] = flags | PacketFlags.LATER_FRAGMENT;
                            continue;
                        }
                    }
                    int l4 = off + ihl;
                    int end = off + total;
                    if (proto == 17) {
                        if (end < l4 + 8) {
                            b.drop(i, DropReason.TRUNCATED_UDP);
                            continue;
                        }
                        int ulen = Mem.u16(d + l4 + 4);
                        if (ulen < 8 || l4 + ulen > end) {
                            b.drop(i, DropReason.BAD_UDP_LENGTH);
                            continue;
                        }
                        flags |= PacketFlags.UDP;
                    } else if (proto == 6) {
                        if (end < l4 + 20) {
                            b.drop(i, DropReason.TRUNCATED_TCP);
                            continue;
                        }
                        int doff = (Mem.u8(d + l4 + 12) >>> 4) * 4;
                        if (doff < 20 || l4 + doff > end) {
                            b.drop(i, DropReason.BAD_TCP_DATA_OFFSET);
                            continue;
                        }
                        flags |= PacketFlags.TCP;
                    } else if (proto == 1) {
                        flags |= PacketFlags.ICMP;
                    }
                    b.l4Offset[i] = (short) l4;
                } else if (et == 0x0806) {
                    flags |= PacketFlags.ARP;
                } else if (et == 0x86DD) {
                    flags |= PacketFlags.IPV6;
                } else {
                    b.drop(i, DropReason.UNSUPPORTED_ETHERTYPE);
                    continue;
                }
                b.flags[i] = flags;
            }
            return n;
        }

        @Override
        public String name() {
            return "bench-parse";
        }
    }

    /**
     * Static L2 table (open addressing, MAC → port index) from {@link SluiceConfig#macTable()}:
     * known destination → tx; unknown → drop L2_UNKNOWN_DESTINATION; same port → L2_SAME_PORT.
     */
    public static final class L2 implements Stage {
        private final long[] keys;
        private final int[] ports;
        private final int mask;

        public L2(SluiceConfig cfg) {
            int size = Integer.highestOneBit(Math.max(16, cfg.macTable().size() * 4) - 1) << 1;
            keys = new long[size];
            ports = new int[size];
            mask = size - 1;
            java.util.Arrays.fill(keys, -1L);
            for (SluiceConfig.MacEntry e : cfg.macTable()) {
                int h = slot(e.mac());
                while (keys[h] != -1L && keys[h] != e.mac()) {
                    h = (h + 1) & mask;
                }
                keys[h] = e.mac();
                ports[h] = e.port();
            }
        }

        private int slot(long mac) {
            long x = mac * 0x9E3779B97F4A7C15L;
            return (int) (x >>> 40) & mask;
        }

        @Override
        public int process(Burst b) {
            int n = 0;
            for (int i = 0; i < b.count; i++) {
                if (b.next[i] != Next.CONTINUE) {
                    continue;
                }
                n++;
                long mac = Mem.mac(b.data[i]);
                int h = slot(mac);
                int port = -1;
                while (true) {
                    long k = keys[h];
                    if (k == mac) {
                        port = ports[h];
                        break;
                    }
                    if (k == -1L) {
                        break;
                    }
                    h = (h + 1) & mask;
                }
                if (port < 0) {
                    b.drop(i, DropReason.L2_UNKNOWN_DESTINATION);
                } else if (port == b.inPort[i]) {
                    b.drop(i, DropReason.L2_SAME_PORT);
                } else {
                    b.tx(i, port);
                }
            }
            return n;
        }

        @Override
        public String name() {
            return "bench-l2";
        }
    }
}
