package io.sluice.dataplane.nat;

import io.sluice.dataplane.packet.Checksum;
import io.sluice.dataplane.packet.Mem;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * Properties of the NAT (QuickTheories, shrinking on failure):
 * <ul>
 *   <li>{@link SnatPorts} equals its twin {@link ReferenceSnatPorts} on random sequences of new
 *       flows and expiries over small pools (so exhaustion and block return happen often); every
 *       live flow's external endpoint leads back (inbound) to its VM and internal port; no two live
 *       flows ever share an external 5-tuple (SNAT address, protocol, port, server, server port); and
 *       a VM's live flows all use one SNAT address (paired pooling);</li>
 *   <li>incremental checksum updates equal a full recomputation (IPv4 header, TCP, UDP with and
 *       without checksum, ICMP echo), for source and destination rewrites;</li>
 *   <li>translate then un-translate gives back the packet byte for byte.</li>
 * </ul>
 */
class NatProperties {

    /** A flow: VM, protocol class, internal port, server, server port; its external endpoint. */
    record Flow(int vm, int cls, int port, int server, int sport) {}

    @Test
    void snatPortsEqualTheReferenceAndNoTwoLiveFlowsShareAnExternalTuple() {
        qt().withExamples(1500).withShrinkCycles(300)
                .forAll(integers().between(0, 2 * 3 * 4 * 3 - 1), lists().of(integers().all()).ofSizeBetween(1, 200))
                // shape: 1..2 SNAT addresses, 1..3 blocks each, blocks of 1..4 ports, 1..3 blocks per VM
                .checkAssert((shape, ops) -> run(1 + shape % 2, 1 + shape / 2 % 3, 1 + shape / 6 % 4, 1 + shape / 24, ops));
    }

    /**
     * Warm restart: the pool rebuilt from the kept conntrack entries (each names its slot, VM,
     * class and internal port) equals the pool before the restart (every slot's binding and users,
     * every VM's blocks, every address's blocks in use), the twin rebuilds the same, a slot claimed
     * for another VM is refused, and releasing every kept entry returns the pool to empty.
     */
    @Test
    void snatPoolAfterAdoptingTheKeptEntriesEqualsThePoolBeforeTheRestart() {
        qt().withExamples(800).withShrinkCycles(200)
                .forAll(integers().between(0, 2 * 3 * 4 * 3 - 1), lists().of(integers().all()).ofSizeBetween(1, 150))
                .checkAssert((shape, ops) -> restart(1 + shape % 2, 1 + shape / 2 % 3, 1 + shape / 6 % 4, 1 + shape / 24, ops));
    }

