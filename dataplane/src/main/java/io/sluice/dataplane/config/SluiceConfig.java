package io.sluice.dataplane.config;


import java.nio.file.Path;
import java.util.List;

/**
 * The whole data-plane configuration, already validated (see {@link ConfigLoader}): the one
 * desired-state value. The file is parsed once into it; the control API's changes and the
 * journal's replay yield new values of it (docs/architecture.md, "Desired state"); a reload or a
 * change is applied by diffing the running value against the new one
 * ({@code service.RunningConfig}). Immutable.
 *
 * @param source       where it came from (file path or "embedded default"), for messages
 * @param eal          EAL arguments without the program name and without vdevs (ports add those)
 * @param ports        ports in index order: port index = position in this list
 * @param workers      polling workers
 * @param burstSize    rx burst size (1..256)
 * @param idleStrategy "busy-spin", "yield", "backoff" or "sleep-&lt;micros&gt;"
 * @param mbufs        mbuf pool size
 * @param macTable     static L2 table: MAC to port index
 * @param arp          addresses the data plane answers ARP for
 * @param countersFile shared-memory file for the counters ({@code ./sluice stats} reads it)
 * @param overlay      tenant networks (the {@code overlay:} section, docs/overlay.md), or null:
 *                     when present the data plane runs the overlay pipeline instead of L2
 * @param service      supervision of {@code ./sluice run} (the {@code service:} section, docs/service.md)
 * @param metrics      the Prometheus endpoint (the {@code metrics:} section, docs/operations.md)
 * @param firewall     security groups and memberships (the {@code security-groups:} section, docs/firewall.md), or null
 * @param api          the control API (the {@code api:} section, docs/api.md), or null
 * @param flowLogs     flow logs (the {@code flow-logs:} section, docs/operations.md), or null
 * @param dpdkLog      where DPDK's own log goes (the {@code dpdk-log:} section, docs/operations.md)
 */
public record SluiceConfig(
        String source,
        List<String> eal,
        List<PortSpec> ports,
        List<WorkerSpec> workers,
        int burstSize,
        String idleStrategy,
        int mbufs,
        List<MacEntry> macTable,
        List<ArpEntry> arp,
        Path countersFile,
        OverlayModel overlay,
        ServiceSettings service,
        MetricsSettings metrics,
        FirewallConfig firewall,
        ApiSettings api,
        FlowLogSettings flowLogs,
        ConfigLoader.DpdkLog dpdkLog) {

    /** A configuration without flow logs, DPDK logging to its default file. */
    public SluiceConfig(String source, List<String> eal, List<PortSpec> ports, List<WorkerSpec> workers, int burstSize,
                        String idleStrategy, int mbufs, List<MacEntry> macTable, List<ArpEntry> arp, Path countersFile,
                        OverlayModel overlay, ServiceSettings service, MetricsSettings metrics, FirewallConfig firewall, ApiSettings api) {
        this(source, eal, ports, workers, burstSize, idleStrategy, mbufs, macTable, arp, countersFile, overlay, service, metrics,
                firewall, api, null, ConfigLoader.DpdkLog.DEFAULT);
    }

    /** A configuration without security groups and without the control API. */
    public SluiceConfig(String source, List<String> eal, List<PortSpec> ports, List<WorkerSpec> workers, int burstSize,
                        String idleStrategy, int mbufs, List<MacEntry> macTable, List<ArpEntry> arp, Path countersFile,
                        OverlayModel overlay, ServiceSettings service, MetricsSettings metrics) {
        this(source, eal, ports, workers, burstSize, idleStrategy, mbufs, macTable, arp, countersFile, overlay, service, metrics,
                null, null);
    }

    /** This value with {@code fw} as its security groups (a change of the control API, or a reload's section). */
    public SluiceConfig withFirewall(FirewallConfig fw) {
        return new SluiceConfig(source, eal, ports, workers, burstSize, idleStrategy, mbufs, macTable, arp, countersFile, overlay,
                service, metrics, fw, api, flowLogs, dpdkLog);
    }

    /** This value with {@code o} as its overlay (public access changed by a reload). */
    public SluiceConfig withOverlay(OverlayModel o) {
        return new SluiceConfig(source, eal, ports, workers, burstSize, idleStrategy, mbufs, macTable, arp, countersFile, o,
                service, metrics, firewall, api, flowLogs, dpdkLog);
    }

    /** This value with {@code p} as its ports (a hot-plug slot filled or emptied by the control API, docs/api.md). */
    public SluiceConfig withPorts(List<PortSpec> p) {
        if (p == ports) return this;
        return new SluiceConfig(source, eal, List.copyOf(p), workers, burstSize, idleStrategy, mbufs, macTable, arp, countersFile,
                overlay, service, metrics, firewall, api, flowLogs, dpdkLog);
    }

    /** A configuration with the default {@link ServiceSettings} and no metrics endpoint (tests, benchmarks). */
    public SluiceConfig(String source, List<String> eal, List<PortSpec> ports, List<WorkerSpec> workers, int burstSize,
                        String idleStrategy, int mbufs, List<MacEntry> macTable, List<ArpEntry> arp, Path countersFile,
                        OverlayModel overlay) {
        this(source, eal, ports, workers, burstSize, idleStrategy, mbufs, macTable, arp, countersFile, overlay,
                ServiceSettings.DEFAULT, MetricsSettings.OFF);
    }

    /** A configuration without an overlay (L2 pipeline). */
    public SluiceConfig(String source, List<String> eal, List<PortSpec> ports, List<WorkerSpec> workers, int burstSize,
                        String idleStrategy, int mbufs, List<MacEntry> macTable, List<ArpEntry> arp, Path countersFile) {
        this(source, eal, ports, workers, burstSize, idleStrategy, mbufs, macTable, arp, countersFile, null);
    }

    /** A static L2 entry: frames to {@code mac} leave by port {@code port}. */
    public record MacEntry(long mac, int port) {}

    /**
     * An address the data plane owns: ARP requests for {@code ipv4} arriving on {@code port}
     * (or any port when {@code port} is -1) are answered with {@code mac}.
     */
    public record ArpEntry(int ipv4, long mac, int port) {}

    /** Port names in index order. */
    public List<String> portNames() {
        return ports.stream().map(PortSpec::name).toList();
    }

    public int portIndex(String name) {
        for (int i = 0; i < ports.size(); i++) {
            if (ports.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }
}
