package io.sluice.dataplane.debug;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A pcapng writer (the format tcpdump, tshark and Wireshark read; libpcap reads it from a pipe
 * too, so {@code ./sluice capture P -w - | tcpdump -r -} works): one section, one Ethernet
 * interface named after the captured port with nanosecond timestamps, one Enhanced Packet Block
 * per frame with its direction in {@code epb_flags} (inbound: received on the port; outbound:
 * sent out of it) and, for a dropped frame, an {@code opt_comment} "sluice drop REASON: description"
 * (docs/decisions.md). Little-endian. Admin thread.
 */
public final class PcapNg {
    private final OutputStream out;

    public PcapNg(OutputStream out, String interfaceName, int snapLen) throws IOException {
        this.out = out;
        ByteBuffer shb = le(28);
        shb.putInt(0x0A0D0D0A).putInt(28).putInt(0x1A2B3C4D).putShort((short) 1).putShort((short) 0).putLong(-1L).putInt(28);
        out.write(shb.array());
        byte[] name = interfaceName.getBytes(StandardCharsets.UTF_8);
        int opts = 4 + pad(name.length) + 4 + 4 + 4; // if_name, if_tsresol (1 byte, padded), end
        int len = 20 + opts;
        ByteBuffer idb = le(len);
        idb.putInt(1).putInt(len).putShort((short) 1).putShort((short) 0).putInt(snapLen);
        idb.putShort((short) 2).putShort((short) name.length).put(name);
        idb.position(idb.position() + pad(name.length) - name.length);
        idb.putShort((short) 9).putShort((short) 1).put((byte) 9).put(new byte[3]);
        idb.putInt(0);
        idb.putInt(len);
        out.write(idb.array());
    }

    /**
     * One frame.
     *
     * @param wallNanos capture time, ns since the epoch
     * @param inbound   true: received on the port; false: sent out of it
     * @param comment   null, or the drop reason text
     */
    public void packet(long wallNanos, byte[] frame, int capLen, int origLen, boolean inbound, String comment) throws IOException {
        byte[] c = comment == null ? null : comment.getBytes(StandardCharsets.UTF_8);
        int opts = 8 + (c == null ? 0 : 4 + pad(c.length)) + 4;
        int len = 28 + pad(capLen) + opts + 4;
        ByteBuffer b = le(len);
        b.putInt(6).putInt(len).putInt(0).putInt((int) (wallNanos >>> 32)).putInt((int) wallNanos).putInt(capLen).putInt(origLen);
        b.put(frame, 0, capLen);
        b.position(b.position() + pad(capLen) - capLen);
        b.putShort((short) 2).putShort((short) 4).putInt(inbound ? 1 : 2);
        if (c != null) {
            b.putShort((short) 1).putShort((short) c.length).put(c);
            b.position(b.position() + pad(c.length) - c.length);
        }
        b.putInt(0);
        b.putInt(len);
        out.write(b.array());
    }

    public void flush() throws IOException { out.flush(); }

    private static int pad(int n) { return (n + 3) & ~3; }

    private static ByteBuffer le(int n) { return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN); }
}
