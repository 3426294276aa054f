package io.sluice.dataplane.overlay;

import io.sluice.dataplane.config.Net;
import io.sluice.dataplane.packet.Mem;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * The encap stage's outer header templates ({@link OuterHeaders#find} / {@link OuterHeaders#write}) give
 * byte for byte what the plain field-by-field builder ({@link OuterHeaders#writePlain}, full IPv4 checksum)
 * gives, for any destination, next-hop MAC, VNI, inner length and source port, through cache hits, slot
 * collisions, next-hop MAC changes and snapshot changes; the checksum verifies.
 */
class OuterHeadersProperties {
    private static final int N = OuterHeaders.LEN;

    @Test
    void templateWritesThePlainHeader() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fast = a.allocate(N + 16), slow = a.allocate(N + 16);
            qt().withExamples(2000).withShrinkCycles(200)
                    .forAll(longs().all(), longs().all(), longs().all(), integers().between(0, 0xFFFF - 36))
                    .checkAssert((macs, ips, dest, innerLen) -> {
                        int vtep = dest.intValue();
                        if (vtep == 0) return; // never encapsulated to
                        long ulMac = macs & 0xFFFF_FFFF_FFFFL;
                        int ulIp = ips.intValue();
                        long nh = (macs >>> 16) & 0xFFFF_FFFF_FFFFL;
                        int vni = (int) (dest >>> 32) & 0xFF_FFFF;
                        int sport = 49152 | ((int) (ips >>> 32) & 0x3FFF);
                        OuterHeaders h = new OuterHeaders();
                        h.begin(new Object(), ulMac, ulIp);
                        fill(fast, slow);
                        h.write(fast.address() + 8, h.find(vtep, vni, nh), innerLen, sport);
                        OuterHeaders.writePlain(slow.address() + 8, nh, ulMac, ulIp, vtep, vni, innerLen, sport);
                        assertArrayEquals(slow.toArray(ValueLayout.JAVA_BYTE), fast.toArray(ValueLayout.JAVA_BYTE),
                                "template != plain (bytes around the header untouched too)");
                        assertEquals(0, Net.checksum(fast.address() + 8 + 14, 20), "IPv4 header checksum does not verify");
                    });
        }
    }

    /** Many destinations through one cache (hits, collisions, MAC changes, a new snapshot): always the plain bytes. */
    @Test
    void cacheAlwaysWritesTheCurrentDestination() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fast = a.allocate(N), slow = a.allocate(N);
            qt().withExamples(300).withShrinkCycles(100)
                    .forAll(longs().all(), integers().between(1, 2000))
                    .checkAssert((seed, vteps) -> {
                        Random r = new Random(seed);
                        Object snap = new Object();
                        long ulMac = r.nextLong() & 0xFFFF_FFFF_FFFFL;
                        int ulIp = r.nextInt();
                        OuterHeaders h = new OuterHeaders();
                        for (int k = 0; k < 600; k++) {
                            if (r.nextInt(200) == 0) {
                                snap = new Object(); // a new snapshot: new underlay MAC / IP
                                ulMac = r.nextLong() & 0xFFFF_FFFF_FFFFL;
                                ulIp = r.nextInt();
                            }
                            h.begin(snap, ulMac, ulIp);
                            int vtep = 1 + r.nextInt(vteps);
                            int vni = r.nextInt(4) == 0 ? r.nextInt() & 0xFF_FFFF : 100 + r.nextInt(3);
                            long nh = 0x02_00_00_00_00_00L | r.nextInt(3);
                            int len = 14 + r.nextInt(9000), sport = 49152 | r.nextInt(0x4000);
                            h.write(fast.address(), h.find(vtep, vni, nh), len, sport);
                            OuterHeaders.writePlain(slow.address(), nh, ulMac, ulIp, vtep, vni, len, sport);
                            if (!Arrays.equals(slow.toArray(ValueLayout.JAVA_BYTE), fast.toArray(ValueLayout.JAVA_BYTE))) {
                                throw new AssertionError("step " + k + ": template for vtep " + vtep + " vni " + vni + " nh " + Long.toHexString(nh) + " != plain");
                            }
                        }
                    });
        }
    }

    /** The template is built once per destination: a burst to one VTEP builds one entry, not one per packet. */
    @Test
    void oneBuildPerDestination() {
        try (Arena a = Arena.ofConfined()) {
            long o = a.allocate(N).address();
            OuterHeaders h = new OuterHeaders();
            OverlaySnapshot s = Fixtures.compile(Fixtures.host1Model(Fixtures.NEXT_HOP_MAC));
            h.begin(s);
            for (int k = 0; k < 1000; k++) h.write(o, h.find(0xC0A8_3202, 100, 0x02_00_00_00_aa_02L), 64 + k, 49152);
            assertEquals(1, h.builds);
            h.begin(s); // the same snapshot: the entries stay
            h.write(o, h.find(0xC0A8_3202, 100, 0x02_00_00_00_aa_02L), 64, 49152);
            assertEquals(1, h.builds);
            h.write(o, h.find(0xC0A8_3202, 100, 0x02_00_00_00_aa_03L), 64, 49152); // the next hop's MAC changed
            assertEquals(2, h.builds);
            h.begin(Fixtures.compile(Fixtures.host1Model(Fixtures.NEXT_HOP_MAC))); // a new snapshot empties the cache
            h.write(o, h.find(0xC0A8_3202, 100, 0x02_00_00_00_aa_03L), 64, 49152);
            assertEquals(3, h.builds);
            assertEquals(0xC0A8_3202, Mem.i32(o + 30));
            assertTrue(Net.checksum(o + 14, 20) == 0);
        }
    }

    private static void fill(MemorySegment... segs) {
        for (MemorySegment m : segs) m.fill((byte) 0x5A);
    }
}
