package io.sluice.dataplane.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** One million tracked connections in one shard, in a bounded, measured amount of off-heap memory. */
class MillionEntriesTest {
    @Test
    void oneMillionConnectionsInBoundedMemory() {
        int n = 1_000_000;
        ConnLimits limits = new ConnLimits(n, 1, n);
        try (Conntrack ct = new Conntrack(n, CtTimeouts.defaults(), limits, 77)) {
            fill(ct, n);
        }
    }

    private static void fill(Conntrack ct, int n) {
        try {
            long bytes = ct.tableBytes();
            // the table is allocated once, at construction, and never grows
            assertEquals((long) ct.capacity() * Conntrack.bytesPerSlot(), bytes);
            CtPacket p = new CtPacket();
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                p.v4(i & 0xFF, 0x0A000000 | (i >>> 8), 0x0B000001).tcp(1024 + (i & 0x3FFF), 443, TcpFlags.SYN, i, 0, 65535, 0);
                assertVerdict(Verdict.NEW, ct.commit(p, 0, 0), i);
            }
            long t1 = System.nanoTime();
            assertEquals(n, ct.size());
            assertEquals(bytes, ct.tableBytes(), "no growth");
            double perConn = (double) bytes / n;
            System.out.printf("conntrack 1M: table %d bytes (%.1f MiB), %.1f bytes/connection, %d slots of %d bytes, inserts %.0f ns each%n",
                    bytes, bytes / 1048576.0, perConn, ct.capacity(), Conntrack.bytesPerSlot(), (t1 - t0) / (double) n);
            // 128-byte entries (96 + 32 of per-direction packet/byte accounting, window start, rule) + 4-byte tag
            assertTrue(perConn <= 180, "bytes per connection " + perConn);
            // every connection answers in the reply direction
            for (int i = 0; i < n; i += 1) {
                p.v4(i & 0xFF, 0x0B000001, 0x0A000000 | (i >>> 8)).tcp(443, 1024 + (i & 0x3FFF), TcpFlags.SYN | TcpFlags.ACK, 5, i + 1, 65535, 0);
                assertVerdict(Verdict.ESTABLISHED, ct.track(p, 1), i);
            }
            // full: the next one is refused, and nothing was evicted
            p.v4(9999, 1, 2).tcp(1, 2, TcpFlags.SYN, 0, 0, 1, 0);
            assertEquals(Verdict.LIMIT, ct.commit(p, 0, 2));
            assertEquals(n, ct.size());
        } finally {
            assertEquals(n, ct.size());
        }
    }

    private static void assertVerdict(Verdict want, Verdict got, int i) {
        if (want != got) assertEquals(want, got, "connection " + i);
    }
}
