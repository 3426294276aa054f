package io.sluice.dataplane.conntrack;

import static io.sluice.dataplane.conntrack.TcpFlags.ACK;
import static io.sluice.dataplane.conntrack.TcpFlags.PSH;
import static io.sluice.dataplane.conntrack.TcpFlags.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Host-wide, per-VM and per-shard limits: floods are refused, nobody is evicted, established traffic continues. */
class LimitsTest {
    private static final long S = 1_000_000_000L;

    private static void open(TcpDriver d) {
        assertEquals(Verdict.NEW, d.send(0, SYN, 0));
        assertEquals(Verdict.ESTABLISHED, d.send(1, SYN | ACK, 0));
        assertEquals(Verdict.ESTABLISHED, d.send(0, ACK, 0));
    }

    @Test
    void synFloodFromOneVmHitsItsLimitAndCannotTouchAnotherVm() {
        ConnLimits limits = new ConnLimits(100_000, 4, 1000);
        try (Conntrack ct = new Conntrack(50_000, CtTimeouts.defaults(), limits, 1)) {
            // VM 2 has an established connection, VM 1 has one too
            TcpDriver victim = new TcpDriver(ct, 1, 2, 0x0A000002, 33000, 0x0A0000FE, 5432, 10, 20);
            open(victim);
            TcpDriver own = new TcpDriver(ct, 1, 1, 0x0A000001, 33000, 0x0A0000FE, 443, 30, 40);
            open(own);
            // VM 1 floods SYNs from random ports to many destinations
            CtPacket p = new CtPacket();
            int created = 0, refused = 0;
            for (int i = 0; i < 20_000; i++) {
                p.v4(1, 0x0A000001, 0x0B000000 + i).tcp(1024 + (i % 60000), 80, SYN, i * 7919, 0, 1024, 0);
                Verdict v = ct.commit(p, 1, S);
                if (v == Verdict.NEW) created++;
                else if (v == Verdict.LIMIT) refused++;
            }
            assertEquals(999, created, "limit 1000 minus the one already open");
            assertEquals(20_000 - 999, refused);
            assertEquals(1000, limits.vmCount(1));
            assertEquals(20_000 - 999, ct.refusedVm());
            // both established connections carry on, in both directions
            for (int i = 0; i < 10; i++) {
                assertEquals(Verdict.ESTABLISHED, victim.send(0, ACK | PSH, 100));
                assertEquals(Verdict.ESTABLISHED, victim.send(1, ACK | PSH, 100));
                assertEquals(Verdict.ESTABLISHED, own.send(0, ACK | PSH, 100), "VM 1's established connection continues");
            }
            // VM 2 can still open new connections; VM 1 cannot
            TcpDriver more = new TcpDriver(ct, 1, 2, 0x0A000002, 33001, 0x0A0000FE, 5432, 50, 60);
            open(more);
            TcpDriver blocked = new TcpDriver(ct, 1, 1, 0x0A000001, 33001, 0x0A0000FE, 5432, 50, 60);
            assertEquals(Verdict.LIMIT, blocked.send(0, SYN, 0));
            assertEquals(2, limits.vmCount(2));
        }
    }

    @Test
    void hostLimitIsSharedByShardsAndFreedByExpiry() {
        ConnLimits limits = new ConnLimits(100, 2, 1000);
        try (Conntrack a = new Conntrack(1000, CtTimeouts.defaults(), limits, 5);
             Conntrack b = new Conntrack(1000, CtTimeouts.defaults(), limits, 5)) {
            CtPacket p = new CtPacket();
            for (int i = 0; i < 60; i++) assertEquals(Verdict.NEW, a.commit(p.v4(1, 1, 1000 + i).udp(1, 2, 0), 0, 0));
            for (int i = 0; i < 40; i++) assertEquals(Verdict.NEW, b.commit(p.v4(1, 2, 1000 + i).udp(1, 2, 0), 1, 0));
            assertEquals(Verdict.LIMIT, a.commit(p.v4(1, 1, 5).udp(1, 2, 0), 0, 0));
            assertEquals(Verdict.LIMIT, b.commit(p.v4(1, 2, 5).udp(1, 2, 0), 1, 0));
            assertEquals(1, a.refusedHost());
            assertEquals(100, limits.hostCount());
            // established (UDP) traffic still passes at the limit
            assertEquals(Verdict.ESTABLISHED, a.track(p.v4(1, 1000, 1).udp(2, 1, 0), S));
            // 30 s later the unreplied ones expire; the budget-bounded expiry frees the host count
            while (a.expire(40 * S, 8) > 0 || b.expire(40 * S, 8) > 0) { }
            a.expire(40 * S, a.capacity());
            b.expire(40 * S, b.capacity());
            assertEquals(0, limits.hostCount());
            assertEquals(Verdict.NEW, a.commit(p.v4(1, 1, 5).udp(1, 2, 0), 0, 40 * S));
        }
    }

