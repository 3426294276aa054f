package io.sluice.dataplane.debug;

import io.sluice.dataplane.conntrack.Verdict;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.overlay.OverlaySnapshot;
import io.sluice.dataplane.overlay.OverlayState;
import io.sluice.dataplane.pipeline.DropReason;
import io.sluice.dataplane.pipeline.Next;
import org.agrona.DirectBuffer;

import java.util.ArrayList;
import java.util.List;

/**
 * One traced packet, read back from a worker's ring ({@link TapWorker} wrote it), and its text:
 * headers as received, network and VNI, then every stage with the packet's state after it (and
 * what a {@link io.sluice.dataplane.pipeline.Traced} stage recorded: conntrack state, the rule that
 * allowed it), the NAT translation when the addresses changed, and the fate. Admin thread.
 */
public record TraceRecord(long nanos, int worker, int inPort, int outPort, int next, int reason,
                          int origLen, byte[] in, int finalLen, byte[] out, int[] stepWord, int[] stepOut,
                          long[] stepDetail, boolean received) {

    /** What the text needs from the running data plane (any may be null). */
    public record Names(List<String> ports, Tap tap, FirewallState firewall, OverlayState overlay) {
        String port(int p) { return p >= 0 && ports != null && p < ports.size() ? ports.get(p) : "port " + p; }
    }

    static TraceRecord read(DirectBuffer b, int idx) {
        int inL = b.getInt(idx + 28), outL = b.getInt(idx + 36), n = b.getInt(idx + 40);
        byte[] in = new byte[inL], out = new byte[outL];
        b.getBytes(idx + TapWorker.TRACE_HEADER, in);
        b.getBytes(idx + TapWorker.TRACE_HEADER + inL, out);
        int[] w = new int[n], o = new int[n];
        long[] d = new long[n];
        int at = idx + TapWorker.TRACE_HEADER + inL + outL;
        for (int s = 0; s < n; s++, at += TapWorker.STEP_BYTES) {
            w[s] = b.getInt(at);
            o[s] = b.getInt(at + 4);
            d[s] = b.getLong(at + 8);
        }
        int fate = b.getInt(idx + 20);
        return new TraceRecord(b.getLong(idx), b.getInt(idx + 8), b.getInt(idx + 12), b.getInt(idx + 16),
                fate & 0xFF, (fate >>> 8) & 0xFF, b.getInt(idx + 24), in, b.getInt(idx + 32), out, w, o, d,
                b.getInt(idx + 44) != 0);
    }

    /** The fate in one word: {@code tx PORT} or {@code drop reason_name}. */
    public String fate(Names names) {
        if (next == Next.TX) return "tx " + names.port(outPort);
        if (next == Next.DROP) return "drop " + DropReason.of(reason).name().toLowerCase();
        if (next == Next.CONSUMED) return "handed to another worker";
        return "drop no_verdict";
    }

    /** The rule ids that allowed the packet (from the firewall's detail), empty when none recorded. */
    public List<String> allowingRules(Names names) {
        List<String> r = new ArrayList<>();
        for (long d : stepDetail) {
            int eg = (int) ((d >>> 4) & 0xFF_FFFF), ig = (int) ((d >>> 28) & 0xFF_FFFF);
            if (names.firewall() != null) {
                if (eg > 0) r.add(names.firewall().ruleName(eg - 1));
                if (ig > 0) r.add(names.firewall().ruleName(ig - 1));
            }
        }
        return r;
    }

    public List<String> lines(int number, Names names) {
        List<String> l = new ArrayList<>();
        l.add("trace " + number + ": worker " + worker + ", " + (received ? "received on " : "handed over from ")
                + names.port(inPort) + ", " + origLen + " bytes");
        l.add("  headers: " + FrameText.describe(in, in.length));
        OverlayState os = names.overlay();
        if (os != null) {
            OverlaySnapshot s = os.current();
            FrameText.Endpoints e = FrameText.endpoints(in, in.length);
            int vm = s.vmOfPort(inPort);
            if (vm >= 0) {
                int z = s.vmZone[vm];
                l.add("  network: " + s.zoneName[z] + " (vni " + s.zoneVni[z] + "), from VM port of " + s.vmName[vm]);
            } else if (e != null && e.vni() >= 0) {
                int z = s.zoneOfVni(e.vni());
                l.add("  network: " + (z > 0 ? s.zoneName[z] : "unknown") + " (vni " + e.vni() + "), from the uplink");
            }
        }
        int prevNext = Next.CONTINUE, prevOut = -1;
        for (int k = 0; k < stepWord.length; k++) {
            int w = stepWord[k];
            int stage = w & 0xFF, nx = (w >>> 8) & 0xFF, rs = (w >>> 16) & 0xFF;
            long d = stepDetail[k];
            boolean changed = nx != prevNext || stepOut[k] != prevOut || d != 0;
            boolean decidedBefore = prevNext == Next.DROP || prevNext == Next.CONSUMED;
            String name = names.tap() != null ? names.tap().stageName(worker, stage) : "stage " + stage;
            if (decidedBefore && !changed) continue;
            StringBuilder sb = new StringBuilder("  ").append(String.format("%-17s", name + ":"));
            sb.append(state(nx, rs, stepOut[k], names));
            if (name.equals("anti-spoof") && nx != Next.DROP) sb.append("; source MAC/IP are the sending VM's");
            if (d != 0) {
                sb.append("; ").append(firewallDetail(d, names));
                if (names.firewall() != null) {
                    int z = names.firewall().current().flowZone(inPort, stepOut[k]);
                    if (z >= 0) sb.append(", zone ").append(z);
                }
            }
            if (nx == Next.DROP && (rs == DropReason.FW_NO_RULE.ordinal())) sb.append(" (no security-group rule allows it)");
            l.add(sb.toString());
            prevNext = nx;
            prevOut = stepOut[k];
        }
        FrameText.Endpoints a = FrameText.endpoints(in, in.length), b = FrameText.endpoints(out, out.length);
        if (a != null && b != null && (!a.src().equals(b.src()) || !a.dst().equals(b.dst()) || a.sport() != b.sport() || a.dport() != b.dport())) {
            l.add("  nat:             " + a.src() + ":" + a.sport() + " > " + a.dst() + ":" + a.dport() + "  became  "
                    + b.src() + ":" + b.sport() + " > " + b.dst() + ":" + b.dport());
        }
        if (next == Next.TX) l.add("  sent as:         " + FrameText.describe(out, out.length) + (finalLen != origLen ? " (" + finalLen + " bytes)" : ""));
        l.add("  fate: " + fate(names) + (next == Next.DROP ? " (" + DropReason.of(reason).description() + ")" : ""));
        return l;
    }

    private static String state(int nx, int rs, int out, Names names) {
        if (nx == Next.TX) return "tx " + names.port(out);
        if (nx == Next.DROP) return "DROP " + DropReason.of(rs).name().toLowerCase();
        if (nx == Next.CONSUMED) return "handed to the worker owning the flow";
        return out >= 0 ? "continue (out " + names.port(out) + ")" : "continue";
    }

    static String firewallDetail(long d, Names names) {
        int ct = (int) (d & 0xF);
        int eg = (int) ((d >>> 4) & 0xFF_FFFF), ig = (int) ((d >>> 28) & 0xFF_FFFF);
        StringBuilder sb = new StringBuilder("conntrack ");
        sb.append(ct == 0 ? "not tracked" : Verdict.values()[ct - 1].name().toLowerCase());
        FirewallState fw = names.firewall();
        if (eg > 0) sb.append(", egress allowed by ").append(fw != null ? fw.ruleName(eg - 1) : "#" + (eg - 1));
        if (ig > 0) sb.append(", ingress allowed by ").append(fw != null ? fw.ruleName(ig - 1) : "#" + (ig - 1));
        return sb.toString();
    }
}
