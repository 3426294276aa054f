package io.sluice.dataplane.conntrack;

/**
 * Test helper: one TCP conversation between a client (direction 0, the initiator) and a server
 * (direction 1) that keeps each side's sequence numbers the way a real stack would, and sends
 * its segments through a {@link Conntrack}. A client SYN with no entry is committed.
 */
final class TcpDriver {
    final Conntrack ct;
    final CtPacket p = new CtPacket();
    final int zone, vm;
    final int[] addr, port;
    final int[] isn;
    final int[] nxt = new int[2];
    final boolean[] seen = new boolean[2];
    int window = 65535;
    long now = 1_000_000_000L;

    TcpDriver(Conntrack ct, int zone, int vm, int client, int cport, int server, int sport, int isnC, int isnS) {
        this.ct = ct;
        this.zone = zone;
        this.vm = vm;
        this.addr = new int[] {client, server};
        this.port = new int[] {cport, sport};
        this.isn = new int[] {isnC, isnS};
        nxt[0] = isnC + 1;
        nxt[1] = isnS + 1;
    }

    /** Fills {@link #p} for a segment from {@code dir} with explicit seq/ack. */
    CtPacket packet(int dir, int flags, int seq, int ack, int len) {
        return p.v4(zone, addr[dir], addr[1 - dir]).tcp(port[dir], port[1 - dir], flags, seq, ack, window, len);
    }

    /** Sends a well-formed segment: SYNs carry the ISN, others the next sequence number, ACKs what the other side sent. */
    Verdict send(int dir, int flags, int len) {
        boolean syn = (flags & TcpFlags.SYN) != 0;
        int seq = syn ? isn[dir] : nxt[dir];
        boolean ack = (flags & TcpFlags.ACK) != 0;
        packet(dir, flags, seq, ack ? nxt[1 - dir] : 0, len);
        Verdict v = (dir == 0 && flags == TcpFlags.SYN) ? ct.commit(p, vm, now) : ct.track(p, now);
        int end = seq + len + (syn ? 1 : 0) + ((flags & TcpFlags.FIN) != 0 ? 1 : 0);
        if (end - nxt[dir] > 0) nxt[dir] = end;
        seen[dir] = true;
        return v;
    }

    Verdict sendRaw(int dir, int flags, int seq, int ack, int len) {
        packet(dir, flags, seq, ack, len);
        return ct.track(p, now);
    }

    int state() {
        packet(0, TcpFlags.ACK, 0, 0, 0);
        return ct.peekState(p, now);
    }

    String stateName() {
        int s = state();
        return s < 0 ? "NONE" : TcpState.of(s).abbrev();
    }
}
