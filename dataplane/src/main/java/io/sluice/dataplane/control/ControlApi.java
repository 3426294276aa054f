package io.sluice.dataplane.control;

import io.sluice.dataplane.config.ApiSettings;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.common.configurable.Resource;
import io.helidon.common.pki.Keys;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The HTTP side of the control API (Helidon SE; docs/api.md for the contract). One handler takes
 * every request, so that every call, whatever its answer, goes through the same steps: route,
 * rate limit, key, permission, media type and size, body, change, audit record.
 */
final class ControlApi implements AutoCloseable {
    private static final Logger HELIDON = Logger.getLogger("io.helidon");
    private static final HeaderName API_KEY = HeaderNames.create("X-API-Key");
    private static final HeaderName RETRY_AFTER = HeaderNames.create("Retry-After");
    private static final HeaderName REQUEST_ID = HeaderNames.create("X-Request-Id");

    private final ControlPlane plane;
    private final ApiSettings settings;
    private final PrintStream log;
    private final AuthLimiter limiter;
    private final AtomicLong requests = new AtomicLong();
    private final byte[] openApi;
    private WebServer server;

    ControlApi(ControlPlane plane, PrintStream log) throws IOException {
        this.plane = plane;
        this.settings = plane.settings();
        this.log = log;
        this.limiter = new AuthLimiter(settings.maxAuthFailures(), settings.authWindowSeconds() * 1000L);
        try (InputStream in = ControlApi.class.getResourceAsStream("openapi.json")) {
            if (in == null) throw new IOException("openapi.json is missing from the jar");
            this.openApi = in.readAllBytes();
        }
    }

    void start() {
        HELIDON.setLevel(Level.WARNING);
        var b = WebServer.builder()
                .host(settings.host())
                .port(settings.port())
                .shutdownHook(false)
                .maxPayloadSize(-1) // the size limit is ours (413, audited)
                // TCP_NODELAY (Helidon's default is Nagle on): an answer written in more than one
                // segment, such as a 1k-rule group's 60 KB, otherwise waits for the client's delayed
                // ACK, ~40 ms per call (bench api: one_rule p50 48 ms against a server total of 4 ms)
                .connectionOptions(o -> o.tcpNoDelay(true))
                .routing(HttpRouting.builder().any(this::handle));
        if (settings.tls() != null) {
            // HTTPS only: a plain HTTP request on this listener fails its TLS handshake
            Keys keys = Keys.builder().pem(pem -> pem.key(Resource.create(settings.tls().key()))
                    .certChain(Resource.create(settings.tls().cert()))).build();
            b.tls(t -> t.privateKey(keys.privateKey().orElseThrow(() -> new IllegalArgumentException(
                            "api.tls.key: no private key in " + settings.tls().key())))
                    .privateKeyCertChain(keys.certChain()));
        }
        server = b.build().start();
    }

    /** {@code https} with {@code api.tls}, else {@code http}. */
    String scheme() {
        return settings.tls() != null ? "https" : "http";
    }

    int port() {
        return server.port();
    }

    @Override
    public void close() {
        if (server != null) server.stop();
    }

    /** What a call is: its audit action, project and target, and whether only operators may make it. */
    record Route(String action, String project, String target, Set<String> methods, boolean operatorOnly, Handler handler) {}

    @FunctionalInterface
    interface Handler {
        Reply handle(Call call) throws ApiException;
    }

    /** A call to a handler; {@code action[0]} is its audit action, which the handler may make more precise. */
    record Call(ServerRequest req, String method, ApiSettings.Key key, byte[] body, String[] action) {}

    record Reply(int status, JsonNode body, String timing) {
        Reply(int status, JsonNode body) {
            this(status, body, null);
        }
    }

    private static final HeaderName SERVER_TIMING = HeaderNames.create("Server-Timing");

    /** {@code Server-Timing: parse;dur=0.41, lock;dur=0.00, validate;dur=…} in milliseconds. */
    static String timing(long parseNanos, long[] nanos) {
        StringBuilder sb = new StringBuilder(String.format(java.util.Locale.ROOT, "parse;dur=%.3f", parseNanos / 1e6));
        for (int i = 0; i < ControlPlane.PHASES.length; i++) {
            sb.append(String.format(java.util.Locale.ROOT, ", %s;dur=%.3f", ControlPlane.PHASES[i], nanos[i] / 1e6));
        }
        return sb.toString();
    }

