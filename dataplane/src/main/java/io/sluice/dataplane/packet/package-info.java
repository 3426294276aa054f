/**
 * Packet memory and header layouts. {@link io.sluice.dataplane.packet.Mem} reads and writes
 * packets in place by absolute address (big-endian accessors over one global segment); one
 * class per header ({@code EthernetHeader}, {@code VlanTag}, {@code ArpHeader},
 * {@code Ipv4Header}, {@code Ipv6Header}, {@code Ipv6ExtHeader}, {@code IcmpHeader},
 * {@code TcpHeader}, {@code UdpHeader}) holds an ASCII diagram and one offset constant per field,
 * relative to the header's first byte; {@link io.sluice.dataplane.packet.Checksum} computes and
 * incrementally updates (RFC 1624) Internet checksums. Nothing here allocates.
 */
package io.sluice.dataplane.packet;
