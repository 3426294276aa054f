package io.sluice.dataplane.conntrack;

/**
 * One shard of the connection tracker, owned by one worker thread (its only writer). Lookups and
 * updates take no lock and allocate nothing; entries live off-heap in a {@link ConnTable}.
 *
 * <p>Per packet the pipeline calls {@link #track}: {@link Verdict#ESTABLISHED} or
 * {@link Verdict#RELATED} pass, {@link Verdict#INVALID} drops, {@link Verdict#NEW} means "no
 * entry; check your rules" and, if they allow the packet, the pipeline calls {@link #commit}
 * (which may answer {@link Verdict#LIMIT}). Once per duty cycle it calls {@link #expire} with a
 * small budget. Time is the caller's {@code nowNs} (e.g. {@code System.nanoTime()} read once per
 * burst); deadlines compare by subtraction, so wrap-around is harmless.
 *
 * <p>TCP follows Linux nf_conntrack: the {@link TcpTransitions} table plus the window check of
 * {@code tcp_in_window} (see {@link #inWindow}). UDP, ICMP echo and other protocols are
 * pseudo-connections ({@link PseudoState}). ICMP/ICMPv6 errors are RELATED when the header they
 * quote belongs to a live entry, INVALID otherwise.
 *
 * <p>Both directions of a flow must reach the same shard: route with
 * {@link FlowKey#shardOf}{@code (hash, shards)} using the same seed on every worker.
 */
public final class Conntrack implements AutoCloseable {
    /** Most entries per slot: capacity = maxEntries / LOAD_FACTOR. */
    public static final double LOAD_FACTOR = 0.75;
    /** Most packets per {@link #trackBurst} call (the largest {@link io.sluice.dataplane.pipeline.Burst}). */
    public static final int MAX_BURST = 256;
    private static final int ORIG = TcpTransitions.ORIGINAL;
    private static final int REPLY = TcpTransitions.REPLY;
    private static final int F_ORIG_IS_A = 1;
    /** Flag: the connection's end record was handed to the sink already (TCP close); no record at deletion. */
    private static final int F_ENDED = 2;
    /**
     * Flag: the last packet that changed or was passed unchanged on this open connection was an
     * original-direction SYN passed unchanged ({@link TcpTransitions#IGNORE}); its end sequence is
     * the entry's {@code synEnd}. Linux's {@code last_index == TCP_SYN_SET}: the responder's RST
     * answering that SYN (its ACK = the SYN's end) closes the entry without a window check.
     */
    private static final int F_SYN_IGNORED = 4;
    /** Flag: that SYN came in LAST_ACK, so the responder's next ACK is its challenge ACK (RFC 5961), not the ACK of the last FIN. */
    private static final int F_CHALLENGE = 8;
    /**
     * Flag: the connection went through SYN_SENT2 (simultaneous open). Both sides sent a SYN, so
     * the responder's ACK in SYN_RECV completes the handshake (ESTABLISHED), as Linux's
     * {@code IP_CT_TCP_SIMULTANEOUS_OPEN}; the table alone keeps SYN_RECV.
     */
    private static final int F_SIMOPEN = 16;
    /** Flag: picked up mid-stream; no window check (Linux IP_CT_TCP_FLAG_BE_LIBERAL). */
    private static final int F_LIBERAL = 32;
    /**
     * Flag: picked up mid-stream and no reply-direction segment accepted yet (Linux: ESTABLISHED
     * without {@code IPS_SEEN_REPLY}): its ESTABLISHED timeout is at most {@link #UNREPLIED_NS}.
     */
    private static final int F_UNREPLIED = 64;
    /**
     * Longest ESTABLISHED timeout of a picked-up connection no reply has been seen for: Linux's
     * {@code nf_conntrack_tcp_timeout_unacknowledged} default (300 s), which it applies to
     * ESTABLISHED without a reply; so bare ACKs the rules allow do not hold a VM's quota for 5 days.
     */
    static final long UNREPLIED_NS = 300 * 1_000_000_000L;
    private static final long NS_PER_SEC = 1_000_000_000L;
    private static final int W_SCALE_OK = 1;
    /** Linux MAXACKWINCONST: the least window an ACK may lag behind. */
    private static final int MAX_ACK_WINDOW = 66_000;

    private final ConnTable table;
    private final ConnLimits limits;
    private final int maxEntries;
    private final long[] tcpTimeout;
    private final long[] pseudoTimeout;
    private final FlowKey key;
    private final FlowKey qkey;
    private final FlowKey[] burstKeys;
    private final boolean[] burstOk;
    /** Per burst packet: its key's tag, 0 when it has no key (tags are never 0). */
    private final int[] burstTags;
    private long touchSink;
    private int expiryCursor;

    // ---- result of the last call ----
    private int lastSlot = -1;
    private int lastDir = -1;

    // ---- counters (single writer; other threads may read them racily) ----
    private long created, refusedVm, refusedHost, refusedTable, invalid, related, expired, reopened, ignored;
    /** When {@link #commit} last reclaimed expired entries because a limit refused (at most every {@link #RECLAIM_INTERVAL_NS}). */
    private long lastReclaimNs = Long.MIN_VALUE / 2;
    static final long RECLAIM_INTERVAL_NS = 100_000_000L;
    private static final int TABLE_FULL = -1;

    /**
     * @param maxEntries most connections this shard holds (its table gets maxEntries / 0.75 slots)
     * @param timeouts   idle timeouts
     * @param limits     the host's limits, shared by all shards
     * @param seed       hash seed; the same on every shard of a host (shard routing depends on it)
     */
    public Conntrack(int maxEntries, CtTimeouts timeouts, ConnLimits limits, long seed) {
        this(maxEntries, timeouts, limits, seed, false);
    }

    /**
     * As {@link #Conntrack(int, CtTimeouts, ConnLimits, long)}, choosing where the table lives:
     * native memory ({@code onHeap = false}, the default) or two primitive arrays on the Java heap
     * ({@code onHeap = true}), which the JVM can back with huge pages
     * ({@code -XX:+UseTransparentHugePages}); same layout, same code, no GC scanning.
     */
    public Conntrack(int maxEntries, CtTimeouts timeouts, ConnLimits limits, long seed, boolean onHeap) {
        this(checked(maxEntries), timeouts, limits, seed, new ConnTable(capacityFor(checked(maxEntries)), onHeap));
    }

    private Conntrack(int maxEntries, CtTimeouts timeouts, ConnLimits limits, long seed, ConnTable table) {
        this.maxEntries = maxEntries;
        this.table = table;
        this.limits = limits;
        this.tcpTimeout = timeouts.tcpNanos();
        this.pseudoTimeout = timeouts.pseudoNanos();
        this.key = new FlowKey(seed);
        this.qkey = new FlowKey(seed);
        this.burstKeys = new FlowKey[MAX_BURST];
        for (int i = 0; i < MAX_BURST; i++) burstKeys[i] = new FlowKey(seed);
        this.burstOk = new boolean[MAX_BURST];
        this.burstTags = new int[MAX_BURST];
    }

