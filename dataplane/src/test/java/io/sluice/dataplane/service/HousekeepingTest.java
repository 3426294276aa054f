package io.sluice.dataplane.service;

import io.sluice.dataplane.config.ConfigException;
import io.sluice.dataplane.config.ConfigLoader;
import org.junit.jupiter.api.Test;

import java.util.BitSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/** {@code service.housekeeping-cpus}: the CPU-list syntax, what {@code auto} resolves to, and the config errors. */
class HousekeepingTest {

    private static BitSet bits(int... cpus) {
        BitSet b = new BitSet();
        for (int c : cpus) b.set(c);
        return b;
    }

    @Test
    void cpuListsParseAndFormatAsTasksetWritesThem() {
        assertEquals(bits(0, 2, 3), CpuList.parse("0,2-3"));
        assertEquals(bits(5), CpuList.parse(" 5 "));
        assertEquals("0,2-3,7", CpuList.format(bits(0, 2, 3, 7)));
        assertEquals("", CpuList.format(new BitSet()));
        for (String bad : new String[] {"", "a", "3-1", "1-", "-1", "1,,2", "2048", "1.5"}) {
            assertThrows(IllegalArgumentException.class, () -> CpuList.parse(bad), bad);
        }
    }

    /** Any set formats to a list that parses back to the same set. */
    @Test
    void formatThenParseIsTheIdentity() {
        qt().withExamples(2000).forAll(lists().of(integers().between(0, 300)).ofSizeBetween(1, 40)).checkAssert(cpus -> {
            BitSet b = new BitSet();
            cpus.forEach(b::set);
            assertEquals(b, CpuList.parse(CpuList.format(b)), CpuList.format(b));
        });
    }

    @Test
    void autoIsTheProcessCpusWithoutThePinnedWorkersOnesOffIsNothingAListIsItself() {
        assertEquals(bits(0, 2), Housekeeping.resolve("auto", bits(0, 1, 2, 3), bits(1, 3)));
        assertTrue(Housekeeping.resolve("auto", bits(0, 1), bits(0, 1)).isEmpty());
        assertTrue(Housekeeping.resolve("off", bits(0, 1), bits(1)).isEmpty());
        assertEquals(bits(4, 5), Housekeeping.resolve("4-5", bits(0, 1), bits(1)));
    }

    @Test
    void theConfigKeyIsCheckedWithFileLineAndKey() throws Exception {
        String base = "ports: [{name: a, device: net_null0}]\nservice:\n  housekeeping-cpus: ";
        assertEquals("auto", ConfigLoader.parse("h.yaml", "ports: [{name: a, device: net_null0}]\n").service().housekeepingCpus());
        assertEquals("0,2-3", ConfigLoader.parse("h.yaml", base + "\"0,2-3\"\n").service().housekeepingCpus());
        assertEquals("off", ConfigLoader.parse("h.yaml", base + "off\n").service().housekeepingCpus());
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("h.yaml", base + "\"3-1\"\n"));
        assertTrue(e.getMessage().startsWith("h.yaml:3: service.housekeeping-cpus: '3-1': range ends before it starts"), e.getMessage());
    }
}
