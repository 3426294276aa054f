package io.sluice.dataplane.demo;

/**
 * TCP reachability with real sockets in VM namespaces (the demo's and the namespace tests'
 * security-group checks): a python3 server that accepts on several ports and greets each
 * connection with {@code hello PORT}, and a client that connects with a timeout and tells a
 * connection, a timeout (the SYN was dropped) and a refusal (RST) apart by its exit code.
 *
 * <p>The client's timeout is below TCP's initial retransmission timeout (1 s), so a dropped
 * connection attempt is exactly one SYN: drop counters move by exactly one per attempt.
 */
public final class TcpProbe {
    private TcpProbe() {}

    /** What a connection attempt did. */
    public enum Outcome { CONNECTED, TIMED_OUT, REFUSED, FAILED }

    /** Client timeout in seconds: below the 1 s initial RTO (one SYN per attempt). */
    public static final String TIMEOUT = "0.7";

    /**
     * {@code python3 -c SERVER PORT...}: prints "ready" once every port listens (IPv4 and IPv6 on
     * one dual-stack socket; IPv4 only where the namespace has no IPv6), then serves forever.
     */
    public static final String SERVER = """
            import socket,selectors,sys
            sel=selectors.DefaultSelector()
            for p in sys.argv[1:]:
                try:
                    s=socket.socket(socket.AF_INET6); s.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_V6ONLY,0)
                    s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('::',int(p)))
                except OSError:
                    s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('0.0.0.0',int(p)))
                s.listen(64); sel.register(s,selectors.EVENT_READ,p)
            print('ready',flush=True)
            while True:
                for k,_ in sel.select():
                    c,_=k.fileobj.accept(); c.sendall(('hello '+k.data+'\\n').encode()); c.close()
            """;

    /** {@code python3 -c CLIENT IP PORT TIMEOUT} (IPv4 or IPv6 address): exit 0 connected (prints the greeting), 3 timed out, 4 refused. */
    public static final String CLIENT = """
            import socket,sys
            s=socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET); s.settimeout(float(sys.argv[3]))
            try:
                s.connect((sys.argv[1],int(sys.argv[2]))); print('connected:',s.recv(64).decode().strip())
            except TimeoutError:
                print('timed out'); sys.exit(3)
            except ConnectionRefusedError:
                print('refused'); sys.exit(4)
            """;

    /**
     * {@code python3 -c PEER_SERVER PORT [NAME]}: prints "ready", then greets each connection with
     * "peer ADDRESS" (the client's address as this server sees it) or, given a NAME, "hello NAME".
     */
    public static final String PEER_SERVER = """
            import socket,sys
            s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('0.0.0.0',int(sys.argv[1]))); s.listen(16)
            print('ready',flush=True)
            while True:
                c,a=s.accept(); c.sendall((('hello '+sys.argv[2]) if len(sys.argv)>2 else ('peer '+a[0])).encode()+b'\\n'); c.close()
            """;

    /** {@code python3 -c PEER_CLIENT IP PORT}: prints the server's greeting line (exit 1 when it cannot connect). */
    public static final String PEER_CLIENT = """
            import socket,sys
            s=socket.create_connection((sys.argv[1],int(sys.argv[2])),timeout=5); print(s.recv(64).decode().strip())
            """;

    /** A server that tells each client the address it sees it at ({@code name} null) or greets with {@code name}. */
    public static String[] servePeer(int port, String name) {
        return name == null ? new String[] {"python3", "-c", PEER_SERVER, String.valueOf(port)}
                : new String[] {"python3", "-c", PEER_SERVER, String.valueOf(port), name};
    }

    /** The command line asking a {@link #servePeer} server for its greeting. */
    public static String[] askPeer(String ip, int port) {
        return new String[] {"python3", "-c", PEER_CLIENT, ip, String.valueOf(port)};
    }

    /** The command line of one client attempt (run it in the client's namespace). */
    public static String[] connect(String ip, int port) {
        return new String[] {"python3", "-c", CLIENT, ip, String.valueOf(port), TIMEOUT};
    }

    /** The command line of a server on {@code ports} (run it in the server's namespace). */
    public static String[] serve(int... ports) {
        String[] cmd = new String[3 + ports.length];
        cmd[0] = "python3";
        cmd[1] = "-c";
        cmd[2] = SERVER;
        for (int i = 0; i < ports.length; i++) cmd[3 + i] = String.valueOf(ports[i]);
        return cmd;
    }

    /** Waits for a server started with {@link #serve} (stdout piped) to print "ready"; throws with its output otherwise. */
    public static void awaitReady(Process server) throws java.io.IOException {
        java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(server.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8));
        String line = r.readLine();
        if (!"ready".equals(line)) {
            throw new IllegalStateException("TCP probe server did not start: " + line);
        }
    }

    /** The outcome of a client's exit code (and output, for "connected" with a greeting). */
    public static Outcome outcome(int exit, String output) {
        return switch (exit) {
            case 0 -> output.contains("connected: hello") ? Outcome.CONNECTED : Outcome.FAILED;
            case 3 -> Outcome.TIMED_OUT;
            case 4 -> Outcome.REFUSED;
            default -> Outcome.FAILED;
        };
    }
}