    private static int checked(int maxEntries) {
        if (maxEntries < 1 || maxEntries > 100_000_000) {
            throw new IllegalArgumentException("maxEntries must be 1..100000000, was " + maxEntries);
        }
        return maxEntries;
    }

    private static int capacityFor(int maxEntries) { return (int) Math.ceil(maxEntries / LOAD_FACTOR) + 1; }

    /**
     * A shard kept in the file-backed shared mapping {@code file} (warm restart; {@link ShardFile}):
     * attaches to the table a previous process left there when its header and entries check out
     * (same layout version, entry size, capacity and {@code fingerprint}; with a {@link NatAdopt}, the
     * same {@link NatAdopt#settings}), else starts empty in the
     * same file and passes {@code log} one line naming the file and the reason. Kept entries are
     * charged to {@code limits} again; their deadlines keep their meaning across the restart (the
     * shard's clock is re-based on the wall clock stored in the header). Entries carrying a NAT
     * word are deleted (use the overload with a {@link NatAdopt} to keep them). A file locked by another live process,
     * or one that cannot be mapped, gives a private in-memory table (also logged).
     *
     * @param fingerprint what the layout depends on beyond the table itself (shard index and count, ...)
     */
    public static Conntrack attach(int maxEntries, CtTimeouts timeouts, ConnLimits limits, long seed, java.nio.file.Path file,
                                   long fingerprint, java.util.function.Consumer<String> log) {
        return attach(maxEntries, timeouts, limits, seed, file, fingerprint, ShardFile.clockBase(), ShardFile.bootId(), log);
    }

    /**
     * As {@link #attach(int, CtTimeouts, ConnLimits, long, java.nio.file.Path, long, java.util.function.Consumer)},
     * but a kept entry carrying a NAT word is offered to {@code nat} (the NAT rebuilds what the entry
     * holds, e.g. its SNAT binding) and kept when it accepts, deleted otherwise (null: all deleted).
     */
    public static Conntrack attach(int maxEntries, CtTimeouts timeouts, ConnLimits limits, long seed, java.nio.file.Path file,
                                   long fingerprint, java.util.function.Consumer<String> log, NatAdopt nat) {
        return attach(maxEntries, timeouts, limits, seed, file, fingerprint, ShardFile.clockBase(), ShardFile.bootId(), log, nat);
    }

    /**
     * Warm restart: decides whether a kept entry's NAT word can stay (docs/conntrack.md, "Limits and
     * NAT"). Called once per kept entry with a NAT word, at attach, on the attaching thread.
     */
    public interface NatAdopt {
        /**
         * @param natWord the entry's NAT word
         * @param vm the entry's VM (the {@code vm} of {@link #commit})
         * @param proto IP protocol
         * @param initiatorPort the port (ICMP echo: identifier) of the endpoint that opened the connection
         * @return true: the NAT holds what the word names again (the entry stays; its deletion will release it)
         */
        boolean adopt(int natWord, int vm, int proto, int initiatorPort);

        /**
         * A hash of the settings that give a NAT word its meaning (the external network's SNAT and
         * floating addresses in order, port-block, blocks-per-vm), 0 for none. It is part of the
         * shard file's fingerprint: a table whose NAT words were made under other settings is not
         * kept (its SNAT slots would name other addresses and ports), with a line saying so.
         */
        default long settings() { return 0; }
    }

    static Conntrack attach(int maxEntries, CtTimeouts timeouts, ConnLimits limits, long seed, java.nio.file.Path file,
                            long fingerprint, long clockBaseNow, long bootNow, java.util.function.Consumer<String> log) {
        return attach(maxEntries, timeouts, limits, seed, file, fingerprint, clockBaseNow, bootNow, log, null);
    }

    /** As {@link #attach(int, CtTimeouts, ConnLimits, long, java.nio.file.Path, long, java.util.function.Consumer)} with this process's clock base and boot given (tests). */
    static Conntrack attach(int maxEntries, CtTimeouts timeouts, ConnLimits limits, long seed, java.nio.file.Path file,
                            long fingerprint, long clockBaseNow, long bootNow, java.util.function.Consumer<String> log, NatAdopt nat) {
        checked(maxEntries);
        long fp = FlowKey.hash(seed, maxEntries, fingerprint, ShardFile.VERSION, ConnTable.SLOT, 0, 0);
        ShardFile.Attached a;
        try {
            a = ShardFile.open(file, capacityFor(maxEntries), fp, nat == null ? 0 : nat.settings(), seed, limits.maxVms(), clockBaseNow, bootNow, log);
        } catch (java.io.IOException | RuntimeException e) {
            log.accept("sluice: conntrack " + file + ": cannot keep the table there (" + e.getMessage() + "); using memory, connections will not survive a restart");
            return new Conntrack(maxEntries, timeouts, limits, seed, false);
        }
        Conntrack c = new Conntrack(maxEntries, timeouts, limits, seed, a.table());
        c.file = file;
        // same boot (and a known one): System.nanoTime() is the same monotonic clock in every
        // process, deadlines keep their meaning as they are; another boot: re-based on the wall clock
        c.clockShift = bootNow != 0 && bootNow == a.boot() ? 0 : clockBaseNow - a.clockBase();
        if (a.kept()) c.adopt(nat);
        return c;
    }

    /**
     * Charges the kept entries to the limits; an entry with a NAT word stays only when {@code nat}
     * rebuilds what it holds (its SNAT binding), else it is deleted. The walk starts at an empty slot:
     * a deletion shifts entries back only from the rest of its probe run, which ends before the walk's
     * start, so every entry is looked at (charged, offered to {@code nat}) exactly once.
     */
    private void adopt(NatAdopt nat) {
        ConnTable t = table;
        // deletions shift entries backwards, possibly from the start of the table to its end: walk
        // from an empty slot so that no shift crosses the start of the walk
        int start = 0;
        while (start < t.capacity && t.tagAt(start) != 0) start++;
        int i = start == t.capacity ? 0 : start;
        int scanned = 0;
        while (scanned < t.capacity) {
            if (t.tagAt(i) != 0) {
                int word = t.nat(i);
                if (word != 0 && (nat == null || !nat.adopt(word, t.vm(i), t.protoFamily(i) & 0xFF, initiatorPort(i)))) {
                    t.remove(i); // a later entry may shift into i: look at i again
                    natDropped++;
                    continue;
                }
                limits.charge(t.vm(i));
                if (word != 0) natKept++;
            }
            i = i + 1 == t.capacity ? 0 : i + 1;
            scanned++;
        }
        attached = t.size;
    }

