package io.sluice.bench.conntrack;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A short firewall soak ({@link SoakBench}, the driver of {@code ./sluice bench soak}) passes, and
 * the soak fails when a property is broken on purpose: without a per-VM limit the flood takes the
 * host table and the other VMs' new connections are refused FW_LIMIT; without the final expiry the
 * occupancy does not return to its baseline. Outcomes only, no timing: on a slow machine the soak
 * sends fewer packets, the properties are the same.
 */
class SoakBenchTest {
    static List<String> soak(double seconds, String inject) throws Exception {
        List<String> lines = new ArrayList<>();
        lines.add(SoakBench.soak(seconds, seconds, 20261206, inject, lines::add));
        return lines;
    }

    static String verdict(List<String> lines) { return lines.get(lines.size() - 1); }

    @Test
    void shortSoakPasses() throws Exception {
        List<String> l = soak(4, "none");
        assertEquals("soak=pass", verdict(l), String.join("\n", l));
        assertTrue(l.stream().anyMatch(s -> s.contains("FW_LIMIT") && s.contains("firewall counters")), "the flood hit vm0's limit: " + l);
        assertTrue(l.stream().anyMatch(s -> s.contains("FW_FRAGMENT_UNKNOWN")), "orphan fragments dropped: " + l);
    }

    @Test
    void withoutPerVmLimitTheFloodBlocksTheOthersAndTheSoakFails() throws Exception {
        String v = verdict(soak(2, "no-vm-limit"));
        assertTrue(v.startsWith("soak=fail: ") && v.contains("(not the flooder) had") && v.contains("refused FW_LIMIT"), v);
    }

    @Test
    void withoutExpiryTheOccupancyStaysAndTheSoakFails() throws Exception {
        String v = verdict(soak(2, "no-expiry"));
        assertTrue(v.startsWith("soak=fail: ") && v.contains("after every timeout, baseline 0"), v);
    }
}
