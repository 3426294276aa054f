package io.sluice.dataplane.firewall;

import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.packet.NativeFrames;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static io.sluice.dataplane.firewall.FwTopology.EXT1;
import static io.sluice.dataplane.firewall.FwTopology.EXT2;
import static io.sluice.dataplane.firewall.FwTopology.VM1;
import static io.sluice.dataplane.firewall.FwTopology.VM2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The firewall stage on frames in native memory, through parse -> arp -> l2 -> firewall (no DPDK):
 * the platform scenarios of issue 5 at packet level, counters, rule changes (keep vs cut),
 * ICMP errors, and zero allocation.
 */
class FirewallStageTest {
    static final int SYN = 0x02, ACK = 0x10, SYNACK = 0x12, PSHACK = 0x18, FINACK = 0x11;
    static final String HTTP_ANY = "        - { id: http, direction: ingress, protocol: tcp, ports: 80, remote: 0.0.0.0/0 }\n";

    final NativeFrames frames = new NativeFrames();
    SluiceConfig cfg;
    FirewallState fw;
    Stage[] stages;

    @AfterEach
    void close() { frames.close(); }

    void setUp(String cut, String rules) throws ConfigException {
        cfg = FwTopology.config("slfwu", cut, rules);
        fw = new FirewallState(4, FwTopology.firewall(cfg, "slfwu", cut, rules));
        stages = FirewallPipelines.l2(cfg, fw);
    }

    void change(String cut, String rules) throws ConfigException {
        fw.apply(FwTopology.firewall(cfg, "slfwu", cut, rules));
    }

    /** Runs one frame; returns -1 when it is sent to its destination, else the drop reason ordinal. */
    int send(byte[] frame, int inPort) {
        Burst b = frames.burstOf(frame, frame.length, inPort);
        for (Stage s : stages) s.process(b);
        if (b.next[0] == Next.TX) return -1;
        assertEquals(Next.DROP, b.next[0]);
        return b.dropReason[0];
    }

    void passes(byte[] f, int in) { assertEquals(-1, send(f, in), () -> "expected to pass, dropped " + DropReason.of(send(f, in))); }

    void drops(byte[] f, int in, DropReason r) {
        int got = send(f, in);
        assertEquals(r.ordinal(), got, () -> "expected " + r + ", got " + (got < 0 ? "pass" : DropReason.of(got)));
    }

    /** Three-way handshake from a to b plus one data segment each way; asserts all pass. */
    void handshake(int a, int b, int sport, int dport) {
        passes(Frames.tcp(a, b, sport, dport, SYN, 1000, 0, 0), a);
        passes(Frames.tcp(b, a, dport, sport, SYNACK, 5000, 1001, 0), b);
        passes(Frames.tcp(a, b, sport, dport, ACK, 1001, 5001, 0), a);
        passes(Frames.tcp(a, b, sport, dport, PSHACK, 1001, 5001, 10), a);
        passes(Frames.tcp(b, a, dport, sport, PSHACK, 5001, 1011, 10), b);
    }

    @Test
    void defaultGroupOnlySshFromOutsideAnyPortWithinTheGroup() throws Exception {
        setUp("keep", "");
        handshake(EXT1, VM1, 40000, 22);
        drops(Frames.tcp(EXT1, VM1, 40001, 80, SYN, 1, 0, 0), EXT1, DropReason.FW_NO_RULE);
        drops(Frames.tcp(EXT1, VM2, 40002, 8080, SYN, 1, 0, 0), EXT1, DropReason.FW_NO_RULE);
        handshake(VM2, VM1, 40003, 80);
        handshake(VM1, VM2, 40004, 5432);
        assertEquals(1, fw.hits("default/ssh-v4"));
        assertEquals(2, fw.hits("default/self"));
        assertEquals(2, fw.hits("default/egress"));
        assertEquals(1, fw.drops(VM1, DropReason.FW_NO_RULE));
        assertEquals(1, fw.drops(VM2, DropReason.FW_NO_RULE));
    }

    /** The firewall stage of a fresh default topology. */
    FirewallStage firewallStage() throws ConfigException {
        setUp("keep", "");
        for (Stage s : stages) if (s instanceof FirewallStage f) return f;
        throw new AssertionError("no firewall stage in " + java.util.Arrays.toString(stages));
    }

