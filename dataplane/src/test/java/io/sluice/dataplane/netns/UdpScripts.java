package io.sluice.dataplane.netns;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Two small UDP tools for namespace tests, written as Python scripts into a directory:
 * {@code udpecho.py ADDR PORT} echoes every datagram (any size; {@code ::} takes both families),
 * {@code udpask.py ADDR PORT [SIZE]} sends "ping-udp" (or SIZE patterned bytes) and exits 0 when
 * the same bytes come back within 1.5 s, 1 on a timeout, 2 when other bytes come back.
 */
public final class UdpScripts {
    private UdpScripts() {}

    public static void write(Path dir) throws IOException {
        Files.writeString(dir.resolve("udpecho.py"), """
                import socket, sys
                s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((sys.argv[1], int(sys.argv[2])))
                while True:
                    d, a = s.recvfrom(65535)
                    s.sendto(d, a)
                """);
        Files.writeString(dir.resolve("udpask.py"), """
                import socket, sys
                s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
                s.settimeout(1.5)
                m = b"ping-udp" if len(sys.argv) < 4 else bytes(i % 251 for i in range(int(sys.argv[3])))
                s.sendto(m, (sys.argv[1], int(sys.argv[2])))
                try:
                    d, a = s.recvfrom(65535)
                    sys.exit(0 if d == m else 2)
                except socket.timeout:
                    sys.exit(1)
                """);
    }
}
