/* sluice_shim.c — thin adapters over DPDK 22.11; see include/sluice_shim.h. No decisions here. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "sluice_shim.h"

int sl_abi_version(void) { return SL_ABI_VERSION; }

int sl_rte_errno(void) { return rte_errno; }

void sl_strerror(int err, char *buf, int len)
{
    if (buf == NULL || len <= 0)
        return;
    snprintf(buf, (size_t)len, "%s", rte_strerror(err < 0 ? -err : err));
}

/* ---- EAL ---- */

int sl_eal_init(int argc, char **argv)
{
    cpu_set_t before;
    int have = pthread_getaffinity_np(pthread_self(), sizeof(before), &before) == 0;
    int rc = rte_eal_init(argc, argv);
    if (rc < 0)
        return -rte_errno;
    if (have)
        pthread_setaffinity_np(pthread_self(), sizeof(before), &before);
    return rc;
}

int sl_eal_cleanup(void) { return rte_eal_cleanup(); }

/* ---- DPDK's own log ---- */

static FILE *sl_log_stream;

int sl_log_open(const char *path, int level)
{
    FILE *f = fopen(path, "a");
    if (f == NULL)
        return -errno;
    setvbuf(f, NULL, _IOLBF, 0);
    if (rte_openlog_stream(f) != 0) {
        fclose(f);
        return -EINVAL;
    }
    if (sl_log_stream != NULL)
        fclose(sl_log_stream);
    sl_log_stream = f;
    rte_log_set_global_level((uint32_t)level);
    return 0;
}

int sl_lcore_id(void)
{
    unsigned id = rte_lcore_id();
    return id == LCORE_ID_ANY ? -1 : (int)id;
}

int sl_lcore_count(void) { return (int)rte_lcore_count(); }

int sl_main_lcore(void) { return (int)rte_get_main_lcore(); }

int sl_lcore_socket(int lcore)
{
    if (lcore < 0 || lcore >= RTE_MAX_LCORE)
        return SOCKET_ID_ANY;
    return (int)rte_lcore_to_socket_id((unsigned)lcore);
}

int sl_thread_register(void)
{
    if (rte_thread_register() != 0)
        return -rte_errno;
    return (int)rte_lcore_id();
}

void sl_thread_unregister(void) { rte_thread_unregister(); }

