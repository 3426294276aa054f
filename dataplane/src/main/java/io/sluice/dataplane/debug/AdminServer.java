package io.sluice.dataplane.debug;

import io.sluice.dataplane.config.FirewallConfig;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.overlay.OverlayPipeline;
import io.sluice.dataplane.pipeline.DropReason;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The admin socket of a running data plane ({@code ./sluice trace}, {@code capture}, {@code explain}),
 * as {@code ovs-appctl} talks to {@code ovs-vswitchd}: a Unix socket (mode 0600, next to the counters
 * file: {@code counters.dat} → {@code counters.sock}) served by threads that are not workers.
 *
 * <p>Protocol: the client sends a command line ({@code trace}, {@code capture}, {@code explain}),
 * {@code key=value} lines and an empty line; the server answers {@code OK} or {@code ERR message} on
 * one line, then text (trace, explain) or pcapng bytes (capture) until done or until the client
 * closes. One trace and one capture at a time. The drain thread empties every worker's ring (the
 * only consumer) and hands the records to the running session; a session that falls behind loses
 * records (counted and reported), the workers never wait.
 */
public final class AdminServer implements AutoCloseable {
    private final Path path;
    private final ServerSocketChannel server;
    private final Tap tap;
    private final TraceRecord.Names names;
    private final Explain explain;
    private final OverlayPipeline overlay;
    private final FirewallState firewall;
    private final List<String> ports;
    private final Thread acceptor;
    private final Thread drainer;
    private volatile boolean closed;
    private final AtomicBoolean traceBusy = new AtomicBoolean();
    private final AtomicBoolean captureBusy = new AtomicBoolean();
    private volatile BlockingQueue<TraceRecord> traceQueue;
    private volatile BlockingQueue<Capture> captureQueue;
    /** Records a slow session could not take (its queue was full). */
    private volatile long sessionLost;

    /** A captured frame read back from a ring. */
    record Capture(long nanos, int port, int dir, int reason, int origLen, byte[] frame) {}

    private AdminServer(Path path, ServerSocketChannel server, Tap tap, List<String> ports, OverlayPipeline overlay, FirewallState firewall) {
        this.path = path;
        this.server = server;
        this.tap = tap;
        this.ports = List.copyOf(ports);
        this.overlay = overlay;
        this.firewall = firewall != null ? firewall : overlay != null ? overlay.firewall() : null;
        this.names = new TraceRecord.Names(this.ports, tap, this.firewall, overlay == null ? null : overlay.state());
        this.explain = new Explain(this.ports, overlay, this.firewall);
        this.acceptor = new Thread(this::acceptLoop, "sluice-admin");
        this.drainer = new Thread(this::drainLoop, "sluice-admin-drain");
        acceptor.setDaemon(true);
        drainer.setDaemon(true);
    }

    /** The socket of a counters file: the same path with {@code .sock} for its extension. */
    public static Path socketFor(Path countersFile) {
        String n = countersFile.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return countersFile.resolveSibling((dot > 0 ? n.substring(0, dot) : n) + ".sock");
    }

    /** Binds the socket (a stale file from a dead process is replaced) and starts serving. */
    public static AdminServer start(Path socket, Tap tap, List<String> ports, OverlayPipeline overlay, FirewallState firewall) throws IOException {
        if (socket.getParent() != null) Files.createDirectories(socket.getParent());
        Files.deleteIfExists(socket);
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        ch.bind(UnixDomainSocketAddress.of(socket));
        try {
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system
        }
        AdminServer s = new AdminServer(socket, ch, tap, ports, overlay, firewall);
        s.acceptor.start();
        s.drainer.start();
        return s;
    }

    public Path path() { return path; }

