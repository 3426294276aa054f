package io.sluice.dataplane.port;

import io.sluice.dataplane.config.PortSpec;
import io.sluice.dataplane.ffi.Dpdk;
import io.sluice.dataplane.ffi.PortInfo;
import io.sluice.dataplane.ffi.Shim;

import java.util.ArrayList;
import java.util.List;

/**
 * Ports from {@link PortSpec}s: EAL arguments that create them ({@code --vdev} for virtual
 * devices: net_tap, net_ring, net_null, net_pcap, net_memif, net_vhost; {@code -a} for PCI),
 * then configure / start / stop / close. Control path only.
 */
public final class Ports {
    private Ports() {}

    public static final int RX_DESC = 1024;
    public static final int TX_DESC = 1024;
    /** Rx descriptors of a hot-plugged port (docs/api.md: the mbuf pool needs room for one ring per filled slot). */
    public static final int HOTPLUG_RX_DESC = 256;

    /** EAL arguments that make every port exist: {@code --vdev DEVARGS} or {@code -a PCI}. */
    public static List<String> ealArgs(List<PortSpec> specs) {
        List<String> a = new ArrayList<>();
        for (PortSpec s : specs) {
            if (s.devargs().isEmpty()) continue; // an empty hot-plug slot (HotPlug)
            a.add(s.isPci() ? "-a" : "--vdev");
            a.add(s.devargs());
        }
        return a;
    }

    /** The ethdev name DPDK gives the device: devargs up to the first comma (vdev name or PCI address). */
    public static String deviceName(PortSpec s) {
        String d = s.devargs();
        int comma = d.indexOf(',');
        return comma < 0 ? d : d.substring(0, comma);
    }

    /**
     * Configures and starts every port. {@code txQueuesNeeded[i]} is the number of tx queues
     * the workers use on port i (one per worker); a port gets max(spec, needed).
     *
     * @throws IllegalStateException naming the port when it does not exist or cannot take the queues
     */
    public static List<Port> openAll(List<PortSpec> specs, long pool, int[] rxQueuesNeeded, int[] txQueuesNeeded) {
        List<Port> out = new ArrayList<>();
        try {
            for (int i = 0; i < specs.size(); i++) {
                out.add(specs.get(i).devargs().isEmpty() ? empty(i, specs.get(i))
                        : open(i, specs.get(i), pool, Math.max(rxQueuesNeeded[i], HotPlug.isSlot(specs.get(i)) ? 1 : 0), txQueuesNeeded[i]));
            }
        } catch (RuntimeException e) {
            stopAndClose(out);
            throw e;
        }
        return out;
    }

    /** An empty hot-plug slot: no device (port id -1). */
    public static Port empty(int index, PortSpec s) {
        return new Port(index, s, -1, "", "", 0, 0, false, 0);
    }

    /**
     * Hot-plugs {@code s} as port {@code index}: rte_dev_probe of its devargs, then configured and
     * started as {@link #open} does a port at start (one rx queue, {@code txNeeded} tx queues).
     *
     * @throws HotPlug.Failed 400 when DPDK refuses the device string, 500 when the device cannot be
     *                        configured or started (it is removed again)
     */
    public static Port plug(int index, PortSpec s, long pool, int txNeeded) {
        String dev = deviceName(s);
        if (Shim.portByName(dev) >= 0) {
            throw new HotPlug.Failed(409, "port.device: a DPDK device named '" + dev + "' exists already");
        }
        int rc = Shim.devProbe(s.devargs());
        if (rc < 0) {
            throw new HotPlug.Failed(400, "port.device: DPDK could not create the device '" + s.devargs() + "' (rte_dev_probe: "
                    + Shim.strerror(-rc) + "); e.g. net_tap7,iface=vm7 or net_vhost7,iface=/run/vm7.sock");
        }
        try {
            return open(index, s, pool, 1, txNeeded);
        } catch (RuntimeException e) {
            int id = Shim.portByName(dev);
            if (id >= 0) remove(id);
            throw new HotPlug.Failed(500, "port.device: '" + s.devargs() + "' was created but could not be started: " + e.getMessage());
        }
    }

