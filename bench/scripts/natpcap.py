#!/usr/bin/env python3
"""natpcap.py: the frames of `./sluice bench nat` (bench/scripts/nat.sh), and the check of what left.

  natpcap.py gen MODE N DIR
      MODE snat|fip: DIR/MODE-N-vm.pcap   the VM's requests, 10.254.0.1:1000 -> server k:1001
                     DIR/MODE-N-ext.pcap  the servers' replies to the public address, as Sluice expects them
                                          (snat: to 203.0.113.1:1024, Sluice's one endpoint-independent
                                          binding of 10.254.0.1:1000; fip: to 198.51.100.1:1000)
                     DIR/MODE-N-bi.pcap   request/reply interleaved, the same frames, for OVS's one port
                                          (fip only: OVS picks SNAT ports by hash, see `ovsbi`)
      MODE new:      DIR/new-N-vm.pcap    N requests from N distinct flows (one packet each)
  natpcap.py ovsbi N DIR < 'ovs-appctl dpctl/dump-conntrack' output
      DIR/snat-N-ovsbi.pcap: the snat requests with each one's reply to the port OVS chose (from conntrack)
  natpcap.py check KIND IN.pcap[,IN2.pcap] OUT.pcap [OUT2.pcap]
      KIND sluice-snat|sluice-fip|ovs-snat|ovs-fip|sluice-new|ovs-new: every frame that left is checked:
      addresses, ports (SNAT: one external port per internal flow, in 1024-65535), MACs (Sluice),
      TTL, IPv4 and UDP checksums; prints "translation ok frames=..." or the first errors, exit 1.
      Sluice's check run reads each input once: as many frames must have left as the inputs hold;
      OVS's loops its input (a sample: at least min(input, 2000) frames, every one checked).

Servers: k < 65536: 10.253.(k>>8).(k&255); else 10.(128 + k>>16).(k>>8 & 255).(k & 255): all outside the
VM's network 10.254.0.0/16. 64-byte frames (60 + FCS), UDP with a real checksum (so incremental updates
are checked). MACs: VM 02:00:00:00:01:02 -> router 02:00:00:00:ff:01; gateway 02:00:00:00:99:99 ->
external 02:00:00:00:ee:01 (OVS's flows match no MAC, so it takes the very same frames).
"""
import re
import struct
import sys

VM_MAC, ROUTER_MAC = bytes.fromhex('020000000102'), bytes.fromhex('02000000ff01')
GW_MAC, EXT_MAC = bytes.fromhex('020000009999'), bytes.fromhex('02000000ee01')
VM_IP = bytes([10, 254, 0, 1])
SNAT_IP, FIP_IP = bytes([203, 0, 113, 1]), bytes([198, 51, 100, 1])
SNAT_PORT_SLUICE = 1024
FRAME = 60


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s >> 16) + (s & 0xffff)
    return (~s) & 0xffff


def server(k):
    return bytes([10, 253, (k >> 8) & 0xff, k & 0xff]) if k < 65536 else bytes([10, 128 + (k >> 16), (k >> 8) & 0xff, k & 0xff])


def frame(dmac, smac, src, dst, sp, dp):
    ulen = FRAME - 14 - 20
    payload = bytes(ulen - 8)
    pseudo = src + dst + struct.pack('!BBH', 0, 17, ulen)
    u = struct.pack('!HHHH', sp, dp, ulen, 0) + payload
    c = csum(pseudo + u) or 0xffff
    u = u[:6] + struct.pack('!H', c) + u[8:]
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17, 0, src, dst)
    h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return dmac + smac + b'\x08\x00' + h + u


