package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.config.Net;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Random;

import static io.sluice.dataplane.overlay.Fixtures.*;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * Properties over random topologies (QuickTheories, shrinking on failure): nothing is ever
 * delivered to another network's VM, the compiled lookup agrees with the linear reference, and
 * encapsulation then decapsulation (on the destination host) returns the original frame.
 */
class OverlayProperties {
    private static final Arena ARENA = Arena.ofShared();
    private static final Buffers BUF = new Buffers(ARENA, 2);
    private static int roundTrips;

    @AfterAll
    static void close() { ARENA.close(); }

    @Test
    void forwardingNeverCrossesNetworksAndMatchesTheReference() {
        qt().withExamples(1000).withShrinkCycles(200)
                .forAll(longs().all(), integers().between(1, 5), integers().between(1, 8))
                .checkAssert((seed, networks, maxVms) -> isolation(seed, networks, maxVms));
    }

    private static void isolation(long seed, int networks, int maxVms) {
        RandomTopology t = new RandomTopology(seed, networks, maxVms);
        OverlayModel m = t.viewFrom(0);
        OverlaySnapshot s = compile(m);
        OverlayReference ref = new OverlayReference(m);
        Pipeline p = new Pipeline(s, 1);
        Burst b = new Burst(1);
        Random r = new Random(seed ^ 0x5DEECE66DL);
        int vmCount = s.vmCount();
        for (int k = 0; k < 200; k++) {
            int src = r.nextInt(vmCount);
            if (s.vmPort[src] < 0) {
                continue;
            }
            int zone = s.vmZone[src];
            // destination drawn from every network's addresses (overlapping by construction)
            int other = r.nextInt(vmCount);
            long dstMac = switch (r.nextInt(4)) {
                case 0 -> ROUTER;
                case 1 -> 0x0200_0000_0000L | (1 + r.nextInt(13));
                default -> s.vmMac[other];
            };
            boolean v6 = r.nextInt(4) == 0;
            int dstIp = r.nextInt(3) == 0 ? (s.vmIp4[other] & ~0xFF) | r.nextInt(16) : s.vmIp4[other];
            long d6hi = s.vmHas6[other] ? s.vmIp6Hi[other] : 0xFD00_0000_0001_0000L;
            long d6lo = s.vmHas6[other] ? s.vmIp6Lo[other] : r.nextInt(16);
            int et = v6 ? Net.ETHERTYPE_IPV6 : Net.ETHERTYPE_IPV4;
            int fast = Forwarding.decide(s, zone, src, dstMac, et, dstIp, d6hi, d6lo);
            int slow = ref.decide(zone, src, dstMac, et, dstIp, d6hi, d6lo);
            if (fast != slow) {
                throw new AssertionError("compiled " + fast + " != reference " + slow + " for src " + s.vmName[src]);
            }
            if (fast >= 0 && s.vmZone[fast] != zone) {
                throw new AssertionError(s.vmName[src] + " delivered to " + s.vmName[fast] + " in another network");
            }
            // the whole pipeline: where the packet goes must belong to the sender's network
            long d = BUF.frame(0);
            if (v6) {
                if (!s.vmHas6[src]) {
                    continue;
                }
                udp6(b, 0, d, s.vmPort[src], dstMac, s.vmMac[src], new OverlayModel.Ip6(s.vmIp6Hi[src], s.vmIp6Lo[src]),
                        new OverlayModel.Ip6(d6hi, d6lo), 2 + r.nextInt(60), r.nextInt(64));
            } else {
                udp4(b, 0, d, s.vmPort[src], dstMac, s.vmMac[src], s.vmIp4[src], dstIp, 2 + r.nextInt(60), r.nextInt(64));
            }
            b.count = 1;
            p.run(b);
            if (b.next[0] == Next.TX && b.outPort[0] != 0) {
                int dstVm = s.vmOfPort(b.outPort[0]);
                if (dstVm < 0 || s.vmZone[dstVm] != zone || dstVm != fast) {
                    throw new AssertionError(s.vmName[src] + " sent to port " + b.outPort[0] + " (not " + fast + ")");
                }
            } else if (b.next[0] == Next.TX) {
                long o = b.data[0];
                int vni = (int) (Mem.u32(o + 46) >>> 8);
                int vtep = Mem.i32(o + 30);
                if (vni != s.zoneVni[zone] || fast < 0 || vtep != s.vmVtep[fast] || s.vmZone[fast] != zone) {
                    throw new AssertionError(s.vmName[src] + " encapsulated with VNI " + vni + " to a foreign VTEP");
                }
            } else if (b.next[0] != Next.DROP || fast >= 0 && s.vmPort[fast] != s.vmPort[src]) {
                throw new AssertionError("unexpected fate " + b.next[0] + " reason " + p.reason(0) + " decision " + fast);
            }
        }
    }

