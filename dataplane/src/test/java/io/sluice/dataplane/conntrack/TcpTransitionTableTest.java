package io.sluice.dataplane.conntrack;

import static io.sluice.dataplane.conntrack.TcpFlags.ACK;
import static io.sluice.dataplane.conntrack.TcpFlags.FIN;
import static io.sluice.dataplane.conntrack.TcpFlags.RST;
import static io.sluice.dataplane.conntrack.TcpFlags.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Table-driven: for every (state, direction, segment class, in-window or far outside) the expected
 * next state and verdict, written out here independently of {@link TcpTransitions}. Each cell
 * builds a real connection in the state with a scripted handshake, sends one segment, and checks
 * the verdict and the resulting state. "IV" = INVALID and the state is unchanged; "NEW" = the
 * entry is deleted and the SYN starts a new connection.
 */
class TcpTransitionTableTest {
    private static final String[] STATES = {"SS", "SR", "ES", "FW", "CW", "LA", "TW", "CL", "S2"};
    private static final String[] SEGS = {"SYN", "SYNACK", "FIN", "ACK", "RST"};

    // cell = in-window result / far-outside-window result
    private static final String[][] EXPECTED = {
        { // ORIGINAL (client -> server)
            //   SS      SR      ES      FW      CW      LA      TW       CL       S2
            "SS/SS   SR/SR   ES/ES   FW/FW   CW/CW   LA/LA   NEW/NEW  NEW/NEW  S2/IV", // SYN (passed, state kept)
            "IV/IV   SR/IV   IV/IV   IV/IV   IV/IV   IV/IV   IV/IV    IV/IV    SR/IV", // SYNACK
            "IV/IV   FW/IV   FW/IV   LA/IV   LA/IV   LA/IV   TW/IV    CL/IV    IV/IV", // FIN
            "IV/IV   ES/IV   ES/IV   CW/IV   CW/IV   TW/IV   TW/IV    CL/IV    IV/IV", // ACK
            "CL/IV   CL/IV   CL/IV   CL/IV   CL/IV   CL/IV   CL/IV    CL/IV    CL/IV", // RST
        },
        { // REPLY (server -> client)
            "S2/S2   IV/IV   IV/IV   IV/IV   IV/IV   IV/IV   NEW/NEW  NEW/NEW  S2/IV", // SYN
            "SR/IV   SR/IV   ES/IV   IV/IV   IV/IV   IV/IV   IV/IV    IV/IV    SR/IV", // SYNACK
            "IV/IV   FW/IV   FW/IV   LA/IV   LA/IV   LA/IV   TW/IV    CL/IV    IV/IV", // FIN
            "IV/IV   SR/IV   ES/IV   CW/IV   CW/IV   TW/IV   TW/IV    CL/IV    IV/IV", // ACK
            "CL/IV   CL/IV   CL/IV   CL/IV   CL/IV   CL/IV   CL/IV    CL/IV    CL/IV", // RST
        }
    };

    private final List<Conntrack> open = new ArrayList<>();

    @AfterEach
    void close() { open.forEach(Conntrack::close); }

    private TcpDriver driverIn(String state) {
        Conntrack ct = new Conntrack(64, CtTimeouts.defaults(), new ConnLimits(1000, 4, 1000), 42);
        open.add(ct);
        TcpDriver d = new TcpDriver(ct, 7, 1, 0x0A000001, 40000, 0x0A000002, 80, 1_000_000, 2_000_000_000);
        step(d, 0, SYN, Verdict.NEW);
        switch (state) {
            case "SS" -> {}
            case "S2" -> step(d, 1, SYN, Verdict.ESTABLISHED);
            case "CL" -> { handshake(d); step(d, 0, RST | ACK, Verdict.ESTABLISHED); }
            default -> {
                step(d, 1, SYN | ACK, Verdict.ESTABLISHED);
                if (state.equals("SR")) break;
                step(d, 0, ACK, Verdict.ESTABLISHED);
                if (state.equals("ES")) break;
                step(d, 0, FIN | ACK, Verdict.ESTABLISHED);
                if (state.equals("FW")) break;
                step(d, 1, ACK, Verdict.ESTABLISHED);
                if (state.equals("CW")) break;
                step(d, 1, FIN | ACK, Verdict.ESTABLISHED);
                if (state.equals("LA")) break;
                step(d, 0, ACK, Verdict.ESTABLISHED);
            }
        }
        assertEquals(state, d.stateName(), "setup reached the wrong state");
        return d;
    }

    private static void handshake(TcpDriver d) {
        step(d, 1, SYN | ACK, Verdict.ESTABLISHED);
        step(d, 0, ACK, Verdict.ESTABLISHED);
    }

    private static void step(TcpDriver d, int dir, int flags, Verdict want) {
        assertEquals(want, d.send(dir, flags, 0), "setup segment dir=" + dir + " flags=" + flags);
    }

