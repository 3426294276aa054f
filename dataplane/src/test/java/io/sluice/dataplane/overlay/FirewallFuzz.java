package io.sluice.dataplane.overlay;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.dataplane.conntrack.Conntrack;
import io.sluice.dataplane.firewall.FirewallStage;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.nat.NatHarness;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

import static io.sluice.dataplane.overlay.Fixtures.*;

/**
 * Fuzzes the stateful firewall on its real path: any frame, arriving on a VM's port or on the
 * uplink (the first input byte picks which), through the real {@code ParseStage}, the overlay
 * stages and the firewall stage of host 1 with the security groups of {@link OverlayFirewallTest}
 * — so the firewall's packet readers run on arbitrary bytes in native memory: the conntrack key
 * (addresses, ports, TCP flags / sequence / window / options, ICMP id) and the header quoted in an
 * ICMP error. Connections are open before fuzzing (TCP b2 -> b1:80 handshake, UDP b2 -> b3), so inputs can hit live entries (the regression inputs include an in-window segment,
 * an ICMP error quoting the TCP flow, and a forged one). Invariants: no exception; every packet
 * ends CONTINUE, TX or DROP, a drop has a reason; data and length stay inside the buffer; nothing
 * is delivered into another network; the conntrack shard never holds more than its maximum.
 * Regression inputs in src/test/resources/io/sluice/dataplane/overlay/FirewallFuzzInputs/.
 */
class FirewallFuzz {
    private static final Arena ARENA = Arena.ofShared();
    private static final Buffers BUF = new Buffers(ARENA, 1);
    private static final Pipeline HOST1 = host();
    private static final Burst B = new Burst(1);
    private static final int[] PORTS = {UPLINK, 1, 2, 3, 4};

    /** Host 1 with the security groups and the connections open. */
    static Pipeline host() {
        try {
            FirewallState fw = new FirewallState(5, OverlayFirewallTest.parse(OverlayFirewallTest.SECTION));
            Pipeline h = new Pipeline(compile(host1Model(NEXT_HOP_MAC)), 1, fw, true);
            Burst b = new Burst(1);
            long d = BUF.frame(0);
            // TCP b2:40000 -> b1:80 (web allows http in): SYN, SYN/ACK, ACK
            open(h, b, 2, NatHarness.tcp(d, B1_MAC, B2_MAC, B2_IP, B1_IP, 40000, 80, 0x02, 1000, 0, 0));
            open(h, b, 1, NatHarness.tcp(d, B2_MAC, B1_MAC, B1_IP, B2_IP, 80, 40000, 0x12, 5000, 1001, 0));
            open(h, b, 2, NatHarness.tcp(d, B1_MAC, B2_MAC, B2_IP, B1_IP, 40000, 80, 0x10, 1001, 5001, 0));
            // UDP b2 -> b3 (both in blue's default group; b3 in another subnet: through the router)
            open(h, b, 2, udp4(b, 0, d, 2, ROUTER, B2_MAC, B2_IP, B3_IP, 64, 16));
            return h;
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static Conntrack conntrack(Pipeline h) {
        for (Stage s : h.stages) if (s instanceof FirewallStage f) return f.conntrack();
        throw new IllegalStateException("no firewall stage");
    }

    /** Runs a frame already at frame(0) through host 1; it must pass (setup). */
    private static void open(Pipeline h, Burst b, int port, int len) {
        b.reset(0, 0, BUF.frame(0), len, port);
        b.count = 1;
        h.run(b);
        if (b.next[0] != Next.TX) throw new IllegalStateException("setup frame on port " + port + " not sent: " + b.dropReason[0]);
    }

    /** The kept inputs reach the conntrack paths they are named after (so the fuzzer starts from them). */
    @Test
    void keptInputsReachTheConntrackPaths() throws Exception {
        Pipeline h = host(); // its own host: the fuzzing before may have closed the static one's flows
        assertEquals(-1, replay(h, "tcp-reply-data-in-window"), "reply segment of the open flow passes");
        assertEquals(-1, replay(h, "icmp-error-quoting-the-tcp-flow"), "RELATED error passes");
        assertEquals(-1, replay(h, "tcp-syn-on-open-connection"), "SYN on an open connection passes unchanged");
        assertEquals(DropReason.FW_INVALID.ordinal(), replay(h, "icmp-error-forged"));
        assertEquals(-1, replay(h, "icmp-error-quote-without-sequence"), "a quote with the ports (IP + 4 bytes) is enough");
        assertEquals(DropReason.FW_INVALID.ordinal(), replay(h, "icmp-error-quote-cut-in-the-ports"));
        assertEquals(DropReason.FW_INVALID.ordinal(), replay(h, "tcp-rst-out-of-window"));
        assertEquals(DropReason.FW_INVALID.ordinal(), replay(h, "tcp-rst-urg"));
        assertEquals(-1, replay(h, "udp-reply"), "UDP reply passes");
    }

    private int replay(Pipeline h, String name) throws Exception {
        byte[] in;
        try (var s = FirewallFuzz.class.getResourceAsStream("FirewallFuzzInputs/fuzzFirewall/" + name)) {
            in = s.readAllBytes();
        }
        run(h, in);
        return B.next[0] == Next.TX ? -1 : B.dropReason[0];
    }

    @FuzzTest(maxDuration = "30s")
    void fuzzFirewall(byte[] input) {
        run(HOST1, input);
    }

    private static void run(Pipeline host, byte[] input) {
        if (input.length < 1) return;
        int port = PORTS[(input[0] & 0xFF) % PORTS.length];
        int len = Math.min(input.length - 1, Buffers.SLOT - Buffers.HEADROOM - 256);
        long d = BUF.frame(0);
        MemorySegment.copy(input, 1, Mem.ALL, ValueLayout.JAVA_BYTE, d, len);
        B.reset(0, 0, d, len, port);
        B.count = 1;
        host.run(B);
        VxlanDecapFuzz.checkEnd(host, B, d);
        Conntrack ct = conntrack(host);
        if (ct.size() > ct.maxEntries()) throw new IllegalStateException("conntrack holds " + ct.size() + " > " + ct.maxEntries());
    }
}