    static void restart(int addrs, int blocksPerAddr, int size, int perVm, List<Integer> ops) {
        int vms = 4;
        SnatPorts before = new SnatPorts(addrs, blocksPerAddr, size, perVm, vms);
        Map<Flow, Integer> live = new HashMap<>();
        List<Flow> order = new ArrayList<>();
        for (int x : ops) {
            if ((x & 3) != 0 || live.isEmpty()) {
                Flow f = new Flow((x >>> 2) & 3, ((x >>> 4) & 0xF) % 3, 1000 + ((x >>> 8) & 7), (x >>> 11) & 1, 80 + ((x >>> 12) & 1));
                if (live.containsKey(f)) continue;
                int slot = before.acquire(f.vm, f.cls, f.port);
                if (slot >= 0) {
                    live.put(f, slot);
                    order.add(f);
                }
            } else {
                before.release(live.remove(order.remove(((x >>> 2) & 0xFFFF) % order.size())));
            }
        }
        // the kept entries, in table order (here: a shuffle decided by the ops)
        List<Flow> kept = new ArrayList<>(order);
        java.util.Collections.shuffle(kept, new java.util.Random(ops.hashCode()));
        SnatPorts after = new SnatPorts(addrs, blocksPerAddr, size, perVm, vms);
        ReferenceSnatPorts twin = new ReferenceSnatPorts(addrs, blocksPerAddr, size, perVm);
        for (Flow f : kept) {
            int slot = live.get(f);
            ReferenceSnatPorts.External e = new ReferenceSnatPorts.External(after.addressIndex(slot), after.classOf(slot), after.externalPort(slot));
            if (!after.adopt(f.vm, f.cls, f.port, slot)) throw new AssertionError("kept " + f + " on slot " + slot + " refused");
            if (!twin.adopt(f.vm, f.cls, f.port, e)) throw new AssertionError("twin refused kept " + f + " at " + e);
        }
        String what = "ops " + ops + " kept " + kept;
        for (int slot = 0; slot < after.slots(); slot++) {
            ReferenceSnatPorts.External e = new ReferenceSnatPorts.External(after.addressIndex(slot), after.classOf(slot), after.externalPort(slot));
            if (after.refs(slot) != before.refs(slot) || twin.refs(e) != before.refs(slot)) {
                throw new AssertionError(what + ": slot " + slot + " users " + after.refs(slot) + " / twin " + twin.refs(e) + ", before " + before.refs(slot));
            }
            if (before.refs(slot) > 0 && (after.vmOf(slot) != before.vmOf(slot) || after.internalPort(slot) != before.internalPort(slot)
                    || after.inbound(after.addressIndex(slot), after.classOf(slot), after.externalPort(slot)) != slot)) {
                throw new AssertionError(what + ": slot " + slot + " bound differently");
            }
        }
        if (after.bindings() != before.bindings() || twin.bindings() != before.bindings()) throw new AssertionError(what + ": bindings");
        for (int v = 0; v < vms; v++) {
            if (after.blocksOf(v) != before.blocksOf(v) || twin.blocksOf(v) != before.blocksOf(v)) throw new AssertionError(what + ": VM " + v + " blocks");
        }
        for (int a = 0; a < addrs; a++) if (after.blocksInUse(a) != before.blocksInUse(a)) throw new AssertionError(what + ": address " + a + " blocks");
        // a slot of a live binding claimed by another VM, or for another port, is refused by both
        if (!kept.isEmpty()) {
            Flow f = kept.get(0);
            int slot = live.get(f);
            ReferenceSnatPorts.External e = new ReferenceSnatPorts.External(after.addressIndex(slot), after.classOf(slot), after.externalPort(slot));
            int other = (f.vm + 1) % vms;
            if (after.adopt(other, f.cls, f.port, slot) || twin.adopt(other, f.cls, f.port, e)) throw new AssertionError(what + ": slot taken from VM " + f.vm);
            if (after.adopt(f.vm, f.cls, f.port + 100, slot) || twin.adopt(f.vm, f.cls, f.port + 100, e)) throw new AssertionError(what + ": slot rebound to another port");
        }
        for (Flow f : kept) {
            int slot = live.get(f);
            after.release(slot);
            twin.release(new ReferenceSnatPorts.External(after.addressIndex(slot), after.classOf(slot), after.externalPort(slot)));
        }
        if (after.bindings() != 0 || twin.bindings() != 0) throw new AssertionError(what + ": bindings left after every entry went");
        for (int v = 0; v < vms; v++) if (after.blocksOf(v) != 0 || twin.blocksOf(v) != 0) throw new AssertionError(what + ": VM " + v + " keeps blocks");
        for (int a = 0; a < addrs; a++) if (after.blocksInUse(a) != 0) throw new AssertionError(what + ": address " + a + " blocks left");
    }