    /** The trace detail is stored only while a trace records the burst (the worker brackets it). */
    @Test
    void traceDetailOnlyWhileRecording() throws Exception {
        FirewallStage fws = firewallStage();
        byte[] syn = Frames.tcp(EXT1, VM1, 40100, 22, SYN, 1000, 0, 0);
        passes(syn, EXT1);
        assertEquals(0, fws.traceDetail(0), "stored while nothing records");
        fws.traceRecording(true);
        fws.traceClear(0);
        passes(Frames.tcp(VM1, EXT1, 22, 40100, SYNACK, 5000, 1001, 0), VM1);
        fws.traceRecording(false);
        assertEquals(io.sluice.dataplane.conntrack.Verdict.ESTABLISHED.ordinal() + 1, fws.traceDetail(0) & 0xF);
        passes(Frames.tcp(EXT1, VM1, 40100, 22, ACK, 1001, 5001, 0), EXT1); // not recording: the detail stays
        fws.traceClear(0);
        passes(Frames.tcp(EXT1, VM1, 40100, 22, PSHACK, 1001, 5001, 10), EXT1);
        assertEquals(0, fws.traceDetail(0));
    }

    @Test
    void inboundRuleAndSlash32() throws Exception {
        setUp("keep", HTTP_ANY + "        - { id: admin, direction: ingress, protocol: tcp, ports: 8443, remote: 10.77.0.11/32 }\n");
        handshake(EXT1, VM1, 41000, 80);
        handshake(EXT2, VM1, 41001, 80);
        handshake(EXT1, VM1, 41002, 8443);
        drops(Frames.tcp(EXT2, VM1, 41003, 8443, SYN, 1, 0, 0), EXT2, DropReason.FW_NO_RULE);
        drops(Frames.tcp(EXT1, VM2, 41004, 80, SYN, 1, 0, 0), EXT1, DropReason.FW_NO_RULE); // vm2 is not in web
        assertEquals(2, fw.hits("web/http"));
        assertEquals(1, fw.hits("web/admin"));
    }

    @Test
    void outboundWorksRepliesReturnPlatformBlocks25() throws Exception {
        setUp("keep", "");
        handshake(VM1, EXT1, 42000, 443);
        drops(Frames.tcp(VM1, EXT1, 42001, 25, SYN, 1, 0, 0), VM1, DropReason.FW_PLATFORM);
        handshake(VM1, EXT1, 42002, 587);
        handshake(VM1, EXT1, 42003, 465);
        assertEquals(1, fw.drops(VM1, DropReason.FW_PLATFORM));
        // a reply-looking packet with no connection is not a new connection: a SYN/ACK never is; a
        // bare ACK is picked up mid-stream (tcp-pickup, on by default) only if the rules allow it in
        // its direction: vm1's port 42999 is not open
        drops(Frames.tcp(EXT1, VM1, 443, 42999, SYNACK, 1, 1, 0), EXT1, DropReason.FW_INVALID);
        drops(Frames.tcp(EXT1, VM1, 22, 42999, ACK, 1, 1, 0), EXT1, DropReason.FW_NO_RULE);
    }

    @Test
    void platformExemption() throws Exception {
        cfg = FwTopology.config("slfwu", "keep", "");
        String y = FwTopology.yaml("slfwu", "keep", "") + "  platform:\n    exemptions:\n      - { rule: platform/smtp-25, ports: [vm1] }\n";
        fw = new FirewallState(4, FirewallConfigLoader.parseDocument("x.yaml", y, cfg));
        stages = FirewallPipelines.l2(cfg, fw);
        handshake(VM1, EXT1, 42100, 25);
        drops(Frames.tcp(VM2, EXT1, 42101, 25, SYN, 1, 0, 0), VM2, DropReason.FW_PLATFORM);
    }

