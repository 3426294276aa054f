package io.sluice.dataplane.flowlog;

import io.sluice.dataplane.config.FlowLogSettings;

import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.conntrack.FlowRecord;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.config.OverlayModel;
import net.openhft.chronicle.queue.ChronicleQueue;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.RollCycles;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.agrona.concurrent.status.AtomicCounter;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * The host's flow logs (docs/operations.md, "Flow logs"): one {@link FlowLogger} and ring per
 * worker, and one writer thread (not a worker) that drains the rings, names what the workers
 * only know by number (VM port, rule, reason, NAT word), and appends the records to a Chronicle
 * Queue. It also deletes roll files older than {@code max-age-h}.
 *
 * <p>Counters: {@code flowlog records written} and {@code flowlog records lost} (ring or reject
 * table full).
 */
public final class FlowLogs implements AutoCloseable {
    static {
        io.sluice.dataplane.control.QueueLog.quietChronicle();
    }

    /** Translates a NAT word to the public side of a connection: {address, port}, or null (none). */
    public interface NatNames {
        Object[] publicSide(int natWord, int proto, int privatePort);
    }

    private final FlowLogSettings settings;
    private final String[] portName, portProject, portVm;
    /** IPv4 address of the local VM on each port (0: none), to tell which end of a connection is the VM. */
    private final int[] portVmIpv4;
    private final long[] threshold;
    private final List<FlowLogger> loggers = new ArrayList<>();
    private final List<OneToOneRingBuffer> rings = new ArrayList<>();
    private final ChronicleQueue queue;
    private final ExcerptAppender appender;
    private final AtomicCounter writtenOut, lostOut;
    private volatile IntFunction<String> ruleNames = i -> "rule#" + i;
    private volatile IntFunction<String> reasonNames = i -> "reason#" + i;
    private volatile NatNames nat;
    private Thread writer;
    private volatile boolean running;
    private long written;
    private final long wallOffsetMs;