    private void handle(ServerRequest req, ServerResponse res) {
        long start = System.nanoTime();
        String requestId = "r" + requests.incrementAndGet();
        String client = client(req.remotePeer().address());
        String method = req.prologue().method().text();
        String path = req.path().path();
        Route route = route(path);
        boolean get = method.equals("GET");
        if (get && route != null && route.action().equals("health")) {
            ObjectNode o = GroupCodec.JSON.createObjectNode();
            o.put("status", "ok");
            o.put("generation", plane.generation());
            plane.journalHealth(o.putObject("journal"));
            send(res, 200, o.toString().getBytes(StandardCharsets.UTF_8), requestId, null);
            return;
        }
        if (get && route != null && route.action().equals("openapi")) {
            send(res, 200, openApi, requestId, null);
            return;
        }
        String action = route == null ? "unknown" : route.action();
        if (action.endsWith(".")) { // security_group.put, floating_ip.allocate (FloatingIpApi.VERBS)
            action += FloatingIpApi.VERBS.getOrDefault(action + method, method.toLowerCase(java.util.Locale.ROOT));
        }
        String project = route == null ? "" : route.project();
        String target = route == null ? path : route.target();
        ApiSettings.Key key = null;
        int status;
        JsonNode body;
        String retryAfter = null;
        String serverTiming = null;
        try {
            long now = System.currentTimeMillis();
            long blockedMs = limiter.blockedFor(client, now);
            if (blockedMs > 0) {
                retryAfter = Long.toString((blockedMs + 999) / 1000);
                throw new ApiException(429, "too many failed authentications from " + client + "; retry after " + retryAfter + " s");
            }
            key = authenticate(req);
            if (key == null) {
                limiter.failed(client, now);
                throw new ApiException(401, req.headers().contains(API_KEY) ? "unknown API key" : "missing X-API-Key header");
            }
            if (route == null) throw ApiException.notFound("no resource " + GroupCodec.clip(path));
            if (!route.methods().contains(method)) throw new ApiException(405, method + " is not allowed on " + GroupCodec.clip(path) + " (allowed: " + route.methods() + ")");
            if (route.operatorOnly() && !key.operator()) throw new ApiException(403, action + " needs an operator key");
            if (route.project() != null && (!key.sees(route.project())
                    || !plane.state().hasProject(route.project()) && !route.action().equals(ProjectRoutes.PROJECT))) {
                throw ApiException.notFound("no project '" + GroupCodec.clip(route.project()) + "'");
            }
            byte[] content = method.equals("PUT") || method.equals("POST") && hasBody(req) ? body(req) : new byte[0];
            String[] named = {action};
            Reply r;
            try {
                r = route.handler().handle(new Call(req, method, key, content, named));
            } finally {
                action = named[0];
            }
            status = r.status();
            body = r.body();
            serverTiming = r.timing();
        } catch (ApiException e) {
            status = e.status();
            body = error(e.getMessage(), status, requestId);
        } catch (RuntimeException e) {
            status = 500;
            body = error("internal error: " + e, status, requestId);
            log.println("sluice: control API " + requestId + " " + method + " " + path + ": " + e);
        }
        long a0 = System.nanoTime();
        audit(key, client, project, action, target, status, requestId);
        long a1 = System.nanoTime();
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        if (serverTiming != null) {
            long end = System.nanoTime();
            res.header(SERVER_TIMING, serverTiming + String.format(java.util.Locale.ROOT, ", audit;dur=%.3f, encode;dur=%.3f, total;dur=%.3f",
                    (a1 - a0) / 1e6, (end - a1) / 1e6, (end - start) / 1e6));
        }
        send(res, status, bytes, requestId, retryAfter);
    }

    private void audit(ApiSettings.Key key, String client, String project, String action, String target, int status, String requestId) {
        String outcome = status < 300 ? "accepted"
                : status == 401 || status == 403 || status == 404 || status == 429 ? "denied"
                : status == 409 ? "conflict"
                : status >= 500 ? "error" : "invalid";
        try {
            plane.audit().append(key == null ? "" : key.id(), client, project, action, target, outcome, status, requestId);
        } catch (RuntimeException e) {
            log.println("sluice: control API: audit record of " + requestId + " not written: " + e);
        }
    }

    private static void send(ServerResponse res, int status, byte[] body, String requestId, String retryAfter) {
        res.status(Status.create(status));
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.header(REQUEST_ID, requestId);
        if (retryAfter != null) res.header(RETRY_AFTER, retryAfter);
        res.send(body);
    }

    private static ObjectNode error(String message, int status, String requestId) {
        ObjectNode o = GroupCodec.JSON.createObjectNode();
        o.put("error", message);
        o.put("status", status);
        o.put("request_id", requestId);
        return o;
    }

