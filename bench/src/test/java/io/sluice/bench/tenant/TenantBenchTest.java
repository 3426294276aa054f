package io.sluice.bench.tenant;

import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.FirewallConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The frames and configuration of {@code ./sluice bench tenant}, and its per-port check (tenantovs.py). */
class TenantBenchTest {
    static final Path OVS_PY = Path.of(System.getProperty("sluice.home", ".."), "bench", "scripts", "tenantovs.py");

    /** The frames of a pcap file (independent reader: little-endian headers, then the bytes). */
    static List<byte[]> read(Path f) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xa1b2c3d4, b.getInt(0));
        List<byte[]> out = new ArrayList<>();
        int o = 24;
        while (o + 16 <= b.limit()) {
            int n = b.getInt(o + 8);
            byte[] fr = new byte[n];
            b.get(o + 16, fr);
            out.add(fr);
            o += 16 + n;
        }
        return out;
    }

    /** One's-complement sum, the slow way: 0xffff over a header whose checksum is right. */
    static int fold(byte[] f, int o, int len, long start) {
        long s = start;
        for (int k = 0; k < len; k++) s += (k % 2 == 0 ? (f[o + k] & 0xffL) << 8 : f[o + k] & 0xffL);
        while (s > 0xffff) s = (s & 0xffff) + (s >> 16);
        return (int) s;
    }

    /** The IPv4 and UDP checksums of the (inner) frame at o are right; returns "src:sport>dst:dport". */
    static String checkUdp(byte[] f, int o) {
        assertEquals(0x0800, ((f[o + 12] & 0xff) << 8) | (f[o + 13] & 0xff));
        int ip = o + 14;
        assertEquals(0xffff, fold(f, ip, 20, 0), "IPv4 header checksum");
        assertEquals(17, f[ip + 9]);
        ByteBuffer b = ByteBuffer.wrap(f);
        int src = b.getInt(ip + 12), dst = b.getInt(ip + 16), u = ip + 20, ulen = b.getShort(u + 4) & 0xffff;
        long pseudo = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 17 + ulen;
        assertEquals(0xffff, fold(f, u, ulen, pseudo), "UDP checksum");
        return Integer.toHexString(src) + ":" + (b.getShort(u) & 0xffff) + ">" + Integer.toHexString(dst) + ":" + (b.getShort(u + 2) & 0xffff);
    }

    @Test
    void theFilesHoldEveryFlowOnceAPassWithRightChecksums(@TempDir Path d) throws Exception {
        int n = 3072, r = 7;
        TenantBench.writePcaps(d.toString(), n, r);
        List<byte[]> up = read(d.resolve("tenant-3072-up.pcap")), vm1 = read(d.resolve("tenant-3072-vm1.pcap"));
        List<byte[]> vm2 = read(d.resolve("tenant-3072-vm2.pcap")), ext = read(d.resolve("tenant-3072-ext.pcap"));
        assertEquals(1024, up.size());
        assertEquals(2048, vm1.size());
        assertEquals(1024, vm2.size());
        assertEquals(2048, ext.size());
        Set<String> inbound = new HashSet<>(), outbound = new HashSet<>();
        for (byte[] f : up) {
            assertEquals(114, f.length);
            assertEquals(0xffff, fold(f, 14, 20, 0), "outer IPv4 checksum");
            assertEquals(4789, ((f[36] & 0xff) << 8) | (f[37] & 0xff));
            assertEquals(100, ((f[46] & 0xff) << 16 | (f[47] & 0xff) << 8 | (f[48] & 0xff)), "VNI");
            inbound.add(checkUdp(f, 50));
        }
        for (byte[] f : ext) inbound.add(checkUdp(f, 0));
        for (byte[] f : vm1) outbound.add(checkUdp(f, 0));
        for (byte[] f : vm2) outbound.add(checkUdp(f, 0));
        assertEquals(n, inbound.size(), "every flow once inbound");
        assertEquals(n, outbound.size(), "every flow once outbound");
        // each east-west reply is the reverse of a decapsulated request
        for (byte[] f : vm1) {
            String t = checkUdp(f, 0);
            String[] p = t.split(">");
            if (p[1].startsWith("afe1")) assertTrue(inbound.contains(p[1] + ">" + p[0]), t);
        }
        // the east-west mix: every flow both ways, on up and vm1 only
        assertEquals(n, new HashSet<>(read(d.resolve("ew-3072-up.pcap")).stream().map(f -> checkUdp(f, 50)).toList()).size());
        assertEquals(n, read(d.resolve("ew-3072-vm1.pcap")).size());
        assertEquals(1, read(d.resolve("one.pcap")).size());
    }

    @Test
    void smallFlowCountsAreRepeatedToFillBursts(@TempDir Path d) throws Exception {
        TenantBench.writePcaps(d.toString(), 30, 4);
        assertEquals(1030, read(d.resolve("tenant-30-up.pcap")).size(), "103 passes of 10 flows");
        assertThrows(IllegalArgumentException.class, () -> TenantBench.writePcaps(d.toString(), 2, 1));
    }

    @Test
    void theConfigurationsLoadAndNatTakesOneWorker() throws Exception {
        for (String[] c : new String[][] {{"tenant", "1"}, {"ew", "1"}, {"ew", "2"}}) {
            String yaml = TenantBench.config(c[0], "/tmp/x", 1000, 5, Integer.parseInt(c[1]), 1, 16383, 1024);
            SluiceConfig cfg = ConfigLoader.parse("t.yaml", yaml);
            assertEquals(c[0].equals("tenant") ? 4 : 2, cfg.ports().size());
            assertNotNull(FirewallConfigLoader.parseDocument("t.yaml", yaml, cfg));
        }
        assertThrows(IllegalArgumentException.class, () -> TenantBench.config("tenant", "/tmp/x", 1000, 5, 2, 1, 16383, 1024));
    }

    static String check(String... args) throws Exception {
        String[] cmd = new String[args.length + 3];
        cmd[0] = "python3";
        cmd[1] = OVS_PY.toString();
        cmd[2] = "check";
        System.arraycopy(args, 0, cmd, 3, args.length);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        p.waitFor();
        return out;
    }

    @Test
    void thePortCheckRejectsWhatLeavesByTheWrongPort() throws Exception {
        assertEquals("ok", check("tenant", "up=1000/500", "vm1=1000/1500", "vm2=1000/500", "ext=1000/1500"));
        assertEquals("ok", check("ew", "up=1000/1000", "vm1=1000/1000"));
        // the SNAT replies never reach vm2 (OVS before its connections were made): rejected
        assertEquals("ports: vm2 sent 0, expected 500; ext sent 1000, expected 1500",
                check("tenant", "up=1000/500", "vm1=1000/1500", "vm2=1000/0", "ext=1000/1000"));
        // the same total, but east-west replies sent out of the external port
        assertTrue(check("tenant", "up=1000/0", "vm1=1000/1500", "vm2=1000/500", "ext=1000/2000").startsWith("ports: up sent 0"));
    }

    @Test
    void theOvsFlowsHaveOneAntiSpoofAndOneL2FlowPerRemoteVm() throws Exception {
        Process p = new ProcessBuilder("python3", OVS_PY.toString(), "flows", "tenant", "7").redirectErrorStream(true).start();
        List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertEquals(0, p.waitFor());
        assertEquals(7, lines.stream().filter(l -> l.startsWith("table=0,") && l.contains("in_port=4,tun_id=100")).count());
        assertEquals(7, lines.stream().filter(l -> l.startsWith("table=12,") && l.contains("output:4")).count());
        assertTrue(lines.contains("table=0,priority=100,in_port=4,tun_id=100,tun_src=192.168.50.2,dl_src=02:00:00:00:06:0a,ip,nw_src=10.254.16.6,actions=resubmit(,30)"));
        assertEquals(TenantBench.remoteMac(6), 0x02_00_00_00_06_0aL, "the same remote VM addresses as the frames");
        assertEquals(TenantBench.remoteIp(6), 0x0AFE_1006);
    }
}
