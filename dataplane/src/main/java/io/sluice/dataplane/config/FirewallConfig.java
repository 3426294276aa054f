package io.sluice.dataplane.config;

import io.sluice.rules.model.CloudConfig;
import io.sluice.rules.model.IpPrefix;
import io.sluice.rules.model.PlatformLayer;
import io.sluice.rules.model.SecurityGroup;
import io.sluice.rules.model.VmInterface;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code security-groups:} section of the configuration, validated (see
 * {@link FirewallConfigLoader}). Immutable. Port indices refer to the data plane's ports.
 *
 * @param groups     security groups by name (the rules compiler's model), incl. "default"
 * @param cutGroups  per group: true when established connections a rule change no longer
 *                   allows are cut ({@code on-rule-change: cut}); false = kept (default)
 * @param vmPorts    VM ports with their addresses, groups and conntrack zone
 * @param platform   platform layer (default: deny outbound TCP 25) with per-port exemptions
 * @param maxConnections       host-wide limit on tracked connections
 * @param maxConnectionsPerVm  per-VM-port limit
 * @param maxFragmentDatagrams per worker: fragmented datagrams in flight (first fragment passed,
 *                             later ones expected) the fragment table holds; see {@link io.sluice.dataplane.firewall.FragmentTable}
 * @param fragmentTimeoutMs    how long after its first fragment a datagram's later fragments may pass
 * @param tcpPickup            TCP mid-stream pickup ({@code tcp-pickup}, Linux nf_conntrack_tcp_loose; docs/conntrack.md)
 * @param conntrackDir         where {@code ./sluice run} keeps the conntrack shards for a warm restart
 *                             ({@code conntrack-dir}); null: in memory only ({@code off})
 */
public record FirewallConfig(Map<String, SecurityGroup> groups, Map<String, Boolean> cutGroups,
                             List<VmPort> vmPorts, PlatformLayer platform, int maxConnections, int maxConnectionsPerVm,
                             int maxFragmentDatagrams, int fragmentTimeoutMs, boolean tcpPickup, String conntrackDir) {

    /** Default {@code conntrack-dir}. */
    public static final String DEFAULT_CONNTRACK_DIR = "/run/sluice";

    /** Default {@code max-fragment-datagrams} (per worker; VPP's shallow reassembly: 1024 per thread). */
    public static final int DEFAULT_MAX_FRAGMENT_DATAGRAMS = 4096;
    /** Default {@code fragment-timeout-ms} (Linux ipfrag_time: 30 s; VPP shallow reassembly: 100 ms). */
    public static final int DEFAULT_FRAGMENT_TIMEOUT_MS = 1000;

    /** Name of the group every VM port without an explicit group list belongs to. */
    public static final String DEFAULT_GROUP = "default";

    /**
     * One VM port.
     *
     * @param port      data-plane port index
     * @param name      port name (the interface id given to the rules compiler)
     * @param addresses host prefixes (/32, /128) of the VM on this port
     * @param groups    group names, in order
     * @param zone      conntrack zone (tenant network), 1..2^31-1
     */
    public record VmPort(int port, String name, List<IpPrefix> addresses, List<String> groups, int zone) {
        public VmPort {
            addresses = List.copyOf(addresses);
            groups = List.copyOf(groups);
        }
    }

    public FirewallConfig {
        groups = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(groups));
        cutGroups = Map.copyOf(cutGroups);
        vmPorts = List.copyOf(vmPorts);
    }

    /** True if the group cuts connections its rules no longer allow. */
    public boolean cuts(String group) { return cutGroups.getOrDefault(group, false); }

    /** The rules compiler's view: groups, one interface per VM port (id = port name), platform. */
    public CloudConfig cloud() {
        Map<String, VmInterface> ifaces = new LinkedHashMap<>();
        for (VmPort p : vmPorts) ifaces.put(p.name(), new VmInterface(p.name(), p.addresses(), p.groups()));
        return new CloudConfig(groups, ifaces, platform);
    }

    /** A copy with these groups, cut settings and VM ports; the platform layer and limits kept (the API's changes). */
    public FirewallConfig with(Map<String, SecurityGroup> groups, Map<String, Boolean> cut, List<VmPort> vms) {
        return new FirewallConfig(groups, cut, vms, platform, maxConnections, maxConnectionsPerVm, maxFragmentDatagrams, fragmentTimeoutMs,
                tcpPickup, conntrackDir);
    }

    /** A copy with group {@code g} replaced or added (rule changes at run time, tests). */
    public FirewallConfig withGroup(SecurityGroup g, boolean cut) {
        Map<String, SecurityGroup> m = new LinkedHashMap<>(groups);
        m.put(g.id(), g);
        Map<String, Boolean> c = new LinkedHashMap<>(cutGroups);
        c.put(g.id(), cut);
        return new FirewallConfig(m, c, vmPorts, platform, maxConnections, maxConnectionsPerVm, maxFragmentDatagrams, fragmentTimeoutMs,
                tcpPickup, conntrackDir);
    }
}
