package io.sluice.dataplane.netns;

import io.sluice.dataplane.demo.Guests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A QEMU guest with TSO on ({@code net_vhost ...,tso=1}, docs/vms.md) behind Sluice, with the
 * kernel VXLAN interop's remote host (namespace "rvm" behind the kernel's VXLAN device, MTU 1450)
 * and a local TAP VM namespace, all in project blue's default security group:
 * <ul>
 *   <li>guest -> remote VM: 4 MiB over TCP; the guest hands over TSO frames (chained mbufs, the
 *       port's received bytes per frame well above 1518) which cross the security groups and
 *       leave encapsulated in VXLAN, segmented to the guest's MSS; the kernel decapsulates and the
 *       bytes arrive intact (sha256);</li>
 *   <li>TAP VM -> guest: 4 MiB over TCP; the guest receives them intact (sha256) and its kernel
 *       counts no TCP checksum error ({@code InCsumErrors} in /proc/net/snmp).</li>
 * </ul>
 * Own JVM (surefire forks per class): EAL once. The guest's QEMU and socket are removed at the end,
 * the namespaces too.
 */
class VmTsoNetnsTest {
    static final OverlayHosts H = OverlayHosts.create();
    static Guests guests;

    static final String G1 = "02:b1:00:00:01:10", LT = "02:b1:00:00:01:30", RVM = "02:b1:00:00:01:20";

    @AfterAll
    static void cleanup() {
        if (guests != null) guests.close();
        H.close();
        assertFalse(Netns.run("ip", "netns", "list").contains(H.netns.prefix()), "namespaces left behind");
        assertTrue(ProcessHandle.current().descendants().noneMatch(p -> p.info().command().orElse("").contains("qemu")),
                "QEMU left behind");
    }

    static String config(Path sock) {
        return """
                eal: ["--no-huge", "-m", "1024", "--no-pci", "--no-shconf", "-l", "0"]
                mbufs: 16383
                ports:
                  - {name: up, device: "net_tap0,iface=%s"}
                  - {name: g1, device: "net_vhost0,iface=%s,client=1,tso=1"}
                  - {name: lt, device: "net_tap1,iface=%s"}
                overlay:
                  uplink: up
                  underlay-ip: 192.168.50.1/24
                  underlay-mac: "02:00:00:00:aa:01"
                  router-mac: "02:00:00:00:ff:01"
                  networks:
                    - name: blue
                      vni: 100
                      cidr: 10.0.0.0/16
                      subnets:
                        - {name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1}
                      vms:
                        - {name: g1, subnet: a, mac: "%s", ip: 10.0.1.10, port: g1}
                        - {name: lt, subnet: a, mac: "%s", ip: 10.0.1.30, port: lt}
                        - {name: rvm, subnet: a, mac: "%s", ip: 10.0.1.20, vtep: 192.168.50.2}
                security-groups: {}
                """.formatted(H.tap("up"), sock, H.tap("lt"), G1, LT, RVM);
    }

    @Test
    void tsoGuestSendsThroughVxlanAndReceivesFromATapIntact() throws Exception {
        Path sock = H.dir.resolve("g1.sock");
        H.startWithSecurityGroups(config(sock));
        String[] remote = H.kernelVxlanRemote(H.tap("up"), RVM);
        String rvm = remote[1];
        String lt = H.vm("lt", H.tap("lt"), LT, "10.0.1.30/24", "10.0.1.1", 1450);
        guests = Guests.open(Guests.home(), H.dir.resolve("guest-logs"));
        Guests.Guest g = guests.start("g1", sock, G1, "10.0.1.10/24", "10.0.1.1");
        assertTrue(g.awaitReady(240), "guest did not boot; console in " + guests.logDir());
        // MTU 1450 like every VM behind a VXLAN overlay on a 1500-byte underlay
        g.exec(5, "/usr/bin/ip link set eth0 mtu 1450");
        Guests.Result k = g.exec(10, "ethtool -k eth0 | grep tcp-segmentation-offload:");
        assertTrue(k.out().contains("tcp-segmentation-offload: on"), "the guest has no TSO: " + k.out());

        // the first packet towards the unresolved VTEP becomes the underlay ARP request (docs/overlay.md)
        g.exec(10, "/usr/bin/ping -c 1 -W 1 10.0.1.20");
        Guests.Result ping = g.exec(20, "/usr/bin/ping -c 3 -i 0.2 -W 2 10.0.1.20");
        assertTrue(ping.ok(), "guest -> remote VM: " + ping.out() + H.nonZero());

        // 1. guest (TSO) -> remote VM behind the kernel's VXLAN: bytes intact
        int size = 4 << 20;
        Guests.Result made = g.exec(60, "dd if=/dev/urandom of=/tmp/p bs=65536 count=" + (size / 65536) + " 2>/dev/null; sha256sum /tmp/p");
        String want = firstHash(made.out());
        Path got = H.dir.resolve("from-guest.bin");
        Process srv = H.netns.spawn(rvm, got, "nc", "-l", "-s", "10.0.1.20", "-p", "5201");
        H.waitListening(rvm, 5201);
        long rxPkts0 = H.counter("port g1 rx packets"), rxBytes0 = H.counter("port g1 rx bytes");
        long upTx0 = H.counter("port up tx packets");
        Guests.Result sent = g.exec(120, "nc -w 5 10.0.1.20 5201 < /tmp/p");
        awaitSize(got, size, 60);
        srv.destroy();
        long frames = H.counter("port g1 rx packets") - rxPkts0, bytes = H.counter("port g1 rx bytes") - rxBytes0;
        long upFrames = H.counter("port up tx packets") - upTx0;
        assertEquals(want, OverlayHosts.sha256(Files.readAllBytes(got)),
                "guest -> remote VM: received " + Files.size(got) + " of " + size + " B; nc: " + sent.out() + H.nonZero());
        assertTrue(frames > 0 && bytes / frames > 1518,
                "the guest's frames were not TSO frames: " + frames + " frames, " + bytes + " B" + H.nonZero());
        assertTrue(upFrames > frames && upFrames >= size / 1450,
                "the uplink did not carry MSS-sized segments: " + upFrames + " frames out for " + frames + " in" + H.nonZero());
        System.out.printf("guest -> VXLAN: %d frames in (%d B each on average), %d VXLAN frames out%n", frames, bytes / frames, upFrames);

        // 2. TAP VM -> guest: bytes intact, no TCP checksum error counted by the guest's kernel
        long csum0 = inCsumErrors(g);
        byte[] payload = new byte[size];
        new Random(5301).nextBytes(payload);
        Path in = H.dir.resolve("to-guest.bin");
        Files.write(in, payload);
        g.background("nc -l -p 5301 > /tmp/r");
        g.exec(10, "sleep 1");
        Netns.Result send = H.netns.exec(lt, 120, "sh", "-c", "nc -N -w 10 10.0.1.10 5301 < " + in);
        assertTrue(send.ok(), "TAP VM -> guest: " + send.output() + H.nonZero());
        String received = "";
        for (int i = 0; i < 30 && !received.contains(OverlayHosts.sha256(payload)); i++) {
            received = g.exec(30, "sha256sum /tmp/r; ls -l /tmp/r").out();
            if (!received.contains(OverlayHosts.sha256(payload))) g.exec(5, "sleep 1");
        }
        assertTrue(received.contains(OverlayHosts.sha256(payload)), "TAP VM -> guest: the guest has " + received + H.nonZero());
        long csum1 = inCsumErrors(g);
        assertTrue(csum0 >= 0 && csum1 == csum0, "the guest counted TCP checksum errors: " + csum0 + " -> " + csum1);
    }

    private static String firstHash(String s) {
        Matcher m = Pattern.compile("\\b([0-9a-f]{64})\\b").matcher(s);
        assertTrue(m.find(), "no sha256 in " + s);
        return m.group(1);
    }

    /** The guest's TCP InCsumErrors (/proc/net/snmp), or -1 when not found. */
    private static long inCsumErrors(Guests.Guest g) {
        String out = g.exec(10, "grep Tcp: /proc/net/snmp").out();
        String[] lines = out.lines().filter(l -> l.startsWith("Tcp:")).toArray(String[]::new);
        if (lines.length < 2) return -1;
        String[] names = lines[0].trim().split("\\s+"), values = lines[1].trim().split("\\s+");
        for (int i = 0; i < names.length && i < values.length; i++) {
            if (names[i].equals("InCsumErrors")) return Long.parseLong(values[i]);
        }
        return -1;
    }

    private static void awaitSize(Path f, long size, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() - deadline < 0 && (!Files.exists(f) || Files.size(f) < size)) {
            Thread.sleep(100);
        }
    }
}
