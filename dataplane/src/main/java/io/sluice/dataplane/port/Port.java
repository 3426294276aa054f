package io.sluice.dataplane.port;

import io.sluice.dataplane.config.PortSpec;

/**
 * A started DPDK port: its place in the configuration ({@link #index}, used everywhere in the
 * pipeline), its ethdev id, and what was configured on it.
 */
public record Port(int index, PortSpec spec, int portId, String deviceName, String driver,
                   int rxQueues, int txQueues, boolean rss, long mac) {
    public String name() {
        return spec.name();
    }

    /** MAC as aa:bb:cc:dd:ee:ff. */
    public static String macString(long mac) {
        StringBuilder sb = new StringBuilder(17);
        for (int i = 5; i >= 0; i--) {
            sb.append(String.format("%02x", (mac >>> (8 * i)) & 0xFF));
            if (i > 0) {
                sb.append(':');
            }
        }
        return sb.toString();
    }
}