def write(path, frames, minpk=1024):
    reps = max(1, -(-minpk // max(len(frames), 1))) if frames else 1
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for _ in range(reps):
            for p in frames:
                f.write(struct.pack('<IIII', 0, 0, len(p), len(p)))
                f.write(p)


def read(path, limit=None):
    d = open(path, 'rb').read(None if limit is None else 24 + limit * 200)
    out, o = [], 24
    while o + 16 <= len(d) and (limit is None or len(out) < limit):
        n = struct.unpack('<I', d[o + 8:o + 12])[0]
        out.append(d[o + 16:o + 16 + n])
        o += 16 + n
    return out


def request(k):
    return frame(ROUTER_MAC, VM_MAC, VM_IP, server(k), 1000, 1001)


def gen(mode, n, d):
    if mode == 'new':
        write(f'{d}/new-{n}-vm.pcap', [request(k) for k in range(n)], 0)
        return
    pub, pport = (SNAT_IP, SNAT_PORT_SLUICE) if mode == 'snat' else (FIP_IP, 1000)
    req = [request(k) for k in range(n)]
    rep = [frame(EXT_MAC, GW_MAC, server(k), pub, 1001, pport) for k in range(n)]
    write(f'{d}/{mode}-{n}-vm.pcap', req)
    write(f'{d}/{mode}-{n}-ext.pcap', rep)
    if mode == 'fip':
        write(f'{d}/{mode}-{n}-bi.pcap', [p for pair in zip(req, rep) for p in pair])


def ovsbi(n, d):
    rx = re.compile(r'udp,orig=\(src=([\d.]+),dst=([\d.]+),sport=(\d+),dport=(\d+)\),reply=\(src=([\d.]+),dst=([\d.]+),sport=(\d+),dport=(\d+)\)')
    ip = lambda a: bytes(int(x) for x in a.split('.'))
    fr = []
    for line in sys.stdin:
        m = rx.search(line)
        if m:
            g = m.groups()
            fr.append(frame(ROUTER_MAC, VM_MAC, ip(g[0]), ip(g[1]), int(g[2]), int(g[3])))
            fr.append(frame(EXT_MAC, GW_MAC, ip(g[4]), ip(g[5]), int(g[6]), int(g[7])))
    write(f'{d}/snat-{n}-ovsbi.pcap', fr)
    print(f'{len(fr) // 2} conns from conntrack', file=sys.stderr)
    if len(fr) // 2 != n:
        sys.exit(1)


def check(kind, inputs, paths):
    expected = sum(len(read(p)) for p in inputs.split(','))
    system, mode = kind.split('-')
    # OVS's looped sample: the first 100000 frames of it are checked
    frames = [f for p in paths for f in read(p, 100000 if system == 'ovs' else None)]
    arp = sum(1 for f in frames if f[12:14] == b'\x08\x06')  # Sluice's gratuitous ARP at start
    frames = [f for f in frames if f[12:14] != b'\x08\x06']
    errs = []
    system, mode = kind.split('-')
    pub = SNAT_IP if mode in ('snat', 'new') else FIP_IP
    binding = {}  # (internal ip, port) -> external port (SNAT)
    for i, f in enumerate(frames):
        e = []
        if len(f) < 42 or f[12:14] != b'\x08\x00':
            errs.append(f'frame {i}: not IPv4')
            continue
        h = f[14:34]
        src, dst = h[12:16], h[16:20]
        sp, dp, ulen, uc = struct.unpack('!HHHH', f[34:42])
        if csum(h) != 0:
            e.append('IPv4 checksum')
        if uc != 0 and csum(src + dst + struct.pack('!BBH', 0, 17, ulen) + f[34:34 + ulen]) != 0:
            e.append('UDP checksum')
        if uc == 0:
            e.append('UDP checksum became 0')
        outbound = dp == 1001
        if outbound:
            if src != pub:
                e.append(f'source {".".join(map(str, src))} is not the public address')
            if mode == 'fip' and sp != 1000:
                e.append(f'floating IP changed the port {sp}')
            if mode != 'fip':
                if not 1024 <= sp <= 65535:
                    e.append(f'SNAT port {sp} out of range')
                if system == 'sluice' and binding.setdefault((VM_IP, 1000), sp) != sp:
                    e.append('endpoint-independent binding broken')
            if system == 'sluice' and (f[0:6] != GW_MAC or f[6:12] != EXT_MAC or h[8] != 63):
                e.append('MACs/TTL of an outbound frame')
        elif sp == 1001:
            if dst != VM_IP or dp != 1000:
                e.append(f'reply not translated back: {".".join(map(str, dst))}:{dp}')
            if system == 'sluice' and (f[0:6] != VM_MAC or f[6:12] != ROUTER_MAC or h[8] != 63):
                e.append('MACs/TTL of an inbound frame')
        else:
            e.append(f'unexpected ports {sp}->{dp}')
        if e:
            errs.append(f'frame {i}: ' + ', '.join(e))
    if system == 'sluice' and len(frames) != expected:
        errs.insert(0, f'{len(frames)} frames left, expected {expected}')
    if system == 'ovs' and len(frames) < min(expected, 2000):  # OVS: a sample (its input looped)
        errs.insert(0, f'{len(frames)} frames left, expected a sample of at least {min(expected, 2000)}')
    if errs:
        print(f'translation FAILED ({len(errs)} errors) frames={len(frames)}: ' + '; '.join(errs[:5]))
        sys.exit(1)
    print(f'translation ok frames={len(frames)} kind={kind} (+{arp} ARP)')


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'gen':
        gen(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif cmd == 'ovsbi':
        ovsbi(int(sys.argv[2]), sys.argv[3])
    elif cmd == 'check':
        check(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(__doc__)