    @Test
    void encapThenDecapIsIdentity() {
        qt().withExamples(1000).withShrinkCycles(200)
                .forAll(longs().all(), integers().between(0, 1400), integers().between(1, 4))
                .checkAssert((seed, payload, networks) -> roundTrip(seed, payload, networks));
        org.junit.jupiter.api.Assertions.assertTrue(roundTrips > 100, "only " + roundTrips + " round trips exercised");
    }

    private static void roundTrip(long seed, int payload, int networks) {
        RandomTopology t = new RandomTopology(seed, networks, 6);
        Random r = new Random(seed);
        OverlaySnapshot here = compile(t.viewFrom(0));
        for (int src = 0; src < here.vmCount(); src++) {
            for (int dst = 0; dst < here.vmCount(); dst++) {
                if (here.vmPort[src] < 0 || here.vmPort[dst] >= 0 || here.vmZone[src] != here.vmZone[dst]) {
                    continue;
                }
                int host = Arrays.binarySearch(RandomTopology.HOSTS, here.vmVtep[dst]);
                OverlaySnapshot there = compile(t.viewFrom(host));
                Pipeline tx = new Pipeline(here, 1);
                Pipeline rx = new Pipeline(there, 1);
                Burst b = new Burst(1);
                long d = BUF.frame(1);
                int len = udp4(b, 0, d, here.vmPort[src], here.vmMac[dst], here.vmMac[src],
                        here.vmIp4[src], here.vmIp4[dst], 1 + r.nextInt(255), payload);
                for (int k = 0; k < payload; k++) {
                    Mem.put8(d + 42 + k, r.nextInt());
                }
                byte[] original = BUF.bytes(d, len);
                b.count = 1;
                tx.meta.reset(0);
                tx.meta.zone[0] = here.vmZone[src];
                tx.meta.srcVm[0] = src;
                tx.meta.encapVtep[0] = here.vmVtep[dst];
                new VxlanEncapStage(tx.state, tx.meta, tx.neighbours).process(b);
                if (b.next[0] != Next.TX || b.outPort[0] != 0 || b.length[0] != len + 50 || b.data[0] != d - 50) {
                    throw new AssertionError("not encapsulated: " + tx.reason(0));
                }
                if (Net.checksum(b.data[0] + 14, 20) != 0) {
                    throw new AssertionError("outer IPv4 checksum does not verify");
                }
                parsedOuter(b, 0, b.data[0], b.length[0]);
                new VxlanDecapStage(rx.state, rx.meta).process(b);
                if (b.next[0] != Next.CONTINUE || b.data[0] != d || b.length[0] != len
                        || !Arrays.equals(original, BUF.bytes(b.data[0], b.length[0]))) {
                    throw new AssertionError("decap(encap(f)) != f: next " + b.next[0] + " reason " + rx.reason(0));
                }
                if (!there.zoneName[rx.meta.zone[0]].equals(here.zoneName[here.vmZone[src]])) {
                    throw new AssertionError("arrived in network " + there.zoneName[rx.meta.zone[0]]);
                }
                roundTrips++;
                return;
            }
        }
    }
}
