package io.sluice.dataplane.conntrack;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/**
 * A conntrack shard kept in a file-backed shared mapping (warm restart, docs/conntrack.md): the
 * table lives in the page cache, so it outlives the process (an upgrade, a crash, {@code kill -9})
 * and the next process attaches to it after checking the header.
 *
 * <pre>
 * File: header (4096 bytes) | tags (capacity x 4, padded to 4096) | entries (capacity x 128)
 *  0 magic        8   "SLUICECT" (0x534c554943454354)
 *  8 version      4   {@link #VERSION}: the entry layout of {@link ConnTable}
 * 12 slotBytes    4   128
 * 16 capacity     4   slots
 * 20 ready        4   1 once the file was initialised completely (0 while it is being written)
 * 24 fingerprint  8   hash of what the layout depends on (hash seed, shard index and count, size)
 * 32 clockBase    8   wall-clock ns minus System.nanoTime() of the process that created the table
 * 40 boot         8   hash of the kernel's boot id then (System.nanoTime() is CLOCK_MONOTONIC: one clock per boot)
 * 48 check        8   hash of bytes 0..47 but the ready mark: a torn or overwritten header does not match
 * 56 nat          8   the NAT settings hash ({@link Conntrack.NatAdopt#settings}, 0: none) the table was made
 *                     under; folded into the fingerprint (which the check covers), kept here only to name
 *                     the reason of a mismatch
 * </pre>
 *
 * <p>Attaching checks the file's size, magic, version, entry size, capacity, fingerprint, the
 * ready mark and the header hash, then every live entry (its tag is its key's hash, its probe
 * chain finds it, its state and VM are in range). Any mismatch starts an empty table in the same
 * file and says so in one line naming the file and the reason: memory is never misread.
 *
 * <p>The file is locked ({@link FileChannel#tryLock}, released by the kernel when the process
 * dies): a second live process asking for the same file gets a private in-memory table instead.
 */
final class ShardFile {
    static final long MAGIC = 0x534c554943454354L;
    /** Layout version of {@link ConnTable}'s entry; change it with the layout (2: the passed SYN's end and window in the direction pads and spare bits). */
    static final int VERSION = 2;
    static final int HEADER = 4096;
    static final int O_MAGIC = 0, O_VERSION = 8, O_SLOT = 12, O_CAPACITY = 16, O_READY = 20, O_FINGERPRINT = 24,
            O_CLOCK = 32, O_BOOT = 40, O_CHECK = 48, O_NAT = 56;

    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;

    /** The table and what attaching found. */
    record Attached(ConnTable table, boolean kept, long clockBase, long boot, String reason) {}

