package io.sluice.dataplane.netns;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.agent.TestStages;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real Linux hosts talk through the data plane: two TAP ports made by DPDK (net_tap), each
 * moved into its own namespace (10.199.0.1/24 and 10.199.0.2/24), and a test-only stage that
 * wires port 0 to port 1. ping and a 1 MiB TCP transfer (netcat, sha256 compared) pass through
 * it; after close the TAP devices are gone and the namespaces are deleted.
 */
class TapForwardTest {
    static final Netns NETNS = new Netns();

    @AfterAll
    static void cleanup() {
        NETNS.close();
    }

    @Test
    void pingAndTcpThroughTwoTapPorts() throws Exception {
        String ifA = NETNS.name("a");
        String ifB = NETNS.name("b");
        var cfg = TestStages.config("slt-tap",
                List.of(TestStages.port("h1", "net_tap0,iface=" + ifA), TestStages.port("h2", "net_tap1,iface=" + ifB)),
                new int[] {0, 1}, "backoff", 8191);
        Counters counters = Counters.inMemory(256);
        Dataplane dp = Dataplane.start(cfg, (c, w) -> new Stage[] {new io.sluice.dataplane.stage.WireStages.Crossover()}, counters);
        Path dir = NETNS.tempDir();
        String h1 = null;
        try {
            h1 = NETNS.create("h1");
            String h2 = NETNS.create("h2");
            NETNS.moveAndAddress(ifA, h1, "10.199.0.1/24");
            NETNS.moveAndAddress(ifB, h2, "10.199.0.2/24");

            Netns.Result ping = NETNS.exec(h1, 30, "ping", "-c", "5", "-i", "0.2", "-W", "2", "10.199.0.2");
            assertTrue(ping.ok(), "ping through the data plane failed:\n" + ping.output());
            assertTrue(ping.output().contains(" 0% packet loss"), ping.output());

            // 1 MiB of random bytes, h1 -> h2 over TCP, checksum compared
            byte[] payload = new byte[1 << 20];
            new Random(42).nextBytes(payload);
            Path in = dir.resolve("in.bin");
            Path out = dir.resolve("out.bin");
            Files.write(in, payload);
            Process server = NETNS.spawn(h2, out, "nc", "-l", "-s", "10.199.0.2", "-p", "5001");
            waitListening(h2, 5001);
            Netns.Result send = NETNS.exec(h1, 60, "sh", "-c", "nc -N -w 10 10.199.0.2 5001 < " + in);
            assertTrue(send.ok(), "nc client failed: " + send.output());
            assertTrue(server.waitFor(30, TimeUnit.SECONDS), "nc server did not finish");
            assertEquals(sha256(payload), sha256(Files.readAllBytes(out)), "bytes received differ from bytes sent");

            Map<String, Long> s = counters.snapshot();
            assertTrue(s.get("port h1 rx packets") > 5 + (1 << 20) / 1500, "h1 rx " + s);
            assertTrue(s.get("port h2 tx packets") > 5 + (1 << 20) / 1500, "h2 tx " + s);
            assertTrue(s.get("port h1 rx bytes") > (1 << 20), "h1 rx bytes " + s);
        } finally {
            dp.close();
        }
        // TAP devices belong to the data plane process's ports: closed ports, no devices
        assertFalse(Netns.linkExists(h1, ifA), ifA + " still exists after close");
        assertFalse(Netns.linkExists(null, ifA), ifA + " still exists in the root namespace");
        NETNS.close();
        assertFalse(Netns.run("ip", "netns", "list").contains(NETNS.prefix()), "namespaces left behind");
    }

    static void waitListening(String ns, int port) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            Netns.Result r = NETNS.exec(ns, 5, "ss", "-ltn");
            if (r.output().contains(":" + port + " ")) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("nothing listens on " + port + " in " + ns);
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