    /** The port (ICMP echo: identifier) of the endpoint that opened the entry's connection. */
    private int initiatorPort(int slot) {
        long pz = table.key(slot, ConnTable.O_PZ);
        int proto = table.protoFamily(slot) & 0xFF;
        int aPort = (int) (pz >>> 48) & 0xFFFF, bPort = (int) (pz >>> 32) & 0xFFFF;
        if (Icmp.isIcmpProto(proto)) return aPort; // echo: the identifier is in the A half (the B half holds the requester bit)
        return (table.flags(slot) & F_ORIG_IS_A) != 0 ? aPort : bPort;
    }

    private java.nio.file.Path file;
    /** Added to every caller's nowNs: the creating process's nanoTime clock (0 for memory tables). */
    private long clockShift;
    private int attached, natDropped, natKept;
    private boolean tcpPickup;

    /** The shard file, or null when the table is in memory only. */
    public java.nio.file.Path file() { return file; }

    /** Connections kept from the previous process (0 when the table started empty). */
    public int attachedCount() { return attached; }

    /** Kept entries deleted at attach because they carried a NAT word the NAT could not take back. */
    public int natDroppedAtAttach() { return natDropped; }

    /** Kept entries with a NAT word the NAT took back at attach (their SNAT bindings rebuilt). */
    public int natKeptAtAttach() { return natKept; }

    /**
     * TCP mid-stream pickup (Linux {@code nf_conntrack_tcp_loose}): when on, a TCP ACK segment
     * (no SYN, FIN or RST) without an entry is {@link Verdict#NEW} instead of INVALID, and
     * {@link #commit} creates it ESTABLISHED with a liberal window (no window check), so a flow
     * whose state was lost resumes if the rules allow it in the direction seen. Control thread,
     * before traffic.
     */
    public void tcpPickup(boolean on) { this.tcpPickup = on; }

    public boolean tcpPickup() { return tcpPickup; }

    /** Connections picked up mid-stream by {@link #commit}. */
    public long pickedUpCount() { return pickedUp; }

    private long pickedUp;

    // =====================================================================================
    // fast path
    // =====================================================================================

    /**
     * Looks the packet up and, if it belongs to a live connection, updates that connection.
     * Creates nothing: a packet that may start a connection gets {@link Verdict#NEW}.
     */
    public Verdict track(CtPacket p, long nowNs) {
        return trackAt(p, nowNs + clockShift);
    }

    private Verdict trackAt(CtPacket p, long nowNs) {
        nowNsLast = nowNs;
        lastSlot = -1;
        lastDir = -1;
        if (Icmp.isIcmpProto(p.proto) && Icmp.isError(p.family, p.icmpType)) {
            return relatedAt(p, nowNs);
        }
        FlowKey k = key;
        if (!k.fromPacket(p)) {
            invalid++;
            return Verdict.INVALID;
        }
        return trackKeyed(p, k, nowNs);
    }

    /**
     * {@link #track} for {@code n} packets (at most {@link #MAX_BURST}): {@code out[i]} is what
     * {@code track(pkts[i], nowNs)} would return, in order. It first computes every key and loads
     * each key's tag and home slot ({@link #prepare}), so that the cache misses of the whole burst
     * overlap instead of coming one after the other (what VPP does with prefetches); then it tracks
     * packet by packet. {@link #lastDirection()} and friends describe the last packet.
     */
    public void trackBurst(CtPacket[] pkts, int n, Verdict[] out, long nowNs) {
        prepare(pkts, n, false);
        nowNs += clockShift;
        nowNsLast = nowNs;
        for (int i = 0; i < n; i++) out[i] = trackPreparedAt(i, pkts[i], nowNs);
    }

    /**
     * The first half of {@link #trackBurst}, for a caller that must act between one packet's
     * tracking and the next's (the NAT: its step may delete entries): computes the key of each of
     * {@code pkts[0..n)} (at most {@link #MAX_BURST}) and loads each key's tag and home slot (with
     * {@code secondLine}, also the home entry's second cache line, where the label and NAT word
     * are), so that the burst's cache misses overlap. Reads the table, changes nothing; then
     * {@link #trackPrepared}{@code (k, pkts[k], now)} tracks packet k. A table change in between
     * (a commit, kill, deletion) costs at most a wasted load: the slot is found when tracked.
     */
    public void prepare(CtPacket[] pkts, int n, boolean secondLine) {
        if (n > MAX_BURST) throw new IllegalArgumentException("burst of " + n + " > " + MAX_BURST);
        FlowKey[] keys = burstKeys;
        boolean[] ok = burstOk;
        int[] tags = burstTags;
        for (int i = 0; i < n; i++) {
            CtPacket p = pkts[i];
            boolean good = !(Icmp.isIcmpProto(p.proto) && Icmp.isError(p.family, p.icmpType)) && keys[i].fromPacket(p);
            ok[i] = good;
            tags[i] = good ? keys[i].tag : 0;
        }
        // the loads of the whole burst in one short loop (a few instructions per packet), so that
        // the out-of-order window holds all of their misses at once; in the hashing loop above it
        // held only those of the last few packets
        ConnTable t = table;
        long sink = 0;
        if (secondLine) {
            for (int i = 0; i < n; i++) {
                int tag = tags[i];
                if (tag != 0) sink += t.touchBoth(tag);
            }
        } else {
            for (int i = 0; i < n; i++) {
                int tag = tags[i];
                if (tag != 0) sink += t.touch(tag);
            }
        }
        touchSink = sink; // keeps the loads
    }

    /**
     * {@link #track}{@code (p, nowNs)} for packet k of the last {@link #prepare}, with the key
     * computed there: {@code p} must be {@code pkts[k]} of that call, unchanged since.
     */
    public Verdict trackPrepared(int k, CtPacket p, long nowNs) {
        nowNs += clockShift;
        nowNsLast = nowNs;
        return trackPreparedAt(k, p, nowNs);
    }

    private Verdict trackPreparedAt(int k, CtPacket p, long nowNs) {
        lastSlot = -1;
        lastDir = -1;
        if (burstOk[k]) return trackKeyed(p, burstKeys[k], nowNs);
        if (Icmp.isIcmpProto(p.proto) && Icmp.isError(p.family, p.icmpType)) return relatedAt(p, nowNs);
        invalid++;
        return Verdict.INVALID;
    }

    private Verdict trackKeyed(CtPacket p, FlowKey k, long nowNs) {
        int slot = findLive(k, nowNs);
        if (slot < 0) return firstPacket(p);
        int dir = k.icmpDir >= 0 ? k.icmpDir
                : (k.srcIsA == ((table.flags(slot) & F_ORIG_IS_A) != 0) ? ORIG : REPLY);
        lastSlot = slot;
        lastDir = dir;
        Verdict v = p.proto == CtPacket.IPPROTO_TCP ? tcpUpdate(slot, dir, p, nowNs) : pseudoUpdate(slot, dir, p, nowNs);
        if (v == Verdict.INVALID) invalid++;
        return v;
    }

