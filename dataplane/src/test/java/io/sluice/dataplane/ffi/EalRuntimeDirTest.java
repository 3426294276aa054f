package io.sluice.dataplane.ffi;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Eal.cleanup removes the EAL runtime directory of its own --file-prefix, and nothing else. */
class EalRuntimeDirTest {
    @Test
    void removesOwnPrefixDirectoryOnly() throws Exception {
        String prefix = "slt-rtdir" + ProcessHandle.current().pid();
        Path base = Eal.runtimeBase();
        Path own = base.resolve(prefix), other = base.resolve(prefix + "x");
        try {
            Files.createDirectories(own);
            Files.createDirectories(other);
            Files.writeString(own.resolve("config"), "x");
            Files.writeString(own.resolve("mp_socket"), "x");
            Files.writeString(other.resolve("config"), "x");

            Eal.removeRuntimeDir(List.of("sluice", "--no-huge", "--file-prefix", prefix, "--vdev", "net_null0"));
            assertFalse(Files.exists(own), own + " should be gone");
            assertTrue(Files.exists(other.resolve("config")), "another prefix's directory must stay");

            Files.createDirectories(own);
            Eal.removeRuntimeDir(List.of("sluice", "--file-prefix=" + prefix));
            assertFalse(Files.exists(own), "--file-prefix=P form");

            Eal.removeRuntimeDir(List.of("sluice", "--file-prefix", "../" + other.getFileName()));
            assertTrue(Files.exists(other.resolve("config")), "a prefix with a path separator is never followed");
        } finally {
            for (Path d : List.of(own, other)) {
                if (Files.exists(d)) {
                    try (var s = Files.list(d)) {
                        for (Path f : (Iterable<Path>) s::iterator) Files.delete(f);
                    }
                    Files.delete(d);
                }
            }
        }
    }
}
