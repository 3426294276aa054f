#!/usr/bin/env python3
"""Linux nf_conntrack as an oracle for LinuxDiff (docs/conntrack.md, "Checked against Linux").

Run in the root namespace by the Java harness after it built three namespaces: A and B (the two
endpoints, no addresses) and F (forwarding, nftables `ct state` rules that set the DSCP of every
forwarded packet to 1 new, 2 established, 3 related, 4 invalid, 5 other). This process opens one
AF_PACKET socket in A and one in B (setns), and then answers batches on stdin/stdout:

  request:  u32 n, then n records: u8 side | extra << 1 | unsure << 7 (side 0: sent from A, 1: from
            B; extra: frames after the first, up to 63; unsure: a datagram Linux's reassembly
            is expected to discard, not waited for), then 1 + extra times u16 len, len bytes of an IPv4 packet
            whose IP ID is the record's index in the batch (the fragments of one datagram)
  answer:   n bytes: the DSCP the packet (for fragments: the one with offset 0 of the datagram
            Linux reassembled and fragmented again) arrived with on the other side (1..5), or 0
            if it never came

Packets of one batch must belong to different connections (they may be reordered between the two
veths); the harness sends one packet of each of up to n concurrent sequences per batch.
"""
import ctypes, os, select, socket, struct, sys, time

CLONE_NEWNET = 0x40000000
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23
libc = ctypes.CDLL(None, use_errno=True)


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + path)
    finally:
        os.close(fd)


def open_side(ns_path, ifname):
    setns(ns_path)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    s.bind((ifname, 0x0800))
    s.setblocking(False)
    mac = s.getsockname()[4]
    return s, mac


def main():
    ns_a, if_a, ns_b, if_b, mac_fa, mac_fb = sys.argv[1:7]
    home = "/proc/self/ns/net"
    home_fd = os.open(home, os.O_RDONLY)
    sa, mac_a = open_side(ns_a, if_a)
    sb, mac_b = open_side(ns_b, if_b)
    libc.setns(home_fd, CLONE_NEWNET)
    hdr = [bytes.fromhex(mac_fa.replace(":", "")) + mac_a + b"\x08\x00",
           bytes.fromhex(mac_fb.replace(":", "")) + mac_b + b"\x08\x00"]
    socks = [sa, sb]
    rd = sys.stdin.buffer
    wr = sys.stdout.buffer
    wr.write(b"ready\n")
    wr.flush()
    while True:
        h = rd.read(4)
        if len(h) < 4:
            return
        n = struct.unpack("<I", h)[0]
        # the answer arrives on the other side; ids are batch indices
        ans = bytearray(n)
        want = [0, 0]  # how many each capture socket must still see
        index = {}  # IP ID -> record (a fragment train has an ID of its own, unique for a while)
        unsure_idx = set()
        for i in range(n):
            b = rd.read(1)[0]
            side, extra, unsure = b & 1, (b >> 1) & 0x3F, b >> 7
            for f in range(1 + extra):
                ln = struct.unpack("<H", rd.read(2))[0]
                pkt = rd.read(ln)
                if f == 0:
                    index[(pkt[4] << 8) | pkt[5]] = i
                socks[side].send(hdr[side] + pkt)
            if unsure:
                unsure_idx.add(i)
            else:
                want[1 - side] += 1
        pending = want[0] + want[1]
        deadline = time.monotonic() + 0.5
        while pending > 0:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select(socks, [], [], left)
            for s in r:
                while True:
                    try:
                        f = s.recv(2048)
                    except BlockingIOError:
                        break
                    if len(f) < 34 or f[12:14] != b"\x08\x00":
                        continue
                    ip = f[14:]
                    if ((ip[6] & 0x1F) << 8) | ip[7]:
                        continue  # a later fragment: its datagram answers by its first
                    pid = index.get((ip[4] << 8) | ip[5], -1)
                    if pid >= 0 and ans[pid] == 0:
                        ans[pid] = (ip[1] >> 2) or 5
                        if pid not in unsure_idx:
                            pending -= 1
        wr.write(bytes(ans))
        wr.flush()


if __name__ == "__main__":
    main()
