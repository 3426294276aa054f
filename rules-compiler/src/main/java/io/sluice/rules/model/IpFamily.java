package io.sluice.rules.model;

/** Address family. */
public enum IpFamily {
    /** IPv4. */
    V4(32),
    /** IPv6. */
    V6(128);

    private final int bits;

    IpFamily(int bits) { this.bits = bits; }

    /** Address width in bits. */
    public int bits() { return bits; }
}