    private FlowLogs(FlowLogSettings s, SluiceConfig cfg, Counters counters) {
        this.settings = s;
        int ports = cfg.ports().size();
        portName = new String[ports];
        portProject = new String[ports];
        portVm = new String[ports];
        portVmIpv4 = new int[ports];
        threshold = new long[ports];
        for (int p = 0; p < ports; p++) {
            portName[p] = cfg.ports().get(p).name();
            portProject[p] = "-";
            portVm[p] = portName[p];
        }
        OverlayModel ov = cfg.overlay();
        if (ov != null) {
            for (OverlayModel.Network n : ov.networks()) {
                for (OverlayModel.Vm vm : n.vms()) {
                    if (vm.localPort() >= 0 && vm.localPort() < ports) {
                        portProject[vm.localPort()] = n.name();
                        portVm[vm.localPort()] = n.name() + "/" + vm.name();
                        portVmIpv4[vm.localPort()] = vm.ipv4();
                    }
                }
            }
        }
        for (int p = 0; p < ports; p++) {
            FlowLogSettings.Project pr = s.project(ov == null ? null : portProject[p]);
            threshold[p] = !pr.enabled() ? -1 : pr.sample() >= 1.0 ? 1L << 32 : (long) (pr.sample() * (1L << 32));
        }
        try {
            Files.createDirectories(s.directory());
        } catch (IOException e) {
            throw new IllegalArgumentException("flow-logs.directory " + s.directory() + ": cannot create: " + e.getMessage(), e);
        }
        RollCycles rc = switch (s.rollCycle()) {
            case "five-minutely" -> RollCycles.FIVE_MINUTELY;
            case "daily" -> RollCycles.FAST_DAILY;
            default -> RollCycles.FAST_HOURLY;
        };
        this.queue = ChronicleQueue.singleBuilder(s.directory().toFile()).rollCycle(rc).build();
        this.appender = queue.createAppender();
        appender.singleThreadedCheckDisabled(true);
        this.writtenOut = counters == null ? null : counters.allocate("flowlog records written", 0);
        this.lostOut = counters == null ? null : counters.allocate("flowlog records lost", 0);
        this.wallOffsetMs = System.currentTimeMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime());
    }

    /** Opens the queue (creating its directory); {@code counters} may be null (tests). Start the writer with {@link #start}. */
    public static FlowLogs open(FlowLogSettings s, SluiceConfig cfg, Counters counters) {
        return new FlowLogs(s, cfg, counters);
    }

    public FlowLogSettings settings() { return settings; }

    /** Names rules by the firewall's counter index (the conntrack entry's rule word - 1). */
    public void ruleNames(IntFunction<String> f) { this.ruleNames = f; }

    /** Names the firewall's drop reasons by index. */
    public void reasonNames(IntFunction<String> f) { this.reasonNames = f; }

    /** Names the public side of NAT words (with an external network). */
    public void natNames(NatNames n) { this.nat = n; }

    /** Records lost so far (rings or reject tables full), all workers. */
    public synchronized long lost() {
        long lost = 0;
        for (FlowLogger l : loggers) lost += l.lost();
        return lost;
    }

    /** Records appended to the queue so far. */
    public synchronized long written() { return written; }

    /** A new worker's logger and ring. Control thread, before the writer starts. */
    public synchronized FlowLogger newLogger() {
        int bytes = settings.ringKb() * 1024 + RingBufferDescriptor.TRAILER_LENGTH;
        AtomicBuffer buf = new UnsafeBuffer(ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder()));
        OneToOneRingBuffer ring = new OneToOneRingBuffer(buf);
        FlowLogger l = new FlowLogger(ring, threshold, settings.rejectIntervalS());
        rings.add(ring);
        loggers.add(l);
        return l;
    }

    /** Interim-record interval, seconds. */
    public int intervalS() { return settings.intervalS(); }

    /** Starts the writer thread. */
    public synchronized void start() {
        if (writer != null) return;
        running = true;
        writer = new Thread(this::loop, "sluice-flowlog");
        writer.setDaemon(true);
        writer.start();
    }

    private void loop() {
        long nextRetention = 0;
        while (running) {
            int n = drain();
            long now = System.currentTimeMillis();
            if (now >= nextRetention) {
                retention(now);
                nextRetention = now + 60_000;
            }
            if (n == 0) java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
        }
    }

    /** Drains every ring once; returns how many records it wrote. Writer thread (or close). */
    synchronized int drain() {
        int n = 0;
        for (OneToOneRingBuffer r : rings) n += r.read(this::onMessage, 1024);
        if (n > 0 || lostOut != null) {
            long lost = 0;
            for (FlowLogger l : loggers) lost += l.lost();
            if (lostOut != null) lostOut.setRelease(lost);
            if (writtenOut != null) writtenOut.setRelease(written);
        }
        return n;
    }

    private void onMessage(int type, DirectBuffer b, int i, int len) {
        if (type != FlowLogger.MSG || len < FlowLogger.LENGTH) return;
        FlowLogRecord r = decode(b, i);
        appender.writeDocument(w -> r.writeTo(w));
        written++;
    }

    /** Turns a ring message into a named record. */
    FlowLogRecord decode(DirectBuffer b, int i) {
        int kind = b.getInt(i + FlowLogger.KIND);
        int family = b.getInt(i + FlowLogger.FAMILY);
        int proto = b.getInt(i + FlowLogger.PROTO);
        String src = addr(family, b.getLong(i + FlowLogger.SRC_HI), b.getLong(i + FlowLogger.SRC_LO));
        String dst = addr(family, b.getLong(i + FlowLogger.DST_HI), b.getLong(i + FlowLogger.DST_LO));
        int sport = b.getInt(i + FlowLogger.SPORT), dport = b.getInt(i + FlowLogger.DPORT);
        int port = b.getInt(i + FlowLogger.VM);
        boolean known = port >= 0 && port < portName.length;
        String natSrc = src, natDst = dst;
        int natSport = sport, natDport = dport;
        int word = b.getInt(i + FlowLogger.NAT);
        NatNames nn = nat;
        if (word != 0 && nn != null && known) {
            boolean vmIsSrc = family != 4 || portVmIpv4[port] == 0 || (int) b.getLong(i + FlowLogger.SRC_LO) == portVmIpv4[port];
            Object[] pub = nn.publicSide(word, proto, vmIsSrc ? sport : dport);
            if (pub != null) {
                if (vmIsSrc) {
                    natSrc = (String) pub[0];
                    natSport = (Integer) pub[1];
                } else {
                    natDst = (String) pub[0];
                    natDport = (Integer) pub[1];
                }
            }
        }
        long nowSec = System.nanoTime() / 1_000_000_000L;
        long start = wall(b.getInt(i + FlowLogger.START), nowSec);
        long end = wall(b.getInt(i + FlowLogger.END), nowSec);
        boolean reject = kind == FlowLogger.REJECT;
        int rule = b.getInt(i + FlowLogger.RULE);
        String reason = reject ? reasonNames.apply(rule) : rule == 0 ? "-" : ruleNames.apply(rule - 1);
        return new FlowLogRecord(known ? portProject[port] : "-", known ? portVm[port] : "port#" + port, known ? portName[port] : "-",
                proto, src, sport, dst, dport, natSrc, natSport, natDst, natDport,
                b.getLong(i + FlowLogger.PKTS_O), b.getLong(i + FlowLogger.BYTES_O),
                b.getLong(i + FlowLogger.PKTS_R), b.getLong(i + FlowLogger.BYTES_R), start, end,
                reject ? "REJECT" : "ACCEPT", reason, reject ? "aggregated" : FlowRecord.KINDS[kind]);
    }

    /** Unix seconds of a 32-bit nanoTime second (recent: within 68 years of {@code nowSec}). */
    private long wall(int sec, long nowSec) {
        long delta = (int) (sec - (int) nowSec); // wraps like the 32-bit field
        return (wallOffsetMs / 1000) + nowSec + delta;
    }

    static String addr(int family, long hi, long lo) {
        if (family == 4) return io.sluice.dataplane.config.ConfigLoader.formatIpv4((int) lo);
        byte[] a = new byte[16];
        for (int k = 0; k < 8; k++) {
            a[k] = (byte) (hi >>> (56 - 8 * k));
            a[8 + k] = (byte) (lo >>> (56 - 8 * k));
        }
        try {
            return InetAddress.getByAddress(a).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Deletes roll files (.cq4) last written more than max-age-h ago, except the newest. */
    void retention(long nowMs) {
        File[] files = settings.directory().toFile().listFiles((d, n) -> n.endsWith(".cq4"));
        if (files == null || files.length < 2) return;
        java.util.Arrays.sort(files);
        long cutoff = nowMs - settings.maxAgeH() * 3_600_000L;
        boolean deleted = false;
        for (int k = 0; k < files.length - 1; k++) {
            if (files[k].lastModified() < cutoff) deleted |= files[k].delete();
        }
        if (deleted) queue.refreshDirectoryListing();
    }

    /** Deletes a closed queue's directory (benchmarks, tests). */
    public static void deleteQueue(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
        }
    }

    /** Stops the writer after a last drain (records still in the rings are written) and closes the queue. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            running = false;
            t = writer;
        }
        if (t != null) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        drain();
        synchronized (this) {
            appender.close();
            queue.close();
        }
    }
}
