package io.sluice.rules.reference;

import io.sluice.rules.model.CloudConfig;
import io.sluice.rules.model.Direction;
import io.sluice.rules.model.IpFamily;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.Protocols;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.SgRule;
import io.sluice.rules.model.VmInterface;

/**
 * The security-group oracle: evaluates the model objects directly, rule by rule, with no
 * expansion or compilation. Platform denies first; then the first tenant rule that matches
 * allows; otherwise deny.
 */
public final class ReferenceSecurityGroups {
    private ReferenceSecurityGroups() {}

    /**
     * The decision for a packet.
     *
     * @param allowed verdict
     * @param ruleId deciding rule id, or {@code null} for the default deny
     */
    public record Decision(boolean allowed, String ruleId) {}

    /**
     * Evaluates a packet of {@code iface}; {@code remoteHi/remoteLo} is the far side's address
     * (source on ingress, destination on egress; IPv4 in the low 32 bits of remoteLo).
     */
    public static Decision evaluate(CloudConfig cfg, String iface, Direction dir, IpFamily f, int proto,
                                    long remoteHi, long remoteLo, int sport, int dport) {
        for (SgRule r : cfg.platform().denies()) {
            if (cfg.platform().applies(r, iface) && matches(cfg, r, dir, f, proto, remoteHi, remoteLo, sport, dport)) {
                return new Decision(false, r.id());
            }
        }
        VmInterface vm = cfg.interfaces().get(iface);
        for (String gid : vm.groups()) {
            SecurityGroup g = cfg.groups().get(gid);
            for (SgRule r : g.rules()) {
                if (matches(cfg, r, dir, f, proto, remoteHi, remoteLo, sport, dport)) return new Decision(true, r.id());
            }
        }
        return new Decision(false, null);
    }

    private static boolean matches(CloudConfig cfg, SgRule r, Direction dir, IpFamily f, int proto,
                                   long rh, long rl, int sport, int dport) {
        if (r.direction() != dir || !r.appliesTo(f)) return false;
        if (r.protocol() != Protocols.ANY && r.protocol() != proto) return false;
        if (Protocols.hasPorts(r.protocol()) && (r.portMin() != 0 || r.portMax() != 0)) {
            if (dport < r.portMin() || dport > r.portMax()) return false;
        }
        if (Protocols.isIcmp(r.protocol()) && r.icmpType() >= 0) {
            if (sport != r.icmpType()) return false;
            if (r.icmpCode() >= 0 && dport != r.icmpCode()) return false;
        }
        if (r.remoteCidr() != null) return r.remoteCidr().contains(rh, rl);
        if (r.remoteGroup() != null) {
            for (IpPrefix m : cfg.members(r.remoteGroup(), f)) if (m.contains(rh, rl)) return true;
            return false;
        }
        return true;
    }
}
