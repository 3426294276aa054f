package io.sluice.dataplane.debug;

import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.FirewallConfig;
import io.sluice.dataplane.firewall.FirewallExplain;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.overlay.AntiSpoofStage;
import io.sluice.dataplane.overlay.OverlayMeta;
import io.sluice.dataplane.overlay.OverlayPipeline;
import io.sluice.dataplane.overlay.OverlaySnapshot;
import io.sluice.dataplane.overlay.OverlayState;
import io.sluice.dataplane.overlay.RouteStage;
import io.sluice.dataplane.pipeline.Burst;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.stage.ParseStage;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpPrefix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ./sluice explain}: what the data plane would do with a packet that was never sent, as
 * OVS's {@code ofproto/trace} does. The packet is built in scratch memory and run through the
 * overlay's own stages — parse, anti-spoof, route — made for this request on the <i>current</i>
 * snapshot (their per-worker meta and NAT counters are scratch copies, so no live counter moves),
 * then through the firewall's admission lookups on the current snapshot
 * ({@link FirewallExplain}): the first packet of a new connection. No conntrack entry is read or
 * made, nothing is counted. The last line is the verdict: {@code ALLOW by RULE} or
 * {@code DROP reason (why)}. Admin thread (allocates).
 */
public final class Explain {
    /**
     * @param vm        {@code network/vm} (overlay) or the VM port's name (security groups without an overlay)
     * @param to        destination IPv4 (direction out); with direction in, defaults to the VM's address
     * @param from      source IPv4: direction in, the remote end (required); direction out, overrides
     *                  the VM's own address (to ask about spoofing)
     * @param proto     tcp, udp or icmp
     * @param sport     source port (ICMP: type, default 8 echo request)
     * @param dport     destination port (ICMP: code)
     * @param inbound   true: towards the VM ({@code --direction in}); false: from it (default)
     */
    public record Request(String vm, String to, String from, String proto, int sport, int dport, boolean inbound) {}

    private final List<String> ports;
    private final OverlayState overlay;
    private final FirewallState firewall;

    public Explain(List<String> ports, OverlayPipeline overlay, FirewallState firewall) {
        this.ports = ports;
        this.overlay = overlay == null ? null : overlay.state();
        this.firewall = firewall;
    }

    /** The explanation, one line per step, the verdict last. @throws IllegalArgumentException on a bad request */
    public List<String> explain(Request r) {
        int proto = switch (r.proto() == null ? "tcp" : r.proto().toLowerCase()) {
            case "tcp" -> 6;
            case "udp" -> 17;
            case "icmp" -> 1;
            default -> throw new IllegalArgumentException("--proto: tcp, udp or icmp, not '" + r.proto() + "'");
        };
        return overlay != null ? overlayExplain(r, proto) : firewallOnly(r, proto);
    }

    // ---------------------------------------------------------------- overlay

