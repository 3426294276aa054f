package io.sluice.dataplane.port;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.PortSpec;
import io.sluice.dataplane.config.SluiceConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Hot-plug slots (docs/api.md, "VMs on this host"): with a control API, {@code api.hotplug-ports}
 * port indexes are reserved after the file's ports, named {@code hotplug0}, {@code hotplug1}, … Every
 * structure sized by the port count at start (counters, the workers' tx arrays, the firewall's
 * per-port state) has them, so a device plugged in while running takes a slot's index and nothing is
 * resized. An empty slot's {@code devargs} is {@code ""} (no device, nothing polls it, a packet sent
 * to it is dropped as {@code BAD_OUT_PORT}); the control API fills a slot with a VM's
 * {@code port.device} and empties it when the VM is deleted, in the desired value itself, so the
 * journal's replay at start fills the same slots and their devices are created with the file's ports.
 */
public final class HotPlug {
    private HotPlug() {}

    /** Name prefix of the slots (the counters' and Prometheus' port label). */
    public static final String PREFIX = "hotplug";
    private static final java.util.regex.Pattern SLOT_NAME = java.util.regex.Pattern.compile(PREFIX + "[0-9]+");
    /** The {@code devargs} of an empty slot. */
    public static final String EMPTY = "";

    /** Plugs devices into a running data plane and takes them out again (the data plane's side of a hot-plug). */
    public interface Plugger {
        /**
         * Creates the device {@code spec.devargs()} (rte_dev_probe), configures and starts it as port
         * {@code index}, and returns once every worker polls and sends with the new port set.
         *
         * @throws Failed naming what failed; nothing of it is left behind
         */
        void plug(int index, PortSpec spec);

        /** Takes port {@code index} out of every worker's set (waits until each has moved past), then stops, closes and removes it. */
        void unplug(int index);
    }

    /** A plug that failed: {@code status} 400 when DPDK refused the device string, 5xx otherwise. */
    public static final class Failed extends RuntimeException {
        private final int status;

        public Failed(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    /** Slot {@code k}'s name. */
    public static String slotName(int k) {
        return PREFIX + k;
    }

    /** Whether {@code s} is a hot-plug slot (filled or not). */
    public static boolean isSlot(PortSpec s) {
        return SLOT_NAME.matcher(s.name()).matches() && s.rxQueues() == 1 && s.txQueues() == 0 && s.mac() == -1;
    }

    /** Whether {@code s} is a slot without a device. */
    public static boolean isEmpty(PortSpec s) {
        return s.devargs().isEmpty();
    }

    /**
     * {@code cfg} (the file's value: no slots yet) with {@code n} empty slots after its ports.
     *
     * @throws ConfigException when a port of the file is named like a slot
     */
    public static SluiceConfig withSlots(SluiceConfig cfg, int n) throws ConfigException {
        List<PortSpec> ports = new ArrayList<>(cfg.ports());
        for (PortSpec p : ports) {
            if (SLOT_NAME.matcher(p.name()).matches()) {
                throw new ConfigException(cfg.source() + ": ports: '" + p.name() + "' is the name of a hot-plug slot (api.hotplug-ports);"
                        + " give the port another name");
            }
        }
        for (int k = 0; k < n; k++) ports.add(slot(k, EMPTY));
        return cfg.withPorts(ports);
    }

    /** Slot {@code k} holding {@code devargs} ({@link #EMPTY}: none). */
    public static PortSpec slot(int k, String devargs) {
        return new PortSpec(slotName(k), devargs, 1, 0, -1);
    }

    /** The slot's number: {@code hotplug3} → 3. */
    public static int number(PortSpec s) {
        return Integer.parseInt(s.name().substring(PREFIX.length()));
    }
}