    /** Stops, closes and removes (rte_dev_remove) a hot-plugged port; errors are returned as text, or null. */
    public static String unplug(Port p) {
        return remove(p.portId());
    }

    private static String remove(int id) {
        long dev = Shim.portDevice(id);
        Shim.portStop(id);
        int rc = Shim.portClose(id);
        int rm = dev == 0 ? -19 : Shim.devRemove(dev);
        if (rc < 0) return "close: " + Shim.strerror(-rc);
        if (rm < 0) return "rte_dev_remove: " + Shim.strerror(-rm);
        return null;
    }

    static Port open(int index, PortSpec s, long pool, int rxNeeded, int txNeeded) {
        String dev = deviceName(s);
        int id = Shim.portByName(dev);
        if (id < 0) {
            throw new IllegalStateException("port " + s.name() + ": no DPDK device named " + dev
                    + " (devargs " + s.devargs() + "); did EAL create it? see EAL's messages above");
        }
        PortInfo info = Shim.portInfo(id);
        int rxq = Math.max(Math.max(1, s.rxQueues()), rxNeeded);
        int txq = Math.max(Math.max(1, s.txQueues()), txNeeded);
        if (rxq > info.maxRxQueues()) {
            throw new IllegalStateException("port " + s.name() + " (" + info.driver() + ") supports at most "
                    + info.maxRxQueues() + " rx queues; the configuration needs " + rxq);
        }
        if (txq > info.maxTxQueues()) {
            throw new IllegalStateException("port " + s.name() + " (" + info.driver() + ") supports at most "
                    + info.maxTxQueues() + " tx queues; the configuration needs " + txq + " (one per worker)");
        }
        int[] rss = new int[1];
        // a hot-plug slot's rx ring is smaller: a TAP fills its whole ring with mbufs of the pool at setup
        int rxd = HotPlug.isSlot(s) ? HOTPLUG_RX_DESC : RX_DESC;
        Dpdk.check(Shim.portConfigure(id, rxq, txq, rxd, TX_DESC, pool, rss,
                        io.sluice.dataplane.offload.TxCaps.rxOffloads(info), io.sluice.dataplane.offload.TxCaps.txOffloads(info)),
                "configure port " + s.name() + " (" + dev + ", " + rxq + " rx / " + txq + " tx queues)");
        if (s.mac() >= 0) {
            Dpdk.check(Shim.portMacSet(id, s.mac()), "set MAC " + Port.macString(s.mac()) + " on port " + s.name());
        }
        io.sluice.dataplane.offload.TxCaps.set(id, io.sluice.dataplane.offload.TxCaps.caps(info));
        Dpdk.check(Shim.portStart(id), "start port " + s.name() + " (" + dev + ")");
        // Promiscuous mode is best effort: some virtual devices do not implement it.
        Shim.portPromiscuous(id, true);
        long mac = Shim.portMac(id);
        return new Port(index, s, id, dev, info.driver(), rxq, txq, rss[0] != 0, mac);
    }

    /** Stops then closes every port (errors are reported, not thrown: this runs at shutdown). */
    public static void stopAndClose(List<Port> ports) {
        for (Port p : ports) {
            if (p.portId() < 0) continue; // an empty hot-plug slot
            int rc = Shim.portStop(p.portId());
            if (rc < 0) {
                System.err.println("sluice: stop port " + p.name() + ": " + Shim.strerror(-rc));
            }
        }
        for (Port p : ports) {
            if (p.portId() < 0) continue;
            int rc = Shim.portClose(p.portId());
            if (rc < 0) {
                System.err.println("sluice: close port " + p.name() + ": " + Shim.strerror(-rc));
            }
        }
    }
}