    private List<String> overlayExplain(Request r, int proto) {
        OverlaySnapshot s = overlay.current();
        int vm = vmIndex(s, r.vm());
        List<String> out = new ArrayList<>();
        int srcVm, src, dst;
        if (!r.inbound()) {
            if (r.to() == null) throw new IllegalArgumentException("--to ADDRESS is needed (direction out)");
            srcVm = vm;
            src = r.from() != null ? ip4(r.from(), "--from") : s.vmIp4[vm];
            dst = ip4(r.to(), "--to");
        } else {
            if (r.from() == null) throw new IllegalArgumentException("--from ADDRESS is needed with --direction in");
            src = ip4(r.from(), "--from");
            dst = r.to() != null ? ip4(r.to(), "--to") : s.vmIp4[vm];
            srcVm = s.vmByIp4(s.vmZone[vm], src);
            if (srcVm >= 0 && s.vmPort[srcVm] < 0) srcVm = -1;
        }
        String what = protoText(proto) + " " + ConfigLoader.formatIpv4(src) + portText(proto, r.sport()) + " > " + ConfigLoader.formatIpv4(dst) + portText(proto, r.dport());
        if (srcVm < 0) {
            // from outside this host: the VM's ingress rules decide (decap / NAT in are not simulated)
            int port = s.vmPort[vm];
            if (port < 0) throw new IllegalArgumentException(r.vm() + " is a remote VM (its host explains its packets)");
            out.add("explain: " + what + ", arriving for " + s.vmName[vm] + " (port " + port(port) + ") from outside this host");
            out.add("  network:    " + s.zoneName[s.vmZone[vm]] + " (vni " + s.zoneVni[s.vmZone[vm]] + ")");
            out.add("  route:      from the uplink (VXLAN) or the external network: decapsulation/NAT not simulated; delivered to port " + port(port));
            return firewallStep(out, -1, port, proto, src, dst, r);
        }
        int inPort = s.vmPort[srcVm];
        if (inPort < 0) throw new IllegalArgumentException(r.vm() + " is a remote VM (its host explains its packets)");
        int zone = s.vmZone[srcVm];
        out.add("explain: " + what + ", sent by " + s.vmName[srcVm] + " (port " + port(inPort) + ")");
        out.add("  network:    " + s.zoneName[zone] + " (vni " + s.zoneVni[zone] + "), zone " + zone);
        int dvm = s.vmByIp4(zone, dst);
        long dstMac = dvm >= 0 && s.vmSubnet[dvm] == s.vmSubnet[srcVm] ? s.vmMac[dvm] : s.routerMac;
        byte[] frame = frame(s.vmMac[srcVm], dstMac, src, dst, proto, r.sport(), r.dport());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(2048, 64);
            MemorySegment.copy(frame, 0, seg, ValueLayout.JAVA_BYTE, 128, frame.length);
            Burst b = new Burst(1);
            b.reset(0, 0, seg.address() + 128, frame.length, inPort);
            b.count = 1;
            OverlayMeta meta = new OverlayMeta(1);
            meta.reset(0);
            io.sluice.dataplane.nat.NatState nat = s.hasExternal() && firewall != null ? new io.sluice.dataplane.nat.NatState(s, null) : null;
            Stage[] stages = {new ParseStage(), new OverlayPipeline.Clock(meta), new AntiSpoofStage(overlay, meta), new RouteStage(overlay, meta, nat)};
            for (Stage st : stages) {
                st.process(b);
                if (b.next[0] == Next.DROP) {
                    DropReason d = DropReason.of(b.dropReason[0]);
                    out.add("  " + String.format("%-11s", st.name() + ":") + " DROP " + d.name().toLowerCase());
                    out.add("DROP " + d.name().toLowerCase() + " (" + d.description() + ")");
                    return out;
                }
                if (st instanceof AntiSpoofStage) out.add("  anti-spoof: ok (source MAC and IP are " + s.vmName[srcVm] + "'s)");
            }
            int outPort = b.outPort[0];
            if (b.next[0] == Next.TX) {
                int to = s.vmOfPort(outPort);
                if (outPort == s.extPort) {
                    out.add("  route:      leaves the project by the external port " + port(outPort));
                } else {
                    out.add("  route:      to " + (to >= 0 ? s.vmName[to] : "?") + " on port " + port(outPort)
                            + (dstMac == s.routerMac ? " (routed by the gateway)" : " (same subnet)"));
                }
            } else if (meta.encapVtep[0] != 0) {
                out.add("  route:      to " + (dvm >= 0 ? s.vmName[dvm] : "?") + " behind VTEP " + ConfigLoader.formatIpv4(meta.encapVtep[0])
                        + " (VXLAN vni " + s.zoneVni[zone] + " on the uplink " + port(outPort) + ")");
            } else {
                out.add("  route:      no decision (drop overlay_not_overlay)");
                out.add("DROP overlay_not_overlay (" + DropReason.OVERLAY_NOT_OVERLAY.description() + ")");
                return out;
            }
            firewallStep(out, inPort, outPort, proto, src, dst, r);
            String verdict = out.remove(out.size() - 1);
            if (verdict.startsWith("ALLOW") && outPort == s.extPort && s.extPort >= 0) {
                int fip = s.vmFip[srcVm];
                out.add("  nat:        source " + ConfigLoader.formatIpv4(src) + (fip >= 0 ? " becomes floating IP " + ConfigLoader.formatIpv4(s.fipAddr[fip])
                        : " becomes a SNAT address " + snat(s) + " with a port from the VM's block"));
            }
            out.add(verdict);
            return out;
        }
    }

    private static String snat(OverlaySnapshot s) {
        List<String> a = new ArrayList<>();
        for (int x : s.snatAddr) a.add(ConfigLoader.formatIpv4(x));
        return String.join("/", a);
    }

    private List<String> firewallStep(List<String> out, int in, int outPort, int proto, int src, int dst, Request r) {
        if (firewall == null) {
            out.add("  firewall:   none (no security-groups section)");
            out.add("ALLOW (no security groups)");
            return out;
        }
        int sp = proto == 1 ? icmpType(r) : r.sport();
        int dp = proto == 1 ? 0 : r.dport();
        FirewallExplain.Result f = FirewallExplain.decide(firewall, in, outPort, 4, proto, 0, src & 0xFFFF_FFFFL, 0, dst & 0xFFFF_FFFFL, sp, dp);
        if (!f.firewalled()) {
            out.add("  firewall:   not firewalled (neither end is a VM port)");
            out.add("ALLOW (not firewalled)");
            return out;
        }
        out.add("  conntrack:  zone " + f.zone() + "; evaluated as the first packet of a new connection (state new; nothing looked up or made)");
        if (f.egressRule() != null) out.add("  egress:     " + port(in) + ": allowed by " + f.egressRule());
        if (f.ingressRule() != null) out.add("  ingress:    " + port(outPort) + ": allowed by " + f.ingressRule());
        if (f.allowed()) {
            String main = f.ingressRule() != null ? f.ingressRule() : f.egressRule();
            String more = f.ingressRule() != null && f.egressRule() != null ? " (egress: " + f.egressRule() + ")" : "";
            out.add("ALLOW by " + main + more);
            return out;
        }
        String pt = protoText(proto) + "/" + (proto == 1 ? sp : dp);
        String why;
        if (f.drop() == DropReason.FW_PLATFORM) {
            why = "the platform layer denies " + pt + (f.direction() == Direction.EGRESS ? " out of " : " into ") + port(f.decidingPort());
        } else if (f.direction() == Direction.INGRESS) {
            why = "no rule in " + f.groups() + " allows " + pt + " from " + ConfigLoader.formatIpv4(src);
        } else {
            why = "no egress rule in " + f.groups() + " allows " + pt + " to " + ConfigLoader.formatIpv4(dst);
        }
        out.add("  " + (f.direction() == Direction.EGRESS ? "egress:     " : "ingress:    ") + port(f.decidingPort()) + ": " + why);
        out.add("DROP " + f.drop().name().toLowerCase() + " (" + why + ")");
        return out;
    }

    // ---------------------------------------------------------------- security groups without an overlay

    private List<String> firewallOnly(Request r, int proto) {
        if (firewall == null) throw new IllegalArgumentException("explain needs an overlay or security groups in the configuration");
        FirewallConfig cfg = firewall.config();
        FirewallConfig.VmPort vm = cfg.vmPorts().stream().filter(v -> v.name().equals(r.vm()) && v.port() >= 0).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no VM port '" + r.vm() + "' (VM ports: "
                        + cfg.vmPorts().stream().map(FirewallConfig.VmPort::name).toList() + ")"));
        int own = vm.addresses().stream().filter(p -> p.family() == io.sluice.rules.model.IpFamily.V4).map(p -> (int) p.lo()).findFirst().orElse(0);
        int src, dst, in, outPort;
        if (!r.inbound()) {
            if (r.to() == null) throw new IllegalArgumentException("--to ADDRESS is needed (direction out)");
            src = r.from() != null ? ip4(r.from(), "--from") : own;
            dst = ip4(r.to(), "--to");
            in = vm.port();
            outPort = owner(cfg, dst);
        } else {
            if (r.from() == null) throw new IllegalArgumentException("--from ADDRESS is needed with --direction in");
            src = ip4(r.from(), "--from");
            dst = r.to() != null ? ip4(r.to(), "--to") : own;
            in = owner(cfg, src);
            outPort = vm.port();
        }
        List<String> out = new ArrayList<>();
        out.add("explain: " + protoText(proto) + " " + ConfigLoader.formatIpv4(src) + portText(proto, r.sport()) + " > " + ConfigLoader.formatIpv4(dst)
                + portText(proto, r.dport()) + ", from port " + port(in) + " to port " + port(outPort) + " (L2 forwarding not simulated)");
        return firewallStep(out, in, outPort, proto, src, dst, r);
    }

    private static int owner(FirewallConfig cfg, int addr) {
        for (FirewallConfig.VmPort v : cfg.vmPorts()) {
            for (IpPrefix p : v.addresses()) if (p.family() == io.sluice.rules.model.IpFamily.V4 && (int) p.lo() == addr && v.port() >= 0) return v.port();
        }
        return -1;
    }

    // ---------------------------------------------------------------- helpers

    private static int vmIndex(OverlaySnapshot s, String name) {
        if (name == null) throw new IllegalArgumentException("--vm NETWORK/VM is needed");
        for (int v = 0; v < s.vmName.length; v++) if (s.vmName[v].equals(name)) return v;
        throw new IllegalArgumentException("no VM '" + name + "' (VMs: " + String.join(", ", s.vmName) + ")");
    }

    /** The port index of an overlay VM named network/vm, or -1. */
    static int vmPort(OverlayState st, String name) {
        OverlaySnapshot s = st.current();
        return s.vmPort[vmIndex(s, name)];
    }

    private String port(int p) { return p < 0 ? "(none)" : p < ports.size() ? ports.get(p) : "port " + p; }

    private static int icmpType(Request r) { return r.sport() >= 0 ? r.sport() : 8; }

    private static String protoText(int proto) { return proto == 6 ? "tcp" : proto == 17 ? "udp" : "icmp"; }

    private static String portText(int proto, int p) { return proto == 1 ? "" : ":" + p; }

    static int ip4(String s, String what) {
        long v = ConfigLoader.parseIpv4(s);
        if (v < 0) throw new IllegalArgumentException(what + ": an IPv4 address A.B.C.D, not '" + s + "'");
        return (int) v;
    }

    /** Ethernet + IPv4 (ttl 64) + a TCP SYN / UDP datagram / ICMP echo request (8 payload bytes), checksums set. */
    static byte[] frame(long srcMac, long dstMac, int src, int dst, int proto, int sport, int dport) {
        int l4 = proto == 6 ? 20 : 8;
        int pay = proto == 6 ? 0 : 8;
        byte[] f = new byte[14 + 20 + l4 + pay];
        put48(f, 0, dstMac);
        put48(f, 6, srcMac);
        put16(f, 12, 0x0800);
        int ipLen = 20 + l4 + pay;
        f[14] = 0x45;
        put16(f, 16, ipLen);
        put16(f, 18, 0x1234);
        put16(f, 20, 0x4000);
        f[22] = 64;
        f[23] = (byte) proto;
        put32(f, 26, src);
        put32(f, 30, dst);
        put16(f, 24, csum(f, 14, 20, 0));
        int o = 34;
        if (proto == 6) {
            put16(f, o, sport);
            put16(f, o + 2, dport);
            put32(f, o + 4, 0x1000_0000);
            f[o + 12] = 0x50;
            f[o + 13] = 0x02;
            put16(f, o + 14, 64240);
        } else if (proto == 17) {
            put16(f, o, sport);
            put16(f, o + 2, dport);
            put16(f, o + 4, 8 + pay);
        } else {
            f[o] = (byte) (sport >= 0 ? sport : 8);
            f[o + 1] = (byte) Math.max(0, dport);
            put16(f, o + 4, 0x5c01);
            put16(f, o + 6, 1);
            put16(f, o + 2, csum(f, o, 8 + pay, 0));
        }
        if (proto == 6 || proto == 17) {
            long pseudo = (src >>> 16) + (src & 0xFFFF) + (dst >>> 16) + (dst & 0xFFFF) + proto + l4 + pay;
            int c = csum(f, o, l4 + pay, pseudo);
            put16(f, o + (proto == 6 ? 16 : 6), proto == 17 && c == 0 ? 0xFFFF : c);
        }
        return f;
    }

    private static int csum(byte[] f, int o, int len, long sum) {
        for (int k = 0; k + 1 < len; k += 2) sum += ((f[o + k] & 0xFF) << 8) | (f[o + k + 1] & 0xFF);
        if ((len & 1) != 0) sum += (f[o + len - 1] & 0xFF) << 8;
        while ((sum >>> 16) != 0) sum = (sum & 0xFFFF) + (sum >>> 16);
        return (int) (~sum & 0xFFFF);
    }

    private static void put16(byte[] b, int o, int v) { b[o] = (byte) (v >>> 8); b[o + 1] = (byte) v; }

    private static void put32(byte[] b, int o, int v) { put16(b, o, v >>> 16); put16(b, o + 2, v); }

    private static void put48(byte[] b, int o, long v) { put16(b, o, (int) (v >>> 32)); put32(b, o + 2, (int) v); }

}
