#!/usr/bin/env python3
"""tenantovs.py: the OVS side of `./sluice bench tenant` (bench/scripts/tenant.sh), and its per-port check.

  tenantovs.py flows MIX R
      The OpenFlow 1.3 flows for bridge brn (ports 1 vm1, 2 vm2, 3 ext, 4 vx0 = VXLAN key=flow to VTEP
      192.168.50.2 through br-phy), shaped as OVN programs the same topology (TenantBench's: network
      VNI 100 10.254.0.0/16, vm1 10.254.0.1 with floating IP 203.0.113.10, vm2 10.254.0.2 SNAT
      203.0.113.1, R remote VMs 10.254.16.0 + r behind VTEP 192.168.50.2, one security group: ingress
      UDP 1000, egress UDP 1001):
        table 0   port security: a VM port accepts only its VM's MAC and IPv4 source (OVN ls_in_port_sec);
                  the tunnel accepts VNI 100 from VTEP 192.168.50.2 only with a remote VM's MAC + IPv4
                  source (one flow per remote VM: Sluice's decap anti-spoofing); the external port: to
                  the floating IP or the SNAT address, into the router's NAT zone (ct(zone=10,nat))
        table 10/11  the VM's egress ACL in its own conntrack zone (1, 2): established passes, new UDP to
                  1001 is committed (OVN ls_in_acl with ct_commit), the rest dropped
        table 12/13  the logical switch / router: a remote VM's MAC -> set tun_id, output vx0 (one flow
                  per remote VM, OVN's L2 lookup); to the router MAC -> TTL-1, MACs, ct(commit,zone=10,
                  nat(src=FIP or SNAT address)) -> ext (OVN lr_out_snat, distributed floating IP)
        table 20  after the router's un-NAT: established -> TTL-1, MACs, into the VM's zone; new to the
                  floating IP -> ct(commit,zone=10,nat(dst=10.254.0.1)) first (lr_in_dnat)
        table 30  from the tunnel: to vm1's MAC -> into vm1's zone
        table 41/42  the VM's ingress ACL (zone 1, 2): established passes, new UDP to 1000 committed, rest dropped
      MIX ew: the same flows (the external port is simply unused).

  tenantovs.py check MIX up=RX/TX vm1=RX/TX [vm2=RX/TX ext=RX/TX]
      Per-port check of one window: what each port sent must be what the mix sends there given what
      the ports received (tenant: up <- vm1/2, vm1 <- up + ext/2, vm2 <- ext/2, ext <- vm1/2 + vm2;
      ew: up <- vm1, vm1 <- up), within 3 % (the window cuts each port's loop at a different point).
      Prints "ok" or what differs.
"""
import sys

VM1, VM2, ROUTER = '02:00:00:00:01:02', '02:00:00:00:01:03', '02:00:00:00:ff:01'
EXT, GW = '02:00:00:00:ee:01', '02:00:00:00:99:99'


def remote_mac(r):
    v = 0x02_00_00_00_00_0a + ((r & 0xffff) << 8) + ((r >> 16) << 24)
    return ':'.join(f'{(v >> (40 - 8 * k)) & 0xff:02x}' for k in range(6))


def remote_ip(r):
    v = 0x0AFE_1000 + r
    return '.'.join(str((v >> s) & 0xff) for s in (24, 16, 8, 0))


