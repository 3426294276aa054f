package io.sluice.dataplane.config;

/**
 * An overlay model that cannot be used. {@link #path()} names the field
 * (e.g. {@code networks[0].subnets[1].cidr}) and {@link #reason()} what is wrong; the message
 * is {@code path: reason}. The YAML loader turns it into {@code file:line: path: reason}.
 */
public final class OverlayModelException extends Exception {
    private final String path;
    private final String reason;

    public OverlayModelException(String path, String reason) {
        super(path + ": " + reason);
        this.path = path;
        this.reason = reason;
    }

    public String path() { return path; }

    public String reason() { return reason; }
}
