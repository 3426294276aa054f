package io.sluice.dataplane.netns;

import io.sluice.dataplane.counters.Counters;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hitless changes, with real hosts (ControlApiTrafficNetnsTest's data plane: project blue's VMs app
 * and db on TAP ports, {@code Main run} with the API): a steady TCP stream (app -> db:5001, 1 KiB
 * every 2 ms, the receiver checks every byte's value) and a UDP probe flow (app -> db:5002, one
 * numbered probe every 2 ms) stay allowed by db's group {@code web} while {@value #CHANGES} changes
 * (-Dsluice.api.hitlessChanges=N) are made through the API to other rules of that group, to
 * another group and to app's memberships. Then: every UDP probe sent arrived (counted by sequence
 * number), every TCP byte arrived in order, app's kernel retransmitted no TCP segment
 * ({@code TcpRetransSegs} in its namespace), and no drop counter of app's or db's port moved.
 */
class ControlApiHitlessNetnsTest {
    static final int CHANGES = 1000;
    static final String KEEP = "{\"protocol\":\"tcp\",\"port\":80},{\"protocol\":\"tcp\",\"port\":5001,\"source_cidr\":\"10.0.1.0/24\"},"
            + "{\"protocol\":\"udp\",\"port\":5002,\"source_cidr\":\"10.0.1.0/24\"}";

    /** db: TCP 5001 (checks the byte pattern, counts) and UDP 5002 (records sequence numbers) until the stop file; prints the tallies. */
    static final String RECEIVER = String.join("\n",
            "import socket, sys, os, threading, time",
            "stop = sys.argv[1]",
            "t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(('0.0.0.0', 5001)); t.listen(1)",
            "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('0.0.0.0', 5002)); u.settimeout(0.2)",
            "seen = set(); tcp = [0, 0]",
            "def tcp_rx():",
            "    c, _ = t.accept()",
            "    while True:",
            "        d = c.recv(65536)",
            "        if not d: break",
            "        for b in d:",
            "            if b != tcp[0] % 251: tcp[1] += 1",
            "            tcp[0] += 1",
            "threading.Thread(target=tcp_rx, daemon=True).start()",
            "print('ready', flush=True)",
            "while not os.path.exists(stop):",
            "    try: d, _ = u.recvfrom(64); seen.add(int(d))",
            "    except socket.timeout: pass",
            "time.sleep(1.5)",
            "while True:",
            "    try: d, _ = u.recvfrom(64); seen.add(int(d))",
            "    except socket.timeout: break",
            "print('udp_received', len(seen), 'max', max(seen) if seen else -1, flush=True)",
            "print('tcp_received', tcp[0], 'wrong', tcp[1], flush=True)",
            "");
    /** app: the TCP stream and the UDP probes until the stop file; prints what it sent. */
    static final String SENDER = String.join("\n",
            "import socket, sys, os, time",
            "stop = sys.argv[2]",
            "c = socket.create_connection((sys.argv[1], 5001), timeout=5)",
            "u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
            "pattern = bytes(i % 251 for i in range(251 * 1024))",
            "sent = 0; seq = 0",
            "print('started', flush=True)",
            "while not os.path.exists(stop):",
            "    chunk = 1024; off = sent % 251",
            "    c.sendall(pattern[off:off + chunk]); sent += chunk",
            "    u.sendto(str(seq).encode(), (sys.argv[1], 5002)); seq += 1",
            "    time.sleep(0.002)",
            "c.shutdown(socket.SHUT_WR); time.sleep(1); c.close()",
            "print('udp_sent', seq, flush=True)",
            "print('tcp_sent', sent, flush=True)",
            "");