    @Test
    void udpAndPingAsTheRulesSay() throws Exception {
        setUp("keep", "");
        passes(Frames.udp(VM1, EXT1, 5000, 53, 20), VM1);
        passes(Frames.udp(EXT1, VM1, 53, 5000, 40), EXT1);          // reply
        drops(Frames.udp(EXT1, VM1, 5001, 7000, 10), EXT1, DropReason.FW_NO_RULE);
        passes(Frames.icmpEcho(VM1, EXT1, 8, 77), VM1);
        passes(Frames.icmpEcho(EXT1, VM1, 0, 77), EXT1);
        drops(Frames.icmpEcho(EXT1, VM1, 8, 78), EXT1, DropReason.FW_NO_RULE);
        drops(Frames.icmpEcho(EXT1, VM1, 0, 79), EXT1, DropReason.FW_INVALID);  // unsolicited reply
        change("keep", "        - { id: dns, direction: ingress, protocol: udp, ports: 7000, remote: 10.77.0.0/24 }\n"
                + "        - { id: ping, direction: ingress, protocol: icmp, icmp-type: 8 }\n");
        passes(Frames.udp(EXT1, VM1, 5001, 7000, 10), EXT1);
        passes(Frames.udp(VM1, EXT1, 7000, 5001, 10), VM1);
        passes(Frames.icmpEcho(EXT1, VM1, 8, 80), EXT1);
        passes(Frames.icmpEcho(VM1, EXT1, 0, 80), VM1);
        drops(Frames.udp(EXT1, VM1, 5002, 7001, 10), EXT1, DropReason.FW_NO_RULE);
    }

    /** Runs frames as one burst; returns -1 (sent) or the drop reason ordinal per packet. */
    int[] sendBurst(byte[][] fs, int[] in) {
        Burst b = new Burst(fs.length);
        b.count = fs.length;
        for (int k = 0; k < fs.length; k++) b.reset(k, 0, frames.put(fs[k]), fs[k].length, in[k]);
        for (Stage s : stages) s.process(b);
        int[] out = new int[fs.length];
        for (int k = 0; k < fs.length; k++) out[k] = b.next[k] == Next.TX ? -1 : b.dropReason[k];
        return out;
    }

    @Test
    void requestAndReplyInOneBurst() throws Exception {
        for (String setting : new String[] {"keep", "cut"}) {       // batched and per-packet paths
            setUp(setting, "");
            int[] r = sendBurst(new byte[][] {
                    Frames.udp(VM1, EXT1, 6000, 53, 10), Frames.udp(EXT1, VM1, 53, 6000, 10),      // request, reply
                    Frames.udp(VM1, EXT1, 6001, 53, 10), Frames.udp(VM1, EXT1, 6001, 53, 10),      // two of one new flow
                    Frames.icmpEcho(VM1, EXT1, 8, 5), Frames.icmpEcho(EXT1, VM1, 0, 5),            // ping and its reply
                    Frames.udp(EXT1, VM1, 6002, 7777, 10)},                                         // denied
                    new int[] {VM1, EXT1, VM1, VM1, VM1, EXT1, EXT1});
            assertEquals("[-1, -1, -1, -1, -1, -1, " + DropReason.FW_NO_RULE.ordinal() + "]", java.util.Arrays.toString(r), setting);
            assertEquals(3, fw.created(), setting);
        }
    }

    @Test
    void ipv6() throws Exception {
        cfg = FwTopology.config("slfwu", "keep", "");
        String y = FwTopology.yaml("slfwu", "keep", "").replace("addresses: [10.77.0.1]", "addresses: [10.77.0.1, \"fd00::1\"]")
                .replace("addresses: [10.77.0.2]", "addresses: [10.77.0.2, \"fd00::2\"]");
        fw = new FirewallState(4, FirewallConfigLoader.parseDocument("x.yaml", y, cfg));
        stages = FirewallPipelines.l2(cfg, fw);
        passes(Frames.tcp6(EXT1, VM1, 40000, 22, SYN, 1000, 0, 0), EXT1);
        passes(Frames.tcp6(VM1, EXT1, 22, 40000, SYNACK, 5000, 1001, 0), VM1);
        passes(Frames.tcp6(EXT1, VM1, 40000, 22, ACK, 1001, 5001, 0), EXT1);
        passes(Frames.tcp6(EXT1, VM1, 40000, 22, PSHACK, 1001, 5001, 100), EXT1);
        drops(Frames.tcp6(EXT1, VM1, 40001, 80, SYN, 1, 0, 0), EXT1, DropReason.FW_NO_RULE);
        passes(Frames.tcp6(VM2, VM1, 40002, 80, SYN, 1, 0, 0), VM2);              // default/self, v6 member
        drops(Frames.tcp6(VM1, EXT1, 40003, 25, SYN, 1, 0, 0), VM1, DropReason.FW_PLATFORM);
        passes(Frames.tcp6(VM1, EXT1, 40004, 587, SYN, 1, 0, 0), VM1);
        drops(Frames.tcp6(EXT1, VM1, 40000, 22, PSHACK, 1001 + (1 << 30), 5001, 10), EXT1, DropReason.FW_INVALID); // far outside the window
        assertEquals(1, fw.hits("default/ssh-v6"));
    }

