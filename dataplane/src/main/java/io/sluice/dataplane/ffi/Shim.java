package io.sluice.dataplane.ffi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Hand-written bindings over {@code native/include/sluice_shim.h} (jextract is not available
 * here; see docs/ffi.md). This package is the only one that touches {@link Linker}.
 *
 * <p>Every downcall handle is a {@code static final} field (the JIT constant-folds and inlines
 * it; a handle passed around as a value cost ~4x in a forwarding loop). The fast-path calls
 * (rx/tx burst, free) use {@link Linker.Option#critical(boolean) critical(false)}: no thread
 * state transition, so they must be short and never block or call back into Java, and their
 * segments must be native (off-heap). C {@code uint16_t} maps to Java {@code short}; the
 * wrappers here widen/narrow so callers use {@code int}.
 *
 * <p>The library is found by: system property {@code sluice.native.lib}, environment variable
 * {@code SLUICE_NATIVE_LIB}, {@code $SLUICE_HOME/native/target/libsluice.so}, then
 * {@code native/target/libsluice.so} under the working directory.
 */
public final class Shim {
    private Shim() {}

    public static final Path LIBRARY = locate();
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
    private static final Linker.Option[] CRITICAL = {Linker.Option.critical(false)};
    private static final Linker.Option[] NONE = {};

    private static Path locate() {
        String p = System.getProperty("sluice.native.lib");
        if (p == null || p.isBlank()) {
            p = System.getenv("SLUICE_NATIVE_LIB");
        }
        if (p == null || p.isBlank()) {
            String home = System.getProperty("sluice.home", System.getenv("SLUICE_HOME"));
            p = (home == null ? "." : home) + "/native/target/libsluice.so";
        }
        Path path = Path.of(p).toAbsolutePath();
        if (!Files.isReadable(path)) {
            throw new IllegalStateException("Sluice native shim not found at " + path
                    + " (build it with `mvn -pl native compile`, or set -Dsluice.native.lib=/path/libsluice.so)");
        }
        return path;
    }

    private static MethodHandle h(String name, FunctionDescriptor fd, Linker.Option... opts) {
        MemorySegment sym = LOOKUP.find(name).orElseThrow(
                () -> new IllegalStateException("symbol " + name + " missing from " + LIBRARY + " (stale build?)"));
        return LINKER.downcallHandle(sym, fd, opts);
    }

    // ---- handles (static final: see class comment) ----
    private static final MethodHandle ABI_VERSION = h("sl_abi_version", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle RTE_ERRNO = h("sl_rte_errno", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle STRERROR = h("sl_strerror", FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle EAL_INIT = h("sl_eal_init", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle LOG_OPEN = h("sl_log_open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle EAL_CLEANUP = h("sl_eal_cleanup", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle LCORE_ID = h("sl_lcore_id", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle LCORE_COUNT = h("sl_lcore_count", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle MAIN_LCORE = h("sl_main_lcore", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle LCORE_SOCKET = h("sl_lcore_socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle THREAD_REGISTER = h("sl_thread_register", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle THREAD_UNREGISTER = h("sl_thread_unregister", FunctionDescriptor.ofVoid());
    private static final MethodHandle PIN_LCORE = h("sl_thread_pin_to_lcore", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle PIN_CPU = h("sl_thread_pin_to_cpu", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle POOL_CREATE = h("sl_pktmbuf_pool_create",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_SHORT, JAVA_INT));
    private static final MethodHandle POOL_FREE = h("sl_mempool_free", FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle POOL_AVAIL = h("sl_mempool_avail", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle POOL_IN_USE = h("sl_mempool_in_use", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle ALLOC_BULK = h("sl_mbuf_alloc_bulk",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT), CRITICAL);
    private static final MethodHandle FREE_BULK = h("sl_mbuf_free_bulk",
            FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT), CRITICAL);
    private static final MethodHandle OFFSETS = h("sl_offsets", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle PORT_COUNT = h("sl_port_count", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle PORT_BY_NAME = h("sl_port_by_name", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle DEV_PROBE = h("sl_dev_probe", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle PORT_DEVICE = h("sl_port_device", FunctionDescriptor.of(ADDRESS, JAVA_SHORT));
    private static final MethodHandle DEV_REMOVE = h("sl_dev_remove", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle PORT_INFO = h("sl_port_info",
            FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle PORT_CONFIGURE = h("sl_port_configure",
            FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, JAVA_SHORT, JAVA_SHORT, JAVA_SHORT, JAVA_SHORT, ADDRESS, ADDRESS));
    private static final MethodHandle PORT_CONFIGURE_OL = h("sl_port_configure_ol",
            FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, JAVA_SHORT, JAVA_SHORT, JAVA_SHORT, JAVA_SHORT, ADDRESS, ADDRESS,
                    JAVA_LONG, JAVA_LONG));
    private static final MethodHandle CONSTANTS = h("sl_constants", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle PORT_START = h("sl_port_start", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT));
    private static final MethodHandle PORT_STOP = h("sl_port_stop", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT));
    private static final MethodHandle PORT_CLOSE = h("sl_port_close", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT));
    private static final MethodHandle PORT_PROMISC = h("sl_port_promiscuous", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, JAVA_INT));
    private static final MethodHandle PORT_MAC_GET = h("sl_port_mac_get", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, ADDRESS));
    private static final MethodHandle PORT_MAC_SET = h("sl_port_mac_set", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, JAVA_LONG));
    private static final MethodHandle PORT_LINK = h("sl_port_link", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, ADDRESS, JAVA_INT));
    private static final MethodHandle PORT_STATS = h("sl_port_stats", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT, ADDRESS));
    private static final MethodHandle PORT_STATS_RESET = h("sl_port_stats_reset", FunctionDescriptor.of(JAVA_INT, JAVA_SHORT));
    private static final MethodHandle RX_BURST = h("sl_rx_burst",
            FunctionDescriptor.of(JAVA_SHORT, JAVA_SHORT, JAVA_SHORT, ADDRESS, JAVA_SHORT), CRITICAL);
    private static final MethodHandle TX_BURST = h("sl_tx_burst",
            FunctionDescriptor.of(JAVA_SHORT, JAVA_SHORT, JAVA_SHORT, ADDRESS, JAVA_SHORT), CRITICAL);
    private static final MethodHandle RX_BURST_META = h("sl_rx_burst_meta",
            FunctionDescriptor.of(JAVA_SHORT, JAVA_SHORT, JAVA_SHORT, ADDRESS, JAVA_SHORT, ADDRESS, ADDRESS), CRITICAL);
    private static final MethodHandle TX_BURST_FREE = h("sl_tx_burst_free",
            FunctionDescriptor.of(JAVA_SHORT, JAVA_SHORT, JAVA_SHORT, ADDRESS, JAVA_SHORT), CRITICAL);

    private static RuntimeException bug(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    // ---- version / errors ----
    public static int abiVersion() {
        try { return (int) ABI_VERSION.invokeExact(); } catch (Throwable t) { throw bug(t); }
    }

    public static int rteErrno() {
        try { return (int) RTE_ERRNO.invokeExact(); } catch (Throwable t) { throw bug(t); }
    }

    /** DPDK's text for an errno value (sign ignored). */
    public static String strerror(int err) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            STRERROR.invokeExact(err, buf, 256);
            return buf.getString(0);
        } catch (Throwable t) { throw bug(t); }
    }

    // ---- EAL ----
    /** rte_eal_init over {@code argv} (argv[0] is the program name). Returns parsed count or -errno. */
    public static int ealInit(String[] argv) {
        try {
            // EAL keeps pointers into argv: give it memory that lives as long as the process.
            Arena forever = Arena.global();
            MemorySegment arr = forever.allocate(ADDRESS, argv.length + 1L);
            for (int i = 0; i < argv.length; i++) {
                arr.setAtIndex(ADDRESS, i, forever.allocateFrom(argv[i]));
            }
            arr.setAtIndex(ADDRESS, argv.length, MemorySegment.NULL);
            return (int) EAL_INIT.invokeExact(argv.length, arr);
        } catch (Throwable t) { throw bug(t); }
    }

    /** sl_log_open: DPDK's log to {@code path} at most at {@code level} (1 emerg .. 8 debug). 0 or -errno. */
    public static int logOpen(String path, int level) {
        try (Arena a = Arena.ofConfined()) {
            return (int) LOG_OPEN.invokeExact(a.allocateFrom(path), level);
        } catch (Throwable t) { throw bug(t); }
    }

    public static int ealCleanup() {
        try { return (int) EAL_CLEANUP.invokeExact(); } catch (Throwable t) { throw bug(t); }
    }

    public static int lcoreId() {
        try { return (int) LCORE_ID.invokeExact(); } catch (Throwable t) { throw bug(t); }
    }

    public static int lcoreCount() {
        try { return (int) LCORE_COUNT.invokeExact(); } catch (Throwable t) { throw bug(t); }
    }

    public static int mainLcore() {
        try { return (int) MAIN_LCORE.invokeExact(); } catch (Throwable t) { throw bug(t); }
    }

    public static int lcoreSocket(int lcore) {
        try { return (int) LCORE_SOCKET.invokeExact(lcore); } catch (Throwable t) { throw bug(t); }
    }

    /** Registers the calling thread with EAL; returns its lcore id or -errno. */
    public static int threadRegister() {
        try { return (int) THREAD_REGISTER.invokeExact(); } catch (Throwable t) { throw bug(t); }
    }

    public static void threadUnregister() {
        try { THREAD_UNREGISTER.invokeExact(); } catch (Throwable t) { throw bug(t); }
    }

    public static int pinToLcore(int lcore) {
        try { return (int) PIN_LCORE.invokeExact(lcore); } catch (Throwable t) { throw bug(t); }
    }

    public static int pinToCpu(int cpu) {
        try { return (int) PIN_CPU.invokeExact(cpu); } catch (Throwable t) { throw bug(t); }
    }

    // ---- mempool / mbuf ----
    /** Returns the pool address, or 0 (see {@link #rteErrno()}). */
    public static long pktmbufPoolCreate(String name, int n, int cache, int dataRoom, int socket) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = (MemorySegment) POOL_CREATE.invokeExact(a.allocateFrom(name), n, cache, (short) dataRoom, socket);
            return p.address();
        } catch (Throwable t) { throw bug(t); }
    }

    public static void mempoolFree(long pool) {
        try { POOL_FREE.invokeExact(MemorySegment.ofAddress(pool)); } catch (Throwable t) { throw bug(t); }
    }

    public static int mempoolAvail(long pool) {
        try { return (int) POOL_AVAIL.invokeExact(MemorySegment.ofAddress(pool)); } catch (Throwable t) { throw bug(t); }
    }

    public static int mempoolInUse(long pool) {
        try { return (int) POOL_IN_USE.invokeExact(MemorySegment.ofAddress(pool)); } catch (Throwable t) { throw bug(t); }
    }

    /** Allocates n mbufs into {@code mbufs} (all or none): 0 or -ENOENT. */
    public static int mbufAllocBulk(MemorySegment pool, MemorySegment mbufs, int n) {
        try { return (int) ALLOC_BULK.invokeExact(pool, mbufs, n); } catch (Throwable t) { throw bug(t); }
    }

    /** Frees n mbufs whose pointers are in {@code mbufs} (native segment). */
    public static void mbufFreeBulk(MemorySegment mbufs, int n) {
        try { FREE_BULK.invokeExact(mbufs, n); } catch (Throwable t) { throw bug(t); }
    }

    public static long[] offsets() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG, 64);
            int n = (int) OFFSETS.invokeExact(out, 64);
            return out.asSlice(0, n * 8L).toArray(JAVA_LONG);
        } catch (Throwable t) { throw bug(t); }
    }

    /** The shim's constants table ({@code sl_constants}, indexed by SL_K_*): ol_flags and ethdev offload bits. */
    public static long[] constants() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG, 64);
            int n = (int) CONSTANTS.invokeExact(out, 64);
            return out.asSlice(0, n * 8L).toArray(JAVA_LONG);
        } catch (Throwable t) { throw bug(t); }
    }

    // ---- ports ----
    public static int portCount() {
        try { return (int) PORT_COUNT.invokeExact(); } catch (Throwable t) { throw bug(t); }
    }

    /** Port id, or -ENODEV. */
    public static int portByName(String name) {
        try (Arena a = Arena.ofConfined()) {
            return (int) PORT_BY_NAME.invokeExact(a.allocateFrom(name));
        } catch (Throwable t) { throw bug(t); }
    }

    public static int devProbe(String devargs) {
        try (Arena a = Arena.ofConfined()) {
            return (int) DEV_PROBE.invokeExact(a.allocateFrom(devargs));
        } catch (Throwable t) { throw bug(t); }
    }

    /** The port's rte_device* (0 when unknown): read it before {@link #portClose}, for {@link #devRemove}. */
    public static long portDevice(int port) {
        try { return ((MemorySegment) PORT_DEVICE.invokeExact((short) port)).address(); } catch (Throwable t) { throw bug(t); }
    }

    /** rte_dev_remove of a device from {@link #portDevice}, after its port was stopped and closed: 0 or -errno. */
    public static int devRemove(long device) {
        try { return (int) DEV_REMOVE.invokeExact(MemorySegment.ofAddress(device)); } catch (Throwable t) { throw bug(t); }
    }

    /** Port capabilities; see {@link PortInfo}. */
    public static PortInfo portInfo(int port) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG, 8);
            MemorySegment drv = a.allocate(64);
            int rc = (int) PORT_INFO.invokeExact((short) port, out, drv, 64);
            Dpdk.check(rc, "rte_eth_dev_info_get(port " + port + ")");
            return new PortInfo((int) out.getAtIndex(JAVA_LONG, 0), (int) out.getAtIndex(JAVA_LONG, 1),
                    out.getAtIndex(JAVA_LONG, 2), (int) out.getAtIndex(JAVA_LONG, 3),
                    (int) out.getAtIndex(JAVA_LONG, 4), (int) out.getAtIndex(JAVA_LONG, 5), drv.getString(0),
                    out.getAtIndex(JAVA_LONG, 6), out.getAtIndex(JAVA_LONG, 7));
        } catch (Throwable t) { throw bug(t); }
    }

    /** Configures the port; returns rc (0 / -errno) and, in rssOut[0], 1 when RSS was enabled. */
    public static int portConfigure(int port, int nbRx, int nbTx, int nbRxd, int nbTxd, long pool, int[] rssOut) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment rss = a.allocate(JAVA_INT);
            int rc = (int) PORT_CONFIGURE.invokeExact((short) port, (short) nbRx, (short) nbTx, (short) nbRxd,
                    (short) nbTxd, MemorySegment.ofAddress(pool), rss);
            if (rssOut != null && rssOut.length > 0) {
                rssOut[0] = rss.get(JAVA_INT, 0);
            }
            return rc;
        } catch (Throwable t) { throw bug(t); }
    }

    /**
     * {@link #portConfigure} enabling the rx / tx offloads given (RTE_ETH_RX/TX_OFFLOAD_* bits,
     * masked by what the device offers).
     */
    public static int portConfigure(int port, int nbRx, int nbTx, int nbRxd, int nbTxd, long pool, int[] rssOut,
                                    long rxOffloads, long txOffloads) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment rss = a.allocate(JAVA_INT);
            int rc = (int) PORT_CONFIGURE_OL.invokeExact((short) port, (short) nbRx, (short) nbTx, (short) nbRxd,
                    (short) nbTxd, MemorySegment.ofAddress(pool), rss, rxOffloads, txOffloads);
            if (rssOut != null && rssOut.length > 0) {
                rssOut[0] = rss.get(JAVA_INT, 0);
            }
            return rc;
        } catch (Throwable t) { throw bug(t); }
    }

    public static int portStart(int port) {
        try { return (int) PORT_START.invokeExact((short) port); } catch (Throwable t) { throw bug(t); }
    }

    public static int portStop(int port) {
        try { return (int) PORT_STOP.invokeExact((short) port); } catch (Throwable t) { throw bug(t); }
    }

    public static int portClose(int port) {
        try { return (int) PORT_CLOSE.invokeExact((short) port); } catch (Throwable t) { throw bug(t); }
    }

    public static int portPromiscuous(int port, boolean on) {
        try { return (int) PORT_PROMISC.invokeExact((short) port, on ? 1 : 0); } catch (Throwable t) { throw bug(t); }
    }

    /** MAC (low 48 bits, network order), or throws. */
    public static long portMac(int port) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            Dpdk.check((int) PORT_MAC_GET.invokeExact((short) port, out), "rte_eth_macaddr_get(port " + port + ")");
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw bug(t); }
    }

    public static int portMacSet(int port, long mac) {
        try { return (int) PORT_MAC_SET.invokeExact((short) port, mac); } catch (Throwable t) { throw bug(t); }
    }

    /** {up, speedMbps, fullDuplex}. */
    public static long[] portLink(int port, boolean wait) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG, 3);
            Dpdk.check((int) PORT_LINK.invokeExact((short) port, out, wait ? 1 : 0), "rte_eth_link_get(port " + port + ")");
            return out.toArray(JAVA_LONG);
        } catch (Throwable t) { throw bug(t); }
    }

    /** {ipackets, opackets, ibytes, obytes, imissed, ierrors, oerrors, rx_nombuf}. */
    public static long[] portStats(int port) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG, 8);
            Dpdk.check((int) PORT_STATS.invokeExact((short) port, out), "rte_eth_stats_get(port " + port + ")");
            return out.toArray(JAVA_LONG);
        } catch (Throwable t) { throw bug(t); }
    }

    public static int portStatsReset(int port) {
        try { return (int) PORT_STATS_RESET.invokeExact((short) port); } catch (Throwable t) { throw bug(t); }
    }

    // ---- fast path: critical, native segments only ----
    public static int rxBurst(int port, int queue, MemorySegment mbufs, int n) {
        try {
            return ((short) RX_BURST.invokeExact((short) port, (short) queue, mbufs, (short) n)) & 0xFFFF;
        } catch (Throwable t) { throw bug(t); }
    }

    public static int txBurst(int port, int queue, MemorySegment mbufs, int n) {
        try {
            return ((short) TX_BURST.invokeExact((short) port, (short) queue, mbufs, (short) n)) & 0xFFFF;
        } catch (Throwable t) { throw bug(t); }
    }

    /** rx burst that also fills {@code data[i]} (u64 address of the frame) and {@code len[i]} (u32). */
    public static int rxBurstMeta(int port, int queue, MemorySegment mbufs, int n, MemorySegment data, MemorySegment len) {
        try {
            return ((short) RX_BURST_META.invokeExact((short) port, (short) queue, mbufs, (short) n, data, len)) & 0xFFFF;
        } catch (Throwable t) { throw bug(t); }
    }

    /** tx burst that frees what the device did not take; returns the number sent. */
    public static int txBurstFree(int port, int queue, MemorySegment mbufs, int n) {
        try {
            return ((short) TX_BURST_FREE.invokeExact((short) port, (short) queue, mbufs, (short) n)) & 0xFFFF;
        } catch (Throwable t) { throw bug(t); }
    }

    /** ABI check: the Java side was written for {@link #EXPECTED_ABI}. */
    public static final int EXPECTED_ABI = 1;

    static void checkAbi() {
        int v = abiVersion();
        if (v != EXPECTED_ABI) {
            throw new IllegalStateException(LIBRARY + " has shim ABI " + v + ", Java expects " + EXPECTED_ABI + " (rebuild native/)");
        }
    }

    static {
        checkAbi();
    }

    /** Native long layout used by the per-worker pointer arrays. */
    public static final ValueLayout.OfLong PTR = JAVA_LONG;
}
