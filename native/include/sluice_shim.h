/*
 * sluice_shim.h — the whole C ABI that Java (io.sluice.dataplane.ffi.Shim) sees.
 *
 * The shim only adapts: it wraps what java.lang.foreign cannot call (static-inline DPDK
 * functions such as rte_eth_rx_burst, macros, rte_errno) and exports struct offsets. It makes
 * no decisions. Every function returns >= 0 on success and a negative errno on failure unless
 * documented otherwise. Pointers to DPDK objects cross the boundary as opaque addresses.
 *
 * Keep this file and io.sluice.dataplane.ffi.Shim in step (docs/ffi.md says how).
 */
#ifndef SLUICE_SHIM_H
#define SLUICE_SHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SL_ABI_VERSION 1

/* ---- version / errors ---- */
int sl_abi_version(void);
/* rte_errno of the calling thread (DPDK sets it on failure; Java cannot read a TLS macro). */
int sl_rte_errno(void);
/* Copies rte_strerror(err) into buf (NUL-terminated, at most len bytes). */
void sl_strerror(int err, char *buf, int len);

/* ---- EAL ---- */
/*
 * rte_eal_init(argc, argv). rte_eal_init pins the calling thread to the main lcore; the shim
 * restores the caller's previous CPU affinity afterwards so that threads the JVM starts later
 * (JIT, GC, workers) do not all inherit the main lcore's mask. Returns the number of parsed
 * args (>= 0) or -rte_errno.
 */
int sl_eal_init(int argc, char **argv);
int sl_eal_cleanup(void);
/*
 * Sends DPDK's log (EAL, drivers: TAP qdisc messages, multi-process messages, ...) to the file at
 * path (appended, line-buffered) instead of the terminal, at most at level (RTE_LOG_EMERG 1 ..
 * RTE_LOG_DEBUG 8). Call before sl_eal_init to catch EAL's start-up messages (EAL keeps a stream
 * set before it starts). Returns 0 or -errno.
 */
int sl_log_open(const char *path, int level);
/* rte_lcore_id() of the calling thread (UINT32_MAX -> -1 when the thread is not registered). */
int sl_lcore_id(void);
int sl_lcore_count(void);
int sl_main_lcore(void);
/* Socket of an lcore (rte_lcore_to_socket_id), or SOCKET_ID_ANY (-1). */
int sl_lcore_socket(int lcore);
/*
 * Registers the calling (non-EAL, e.g. Java) thread with EAL: it gets an lcore id, so it has a
 * mempool cache and may call rx/tx. Returns the new lcore id or -rte_errno.
 */
int sl_thread_register(void);
void sl_thread_unregister(void);
/* Pins the calling thread to the CPU set of EAL lcore `lcore` (0 or -errno). */
int sl_thread_pin_to_lcore(int lcore);
/* Pins the calling thread to one CPU (0 or -errno). */
int sl_thread_pin_to_cpu(int cpu);

/* ---- mempool / mbuf ---- */
/* rte_pktmbuf_pool_create; returns the pool pointer or NULL (see sl_rte_errno). */
void *sl_pktmbuf_pool_create(const char *name, uint32_t n, uint32_t cache, uint16_t data_room, int socket);
void sl_mempool_free(void *pool);
uint32_t sl_mempool_avail(void *pool);
uint32_t sl_mempool_in_use(void *pool);
/* rte_pktmbuf_alloc_bulk: all n or none. 0 or -ENOENT. */
int sl_mbuf_alloc_bulk(void *pool, void **mbufs, uint32_t n);
/* rte_pktmbuf_free_bulk (NULL entries are skipped). */
void sl_mbuf_free_bulk(void **mbufs, uint32_t n);

/*
 * Offsets table: sl_offsets(out, n) writes min(n, SL_OFF_COUNT) int64 values, indexed by the
 * SL_OFF_* constants below, and returns SL_OFF_COUNT. Java never hard-codes an offset.
 */
