package io.sluice.dataplane.control;

import com.fasterxml.jackson.databind.JsonNode;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code ./sluice ctl …}: the control API's common calls from a shell (docs/api.md). Lists and
 * items print as tables; {@code put} sends a JSON file; an error prints the API's {@code error} text
 * as it is (exit 1). The address and key come from {@code --api URL} / {@code --key KEY} or
 * {@code SLUICE_API} / {@code SLUICE_API_KEY} (default {@code http://127.0.0.1:8080});
 * {@code --cacert FILE} (or {@code SLUICE_API_CACERT}) trusts a TLS listener's certificate.
 */
public final class Ctl {
    static final String USAGE = """
            usage: sluice ctl [--api URL] [--key KEY] [--cacert FILE] COMMAND
              health
              projects                                 (operator)
              groups P | group P G | vm-groups P VM | firewall P VM | fips P
              put group P G FILE | put vm-groups P VM FILE | put firewall P VM FILE
              delete group P G
              fip allocate P [IP] | fip assign P IP VM | fip detach P IP | fip release P IP
              audit [--limit N] [--prefix ACTION] [--follow]
            env: SLUICE_API (default http://127.0.0.1:8080), SLUICE_API_KEY, SLUICE_API_CACERT""";

    private final PrintStream out;
    private final PrintStream err;
    private URI api;
    private String key;
    private HttpClient http;

    private Ctl(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** @return 0 done, 1 the API refused (its error printed) or could not be reached, 2 usage */
    public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        return new Ctl(out, err).main(args, env);
    }

    private int main(String[] args, Map<String, String> env) {
        List<String> a = new ArrayList<>(List.of(args));
        if (!a.isEmpty() && a.get(0).equals("ctl")) a.remove(0);
        String url = env.getOrDefault("SLUICE_API", "http://127.0.0.1:8080");
        key = env.get("SLUICE_API_KEY");
        String cacert = env.get("SLUICE_API_CACERT");
        while (!a.isEmpty() && a.get(0).startsWith("--") && a.size() >= 2 && List.of("--api", "--key", "--cacert").contains(a.get(0))) {
            String f = a.remove(0);
            String v = a.remove(0);
            switch (f) {
                case "--api" -> url = v;
                case "--key" -> key = v;
                default -> cacert = v;
            }
        }
        if (a.isEmpty()) return usage();
        try {
            api = URI.create(url.endsWith("/") ? url : url + "/");
            HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
            if (cacert != null) b.sslContext(trusting(Path.of(cacert)));
            http = b.build();
            return command(a);
        } catch (Failure f) {
            err.println(f.getMessage());
            return 1;
        } catch (Exception e) {
            err.println("sluice ctl: " + api + ": " + e);
            return 1;
        }
    }

    private int usage() {
        err.println(USAGE);
        return 2;
    }

    private int command(List<String> a) throws Exception {
        String c = a.get(0);
        int n = a.size();
        switch (c) {
            case "health" -> out.println(call("GET", "v1/health", null).toString());
            case "projects" -> {
                Table t = new Table("PROJECT", "SECURITY_GROUPS");
                for (JsonNode p : call("GET", "v1/projects", null).path("projects")) t.row(p.path("name").asText(), join(p.path("security_groups")));
                t.print(out);
            }
            case "groups" -> {
                if (n != 2) return usage();
                Table t = new Table("GROUP", "INBOUND", "OUTBOUND", "ON_RULE_CHANGE", "DESCRIPTION");
                for (JsonNode g : call("GET", "v1/projects/" + a.get(1) + "/security-groups", null).path("security_groups")) {
                    t.row(g.path("name").asText(), "" + g.path("inbound_rules").size(), "" + g.path("outbound_rules").size(),
                            g.path("on_rule_change").asText(), g.path("description").asText());
                }
                t.print(out);
            }
            case "group" -> {
                if (n != 3) return usage();
                rules(call("GET", "v1/projects/" + a.get(1) + "/security-groups/" + a.get(2), null));
            }
            case "firewall" -> {
                if (n != 3) return usage();
                rules(call("GET", "v1/projects/" + a.get(1) + "/vms/" + a.get(2) + "/firewall", null));
            }
            case "vm-groups" -> {
                if (n != 3) return usage();
                JsonNode v = call("GET", "v1/projects/" + a.get(1) + "/vms/" + a.get(2) + "/security-groups", null);
                Table t = new Table("VM", "SECURITY_GROUPS");
                t.row(v.path("vm").asText(), join(v.path("groups")));
                t.print(out);
            }
            case "fips" -> {
                if (n != 2) return usage();
                fips(call("GET", "v1/projects/" + a.get(1) + "/floating-ips", null).path("floating_ips"));
            }
            case "put" -> {
                if (n != 5) return usage();
                String path = switch (a.get(1)) {
                    case "group" -> "v1/projects/" + a.get(2) + "/security-groups/" + a.get(3);
                    case "vm-groups" -> "v1/projects/" + a.get(2) + "/vms/" + a.get(3) + "/security-groups";
                    case "firewall" -> "v1/projects/" + a.get(2) + "/vms/" + a.get(3) + "/firewall";
                    default -> null;
                };
                if (path == null) return usage();
                JsonNode r = call("PUT", path, Files.readString(Path.of(a.get(4))));
                out.println("ok: " + a.get(2) + "/" + a.get(3) + ", generation " + r.path("generation").asLong());
            }
            case "delete" -> {
                if (n != 4 || !a.get(1).equals("group")) return usage();
                JsonNode r = call("DELETE", "v1/projects/" + a.get(2) + "/security-groups/" + a.get(3), null);
                out.println("deleted: " + r.path("deleted").asText() + ", generation " + r.path("generation").asLong());
            }
            case "fip" -> {
                if (n < 3) return usage();
                String base = "v1/projects/" + a.get(2) + "/floating-ips";
                JsonNode r = switch (a.get(1)) {
                    case "allocate" -> n == 3 ? call("POST", base, null) : n == 4 ? call("POST", base, "{\"ip\":\"" + a.get(3) + "\"}") : null;
                    case "assign" -> n == 5 ? call("PUT", base + "/" + a.get(3), "{\"vm\":\"" + a.get(4) + "\"}") : null;
                    case "detach" -> n == 4 ? call("PUT", base + "/" + a.get(3), "{\"vm\":null}") : null;
                    case "release" -> n == 4 ? call("DELETE", base + "/" + a.get(3), null) : null;
                    default -> null;
                };
                if (r == null) return usage();
                if (r.has("released")) out.println("released: " + r.path("released").asText() + ", generation " + r.path("generation").asLong());
                else {
                    fips(GroupCodec.JSON.createArrayNode().add(r));
                    out.println("generation " + r.path("generation").asLong());
                }
            }
            case "audit" -> {
                return audit(a.subList(1, n));
            }
            default -> {
                return usage();
            }
        }
        return 0;
    }

    private void rules(JsonNode g) {
        Table t = new Table("DIRECTION", "PROTOCOL", "PORT", "REMOTE", "DESCRIPTION");
        for (String dir : List.of("inbound", "outbound")) {
            for (JsonNode r : g.path(dir + "_rules")) {
                String port = r.has("port") ? r.path("port").asText() : r.has("port_range") ? r.path("port_range").asText()
                        : r.has("icmp_type") ? "type " + r.path("icmp_type").asText() : "";
                String remote = firstOf(r, "source_cidr", "source_group", "destination_cidr", "destination_group");
                t.row(dir, r.path("protocol").asText(), port, remote, r.path("description").asText());
            }
        }
        t.print(out);
        out.println("on_rule_change " + g.path("on_rule_change").asText() + ", generation " + g.path("generation").asLong());
    }

    private void fips(JsonNode list) {
        Table t = new Table("IP", "PROJECT", "VM");
        for (JsonNode f : list) t.row(f.path("ip").asText(), f.path("project").asText(), f.path("vm").isNull() ? "-" : f.path("vm").asText());
        t.print(out);
    }

    private static final String[] AUDIT_FIELDS = {"seq", "time", "key_id", "client", "project", "action", "target", "outcome", "status", "request_id"};

    /** The newest records, oldest first; {@code --follow} polls every second for newer ones (until interrupted). */
    private int audit(List<String> a) throws Exception {
        int limit = 20;
        String prefix = "";
        boolean follow = false;
        for (int i = 0; i < a.size(); i++) {
            switch (a.get(i)) {
                case "--limit" -> limit = Integer.parseInt(a.get(++i));
                case "--prefix" -> prefix = a.get(++i);
                case "--follow", "-f" -> follow = true;
                default -> {
                    return usage();
                }
            }
        }
        long last = -1;
        boolean header = true;
        do {
            JsonNode recs = call("GET", "v1/audit-log?limit=" + limit + "&action_prefix=" + java.net.URLEncoder.encode(prefix, java.nio.charset.StandardCharsets.UTF_8), null).path("records");
            Table t = new Table(java.util.Arrays.stream(AUDIT_FIELDS).map(String::toUpperCase).toArray(String[]::new));
            for (int i = recs.size() - 1; i >= 0; i--) {
                JsonNode r = recs.get(i);
                if (r.path("seq").asLong() <= last) continue;
                String[] row = new String[AUDIT_FIELDS.length];
                for (int k = 0; k < row.length; k++) row[k] = r.path(AUDIT_FIELDS[k]).asText();
                t.row(row);
                last = Math.max(last, r.path("seq").asLong());
            }
            if (!t.rows.isEmpty() || header) t.print(out, header);
            header = false;
            out.flush();
            if (follow) Thread.sleep(1000);
        } while (follow);
        return 0;
    }

    private static String firstOf(JsonNode r, String... fields) {
        for (String f : fields) if (r.has(f)) return r.path(f).asText();
        return "any";
    }

    private static String join(JsonNode a) {
        List<String> s = new ArrayList<>();
        for (JsonNode x : a) s.add(x.asText());
        return String.join(",", s);
    }

    /** The API refused: its error text, as it is. */
    private static final class Failure extends Exception {
        Failure(String m) {
            super(m, null, false, false);
        }
    }

    private JsonNode call(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(api.resolve(path)).timeout(Duration.ofSeconds(30));
        if (key != null) b.header("X-API-Key", key);
        if (body != null) b.header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode j;
        try {
            j = GroupCodec.JSON.readTree(r.body());
        } catch (Exception e) {
            throw new Failure("sluice ctl: " + method + " /" + path + ": HTTP " + r.statusCode() + ": " + r.body());
        }
        if (r.statusCode() >= 300) throw new Failure(j.path("error").isMissingNode() ? r.body() : j.path("error").asText());
        return j;
    }

    static SSLContext trusting(Path cert) throws Exception {
        KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(cert)) {
            ks.setCertificateEntry("sluice-api", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    /** Left-aligned columns, two spaces apart. */
    private static final class Table {
        final String[] head;
        final List<String[]> rows = new ArrayList<>();

        Table(String... head) {
            this.head = head;
        }

        void row(String... r) {
            rows.add(r);
        }

        void print(PrintStream out) {
            print(out, true);
        }

        void print(PrintStream out, boolean withHead) {
            int[] w = new int[head.length];
            for (int i = 0; i < w.length; i++) w[i] = head[i].length();
            for (String[] r : rows) for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], r[i].length());
            if (withHead) line(out, head, w);
            for (String[] r : rows) line(out, r, w);
        }

        private static void line(PrintStream out, String[] r, int[] w) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                sb.append(r[i]);
                if (i < r.length - 1) sb.append(" ".repeat(w[i] - r[i].length() + 2));
            }
            out.println(sb.toString().stripTrailing());
        }
    }
}