    /**
     * Creates the connection of a packet that {@link #track} called NEW, charged to {@code vmId}.
     * Returns NEW when created, LIMIT when a limit refused it; for a packet that is not NEW it
     * behaves exactly like {@link #track}. The caller calls it only when its rules admit the packet.
     */
    public Verdict commit(CtPacket p, int vmId, long nowNs) {
        nowNs += clockShift;
        Verdict v = trackAt(p, nowNs);
        if (v != Verdict.NEW) return v;
        int r = table.size >= maxEntries ? TABLE_FULL : limits.tryAcquire(vmId);
        if (r != ConnLimits.OK && nowNs - lastReclaimNs >= RECLAIM_INTERVAL_NS) {
            // entries that expired but were not reclaimed yet (a quiet shard reclaims only when it
            // sees packets) must not refuse a new connection: one full pass, at most every 100 ms
            lastReclaimNs = nowNs;
            expireAt(nowNs, table.capacity);
            r = table.size >= maxEntries ? TABLE_FULL : limits.tryAcquire(vmId);
        }
        if (r == TABLE_FULL) {
            refusedTable++;
            return Verdict.LIMIT;
        }
        if (r != ConnLimits.OK) {
            if (r == ConnLimits.VM_FULL) refusedVm++; else refusedHost++;
            return Verdict.LIMIT;
        }
        FlowKey k = key;
        int pos = table.find(k.tag, k.aHi, k.aLo, k.bHi, k.bLo, k.portsZone, k.protoFamily);
        if (pos >= 0) throw new IllegalStateException("commit found a live entry after track said NEW");
        int slot = ~pos;
        table.insert(slot, k.tag, k.aHi, k.aLo, k.bHi, k.bLo, k.portsZone, k.protoFamily);
        boolean origIsA = k.icmpDir >= 0 ? requesterIsA(k) : k.srcIsA;
        table.flags(slot, origIsA ? F_ORIG_IS_A : 0);
        table.vm(slot, vmId);
        if (p.proto == CtPacket.IPPROTO_TCP && TcpSegment.classify(p.tcpFlags) != TcpSegment.SYN) {
            // mid-stream pickup (only an ACK segment gets here, see firstPacket): ESTABLISHED with
            // the sender's window learned from this packet and, as Linux's tcp_loose, no window
            // check for the connection (the window scale of either side is unknown)
            table.flags(slot, table.flags(slot) | F_LIBERAL | F_UNREPLIED);
            table.state(slot, TcpState.ESTABLISHED.ordinal());
            int end = p.seq + p.payloadLen;
            int win = p.window & 0xFFFF;
            table.end(slot, ORIG, end);
            table.maxWin(slot, ORIG, win == 0 ? 1 : win);
            table.maxEnd(slot, ORIG, end + (win == 0 ? 1 : win));
            table.deadline(slot, nowNs + Math.min(tcpTimeout[TcpState.ESTABLISHED.ordinal()], UNREPLIED_NS));
            pickedUp++;
        } else if (p.proto == CtPacket.IPPROTO_TCP) {
            table.state(slot, TcpState.SYN_SENT.ordinal());
            initDirection(slot, ORIG, p, p.seq + 1 + p.payloadLen);
            table.deadline(slot, nowNs + tcpTimeout[TcpState.SYN_SENT.ordinal()]);
        } else {
            table.state(slot, PseudoState.FIRST);
            table.deadline(slot, nowNs + pseudoTimeout[kind(p.proto) * 3 + PseudoState.FIRST]);
        }
        table.start(slot, (int) (nowNs / NS_PER_SEC));
        account(slot, ORIG, p.length);
        created++;
        lastSlot = slot;
        lastDir = ORIG;
        return Verdict.NEW;
    }

    /**
     * Reclaims expired entries incrementally: moves the expiry cursor over at most
     * {@code maxSlots} slots from where the previous call stopped and deletes at most
     * {@code maxSlots} entries. Returns how many it deleted. Since a table never holds
     * {@link #capacity()} entries, a budget of {@link #capacity()} with one {@code nowNs} is a
     * complete pass (an entry shifted back by a deletion lands at or after the cursor).
     */
    public int expire(long nowNs, int maxSlots) {
        return expireAt(nowNs + clockShift, maxSlots);
    }

    private int expireAt(long nowNs, int maxSlots) {
        ConnTable t = table;
        int cap = t.capacity;
        int i = expiryCursor;
        int reclaimed = 0;
        int moved = 0;
        nowNsLast = nowNs;
        while (moved < maxSlots && reclaimed < maxSlots) {
            if (t.tagAt(i) != 0 && nowNs - t.deadline(i) >= 0) {
                removeEntry(i, FlowRecord.END_EXPIRED); // a later entry may shift into i: look at i again
                reclaimed++;
            } else {
                i = i + 1 == cap ? 0 : i + 1;
                moved++;
            }
        }
        expiryCursor = i;
        expired += reclaimed;
        return reclaimed;
    }

    // =====================================================================================
    // TCP
    // =====================================================================================

