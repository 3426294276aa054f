package io.sluice.dataplane.conntrack;

import io.sluice.dataplane.nat.NatState;
import io.sluice.dataplane.nat.SnatPorts;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Bounded conntrack soak ({@code ./sluice bench ct-soak}; runs only with {@code -Dctsoak.seconds=N}):
 * for N wall-clock seconds, TCP connections churn through a file-backed shard with mid-stream
 * pickup on (handshakes, data, FIN closes, RSTs, connections abandoned half way, bare ACKs picked
 * up, SYN floods at the per-VM limit), with UDP flows beside them; two of the four VMs are
 * outbound-only and take a SNAT port ({@link SnatPorts}) for each new connection, returned when its
 * entry is deleted. Virtual time jumps across every timeout (1 ms .. 5 days), an expiry pass runs
 * every 2,000 packets, and now and then the process "restarts": the shard is closed and attached again,
 * the SNAT pool rebuilt from the kept entries ({@link SnatPorts#adopt}) and compared with the pool
 * before. {@link ReferenceConntrack} gets every packet too and must answer the same. At the end the
 * traffic stops, time passes every timeout and a full expiry pass runs: the table, the limits and
 * the SNAT pool must be empty (nothing leaked), and the shard's counters must match the soak's own
 * counts. Writes {@code -Dctsoak.out}; its last line is {@code soak=pass} or {@code soak=fail: <what>}.
 */
class CtSoak {
    private static final long SEC = 1_000_000_000L;
    private static final int VMS = 4, FLOWS = 6000, MAX = 3000, HOST = 2400, VM_LIMIT = 700;
    private static final int SNAT = NatState.SNAT, INDEX = NatState.INDEX;

    @Test
    void soak() throws Exception {
        String secs = System.getProperty("ctsoak.seconds");
        Assumptions.assumeTrue(secs != null, "bench only: -Dctsoak.seconds=N");
        long seed = Long.getLong("ctsoak.seed", 20261206L);
        String result;
        StringBuilder log = new StringBuilder();
        Path dir = Files.createTempDirectory("ct-soak-" + ProcessHandle.current().pid() + "-");
        try {
            result = run(Integer.parseInt(secs), seed, log, dir);
        } catch (AssertionError | RuntimeException e) {
            result = "fail: " + e.getMessage();
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) Files.delete(f); // the shard file, also after a failure
            }
            Files.delete(dir);
        }
        String out = System.getProperty("ctsoak.out");
        String md = "# Conntrack soak (" + LocalDate.now(ZoneOffset.UTC) + ")\n\nCommand: `" + System.getProperty("ctsoak.cmd", "./sluice bench ct-soak")
                + "`, seed " + seed + "\n\n```\n" + log + "```\n\nsoak=" + result + "\n";
        if (out != null) Files.writeString(Path.of(out), md);
        System.out.println(md);
        assertEquals("pass", result);
    }

    /** Per flow: addresses, ports, VM, and the TCP endpoint model (next sequence number per side, phase). */
    private static final class Flow {
        int a, b, pa, pb, vm, proto;
        int[] nxt = new int[2];
        int phase; // 0 none, 1 SYN sent, 2 SYN/ACK sent, 3 open, 4 FIN sent, 5 done
        boolean pickup;
    }

    static String run(int seconds, long seed, StringBuilder log, Path dir) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        CtTimeouts to = CtTimeouts.defaults();
        Path file = dir.resolve("conntrack-0.shard");
        List<String> attachLog = new ArrayList<>();
        ConnLimits limits = new ConnLimits(HOST, VMS, VM_LIMIT);
        SnatPorts[] pool = {new SnatPorts(1, 16, 64, 4, VMS)};
        Conntrack ct = Conntrack.attach(MAX, to, limits, 11, file, 3, 0, 1, attachLog::add, null);
        ReferenceConntrack ref = new ReferenceConntrack(MAX, to, HOST, VM_LIMIT);
        ct.tcpPickup(true);
        ref.tcpPickup(true);
        ct.natRelease(w -> { if ((w & NatState.KIND) == SNAT) pool[0].release(w & INDEX); });
        Flow[] flows = new Flow[FLOWS];
        for (int i = 0; i < FLOWS; i++) {
            Flow f = new Flow();
            f.a = 0x0A01_0000 | i;
            f.b = 0x0A02_0000 | r.nextInt(64);
            f.pa = 1024 + r.nextInt(60_000);
            f.pb = new int[] {80, 443, 22, 53}[r.nextInt(4)];
            f.vm = i % VMS;
            f.proto = r.nextInt(5) == 0 ? CtPacket.IPPROTO_UDP : CtPacket.IPPROTO_TCP;
            flows[i] = f;
        }
        CtPacket p = new CtPacket();
        long now = 10 * SEC;
        long procCommits = 0, procRefused = 0; // since the last (re)start: the shard's own counters must say the same
        long ops = 0, commits = 0, refused = 0, exhausted = 0, restarts = 0, adoptedNat = 0, maxSize = 0, maxBindings = 0, pickups = 0;
        long wallEnd = System.nanoTime() + seconds * SEC;
        long nextSample = System.nanoTime();
        log.append(String.format("%8s %10s %8s %9s %9s %8s %9s %8s%n", "wall_s", "ops", "entries", "host_cnt", "bindings", "refused", "exhausted", "restarts"));
        long t0 = System.nanoTime();
        while (System.nanoTime() < wallEnd) {
            for (int k = 0; k < 2000; k++) {
                ops++;
                Flow f = flows[r.nextInt(FLOWS)];
                int roll = r.nextInt(1000);
                if (roll < 3) { now += new long[] {SEC, 31 * SEC, 121 * SEC, 432_001 * SEC}[r.nextInt(4)]; continue; }
                now += 1_000_000L;
                if (f.proto == CtPacket.IPPROTO_UDP) {
                    int d = r.nextInt(3) == 0 ? 1 : 0;
                    fill(p, f, d).udp(d == 0 ? f.pa : f.pb, d == 0 ? f.pb : f.pa, 100);
                } else {
                    tcpStep(p, f, r);
                }
                Verdict v = ct.track(p, now), w = ref.track(p, now);
                if (v != w) throw new AssertionError("op " + ops + " track " + p + ": " + v + " vs reference " + w);
                if (v == Verdict.NEW) {
                    boolean ack = p.proto == CtPacket.IPPROTO_TCP && p.tcpFlags == TcpFlags.ACK;
                    v = ct.commit(p, f.vm, now);
                    w = ref.commit(p, f.vm, now);
                    if (v != w) throw new AssertionError("op " + ops + " commit " + p + ": " + v + " vs reference " + w);
                    if (v == Verdict.LIMIT) { refused++; procRefused++; }
                    if (v == Verdict.NEW) {
                        commits++;
                        procCommits++;
                        if (ack) pickups++;
                        if (f.vm < 2) { // outbound-only VMs: a SNAT binding for the connection (internal port = the initiator's)
                            int slot = pool[0].acquire(f.vm, SnatPorts.protoClass(p.proto), p.sport);
                            if (slot < 0) {
                                exhausted++;
                                ct.kill(p);
                                ref.kill(p);
                            } else {
                                ct.setLastNat(SNAT | slot);
                            }
                        }
                    }
                }
            }
            // a full expiry pass in both every 2,000 packets (the reference has no incremental cursor: a
            // bounded pass in the shard alone would make their limits disagree; ExpiryTest covers the bounded one)
            ct.expire(now, ct.capacity());
            ref.expireAll(now);
            if (ct.size() != ref.size()) throw new AssertionError("op " + ops + ": entries " + ct.size() + " vs reference " + ref.size());
            maxSize = Math.max(maxSize, ct.size());
            maxBindings = Math.max(maxBindings, pool[0].bindings());
            if (r.nextInt(40) == 0) {
                // kill -9 and start again: the shard attached, the SNAT pool rebuilt from the kept entries
                restarts++;
                counters(ct, procCommits, procRefused, "before restart " + restarts);
                procCommits = 0;
                procRefused = 0;
                SnatPorts before = pool[0];
                SnatPorts fresh = new SnatPorts(1, 16, 64, 4, VMS);
                ct.close();
                limits = new ConnLimits(HOST, VMS, VM_LIMIT);
                ct = Conntrack.attach(MAX, to, limits, 11, file, 3, 0, 1, attachLog::add,
                        (word, vm, proto, port) -> (word & NatState.KIND) == SNAT && fresh.adopt(vm, SnatPorts.protoClass(proto), port, word & INDEX));
                ct.tcpPickup(true);
                ref.restart();
                if (ct.natDroppedAtAttach() != 0) throw new AssertionError("restart " + restarts + ": " + ct.natDroppedAtAttach() + " NAT'd entries not taken back");
                adoptedNat += ct.natKeptAtAttach();
                samePool(before, fresh, "restart " + restarts);
                pool[0] = fresh;
                ct.natRelease(w2 -> { if ((w2 & NatState.KIND) == SNAT) pool[0].release(w2 & INDEX); });
            }
            if (System.nanoTime() >= nextSample) {
                nextSample += 10 * SEC;
                log.append(String.format("%8.1f %10d %8d %9d %9d %8d %9d %8d%n", (System.nanoTime() - t0) / 1e9, ops, ct.size(), limits.hostCount(),
                        pool[0].bindings(), refused, exhausted, restarts));
            }
        }
        // the traffic stops: every timeout passes, one full expiry pass each
        now += 432_001 * SEC;
        ct.expire(now, ct.capacity());
        ref.expireAll(now);
        log.append(String.format("%8.1f %10d %8d %9d %9d %8d %9d %8d  (traffic stopped, all timeouts passed, full expiry)%n",
                (System.nanoTime() - t0) / 1e9, ops, ct.size(), limits.hostCount(), pool[0].bindings(), refused, exhausted, restarts));
        log.append(String.format("%npackets %d, connections created %d (picked up by a bare ACK %d), refused by a limit %d, SNAT exhausted %d,%n"
                + "restarts %d (NAT'd entries taken back %d), peak entries %d, peak SNAT bindings %d%n",
                ops, commits, pickups, refused, exhausted, restarts, adoptedNat, maxSize, maxBindings));
        counters(ct, procCommits, procRefused, "at the end");
        List<String> leaks = new ArrayList<>();
        if (ct.size() != 0) leaks.add("entries left " + ct.size());
        if (ref.size() != 0) leaks.add("reference entries left " + ref.size());
        if (limits.hostCount() != 0) leaks.add("host count " + limits.hostCount());
        for (int v = 0; v < VMS; v++) if (limits.vmCount(v) != 0) leaks.add("vm " + v + " count " + limits.vmCount(v));
        if (pool[0].bindings() != 0) leaks.add("SNAT bindings left " + pool[0].bindings());
        for (int v = 0; v < VMS; v++) if (pool[0].blocksOf(v) != 0) leaks.add("vm " + v + " SNAT blocks left " + pool[0].blocksOf(v));
        if (pool[0].blocksInUse(0) != 0) leaks.add("SNAT blocks in use " + pool[0].blocksInUse(0));
        ct.close();
        return leaks.isEmpty() ? "pass" : "fail: " + String.join(", ", leaks);
    }

    private static CtPacket fill(CtPacket p, Flow f, int d) {
        p.length = 100;
        return d == 0 ? p.v4(1, f.a, f.b) : p.v4(1, f.b, f.a);
    }

    /** The flow's next TCP segment: mostly well-formed in its phase, sometimes RST, abandon or a bare ACK (pickup). */
    private static void tcpStep(CtPacket p, Flow f, SplittableRandom r) {
        int roll = r.nextInt(100);
        if (f.phase == 0 || f.phase == 5 || roll < 2) {
            // a new connection (a SYN flood at the VM's limit is many of these), or now and then a bare ACK (pickup)
            f.nxt[0] = r.nextInt();
            f.nxt[1] = r.nextInt();
            f.pickup = r.nextInt(10) == 0;
            if (f.pickup) {
                f.phase = 3;
                seg(p, f, 0, TcpFlags.ACK, 0);
            } else {
                f.phase = 1;
                seg(p, f, 0, TcpFlags.SYN, 0);
                f.nxt[0]++;
            }
            return;
        }
        if (roll < 5) { seg(p, f, r.nextInt(2), TcpFlags.RST, 0); f.phase = 5; return; }
        if (roll < 8) { f.phase = 5; seg(p, f, 0, TcpFlags.ACK, 0); return; } // abandoned: its entry must time out
        switch (f.phase) {
            case 1 -> { seg(p, f, 1, TcpFlags.SYN | TcpFlags.ACK, 0); f.nxt[1]++; f.phase = 2; }
            case 2 -> { seg(p, f, 0, TcpFlags.ACK, 0); f.phase = 3; }
            case 3 -> {
                int d = r.nextInt(2);
                if (roll < 85) { int len = r.nextInt(1400); seg(p, f, d, TcpFlags.ACK | TcpFlags.PSH, len); f.nxt[d] += len; }
                else { seg(p, f, d, TcpFlags.FIN | TcpFlags.ACK, 0); f.nxt[d]++; f.phase = 4; }
            }
            default -> { // closing: the other side's FIN, then the last ACK
                int d = r.nextInt(2);
                if (roll < 60) { seg(p, f, d, TcpFlags.FIN | TcpFlags.ACK, 0); f.nxt[d]++; }
                else { seg(p, f, d, TcpFlags.ACK, 0); if (roll > 90) f.phase = 5; }
            }
        }
    }

    private static void seg(CtPacket p, Flow f, int d, int flags, int len) {
        fill(p, f, d).tcp(d == 0 ? f.pa : f.pb, d == 0 ? f.pb : f.pa, flags, f.nxt[d], (flags & TcpFlags.ACK) != 0 ? f.nxt[1 - d] : 0, 65535, len);
        if ((flags & TcpFlags.SYN) != 0) p.wscale(7);
    }

    private static void counters(Conntrack ct, long commits, long refused, String where) {
        long r = ct.refusedVm() + ct.refusedHost() + ct.refusedTable();
        if (ct.created() != commits || r != refused) {
            throw new AssertionError(where + ": shard counters created " + ct.created() + " refused " + r + ", the soak counted " + commits + " / " + refused);
        }
    }

    private static void samePool(SnatPorts before, SnatPorts after, String where) {
        if (before.bindings() != after.bindings()) throw new AssertionError(where + ": SNAT bindings " + after.bindings() + " after, " + before.bindings() + " before");
        for (int s = 0; s < before.slots(); s++) {
            if (before.refs(s) != after.refs(s)) throw new AssertionError(where + ": SNAT slot " + s + " users " + after.refs(s) + " after, " + before.refs(s) + " before");
        }
        for (int v = 0; v < VMS; v++) {
            if (before.blocksOf(v) != after.blocksOf(v)) throw new AssertionError(where + ": VM " + v + " SNAT blocks " + after.blocksOf(v) + " after, " + before.blocksOf(v) + " before");
        }
    }
}
