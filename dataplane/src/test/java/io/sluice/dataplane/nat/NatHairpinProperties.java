package io.sluice.dataplane.nat;

import io.sluice.dataplane.packet.Mem;
import io.sluice.dataplane.pipeline.DropReason;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static io.sluice.dataplane.nat.NatHarness.*;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * Hairpin through the whole pipeline against a plain model (QuickTheories): random connections from
 * job (outbound only) and web (floating IP 203.0.113.10) to the floating IPs of the host (web's, and
 * 203.0.113.11 nobody holds), to SSH (web's groups allow it) or another port. The model predicts each
 * packet's fate: delivered to web with the sender's public address as source — web's floating IP and
 * its own port, or the SNAT address and the port {@link ReferenceSnatPorts} (the allocator's twin)
 * gives job's internal port — or dropped ({@code NAT_NO_MAPPING} for the unheld address,
 * {@code FW_NO_RULE} for a port web's groups refuse). Every delivered SYN's answer from web comes back
 * to the sender as the exact inverse of what it sent (translate, turn around, un-translate = identity),
 * with valid checksums; nothing ever goes to the gateway.
 */
class NatHairpinProperties {
    record Conn(int sender, int port, int dst, int dport) {}

    @Test
    void hairpinEqualsTheModel() {
        qt().withExamples(60).withShrinkCycles(100)
                .forAll(lists().of(integers().all()).ofSizeBetween(1, 40))
                .checkAssert(NatHairpinProperties::run);
    }

    static void run(List<Integer> ops) {
        try (NatHarness h = new NatHarness(4, 2)) {
            ReferenceSnatPorts ref = new ReferenceSnatPorts(1, (65536 - SnatPorts.PORT_MIN) / 4, 4, 2);
            Set<Conn> seen = new HashSet<>();
            long d = h.frame(0);
            for (int x : ops) {
                boolean fromJob = (x & 1) != 0;
                Conn c = new Conn(fromJob ? JOB : WEB, 20000 + ((x >>> 1) & 15), (x & 0x20) != 0 && (x & 0x40) != 0 ? FIP2 : FIP,
                        (x & 0x180) == 0x180 ? 8080 : 22);
                if (!seen.add(c)) continue; // the same 5-tuple is the same connection
                int srcIp = fromJob ? JOB_IP : WEB_IP;
                long srcMac = fromJob ? JOB_MAC : WEB_MAC;
                // the model: the sender's public endpoint
                int pubAddr, pubPort;
                if (fromJob) {
                    ReferenceSnatPorts.External e = ref.acquire(1, 0, c.port);
                    if (e == null) {
                        expect(DropReason.NAT_EXHAUSTED, h.run(c.sender, tcp(d, ROUTER, srcMac, srcIp, c.dst, c.port, c.dport, 0x02, 1, 0, 0)), c);
                        continue;
                    }
                    pubAddr = SNAT;
                    pubPort = e.port();
                } else {
                    pubAddr = FIP;
                    pubPort = c.port;
                }
                int r = h.run(c.sender, tcp(d, ROUTER, srcMac, srcIp, c.dst, c.port, c.dport, 0x02, 1, 0, 0));
                if (c.dst == FIP2) {
                    expect(DropReason.NAT_NO_MAPPING, r, c);
                    continue;
                }
                if (c.dport != 22) {
                    expect(DropReason.FW_NO_RULE, r, c);
                    continue;
                }
                check(r == -1 && h.b.outPort[0] == WEB, c, "delivered to web: " + reason(r));
                check(Mem.i32(d + 26) == pubAddr && Mem.u16(d + 34) == pubPort, c, "source = the sender's public endpoint");
                check(Mem.i32(d + 30) == WEB_IP && Mem.u16(d + 36) == 22 && Mem.mac(d) == WEB_MAC, c, "destination = web, port 22");
                check(checksumsValid(d), c, "checksums on delivery");
                // web answers what it saw: the sender gets the inverse of its own packet
                r = h.run(WEB, tcp(d, ROUTER, WEB_MAC, WEB_IP, pubAddr, 22, pubPort, 0x12, 100, 2, 0));
                check(r == -1 && h.b.outPort[0] == c.sender, c, "the answer reaches the sender: " + reason(r));
                check(Mem.i32(d + 26) == FIP && Mem.u16(d + 34) == 22, c, "answer from the address the sender used");
                check(Mem.i32(d + 30) == srcIp && Mem.u16(d + 36) == c.port && Mem.mac(d) == srcMac, c, "answer to the sender's private endpoint");
                check(checksumsValid(d), c, "checksums on the answer");
            }
            check(h.nat.gatewayArpRequests == 0, null, "nothing went to the gateway");
            check(h.nat.ports.bindings() == ref.bindings(), null, "bindings " + h.nat.ports.bindings() + " vs model " + ref.bindings());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static void expect(DropReason want, int r, Conn c) {
        check(r == want.ordinal(), c, "expected " + want + ", got " + reason(r));
    }

    static void check(boolean ok, Conn c, String what) {
        if (!ok) throw new AssertionError(c + ": " + what);
    }
}