    @Test
    void allowedFlowsLoseNothingWhileOtherRulesChange() throws Exception {
        int changes = Integer.getInteger("sluice.api.hitlessChanges", CHANGES);
        try (OverlayHosts h = new OverlayHosts()) {
            Path cfg = ControlApiNetnsTest.config(h.netns, h.dir, "  sync: none\n");
            Path counters = h.dir.resolve("counters.dat");
            try (ControlApiNetnsTest.Started s = ControlApiNetnsTest.start(cfg)) {
                String[] vms = ControlApiTrafficNetnsTest.hosts(h);
                String app = vms[0];
                String db = vms[1];
                assertEquals(200, s.put("/v1/projects/blue/security-groups/web", ControlApiNetnsTest.BLUE_KEY,
                        "{\"inbound_rules\":[" + KEEP + "]}").status());
                Files.writeString(h.dir.resolve("rx.py"), RECEIVER);
                Files.writeString(h.dir.resolve("tx.py"), SENDER);
                Path stop = h.dir.resolve("stop");
                Path rxOut = h.dir.resolve("rx.txt");
                Path txOut = h.dir.resolve("tx.txt");
                Process rx = h.netns.spawn(db, rxOut, "python3", h.dir.resolve("rx.py").toString(), stop.toString());
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (!Files.readString(rxOut).contains("ready") && System.nanoTime() < deadline) Thread.sleep(20);
                long retrans0 = retrans(h, app);
                Map<String, Long> c0 = Counters.read(counters);
                Process tx = h.netns.spawn(app, txOut, "python3", h.dir.resolve("tx.py").toString(), "10.0.1.12", stop.toString());
                deadline = System.nanoTime() + 10_000_000_000L;
                while (!Files.readString(txOut).contains("started") && System.nanoTime() < deadline) Thread.sleep(20);
                assertTrue(Files.readString(txOut).contains("started"), "sender: " + Files.readString(txOut));
                Thread.sleep(300);

                long g0 = s.get("/v1/health", null).json().path("generation").asLong();
                for (int i = 0; i < changes; i++) {
                    ControlApiNetnsTest.Reply r = switch (i % 4) {
                        // another rule of the group that allows the flows
                        case 0, 2 -> s.put("/v1/projects/blue/security-groups/web", ControlApiNetnsTest.BLUE_KEY,
                                "{\"inbound_rules\":[" + KEEP + ",{\"protocol\":\"tcp\",\"port\":" + (10000 + i) + "}]}");
                        // another group
                        case 1 -> s.put("/v1/projects/blue/security-groups/churn", ControlApiNetnsTest.BLUE_KEY,
                                "{\"inbound_rules\":[{\"protocol\":\"udp\",\"port\":" + (20000 + i) + "}],\"outbound_rules\":[{\"protocol\":\"tcp\",\"port\":" + (30000 + i) + "}]}");
                        // the sender's memberships
                        default -> s.put("/v1/projects/blue/vms/app/security-groups", ControlApiNetnsTest.BLUE_KEY,
                                (i / 4) % 2 == 0 ? "{\"groups\":[\"default\",\"churn\"]}" : "{\"groups\":[\"default\"]}");
                    };
                    assertEquals(200, r.status(), "change " + i + ": " + r);
                }
                long g1 = s.get("/v1/health", null).json().path("generation").asLong();
                assertEquals(g0 + changes, g1, "every change applied");

                Files.writeString(stop, "stop");
                assertTrue(tx.waitFor(60, TimeUnit.SECONDS), "sender did not stop");
                assertTrue(rx.waitFor(60, TimeUnit.SECONDS), "receiver did not stop");
                String sent = Files.readString(txOut);
                String got = Files.readString(rxOut);
                long udpSent = field(sent, "udp_sent");
                long tcpSent = field(sent, "tcp_sent");
                assertTrue(udpSent > 100, "probes sent: " + sent);
                assertEquals("udp_received " + udpSent + " max " + (udpSent - 1), line(got, "udp_received"),
                        "every UDP probe arrived (sent " + udpSent + ")");
                assertEquals("tcp_received " + tcpSent + " wrong 0", line(got, "tcp_received"), "every TCP byte, in order");
                assertEquals(0, retrans(h, app) - retrans0, "TCP segments retransmitted by app");
                Map<String, Long> c1 = Counters.read(counters);
                StringBuilder moved = new StringBuilder();
                c1.forEach((k, v) -> {
                    if (k.contains("drop") && (k.contains("port app ") || k.contains("port db ")) && v > c0.getOrDefault(k, 0L)) {
                        moved.append(k).append(" +").append(v - c0.getOrDefault(k, 0L)).append("; ");
                    }
                });
                assertEquals("", moved.toString(), "drop counters of app's and db's ports");
                System.out.println("ControlApiHitlessNetnsTest: " + changes + " changes; udp " + udpSent + " sent, all received; tcp "
                        + tcpSent + " bytes, all received in order; 0 retransmissions");
                s.child().signal("TERM");
                assertEquals(0, s.child().awaitExit(30), s.child().output());
            }
        }
    }

    private static long retrans(OverlayHosts h, String ns) {
        Netns.Result r = h.netns.exec(ns, 5, "nstat", "-az", "TcpRetransSegs");
        for (String l : r.output().split("\n")) {
            if (l.startsWith("TcpRetransSegs")) return Long.parseLong(l.trim().split("\\s+")[1]);
        }
        throw new AssertionError("no TcpRetransSegs in: " + r.output());
    }

    private static String line(String out, String prefix) {
        return out.lines().filter(l -> l.startsWith(prefix)).findFirst().orElse("(none) " + out);
    }

    private static long field(String out, String prefix) {
        String l = line(out, prefix);
        return Long.parseLong(l.split(" ")[1]);
    }
}
