package io.sluice.dataplane.config;

/**
 * A configuration file that cannot be used. The message names the file, the line, the key and
 * what is wrong, e.g. {@code sluice.yaml:12: ports[1].device: must not be empty}.
 */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }
}
