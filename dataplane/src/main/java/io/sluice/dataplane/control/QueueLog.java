package io.sluice.dataplane.control;

import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.wire.DocumentContext;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.zip.CRC32C;

/**
 * An append-only Chronicle Queue of text records (the journal and the audit log each have one).
 * A record is one document: the text (UTF-8, length-prefixed) followed by its CRC32C, so a record
 * changed on disk is found when read. Appends are serialized by the caller's lock or this object's.
 *
 * <p>Durability: appends go to memory-mapped files: a record survives {@code kill -9} of the process
 * as soon as the append returns (the kernel's page cache holds it). With {@code msync} the append
 * also forces the written pages to disk ({@code msync(MS_SYNC)}, Chronicle's {@code SyncMode.SYNC}
 * and {@code appender.sync()}) before it returns, so the record survives a power loss too
 * ({@code api.sync}, docs/api.md).
 */
public final class QueueLog implements AutoCloseable {
    static {
        quietChronicle();
    }

    /**
     * Turns off Chronicle's usage analytics (they would try to reach the network and write
     * ~/.chronicle.analytics.*) and its announcer: every class that opens a queue calls this first.
     */
    public static void quietChronicle() {
        System.setProperty("chronicle.analytics.disable", "true");
        System.setProperty("chronicle.announcer.disable", "true");
    }

    /** One record read back: its queue index, its text, and whether its checksum matched. */
    record Entry(long index, String text, boolean intact) {}

    private final Path dir;
    private final ChronicleQueue queue;
    private final ExcerptAppender appender;
    private final boolean msync;

    private QueueLog(Path dir, boolean readOnly, boolean msync) {
        this.dir = dir;
        this.msync = msync;
        var b = ChronicleQueue.singleBuilder(dir.toFile()).rollCycle(RollCycles.FAST_DAILY).readOnly(readOnly).timeProvider(clock);
        if (msync) {
            b.syncMode(net.openhft.chronicle.bytes.SyncMode.SYNC);
        }
        this.queue = b.build();
        if (readOnly) {
            this.appender = null;
        } else {
            this.appender = queue.createAppender();
            appender.singleThreadedCheckDisabled(true);
        }
    }

    /** The clock the queue rolls its daily files by (tests move it by days to get several files). */
    static volatile net.openhft.chronicle.core.time.TimeProvider clock = net.openhft.chronicle.core.time.SystemTimeProvider.INSTANCE;

    /**
     * Deletes the queue's files (one per roll cycle) older than the one holding {@code index}, never
     * the file being appended to; returns their names, oldest first.
     */
    synchronized List<String> retireBefore(long index) {
        String keep = fileOf(index);
        String current = fileOf(queue.rollCycle().toIndex(((net.openhft.chronicle.queue.impl.single.SingleChronicleQueue) queue).cycle(), 0));
        if (current.compareTo(keep) < 0) keep = current;
        List<String> out = new ArrayList<>();
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                String n = f.getFileName().toString();
                if (n.endsWith(".cq4") && n.length() == keep.length() && n.compareTo(keep) < 0) {
                    java.nio.file.Files.delete(f);
                    out.add(n);
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        if (!out.isEmpty()) ((net.openhft.chronicle.queue.impl.single.SingleChronicleQueue) queue).refreshDirectoryListing();
        return out;
    }

    /** Opens (or creates) the queue in {@code dir} for appending; {@code msync}: each append is on disk when it returns. */
    public static QueueLog open(Path dir, boolean msync) {
        return new QueueLog(dir, false, msync);
    }

    static QueueLog openReadOnly(Path dir) {
        return new QueueLog(dir, true, false);
    }

    Path dir() {
        return dir;
    }

    /** Appends one record; when it returns, the record survives the process being killed. */
    public synchronized long append(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        CRC32C crc = new CRC32C();
        crc.update(utf8);
        try (DocumentContext dc = appender.writingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            b.writeStopBit(utf8.length);
            b.write(utf8);
            b.writeInt((int) crc.getValue());
        }
        if (msync) {
            appender.sync();
        }
        return appender.lastIndexAppended();
    }

    /** Every record from the first, oldest first (one whose bytes do not add up is not {@code intact}). */
    List<Entry> readAll() {
        List<Entry> out = new ArrayList<>();
        forEach(out::add);
        return out;
    }

    /** Each record from the first, oldest first, without holding them all. */
    void forEach(java.util.function.Consumer<Entry> each) {
        try (ExcerptTailer t = queue.createTailer()) {
            t.singleThreadedCheckDisabled(true);
            while (true) {
                Entry e = next(t);
                if (e == null) break;
                each.accept(e);
            }
        }
    }

    /**
     * The record at {@code index} and every record after it, oldest first; empty when the queue has
     * no record at {@code index} (then the caller reads from the start).
     */
    List<Entry> readFrom(long index) {
        List<Entry> out = new ArrayList<>();
        try (ExcerptTailer t = queue.createTailer()) {
            t.singleThreadedCheckDisabled(true);
            if (!t.moveToIndex(index)) return out;
            while (true) {
                Entry e = next(t);
                if (e == null) break;
                if (out.isEmpty() && e.index() != index) return new ArrayList<>();
                out.add(e);
            }
        }
        return out;
    }

    /** The index of the newest record, or -1 when there is none. */
    long lastIndex() {
        try (ExcerptTailer t = queue.createTailer()) {
            t.singleThreadedCheckDisabled(true);
            t.direction(TailerDirection.BACKWARD).toEnd();
            try (DocumentContext dc = t.readingDocument()) {
                return dc.isPresent() ? dc.index() : -1;
            }
        }
    }

    /** The name of the queue file (one per roll cycle) that holds {@code index}, e.g. {@code 20261206F.cq4}. */
    String fileOf(long index) {
        var rc = queue.rollCycle();
        long cycle = rc.toCycle(index);
        return java.time.format.DateTimeFormatter.ofPattern(rc.format()).withZone(java.time.ZoneOffset.UTC)
                .format(java.time.Instant.ofEpochMilli(cycle * rc.lengthInMillis())) + ".cq4";
    }

    /** Up to {@code limit} records matching {@code keep}, newest first. */
    synchronized List<Entry> newest(int limit, Predicate<Entry> keep) {
        List<Entry> out = new ArrayList<>();
        try (ExcerptTailer t = queue.createTailer()) {
            t.singleThreadedCheckDisabled(true);
            t.direction(TailerDirection.BACKWARD).toEnd();
            while (out.size() < limit) {
                Entry e = next(t);
                if (e == null) break;
                if (keep.test(e)) out.add(e);
            }
        }
        return out;
    }

    private static Entry next(ExcerptTailer t) {
        try (DocumentContext dc = t.readingDocument()) {
            if (!dc.isPresent()) return null;
            long index = dc.index();
            Bytes<?> b = dc.wire().bytes();
            long len = b.readStopBit();
            if (len < 0 || len > b.readRemaining() - 4) {
                return new Entry(index, "", false); // a length its bytes cannot have: torn or changed
            }
            byte[] utf8 = new byte[(int) len];
            b.read(utf8);
            int stored = b.readInt();
            CRC32C crc = new CRC32C();
            crc.update(utf8);
            return new Entry(index, new String(utf8, StandardCharsets.UTF_8), stored == (int) crc.getValue());
        }
    }

    @Override
    public synchronized void close() {
        if (appender != null) appender.close();
        queue.close();
    }
}