    @Test
    void icmpErrorsRelatedAndForged() throws Exception {
        setUp("keep", "");
        byte[] syn = Frames.tcp(VM1, EXT1, 43000, 9999, SYN, 1000, 0, 0);
        passes(syn, VM1);
        passes(Frames.icmpError(EXT1, VM1, 3, 3, syn), EXT1);           // port unreachable about our SYN
        passes(Frames.icmpError(EXT1, VM1, 3, 4, syn), EXT1);           // frag needed
        byte[] other = Frames.tcp(VM1, EXT1, 43001, 9999, SYN, 1000, 0, 0);  // never sent
        drops(Frames.icmpError(EXT1, VM1, 3, 3, other), EXT1, DropReason.FW_INVALID);
        drops(Frames.icmpError(EXT1, VM1, 11, 0, other), EXT1, DropReason.FW_INVALID);
    }

    @Test
    void ruleRemovedKeep() throws Exception {
        setUp("keep", HTTP_ANY);
        handshake(EXT1, VM1, 44000, 80);
        change("keep", "");
        passes(Frames.tcp(EXT1, VM1, 44000, 80, PSHACK, 1011, 5011, 10), EXT1);
        passes(Frames.tcp(VM1, EXT1, 80, 44000, PSHACK, 5011, 1021, 10), VM1);
        drops(Frames.tcp(EXT1, VM1, 44001, 80, SYN, 1, 0, 0), EXT1, DropReason.FW_NO_RULE);
    }

    @Test
    void ruleRemovedCut() throws Exception {
        setUp("cut", HTTP_ANY);
        handshake(EXT1, VM1, 45000, 80);
        handshake(EXT1, VM1, 45001, 22);          // allowed by default (keep) group: unaffected
        handshake(VM1, EXT1, 45002, 443);         // outbound by default: unaffected
        change("cut", "        - { id: other, direction: ingress, protocol: tcp, ports: 81 }\n");
        passes(Frames.tcp(EXT1, VM1, 45001, 22, PSHACK, 1011, 5011, 10), EXT1);
        passes(Frames.tcp(EXT1, EXT1 == 0 ? 0 : VM1, 45001, 22, PSHACK, 1021, 5011, 10), EXT1);
        passes(Frames.tcp(VM1, EXT1, 45002, 443, PSHACK, 1011, 5011, 10), VM1);
        drops(Frames.tcp(VM1, EXT1, 80, 45000, PSHACK, 5011, 1011, 10), VM1, DropReason.FW_CUT);  // reply direction sees it first
        // entry gone, and mid-stream pickup asks the new rules (port 80 no longer open): still dropped
        drops(Frames.tcp(EXT1, VM1, 45000, 80, PSHACK, 1011, 5011, 10), EXT1, DropReason.FW_NO_RULE);
        assertEquals(1, fw.drops(VM1, DropReason.FW_CUT));
    }

    @Test
    void ruleStillAllowedAfterChangeIsNotCut() throws Exception {
        setUp("cut", HTTP_ANY);
        handshake(EXT1, VM1, 46000, 80);
        change("cut", HTTP_ANY + "        - { id: more, direction: ingress, protocol: tcp, ports: 81 }\n");
        passes(Frames.tcp(EXT1, VM1, 46000, 80, PSHACK, 1011, 5011, 10), EXT1);
        change("cut", "        - { id: wide, direction: ingress, protocol: tcp, ports: 1-1000 }\n");
        passes(Frames.tcp(VM1, EXT1, 80, 46000, PSHACK, 5011, 1021, 10), VM1);
    }

    @Test
    void perVmLimit() throws Exception {
        cfg = FwTopology.config("slfwu", "keep", "");
        String y = FwTopology.yaml("slfwu", "keep", "").replace("max-connections-per-vm: 4096", "max-connections-per-vm: 10");
        fw = new FirewallState(4, FirewallConfigLoader.parseDocument("x.yaml", y, cfg));
        stages = FirewallPipelines.l2(cfg, fw);
        handshake(VM2, EXT1, 47000, 80);
        for (int i = 0; i < 10; i++) passes(Frames.tcp(VM1, EXT1, 48000 + i, 80, SYN, 1, 0, 0), VM1);
        drops(Frames.tcp(VM1, EXT1, 48100, 80, SYN, 1, 0, 0), VM1, DropReason.FW_LIMIT);
        passes(Frames.tcp(VM2, EXT1, 47000, 80, PSHACK, 1011, 5011, 10), VM2);   // other VM's connection continues
        passes(Frames.tcp(VM2, EXT1, 47001, 80, SYN, 1, 0, 0), VM2);              // and it opens new ones
        assertEquals(1, fw.drops(VM1, DropReason.FW_LIMIT));
    }

