package io.sluice.dataplane.counters;

import io.sluice.dataplane.pipeline.DropReason;
import org.agrona.IoUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

import java.io.PrintStream;
import java.nio.MappedByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The data plane's counters: Agrona counters in a memory-mapped file, so another process
 * ({@code ./sluice stats}) reads them live while traffic flows.
 *
 * <p>File layout: a 64-byte header ({@link #MAGIC}, version, max counters, owner pid), then
 * Agrona's counters metadata buffer, then its values buffer. Each counter's label names what it
 * counts ("port vm1 rx packets"); its key holds the id of the worker that owns it. Every counter
 * has exactly one writer (Agrona's ordered writes are single-writer): each worker gets its own
 * set through {@link #worker}, and {@link #read} sums counters with equal labels.
 *
 * <p>Allocation happens on control threads (start-up; the firewall's rule-change path adds counters
 * for new rule ids), one at a time ({@link #allocate} is synchronized); workers only write.
 */
public final class Counters implements AutoCloseable {
    public static final long MAGIC = 0x534c5549434543L; // "SLUICEC"
    public static final int VERSION = 1;
    static final int HEADER = 64;

    private final CountersManager manager;
    private final MappedByteBuffer mapped;
    private final Path file;

    private Counters(CountersManager manager, MappedByteBuffer mapped, Path file) {
        this.manager = manager;
        this.mapped = mapped;
        this.file = file;
    }

    /** Creates (or truncates) a counters file able to hold {@code maxCounters} counters. */
    public static Counters create(Path file, int maxCounters) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.deleteIfExists(file);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot create counters file " + file + ": " + e.getMessage(), e);
        }
        int meta = maxCounters * CountersReader.METADATA_LENGTH;
        int values = maxCounters * CountersReader.COUNTER_LENGTH;
        MappedByteBuffer mapped = IoUtil.mapNewFile(file.toFile(), HEADER + meta + values);
        UnsafeBuffer header = new UnsafeBuffer(mapped, 0, HEADER);
        header.putInt(8, VERSION);
        header.putInt(12, maxCounters);
        header.putLong(16, ProcessHandle.current().pid());
        CountersManager cm = new CountersManager(
                new UnsafeBuffer(mapped, HEADER, meta), new UnsafeBuffer(mapped, HEADER + meta, values));
        header.putLongVolatile(0, MAGIC);
        return new Counters(cm, mapped, file);
    }

    /** Counters in process memory only (tests, benchmarks). */
    public static Counters inMemory(int maxCounters) {
        int meta = maxCounters * CountersReader.METADATA_LENGTH;
        int values = maxCounters * CountersReader.COUNTER_LENGTH;
        CountersManager cm = new CountersManager(
                new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(meta)),
                new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(values)));
        return new Counters(cm, null, null);
    }

    /**
     * Allocates one counter. Control threads only.
     *
     * @throws IllegalStateException when the file is full
     */
    public synchronized AtomicCounter allocate(String label, int workerId) {
        return manager.newCounter(label, 0, buf -> buf.putInt(0, workerId));
    }

    /** The counters of one worker over the given ports and stages. Control thread only. */
    public WorkerCounters worker(int workerId, List<String> portNames, List<String> stageNames) {
        return new WorkerCounters(this, workerId, portNames, stageNames, false);
    }

    /**
     * As {@link #worker(int, List, List)}; with {@code handoff} (the worker's pipeline has a steer
     * stage) also {@code worker W handoff out packets}, {@code worker W handoff in packets} and
     * {@code worker W handoff full drops} and {@code worker W handoff rx pauses}.
     */
    public WorkerCounters worker(int workerId, List<String> portNames, List<String> stageNames, boolean handoff) {
        return new WorkerCounters(this, workerId, portNames, stageNames, handoff);
    }

    public CountersReader reader() {
        return manager;
    }

    /** Label to value, summed over workers, in allocation order. */
    public Map<String, Long> snapshot() {
        return sumByLabel(manager);
    }

    static Map<String, Long> sumByLabel(CountersReader reader) {
        Map<String, Long> out = new LinkedHashMap<>();
        reader.forEach((value, id, label) -> out.merge(label, value, Long::sum));
        return out;
    }

    /**
     * Reads a counters file written by a running (or finished) data plane.
     *
     * @throws IllegalStateException naming the file when it is missing or not a counters file
     */
    public static Map<String, Long> read(Path file) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Value v : readDetailed(file).values()) {
            out.merge(v.label(), v.value(), Long::sum);
        }
        return out;
    }

    /** One counter as stored: its label, its owner (worker id, or -1 for the control plane) and value. */
    public record Value(String label, int owner, long value) {}

    /** A counters file's contents: the pid of the process that wrote it and every counter, unsummed. */
    public record Reading(long pid, List<Value> values) {
        /** Sum of the counters with this label owned by {@code owner}; -1 owner: the control plane's. */
        public long get(String label, int owner) {
            long sum = 0;
            for (Value v : values) {
                if (v.owner() == owner && v.label().equals(label)) {
                    sum += v.value();
                }
            }
            return sum;
        }

        /** Whether a counter with this label exists. */
        public boolean has(String label) {
            return values.stream().anyMatch(v -> v.label().equals(label));
        }
    }

    /** Every counter of this process with its owner (a scrape reads them; workers only write). */
    public Reading readAll() {
        return new Reading(ProcessHandle.current().pid(), values(manager));
    }

    private static List<Value> values(CountersReader reader) {
        List<Value> out = new ArrayList<>();
        reader.forEach((id, typeId, keyBuffer, label) ->
                out.add(new Value(label, keyBuffer.getInt(0), reader.getCounterValue(id))));
        return out;
    }

    /**
     * Reads every counter of a counters file with its owner, and the writer's pid.
     *
     * @throws IllegalStateException naming the file when it is missing or not a counters file
     */
    public static Reading readDetailed(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("no counters file at " + file + " (is the data plane running? see `./sluice run`)");
        }
        MappedByteBuffer mapped = IoUtil.mapExistingFile(file.toFile(), "sluice counters");
        try {
            UnsafeBuffer header = new UnsafeBuffer(mapped, 0, HEADER);
            if (mapped.capacity() < HEADER || header.getLongVolatile(0) != MAGIC) {
                throw new IllegalStateException(file + " is not a Sluice counters file (bad magic)");
            }
            int version = header.getInt(8);
            if (version != VERSION) {
                throw new IllegalStateException(file + ": counters file version " + version + ", this build reads " + VERSION);
            }
            int max = header.getInt(12);
            int meta = max * CountersReader.METADATA_LENGTH;
            int values = max * CountersReader.COUNTER_LENGTH;
            CountersReader reader = new CountersReader(
                    new UnsafeBuffer(mapped, HEADER, meta), new UnsafeBuffer(mapped, HEADER + meta, values));
            return new Reading(header.getLong(16), values(reader));
        } finally {
            IoUtil.unmap(mapped);
        }
    }

    /** Prints counters as an aligned table; zero drop counters are left out. */
    public static void print(Map<String, Long> values, PrintStream out) {
        int width = 0;
        List<Map.Entry<String, Long>> shown = new ArrayList<>();
        for (Map.Entry<String, Long> e : values.entrySet()) {
            if (e.getValue() == 0 && e.getKey().contains(" drop ")) {
                continue;
            }
            shown.add(e);
            width = Math.max(width, e.getKey().length());
        }
        for (Map.Entry<String, Long> e : shown) {
            out.printf("%-" + width + "s %15d%n", e.getKey(), e.getValue());
        }
    }

    /** Label of the drop counter of a port and reason. */
    public static String dropLabel(String port, DropReason reason) {
        return "port " + port + " drop " + reason.name().toLowerCase();
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        if (mapped != null) {
            IoUtil.unmap(mapped);
        }
    }
}
