#!/usr/bin/env python3
# Sluice's OVS harness (bench/scripts/ovs; used through bench/scripts/ovs-common.sh by bench conntrack/overlay): first written after the peer recipe ../shared/peers/ovs-dpdk, maintained here.
"""mkpcap.py NFLOWS OUT.pcap [PKTLEN=64] [MINPKTS=1024] [vxlan|bidir [REPLY_DST_IP]]
Inner: UDP 10.254.0.1:1000 -> 10.253.x.y:1001, one dst IP per flow (like testpmd flowgen), PKTLEN incl. FCS.
With 'vxlan': wrapped in VXLAN (VNI 5001) from VTEP 172.31.255.2 (02:00:00:ff:00:02) to 172.31.255.1
(02:00:00:ff:00:01 = br-phy hwaddr), outer UDP sport varies per flow.
With 'bidir': request and reply alternate per flow (reply 10.253.x.y:1001 -> REPLY_DST_IP:1000, default
10.254.0.1; use the NAT address for SNAT/FIP pipelines), so conntrack sees both directions (+est steady state).
Packets never leave DPDK (replayed by net_pcap infinite_rx into OVS, sunk by net_null)."""
import struct, sys
n = int(sys.argv[1]); out = sys.argv[2]
plen = int(sys.argv[3]) if len(sys.argv) > 3 else 64
minp = int(sys.argv[4]) if len(sys.argv) > 4 else 1024
vx = len(sys.argv) > 5 and sys.argv[5] == 'vxlan'
bidir = len(sys.argv) > 5 and sys.argv[5] == 'bidir'
rdst = bytes(int(x) for x in (sys.argv[6] if len(sys.argv) > 6 else '10.254.0.1').split('.'))
frame = plen - 4                       # without FCS
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return (~s) & 0xffff
def ip4(src, dst, proto, payload):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0, src, dst)
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload
npk = max(n, minp)
with open(out, 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(npk * (2 if bidir else 1)):
        k = (i // 2 if bidir else i) % n
        rep = bidir and i % 2 == 1
        dst = bytes([10, 253, (k >> 8) & 0xff, k & 0xff]) if n <= 65536 else bytes([10, 128 + (k >> 16), (k >> 8) & 0xff, k & 0xff])
        udplen = frame - 14 - 20
        if rep:
            inner = ip4(dst, rdst, 17, struct.pack('!HHHH', 1001, 1000, udplen, 0) + bytes(udplen - 8))
        else:
            inner = ip4(bytes([10, 254, 0, 1]), dst, 17, struct.pack('!HHHH', 1000, 1001, udplen, 0) + bytes(udplen - 8))
        pkt = bytes.fromhex('020000000002' '020000000001') + b'\x08\x00' + inner
        if vx:
            vxl = struct.pack('!II', 0x08000000, 5001 << 8) + pkt
            oudp = struct.pack('!HHHH', 49152 + (k % 16384), 4789, 8 + len(vxl), 0) + vxl
            pkt = bytes.fromhex('020000ff0001' '020000ff0002') + b'\x08\x00' + ip4(bytes([172, 31, 255, 2]), bytes([172, 31, 255, 1]), 17, oudp)
        f.write(struct.pack('<IIII', 0, 0, len(pkt), len(pkt))); f.write(pkt)