    static void run(int addrs, int blocksPerAddr, int size, int perVm, List<Integer> ops) {
        int vms = 4;
        SnatPorts fast = new SnatPorts(addrs, blocksPerAddr, size, perVm, vms);
        ReferenceSnatPorts ref = new ReferenceSnatPorts(addrs, blocksPerAddr, size, perVm);
        Map<Flow, Integer> live = new HashMap<>();
        List<Flow> order = new ArrayList<>();
        List<String> done = new ArrayList<>();
        for (int x : ops) {
            if ((x & 3) != 0 || live.isEmpty()) {
                Flow f = new Flow((x >>> 2) & 3, ((x >>> 4) & 0xF) % 3, 1000 + ((x >>> 8) & 7), (x >>> 11) & 1, 80 + ((x >>> 12) & 1));
                if (live.containsKey(f)) continue; // the same 5-tuple is the same connection
                done.add("new " + f);
                int slot = fast.acquire(f.vm, f.cls, f.port);
                ReferenceSnatPorts.External e = ref.acquire(f.vm, f.cls, f.port);
                if ((slot < 0) != (e == null)) throw new AssertionError(done + ": fast " + slot + ", reference " + e);
                if (slot >= 0) {
                    ReferenceSnatPorts.External got = new ReferenceSnatPorts.External(fast.addressIndex(slot), fast.classOf(slot), fast.externalPort(slot));
                    if (!got.equals(e)) throw new AssertionError(done + ": fast " + got + ", reference " + e);
                    live.put(f, slot);
                    order.add(f);
                }
            } else {
                Flow f = order.remove(((x >>> 2) & 0xFFFF) % order.size());
                done.add("expire " + f);
                int slot = live.remove(f);
                fast.release(slot);
                ref.release(new ReferenceSnatPorts.External(fast.addressIndex(slot), fast.classOf(slot), fast.externalPort(slot)));
            }
            if (fast.bindings() != ref.bindings()) throw new AssertionError(done + ": bindings " + fast.bindings() + " vs " + ref.bindings());
            Set<List<Integer>> external = new HashSet<>();
            Map<Integer, Integer> vmAddress = new HashMap<>();
            for (Map.Entry<Flow, Integer> en : live.entrySet()) {
                Flow f = en.getKey();
                int s = en.getValue();
                int back = fast.inbound(fast.addressIndex(s), f.cls, fast.externalPort(s));
                if (back != s || fast.vmOf(s) != f.vm || fast.internalPort(s) != f.port) {
                    throw new AssertionError(done + ": " + f + " does not come back through its external port");
                }
                if (!external.add(List.of(fast.addressIndex(s), f.cls, fast.externalPort(s), f.server, f.sport))) {
                    throw new AssertionError(done + ": two live flows share external tuple of " + f);
                }
                Integer prev = vmAddress.putIfAbsent(f.vm, fast.addressIndex(s));
                if (prev != null && prev != fast.addressIndex(s)) throw new AssertionError(done + ": VM " + f.vm + " on two SNAT addresses (paired pooling)");
            }
            for (int v = 0; v < vms; v++) {
                if (fast.blocksOf(v) != ref.blocksOf(v) || fast.blocksOf(v) > perVm) {
                    throw new AssertionError(done + ": VM " + v + " blocks " + fast.blocksOf(v) + " vs " + ref.blocksOf(v));
                }
            }
        }
    }

    /** {@link NatFragments} equals its twin on random records, lookups and time steps over a few keys and slots. */
    @Test
    void natFragmentsEqualTheReference() {
        qt().withExamples(1000).withShrinkCycles(300)
                .forAll(integers().between(1, 3), lists().of(integers().all()).ofSizeBetween(1, 300))
                .checkAssert((bits, ops) -> {
                    NatFragments fast = new NatFragments(1 << bits, 1000);
                    ReferenceNatFragments ref = new ReferenceNatFragments(fast.mask(), 1000);
                    long now = 1_000_000;
                    List<String> done = new ArrayList<>();
                    for (int x : ops) {
                        int dir = x & 1, src = (x >>> 1) & 3, dst = (x >>> 3) & 1, proto = (x >>> 4) & 1, id = (x >>> 5) & 3;
                        int kind = (x >>> 8) & 3;
                        if (kind == 0) {
                            now += (x >>> 10) & 0x3FF;
                            done.add("time " + now);
                            continue;
                        }
                        if (kind == 1) {
                            int v = x >>> 12;
                            boolean a = fast.record(dir, src, dst, proto, id, v, now), b = ref.record(dir, src, dst, proto, id, v, now);
                            done.add("record " + dir + "/" + src + "/" + dst + "/" + proto + "/" + id + "=" + v + " -> " + a);
                            if (a != b) throw new AssertionError(done + ": fast " + a + ", reference " + b);
                        } else {
                            long a = fast.lookup(dir, src, dst, proto, id, now), b = ref.lookup(dir, src, dst, proto, id, now);
                            done.add("lookup " + dir + "/" + src + "/" + dst + "/" + proto + "/" + id + " -> " + a);
                            if (a != b) throw new AssertionError(done + ": fast " + a + ", reference " + b);
                        }
                    }
                });
    }

