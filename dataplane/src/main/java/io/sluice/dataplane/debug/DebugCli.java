package io.sluice.dataplane.debug;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The shell side of {@code ./sluice trace}, {@code capture} and {@code explain}: parses the command
 * line, sends the request to the running data plane's admin socket ({@link AdminServer}) and copies
 * the answer to stdout (or, for {@code capture -w FILE}, to the file). Exit status: 0 done, 1 the data
 * plane is not reachable, 2 a bad request (the message names what is wrong).
 */
public final class DebugCli {
    private DebugCli() {}

    private static final Map<String, Set<String>> OPTIONS = Map.of(
            "trace", Set.of("port", "vm", "match", "count"),
            "capture", Set.of("vm", "match", "count", "w"),
            "explain", Set.of("vm", "to", "from", "proto", "sport", "dport", "direction"));

    private static final String USAGE = """
            usage: sluice trace [--port P] [--vm NETWORK/VM] [--match EXPR] [--count N]
                   sluice capture PORT [--vm NETWORK/VM] [--match EXPR] [--count N] [-w FILE|-]
                   sluice explain --vm NETWORK/VM --to ADDR --proto tcp|udp|icmp --dport N [--sport N] [--from ADDR] [--direction in|out]
              common: [--socket PATH | --counters FILE] (default /run/sluice/counters.sock, next to the counters file)
              EXPR: tcp udp icmp icmp6 arp ip ip6, host|src|dst A.B.C.D[/LEN], net CIDR, port|sport|dport P[-P2], in, out (docs/operations.md)""";

    public static int run(String[] argv, InputStream stdin, PrintStream out, PrintStream err) {
        String cmd = argv[0];
        Map<String, String> a = new LinkedHashMap<>();
        Path socket = Path.of("/run/sluice/counters.sock");
        try {
            for (int i = 1; i < argv.length; i++) {
                String s = argv[i];
                if (s.equals("-w")) s = "--w";
                if (!s.startsWith("--")) {
                    if (cmd.equals("capture") && !a.containsKey("port")) {
                        a.put("port", s);
                        continue;
                    }
                    throw new IllegalArgumentException("unexpected '" + s + "'");
                }
                String k = s.substring(2);
                if (i + 1 >= argv.length) throw new IllegalArgumentException(s + " needs a value");
                String v = argv[++i];
                if (k.equals("socket")) {
                    socket = Path.of(v);
                } else if (k.equals("counters")) {
                    socket = AdminServer.socketFor(Path.of(v));
                } else if (!OPTIONS.get(cmd).contains(k)) {
                    throw new IllegalArgumentException("unknown option " + s);
                } else {
                    a.put(k, v);
                }
            }
            if (a.containsKey("match")) Match.parse(a.get("match")); // the same parser, before connecting
        } catch (IllegalArgumentException | Match.MatchException e) {
            err.println("sluice " + cmd + ": " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        String file = a.remove("w");
        if (cmd.equals("capture") && file != null) a.put("format", "pcapng");
        if (!Files.exists(socket)) {
            err.println("sluice " + cmd + ": no data plane at " + socket + " (is ./sluice run running? --socket PATH or --counters FILE)");
            return 1;
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            OutputStream req = Channels.newOutputStream(ch);
            StringBuilder sb = new StringBuilder(cmd).append('\n');
            for (Map.Entry<String, String> e : a.entrySet()) sb.append(e.getKey()).append('=').append(e.getValue().replace('\n', ' ')).append('\n');
            sb.append('\n');
            req.write(sb.toString().getBytes(StandardCharsets.UTF_8));
            req.flush();
            InputStream in = new BufferedInputStream(Channels.newInputStream(ch));
            String status = line(in);
            if (status == null) {
                err.println("sluice " + cmd + ": the data plane closed the connection");
                return 1;
            }
            if (!status.equals("OK")) {
                err.println("sluice " + cmd + ": " + (status.startsWith("ERR ") ? status.substring(4) : status));
                return 2;
            }
            OutputStream dst = file == null || file.equals("-") ? out : Files.newOutputStream(Path.of(file));
            try {
                byte[] buf = new byte[65536];
                for (int n; (n = in.read(buf)) > 0; ) {
                    dst.write(buf, 0, n);
                    dst.flush();
                }
            } finally {
                if (dst != out) dst.close();
            }
            return 0;
        } catch (IOException e) {
            err.println("sluice " + cmd + ": " + socket + ": " + e.getMessage());
            return 1;
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = in.read()) >= 0; ) {
            if (c == '\n') return sb.toString();
            sb.append((char) c);
        }
        return sb.isEmpty() ? null : sb.toString();
    }
}
