package io.sluice.dataplane.ffi;

/** What {@code rte_eth_dev_info_get} says about a port (the parts Sluice uses). */
public record PortInfo(int maxRxQueues, int maxTxQueues, long rssOffloads, int socket,
                       int rxDescMax, int txDescMax, String driver, long rxOffloadCapa, long txOffloadCapa) {}
