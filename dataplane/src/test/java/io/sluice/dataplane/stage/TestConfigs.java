package io.sluice.dataplane.stage;

import io.sluice.dataplane.config.PortSpec;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.config.SluiceConfig.ArpEntry;
import io.sluice.dataplane.config.SluiceConfig.MacEntry;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A small configuration for stage tests: three ports, three hosts, a gateway address. */
final class TestConfigs {
    static final long MAC_A = 0x02_5c_00_00_00_01L;
    static final long MAC_B = 0x02_5c_00_00_00_02L;
    static final long MAC_C = 0x02_5c_00_00_00_03L;
    static final long MAC_GW = 0x02_5c_00_00_00_feL;
    static final int IP_A = 0x0A_C7_00_01;   // 10.199.0.1
    static final int IP_B = 0x0A_C7_00_02;
    static final int IP_C = 0x0A_C7_00_03;
    static final int IP_GW = 0x0A_C7_00_FE;
    /** Answered only on port 2. */
    static final int IP_PORT2_ONLY = 0x0A_C7_00_64;
    static final long MAC_PORT2_ONLY = 0x02_5c_00_00_00_64L;

    private TestConfigs() {}

    static List<MacEntry> macTable() {
        return List.of(new MacEntry(MAC_A, 0), new MacEntry(MAC_B, 1), new MacEntry(MAC_C, 2));
    }

    static List<ArpEntry> arp() {
        return List.of(new ArpEntry(IP_A, MAC_A, -1), new ArpEntry(IP_B, MAC_B, -1), new ArpEntry(IP_C, MAC_C, -1),
                new ArpEntry(IP_GW, MAC_GW, -1), new ArpEntry(IP_PORT2_ONLY, MAC_PORT2_ONLY, 2));
    }

    static SluiceConfig config() {
        List<PortSpec> ports = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            ports.add(new PortSpec("p" + p, "net_null" + p, 1, 1, 0));
        }
        return new SluiceConfig("test", List.of(), ports, List.of(), 32, "busy-spin", 1024,
                macTable(), arp(), Path.of("/tmp/unused-counters"));
    }
}
