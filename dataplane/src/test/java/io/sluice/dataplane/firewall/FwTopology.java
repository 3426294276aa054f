package io.sluice.dataplane.firewall;

import io.sluice.dataplane.config.FirewallConfig;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;

/**
 * The test topology: four ports on one L2 segment 10.77.0.0/24 — two VM ports (vm1 .1, vm2 .2,
 * security groups) and two outside hosts (ext1 .11, ext2 .12, no security groups) — with MAC table
 * and ARP answers, plus a {@code security-groups} section whose group "web" (on vm1) gets the rules
 * a test asks for. Port devices are TAPs named {@code <ifPrefix>0..3} (only opened by the namespace test).
 */
public final class FwTopology {
    static final String[] NAMES = {"vm1", "vm2", "ext1", "ext2"};
    static final int VM1 = 0, VM2 = 1, EXT1 = 2, EXT2 = 3;

    static long mac(int port) { return 0x02_5f_00_00_00_01L + port; }

    static String macStr(int port) { return String.format("02:5f:00:00:00:%02x", port + 1); }

    static int ip(int port) { return (10 << 24) | (77 << 16) | (port < 2 ? port + 1 : port + 9); }

    static String ipStr(int port) { return "10.77.0." + (port < 2 ? port + 1 : port + 9); }

    public static String yaml(String ifPrefix, String webCut, String webRules) {
        StringBuilder y = new StringBuilder();
        y.append("eal: [\"--no-huge\", \"-m\", \"1024\", \"--no-pci\", \"--no-shconf\", \"-l\", \"0\"]\n");
        y.append("burst-size: 32\nidle-strategy: backoff\nmbufs: 8191\n");
        y.append("ports:\n");
        for (int p = 0; p < 4; p++) y.append("  - { name: ").append(NAMES[p]).append(", device: \"net_tap").append(p).append(",iface=").append(ifPrefix).append(p).append("\" }\n");
        y.append("mac-table:\n");
        for (int p = 0; p < 4; p++) y.append("  - { mac: \"").append(macStr(p)).append("\", port: ").append(NAMES[p]).append(" }\n");
        y.append("arp:\n");
        for (int p = 0; p < 4; p++) y.append("  - { ip: ").append(ipStr(p)).append(", mac: \"").append(macStr(p)).append("\" }\n");
        y.append(sg(webCut, webRules));
        return y.toString();
    }

    static String sg(String webCut, String webRules) {
        return "security-groups:\n"
                + "  max-connections: 16384\n"
                + "  max-connections-per-vm: 4096\n"
                + "  groups:\n"
                + "    - name: web\n"
                + "      on-rule-change: " + webCut + "\n"
                + "      rules:" + (webRules.isBlank() ? " []\n" : "\n" + webRules)
                + "  vm-ports:\n"
                + "    - { port: vm1, addresses: [10.77.0.1], groups: [default, web] }\n"
                + "    - { port: vm2, addresses: [10.77.0.2] }\n";
    }

    static SluiceConfig config(String ifPrefix, String webCut, String webRules) throws ConfigException {
        return ConfigLoader.parse("fw-test.yaml", yaml(ifPrefix, webCut, webRules));
    }

    static FirewallConfig firewall(SluiceConfig cfg, String ifPrefix, String webCut, String webRules) throws ConfigException {
        return FirewallConfigLoader.parseDocument("fw-test.yaml", yaml(ifPrefix, webCut, webRules), cfg);
    }

    private FwTopology() {}
}
