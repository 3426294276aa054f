package io.sluice.dataplane.nat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.sluice.dataplane.overlay.OverlaySnapshot;
import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.Next;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.sluice.dataplane.nat.NatHarness.*;

/**
 * Fuzzes NAT'd traffic through every stage (the real parser, external in, route, firewall with the
 * NAT hook, external out): the first byte picks where the frame arrives (the external port — the
 * internet, answers to our SNAT'd and floating-IP flows, ICMP errors about them, fragments, ARP —
 * or one of the VMs' ports), the rest is the frame. Flows are open before fuzzing (gateway learned,
 * job's UDP and ping through SNAT, web's UDP through its floating IP), so established paths are
 * reachable. Invariants: no exception; every packet ends TX or DROP with a reason; the frame stays
 * inside its buffer; nothing leaves by the external port with a source address this host does not
 * own (a private address never leaks; IPv6 only from our link-local or a public VM's own address) or
 * from another MAC than the external one; what comes in from the external port goes only to a VM's
 * port, addressed to that VM (IPv4 or IPv6); a packet turned around to a VM (hairpin, source one of
 * our addresses) is addressed to that VM. Open before fuzzing also: a hairpin connection (job to web's
 * floating IP) and IPv6 flows to the outside (gateway6 learned). Regression inputs in
 * src/test/resources/io/sluice/dataplane/nat/NatFuzzInputs/.
 */
class NatFuzz {
    private static final NatHarness H;
    private static final int[] PORTS = {EXT, EXT, EXT, JOB, WEB, VAULT};

    static {
        try {
            H = new NatHarness(8, 2);
            H.run(EXT, arp(H.frame(0), EXT_MAC, GW_MAC, 2, GW_MAC, GW, EXT_MAC, SNAT));
            H.run(JOB, udp(H.frame(0), ROUTER, JOB_MAC, JOB_IP, SERVER, 5000, 53, 32, false));
            H.run(JOB, echo(H.frame(0), ROUTER, JOB_MAC, JOB_IP, SERVER, 8, 99, 1));
            H.run(WEB, udp(H.frame(0), ROUTER, WEB_MAC, WEB_IP, SERVER, 7000, 53, 32, false));
            // hairpin (job -> web's floating IP :22) and IPv6 to the outside (gateway6 learned; job's and web's flows)
            H.run(JOB, tcp(H.frame(0), ROUTER, JOB_MAC, JOB_IP, FIP, 41000, 22, 0x02, 1, 0, 0));
            OverlaySnapshot s0 = H.pipeline.state().current();
            H.run(EXT, nd(H.frame(0), EXT_MAC, GW6_MAC, GW6, new long[] {s0.extLl6Hi, s0.extLl6Lo}, 136, GW6));
            H.run(JOB, tcp6(H.frame(0), ROUTER, JOB_MAC, JOB6, SERVER6, 42000, 80, 0x02, 1, 0));
            H.run(WEB, tcp6(H.frame(0), ROUTER, WEB_MAC, WEB6, SERVER6, 43000, 443, 0x02, 1, 0));
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void fuzzNat(byte[] input) {
        if (input.length < 1) return;
        int port = PORTS[(input[0] & 0xFF) % PORTS.length];
        int len = Math.min(input.length - 1, 2048);
        long d = H.frame(0);
        MemorySegment.copy(input, 1, Mem.ALL, ValueLayout.JAVA_BYTE, d, len);
        H.b.reset(0, 0, d, len, port);
        H.b.count = 1;
        for (var s : H.stages) s.process(H.b);
        byte next = H.b.next[0];
        if (next != Next.TX && next != Next.DROP) throw new IllegalStateException("next = " + next);
        if (next == Next.DROP && H.b.dropReason[0] == 0) throw new IllegalStateException("drop without a reason");
        long o = H.b.data[0];
        if (o < d - 256 || H.b.length[0] < 0 || o + H.b.length[0] > d + 4096 - 256) throw new IllegalStateException("frame outside its buffer");
        if (next != Next.TX) return;
        OverlaySnapshot s = H.pipeline.state().current();
        int out = H.b.outPort[0];
        if (out == EXT) {
            if (Mem.mac(o + 6) != EXT_MAC) throw new IllegalStateException("left with source MAC " + Long.toHexString(Mem.mac(o + 6)));
            int et = Mem.u16(o + 12);
            if (et == 0x0800 && s.owned(Mem.i32(o + 26)) < 0) {
                throw new IllegalStateException("left with a source address we do not own: " + Integer.toHexString(Mem.i32(o + 26)));
            }
            if (et == 0x86DD) { // IPv6 leaves from our link-local address (ND) or a public VM's own global address
                long hi = Mem.i64(o + 22), lo = Mem.i64(o + 30);
                int vm = s.localVmByIp6(hi, lo);
                boolean ll = hi == s.extLl6Hi && lo == s.extLl6Lo;
                if (!ll && (vm < 0 || s.vmAccess[vm] == 0)) throw new IllegalStateException("IPv6 left from an address that is not public here");
            } else if (et != 0x0800 && et != 0x0806) {
                throw new IllegalStateException("left by the external port: EtherType " + et);
            }
        } else if (port == EXT) {
            int vm = s.vmOfPort(out);
            int et = Mem.u16(o + 12);
            boolean to4 = et == 0x0800 && vm >= 0 && Mem.i32(o + 14 + 16) == s.vmIp4[vm];
            boolean to6 = et == 0x86DD && vm >= 0 && s.vmHas6[vm] && Mem.i64(o + 38) == s.vmIp6Hi[vm] && Mem.i64(o + 46) == s.vmIp6Lo[vm];
            if (!(to4 || to6) || Mem.mac(o) != s.vmMac[vm]) {
                throw new IllegalStateException("inbound to port " + out + " not an untagged IP frame addressed to its VM");
            }
        } else if (Mem.u16(o + 12) == 0x0800 && s.owned(Mem.i32(o + 26)) >= 0) {
            // hairpin: turned around to a VM, from one of our addresses: it must be addressed to that VM
            int vm = s.vmOfPort(out);
            if (vm < 0 || Mem.i32(o + 30) != s.vmIp4[vm] || Mem.mac(o) != s.vmMac[vm]) {
                throw new IllegalStateException("hairpin to port " + out + " not addressed to its VM");
            }
        }
    }
}
