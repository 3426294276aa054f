package io.sluice.dataplane.netns;

import io.sluice.dataplane.firewall.FwTopology;
import io.sluice.dataplane.service.Housekeeping;
import io.sluice.dataplane.service.Status;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./sluice run} as a service, in child processes on TAP ports: a worker that throws or
 * stalls ends the process with status 1 and a message naming it; {@code ./sluice status} on a
 * running, a stalled and a stopped data plane; systemd's notify protocol (READY=1 once the ports
 * are up, WATCHDOG=1 only while workers progress, STOPPING=1) against a datagram listener playing
 * {@code $NOTIFY_SOCKET}; SIGHUP with and without security groups.
 */
class ServiceLifecycleTest {

    /** Frames into the TAP: the kernel sends IPv6 router solicitations / MLD on link up, arping adds ARP. */
    private static void sendFrames(String tap) {
        Netns.run("ip", "link", "set", "dev", tap, "up");
        Netns.runResult(List.of("arping", "-c", "3", "-w", "3", "-I", tap, "10.199.251.1"), 10);
    }

    private static String status(Path counters, int[] rc) throws InterruptedException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        rc[0] = Status.run(counters, ps, ps);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void workerThatThrowsEndsTheProcessWithStatusOne() throws Exception {
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            String a = net.name("ta");
            String b = net.name("tb");
            Path cfg = ServiceChild.twoTapConfig(dir, a, b, "");
            try (ServiceChild c = ServiceChild.start(Map.of(), ServiceFaultMain.class.getName(), cfg.toString(), "throw")) {
                c.awaitReady(60_000);
                sendFrames(a);
                assertEquals(1, c.awaitExit(30), c.output());
                String out = c.output();
                assertTrue(out.contains("sluice: FAILED: sluice-worker-0 failed: java.lang.IllegalStateException: planted fault"
                        + " in a stage; stopping (exit status 1)"), out);
                assertFalse(out.contains("sluice: stopped"), out);
                assertFalse(Netns.linkExists(null, a), a + " left behind");
                assertFalse(Netns.linkExists(null, b), b + " left behind");
                int[] rc = new int[1];
                String st = status(dir.resolve("counters.dat"), rc);
                assertEquals(3, rc[0], st);
                assertTrue(st.contains("not running (last state failed;"), st);
            }
        }
    }

    @Test
    void stalledWorkerEndsTheProcessAndStatusSeesItStuck() throws Exception {
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            String a = net.name("sa");
            String b = net.name("sb");
            Path cfg = ServiceChild.twoTapConfig(dir, a, b, "service: { stall-timeout-ms: 5000 }\n");
            Path counters = dir.resolve("counters.dat");
            try (ServiceChild c = ServiceChild.start(Map.of(), ServiceFaultMain.class.getName(), cfg.toString(), "stall")) {
                c.awaitReady(60_000);
                int[] rc = new int[1];
                String st = status(counters, rc);
                assertEquals(0, rc[0], st);
                assertTrue(st.contains("state:      running") && st.contains("generation: 1") && st.contains(" ok"), st);

                sendFrames(a);
                assertNotNull(c.await(l -> l.equals("FAULT: stall"), 20_000), c.output());
                st = status(counters, rc);
                assertEquals(1, rc[0], st);
                assertTrue(st.contains("STUCK (no duty cycle in 1000 ms)"), st);

                assertEquals(1, c.awaitExit(30), c.output());
                String out = c.output();
                assertTrue(out.contains("sluice: FAILED: sluice-worker-0 made no progress for "), out);
                assertTrue(out.contains("stall timeout 5000 ms"), out);
                assertFalse(Netns.linkExists(null, a), a + " left behind");
                assertFalse(Files.exists(Path.of("/var/run/dpdk/sluice" + c.process.pid())), "EAL runtime directory left behind");
                st = status(counters, rc);
                assertEquals(3, rc[0], st);
                assertTrue(st.contains("not running (last state failed;"), st);
            }
        }
    }

    @Test
    void secondSigtermWhileDrainingExitsAtOnce() throws Exception {
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            String a = net.name("da");
            // a stalled worker makes the drain wait (2 s for its thread): the second SIGTERM cuts it short
            Path cfg = ServiceChild.twoTapConfig(dir, a, net.name("db"), "service: { stall-timeout-ms: 60000 }\n");
            try (ServiceChild c = ServiceChild.start(Map.of(), ServiceFaultMain.class.getName(), cfg.toString(), "stall")) {
                c.awaitReady(60_000);
                sendFrames(a);
                assertNotNull(c.await(l -> l.equals("FAULT: stall"), 20_000), c.output());
                c.signal("TERM");
                assertNotNull(c.await(l -> l.equals("sluice: SIGTERM: draining"), 10_000), c.output());
                c.signal("TERM");
                assertEquals(1, c.awaitExit(10), c.output());
                String out = c.output();
                assertTrue(out.contains("sluice: second signal (SIGTERM) while draining: exiting now"), out);
                assertFalse(Files.exists(Path.of("/var/run/dpdk/sluice" + c.process.pid())), "EAL runtime directory left behind");
                assertFalse(out.contains("sluice: stopped"), out);
            }
        }
    }

    /** A datagram listener playing systemd's $NOTIFY_SOCKET: prints each message, newlines as '|'. */
    private static final String LISTENER = String.join("\n",
            "import socket, sys",
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
            "s.bind(sys.argv[1])",
            "print('LISTENING', flush=True)",
            "while True:",
            "    m = s.recv(4096).decode()",
            "    print(m.replace('\\n', '|'), flush=True)");

    @Test
    void notifyProtocolReadyWatchdogStopping() throws Exception {
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            String a = net.name("na");
            String b = net.name("nb");
            Path cfg = ServiceChild.twoTapConfig(dir, a, b, "service: { stall-timeout-ms: 3000 }\n");
            Path sock = dir.resolve("notify.sock");
            Process lp = new ProcessBuilder("python3", "-u", "-c", LISTENER, sock.toString()).redirectErrorStream(true).start();
            ServiceChild listener = null;
            try {
                listener = ServiceChildOf(lp);
                assertNotNull(listener.await("LISTENING"::equals, 10_000), "listener: " + listener.output());
                try (ServiceChild c = ServiceChild.start(Map.of("NOTIFY_SOCKET", sock.toString(), "WATCHDOG_USEC", "300000"),
                        ServiceFaultMain.class.getName(), cfg.toString(), "stall")) {
                    ServiceChild.Line ready = listener.await(l -> l.contains("READY=1"), 60_000);
                    assertNotNull(ready, "no READY=1: " + listener.output() + "\nchild:\n" + c.output());
                    assertTrue(Netns.linkExists(null, a) && Netns.linkExists(null, b), "READY=1 before the ports were up");
                    assertTrue(ready.text().contains("MAINPID=" + c.process.pid()), ready.text());
                    ServiceChild.Line childReady = c.awaitReady(10_000);
                    Thread.sleep(1200);
                    long pingsBefore = count(listener, "WATCHDOG=1", ready.nanos(), Long.MAX_VALUE);
                    assertTrue(pingsBefore >= 4, "keep-alives while running: " + listener.output());

                    sendFrames(a);
                    ServiceChild.Line fault = c.await(l -> l.equals("FAULT: stall"), 20_000);
                    assertNotNull(fault, c.output());
                    assertEquals(1, c.awaitExit(30), c.output());
                    assertNotNull(listener.await(l -> l.startsWith("STOPPING=1"), 5_000), listener.output());
                    // the last keep-alive may have been in flight when the worker stalled (interval 150 ms)
                    long after = count(listener, "WATCHDOG=1", fault.nanos() + 300_000_000L, Long.MAX_VALUE);
                    assertEquals(0, after, "keep-alives after the worker stalled: " + listener.output());
                    assertTrue(childReady.nanos() > 0);
                }
            } finally {
                lp.destroyForcibly();
            }
        }
    }

    private static ServiceChild ServiceChildOf(Process p) {
        return ServiceChild.of(p);
    }

    private static long count(ServiceChild l, String text, long fromNanos, long toNanos) {
        return l.lines().stream().filter(x -> x.text().equals(text) && x.nanos() >= fromNanos && x.nanos() <= toNanos).count();
    }

    private static void renameIntoPlace(Path file, String text) throws Exception {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".new");
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void sighupWithoutSecurityGroupsKeepsRunningAndSaysWhatNeedsARestart() throws Exception {
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            Path cfg = ServiceChild.twoTapConfig(dir, net.name("ha"), net.name("hb"), "");
            try (ServiceChild c = ServiceChild.run(cfg)) {
                c.awaitReady(60_000);
                c.signal("HUP");
                assertNotNull(c.await(l -> l.equals("sluice: reload (SIGHUP): nothing applied; generation 1"), 10_000), c.output());
                renameIntoPlace(cfg, Files.readString(cfg).replace("mbufs: 2047", "mbufs: 4095"));
                assertNotNull(c.await(l -> l.equals("sluice: reload (file renamed into place): nothing applied; changed but"
                        + " needs a restart, not applied: mbufs; generation 1"), 10_000), c.output());
                c.signal("HUP");
                Thread.sleep(500);
                assertTrue(c.process.isAlive(), "SIGHUP stopped the data plane:\n" + c.output());
                c.signal("TERM");
                assertEquals(0, c.awaitExit(30), c.output());
            }
        }
    }

    /**
     * {@code nohup ./sluice run …}: the data plane starts with SIGHUP ignored, and the JVM would never
     * run a handler for an ignored signal; Sluice sets it back to its default first, says so, and
     * SIGHUP reloads.
     */
    @Test
    void sighupReloadsUnderNohup() throws Exception {
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            Path cfg = ServiceChild.twoTapConfig(dir, net.name("na"), net.name("nb"), "");
            try (ServiceChild c = ServiceChild.runUnder(List.of("nohup"), cfg)) {
                c.awaitReady(60_000);
                assertTrue(c.output().contains("sluice: SIGHUP was set to be ignored (started under nohup?)"), c.output());
                c.signal("HUP");
                assertNotNull(c.await(l -> l.equals("sluice: reload (SIGHUP): nothing applied; generation 1"), 60_000), c.output());
                assertTrue(c.process.isAlive(), c.output());
                c.signal("TERM");
                assertEquals(0, c.awaitExit(30), c.output());
            }
        }
    }

    @Test
    void sighupWithSecurityGroupsAppliesThemAndKeepsRunning() throws Exception {
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            String prefix = net.name("g");
            String counters = "counters-file: " + dir.resolve("counters.dat") + "\nmetrics: { listen: off }\n";
            Path cfg = dir.resolve("sluice.yaml");
            Files.writeString(cfg, counters + FwTopology.yaml(prefix, "keep", ""));
            try (ServiceChild c = ServiceChild.run(cfg)) {
                c.awaitReady(60_000);
                String http = "        - { id: http, direction: ingress, protocol: tcp, ports: 80 }\n";
                renameIntoPlace(cfg, counters + FwTopology.yaml(prefix, "keep", http));
                assertNotNull(c.await(l -> l.startsWith("sluice: reload (file renamed into place): applied security-groups (epoch ")
                        && l.endsWith("; generation 2"), 10_000), c.output());
                c.signal("HUP");
                assertNotNull(c.await(l -> l.equals("sluice: reload (SIGHUP): nothing applied; security-groups unchanged;"
                        + " generation 2"), 10_000), c.output());
                // an invalid edit: refused with file:line: key, the process lives on
                renameIntoPlace(cfg, counters + FwTopology.yaml(prefix, "keep", http.replace("80", "0")));
                assertNotNull(c.await(l -> l.startsWith("sluice: reload (file renamed into place) refused, nothing changed: "
                        + cfg + ":"), 10_000), c.output());
                int[] rc = new int[1];
                String st = status(dir.resolve("counters.dat"), rc);
                assertEquals(0, rc[0], st);
                assertTrue(st.contains("generation: 2"), st);
                c.signal("TERM");
                assertEquals(0, c.awaitExit(30), c.output());
            }
        }
    }

    /** Each thread of process {@code pid} by its name ({@code comm}) with its {@code Cpus_allowed_list}. */
    private static List<String[]> threadCpus(long pid) throws Exception {
        List<String[]> out = new java.util.ArrayList<>();
        try (var tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks) {
                try {
                    String comm = Files.readString(t.resolve("comm")).strip();
                    String cpus = Files.readAllLines(t.resolve("status")).stream()
                            .filter(l -> l.startsWith("Cpus_allowed_list:")).findFirst().orElseThrow()
                            .substring("Cpus_allowed_list:".length()).strip();
                    out.add(new String[] {comm, cpus});
                } catch (java.io.IOException gone) {
                    // the thread ended while we looked
                }
            }
        }
        return out;
    }

    /**
     * A worker pinned to CPU 1 owns it: every other thread of the process (GC, JIT, metrics, supervisor,
     * EAL's) is moved to CPU 0, and so is a thread started later (the sweep repeats). With
     * {@code housekeeping-cpus: off} they keep both CPUs, which is what makes this test able to fail.
     */
    @Test
    void threadsOtherThanTheWorkersStayOffThePinnedWorkersCpu() throws Exception {
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            for (String mode : List.of("auto", "off")) {
                Path cfg = ServiceChild.twoTapConfig(dir, net.name("ka"), net.name("kb"),
                        "workers:\n  - { lcore: 1, rx: [a, b] }\nservice: { housekeeping-cpus: " + mode + " }\n");
                Files.writeString(cfg, Files.readString(cfg).replace("\"-l\", \"0\"", "\"-l\", \"0-1\""));
                try (ServiceChild c = ServiceChild.run(cfg)) {
                    c.awaitReady(60_000);
                    if (mode.equals("auto")) {
                        assertNotNull(c.await(l -> l.startsWith("sluice: housekeeping: threads other than the workers run on CPU(s) 0"
                                + " (workers on 1); "), 10_000), c.output());
                    }
                    Thread.sleep(2 * Housekeeping.PERIOD_MS + 500); // threads the JVM starts after the first sweep are caught by the next
                    List<String[]> threads = threadCpus(c.process.pid());
                    StringBuilder all = new StringBuilder();
                    for (String[] t : threads) all.append(t[0]).append('=').append(t[1]).append(' ');
                    long workers = threads.stream().filter(t -> t[0].equals("sluice-worker-0")).count();
                    assertEquals(1, workers, all.toString());
                    for (String[] t : threads) {
                        if (t[0].equals("sluice-worker-0")) {
                            assertEquals("1", t[1], "the worker (" + mode + "): " + all);
                        } else if (mode.equals("auto")) {
                            assertEquals("0", t[1], "thread " + t[0] + ": " + all);
                        } else if (!t[0].startsWith("rte-") && !t[0].startsWith("eal-") && !t[0].startsWith("telemetry")) {
                            // off: the JVM's threads keep both CPUs (EAL pins its own threads itself)
                            assertEquals("0-1", t[1], "thread " + t[0] + " (off): " + all);
                        }
                    }
                    assertTrue(threads.size() > 5, "the JVM's own threads are among them: " + all);
                    c.signal("TERM");
                    assertEquals(0, c.awaitExit(30), c.output());
                }
            }
        }
    }
}