    private Verdict tcpUpdate(int slot, int dir, CtPacket p, long now) {
        int seg = TcpSegment.classify(p.tcpFlags);
        if (seg < 0) return Verdict.INVALID;
        int state = table.state(slot);
        int next = TcpTransitions.next(dir, seg, state);
        int fl = table.flags(slot);
        if ((fl & F_SYN_IGNORED) != 0 && dir == REPLY && seg == TcpSegment.SYNACK && p.ack == table.synEnd(slot)) {
            // the responder answers the SYN passed unchanged: client and server started over and
            // the entry is out of date (Linux: "SYN/ACK acknowledges a SYN that we earlier ignored").
            // Start over from that SYN: the original side from its record, the reply side from this
            // SYN/ACK, as if the entry were in SYN_SENT.
            int o = ORIG;
            table.clearDirection(slot, REPLY);
            int synEnd = table.synEnd(slot), win = table.synWin(slot), ws = table.synWscale(slot);
            table.end(slot, o, synEnd);
            table.maxEnd(slot, o, synEnd);
            table.maxWin(slot, o, win == 0 ? 1 : win);
            table.scale(slot, o, ws >= 0 ? Math.min(ws, 14) : 0);
            table.wflags(slot, o, ws >= 0 ? W_SCALE_OK : 0);
            fl &= ~(F_SYN_IGNORED | F_CHALLENGE | F_SIMOPEN);
            table.flags(slot, fl);
            state = TcpState.SYN_SENT.ordinal();
            next = TcpTransitions.next(dir, seg, state);
        }
        if (next == TcpTransitions.INVALID) return Verdict.INVALID;
        if ((fl & F_SIMOPEN) != 0 && dir == REPLY && seg == TcpSegment.ACK && state == SYN_RECV) next = ESTABLISHED;
        if (next == TcpTransitions.IGNORE) {
            ignored++;
            account(slot, dir, p.length);
            // remember the SYN (Linux last_end, last_win, last_wscale): the responder's RST,
            // challenge ACK or SYN/ACK answers it; Linux also forgets a simultaneous open here
            table.synEnd(slot, p.seq + 1 + p.payloadLen);
            table.synWindow(slot, p.window & 0xFFFF, p.wscale);
            table.flags(slot, (fl & ~(F_CHALLENGE | F_SIMOPEN)) | F_SYN_IGNORED | (state == LAST_ACK ? F_CHALLENGE : 0));
            return Verdict.ESTABLISHED; // passes; the state, windows and timeout stay as they are
        }
        if ((fl & F_SYN_IGNORED) != 0) {
            if (seg == TcpSegment.RST && p.ack == table.synEnd(slot)) {
                // the responder's RST to the SYN passed above (the client rebooted; Linux: "RST sent
                // to invalid SYN we had let through"): it acknowledges that SYN, not the old window
                table.flags(slot, fl & ~(F_SYN_IGNORED | F_CHALLENGE));
                return advance(slot, dir, next, p, now);
            }
            if ((fl & F_CHALLENGE) != 0 && dir == REPLY && seg == TcpSegment.ACK && state == LAST_ACK) {
                // the responder's challenge ACK to that SYN (RFC 5961 4) must not count as the ACK of
                // the last FIN: it passes and changes nothing (Linux: "challenge-ack ignored")
                ignored++;
                table.flags(slot, fl & ~F_CHALLENGE);
                account(slot, dir, p.length);
                return Verdict.ESTABLISHED;
            }
        }
        if (next == TcpTransitions.REOPEN) {
            removeEntry(slot, FlowRecord.END_REOPENED);
            reopened++;
            lastSlot = -1;
            lastDir = -1;
            return Verdict.NEW;
        }
        if (dir == REPLY && state == TcpState.SYN_SENT.ordinal()) {
            // the answer to our SYN must acknowledge exactly that SYN (RFC 793 SYN-SENT processing)
            boolean acks = (p.tcpFlags & TcpFlags.ACK) != 0 && p.ack == table.end(slot, ORIG);
            if ((seg == TcpSegment.SYNACK || seg == TcpSegment.RST) && !acks) return Verdict.INVALID;
        }
        int w = (fl & F_LIBERAL) != 0 ? W_OK : inWindow(slot, dir, state, seg, p); // no branch above clears F_LIBERAL
        if (w == W_INVALID) {
            if ((fl & F_SYN_IGNORED) != 0 && (seg == TcpSegment.FIN || seg == TcpSegment.RST) && state != SYN_RECV) {
                // Linux (nf_tcp_handle_invalid) records an out-of-window FIN or RST on an assured
                // connection as its last packet: the passed SYN is no longer the one answered
                table.flags(slot, fl & ~(F_SYN_IGNORED | F_CHALLENGE));
            }
            return Verdict.INVALID;
        }
        if (w == W_IGNORE) {
            ignored++;
            return Verdict.ESTABLISHED; // a late duplicate (Linux >= 6.0 NFCT_TCP_IGNORE): passes, changes nothing
        }
        if ((fl & F_SYN_IGNORED) != 0) table.flags(slot, table.flags(slot) & ~(F_SYN_IGNORED | F_CHALLENGE));
        if (next == SYN_SENT2) table.flags(slot, table.flags(slot) | F_SIMOPEN);
        return advance(slot, dir, next, p, now);
    }

    /** The segment is accepted: the entry moves to {@code next}, its timeout restarts, the packet is counted. */
    private Verdict advance(int slot, int dir, int next, CtPacket p, long now) {
        int prev = table.state(slot);
        table.state(slot, next);
        long timeout = tcpTimeout[next];
        int fl = table.flags(slot);
        if ((fl & F_UNREPLIED) != 0) {
            // picked up and no reply seen before this packet (Linux tests SEEN_REPLY before it sets it)
            if (next == ESTABLISHED && timeout > UNREPLIED_NS) timeout = UNREPLIED_NS;
            if (dir == REPLY) table.flags(slot, fl & ~F_UNREPLIED);
        }
        // a retransmitted SYN (SYN_SENT stays SYN_SENT: no answer yet) does not renew the timeout, as in
        // Linux: a client or NAT reusing the port must not keep the entry (and its NAT binding) alive forever
        if (!(prev == SYN_SENT && next == SYN_SENT)) table.deadline(slot, now + timeout);
        account(slot, dir, p.length);
        if ((next == CLOSED || next == TIME_WAIT) && sink != null && (table.flags(slot) & F_ENDED) == 0) {
            // the connection is over (RST, or the last FIN acknowledged): its end record now, not
            // when the entry expires (10 s / 120 s later); this packet is in it. Later packets
            // (a retransmitted FIN) are counted but not reported.
            int sec = (int) (now / NS_PER_SEC);
            report(slot, FlowRecord.END_CLOSED, sec);
            table.resetAccounting(slot, sec);
            table.flags(slot, table.flags(slot) | F_ENDED);
        }
        return Verdict.ESTABLISHED;
    }

    /**
     * Linux {@code tcp_in_window} without SACK: sender S (this packet's direction), receiver R.
     * Valid when (I) seq &lt;= S.maxEnd, (II) end &gt; S.end - R.maxWin - 1 (not older than one
     * receive window; not checked while R.maxWin is 0, R having sent nothing), (III) ack &lt;= R.end
     * (acknowledges nothing unsent), (IV) ack &gt; R.end - max(S.maxWin, 66000) - 1. On success it advances S.end, S.maxWin and R.maxEnd.
     */
    private static final int W_INVALID = 0, W_OK = 1, W_IGNORE = 2;

