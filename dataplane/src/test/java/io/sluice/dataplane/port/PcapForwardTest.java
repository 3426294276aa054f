package io.sluice.dataplane.port;

import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.agent.TestStages;
import io.sluice.dataplane.counters.Counters;
import io.sluice.dataplane.pipeline.Stage;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Another port type end to end, byte for byte: frames read from a pcap file by net_pcap0
 * (rx_pcap) cross the worker to net_pcap1, which writes them to another pcap file (tx_pcap);
 * the files hold the same frames in the same order.
 */
class PcapForwardTest {
    @Test
    void framesCrossUnchanged(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Random r = new Random(3);
        List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            byte[] f = new byte[60 + r.nextInt(1455)];
            r.nextBytes(f);
            frames.add(f);
        }
        Path in = dir.resolve("in.pcap");
        Path empty = dir.resolve("empty.pcap");
        Path out = dir.resolve("out.pcap");
        Files.write(in, pcap(frames));
        Files.write(empty, pcap(List.of()));
        var cfg = TestStages.config("slt-pcap",
                List.of(TestStages.port("in", "net_pcap0,rx_pcap=" + in),
                        TestStages.port("out", "net_pcap1,rx_pcap=" + empty + ",tx_pcap=" + out)),
                new int[] {0, 1}, "backoff", 4095);
        Counters counters = Counters.inMemory(256);
        try (Dataplane dp = Dataplane.start(cfg, (c, w) -> new Stage[] {new io.sluice.dataplane.stage.WireStages.Crossover()}, counters)) {
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (counters.snapshot().get("port out tx packets") < frames.size() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        }
        assertEquals(frames.size(), counters.snapshot().get("port in rx packets"));
        assertEquals(frames.size(), counters.snapshot().get("port out tx packets"));
        List<byte[]> got = read(Files.readAllBytes(out));
        assertEquals(frames.size(), got.size());
        for (int i = 0; i < frames.size(); i++) {
            assertArrayEquals(frames.get(i), got.get(i), "frame " + i);
        }
    }

    static byte[] pcap(List<byte[]> frames) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteBuffer h = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        h.putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(1);
        o.writeBytes(h.array());
        int t = 0;
        for (byte[] f : frames) {
            ByteBuffer rh = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            rh.putInt(1_700_000_000).putInt(t++).putInt(f.length).putInt(f.length);
            o.writeBytes(rh.array());
            o.writeBytes(f);
        }
        return o.toByteArray();
    }

    static List<byte[]> read(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getInt(0);
        if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
            throw new AssertionError("not a little-endian pcap file: " + Integer.toHexString(magic));
        }
        b.position(24);
        List<byte[]> out = new ArrayList<>();
        while (b.remaining() >= 16) {
            b.getInt();
            b.getInt();
            int incl = b.getInt();
            b.getInt();
            byte[] f = new byte[incl];
            b.get(f);
            out.add(f);
        }
        return out;
    }
}
