package io.sluice.dataplane.offload;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.agent.TestStages;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.ffi.Mbuf;
import io.sluice.dataplane.ffi.PortInfo;
import io.sluice.dataplane.ffi.Shim;
import io.sluice.dataplane.pipeline.Stage;
import io.sluice.dataplane.stage.ParseStage;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the devices Sluice runs on say they take at tx (rte_eth_dev_info on this machine's DPDK 22.11,
 * own JVM, unique --file-prefix, a TAP named after the pid, removed at close), and the {@link TxCaps}
 * Sluice derives: net_tap and net_ring take chains (kept), net_null does not (linearised); no
 * checksum/TSO pass-through on ports that are not vhost-user, even where the device offers it (tap).
 */
class TxCapsDpdkTest {
    @Test
    void devicesSayWhatTheyTake() {
        String tap = "slms" + ProcessHandle.current().pid();
        var cfg = TestStages.config("slt-txcaps",
                List.of(TestStages.port("r", "net_ring0"), TestStages.port("n", "net_null0"), TestStages.port("t", "net_tap0,iface=" + tap)),
                new int[] {0}, "backoff", 4095);
        Dataplane dp = Dataplane.start(cfg, (c, w) -> new Stage[] {new ParseStage()}, Counters.inMemory(1024));
        try {
            int ring = dp.ports().get(0).portId(), nul = dp.ports().get(1).portId(), t = dp.ports().get(2).portId();
            for (int id : new int[] {ring, nul, t}) {
                PortInfo i = Shim.portInfo(id);
                System.out.printf("tx_offload_capa %s: 0x%x (MULTI_SEGS %b, TCP_CKSUM %b, TCP_TSO %b) -> TxCaps %d%n", i.driver(),
                        i.txOffloadCapa(), (i.txOffloadCapa() & Mbuf.ETH_TX_MULTI_SEGS) != 0,
                        (i.txOffloadCapa() & Mbuf.ETH_TX_TCP_CKSUM) != 0, (i.txOffloadCapa() & Mbuf.ETH_TX_TCP_TSO) != 0, TxCaps.of(id));
            }
            assertEquals(TxCaps.MULTI_SEGS, TxCaps.of(ring), "net_ring: chains");
            assertEquals(0, TxCaps.of(nul), "net_null: no chains (linearised)");
            assertEquals(TxCaps.MULTI_SEGS, TxCaps.of(t), "net_tap: chains, its checksum/TSO not used");
            long tapCapa = Shim.portInfo(t).txOffloadCapa();
            assertTrue((tapCapa & Mbuf.ETH_TX_TCP_TSO) != 0 && (tapCapa & Mbuf.ETH_TX_TCP_CKSUM) != 0, "the tap PMD offers TSO and checksums");
        } finally {
            dp.close();
        }
    }
}