def flows(r):
    f = ['# bench tenant: OVN-shaped flows (bench/scripts/tenantovs.py), brn: 1 vm1, 2 vm2, 3 ext, 4 vx0',
         f'table=0,priority=100,in_port=1,dl_src={VM1},ip,nw_src=10.254.0.1,actions=ct(zone=1,table=10)',
         f'table=0,priority=100,in_port=2,dl_src={VM2},ip,nw_src=10.254.0.2,actions=ct(zone=2,table=11)',
         'table=0,priority=100,in_port=3,ip,nw_dst=203.0.113.10,actions=ct(zone=10,nat,table=20)',
         'table=0,priority=100,in_port=3,ip,nw_dst=203.0.113.1,actions=ct(zone=10,nat,table=20)']
    for i in range(r):
        f.append(f'table=0,priority=100,in_port=4,tun_id=100,tun_src=192.168.50.2,dl_src={remote_mac(i)},ip,nw_src={remote_ip(i)},actions=resubmit(,30)')
    f.append('table=0,priority=0,actions=drop')
    for t, z, nxt in ((10, 1, 12), (11, 2, 13)):
        f.append(f'table={t},priority=100,ct_state=+trk+est-rel-inv,ip,actions=resubmit(,{nxt})')
        f.append(f'table={t},priority=90,ct_state=+trk+new-est-rel-inv,udp,tp_dst=1001,actions=ct(commit,zone={z}),resubmit(,{nxt})')
        f.append(f'table={t},priority=0,actions=drop')
    for i in range(r):
        f.append(f'table=12,priority=100,dl_dst={remote_mac(i)},ip,actions=set_field:100->tun_id,output:4')
    f.append(f'table=12,priority=10,ip,dl_dst={ROUTER},nw_dst=10.254.0.0/16,actions=drop')
    f.append(f'table=12,priority=5,ip,dl_dst={ROUTER},actions=dec_ttl,set_field:{EXT}->eth_src,set_field:{GW}->eth_dst,ct(commit,zone=10,nat(src=203.0.113.10)),output:3')
    f.append('table=12,priority=0,actions=drop')
    f.append(f'table=13,priority=10,ip,dl_dst={ROUTER},nw_dst=10.254.0.0/16,actions=drop')
    f.append(f'table=13,priority=5,ip,dl_dst={ROUTER},actions=dec_ttl,set_field:{EXT}->eth_src,set_field:{GW}->eth_dst,ct(commit,zone=10,nat(src=203.0.113.1)),output:3')
    f.append('table=13,priority=0,actions=drop')
    f.append(f'table=20,priority=100,ct_state=+trk+est-inv,ip,nw_dst=10.254.0.1,actions=dec_ttl,set_field:{ROUTER}->eth_src,set_field:{VM1}->eth_dst,ct(zone=1,table=41)')
    f.append(f'table=20,priority=100,ct_state=+trk+est-inv,ip,nw_dst=10.254.0.2,actions=dec_ttl,set_field:{ROUTER}->eth_src,set_field:{VM2}->eth_dst,ct(zone=2,table=42)')
    f.append('table=20,priority=90,ct_state=+trk+new-est-rel-inv,ip,nw_dst=203.0.113.10,actions=ct(commit,zone=10,nat(dst=10.254.0.1),table=21)')
    f.append('table=20,priority=0,actions=drop')
    f.append(f'table=21,priority=100,ip,nw_dst=10.254.0.1,actions=dec_ttl,set_field:{ROUTER}->eth_src,set_field:{VM1}->eth_dst,ct(zone=1,table=41)')
    f.append('table=21,priority=0,actions=drop')
    f.append(f'table=30,priority=100,dl_dst={VM1},ip,actions=ct(zone=1,table=41)')
    f.append('table=30,priority=0,actions=drop')
    for t, z, port in ((41, 1, 1), (42, 2, 2)):
        f.append(f'table={t},priority=100,ct_state=+trk+est-rel-inv,ip,actions=output:{port}')
        f.append(f'table={t},priority=90,ct_state=+trk+new-est-rel-inv,udp,tp_dst=1000,actions=ct(commit,zone={z}),output:{port}')
        f.append(f'table={t},priority=0,actions=drop')
    return '\n'.join(f) + '\n'


def check(mix, ports):
    p = {}
    for a in ports:
        k, v = a.split('=')
        rx, tx = v.split('/')
        p[k] = (float(rx), float(tx))
    rx = {k: v[0] for k, v in p.items()}
    if mix == 'tenant':
        exp = {'up': rx['vm1'] / 2, 'vm1': rx['up'] + rx['ext'] / 2, 'vm2': rx['ext'] / 2, 'ext': rx['vm1'] / 2 + rx['vm2']}
    else:
        exp = {'up': rx['vm1'], 'vm1': rx['up']}
    bad = [f'{k} sent {p[k][1]:.0f}, expected {e:.0f}' for k, e in exp.items()
           if e <= 0 or abs(p[k][1] - e) > 0.03 * e]
    print('ok' if not bad else 'ports: ' + '; '.join(bad))


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == 'flows':
        sys.stdout.write(flows(int(sys.argv[3])))
    elif len(sys.argv) >= 4 and sys.argv[1] == 'check':
        check(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