    // ------------------------------------------------------------------ checksums

    static final Arena ARENA = Arena.ofShared();
    static final MemorySegment BUF = ARENA.allocate(4096, 64);

    /** A random IPv4 packet at BUF (no Ethernet): proto TCP, UDP (checksum or 0) or ICMP echo; returns its length. */
    static int packet(long seed) {
        Random r = new Random(seed);
        long ip = BUF.address();
        int kind = r.nextInt(4);
        int proto = kind == 0 ? 6 : kind == 3 ? 1 : 17;
        int hdr = proto == 6 ? 20 : 8;
        int payload = r.nextInt(41);
        int l4Len = hdr + payload;
        Mem.put32(ip, 0x4500_0000 | (20 + l4Len));
        Mem.put32(ip + 4, r.nextInt() & 0xFFFF_5FFF);
        Mem.put32(ip + 8, (1 + r.nextInt(255)) << 24 | proto << 16);
        Mem.put32(ip + 12, r.nextInt());
        Mem.put32(ip + 16, r.nextInt());
        Checksum.setIpv4Header(ip);
        long l4 = ip + 20;
        for (int k = 0; k < l4Len; k++) Mem.put8(l4 + k, r.nextInt(256));
        if (proto == 6) {
            Mem.put16(l4 + 12, 0x5000 | (r.nextInt() & 0xFF));
            Mem.put16(l4 + 16, Checksum.l4(Checksum.pseudoHeaderV4(ip, 6, l4Len), l4, l4Len, 16));
        } else if (proto == 17) {
            Mem.put16(l4 + 4, l4Len);
            if (kind == 2) {
                Mem.put16(l4 + 6, 0);
            } else {
                int c = Checksum.l4(Checksum.pseudoHeaderV4(ip, 17, l4Len), l4, l4Len, 6);
                Mem.put16(l4 + 6, c == 0 ? 0xFFFF : c);
            }
        } else {
            Mem.put8(l4, r.nextBoolean() ? 8 : 0);
            Mem.put8(l4 + 1, 0);
            Mem.put16(l4 + 2, 0);
            Mem.put16(l4 + 2, Checksum.finish(Checksum.add(0, l4, l4Len)));
        }
        return 20 + l4Len;
    }

    static byte[] bytes(int len) {
        byte[] b = new byte[len];
        MemorySegment.copy(BUF, ValueLayout.JAVA_BYTE, 0, b, 0, len);
        return b;
    }

    @Test
    void incrementalChecksumsEqualAFullRecomputation() {
        qt().withExamples(20_000)
                .forAll(longs().all(), integers().all(), integers().between(0, 65535), integers().between(0, 1))
                .checkAssert((seed, addr, port, side) -> {
                    packet(seed);
                    long ip = BUF.address();
                    int proto = Mem.u8(ip + 9);
                    long l4 = ip + 20;
                    int l4Len = Mem.u16(ip + 2) - 20;
                    boolean udpNone = proto == 17 && Mem.u16(l4 + 6) == 0;
                    NatRewrite.rewrite(ip, l4, proto, side == 0, addr, port);
                    String what = "seed " + seed + " proto " + proto;
                    if (Mem.u16(ip + 10) != Checksum.ipv4Header(ip)) throw new AssertionError(what + ": IPv4 header checksum");
                    int stored, full;
                    if (proto == 6) {
                        stored = Mem.u16(l4 + 16);
                        full = Checksum.l4(Checksum.pseudoHeaderV4(ip, 6, l4Len), l4, l4Len, 16);
                    } else if (proto == 17) {
                        stored = Mem.u16(l4 + 6);
                        int c = Checksum.l4(Checksum.pseudoHeaderV4(ip, 17, l4Len), l4, l4Len, 6);
                        full = udpNone ? 0 : c == 0 ? 0xFFFF : c;
                    } else {
                        stored = Mem.u16(l4 + 2);
                        full = Checksum.finish(Checksum.add(0, l4, l4Len) - stored);
                    }
                    if (stored != full) throw new AssertionError(what + ": L4 checksum " + stored + ", full recomputation " + full);
                });
    }

