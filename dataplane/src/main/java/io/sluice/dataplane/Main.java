package io.sluice.dataplane;

/** Entry point of the sluice jar; the ./sluice launcher calls it. */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        System.err.println("usage: sluice run CONFIG | stats [COUNTERS_FILE] | demo");
        System.exit(2);
    }
}