    private static String client(SocketAddress a) {
        return a instanceof InetSocketAddress i && i.getAddress() != null ? i.getAddress().getHostAddress() : String.valueOf(a);
    }

    private ApiSettings.Key authenticate(ServerRequest req) {
        String k = req.headers().first(API_KEY).orElse(null);
        if (k == null || k.isEmpty()) return null;
        byte[] h = sha256(k.getBytes(StandardCharsets.UTF_8));
        ApiSettings.Key found = null;
        for (ApiSettings.Key key : settings.keys()) {
            if (MessageDigest.isEqual(h, key.sha256())) found = key; // every key compared: no early exit
        }
        return found;
    }

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A POST may come without a body (no Content-Type, no or zero Content-Length). */
    private static boolean hasBody(ServerRequest req) {
        return req.headers().contentType().isPresent() || req.headers().contentLength().orElse(0) > 0
                || req.headers().contains(HeaderNames.TRANSFER_ENCODING);
    }

    /** A PUT or POST body: JSON media type (415), at most max-body-bytes (413). */
    private byte[] body(ServerRequest req) throws ApiException {
        HttpMediaType type = req.headers().contentType().orElse(null);
        if (type == null || !type.mediaType().type().equals("application") || !type.mediaType().subtype().equals("json")) {
            throw new ApiException(415, "Content-Type must be application/json, not " + (type == null ? "missing" : GroupCodec.clip(type.text())));
        }
        int max = settings.maxBodyBytes();
        if (req.headers().contentLength().orElse(0) > max) {
            throw new ApiException(413, "body of " + req.headers().contentLength().getAsLong() + " bytes is over the limit of " + max + " bytes");
        }
        try (InputStream in = req.content().inputStream()) {
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) throw new ApiException(413, "body is over the limit of " + max + " bytes");
            return b;
        } catch (IOException | RuntimeException e) {
            if (e instanceof RuntimeException re && !(re.getCause() instanceof IOException)) throw re;
            throw ApiException.invalid("body", "could not be read: " + e.getMessage());
        }
    }

    // ---- routes ---------------------------------------------------------------------------------

    private Route route(String path) {
        if (!path.startsWith("/v1/")) return null;
        String[] s = path.substring(4).split("/", -1);
        for (String seg : s) if (seg.isEmpty()) return null;
        if (s.length == 1) {
            return switch (s[0]) {
                case "health" -> new Route("health", null, "", Set.of("GET"), false, null);
                case "openapi.json" -> new Route("openapi", null, "", Set.of("GET"), false, null);
                case "projects" -> new Route("project.list", null, "", Set.of("GET"), true, c -> projects());
                case "audit-log" -> new Route("audit_log.get", null, "", Set.of("GET"), false, this::auditLog);
                default -> null;
            };
        }
        if (!s[0].equals("projects")) return null;
        String p = s[1];
        Route r = ProjectRoutes.route(plane, s);
        if (r != null) return r;
        r = FloatingIpApi.route(plane, s);
        if (r == null) r = VmFirewallApi.route(plane, s);
        if (r != null) return r;
        if (s.length == 3 && s[2].equals("security-groups")) {
            return new Route("security_group.list", p, p, Set.of("GET"), false, c -> groups(p));
        }
        if (s.length == 4 && s[2].equals("security-groups")) {
            String g = s[3];
            return new Route("security_group.", p, p + "/" + g, Set.of("GET", "PUT", "DELETE"), false, c -> group(c, p, g));
        }
        if (s.length == 5 && s[2].equals("vms") && s[4].equals("security-groups")) {
            String vm = s[3];
            return new Route("vm.security_groups.", p, p + "/" + vm, Set.of("GET", "PUT"), false, c -> membership(c, p, vm));
        }
        return null;
    }

    private ObjectNode withGeneration(ObjectNode o) {
        o.put("generation", plane.generation());
        return o;
    }

    private Reply projects() {
        ObjectNode o = GroupCodec.JSON.createObjectNode();
        ArrayNode a = o.putArray("projects");
        DesiredState st = plane.state();
        for (String p : st.projects()) {
            ObjectNode j = a.addObject();
            j.put("name", p);
            ArrayNode g = j.putArray("security_groups");
            st.groups(p).forEach(g::add);
        }
        return new Reply(200, withGeneration(o));
    }

    private Reply groups(String p) {
        DesiredState st = plane.state();
        ObjectNode o = GroupCodec.JSON.createObjectNode();
        o.put("project", p);
        ArrayNode a = o.putArray("security_groups");
        for (String g : st.groups(p)) a.add(st.group(p, g));
        return new Reply(200, withGeneration(o));
    }

    private Reply group(Call c, String p, String g) throws ApiException {
        switch (c.method()) {
            case "GET" -> {
                ObjectNode o = plane.state().group(p, g);
                if (o == null) throw ApiException.notFound("no security group '" + GroupCodec.clip(g) + "' in project " + p);
                o.put("project", p);
                return new Reply(200, withGeneration(o));
            }
            case "PUT" -> {
                long t0 = System.nanoTime();
                JsonNode doc = GroupCodec.parse(c.body());
                long parse = System.nanoTime() - t0;
                long[] nanos = new long[ControlPlane.PHASES.length];
                long gen = plane.change(new DesiredState.Change(DesiredState.PUT_GROUP, p, g, doc), nanos);
                ObjectNode o = plane.state().group(p, g);
                o.put("project", p);
                o.put("generation", gen);
                return new Reply(200, o, timing(parse, nanos));
            }
            default -> {
                long gen = plane.change(new DesiredState.Change(DesiredState.DELETE_GROUP, p, g, null), new long[ControlPlane.PHASES.length]);
                ObjectNode o = GroupCodec.JSON.createObjectNode();
                o.put("deleted", p + "/" + g);
                o.put("generation", gen);
                return new Reply(200, o);
            }
        }
    }

    private Reply membership(Call c, String p, String vm) throws ApiException {
        long gen;
        String timing = null;
        if (c.method().equals("PUT")) {
            long t0 = System.nanoTime();
            JsonNode doc = GroupCodec.parse(c.body());
            long parse = System.nanoTime() - t0;
            long[] nanos = new long[ControlPlane.PHASES.length];
            gen = plane.change(new DesiredState.Change(DesiredState.PUT_MEMBERSHIP, p, vm, doc), nanos);
            timing = timing(parse, nanos);
        } else {
            gen = plane.generation();
        }
        List<String> groups = plane.state().vmGroups(p, vm);
        if (groups == null) throw ApiException.notFound("no VM '" + GroupCodec.clip(vm) + "' in project " + p);
        ObjectNode o = GroupCodec.JSON.createObjectNode();
        o.put("project", p);
        o.put("vm", vm);
        ArrayNode a = o.putArray("groups");
        groups.forEach(a::add);
        o.put("generation", gen);
        return new Reply(200, o, timing);
    }

    private Reply auditLog(Call c) throws ApiException {
        int limit = 50;
        String q = c.req().query().contains("limit") ? c.req().query().get("limit") : null;
        if (q != null) {
            try {
                limit = Integer.parseInt(q);
            } catch (NumberFormatException e) {
                throw ApiException.invalid("limit", "'" + GroupCodec.clip(q) + "' is not a whole number");
            }
            if (limit < 1 || limit > 1000) throw ApiException.invalid("limit", limit + " is out of range 1..1000");
        }
        String prefix = c.req().query().contains("action_prefix") ? c.req().query().get("action_prefix") : "";
        Set<String> projects = c.key().operator() ? null : new HashSet<>(c.key().projects());
        ObjectNode o = GroupCodec.JSON.createObjectNode();
        ArrayNode a = o.putArray("records");
        for (ObjectNode r : plane.audit().newest(limit, prefix, projects)) a.add(r);
        return new Reply(200, o);
    }

    /** Failed authentications per client address in a sliding window (fail2ban-like). */
    static final class AuthLimiter {
        private final int max;
        private final long windowMs;
        private final Map<String, ArrayDeque<Long>> fails = new HashMap<>();

        AuthLimiter(int max, long windowMs) {
            this.max = max;
            this.windowMs = windowMs;
        }

        /** Milliseconds until {@code client} may try again; 0 when it may now. */
        synchronized long blockedFor(String client, long now) {
            ArrayDeque<Long> d = fails.get(client);
            if (d == null) return 0;
            while (!d.isEmpty() && d.peekFirst() <= now - windowMs) d.pollFirst();
            if (d.isEmpty()) {
                fails.remove(client);
                return 0;
            }
            return d.size() >= max ? d.peekFirst() + windowMs - now : 0;
        }

        synchronized void failed(String client, long now) {
            if (fails.size() > 100_000) {
                for (Iterator<ArrayDeque<Long>> it = fails.values().iterator(); it.hasNext(); ) {
                    ArrayDeque<Long> d = it.next();
                    if (d.isEmpty() || d.peekLast() <= now - windowMs) it.remove();
                }
            }
            fails.computeIfAbsent(client, k -> new ArrayDeque<>()).addLast(now);
        }
    }
}
