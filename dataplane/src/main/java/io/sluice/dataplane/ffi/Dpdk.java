package io.sluice.dataplane.ffi;

/** Error helpers for shim return codes (negative errno on failure). */
public final class Dpdk {
    private Dpdk() {}

    /** Throws {@link DpdkException} naming {@code what} when {@code rc < 0}; returns rc otherwise. */
    public static int check(int rc, String what) {
        if (rc < 0) {
            throw new DpdkException(what + " failed: " + Shim.strerror(-rc) + " (errno " + (-rc) + ")", -rc);
        }
        return rc;
    }

    /** Exception for a failed DPDK call on the control path (never thrown per packet). */
    public static final class DpdkException extends RuntimeException {
        private final int errno;

        public DpdkException(String message, int errno) {
            super(message);
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }
}