    private int inWindow(int slot, int s, int state, int seg, CtPacket p) {
        ConnTable t = table;
        int r = 1 - s;
        boolean syn = seg == TcpSegment.SYN || seg == TcpSegment.SYNACK;
        int flags = p.tcpFlags;
        int seq = p.seq;
        int end = seq + p.payloadLen + (syn ? 1 : 0) + ((flags & TcpFlags.FIN) != 0 ? 1 : 0);
        int sMaxWin = t.maxWin(slot, s);
        if (sMaxWin == 0) {
            if (!syn) {
                // only a RST answering our SYN (already checked to ack it exactly) gets here
                return seg == TcpSegment.RST ? W_OK : W_INVALID;
            }
            initDirection(slot, s, p, end);
            // a SYN without ACK (simultaneous open): accepted as it is, it moves nothing of the
            // other side (Linux returns right after initialising the sender)
            if ((flags & TcpFlags.ACK) == 0) return W_OK;
        } else if (syn && ((state == TcpState.SYN_SENT.ordinal() && s == ORIG)
                || (state == TcpState.SYN_RECV.ordinal() && s == REPLY)) && after(end, t.end(slot, s))) {
            // a re-initialised endpoint (RFC 793: larger ISN). Check its ACK first, so that an
            // INVALID segment changes nothing (Linux re-initialises before checking).
            if ((flags & TcpFlags.ACK) != 0) {
                int w = p.window & 0xFFFF;
                int maw = Integer.compareUnsigned(w, MAX_ACK_WINDOW) > 0 ? w : MAX_ACK_WINDOW;
                int re = t.end(slot, r);
                if (after(p.ack, re) || !after(p.ack, re - maw - 1)) return W_INVALID;
            }
            initDirection(slot, s, p, end);
        }
        int ack = (flags & TcpFlags.ACK) != 0 ? p.ack : t.end(slot, r);
        int win = p.window & 0xFFFF;
        if (!syn) win <<= t.scale(slot, s);
        int sEnd = t.end(slot, s);
        int rEnd = t.end(slot, r);
        int rMaxWin = t.maxWin(slot, r);
        sMaxWin = t.maxWin(slot, s);
        int maxAckWin = Integer.compareUnsigned(sMaxWin, MAX_ACK_WINDOW) > 0 ? sMaxWin : MAX_ACK_WINDOW;
        // beyond the right edge or acking unsent data: INVALID; older than one window, or an ACK
        // lagging more than a window behind: a late duplicate, passed without changing anything
        if (after(seq, t.maxEnd(slot, s)) || after(ack, rEnd)) return W_INVALID;
        // (before R sent anything its window is unknown, R.maxWin 0: nothing is older than it, as
        // in Linux's in_recv_win = !receiver->td_maxwin || ...)
        if ((rMaxWin != 0 && !after(end, sEnd - rMaxWin - 1)) || !after(ack, rEnd - maxAckWin - 1)) return W_IGNORE;
        if (Integer.compareUnsigned(sMaxWin, win) < 0) t.maxWin(slot, s, win);
        if (after(end, sEnd)) t.end(slot, s, end);
        int sMaxEnd = t.maxEnd(slot, s);
        if (rMaxWin != 0 && after(end, sMaxEnd)) t.maxWin(slot, r, rMaxWin + (end - sMaxEnd));
        // the receiver's right edge moves with every accepted segment, also one without ACK (an RST:
        // its "ack" is R.end), as Linux's tcp_in_window does (sack = td_end when ACK is not set)
        int right = ack + win;
        if (after(right, t.maxEnd(slot, r) - 1)) t.maxEnd(slot, r, win == 0 ? right + 1 : right);
        return W_OK;
    }

    /** First packet seen from direction d (its SYN or SYN/ACK): window data and scale negotiation. */
    private void initDirection(int slot, int d, CtPacket p, int end) {
        ConnTable t = table;
        int win = p.window & 0xFFFF;
        t.end(slot, d, end);
        t.maxEnd(slot, d, end);
        t.maxWin(slot, d, win == 0 ? 1 : win);
        boolean ws = p.wscale >= 0;
        t.scale(slot, d, ws ? Math.min(p.wscale, 14) : 0);
        t.wflags(slot, d, ws ? W_SCALE_OK : 0);
        int o = 1 - d;
        if (t.maxWin(slot, o) != 0) {
            // both SYNs seen: scaling is on only if both offered it (RFC 7323)
            if ((t.wflags(slot, o) & W_SCALE_OK) == 0 || !ws) {
                t.scale(slot, d, 0);
                t.scale(slot, o, 0);
            }
        }
    }

    private static boolean after(int a, int b) { return a - b > 0; }

    // =====================================================================================
    // UDP, ICMP echo, other protocols
    // =====================================================================================

    private Verdict pseudoUpdate(int slot, int dir, CtPacket p, long now) {
        boolean icmp = Icmp.isIcmpProto(p.proto);
        int next = PseudoState.next(table.state(slot), dir, icmp);
        table.state(slot, next);
        table.deadline(slot, now + pseudoTimeout[kind(p.proto) * 3 + next]);
        account(slot, dir, p.length);
        return Verdict.ESTABLISHED;
    }

    private static int kind(int proto) {
        if (proto == CtPacket.IPPROTO_UDP) return PseudoState.KIND_UDP;
        if (Icmp.isIcmpProto(proto)) return PseudoState.KIND_ICMP;
        return PseudoState.KIND_OTHER;
    }

    private Verdict firstPacket(CtPacket p) {
        boolean canStart;
        if (p.proto == CtPacket.IPPROTO_TCP) {
            int seg = TcpSegment.classify(p.tcpFlags);
            canStart = seg == TcpSegment.SYN || (seg == TcpSegment.ACK && tcpPickup);
        } else if (Icmp.isIcmpProto(p.proto)) {
            canStart = Icmp.isEchoRequest(p.family, p.icmpType);
        } else {
            canStart = true;
        }
        if (canStart) return Verdict.NEW;
        invalid++;
        return Verdict.INVALID;
    }

    // =====================================================================================
    // ICMP errors
    // =====================================================================================

    /**
     * An ICMP/ICMPv6 error (destination unreachable incl. packet too big / fragmentation needed,
     * time exceeded, parameter problem) is RELATED when the header it quotes belongs to a live
     * connection and the error travels back to the quoted packet's sender (outer destination =
     * quoted source). Anything else is INVALID. An error neither refreshes nor changes the entry.
     */
    public Verdict related(CtPacket p, long nowNs) {
        return relatedAt(p, nowNs + clockShift);
    }

    private Verdict relatedAt(CtPacket p, long nowNs) {
        lastSlot = -1;
        lastDir = -1;
        FlowKey k = qkey;
        if (p.dstHi != p.qSrcHi || p.dstLo != p.qSrcLo || !k.fromQuoted(p)) {
            invalid++;
            return Verdict.INVALID;
        }
        int slot = findLive(k, nowNs);
        if (slot < 0) {
            invalid++;
            return Verdict.INVALID;
        }
        lastSlot = slot;
        related++;
        return Verdict.RELATED;
    }

    // =====================================================================================
    // table helpers
    // =====================================================================================

    private int findLive(FlowKey k, long now) {
        int slot = table.find(k.tag, k.aHi, k.aLo, k.bHi, k.bLo, k.portsZone, k.protoFamily);
        if (slot >= 0 && now - table.deadline(slot) >= 0) {
            nowNsLast = now;
            removeEntry(slot, FlowRecord.END_EXPIRED);
            expired++;
            return -1;
        }
        return slot;
    }

    private static boolean requesterIsA(FlowKey k) { return requesterIsA(k.portsZone); }

    private static boolean requesterIsA(long portsZone) { return ((portsZone >>> 32) & 1) != 0; }

    private void removeEntry(int slot, int why) {
        int vm = table.vm(slot);
        int nat = table.nat(slot);
        if (sink != null && (table.flags(slot) & F_ENDED) == 0) report(slot, why, (int) (nowNsLast / NS_PER_SEC));
        table.remove(slot);
        limits.release(vm);
        if (nat != 0 && natRelease != null) natRelease.released(nat);
    }

    /**
     * Told when a connection carrying a NAT word ({@link #setLastNat}) is deleted (expired, killed,
     * reopened), so the NAT can return what the connection held (its SNAT port). Same thread.
     */
    public interface NatRelease {
        void released(int natWord);
    }

