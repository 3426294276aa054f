package io.sluice.bench.overlay;

import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.overlay.AntiSpoofStage;
import io.sluice.dataplane.overlay.Forwarding;
import io.sluice.dataplane.overlay.OverlayMeta;
import io.sluice.dataplane.config.OverlayModel;
import io.sluice.dataplane.overlay.OverlaySnapshot;
import io.sluice.dataplane.overlay.OverlayState;
import io.sluice.dataplane.overlay.RouteStage;
import io.sluice.dataplane.overlay.UnderlayNeighbours;
import io.sluice.dataplane.overlay.VxlanDecapStage;
import io.sluice.dataplane.overlay.VxlanEncapStage;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.PacketFlags;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Question: what does the overlay fast path cost per packet? Bursts of 32 packets, 64-byte
 * inner UDP payload, a topology of 64 networks x 64 VMs (4096 VMs, overlapping CIDRs) so the
 * maps are not trivially cached. Each benchmark is ns per packet (OperationsPerInvocation 32);
 * {@code reset} is the cost of re-arming the burst metadata that every other benchmark also pays.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
 *   -jar bench/target/benchmarks.jar 'overlay.OverlayBench' -f 1 -wi 2 -i 3 -w 1s -r 1s -prof gc
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class OverlayBench {
    static final int N = 32;
    static final int NETS = 64;
    static final int VMS = 64;
    static final int HOST1 = (int) ConfigLoader.parseIpv4("192.168.50.1");
    static final int HOST2 = (int) ConfigLoader.parseIpv4("192.168.50.2");
    static final long ROUTER = 0x0200_0000_FF01L;
    static final int SLOT = 2048;
    static final int HEADROOM = 128;

    Arena arena;
    long base;
    OverlaySnapshot host1;
    OverlaySnapshot host2;
    OverlayMeta meta1;
    OverlayMeta meta2;
    VxlanEncapStage encap;
    VxlanDecapStage decap;
    AntiSpoofStage antiSpoof;
    RouteStage route;
    final Burst b = new Burst(N);
    // per-packet templates
    final int[] srcVm = new int[N];
    final int[] dstVm = new int[N];
    final int[] innerLen = new int[N];
    final long[] dstMac = new long[N];
    final int[] dstIp = new int[N];

    static OverlayModel model(int self) {
        List<OverlayModel.Network> nets = new ArrayList<>();
        int port = 1;
        for (int n = 0; n < NETS; n++) {
            int cidr = (10 << 24) | ((n % 2) << 16);
            List<OverlayModel.Subnet> subs = List.of(
                    new OverlayModel.Subnet("a", cidr | (1 << 8), 24, cidr | (1 << 8) | 1, null, 0, null),
                    new OverlayModel.Subnet("b", cidr | (2 << 8), 24, cidr | (2 << 8) | 1, null, 0, null));
            List<OverlayModel.Vm> vms = new ArrayList<>();
            for (int v = 0; v < VMS; v++) {
                int home = v % 2 == 0 ? HOST1 : HOST2; // even VMs on host 1, odd on host 2
                String sub = v % 4 < 2 ? "a" : "b";
                int ip = cidr | ((sub.equals("a") ? 1 : 2) << 8) | (10 + v);
                long mac = 0x0200_0000_0000L | (n << 8) | v;
                vms.add(home == (self == 1 ? HOST1 : HOST2)
                        ? new OverlayModel.Vm("v" + v, sub, mac, ip, null, port++, 0)
                        : new OverlayModel.Vm("v" + v, sub, mac, ip, null, -1, home));
            }
            nets.add(new OverlayModel.Network("n" + n, 1000 + n, cidr, 16, subs, vms));
        }
        return new OverlayModel(new OverlayModel.Host(0, self == 1 ? HOST1 : HOST2, 24, 0x0200_0000_AA00L | self, 0,
                0x0200_0000_AA99L, 1500, ROUTER), nets);
    }

    @Setup
    public void setup() throws Exception {
        arena = Arena.ofShared();
        base = arena.allocate((long) SLOT * N, 64).address();
        host1 = OverlaySnapshot.compile(model(1));
        host2 = OverlaySnapshot.compile(model(2));
        meta1 = new OverlayMeta(N);
        meta2 = new OverlayMeta(N);
        OverlayState s1 = new OverlayState(host1);
        OverlayState s2 = new OverlayState(host2);
        UnderlayNeighbours nb = UnderlayNeighbours.withDefaults();
        encap = new VxlanEncapStage(s1, meta1, nb);
        decap = new VxlanDecapStage(s2, meta2);
        antiSpoof = new AntiSpoofStage(s1, meta1);
        route = new RouteStage(s1, meta1);
        java.util.Random r = new java.util.Random(42);
        for (int i = 0; i < N; i++) {
            int net = r.nextInt(NETS);
            int src = net * VMS + 2 * r.nextInt(VMS / 2);          // local on host 1
            int dst = net * VMS + 2 * r.nextInt(VMS / 2) + 1;      // remote on host 2
            srcVm[i] = src;
            dstVm[i] = dst;
            boolean l3 = host1.vmSubnet[src] != host1.vmSubnet[dst];
            dstMac[i] = l3 ? ROUTER : host1.vmMac[dst];
            dstIp[i] = host1.vmIp4[dst];
            long d = frame(i);
            Mem.putMac(d, dstMac[i]);
            Mem.putMac(d + 6, host1.vmMac[src]);
            Mem.put16(d + 12, 0x0800);
            Mem.put32(d + 14, 0x4500_0000 | (28 + 64));
            Mem.put32(d + 18, 0x0000_4000);
            Mem.put32(d + 22, (64 << 24) | (17 << 16));
            Mem.put32(d + 26, host1.vmIp4[src]);
            Mem.put32(d + 30, host1.vmIp4[dst]);
            Mem.put32(d + 34, (40000 + i) << 16 | 5001);
            Mem.put32(d + 38, 72 << 16);
            innerLen[i] = 14 + 28 + 64;
        }
    }

    @TearDown
    public void tearDown() { arena.close(); }

    long frame(int i) { return base + (long) i * SLOT + HEADROOM + 64; }

    private void resetInner(int port) {
        for (int i = 0; i < N; i++) {
            b.reset(i, 0, frame(i), innerLen[i], port);
            b.etherType[i] = 0x0800;
            b.l3Offset[i] = 14;
            b.l4Offset[i] = 34;
            b.ipProto[i] = 17;
            b.flags[i] = PacketFlags.IPV4 | PacketFlags.UDP;
        }
        b.count = N;
    }

    /** Cost of re-arming the burst (paid by every benchmark below). */
    @Benchmark
    @OperationsPerInvocation(N)
    public int reset() {
        resetInner(1);
        return b.count;
    }

    /** VXLAN encapsulation only: meta says zone and VTEP; writes 50 bytes of outer headers. */
    @Benchmark
    @OperationsPerInvocation(N)
    public int encap() {
        resetInner(1);
        OverlayMeta m = meta1;
        for (int i = 0; i < N; i++) {
            m.reset(i);
            m.zone[i] = host1.vmZone[srcVm[i]];
            m.srcVm[i] = srcVm[i];
            m.encapVtep[i] = HOST2;
        }
        return encap.process(b);
    }

    @State(Scope.Thread)
    public static class Encapsulated {
        long[] data = new long[N];
        int[] len = new int[N];

        @Setup(Level.Trial)
        public void setup(OverlayBench o) {
            o.encap();
            for (int i = 0; i < N; i++) {
                if (o.b.next[i] != Next.TX) {
                    throw new IllegalStateException("setup: not encapsulated");
                }
                data[i] = o.b.data[i];
                len[i] = o.b.length[i];
            }
        }
    }

    /** VXLAN decapsulation on host 2 of the frames host 1 encapsulated (checks + inner parse). */
    @Benchmark
    @OperationsPerInvocation(N)
    public int decap(Encapsulated e) {
        for (int i = 0; i < N; i++) {
            b.reset(i, 0, e.data[i], e.len[i], 0);
            b.etherType[i] = 0x0800;
            b.l3Offset[i] = 14;
            b.l4Offset[i] = 34;
            b.ipProto[i] = 17;
            b.flags[i] = PacketFlags.IPV4 | PacketFlags.UDP;
        }
        b.count = N;
        int n = decap.process(b);
        return n + meta2.zone[N - 1];
    }

    /** The L3 decision alone (hash lookups by zone + MAC / IPv4), no packet access. */
    @Benchmark
    @OperationsPerInvocation(N)
    public void routeLookup(Blackhole bh) {
        OverlaySnapshot s = host1;
        for (int i = 0; i < N; i++) {
            int src = srcVm[i];
            bh.consume(Forwarding.decide(s, s.vmZone[src], src, dstMac[i], 0x0800, dstIp[i], 0, 0));
        }
    }

    /** Anti-spoof + route stage on real frames (half L2, half L3 with TTL/checksum/MAC rewrite). */
    @Benchmark
    @OperationsPerInvocation(N)
    public int antiSpoofAndRoute() {
        resetInner(1);
        OverlayMeta m = meta1;
        for (int i = 0; i < N; i++) {
            m.reset(i);
            long d = frame(i);
            b.inPort[i] = host1.vmPort[srcVm[i]];
            Mem.putMac(d, dstMac[i]);                  // undo the previous run's rewrite
            Mem.putMac(d + 6, host1.vmMac[srcVm[i]]);
            Mem.put32(d + 22, (64 << 24) | (17 << 16)); // TTL 64, checksum 0 (not verified here)
        }
        antiSpoof.process(b);
        return route.process(b);
    }
}