    /**
     * A hash of this boot's id ({@code /proc/sys/kernel/random/boot_id}), 0 when unreadable. Within
     * one boot every process reads the same monotonic clock through {@code System.nanoTime()}, so
     * deadlines need no re-basing; across boots they are re-based on the wall clock.
     */
    static long bootId() {
        try {
            String id = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim();
            long h = 0;
            for (int i = 0; i < id.length(); i++) h = (h ^ id.charAt(i)) * 0x100000001B3L;
            return h == 0 ? 1 : h;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private ShardFile() {}

    /** Wall-clock nanoseconds minus {@code System.nanoTime()}: converts this process's clock to another's. */
    static long clockBase() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano() - System.nanoTime();
    }

    static long fileBytes(int capacity) {
        return HEADER + tagsBytes(capacity) + (long) capacity * ConnTable.SLOT;
    }

    private static long tagsBytes(int capacity) {
        return ((long) capacity * 4 + HEADER - 1) / HEADER * HEADER;
    }

    /**
     * Maps (creating if needed) the shard file and attaches to its table, or starts an empty one.
     *
     * @param fingerprint what the layout depends on (hash seed, size, shard index and count, ...)
     * @param nat    the NAT settings hash ({@link Conntrack.NatAdopt#settings}), 0 for none: folded into the fingerprint
     * @param maxVms VM ids of the entries must be below this
     * @param clockBaseNow {@link #clockBase()} of this process (stored in a new header)
     * @param log    receives one line when the previous table is not kept (and why)
     */
    static Attached open(Path file, int capacity, long fingerprint, long nat, long seed, int maxVms, long clockBaseNow, long bootNow,
                         Consumer<String> log) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                lock = null; // held by this JVM
            }
            if (lock == null) throw new IOException("locked by another running data plane");
            long bytes = fileBytes(capacity);
            long had = ch.size();
            if (had != bytes) ch.truncate(0); // a new file, or another size: zeros everywhere
            Arena arena = Arena.ofShared();
            MemorySegment m;
            try {
                m = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
            MemorySegment tags = m.asSlice(HEADER, (long) capacity * 4);
            MemorySegment slots = m.asSlice(HEADER + tagsBytes(capacity), (long) capacity * ConnTable.SLOT);
            String reason = had == 0 ? "new file" : had != bytes ? "file size " + had + " bytes, expected " + bytes : header(m, capacity, fingerprint, nat);
            ConnTable t = new ConnTable(capacity, slots, tags, arena, ch);
            if (reason == null) reason = entries(t, seed, maxVms);
            long clock, boot;
            if (reason == null) {
                clock = m.get(L, O_CLOCK);
                boot = m.get(L, O_BOOT);
            } else {
                boot = bootNow;
                if (had != 0) log.accept("sluice: conntrack " + file + ": previous table not kept (" + reason + "); starting empty");
                clock = clockBaseNow;
                m.set(I, O_READY, 0);
                t.clear();
                m.set(L, O_MAGIC, MAGIC);
                m.set(I, O_VERSION, VERSION);
                m.set(I, O_SLOT, ConnTable.SLOT);
                m.set(I, O_CAPACITY, capacity);
                m.set(L, O_FINGERPRINT, withNat(fingerprint, nat));
                m.set(L, O_NAT, nat);
                m.set(L, O_CLOCK, clock);
                m.set(L, O_BOOT, bootNow);
                m.set(L, O_CHECK, check(m));
                m.set(I, O_READY, 1);
            }
            return new Attached(t, reason == null, clock, boot, reason);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * The fingerprint stored in the header: {@code fingerprint} itself without NAT settings (so a
     * file written before they were part of it still matches), else mixed with them.
     */
    static long withNat(long fingerprint, long nat) {
        if (nat == 0) return fingerprint;
        long h = (fingerprint ^ Long.rotateLeft(nat, 31)) * 0xFF51AFD7ED558CCDL;
        return h ^ (h >>> 33);
    }

    /** Why the header does not describe this table, or null when it does. */
    private static String header(MemorySegment m, int capacity, long fingerprint, long nat) {
        if (m.get(L, O_MAGIC) != MAGIC) return "bad magic " + Long.toHexString(m.get(L, O_MAGIC));
        if (m.get(L, O_CHECK) != check(m)) return "header checksum mismatch (torn or overwritten header)";
        if (m.get(I, O_READY) != 1) return "table was never initialised completely";
        if (m.get(I, O_VERSION) != VERSION) return "layout version " + m.get(I, O_VERSION) + ", this build uses " + VERSION;
        if (m.get(I, O_SLOT) != ConnTable.SLOT) return "entry size " + m.get(I, O_SLOT) + ", this build uses " + ConnTable.SLOT;
        if (m.get(I, O_CAPACITY) != capacity) return "capacity " + m.get(I, O_CAPACITY) + " slots, configured " + capacity;
        long had = m.get(L, O_FINGERPRINT), hadNat = m.get(L, O_NAT);
        if (had != withNat(fingerprint, nat)) {
            if (hadNat != nat && had == withNat(fingerprint, hadNat)) {
                return "external network settings changed (SNAT or floating addresses, port-block, blocks-per-vm): its NAT'd "
                        + "connections would leave with other addresses and ports";
            }
            return "configuration fingerprint " + Long.toHexString(had) + " != " + Long.toHexString(withNat(fingerprint, nat))
                    + " (hash seed, shard count or size changed" + (hadNat != nat ? "; external network settings too" : "") + ")";
        }
        return null;
    }

    static long check(MemorySegment m) {
        long h = 0x9E3779B97F4A7C15L;
        for (int o = 0; o < O_CHECK; o += 8) {
            long v = o == O_CAPACITY ? m.get(I, O_CAPACITY) : m.get(L, o); // not the ready mark: it is written after the hash
            h = (h ^ v) * 0xFF51AFD7ED558CCDL;
            h ^= h >>> 29;
        }
        return h;
    }

    /** Why some live entry cannot be trusted (a crash in the middle of a write), or null when all can. */
    private static String entries(ConnTable t, long seed, int maxVms) {
        int tcp = TcpState.values().length;
        for (int i = 0; i < t.capacity; i++) {
            int tag = t.tagAt(i);
            if (tag == 0) continue;
            long aHi = t.key(i, ConnTable.O_AHI), aLo = t.key(i, ConnTable.O_ALO), bHi = t.key(i, ConnTable.O_BHI),
                    bLo = t.key(i, ConnTable.O_BLO), pz = t.key(i, ConnTable.O_PZ);
            int pf = t.protoFamily(i);
            long h = FlowKey.hash(seed, aHi, aLo, bHi, bLo, pz, pf);
            int want = (int) (h >>> 32) == 0 ? 1 : (int) (h >>> 32);
            if (want != tag) return "slot " + i + ": tag does not match its key";
            int fam = pf >>> 8;
            if (fam != 4 && fam != 6) return "slot " + i + ": address family " + fam;
            int st = t.state(i);
            boolean isTcp = (pf & 0xFF) == CtPacket.IPPROTO_TCP;
            if (st < 0 || st >= (isTcp ? tcp : PseudoState.COUNT)) return "slot " + i + ": state " + st;
            if (t.vm(i) < 0 || t.vm(i) >= maxVms) return "slot " + i + ": VM " + t.vm(i) + " outside 0.." + (maxVms - 1);
            if (t.find(tag, aHi, aLo, bHi, bLo, pz, pf) != i) return "slot " + i + ": not where its probe chain leads (duplicate or misplaced)";
        }
        return null;
    }
}
