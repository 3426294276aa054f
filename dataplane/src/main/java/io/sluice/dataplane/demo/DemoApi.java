package io.sluice.dataplane.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.dataplane.Dataplane;
import io.sluice.dataplane.config.ConfigLoader;
import io.sluice.dataplane.config.SluiceConfig;
import io.sluice.dataplane.control.ControlPlane;
import io.sluice.dataplane.firewall.FirewallState;
import io.sluice.dataplane.overlay.OverlayPipeline;
import io.sluice.dataplane.service.RunningConfig;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * The demo's control API (docs/api.md): the embedded configuration plus an {@code api} section
 * (an operator key and a key of project blue, journal and audit in a temporary directory),
 * served over the demo's running data plane, so the demo's changes go through the API as an
 * orchestrator's would: validated, journaled, applied, acknowledged once every worker uses them.
 */
final class DemoApi implements AutoCloseable {
    static final String OPERATOR_KEY = "demo-operator-key";
    static final String BLUE_KEY = "demo-blue-key";
    private static final ObjectMapper JSON = new ObjectMapper();

    record Reply(int status, JsonNode body) {}

    private final ControlPlane control;
    private final Path dir;
    private final URI base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private DemoApi(ControlPlane control, Path dir, URI base) {
        this.control = control;
        this.dir = dir;
        this.base = base;
    }

    static DemoApi start(SluiceConfig cfg, FirewallState fw, OverlayPipeline pipeline, Dataplane dp, PrintStream out) throws Exception {
        Path dir = Files.createTempDirectory("sluice-demo-api");
        String text = ConfigLoader.defaultText() + """
                api:
                  listen: 127.0.0.1:0
                  keys:
                    - {id: operator, sha256: %s, projects: ["*"]}
                    - {id: blue-admin, sha256: %s, projects: [blue]}
                  journal: %s
                  audit: %s
                  sync: none
                """.formatted(sha256(OPERATOR_KEY), sha256(BLUE_KEY), dir.resolve("journal"), dir.resolve("audit"));
        Path file = dir.resolve("demo.yaml");
        Files.writeString(file, text);
        SluiceConfig withApi = ConfigLoader.parse(file.toString(), text); // the demo's value with its api section
        ControlPlane cp = ControlPlane.open(file, withApi);
        List<LongSupplier> cycles = dp.workers().stream().map(w -> (LongSupplier) w::cycles).toList();
        cp.start(new RunningConfig(file.toString(), withApi, fw, pipeline, null), cycles, out);
        return new DemoApi(cp, dir, URI.create(cp.address()));
    }

    Reply call(String method, String path, String key, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10)).header("X-API-Key", key);
        if (body != null) b.header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), JSON.readTree(r.body()));
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public void close() throws Exception {
        control.close();
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