    @Test
    void nonVmTrafficAndArpUntouched() throws Exception {
        setUp("keep", "");
        passes(Frames.tcp(EXT1, EXT2, 1, 25, SYN, 1, 0, 0), EXT1);   // neither end is a VM port
        passes(Frames.tcp(EXT1, EXT2, 1, 25, ACK, 1, 0, 0), EXT1);
    }

    @Test
    void zeroAllocationPerBurstBatchedPath() throws Exception {
        zeroAllocation("keep");
    }

    @Test
    void zeroAllocationPerBurstPerPacketPath() throws Exception {
        zeroAllocation("cut");
    }

    /** Runs {@code round(r)} for r = 0 .. warmup + rounds - 1; returns the bytes this thread allocated in the last {@code rounds}. */
    static long allocatedBytes(int warmup, int rounds, java.util.function.IntConsumer round) {
        com.sun.management.ThreadMXBean t = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        long before = 0;
        for (int r = 0; r < warmup + rounds; r++) {
            if (r == warmup) before = t.getThreadAllocatedBytes(tid);
            round.accept(r);
        }
        return t.getThreadAllocatedBytes(tid) - before;
    }

    void zeroAllocation(String setting) throws Exception {
        setUp(setting, HTTP_ANY);
        // 32 packets: established both ways, new allowed, denied, platform, udp, ping
        byte[][] mix = new byte[32][];
        int[] in = new int[32];
        for (int k = 0; k < 32; k++) {
            int j = k % 8;
            switch (j) {
                case 0 -> { mix[k] = Frames.tcp(EXT1, VM1, 50000 + k, 80, PSHACK, 1011, 5011, 0); in[k] = EXT1; }
                case 1 -> { mix[k] = Frames.tcp(VM1, EXT1, 80, 50000 + k - 1, PSHACK, 5011, 1011, 0); in[k] = VM1; }
                case 2 -> { mix[k] = Frames.tcp(VM1, EXT1, 51000 + k, 443, SYN, 1, 0, 0); in[k] = VM1; }
                case 3 -> { mix[k] = Frames.tcp(EXT1, VM1, 52000 + k, 8080, SYN, 1, 0, 0); in[k] = EXT1; }
                case 4 -> { mix[k] = Frames.tcp(VM1, EXT1, 53000 + k, 25, SYN, 1, 0, 0); in[k] = VM1; }
                case 5 -> { mix[k] = Frames.udp(VM1, EXT1, 54000 + k, 53, 10); in[k] = VM1; }
                case 6 -> { mix[k] = Frames.icmpEcho(VM1, EXT1, 8, k); in[k] = VM1; }
                default -> { mix[k] = Frames.icmpEcho(EXT1, VM1, 0, k - 1); in[k] = EXT1; }
            }
        }
        for (int k = 0; k < 32; k += 8) handshake(EXT1, VM1, 50000 + k, 80);
        Burst b = new Burst(32);
        long[] addr = new long[32];
        for (int k = 0; k < 32; k++) addr[k] = frames.put(mix[k]);
        int rounds = 100_000;
        long allocated = allocatedBytes(10_000, rounds, r -> {
            if (r == 5_000) {
                try {
                    change(setting, HTTP_ANY + "        - { id: x, direction: ingress, protocol: udp, ports: 9 }\n");
                } catch (ConfigException e) {
                    throw new AssertionError(e);
                }
            }
            b.count = 32;
            for (int k = 0; k < 32; k++) b.reset(k, 0, addr[k], mix[k].length, in[k]);
            for (Stage s : stages) s.process(b);
        });
        System.out.println("firewall (" + setting + "): " + rounds + " bursts of 32 allocated " + allocated + " bytes; created " + fw.created());
        assertTrue(allocated < 64 * 1024, "allocated " + allocated + " bytes over " + rounds + " bursts");
        assertTrue(fw.hits("web/http") >= 4 && fw.drops(VM1, DropReason.FW_PLATFORM) > 0 && fw.drops(VM1, DropReason.FW_NO_RULE) > 0);
    }
}
