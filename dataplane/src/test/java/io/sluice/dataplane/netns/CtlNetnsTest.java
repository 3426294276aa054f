package io.sluice.dataplane.netns;

import io.sluice.dataplane.control.ControlOnly;
import io.sluice.dataplane.control.Ctl;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ./sluice ctl} ({@link Ctl}, what the launcher runs) against the API of a control plane
 * ({@link ControlOnly} in a child JVM, ControlApiNetnsTest's configuration): tables, put from a JSON
 * file, the API's error text printed as it is (400, 403), the key and address from env and flags,
 * the audit tail, an unreachable API and usage errors. Floating IPs through ctl are in
 * ControlApiFloatingIpNetnsTest (they need the data plane).
 */
class CtlNetnsTest {
    record Out(int code, String out, String err) {}

    static Out ctl(Map<String, String> env, String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int c = Ctl.run(args, env, new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        return new Out(c, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    @Test
    void tablesPutsErrorsAndTheAuditTail() throws Exception {
        try (Netns net = new Netns()) {
            Path dir = net.tempDir();
            Path cfg = ControlApiNetnsTest.config(net, dir, "");
            try (ServiceChild c = ServiceChild.start(Map.of(), ControlOnly.class.getName(), cfg.toString())) {
                ServiceChild.Line l = c.await(s -> s.startsWith("sluice: control API on "), 60_000);
                assertTrue(l != null, c.output());
                Map<String, String> env = new HashMap<>();
                env.put("SLUICE_API", l.text().substring(23).split(" ")[0]);
                env.put("SLUICE_API_KEY", ControlApiNetnsTest.BLUE_KEY);

                Out o = ctl(env, "ctl", "groups", "blue");
                assertEquals(0, o.code(), o.toString());
                assertTrue(o.out().startsWith("GROUP    INBOUND  OUTBOUND  ON_RULE_CHANGE  DESCRIPTION\n"), o.out());
                assertTrue(o.out().lines().anyMatch(x -> x.matches("web +1 +0 +keep")), o.out());

                Path ssh = dir.resolve("ssh.json");
                Files.writeString(ssh, "{\"inbound_rules\":[{\"description\":\"ssh\",\"protocol\":\"tcp\",\"port\":22,\"source_cidr\":\"0.0.0.0/0\"}]}");
                o = ctl(env, "put", "group", "blue", "ssh", ssh.toString());
                assertEquals(new Out(0, "ok: blue/ssh, generation 2\n", ""), o);
                o = ctl(env, "group", "blue", "ssh");
                assertEquals("DIRECTION  PROTOCOL  PORT  REMOTE     DESCRIPTION\ninbound    tcp       22    0.0.0.0/0  ssh\n"
                        + "on_rule_change keep, generation 2\n", o.out());
                o = ctl(env, "vm-groups", "blue", "db");
                assertEquals("VM  SECURITY_GROUPS\ndb  web\n", o.out());

                // the API's error text, as it is
                Path bad = dir.resolve("bad.json");
                Files.writeString(bad, "{\"inbound_rules\":[{\"protocol\":\"tcp\",\"port\":70000}]}");
                assertEquals(new Out(1, "", "inbound_rules[0].port: 70000 is not a port (1-65535)\n"), ctl(env, "put", "group", "blue", "x", bad.toString()));
                assertEquals(new Out(1, "", "project.list needs an operator key\n"), ctl(env, "projects"));
                assertEquals(new Out(1, "", "no project 'red'\n"), ctl(env, "groups", "red"));
                // a flag overrides the environment
                o = ctl(env, "--key", ControlApiNetnsTest.OPERATOR_KEY, "projects");
                assertEquals(0, o.code(), o.toString());
                assertEquals("PROJECT  SECURITY_GROUPS\nblue     web,default,ssh\nred      web,default\n", o.out());

                o = ctl(env, "--key", ControlApiNetnsTest.OPERATOR_KEY, "audit", "--limit", "3");
                assertEquals(0, o.code(), o.toString());
                String[] lines = o.out().split("\n");
                assertEquals(4, lines.length, o.out());
                assertTrue(lines[0].startsWith("SEQ  TIME"), o.out());
                assertTrue(lines[3].contains("project.list") && lines[3].contains("accepted") && lines[2].contains("denied"), o.out());
                o = ctl(env, "audit", "--prefix", "security_group.put");
                assertTrue(o.out().lines().skip(1).allMatch(x -> x.contains("security_group.put") && x.contains("blue-admin")), o.out());
                assertTrue(o.out().contains(" 400 ") && o.out().contains(" 200 "), o.out());

                assertEquals(2, ctl(env, "fip", "nonsense", "blue").code());
                assertEquals(2, ctl(env).code());
                Out down = ctl(Map.of("SLUICE_API", "http://127.0.0.1:1"), "health");
                assertEquals(1, down.code());
                assertTrue(down.err().startsWith("sluice ctl: http://127.0.0.1:1/: "), down.err());
            }
        }
    }
}
