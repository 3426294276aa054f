package io.sluice.dataplane.netns;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGTERM and SIGINT stop the data plane cleanly: the shutdown hook stops workers and ports,
 * the TAP devices DPDK made disappear, and the process exits.
 */
class ShutdownTest {
    @Test
    void sigtermRemovesTapDevices() throws Exception {
        stopWith("TERM");
    }

    @Test
    void sigintRemovesTapDevices() throws Exception {
        stopWith("INT");
    }

    private void stopWith(String signal) throws Exception {
        String prefix = "slt" + ProcessHandle.current().pid() + signal.charAt(0);
        String ifA = prefix + "a";
        String ifB = prefix + "b";
        List<String> cmd = new ArrayList<>();
        // SIGINT at its default in the child, as for a command run in a terminal: a test run started as a
        // background job of a script inherits SIGINT ignored, and the JVM never handles an ignored SIGINT
        // (env execs the command: same pid)
        cmd.add("env");
        cmd.add("--default-signal=INT");
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--") || a.startsWith("-XX:") || a.startsWith("-Dsluice")) {
                cmd.add(a);
            }
        }
        cmd.add("-Dsluice.native.lib=" + System.getProperty("sluice.native.lib"));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(TapDataplaneMain.class.getName());
        cmd.add(ifA);
        cmd.add(ifB);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder out = new StringBuilder();
            String line;
            boolean ready = false;
            while ((line = r.readLine()) != null) {
                out.append(line).append('\n');
                if (line.equals("READY")) {
                    ready = true;
                    break;
                }
            }
            assertTrue(ready, "child did not start:\n" + out);
            assertTrue(Netns.linkExists(null, ifA), ifA + " missing while running");
            assertTrue(Netns.linkExists(null, ifB), ifB + " missing while running");
            Netns.run("kill", "-" + signal, Long.toString(p.pid()));
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child did not exit on SIG" + signal);
            assertFalse(Netns.linkExists(null, ifA), ifA + " left behind after SIG" + signal);
            assertFalse(Netns.linkExists(null, ifB), ifB + " left behind after SIG" + signal);
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
