package io.sluice.bench.latency;

import io.sluice.dataplane.config.PortSpec;
import io.sluice.dataplane.ffi.Eal;
import io.sluice.dataplane.ffi.Mbuf;
import io.sluice.dataplane.ffi.Shim;
import io.sluice.dataplane.packet.Checksum;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.port.Port;
import io.sluice.dataplane.port.Ports;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;

/**
 * The generator of {@code ./sluice bench latency}: a process with its own EAL (own
 * {@code --file-prefix}, lcore 0 = CPU 0) and two DPDK {@code net_memif} client ports, A and B,
 * connected to the device under test's memif server ports. It sends 60-byte IPv4/UDP frames at a
 * steady rate, alternately A->B (VM 10.0.1.11 port A, to 10.0.1.12:1001) and the reply B->A, over
 * {@code --flows} source ports; each frame carries a magic, its phase and the {@link System#nanoTime}
 * at which it was handed to tx. Frames that come back are timed with the same clock (one process:
 * no cross-process clock), recorded per phase of sending into a fixed {@link LatencyHistogram}, and
 * freed. No allocation in the loop.
 *
 * <p>Phases by wall clock: before {@code --t0-ms} (epoch ms) warm-up (not recorded), then each of
 * {@code --phases} for {@code --phase-s} seconds, then {@code --drain-ms} of receiving only.
 * Prints one line per phase: {@code phase=NAME sent= received= lost= p50_us= p99_us= p999_us=
 * max_us= gen_cpu= gen_max_gap_us= late_slots= tx_full= gen_stalled= clean_p50_us= clean_p99_us= clean_p999_us= clean_max_us=}
 * and {@code stray=} (frames that were not ours). The {@code clean_} figures leave out the
 * {@code gen_stalled} frames that were in flight while the generator itself was away for more than
 * {@code --stall-us} (20) between two polls (descheduled, interrupted): their latency may be the
 * generator's. Both are printed; the plain figures are the result.
 *
 * <pre>java ... LatencyGen --sock-a A.sock --sock-b B.sock --rate 100000 --flows 100 --t0-ms T
 *      --phase-s 10 --phases steady,churn --prefix slatg123 [--rx-queues 1]</pre>
 */
public final class LatencyGen {
    static final long MAC_A = 0x02_b3_00_00_01_11L;
    static final long MAC_B = 0x02_b3_00_00_01_12L;
    static final int IP_A = 0x0A_00_01_0B;   // 10.0.1.11
    static final int IP_B = 0x0A_00_01_0C;   // 10.0.1.12
    static final int SERVICE_PORT = 1001;
    static final int MAGIC = 0x534C4154;      // "SLAT"
    static final int FRAME = 60;
    static final int PAYLOAD = 42;            // UDP payload (18 bytes): magic(4) at 42, phase(1) at 46,
    static final int PHASE = 46;              // the send's System.nanoTime (8, host order) at 48,
    static final int STAMP = 48;              // a sequence number (4) at 56
    static final int SEQ = 56;
    private static final int BURST = 32;

    private LatencyGen() {}