    private NatRelease natRelease;

    // ---- flow logs ----
    private static final int CLOSED = TcpState.CLOSE.ordinal(), TIME_WAIT = TcpState.TIME_WAIT.ordinal(),
            LAST_ACK = TcpState.LAST_ACK.ordinal(), SYN_RECV = TcpState.SYN_RECV.ordinal(),
            SYN_SENT2 = TcpState.SYN_SENT2.ordinal(), ESTABLISHED = TcpState.ESTABLISHED.ordinal(),
            SYN_SENT = TcpState.SYN_SENT.ordinal();

    /**
     * Receives flow-log records (docs/operations.md, "Flow logs"): the end of every connection
     * (expired, TCP closed, cut/killed, re-opened) and, for long ones, an interim record every
     * interval (found by the {@link #expire} cursor). Called on the shard's thread; must not block
     * or allocate. The record is reused: copy what you keep.
     */
    public interface FlowSink {
        void record(FlowRecord r);
    }

    private FlowSink sink;
    private int interimSec = Integer.MAX_VALUE;
    private final FlowRecord rec = new FlowRecord();
    /** The {@code nowNs} of the last call that had one (kill has none): the end time of records. */
    private long nowNsLast;

    /**
     * Sets who receives flow-log records (null: nobody) and the interval of interim records in
     * seconds. Packets and bytes are counted per connection only while a sink is set (from the
     * packet after this call). Control thread, before traffic.
     */
    public void flowSink(FlowSink s, int interimSeconds) {
        if (interimSeconds < 1) throw new IllegalArgumentException("interim interval must be >= 1 s, was " + interimSeconds);
        this.sink = s;
        this.interimSec = interimSeconds;
    }

    /**
     * Counts one packet of the entry (packets and L3 bytes per direction) only while flow logs are
     * on: the counts live in the entry's second cache line, which an established UDP/ICMP packet
     * otherwise never touches (docs/performance.md, "Flow accounting only with flow logs").
     */
    private void account(int slot, int dir, int length) {
        if (sink != null) table.account(slot, dir, length);
    }

    private void report(int slot, int kind, int nowSec) {
        ConnTable t = table;
        FlowRecord r = rec;
        boolean origIsA = (t.flags(slot) & F_ORIG_IS_A) != 0;
        long pz = t.key(slot, ConnTable.O_PZ);
        int pf = t.protoFamily(slot);
        r.kind = kind;
        r.zone = (int) pz;
        r.proto = pf & 0xFF;
        r.family = pf >>> 8;
        int aPort = (int) (pz >>> 48) & 0xFFFF, bPort = (int) (pz >>> 32) & 0xFFFF;
        if (Icmp.isIcmpProto(r.proto)) {
            origIsA = requesterIsA(pz);
            aPort = bPort = (int) (pz >>> 48) & 0xFFFF;
        }
        int so = origIsA ? ConnTable.O_AHI : ConnTable.O_BHI, d = origIsA ? ConnTable.O_BHI : ConnTable.O_AHI;
        r.srcHi = t.key(slot, so);
        r.srcLo = t.key(slot, so + 8);
        r.dstHi = t.key(slot, d);
        r.dstLo = t.key(slot, d + 8);
        r.sport = origIsA ? aPort : bPort;
        r.dport = origIsA ? bPort : aPort;
        r.vm = t.vm(slot);
        r.rule = t.rule(slot);
        r.nat = t.nat(slot);
        r.tag = t.tagAt(slot);
        r.packetsOrig = t.packets(slot, ORIG);
        r.bytesOrig = t.bytes(slot, ORIG);
        r.packetsReply = t.packets(slot, REPLY);
        r.bytesReply = t.bytes(slot, REPLY);
        r.startSec = t.start(slot);
        r.endSec = nowSec;
        sink.record(r);
    }

    /**
     * Interim flow-log records: moves the interim cursor (its own, apart from {@link #expire}'s, so
     * that expiry, which reads only an entry's first cache line, does not also pull in the second
     * where the counts are) over at most {@code maxSlots} slots; a live connection whose accounting
     * window is at least the interim interval old and has counted packets gets an
     * {@link FlowRecord#INTERIM} record and a new window. Does nothing without a sink. Returns the
     * records made. A budget of {@link #capacity()} is a complete pass (nothing moves: no deletion).
     */
    public int interim(long nowNs, int maxSlots) {
        FlowSink fs = sink;
        if (fs == null) return 0;
        nowNs += clockShift;
        ConnTable t = table;
        int cap = t.capacity;
        int i = interimCursor;
        int nowSec = (int) (nowNs / NS_PER_SEC);
        int made = 0;
        for (int moved = 0; moved < maxSlots; moved++) {
            if (t.tagAt(i) != 0 && nowNs - t.deadline(i) < 0 && nowSec - t.start(i) >= interimSec
                    && (t.flags(i) & F_ENDED) == 0 && (t.packets(i, ORIG) | t.packets(i, REPLY)) != 0) {
                report(i, FlowRecord.INTERIM, nowSec); // a long connection: a record every interval
                t.resetAccounting(i, nowSec);
                made++;
            }
            i = i + 1 == cap ? 0 : i + 1;
        }
        interimCursor = i;
        return made;
    }

    private int interimCursor;

    /** Packets counted in direction d (0 original, 1 reply) of the entry the last call matched (0 without a flow sink), or -1. */
    public long lastPackets(int d) { return lastSlot < 0 ? -1 : table.packets(lastSlot, d); }

    /** L3 bytes counted in direction d of the entry the last call matched, or -1. */
    public long lastBytes(int d) { return lastSlot < 0 ? -1 : table.bytes(lastSlot, d); }

    /** Sets the flow-log word of the entry the last call matched or created (the firewall: admitting rule). */
    public void setLastRule(int word) {
        if (lastSlot >= 0) table.rule(lastSlot, word);
    }

    /** Sets who is told when a connection with a NAT word goes away (null: nobody). Before traffic. */
    public void natRelease(NatRelease r) { this.natRelease = r; }

    /** NAT word of the entry the last call matched or created (0: none), or 0 when none matched. */
    public int lastNat() { return lastSlot < 0 ? 0 : table.nat(lastSlot); }

    /** Sets the NAT word of the entry the last call matched or created (docs/nat.md). */
    public void setLastNat(int word) {
        if (lastSlot >= 0) table.nat(lastSlot, word);
    }

    // =====================================================================================
    // control path and introspection
    // =====================================================================================

    /** Deletes the connection of this packet (either direction) if it exists; true if it did. Control path. */
    public boolean kill(CtPacket p) {
        FlowKey k = key;
        if (!(Icmp.isIcmpProto(p.proto) && Icmp.isError(p.family, p.icmpType)) && k.fromPacket(p)) {
            int slot = table.find(k.tag, k.aHi, k.aLo, k.bHi, k.bLo, k.portsZone, k.protoFamily);
            if (slot >= 0) {
                removeEntry(slot, FlowRecord.END_KILLED);
                return true;
            }
        }
        return false;
    }

