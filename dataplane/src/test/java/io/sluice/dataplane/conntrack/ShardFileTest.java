package io.sluice.dataplane.conntrack;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Warm restart of a conntrack shard ({@link ShardFile}, {@link Conntrack#attach}): a table written
 * by one tracker is found by the next one attaching the same file (connections, states, windows,
 * timeouts re-based after a reboot, unshifted within a boot even when the wall clock stepped,
 * limits); a header that does not match (version, entry size,
 * capacity, fingerprint, torn header, corrupt entry) gives an empty table and one line naming the
 * file and the reason; a file held by a live tracker is not shared.
 */
class ShardFileTest {
    private static final long SEC = 1_000_000_000L;
    private final Path dir = tempDir();
    private final List<String> log = new ArrayList<>();

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("ct-shard-" + ProcessHandle.current().pid() + "-");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterEach
    void cleanup() throws Exception {
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) Files.delete(p);
        }
        Files.delete(dir);
    }

    private Conntrack open(ConnLimits l, Path f, long fingerprint, long clockBase) {
        return open(l, f, fingerprint, clockBase, 1);
    }

    private Conntrack open(ConnLimits l, Path f, long fingerprint, long clockBase, long boot) {
        return Conntrack.attach(100, CtTimeouts.defaults(), l, 42, f, fingerprint, clockBase, boot, log::add);
    }

    private static CtPacket syn(CtPacket p, int sport) {
        return p.v4(1, 0x0A000001, 0x0A000002).tcp(sport, 80, TcpFlags.SYN, 1000, 0, 65535, 0);
    }

    /** Opens connection sport (SYN, SYN/ACK, ACK): ESTABLISHED. */
    private static void handshake(Conntrack ct, int sport, long now) {
        CtPacket p = new CtPacket();
        assertEquals(Verdict.NEW, ct.track(syn(p, sport), now));
        assertEquals(Verdict.NEW, ct.commit(p, 1, now));
        p.v4(1, 0x0A000002, 0x0A000001).tcp(80, sport, TcpFlags.SYN | TcpFlags.ACK, 5000, 1001, 65535, 0);
        assertEquals(Verdict.ESTABLISHED, ct.track(p, now));
        p.v4(1, 0x0A000001, 0x0A000002).tcp(sport, 80, TcpFlags.ACK, 1001, 5001, 65535, 0);
        assertEquals(Verdict.ESTABLISHED, ct.track(p, now));
    }

    private static Verdict data(Conntrack ct, int sport, int seq, long now) {
        CtPacket p = new CtPacket().v4(1, 0x0A000001, 0x0A000002).tcp(sport, 80, TcpFlags.ACK, seq, 5001, 65535, 100);
        return ct.track(p, now);
    }

    @Test
    void aSecondTrackerAttachesTheTableTheFirstLeft() {
        Path f = dir.resolve("ct-0.shard");
        ConnLimits l1 = new ConnLimits(1000, 4, 1000);
        long base = 1_000_000 * SEC;
        Conntrack a = open(l1, f, 5, base);
        assertEquals(0, a.attachedCount());
        for (int s = 1000; s < 1010; s++) handshake(a, s, 10 * SEC);
        // one connection in SYN_SENT only (no answer): its 120 s timeout must keep its meaning
        CtPacket p = new CtPacket();
        assertEquals(Verdict.NEW, a.commit(syn(p, 2000), 1, 10 * SEC));
        a.close(); // detach (a kill -9 leaves the same bytes: the mapping is the file's page cache)

        // the next process, after a reboot (another boot id): its nanoTime runs 500 s behind the
        // old one's (clock base 500 s larger); deadlines are re-based on the wall clock
        ConnLimits l2 = new ConnLimits(1000, 4, 1000);
        Conntrack b = open(l2, f, 5, base + 500 * SEC, 2);
        try {
            assertTrue(log.isEmpty(), log.toString());
            assertEquals(11, b.attachedCount());
            assertEquals(11, b.size());
            assertEquals(11, l2.vmCount(1), "kept entries are charged to their VM again");
            assertEquals(11, l2.hostCount());
            long now = 10 * SEC - 500 * SEC + 60 * SEC; // 60 s after the handshakes, on the old clock
            assertEquals(Verdict.ESTABLISHED, data(b, 1003, 1001, now), "window state kept");
            assertEquals(TcpState.ESTABLISHED.ordinal(), b.lastState());
            assertEquals(Verdict.INVALID, data(b, 1004, 1001 + (1 << 30), now), "windows kept: far out of window is INVALID");
            assertEquals(TcpState.SYN_SENT.ordinal(), b.peekState(syn(p, 2000), now), "SYN_SENT alive 60 s in");
            assertEquals(-1, b.peekState(syn(p, 2000), now + 61 * SEC), "and expired 121 s in (120 s timeout)");
            assertEquals(Verdict.INVALID, data(b, 3000, 1, now), "no pickup unless switched on");
        } finally {
            b.close();
        }
    }

    /**
     * NAT across a restart: every kept entry with a NAT word is offered to the NAT once, with its VM,
     * protocol and the initiator's port (whichever endpoint of the key that is); kept when the NAT
     * takes it back, deleted (and not charged) otherwise; entries without a word are not offered.
     * Without a NAT every NAT'd entry is deleted.
     */
    @Test
    void natWordsAreOfferedToTheNatAtAttachAndKeptOnlyWhenItTakesThemBack() {
        int snat = 0x8000_0000, fip = 0x4000_0000;
        Path f = dir.resolve("ct-nat.shard");
        Conntrack a = open(new ConnLimits(1000, 4, 1000), f, 5, 0);
        int[] words = {snat | 1, snat | 2, fip, 0, snat | 3, 0};
        for (int k = 0; k < words.length; k++) {
            handshake(a, 1000 + k, SEC);
            if (words[k] != 0) {
                assertEquals(Verdict.ESTABLISHED, data(a, 1000 + k, 1001, SEC));
                a.setLastNat(words[k]);
            }
        }
        // a UDP flow opened by the endpoint with the larger address (the key's B side): its port is the initiator's
        CtPacket u = new CtPacket().v4(1, 0x0A000002, 0x0A000001).udp(7777, 53, 10);
        assertEquals(Verdict.NEW, a.commit(u, 2, SEC));
        a.setLastNat(snat | 9);
        a.close();

        List<List<Integer>> offered = new ArrayList<>();
        ConnLimits l2 = new ConnLimits(1000, 4, 1000);
        Conntrack b = Conntrack.attach(100, CtTimeouts.defaults(), l2, 42, f, 5, 0, 1, log::add, (word, vm, proto, port) -> {
            offered.add(List.of(word, vm, proto, port));
            return word != (snat | 2);
        });
        try {
            assertEquals(java.util.Set.of(List.of(snat | 1, 1, 6, 1000), List.of(snat | 2, 1, 6, 1001), List.of(fip, 1, 6, 1002),
                    List.of(snat | 3, 1, 6, 1004), List.of(snat | 9, 2, 17, 7777)), new java.util.HashSet<>(offered));
            assertEquals(5, offered.size(), "each offered once: " + offered);
            assertEquals(4, b.natKeptAtAttach());
            assertEquals(1, b.natDroppedAtAttach());
            assertEquals(6, b.attachedCount());
            assertEquals(6, l2.hostCount(), "only kept entries are charged");
            assertEquals(1, l2.vmCount(2));
            assertEquals(Verdict.ESTABLISHED, data(b, 1000, 1001, 2 * SEC));
            assertEquals(snat | 1, b.lastNat(), "the NAT word is kept with its entry");
            assertEquals(Verdict.INVALID, data(b, 1001, 1001, 2 * SEC), "the refused one is gone (pickup off)");
            assertEquals(Verdict.ESTABLISHED, data(b, 1003, 1001, 2 * SEC), "entries without NAT stay");
        } finally {
            b.close();
        }
        // without a NAT (null): every NAT'd entry goes
        ConnLimits l3 = new ConnLimits(1000, 4, 1000);
        Conntrack c = open(l3, f, 5, 0);
        try {
            assertEquals(4, c.natDroppedAtAttach());
            assertEquals(0, c.natKeptAtAttach());
            assertEquals(2, c.attachedCount());
        } finally {
            c.close();
        }
    }

    /** A NAT whose settings hash is {@code settings} and that takes every word back. */
    private static Conntrack.NatAdopt natWith(long settings) {
        return new Conntrack.NatAdopt() {
            @Override
            public boolean adopt(int natWord, int vm, int proto, int initiatorPort) { return true; }

            @Override
            public long settings() { return settings; }
        };
    }

    private Conntrack openNat(Path f, long fingerprint, long settings) {
        return Conntrack.attach(100, CtTimeouts.defaults(), new ConnLimits(1000, 4, 1000), 42, f, fingerprint, 0, 1, log::add, natWith(settings));
    }

    /**
     * The NAT's settings hash is part of the fingerprint: the same settings keep the table, other
     * settings (or a table written without any, by a data plane without an external network) start
     * empty with a line naming the external network; a change of both names both. Without NAT
     * settings (0) the fingerprint is the one files written before had.
     */
    @Test
    void natSettingsArePartOfTheFingerprint() throws Exception {
        Path f = dir.resolve("ct-natfp.shard");
        Object[][] cases = { // settings before, fingerprint and settings after, kept, the line's reason
            {7L, 5L, 7L, true, null},
            {7L, 5L, 8L, false, "external network settings changed (SNAT or floating addresses, port-block, blocks-per-vm)"},
            {0L, 5L, 8L, false, "external network settings changed"},
            {7L, 5L, 0L, false, "external network settings changed"},
            {7L, 6L, 8L, false, "hash seed, shard count or size changed; external network settings too"},
            {7L, 6L, 7L, false, "hash seed, shard count or size changed)"},
            {0L, 5L, 0L, true, null},
        };
        for (Object[] c : cases) {
            String name = java.util.Arrays.toString(c);
            log.clear();
            Conntrack a = openNat(f, 5, (long) c[0]);
            handshake(a, 1000, SEC);
            a.setLastNat(0x8000_0001);
            a.close();
            log.clear();
            Conntrack b = openNat(f, (long) c[1], (long) c[2]);
            try {
                if ((boolean) c[3]) {
                    assertEquals(1, b.attachedCount(), name);
                    assertEquals(1, b.natKeptAtAttach(), name);
                    assertTrue(log.isEmpty(), name + ": " + log);
                } else {
                    assertEquals(0, b.attachedCount(), name);
                    assertEquals(0, b.size(), name);
                    assertEquals(1, log.size(), name + ": " + log);
                    assertTrue(log.get(0).contains(f.toString()) && log.get(0).contains((String) c[4]) && log.get(0).contains("starting empty"),
                            name + ": " + log.get(0));
                }
            } finally {
                b.close();
            }
            java.nio.file.Files.deleteIfExists(f);
        }
        // without a NAT at all the fingerprint is as before NAT settings existed
        assertEquals(12345L, ShardFile.withNat(12345L, 0));
        assertTrue(ShardFile.withNat(12345L, 1) != 12345L);
    }

    @Test
    void withinOneBootTheMonotonicClockNeedsNoRebaseEvenWhenTheWallClockStepped() {
        Path f = dir.resolve("ct-3.shard");
        Conntrack a = open(new ConnLimits(1000, 4, 1000), f, 5, 0, 7);
        CtPacket p = new CtPacket();
        assertEquals(Verdict.NEW, a.commit(syn(p, 2000), 1, 10 * SEC));
        a.close();
        // same boot (7), the wall clock stepped an hour while the data plane was down
        Conntrack b = open(new ConnLimits(1000, 4, 1000), f, 5, 3600 * SEC, 7);
        try {
            assertEquals(1, b.attachedCount());
            assertEquals(TcpState.SYN_SENT.ordinal(), b.peekState(syn(p, 2000), 10 * SEC + 119 * SEC), "120 s timeout on the same clock");
            assertEquals(-1, b.peekState(syn(p, 2000), 10 * SEC + 120 * SEC));
        } finally {
            b.close();
        }
    }

    @Test
    void aHeaderThatDoesNotMatchStartsEmptyWithOneLineNamingTheFileAndTheReason() throws Exception {
        Path f = dir.resolve("ct-1.shard");
        String[][] cases = {
            {"fingerprint", "configuration fingerprint"},
            {"version", "layout version 99, this build uses " + ShardFile.VERSION},
            {"slot", "entry size 96, this build uses 128"},
            {"torn", "header checksum mismatch"},
            {"magic", "bad magic"},
            {"size", "file size"},
            {"entry", "tag does not match its key"},
        };
        for (String[] c : cases) {
            log.clear();
            Files.deleteIfExists(f);
            Conntrack a = open(new ConnLimits(1000, 4, 1000), f, 5, 0);
            handshake(a, 1000, SEC);
            handshake(a, 1001, SEC);
            a.close();
            long fingerprint = 5;
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                switch (c[0]) {
                    case "fingerprint" -> fingerprint = 6;
                    case "version" -> { poke(raf, ShardFile.O_VERSION, 99); fixCheck(f); }
                    case "slot" -> { poke(raf, ShardFile.O_SLOT, 96); fixCheck(f); }
                    case "torn" -> poke(raf, ShardFile.O_CAPACITY + 1, 7); // one byte of the header changed, checksum not
                    case "magic" -> { raf.seek(0); raf.writeLong(0); }
                    case "size" -> raf.setLength(raf.length() + 4096);
                    default -> { // a key word of a live entry changed (a torn entry write)
                        long tagsEnd = ShardFile.HEADER + ((long) a.capacity() * 4 + 4095) / 4096 * 4096;
                        for (int i = 0; i < a.capacity(); i++) {
                            raf.seek(ShardFile.HEADER + 4L * i);
                            if (raf.readInt() != 0) { raf.seek(tagsEnd + 128L * i + ConnTable.O_ALO); raf.writeLong(12345); break; }
                        }
                    }
                }
            }
            ConnLimits l = new ConnLimits(1000, 4, 1000);
            Conntrack b = open(l, f, fingerprint, 0);
            try {
                assertEquals(1, log.size(), c[0] + ": " + log);
                String line = log.get(0);
                assertTrue(line.contains(f.toString()) && line.contains(c[1]) && line.contains("starting empty"), c[0] + ": " + line);
                assertEquals(0, b.size(), c[0]);
                assertEquals(0, b.attachedCount(), c[0]);
                assertEquals(0, l.hostCount(), c[0]);
                assertEquals(Verdict.INVALID, data(b, 1000, 1001, 2 * SEC), c[0] + ": the old connection is gone");
                handshake(b, 1000, 2 * SEC); // and the empty table works
            } finally {
                b.close();
            }
            // what the fallback wrote is a good table again
            log.clear();
            Conntrack again = open(new ConnLimits(1000, 4, 1000), f, fingerprint, 0);
            assertEquals(1, again.attachedCount(), c[0]);
            assertTrue(log.isEmpty(), log.toString());
            again.close();
        }
    }

    @Test
    void aFileHeldByALiveTrackerIsNotShared() {
        Path f = dir.resolve("ct-2.shard");
        Conntrack a = open(new ConnLimits(1000, 4, 1000), f, 5, 0);
        try {
            Conntrack b = open(new ConnLimits(1000, 4, 1000), f, 5, 0);
            try {
                assertEquals(1, log.size(), log.toString());
                assertTrue(log.get(0).contains("locked by another running data plane") && log.get(0).contains(f.toString()), log.get(0));
                assertEquals(null, b.file());
                handshake(b, 1000, SEC);
                assertEquals(0, a.size(), "the second tracker wrote into its own memory");
            } finally {
                b.close();
            }
            assertNotNull(a.file());
        } finally {
            a.close();
        }
    }

    @Test
    void pickupCreatesAnEstablishedEntryFromAnAckWithoutWindowCheck() {
        try (Conntrack ct = new Conntrack(100, CtTimeouts.defaults(), new ConnLimits(100, 4, 100), 42)) {
            CtPacket p = new CtPacket().v4(1, 0x0A000001, 0x0A000002).tcp(1000, 80, TcpFlags.ACK, 77, 99, 501, 10);
            assertEquals(Verdict.INVALID, ct.track(p, SEC), "off: an ACK without an entry is INVALID");
            ct.tcpPickup(true);
            assertEquals(Verdict.NEW, ct.track(p, SEC), "on: the rules decide");
            assertEquals(Verdict.NEW, ct.commit(p, 1, SEC));
            assertEquals(TcpState.ESTABLISHED.ordinal(), ct.lastState());
            assertEquals(1, ct.pickedUpCount());
            // the reply, with a window scale nobody saw negotiated, far from anything seen: passes (liberal)
            p.v4(1, 0x0A000002, 0x0A000001).tcp(80, 1000, TcpFlags.ACK, 1 << 30, 87, 3, 1400);
            assertEquals(Verdict.ESTABLISHED, ct.track(p, SEC));
            assertEquals(1, ct.lastDirection());
            // FIN / RST / SYN-ACK without an entry never pick up
            for (int flags : new int[] {TcpFlags.FIN | TcpFlags.ACK, TcpFlags.RST, TcpFlags.RST | TcpFlags.ACK, TcpFlags.SYN | TcpFlags.ACK}) {
                p.v4(1, 0x0A000001, 0x0A000003).tcp(1000, 80, flags, 1, 1, 100, 0);
                assertEquals(Verdict.INVALID, ct.track(p, SEC), "flags " + flags);
            }
            // the state machine still runs: FIN both ways and the last ACK close it
            p.v4(1, 0x0A000001, 0x0A000002).tcp(1000, 80, TcpFlags.FIN | TcpFlags.ACK, 87, 1, 501, 0);
            assertEquals(Verdict.ESTABLISHED, ct.track(p, SEC));
            assertEquals(TcpState.FIN_WAIT.ordinal(), ct.lastState());
        }
    }

    private static void poke(RandomAccessFile raf, int off, int v) throws Exception {
        raf.seek(off);
        raf.writeInt(Integer.reverseBytes(v)); // the header is native (little-endian) order
    }

    /** Recomputes the header checksum, as a file written by another build would carry a valid one. */
    private static void fixCheck(Path f) throws Exception {
        try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE);
             var arena = java.lang.foreign.Arena.ofConfined()) {
            var m = ch.map(java.nio.channels.FileChannel.MapMode.READ_WRITE, 0, ShardFile.HEADER, arena);
            m.set(java.lang.foreign.ValueLayout.JAVA_LONG, ShardFile.O_CHECK, ShardFile.check(m));
        }
    }
}