    /** The probe segment of one cell. Far outside = sequence (and ack) moved by 2^30. */
    private static Verdict probe(TcpDriver d, int dir, int seg, boolean inWindow) {
        int far = inWindow ? 0 : 0x4000_0000;
        int other = 1 - dir;
        return switch (seg) {
            case 0 -> d.sendRaw(dir, SYN, d.isn[dir] + far, 0, 0);
            case 1 -> d.sendRaw(dir, SYN | ACK, d.isn[dir] + far, d.nxt[other] + far, 0);
            case 2 -> d.sendRaw(dir, FIN | ACK, d.nxt[dir] + far, d.nxt[other] + far, 0);
            case 3 -> d.sendRaw(dir, ACK, d.nxt[dir] + far, d.nxt[other] + far, 0);
            default -> d.seen[other]
                    ? d.sendRaw(dir, RST | ACK, d.nxt[dir] + far, d.nxt[other] + far, 0)
                    : d.sendRaw(dir, RST, d.nxt[dir] + far, 0, 0);
        };
    }

    @Test
    void everyCellOfTheTable() {
        List<String> failures = new ArrayList<>();
        int cells = 0;
        for (int dir = 0; dir < 2; dir++) {
            for (int seg = 0; seg < SEGS.length; seg++) {
                String[] row = EXPECTED[dir][seg].trim().split("\\s+");
                assertEquals(STATES.length, row.length);
                for (int st = 0; st < STATES.length; st++) {
                    String[] inOut = row[st].split("/");
                    for (int w = 0; w < 2; w++) {
                        boolean inWindow = w == 0;
                        String want = inOut[w];
                        TcpDriver d = driverIn(STATES[st]);
                        Verdict v = probe(d, dir, seg, inWindow);
                        String after = d.stateName();
                        String got;
                        if (v == Verdict.INVALID) got = after.equals(STATES[st]) ? "IV" : "IV-but-state-" + after;
                        else if (v == Verdict.NEW) got = after.equals("NONE") ? "NEW" : "NEW-but-state-" + after;
                        else if (v == Verdict.ESTABLISHED) got = after;
                        else got = v.name();
                        cells++;
                        if (!got.equals(want)) {
                            failures.add((dir == 0 ? "ORIGINAL " : "REPLY ") + SEGS[seg] + " in " + STATES[st]
                                    + (inWindow ? " in-window" : " out-of-window") + ": want " + want + " got " + got);
                        }
                    }
                }
            }
        }
        assertEquals(2 * 5 * 9 * 2, cells);
        assertEquals(List.of(), failures);
    }

    @Test
    void impossibleFlagCombinationsAreInvalidInEveryState() {
        int U = TcpFlags.URG;
        // the last five were passed before the Linux differential harness (LinuxDiffTest) found that
        // Linux's tcp_valid_flags allows URG only with SYN, ACK and FIN+ACK
        int[] bad = {0, FIN, SYN | FIN, SYN | RST, SYN | FIN | ACK, SYN | RST | ACK, FIN | RST, FIN | SYN | RST | ACK, TcpFlags.PSH | U | FIN,
                RST | U, RST | ACK | U, RST | U | TcpFlags.ECE, SYN | ACK | U, U};
        for (String st : STATES) {
            for (int flags : bad) {
                for (int dir = 0; dir < 2; dir++) {
                    TcpDriver d = driverIn(st);
                    Verdict v = d.sendRaw(dir, flags, d.nxt[dir], d.nxt[1 - dir], 0);
                    assertEquals(Verdict.INVALID, v, st + " flags=" + Integer.toHexString(flags));
                    assertEquals(st, d.stateName());
                }
            }
        }
    }

    /**
     * The reference twin's own state machine ({@link ReferenceConntrack#nextState}, no shared
     * table) gives the in-window result of every cell of the expected table above.
     */
    @Test
    void referenceStateMachineMatchesTheExpectedTable() {
        List<String> failures = new ArrayList<>();
        for (int dir = 0; dir < 2; dir++) {
            for (int seg = 0; seg < SEGS.length; seg++) {
                String[] cells = EXPECTED[dir][seg].trim().split("\\s+");
                for (int st = 0; st < STATES.length; st++) {
                    String want = cells[st].split("/")[0];
                    int got = ReferenceConntrack.nextState(dir, seg, st);
                    String g = got == -1 ? "IV" : got == -3 ? "NEW"
                            : got == -2 ? STATES[st] + "(ignored)" : STATES[got];
                    boolean ignoredSyn = dir == 0 && seg == 0 && st >= 1 && st <= 5;
                    String w = ignoredSyn ? want + "(ignored)" : want;
                    if (!g.equals(w)) failures.add((dir == 0 ? "ORIG " : "REPLY ") + SEGS[seg] + " in " + STATES[st] + ": " + g + " want " + w);
                }
            }
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void productionTableMatchesTheClassJavadoc() {
        // the table in TcpTransitions is data; spot-check that next() reads it the right way round
        assertEquals(TcpState.SYN_RECV.ordinal(), TcpTransitions.next(1, TcpSegment.SYNACK, TcpState.SYN_SENT.ordinal()));
        assertEquals(TcpState.SYN_SENT2.ordinal(), TcpTransitions.next(1, TcpSegment.SYN, TcpState.SYN_SENT.ordinal()));
        assertEquals(TcpTransitions.INVALID, TcpTransitions.next(0, TcpSegment.ACK, TcpState.SYN_SENT.ordinal()));
        assertEquals(TcpTransitions.REOPEN, TcpTransitions.next(0, TcpSegment.SYN, TcpState.TIME_WAIT.ordinal()));
    }
}
