package io.sluice.dataplane.config;

/**
 * One DPDK port. {@code devargs} is what EAL's {@code --vdev} (or a PCI address for {@code -a})
 * takes: {@code net_tap0,iface=sltap0}, {@code net_ring0}, {@code net_null0}, {@code net_pcap0,rx_pcap=a.pcap},
 * {@code net_memif0,role=server,socket=/run/sluice/m0.sock}, {@code net_vhost0,iface=/tmp/vh0.sock},
 * or a PCI address such as {@code 0000:03:00.0}.
 *
 * @param name      stable name used in counters and the MAC table ("vm1", "uplink")
 * @param devargs   DPDK device arguments (see above)
 * @param rxQueues  rx queues (RSS spreads flows over them where the device supports it)
 * @param txQueues  tx queues (one per worker is the usual choice)
 * @param mac       MAC to set on the port, or -1 to keep the device's own (low 48 bits)
 */
public record PortSpec(String name, String devargs, int rxQueues, int txQueues, long mac) {
    /** True for a PCI address (goes to EAL {@code -a}); false for a virtual device ({@code --vdev}). */
    public boolean isPci() {
        return devargs.matches("[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7].*");
    }
}
