package io.sluice.bench.conntrack;

import io.sluice.dataplane.conntrack.ConnLimits;
import io.sluice.dataplane.conntrack.Conntrack;
import io.sluice.dataplane.conntrack.CtPacket;
import io.sluice.dataplane.conntrack.CtTimeouts;
import io.sluice.dataplane.conntrack.TcpFlags;
import io.sluice.dataplane.conntrack.Verdict;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Question: what does one conntrack shard cost per packet on one core, for an established flow
 * (lookup + TCP window check + state/deadline update) and for a new connection (miss + create,
 * with one delete to keep the table at its size), at 10K and 1M tracked TCP connections?
 * Flows are visited in a random order, so at 1M the table (127 MiB) does not fit in cache.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Thread)
public class ConntrackBench {
    @Param({"10000", "1000000"})
    public int connections;

    /** Where the table lives: native memory (default) or primitive arrays on the heap (huge pages with -XX:+UseTransparentHugePages). */
    @Param({"false"})
    public boolean onHeap;

    private static final int SERVER = 0x0B000001;
    private Conntrack ct;
    private final CtPacket p = new CtPacket();
    private int[] order;
    /** Per flow: client next seq in the high half, server next seq in the low half (one cache line per flow). */
    private long[] seqs;
    private int cursor;
    private long now = 1_000_000_000L;
    /** New-connection benchmark: flows [oldest, oldest + connections) (mod 4 * connections) are in the table. */
    private long oldest;

    @Setup(Level.Trial)
    public void setup() {
        ct = new Conntrack(connections + 16, CtTimeouts.defaults(), new ConnLimits(connections + 16, 1, connections + 16), 0x5EED, onHeap);
        seqs = new long[connections];
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < connections; i++) {
            int c = r.nextInt(), s = r.nextInt();
            client(i, TcpFlags.SYN, c, 0);
            check(ct.commit(p, 0, now), Verdict.NEW);
            server(i, TcpFlags.SYN | TcpFlags.ACK, s, c + 1);
            check(ct.track(p, now), Verdict.ESTABLISHED);
            client(i, TcpFlags.ACK, c + 1, s + 1);
            check(ct.track(p, now), Verdict.ESTABLISHED);
            seqs[i] = ((long) (c + 1) << 32) | ((s + 1) & 0xFFFF_FFFFL);
        }
        order = new int[connections];
        for (int i = 0; i < connections; i++) order[i] = i;
        for (int i = connections - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i]; order[i] = order[j]; order[j] = t;
        }
        oldest = 0;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        long refused = ct.refusedTable() + ct.refusedHost() + ct.refusedVm();
        int size = ct.size();
        ct.close();
        if (refused != 0 || size != connections) {
            throw new IllegalStateException("benchmark drifted: refused " + refused + ", size " + size + " != " + connections);
        }
    }

    private static void check(Verdict got, Verdict want) {
        if (got != want) throw new IllegalStateException("setup: " + got + " instead of " + want);
    }

    /** Flow i: client 10.x.y.z:port -> 11.0.0.1:443, keys unique for i < 2^30. */
    private void client(long i, int flags, int seq, int ack) {
        p.v4(1, 0x0A000000 + (int) (i >>> 10), SERVER).tcp(1024 + (int) (i & 1023), 443, flags, seq, ack, 65535, 0);
    }

    private void server(long i, int flags, int seq, int ack) {
        p.v4(1, SERVER, 0x0A000000 + (int) (i >>> 10)).tcp(443, 1024 + (int) (i & 1023), flags, seq, ack, 65535, 0);
    }

    /** One packet of an established flow, alternating client and server direction. */
    @Benchmark
    public Verdict established() {
        int c = cursor++;
        if (c == Integer.MAX_VALUE) cursor = 0;
        int i = order[c % connections];
        long sq = seqs[i];
        int sc = (int) (sq >>> 32), ss = (int) sq;
        if ((c & 1) == 0) client(i, TcpFlags.ACK, sc, ss);
        else server(i, TcpFlags.ACK, ss, sc);
        now += 100;
        return ct.track(p, now);
    }

    private static final int BURST = 32;
    private final CtPacket[] burst = newBurst();
    private final Verdict[] verdicts = new Verdict[BURST];

    private static CtPacket[] newBurst() {
        CtPacket[] b = new CtPacket[BURST];
        for (int i = 0; i < BURST; i++) b[i] = new CtPacket();
        return b;
    }

    /** The same packets as {@link #established}, 32 at a time through {@code trackBurst}; score is per packet. */
    @Benchmark
    @OperationsPerInvocation(BURST)
    public Verdict establishedBurst32() {
        for (int k = 0; k < BURST; k++) {
            int c = cursor++;
            if (c == Integer.MAX_VALUE) cursor = 0;
            int i = order[c % connections];
            long sq = seqs[i];
            int sc = (int) (sq >>> 32), ss = (int) sq;
            int a = 0x0A000000 + (i >>> 10), port = 1024 + (i & 1023);
            if ((c & 1) == 0) burst[k].v4(1, a, SERVER).tcp(port, 443, TcpFlags.ACK, sc, ss, 65535, 0);
            else burst[k].v4(1, SERVER, a).tcp(443, port, TcpFlags.ACK, ss, sc, 65535, 0);
        }
        now += 100;
        ct.trackBurst(burst, BURST, verdicts, now);
        return verdicts[BURST - 1];
    }

    /**
     * One new connection: track (miss, NEW) + commit of a SYN, plus deleting the oldest flow so the
     * table stays at {@code connections} entries (the delete is what expiry would do later).
     */
    @Benchmark
    public Verdict newConnection() {
        long victim = oldest % (4L * connections);
        client(victim, TcpFlags.ACK, 0, 0);
        ct.kill(p);
        long fresh = (oldest + connections) % (4L * connections);
        oldest++;
        client(fresh, TcpFlags.SYN, (int) fresh, 0);
        now += 100;
        Verdict v = ct.track(p, now);
        if (v == Verdict.NEW) v = ct.commit(p, 0, now);
        return v;
    }
}