    @Override
    public void close() {
        closed = true;
        tap.disarmTrace();
        tap.disarmCapture();
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // best effort
        }
        drainer.interrupt();
    }

    // ------------------------------------------------------------------ threads

    private void acceptLoop() {
        while (!closed) {
            try {
                SocketChannel c = server.accept();
                Thread t = new Thread(() -> serve(c), "sluice-admin-session");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                if (closed) return;
            }
        }
    }

    private void drainLoop() {
        int n = tap.workers();
        while (!closed) {
            int got = 0;
            for (int w = 0; w < n; w++) {
                OneToOneRingBuffer r = tap.ring(w);
                got += r.read((type, buf, idx, len) -> {
                    if (type == Tap.MSG_TRACE) {
                        BlockingQueue<TraceRecord> q = traceQueue;
                        if (q != null && !q.offer(TraceRecord.read(buf, idx))) sessionLost++;
                    } else if (type == Tap.MSG_CAPTURE) {
                        BlockingQueue<Capture> q = captureQueue;
                        if (q != null) {
                            int l = buf.getInt(idx + 20);
                            byte[] f = new byte[l];
                            buf.getBytes(idx + TapWorker.CAP_HEADER, f);
                            int dr = buf.getInt(idx + 12);
                            if (!q.offer(new Capture(buf.getLong(idx), buf.getInt(idx + 8), dr & 0xFF, dr >>> 8, buf.getInt(idx + 16), f))) sessionLost++;
                        }
                    }
                }, 256);
            }
            if (got == 0) {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private long lostTotal() {
        long s = sessionLost;
        for (int w = 0; w < tap.workers(); w++) s += tap.lost(w);
        return s;
    }

    // ------------------------------------------------------------------ sessions

    private void serve(SocketChannel c) {
        try (c) {
            BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
            OutputStream out = Channels.newOutputStream(c);
            String cmd = in.readLine();
            Map<String, String> args = new LinkedHashMap<>();
            for (String l; (l = in.readLine()) != null && !l.isEmpty(); ) {
                int eq = l.indexOf('=');
                if (eq > 0) args.put(l.substring(0, eq), l.substring(eq + 1));
            }
            AtomicBoolean gone = new AtomicBoolean();
            Thread watch = new Thread(() -> {
                try {
                    while (in.read() >= 0) {
                        // the client sends nothing more: wait for its end
                    }
                } catch (IOException ignored) {
                    // closed
                }
                gone.set(true);
            }, "sluice-admin-watch");
            watch.setDaemon(true);
            try {
                switch (cmd == null ? "" : cmd) {
                    case "trace" -> {
                        watch.start();
                        trace(args, out, gone);
                    }
                    case "capture" -> {
                        watch.start();
                        capture(args, out, gone);
                    }
                    case "explain" -> explain(args, out);
                    default -> reply(out, "ERR unknown command '" + cmd + "' (trace, capture, explain)");
                }
            } catch (IllegalArgumentException | Match.MatchException e) {
                reply(out, "ERR " + e.getMessage());
            }
        } catch (IOException | InterruptedException e) {
            // the client went away: the session ends
        }
    }

    private static void reply(OutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private int port(Map<String, String> a, boolean required) {
        String p = a.get("port"), vm = a.get("vm");
        if (p != null && vm != null) throw new IllegalArgumentException("--port or --vm, not both");
        if (vm != null) {
            if (overlay != null) return Explain.vmPort(overlay.state(), vm);
            if (firewall != null) {
                for (FirewallConfig.VmPort v : firewall.config().vmPorts()) if (v.name().equals(vm) && v.port() >= 0) return v.port();
            }
            throw new IllegalArgumentException("no VM '" + vm + "'");
        }
        if (p == null) {
            if (required) throw new IllegalArgumentException("a port is needed (PORT or --vm NETWORK/VM); ports: " + ports);
            return -1;
        }
        int i = ports.indexOf(p);
        if (i < 0) throw new IllegalArgumentException("no port '" + p + "' (ports: " + String.join(", ", ports) + ")");
        return i;
    }

    private static int count(Map<String, String> a, int def) {
        String c = a.get("count");
        if (c == null) return def;
        try {
            int n = Integer.parseInt(c);
            if (n < 0) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--count: a number >= 0 (0: until interrupted), not '" + c + "'");
        }
    }

    private void trace(Map<String, String> a, OutputStream out, AtomicBoolean gone) throws IOException, InterruptedException, Match.MatchException {
        Match m = Match.parse(a.getOrDefault("match", ""));
        int port = port(a, false);
        int count = count(a, 10);
        if (!traceBusy.compareAndSet(false, true)) throw new IllegalArgumentException("a trace is already running (one at a time)");
        BlockingQueue<TraceRecord> q = new ArrayBlockingQueue<>(4096);
        long lost0 = lostTotal();
        try {
            traceQueue = q;
            tap.armTrace(m, port);
            reply(out, "OK");
            reply(out, "tracing " + (port < 0 ? "every port" : "port " + ports.get(port)) + ", match " + m
                    + (count > 0 ? ", " + count + " packet(s)" : "") + "; Ctrl-C stops");
            int done = 0;
            while ((count == 0 || done < count) && !gone.get() && !closed) {
                TraceRecord r = q.poll(200, TimeUnit.MILLISECONDS);
                if (r == null) continue;
                done++;
                StringBuilder sb = new StringBuilder();
                for (String l : r.lines(done, names)) sb.append(l).append('\n');
                out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
            long lost = lostTotal() - lost0;
            if (lost > 0) reply(out, "trace: " + lost + " record(s) lost (ring or session queue full)");
        } finally {
            tap.disarmTrace();
            traceQueue = null;
            traceBusy.set(false);
        }
    }

    private void capture(Map<String, String> a, OutputStream out, AtomicBoolean gone) throws IOException, InterruptedException, Match.MatchException {
        Match m = Match.parse(a.getOrDefault("match", ""));
        int port = port(a, true);
        int count = count(a, 0);
        boolean pcap = "pcapng".equals(a.getOrDefault("format", "text"));
        int snap = 65535;
        if (!captureBusy.compareAndSet(false, true)) throw new IllegalArgumentException("a capture is already running (one at a time)");
        BlockingQueue<Capture> q = new ArrayBlockingQueue<>(65536);
        long lost0 = lostTotal();
        long wall0 = System.currentTimeMillis() * 1_000_000L;
        long nano0 = System.nanoTime();
        try {
            captureQueue = q;
            tap.armCapture(m, port, snap);
            reply(out, "OK");
            PcapNg w = pcap ? new PcapNg(out, ports.get(port), snap) : null;
            if (w != null) w.flush();
            int done = 0;
            while ((count == 0 || done < count) && !gone.get() && !closed) {
                Capture c = q.poll(200, TimeUnit.MILLISECONDS);
                if (c == null) continue;
                done++;
                long wall = wall0 + (c.nanos() - nano0);
                DropReason why = c.dir() == 2 ? DropReason.of(c.reason()) : null;
                String drop = why != null ? "sluice drop " + why.name().toLowerCase() + ": " + why.description() : null;
                if (w != null) {
                    w.packet(wall, c.frame(), c.frame().length, c.origLen(), c.dir() != 1, drop);
                    w.flush();
                } else {
                    String t = java.time.Instant.ofEpochSecond(0, wall).toString();
                    reply(out, t + " " + (c.dir() == 0 ? "rx" : c.dir() == 1 ? "tx" : "drop") + " " + ports.get(Math.max(0, Math.min(port, ports.size() - 1)))
                            + " " + c.origLen() + " bytes: " + FrameText.describe(c.frame(), c.frame().length)
                            + (drop != null ? "  [" + drop + "]" : ""));
                }
            }
            long lost = lostTotal() - lost0;
            if (lost > 0 && w == null) reply(out, "capture: " + lost + " frame(s) lost (ring or session queue full)");
        } finally {
            tap.disarmCapture();
            captureQueue = null;
            captureBusy.set(false);
        }
    }

    private void explain(Map<String, String> a, OutputStream out) throws IOException {
        String dir = a.getOrDefault("direction", "out");
        if (!dir.equals("in") && !dir.equals("out")) throw new IllegalArgumentException("--direction in or out, not '" + dir + "'");
        String proto = a.getOrDefault("proto", "tcp").toLowerCase(java.util.Locale.ROOT); // as Explain reads it
        int sport = intArg(a, "sport", proto.equals("icmp") ? 8 : 40000, 0, 65535);
        int dport = intArg(a, "dport", proto.equals("icmp") ? 0 : -1, 0, 65535);
        if (dport < 0) throw new IllegalArgumentException("--dport PORT is needed for " + proto);
        List<String> lines = explain.explain(new Explain.Request(a.get("vm"), a.get("to"), a.get("from"), proto, sport, dport, dir.equals("in")));
        reply(out, "OK");
        StringBuilder sb = new StringBuilder();
        for (String l : lines) sb.append(l).append('\n');
        out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static int intArg(Map<String, String> a, String k, int def, int min, int max) {
        String v = a.get(k);
        if (v == null) return def;
        try {
            int n = Integer.parseInt(v);
            if (n < min || n > max) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + k + ": a number " + min + ".." + max + ", not '" + v + "'");
        }
    }

    /** For the print stream of {@code ./sluice run}. */
    public void announce(PrintStream log) {
        log.println("sluice: admin socket " + path + " (./sluice trace / capture / explain)");
    }
}
