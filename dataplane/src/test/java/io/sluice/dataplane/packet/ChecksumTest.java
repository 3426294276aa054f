package io.sluice.dataplane.packet;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

class ChecksumTest {
    private static NativeFrames frames;

    @BeforeAll
    static void setUp() {
        frames = new NativeFrames();
    }

    @AfterAll
    static void tearDown() {
        frames.close();
    }

    @Test
    void knownIpv4HeaderVector() {
        // 192.168.0.1 -> 192.168.0.199, UDP, total length 0x73: checksum 0xb861 (the classic example)
        byte[] h = hex("45000073000040004011b861c0a80001c0a800c7");
        long ip = frames.put(h);
        assertEquals(0xB861, Checksum.ipv4Header(ip));
        assertTrue(Checksum.ipv4HeaderValid(ip));
        Mem.put8(ip + 8, 0x3F);
        assertFalse(Checksum.ipv4HeaderValid(ip));
        Checksum.setIpv4Header(ip);
        assertTrue(Checksum.ipv4HeaderValid(ip));
        assertEquals(PacketSpec.checksum(NativeFrames.read(ip, 20), 20), Mem.u16(ip + 10));
    }

    @Test
    void oddLengthIsPaddedWithZero() {
        long a = frames.put(new byte[] {0x01, 0x02, 0x03});
        assertEquals(0x0102 + 0x0300, Checksum.add(0, a, 3));
        assertEquals(0xFFFF, Checksum.fold(0xFFFFL));
        assertEquals(0x0001, Checksum.fold(0x10000L));
    }

    @Test
    void incremental16MatchesFullRecompute() {
        qt().withExamples(2000)
                .forAll(integers().between(0, Integer.MAX_VALUE), integers().between(0, 9), integers().between(0, 0xFFFF))
                .checkAssert((seed, word, v) -> {
                    int value = v;
                    long ip = randomHeader(seed);
                    if (word == 5) {
                        return; // the checksum field itself
                    }
                    if (word == 0) {
                        value = 0x4500 | (value & 0xFF); // keep version 4, IHL 5: the header length must not change
                    }
                    int before = Mem.u16(ip + 10);
                    int old = Mem.u16(ip + 2L * word);
                    Mem.put16(ip + 2L * word, value);
                    int incremental = Checksum.update16(before, old, value);
                    assertEquals(Checksum.ipv4Header(ip), incremental, "word " + word);
                });
    }

    @Test
    void incremental32OnAddressMatchesFullRecomputeForIpAndTcp() {
        qt().withExamples(2000)
                .forAll(integers().between(0, Integer.MAX_VALUE), integers().all(), integers().between(0, 1))
                .checkAssert((seed, addr, which) -> {
                    // IPv4 header + 20-byte TCP header + 13 bytes of data, both checksums valid
                    Random r = new Random(seed);
                    byte[] pkt = new byte[20 + 20 + 13];
                    r.nextBytes(pkt);
                    pkt[0] = 0x45;
                    pkt[2] = 0;
                    pkt[3] = (byte) pkt.length;
                    pkt[9] = 6;
                    long ip = frames.put(pkt);
                    long tcp = ip + 20;
                    Checksum.setIpv4Header(ip);
                    Mem.put16(tcp + 16, Checksum.l4(Checksum.pseudoHeaderV4(ip, 6, 33), tcp, 33, 16));
                    int field = which == 0 ? Ipv4Header.SRC_OFFSET : Ipv4Header.DST_OFFSET;
                    int old = Mem.i32(ip + field);
                    Mem.put32(ip + field, addr);
                    Checksum.update32At(ip + 10, old, addr);
                    Checksum.update32At(tcp + 16, old, addr);
                    assertTrue(Checksum.ipv4HeaderValid(ip));
                    assertEquals(Checksum.ipv4Header(ip), Mem.u16(ip + 10));
                    assertEquals(Checksum.l4(Checksum.pseudoHeaderV4(ip, 6, 33), tcp, 33, 16), Mem.u16(tcp + 16));
                    // and a port rewrite (NAPT) with update16
                    int oldPort = Mem.u16(tcp);
                    Mem.put16(tcp, oldPort ^ 0x5A5A);
                    Checksum.update16At(tcp + 16, oldPort, oldPort ^ 0x5A5A);
                    assertEquals(Checksum.l4(Checksum.pseudoHeaderV4(ip, 6, 33), tcp, 33, 16), Mem.u16(tcp + 16));
                });
    }

    @Test
    void ipv6PseudoHeaderSumsAddressesLengthAndNextHeader() {
        byte[] h = new byte[40];
        h[8 + 15] = 1;   // src ::1
        h[24 + 15] = 2;  // dst ::2
        long ip = frames.put(h);
        assertEquals(1 + 2 + 8 + 17, Checksum.pseudoHeaderV6(ip, 17, 8));
        assertEquals(1 + 2 + 1 + 0x0001 + 17, Checksum.pseudoHeaderV6(ip, 17, 0x10001));
    }

    private static long randomHeader(int seed) {
        Random r = new Random(seed);
        byte[] h = new byte[20];
        r.nextBytes(h);
        h[0] = 0x45;
        long ip = frames.put(h);
        Checksum.setIpv4Header(ip);
        return ip;
    }

    private static byte[] hex(String s) {
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }
}