    public static void main(String[] args) throws Exception {
        String sockA = null, sockB = null, prefix = "slatg" + ProcessHandle.current().pid();
        long rate = 100_000, t0Ms = System.currentTimeMillis() + 3000;
        int flows = 100, phaseS = 10, drainMs = 300, rxq = 1, stallUs = 20;
        String[] phases = {"steady"};
        for (int i = 0; i < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--sock-a" -> sockA = v;
                case "--sock-b" -> sockB = v;
                case "--rate" -> rate = Long.parseLong(v);
                case "--flows" -> flows = Integer.parseInt(v);
                case "--t0-ms" -> t0Ms = Long.parseLong(v);
                case "--phase-s" -> phaseS = Integer.parseInt(v);
                case "--phases" -> phases = v.split(",");
                case "--drain-ms" -> drainMs = Integer.parseInt(v);
                case "--prefix" -> prefix = v;
                case "--rx-queues" -> rxq = Integer.parseInt(v);
                case "--stall-us" -> stallUs = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (sockA == null || sockB == null) throw new IllegalArgumentException("--sock-a and --sock-b are required");
        List<PortSpec> specs = List.of(
                new PortSpec("a", "net_memif0,role=client,id=0,socket=" + sockA + ",socket-abstract=no", 1, 1, -1),
                new PortSpec("b", "net_memif1,role=client,id=0,socket=" + sockB + ",socket-abstract=no", 1, 1, -1));
        List<String> argv = new ArrayList<>(List.of("latgen"));
        argv.addAll(Eal.noHugeArgs("0", 256, prefix));
        argv.addAll(Ports.ealArgs(specs));
        Eal.init(argv);
        List<Port> ports = List.of();
        try {
            long pool = Shim.pktmbufPoolCreate("latgen", 8191, 256, 2048 + (int) Mbuf.HEADROOM, 0);
            if (pool == 0) throw new IllegalStateException("mbuf pool: " + Shim.strerror(Shim.rteErrno()));
            // --rx-queues: the memif rings from the server are as many as the client's rx queues, at most
            // the server's tx queues (more and the server refuses the connection); a server's tx queue q
            // writes ring q, and OVS's PMD sends on tx queue 1 (queue 0 is its main thread's): 2 for OVS
            ports = Ports.openAll(specs, pool, new int[] {rxq, rxq}, new int[] {1, 1});
            for (Port p : ports) {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (Shim.portLink(p.portId(), false)[0] == 0) {
                    if (System.nanoTime() > deadline) throw new IllegalStateException("memif " + p.name() + " never came up (is the device under test listening on its socket?)");
                    Thread.sleep(20);
                }
            }
            System.out.println("latgen: links up, rate " + rate + " pps, " + flows + " flows, phases " + String.join(",", phases) + " x " + phaseS + " s");
            new LatencyGen().run(ports.get(0).portId(), ports.get(1).portId(), rxq, pool, rate, flows, t0Ms, phaseS, phases, drainMs, stallUs * 1000L);
        } finally {
            Ports.stopAndClose(ports);
            Eal.cleanup();
        }
    }

    private void run(int portA, int portB, int rxq, long pool, long rate, int flows, long t0Ms, int phaseS, String[] phases, int drainMs, long stallNs) {
        int nph = phases.length;
        LatencyHistogram[] hist = new LatencyHistogram[nph + 1], clean = new LatencyHistogram[nph + 1];
        long[] sent = new long[nph + 1], received = new long[nph + 1], cpu = new long[nph + 1], wall = new long[nph + 1];
        long[] maxGap = new long[nph + 1], late = new long[nph + 1], txFull = new long[nph + 1], stalled = new long[nph + 1];
        for (int i = 0; i <= nph; i++) { hist[i] = new LatencyHistogram(); clean[i] = new LatencyHistogram(); }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Arena arena = Arena.global();
        MemorySegment poolSeg = MemorySegment.ofAddress(pool);
        MemorySegment one = arena.allocate(ValueLayout.JAVA_LONG, 1);
        MemorySegment rx = arena.allocate(ValueLayout.JAVA_LONG, BURST);
        MemorySegment rxData = arena.allocate(ValueLayout.JAVA_LONG, BURST);
        MemorySegment rxLen = arena.allocate(ValueLayout.JAVA_INT, BURST);
        // templates: flows x 2 directions, each FRAME bytes
        long tpl = arena.allocate((long) flows * 2 * 64, 64).address();
        for (int f = 0; f < flows; f++) {
            frame(tpl + (long) (2 * f) * 64, MAC_B, MAC_A, IP_A, IP_B, 20000 + f, SERVICE_PORT);
            frame(tpl + (long) (2 * f + 1) * 64, MAC_A, MAC_B, IP_B, IP_A, SERVICE_PORT, 20000 + f);
        }
        final long period = 1_000_000_000L / rate;
        final long nanoT0 = System.nanoTime() + (t0Ms - System.currentTimeMillis()) * 1_000_000L;
        final long phaseNs = phaseS * 1_000_000_000L;
        final long end = nanoT0 + nph * phaseNs;
        long stray = 0, seq = 0, next = System.nanoTime(), last = next;
        long stallEnd = 0;          // when the generator last came back from a gap > stallNs between two polls
        int phase = 0;              // 0 = warm-up (index nph is unused), phases 1..nph
        int slot = 0;               // which template next
        int templates = flows * 2;
        long cpuAt = mx.getCurrentThreadCpuTime(), wallAt = System.nanoTime();
        while (true) {
            long now = System.nanoTime();
            long gap = now - last;
            last = now;
            if (now >= end + drainMs * 1_000_000L) break;
            int ph = now < nanoT0 ? 0 : now >= end ? -1 : 1 + (int) ((now - nanoT0) / phaseNs);
            if (ph != phase && ph >= 0) {       // phase edge: close the previous one's CPU and wall time
                long c = mx.getCurrentThreadCpuTime();
                cpu[phase] += c - cpuAt; wall[phase] += now - wallAt; cpuAt = c; wallAt = now;
                phase = ph;
            } else if (ph < 0 && phase > 0) {
                long c = mx.getCurrentThreadCpuTime();
                cpu[phase] += c - cpuAt; wall[phase] += now - wallAt;
                phase = -1;
            }
            if (phase > 0 && gap > maxGap[phase]) maxGap[phase] = gap;
            if (gap > stallNs) stallEnd = now;
            if (phase >= 0 && now >= next) {
                if (now - next > 10 * period) { if (phase > 0) late[phase]++; next = now; }
                next += period;
                if (Shim.mbufAllocBulk(poolSeg, one, 1) == 0) {
                    long m = one.getAtIndex(ValueLayout.JAVA_LONG, 0);
                    long d = Mbuf.data(m);
                    Mem.copy(tpl + (long) slot * 64, d, FRAME);
                    Mbuf.setLength(m, FRAME);
                    Mem.put8(d + PHASE, phase);
                    Mem.put32(d + SEQ, (int) seq++);
                    Mem.ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, d + STAMP, System.nanoTime());
                    int port = (slot & 1) == 0 ? portA : portB;
                    if (Shim.txBurst(port, 0, one, 1) == 1) {
                        sent[phase]++;
                    } else {
                        Shim.mbufFreeBulk(one, 1);
                        txFull[phase]++;
                    }
                    slot = slot + 1 == templates ? 0 : slot + 1;
                }
            }
            for (int p = 0; p < 2 * rxq; p++) {
                int n = Shim.rxBurstMeta((p & 1) == 0 ? portA : portB, p >> 1, rx, BURST, rxData, rxLen);
                if (n == 0) continue;
                long at = System.nanoTime();
                if (at - now > stallNs) stallEnd = at;
                for (int i = 0; i < n; i++) {
                    long d = rxData.getAtIndex(ValueLayout.JAVA_LONG, i);
                    int len = rxLen.getAtIndex(ValueLayout.JAVA_INT, i);
                    if (len < FRAME || Mem.u16(d + 12) != 0x0800 || Mem.i32(d + PAYLOAD) != MAGIC) { stray++; continue; }
                    int sp = Mem.u8(d + PHASE);
                    if (sp < 0 || sp > nph) { stray++; continue; }
                    long ts = Mem.ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, d + STAMP);
                    received[sp]++;
                    hist[sp].record(at - ts);
                    // in flight while the generator itself was away: its latency may be the generator's
                    if (stallEnd > ts) stalled[sp]++; else clean[sp].record(at - ts);
                }
                Shim.mbufFreeBulk(rx, n);
            }
        }
        for (int p = 1; p <= nph; p++) {
            LatencyHistogram h = hist[p], c = clean[p];
            System.out.printf("phase=%s sent=%d received=%d lost=%d p50_us=%.2f p99_us=%.2f p999_us=%.2f max_us=%.2f gen_cpu=%.3f gen_max_gap_us=%.1f late_slots=%d tx_full=%d"
                            + " gen_stalled=%d clean_p50_us=%.2f clean_p99_us=%.2f clean_p999_us=%.2f clean_max_us=%.2f%n",
                    phases[p - 1], sent[p], received[p], sent[p] - received[p], h.quantile(0.5) / 1e3, h.quantile(0.99) / 1e3,
                    h.quantile(0.999) / 1e3, h.max() / 1e3, wall[p] > 0 ? (double) cpu[p] / wall[p] : 0, maxGap[p] / 1e3, late[p], txFull[p],
                    stalled[p], c.quantile(0.5) / 1e3, c.quantile(0.99) / 1e3, c.quantile(0.999) / 1e3, c.max() / 1e3);
        }
        System.out.println("warmup sent=" + sent[0] + " received=" + received[0] + " stray=" + stray);
    }

    /** One 60-byte IPv4/UDP frame at {@code at}: the payload's magic set, phase/seq/timestamp written per send. */
    static void frame(long at, long dstMac, long srcMac, int src, int dst, int sport, int dport) {
        for (int k = 0; k < 64; k++) Mem.put8(at + k, 0);
        Mem.putMac(at, dstMac);
        Mem.putMac(at + 6, srcMac);
        Mem.put16(at + 12, 0x0800);
        long ip = at + 14;
        Mem.put8(ip, 0x45);
        Mem.put16(ip + 2, FRAME - 14);
        Mem.put16(ip + 4, 0x1234);
        Mem.put16(ip + 6, 0x4000);
        Mem.put8(ip + 8, 64);
        Mem.put8(ip + 9, 17);
        Mem.put32(ip + 12, src);
        Mem.put32(ip + 16, dst);
        Checksum.setIpv4Header(ip);
        long udp = ip + 20;
        Mem.put16(udp, sport);
        Mem.put16(udp + 2, dport);
        Mem.put16(udp + 4, FRAME - 34);
        Mem.put16(udp + 6, 0);   // no UDP checksum (IPv4 allows it)
        Mem.put32(at + PAYLOAD, MAGIC);
    }
}