enum {
    SL_OFF_MBUF_SIZE = 0,      /* sizeof(struct rte_mbuf) */
    SL_OFF_BUF_ADDR = 1,       /* void *buf_addr */
    SL_OFF_DATA_OFF = 2,       /* uint16_t data_off */
    SL_OFF_REFCNT = 3,         /* uint16_t refcnt */
    SL_OFF_NB_SEGS = 4,        /* uint16_t nb_segs */
    SL_OFF_PORT = 5,           /* uint16_t port */
    SL_OFF_OL_FLAGS = 6,       /* uint64_t ol_flags */
    SL_OFF_PACKET_TYPE = 7,    /* uint32_t packet_type */
    SL_OFF_PKT_LEN = 8,        /* uint32_t pkt_len */
    SL_OFF_DATA_LEN = 9,       /* uint16_t data_len */
    SL_OFF_VLAN_TCI = 10,      /* uint16_t vlan_tci */
    SL_OFF_RSS_HASH = 11,      /* uint32_t hash.rss */
    SL_OFF_BUF_LEN = 12,       /* uint16_t buf_len */
    SL_OFF_POOL = 13,          /* struct rte_mempool *pool */
    SL_OFF_NEXT = 14,          /* struct rte_mbuf *next */
    SL_OFF_PRIV_SIZE = 15,     /* uint16_t priv_size */
    SL_OFF_HEADROOM = 16,      /* RTE_PKTMBUF_HEADROOM (a value, not an offset) */
    SL_OFF_TX_OFFLOAD = 17,    /* uint64_t tx_offload (l2_len:7 l3_len:9 l4_len:8 tso_segsz:16 ...) */
    SL_OFF_COUNT = 18
};
int sl_offsets(int64_t *out, int n);

/* ---- ports ---- */
int sl_port_count(void);
/* rte_eth_dev_get_port_by_name: port id (>= 0) or -ENODEV. */
int sl_port_by_name(const char *name);
/* Hot-plugs a device by devargs after EAL start (rte_dev_probe). 0 or -errno. */
int sl_dev_probe(const char *devargs);
/* The rte_device* of a port (rte_eth_dev_info.device), or NULL; read it before sl_port_close. */
void *sl_port_device(uint16_t port);
/* Hot-unplugs a device (rte_dev_remove) after its port was stopped and closed. 0 or -errno. */
int sl_dev_remove(void *dev);
/*
 * Port capabilities, as int64 values in `out` (at least SL_INFO_COUNT entries):
 * max rx queues, max tx queues, supported RSS hash functions (flow_type_rss_offloads),
 * socket id, rx desc max, tx desc max, driver name written to name (NUL-terminated, len bytes).
 */
enum {
    SL_INFO_MAX_RXQ = 0, SL_INFO_MAX_TXQ = 1, SL_INFO_RSS_OFFLOADS = 2, SL_INFO_SOCKET = 3,
    SL_INFO_RX_DESC_MAX = 4, SL_INFO_TX_DESC_MAX = 5,
    SL_INFO_RX_OFFLOAD_CAPA = 6, SL_INFO_TX_OFFLOAD_CAPA = 7, /* rte_eth_dev_info rx/tx_offload_capa */
    SL_INFO_COUNT = 8
};
int sl_port_info(uint16_t port, int64_t *out, char *driver, int len);
/*
 * Configures (rte_eth_dev_configure) and sets up nb_rx rx queues and nb_tx tx queues with
 * nb_rxd / nb_txd descriptors (adjusted by rte_eth_dev_adjust_nb_rx_tx_desc), mbufs from pool.
 * RSS (IP/TCP/UDP, masked by what the device offers) is enabled when nb_rx > 1 and the device
 * offers any; *rss_enabled says whether it was. The caller clamps queue counts (sl_port_info).
 */
int sl_port_configure(uint16_t port, uint16_t nb_rx, uint16_t nb_tx, uint16_t nb_rxd, uint16_t nb_txd,
                      void *pool, int *rss_enabled);