    /**
     * RFC 5508: translating an ICMP error that quotes a packet gives exactly the quote of the
     * translated packet (quoted IPv4 checksum, ports/identifier and quoted L4 checksum included), and
     * the error's own ICMP checksum and outer header checksum equal a full recomputation.
     */
    @Test
    void icmpErrorTranslationQuotesTheTranslatedPacket() {
        qt().withExamples(20_000)
                .forAll(longs().all(), integers().all(), integers().between(0, 65535), integers().between(0, 1))
                .checkAssert((seed, addr, port, side) -> {
                    int qlen = packet(seed);                      // the quoted packet, at BUF
                    long full = BUF.address();
                    int quoted = Math.min(qlen, 20 + 28);
                    long err = BUF.address() + 2048;
                    int icmpLen = 8 + quoted;
                    Mem.put32(err, 0x4500_0000 | (20 + icmpLen));
                    Mem.put32(err + 4, 0);
                    Mem.put32(err + 8, (64 << 24) | (1 << 16));
                    Mem.put32(err + 12, (int) seed.longValue());
                    Mem.put32(err + 16, (int) (seed >>> 32));
                    Checksum.setIpv4Header(err);
                    long icmp = err + 20;
                    Mem.put32(icmp, 0x0304_0000);
                    Mem.put32(icmp + 4, 1400);
                    Mem.copy(full, icmp + 8, quoted);
                    Mem.put16(icmp + 2, Checksum.finish(Checksum.add(0, icmp, icmpLen)));
                    boolean inbound = side == 0;
                    int proto = Mem.u8(full + 9);
                    int p = proto == 6 || proto == 17 || proto == 1 ? port : -1;
                    if (!NatRewrite.icmpError(err, icmp, err + 20 + icmpLen, inbound, addr, p)) throw new AssertionError("quote too short");
                    NatRewrite.rewrite(full, full + 20, proto, inbound, addr, p); // what the flow's packet became
                    byte[] want = new byte[quoted];
                    byte[] got = new byte[quoted];
                    MemorySegment.copy(Mem.ALL, ValueLayout.JAVA_BYTE, full, want, 0, quoted);
                    MemorySegment.copy(Mem.ALL, ValueLayout.JAVA_BYTE, icmp + 8, got, 0, quoted);
                    String what = "seed " + seed + " proto " + proto + (inbound ? " inbound" : " outbound");
                    if (!java.util.Arrays.equals(want, got)) throw new AssertionError(what + ": the quote is not the translated packet's");
                    if (Checksum.finish(Checksum.add(0, icmp, icmpLen)) != 0) throw new AssertionError(what + ": ICMP checksum");
                    if (!Checksum.ipv4HeaderValid(err)) throw new AssertionError(what + ": outer IPv4 checksum");
                    if (Mem.i32(err + (inbound ? 16 : 12)) != addr) throw new AssertionError(what + ": outer address");
                });
    }

    @Test
    void translateThenUntranslateIsTheIdentity() {
        qt().withExamples(20_000)
                .forAll(longs().all(), integers().all(), integers().between(0, 65535), integers().between(0, 1))
                .checkAssert((seed, addr, port, side) -> {
                    int len = packet(seed);
                    byte[] before = bytes(len);
                    long ip = BUF.address();
                    int proto = Mem.u8(ip + 9);
                    long l4 = ip + 20;
                    boolean src = side == 0;
                    int oldAddr = Mem.i32(ip + (src ? 12 : 16));
                    int oldPort = proto == 1 ? Mem.u16(l4 + 4) : Mem.u16(l4 + (src ? 0 : 2));
                    NatRewrite.rewrite(ip, l4, proto, src, addr, port);
                    NatRewrite.rewrite(ip, l4, proto, src, oldAddr, oldPort);
                    if (!java.util.Arrays.equals(before, bytes(len))) {
                        throw new AssertionError("seed " + seed + " proto " + proto + ": not the same packet after the round trip");
                    }
                });
    }
}