    /**
     * The state ordinal ({@link TcpState} for TCP, {@link PseudoState} otherwise) of this packet's
     * live connection, or -1. Changes nothing (an expired entry is reported as -1 but not deleted).
     */
    public int peekState(CtPacket p, long nowNs) {
        FlowKey k = key;
        if (!k.fromPacket(p)) return -1;
        int slot = table.find(k.tag, k.aHi, k.aLo, k.bHi, k.bLo, k.portsZone, k.protoFamily);
        if (slot < 0 || nowNs + clockShift - table.deadline(slot) >= 0) return -1;
        return table.state(slot);
    }

    /**
     * Whether this TCP segment would fail only the right-edge check (I: seq beyond what the
     * receiver advertised) of its live connection while overshooting that edge by at most the
     * receiver's largest window, with its end and ACK inside the window: the segments Linux (since
     * 6.4) passes as a workaround for senders that exceed the window and Sluice drops (docs/conntrack.md D7).
     * Changes nothing; for the differential harness and diagnostics.
     */
    boolean overshootsRightEdgeByAtMostAWindow(CtPacket p, long nowNs) {
        FlowKey k = key;
        if (p.proto != CtPacket.IPPROTO_TCP || !k.fromPacket(p)) return false;
        int slot = table.find(k.tag, k.aHi, k.aLo, k.bHi, k.bLo, k.portsZone, k.protoFamily);
        if (slot < 0 || nowNs - table.deadline(slot) >= 0) return false;
        int s = k.srcIsA == ((table.flags(slot) & F_ORIG_IS_A) != 0) ? ORIG : REPLY, r = 1 - s;
        ConnTable t = table;
        if (t.maxWin(slot, s) == 0 || t.maxWin(slot, r) == 0) return false;
        int seg = TcpSegment.classify(p.tcpFlags);
        boolean syn = seg == TcpSegment.SYN || seg == TcpSegment.SYNACK;
        int end = p.seq + p.payloadLen + (syn ? 1 : 0) + ((p.tcpFlags & TcpFlags.FIN) != 0 ? 1 : 0);
        int ack = (p.tcpFlags & TcpFlags.ACK) != 0 ? p.ack : t.end(slot, r);
        int sMaxWin = t.maxWin(slot, s), rMaxWin = t.maxWin(slot, r);
        int maxAckWin = Integer.compareUnsigned(sMaxWin, MAX_ACK_WINDOW) > 0 ? sMaxWin : MAX_ACK_WINDOW;
        int overshot = end - t.maxEnd(slot, s) + 1;
        return after(p.seq, t.maxEnd(slot, s)) && Integer.compareUnsigned(overshot, rMaxWin) <= 0
                && after(end, t.end(slot, s) - rMaxWin - 1) && !after(ack, t.end(slot, r))
                && after(ack, t.end(slot, r) - maxAckWin - 1);
    }

    /**
     * A digest of the window records (end, maxEnd, maxWin, scale of both directions) of this
     * packet's live TCP connection, or 0: tells whether a segment moved them. Changes nothing; for
     * the differential harness and diagnostics.
     */
    long windowDigest(CtPacket p, long nowNs) {
        FlowKey k = key;
        if (p.proto != CtPacket.IPPROTO_TCP || !k.fromPacket(p)) return 0;
        int slot = table.find(k.tag, k.aHi, k.aLo, k.bHi, k.bLo, k.portsZone, k.protoFamily);
        if (slot < 0 || nowNs - table.deadline(slot) >= 0) return 0;
        long h = 17;
        for (int d = 0; d < 2; d++) {
            h = h * 1_000_003 + table.end(slot, d);
            h = h * 1_000_003 + table.maxEnd(slot, d);
            h = h * 1_000_003 + table.maxWin(slot, d);
            h = h * 1_000_003 + table.scale(slot, d);
        }
        return h;
    }

    /**
     * A hash of the whole table in slot order: every slot's tag and, for an entry, its key, state,
     * flags, VM, window records, label, NAT word and flow-log word (not its deadline, start second or
     * counts, which follow the clock and flow logs). Two shards that saw the same packets and calls
     * give the same digest. Tests and diagnostics; reads every slot.
     */
    public long contentDigest() {
        ConnTable t = table;
        long h = 17;
        for (int i = 0; i < t.capacity; i++) {
            int tag = t.tagAt(i);
            h = h * 1_000_003 + tag;
            if (tag == 0) continue;
            for (int o = 0; o < ConnTable.O_DEADLINE; o += 8) h = h * 1_000_003 + t.key(i, o);
            for (int o = ConnTable.O_DIR; o < ConnTable.O_BYTES; o += 8) h = h * 1_000_003 + t.key(i, o);
            h = h * 1_000_003 + t.rule(i);
        }
        return h;
    }

    /** Direction of the packet in the last {@link #track}/{@link #commit} (0 original, 1 reply), or -1 if no entry matched. */
    public int lastDirection() { return lastDir; }

    /** State ordinal of the entry the last call matched or created, or -1. */
    public int lastState() { return lastSlot < 0 ? -1 : table.state(lastSlot); }

    /** VM charged for the entry the last call matched or created, or -1. */
    public int lastVm() { return lastSlot < 0 ? -1 : table.vm(lastSlot); }

    /** Label of the entry the last call matched or created (0 until set), or -1 when none matched. */
    public int lastLabel() { return lastSlot < 0 ? -1 : table.label(lastSlot); }

    /** Sets the label of the entry the last call matched or created (e.g. the admitting rule id). */
    public void setLastLabel(int label) {
        if (lastSlot >= 0) table.label(lastSlot, label);
    }

    /** Entries in the table, live or expired-but-not-yet-reclaimed. */
    public int size() { return table.size; }
    public int maxEntries() { return maxEntries; }
    /** Slots in the table (also the budget for one complete {@link #expire} pass). */
    public int capacity() { return table.capacity; }
    /** Off-heap bytes held by the table (entries + tag array): the memory bound of this shard. */
    public long tableBytes() { return table.bytes(); }
    /** Bytes per slot: entry + tag. */
    public static int bytesPerSlot() { return ConnTable.SLOT + 4; }

    public long created() { return created; }
    public long refusedVm() { return refusedVm; }
    public long refusedHost() { return refusedHost; }
    public long refusedTable() { return refusedTable; }
    public long invalidCount() { return invalid; }
    public long relatedCount() { return related; }
    public long expiredCount() { return expired; }
    public long reopenedCount() { return reopened; }
    /** SYNs passed without changing their connection ({@link TcpTransitions#IGNORE}). */
    public long ignoredCount() { return ignored; }

    /** Frees the off-heap table (an on-heap one is left to the GC). The tracker must not be used afterwards. */
    @Override
    public void close() { table.close(); }
}
