package io.sluice.dataplane.control;

/** A refused call: the HTTP status and the message the client gets (for 400: {@code field.path: problem}). */
public final class ApiException extends Exception {
    private final int status;

    public ApiException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    public int status() {
        return status;
    }

    static ApiException invalid(String path, String problem) {
        return new ApiException(400, path + ": " + problem);
    }

    static ApiException notFound(String what) {
        return new ApiException(404, what);
    }

    static ApiException conflict(String what) {
        return new ApiException(409, what);
    }
}