/*
 * sl_port_configure with rx and tx offloads (RTE_ETH_RX_OFFLOAD_*, RTE_ETH_TX_OFFLOAD_*) to enable,
 * each masked by what the device offers (sl_port_configure is this with 0, 0).
 */
int sl_port_configure_ol(uint16_t port, uint16_t nb_rx, uint16_t nb_tx, uint16_t nb_rxd, uint16_t nb_txd,
                         void *pool, int *rss_enabled, uint64_t rx_offloads, uint64_t tx_offloads);
int sl_port_start(uint16_t port);
int sl_port_stop(uint16_t port);
int sl_port_close(uint16_t port);
int sl_port_promiscuous(uint16_t port, int on);
/* MAC as the low 48 bits of an int64 in network order (first byte most significant). */
int sl_port_mac_get(uint16_t port, int64_t *mac);
int sl_port_mac_set(uint16_t port, int64_t mac);
/* Link: out[0] = up (0/1), out[1] = speed Mb/s, out[2] = full duplex (0/1). wait: 0 = nowait. */
int sl_port_link(uint16_t port, int64_t *out, int wait);
/*
 * Basic stats: out[0] ipackets, [1] opackets, [2] ibytes, [3] obytes, [4] imissed,
 * [5] ierrors, [6] oerrors, [7] rx_nombuf.
 */
int sl_port_stats(uint16_t port, int64_t *out);
int sl_port_stats_reset(uint16_t port);

/* ---- fast path (Java calls these with Linker.Option.critical) ---- */
uint16_t sl_rx_burst(uint16_t port, uint16_t queue, void **mbufs, uint16_t n);
uint16_t sl_tx_burst(uint16_t port, uint16_t queue, void **mbufs, uint16_t n);
/*
 * rx_burst plus, for each received mbuf i, data[i] = buf_addr + data_off (absolute address of
 * the first byte) and len[i] = data_len (first segment). Returns the count.
 */
uint16_t sl_rx_burst_meta(uint16_t port, uint16_t queue, void **mbufs, uint16_t n,
                          uint64_t *data, uint32_t *len);
/*
 * tx_burst of n mbufs; frees every mbuf the device did not take. Returns the number sent.
 */
uint16_t sl_tx_burst_free(uint16_t port, uint16_t queue, void **mbufs, uint16_t n);

/*
 * Constants Java needs for multi-segment packets and offloads, as int64 values in `out`
 * (indexed by SL_K_*): ol_flags bits, ethdev offload bits. Returns SL_K_COUNT.
 */
enum {
    SL_K_RX_L4_CKSUM_MASK = 0, SL_K_RX_L4_CKSUM_NONE = 1, SL_K_RX_LRO = 2,
    SL_K_TX_TCP_SEG = 3, SL_K_TX_TCP_CKSUM = 4, SL_K_TX_UDP_CKSUM = 5, SL_K_TX_L4_MASK = 6,
    SL_K_TX_IP_CKSUM = 7, SL_K_TX_IPV4 = 8, SL_K_TX_IPV6 = 9,
    SL_K_ETH_TX_MULTI_SEGS = 10, SL_K_ETH_TX_TCP_CKSUM = 11, SL_K_ETH_TX_UDP_CKSUM = 12,
    SL_K_ETH_TX_TCP_TSO = 13, SL_K_ETH_RX_TCP_CKSUM = 14, SL_K_ETH_RX_UDP_CKSUM = 15,
    SL_K_ETH_TX_IPV4_CKSUM = 16, SL_K_RX_L4_CKSUM_GOOD = 17,
    /* tx_offload of an mbuf with l2_len 14, l3_len 20, l4_len 32, tso_segsz 1448 (checks Java's bitfield encoding) */
    SL_K_TX_OFFLOAD_PROBE = 18,
    SL_K_COUNT = 19
};
int sl_constants(int64_t *out, int n);

#ifdef __cplusplus
}
#endif
#endif