    @Test
    void shardTableFullRefusesWithoutEvicting() {
        ConnLimits limits = new ConnLimits(1000, 1, 1000);
        try (Conntrack ct = new Conntrack(10, CtTimeouts.defaults(), limits, 5)) {
            CtPacket p = new CtPacket();
            for (int i = 0; i < 10; i++) assertEquals(Verdict.NEW, ct.commit(p.v4(1, 1, i).udp(1, 2, 0), 0, 0));
            assertEquals(Verdict.LIMIT, ct.commit(p.v4(1, 1, 99).udp(1, 2, 0), 0, 0));
            assertEquals(1, ct.refusedTable());
            assertEquals(10, ct.size());
            for (int i = 0; i < 10; i++) assertEquals(Verdict.ESTABLISHED, ct.track(p.v4(1, i, 1).udp(2, 1, 0), 1));
            assertEquals(10, limits.hostCount());
        }
    }

    @Test
    void loweringAVmLimitRefusesNewButCutsNothing() {
        ConnLimits limits = new ConnLimits(1000, 3, 1000);
        try (Conntrack ct = new Conntrack(100, CtTimeouts.defaults(), limits, 5)) {
            CtPacket p = new CtPacket();
            for (int i = 0; i < 5; i++) ct.commit(p.v4(1, 1, i).udp(1, 2, 0), 2, 0);
            limits.setVmLimit(2, 3);
            assertEquals(Verdict.LIMIT, ct.commit(p.v4(1, 1, 50).udp(1, 2, 0), 2, 0));
            for (int i = 0; i < 5; i++) assertEquals(Verdict.ESTABLISHED, ct.track(p.v4(1, 1, i).udp(1, 2, 0), 1));
            assertTrue(ct.kill(p.v4(1, 1, 0).udp(1, 2, 0)));
            assertTrue(ct.kill(p.v4(1, 1, 1).udp(1, 2, 0)));
            assertTrue(ct.kill(p.v4(1, 1, 2).udp(1, 2, 0)));
            assertEquals(Verdict.NEW, ct.commit(p.v4(1, 1, 50).udp(1, 2, 0), 2, 0));
        }
    }

    @Test
    void expiredButUnreclaimedEntriesDoNotRefuseANewConnection() {
        // a quiet VM at its limit: its connections expire, but nothing reclaims them (no packets
        // on the shard, so no expiry pass); its next connection must still be admitted
        ConnLimits limits = new ConnLimits(100, 4, 2);
        try (Conntrack ct = new Conntrack(64, CtTimeouts.defaults(), limits, 3)) {
            CtPacket p = new CtPacket();
            for (int i = 0; i < 2; i++) {
                p.v4(1, 0x0A000001, 0x0B000001).udp(5000 + i, 53, 0);
                assertEquals(Verdict.NEW, ct.commit(p, 1, S));
            }
            p.v4(1, 0x0A000001, 0x0B000001).udp(5002, 53, 0);
            assertEquals(Verdict.LIMIT, ct.commit(p, 1, S + 1), "at the limit while both are live");
            long later = S + 3600 * S; // long past the UDP timeout
            assertEquals(2, limits.vmCount(1), "expired, not yet reclaimed");
            assertEquals(Verdict.NEW, ct.commit(p, 1, later), "expired entries counted against the limit");
            assertEquals(1, limits.vmCount(1));
            assertEquals(2, ct.expiredCount());
        }
    }

    @Test
    void staleEstablishedEntryDoesNotBlockAReusedPort() {
        // the client rebooted and reuses its source port with a new ISN: its SYN passes (Linux sIG),
        // the server's challenge ACK passes, the client's RST (seq = the challenge's ack) closes the
        // stale entry, and the retransmitted SYN opens a new connection
        ConnLimits limits = new ConnLimits(100, 4, 100);
        try (Conntrack ct = new Conntrack(64, CtTimeouts.defaults(), limits, 4)) {
            TcpDriver old = new TcpDriver(ct, 1, 1, 0x0A000001, 40000, 0x0A0000FE, 22, 1000, 5000);
            open(old);
            assertEquals(Verdict.ESTABLISHED, old.send(0, ACK | PSH, 100));
            int newIsn = 0x7000_0000;
            assertEquals(Verdict.ESTABLISHED, old.sendRaw(0, SYN, newIsn, 0, 0), "SYN on the stale entry passes");
            assertEquals("ES", old.stateName(), "and changes nothing");
            assertEquals(1, ct.ignoredCount());
            // challenge ACK: the server's current seq, acking what it had from the old connection
            assertEquals(Verdict.ESTABLISHED, old.sendRaw(1, ACK, old.nxt[1], old.nxt[0], 0));
            assertEquals(Verdict.ESTABLISHED, old.sendRaw(0, TcpFlags.RST, old.nxt[0], 0, 0), "RST answering the challenge");
            assertEquals("CL", old.stateName());
            assertEquals(Verdict.NEW, old.sendRaw(0, SYN, newIsn, 0, 0), "the retransmitted SYN reopens");
        }
    }
}