int sl_thread_pin_to_lcore(int lcore)
{
    if (lcore < 0 || lcore >= RTE_MAX_LCORE || !rte_lcore_is_enabled((unsigned)lcore))
        return -EINVAL;
    rte_cpuset_t set = rte_lcore_cpuset((unsigned)lcore);
    return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int sl_thread_pin_to_cpu(int cpu)
{
    if (cpu < 0 || cpu >= CPU_SETSIZE)
        return -EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* ---- mempool / mbuf ---- */

void *sl_pktmbuf_pool_create(const char *name, uint32_t n, uint32_t cache, uint16_t data_room, int socket)
{
    return rte_pktmbuf_pool_create(name, n, cache, 0, data_room, socket);
}

void sl_mempool_free(void *pool) { rte_mempool_free((struct rte_mempool *)pool); }

uint32_t sl_mempool_avail(void *pool) { return rte_mempool_avail_count((struct rte_mempool *)pool); }

uint32_t sl_mempool_in_use(void *pool) { return rte_mempool_in_use_count((struct rte_mempool *)pool); }

int sl_mbuf_alloc_bulk(void *pool, void **mbufs, uint32_t n)
{
    return rte_pktmbuf_alloc_bulk((struct rte_mempool *)pool, (struct rte_mbuf **)mbufs, n);
}

void sl_mbuf_free_bulk(void **mbufs, uint32_t n) { rte_pktmbuf_free_bulk((struct rte_mbuf **)mbufs, n); }

int sl_offsets(int64_t *out, int n)
{
    int64_t t[SL_OFF_COUNT];
    t[SL_OFF_MBUF_SIZE] = (int64_t)sizeof(struct rte_mbuf);
    t[SL_OFF_BUF_ADDR] = offsetof(struct rte_mbuf, buf_addr);
    t[SL_OFF_DATA_OFF] = offsetof(struct rte_mbuf, data_off);
    t[SL_OFF_REFCNT] = offsetof(struct rte_mbuf, refcnt);
    t[SL_OFF_NB_SEGS] = offsetof(struct rte_mbuf, nb_segs);
    t[SL_OFF_PORT] = offsetof(struct rte_mbuf, port);
    t[SL_OFF_OL_FLAGS] = offsetof(struct rte_mbuf, ol_flags);
    t[SL_OFF_PACKET_TYPE] = offsetof(struct rte_mbuf, packet_type);
    t[SL_OFF_PKT_LEN] = offsetof(struct rte_mbuf, pkt_len);
    t[SL_OFF_DATA_LEN] = offsetof(struct rte_mbuf, data_len);
    t[SL_OFF_VLAN_TCI] = offsetof(struct rte_mbuf, vlan_tci);
    t[SL_OFF_RSS_HASH] = offsetof(struct rte_mbuf, hash.rss);
    t[SL_OFF_BUF_LEN] = offsetof(struct rte_mbuf, buf_len);
    t[SL_OFF_POOL] = offsetof(struct rte_mbuf, pool);
    t[SL_OFF_NEXT] = offsetof(struct rte_mbuf, next);
    t[SL_OFF_PRIV_SIZE] = offsetof(struct rte_mbuf, priv_size);
    t[SL_OFF_HEADROOM] = RTE_PKTMBUF_HEADROOM;
    t[SL_OFF_TX_OFFLOAD] = offsetof(struct rte_mbuf, tx_offload);
    for (int i = 0; i < n && i < SL_OFF_COUNT; i++)
        out[i] = t[i];
    return SL_OFF_COUNT;
}

/* ---- ports ---- */

int sl_port_count(void) { return (int)rte_eth_dev_count_avail(); }

int sl_port_by_name(const char *name)
{
    uint16_t id;
    if (rte_eth_dev_get_port_by_name(name, &id) != 0)
        return -ENODEV;
    return id;
}

int sl_dev_probe(const char *devargs) { return rte_dev_probe(devargs); }

void *sl_port_device(uint16_t port)
{
    struct rte_eth_dev_info info;
    if (rte_eth_dev_info_get(port, &info) != 0)
        return NULL;
    return info.device;
}

int sl_dev_remove(void *dev) { return dev == NULL ? -ENODEV : rte_dev_remove((struct rte_device *)dev); }

int sl_port_info(uint16_t port, int64_t *out, char *driver, int len)
{
    struct rte_eth_dev_info info;
    int rc = rte_eth_dev_info_get(port, &info);
    if (rc != 0)
        return rc;
    out[SL_INFO_MAX_RXQ] = info.max_rx_queues;
    out[SL_INFO_MAX_TXQ] = info.max_tx_queues;
    out[SL_INFO_RSS_OFFLOADS] = (int64_t)info.flow_type_rss_offloads;
    out[SL_INFO_SOCKET] = rte_eth_dev_socket_id(port);
    out[SL_INFO_RX_DESC_MAX] = info.rx_desc_lim.nb_max;
    out[SL_INFO_TX_DESC_MAX] = info.tx_desc_lim.nb_max;
    out[SL_INFO_RX_OFFLOAD_CAPA] = (int64_t)info.rx_offload_capa;
    out[SL_INFO_TX_OFFLOAD_CAPA] = (int64_t)info.tx_offload_capa;
    if (driver != NULL && len > 0)
        snprintf(driver, (size_t)len, "%s", info.driver_name ? info.driver_name : "");
    return 0;
}

int sl_port_configure(uint16_t port, uint16_t nb_rx, uint16_t nb_tx, uint16_t nb_rxd, uint16_t nb_txd,
                      void *pool, int *rss_enabled)
{
    return sl_port_configure_ol(port, nb_rx, nb_tx, nb_rxd, nb_txd, pool, rss_enabled, 0, 0);
}

int sl_port_configure_ol(uint16_t port, uint16_t nb_rx, uint16_t nb_tx, uint16_t nb_rxd, uint16_t nb_txd,
                         void *pool, int *rss_enabled, uint64_t rx_offloads, uint64_t tx_offloads)
{
    struct rte_eth_dev_info info;
    struct rte_eth_conf conf;
    int rc = rte_eth_dev_info_get(port, &info);
    if (rc != 0)
        return rc;
    memset(&conf, 0, sizeof(conf));
    uint64_t rss = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
    int use_rss = nb_rx > 1 && rss != 0;
    if (use_rss) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_key = NULL;
        conf.rx_adv_conf.rss_conf.rss_hf = rss;
    }
    if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE)
        conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
    conf.rxmode.offloads |= rx_offloads & info.rx_offload_capa;
    conf.txmode.offloads |= tx_offloads & info.tx_offload_capa;
    if (rss_enabled != NULL)
        *rss_enabled = use_rss;
    rc = rte_eth_dev_configure(port, nb_rx, nb_tx, &conf);
    if (rc != 0)
        return rc;
    rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
    if (rc != 0)
        return rc;
    int socket = rte_eth_dev_socket_id(port);
    struct rte_eth_rxconf rxconf = info.default_rxconf;
    rxconf.offloads = conf.rxmode.offloads;
    for (uint16_t q = 0; q < nb_rx; q++) {
        rc = rte_eth_rx_queue_setup(port, q, nb_rxd, socket, &rxconf, (struct rte_mempool *)pool);
        if (rc != 0)
            return rc;
    }
    struct rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    for (uint16_t q = 0; q < nb_tx; q++) {
        rc = rte_eth_tx_queue_setup(port, q, nb_txd, socket, &txconf);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int sl_port_start(uint16_t port) { return rte_eth_dev_start(port); }

int sl_port_stop(uint16_t port) { return rte_eth_dev_stop(port); }

int sl_port_close(uint16_t port) { return rte_eth_dev_close(port); }

int sl_port_promiscuous(uint16_t port, int on)
{
    return on ? rte_eth_promiscuous_enable(port) : rte_eth_promiscuous_disable(port);
}

int sl_port_mac_get(uint16_t port, int64_t *mac)
{
    struct rte_ether_addr a;
    int rc = rte_eth_macaddr_get(port, &a);
    if (rc != 0)
        return rc;
    int64_t v = 0;
    for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
        v = (v << 8) | a.addr_bytes[i];
    *mac = v;
    return 0;
}

int sl_port_mac_set(uint16_t port, int64_t mac)
{
    struct rte_ether_addr a;
    for (int i = RTE_ETHER_ADDR_LEN - 1; i >= 0; i--) {
        a.addr_bytes[i] = (uint8_t)(mac & 0xff);
        mac >>= 8;
    }
    return rte_eth_dev_default_mac_addr_set(port, &a);
}

int sl_port_link(uint16_t port, int64_t *out, int wait)
{
    struct rte_eth_link link;
    memset(&link, 0, sizeof(link));
    int rc = wait ? rte_eth_link_get(port, &link) : rte_eth_link_get_nowait(port, &link);
    if (rc != 0)
        return rc;
    out[0] = link.link_status;
    out[1] = link.link_speed;
    out[2] = link.link_duplex;
    return 0;
}

int sl_port_stats(uint16_t port, int64_t *out)
{
    struct rte_eth_stats s;
    int rc = rte_eth_stats_get(port, &s);
    if (rc != 0)
        return rc;
    out[0] = (int64_t)s.ipackets;
    out[1] = (int64_t)s.opackets;
    out[2] = (int64_t)s.ibytes;
    out[3] = (int64_t)s.obytes;
    out[4] = (int64_t)s.imissed;
    out[5] = (int64_t)s.ierrors;
    out[6] = (int64_t)s.oerrors;
    out[7] = (int64_t)s.rx_nombuf;
    return 0;
}

int sl_port_stats_reset(uint16_t port) { return rte_eth_stats_reset(port); }

/* ---- fast path ---- */

uint16_t sl_rx_burst(uint16_t port, uint16_t queue, void **mbufs, uint16_t n)
{
    return rte_eth_rx_burst(port, queue, (struct rte_mbuf **)mbufs, n);
}

uint16_t sl_tx_burst(uint16_t port, uint16_t queue, void **mbufs, uint16_t n)
{
    return rte_eth_tx_burst(port, queue, (struct rte_mbuf **)mbufs, n);
}

uint16_t sl_rx_burst_meta(uint16_t port, uint16_t queue, void **mbufs, uint16_t n,
                          uint64_t *data, uint32_t *len)
{
    struct rte_mbuf **m = (struct rte_mbuf **)mbufs;
    uint16_t got = rte_eth_rx_burst(port, queue, m, n);
    for (uint16_t i = 0; i < got; i++) {
        data[i] = (uint64_t)(uintptr_t)rte_pktmbuf_mtod(m[i], char *);
        len[i] = m[i]->data_len;
    }
    return got;
}

uint16_t sl_tx_burst_free(uint16_t port, uint16_t queue, void **mbufs, uint16_t n)
{
    uint16_t sent = rte_eth_tx_burst(port, queue, (struct rte_mbuf **)mbufs, n);
    if (sent < n)
        rte_pktmbuf_free_bulk((struct rte_mbuf **)mbufs + sent, n - sent);
    return sent;
}

int sl_constants(int64_t *out, int n)
{
    int64_t t[SL_K_COUNT];
    t[SL_K_RX_L4_CKSUM_MASK] = (int64_t)RTE_MBUF_F_RX_L4_CKSUM_MASK;
    t[SL_K_RX_L4_CKSUM_NONE] = (int64_t)RTE_MBUF_F_RX_L4_CKSUM_NONE;
    t[SL_K_RX_LRO] = (int64_t)RTE_MBUF_F_RX_LRO;
    t[SL_K_TX_TCP_SEG] = (int64_t)RTE_MBUF_F_TX_TCP_SEG;
    t[SL_K_TX_TCP_CKSUM] = (int64_t)RTE_MBUF_F_TX_TCP_CKSUM;
    t[SL_K_TX_UDP_CKSUM] = (int64_t)RTE_MBUF_F_TX_UDP_CKSUM;
    t[SL_K_TX_L4_MASK] = (int64_t)RTE_MBUF_F_TX_L4_MASK;
    t[SL_K_TX_IP_CKSUM] = (int64_t)RTE_MBUF_F_TX_IP_CKSUM;
    t[SL_K_TX_IPV4] = (int64_t)RTE_MBUF_F_TX_IPV4;
    t[SL_K_TX_IPV6] = (int64_t)RTE_MBUF_F_TX_IPV6;
    t[SL_K_ETH_TX_MULTI_SEGS] = (int64_t)RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    t[SL_K_ETH_TX_TCP_CKSUM] = (int64_t)RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
    t[SL_K_ETH_TX_UDP_CKSUM] = (int64_t)RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
    t[SL_K_ETH_TX_TCP_TSO] = (int64_t)RTE_ETH_TX_OFFLOAD_TCP_TSO;
    t[SL_K_ETH_RX_TCP_CKSUM] = (int64_t)RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
    t[SL_K_ETH_RX_UDP_CKSUM] = (int64_t)RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
    t[SL_K_ETH_TX_IPV4_CKSUM] = (int64_t)RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
    t[SL_K_RX_L4_CKSUM_GOOD] = (int64_t)RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    struct rte_mbuf probe;
    memset(&probe, 0, sizeof(probe));
    probe.l2_len = 14;
    probe.l3_len = 20;
    probe.l4_len = 32;
    probe.tso_segsz = 1448;
    t[SL_K_TX_OFFLOAD_PROBE] = (int64_t)probe.tx_offload;
    for (int i = 0; i < n && i < SL_K_COUNT; i++)
        out[i] = t[i];
    return SL_K_COUNT;
}
