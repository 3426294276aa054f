#!/bin/bash
# ./sluice bench vms: iperf3 TCP between two real QEMU guests (bench/vm/build-guest.sh; TCG software
# emulation, 1 vCPU, 256 MB each) on vhost-user ports, through Sluice and through OVS-DPDK
# (dpdkvhostuserclient ports), with the guests' TSO off (tso=0) and on (tso=1), in the same run.
#
# The guests are the same QEMU command lines for both systems: QEMU is the vhost-user socket server
# (server=on), the data plane the client (Sluice: net_vhost ...,client=1; OVS: dpdkvhostuserclient).
# Guest A runs `iperf3 -c B -t SECS -J`, guest B `iperf3 -s`; the bytes are what iperf3's receiver
# reports (end.sum_received). CPU: both QEMUs pinned to CPU 0, the data plane on CPU 1 (Sluice: the
# JVM with its worker on lcore 1; OVS: main threads lcore 0, the PMD on CPU 1).
#   Sluice: `Main run` (what ./sluice run starts): the overlay, both guests VMs of one project, in its
#           default security group (conntrack on both ports), idle strategy backoff.
#   OVS:    bridge brn (netdev), actions=NORMAL (L2 learning switch, no conntrack); tso=1 is
#           other_config:userspace-tso-enable=true.
# tso=1 for Sluice needs multi-segment mbufs and the offload flags (the vhost PMD then hands over
# 64 KB chains); a build without them (no HEADERS_SPAN_SEGMENTS drop reason) runs tso=0 only and its
# tso=1 figures are nan.
# Per run: Gbit/s (receiver bytes * 8 / receiver seconds), the data plane's CPU-seconds per GB moved
# (its whole process: utime+stime over the iperf3 window), and host CPU-seconds per GB (data plane +
# both QEMUs). Acceptance: a run is accepted only when every other process (utime+stime of each
# /proc/PID/stat, snapshots at both ends of the window) ran at most 0.05 of the machine's two cores (else other load, not the systems, set the figures), and the transfer moved
# at least 1 MB. (Not the data-plane thread's share, as in the packet benchmarks: here the guests
# are the bound, Sluice's backoff worker sleeps while it waits for them, and how busy the guests are
# is itself a result: a slower switch leaves them idle.) The figure per system and case is the median of the accepted
# runs; the last line is ovs_ratio=<Sluice/OVS Gbit/s, tso=1> (nan when either has no accepted run).
#
# Env: REPS (3) runs per system and case, interleaved; SECS (10) iperf3 seconds; CASES ("0 1").
set -uo pipefail
HERE=$(cd "$(dirname "$0")/../.." && pwd)
. "$HERE/bench/scripts/ovs/lib.sh"
REPS=${REPS:-3}; SECS=${SECS:-10}; CASES=${CASES:-"0 1"}
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
SLUICE_JAR=${SLUICE_JAR:-$HERE/dataplane/target/sluice.jar}
NATIVE_LIB=${SLUICE_NATIVE_LIB:-$HERE/native/target/libsluice.so}
read -r -a JFLAGS <<< "${JVM_FLAGS:---enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow}"
PFX=vmb$$
TMP=$(mktemp -d /tmp/sluice-bench-vms.XXXXXX)
STAMP=$(date -u +%Y%m%d-%H%M)
RESULTS=$HERE/bench/results/vms-$STAMP.md
CMDLINE="./sluice bench vms${REPS:+ (REPS=$REPS SECS=$SECS CASES=\"$CASES\")}"
PIDS=""
log() { echo "bench vms: $*" >&2; }
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  ovsl_stop 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

IMG=$("$HERE/bench/vm/build-guest.sh" | tail -1) || { log "guest build failed"; exit 1; }
command -v ovs-vsctl >/dev/null && [ -x "$OVSL_VSWITCHD" ] || { log "needs openvswitch-switch-dpdk"; exit 1; }
SLUICE_TSO=1
grep -q HEADERS_SPAN_SEGMENTS "$HERE/dataplane/src/main/java/io/sluice/dataplane/pipeline/DropReason.java" || SLUICE_TSO=0

cpu_ticks() { # PID...: utime+stime of the processes, in clock ticks
  local t=0 p; for p in "$@"; do [ -r /proc/$p/stat ] && t=$((t + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
HZ=$(getconf CLK_TCK)
# every process's utime+stime ("pid ticks" lines) into FILE: what else ran is the difference of two snapshots
proc_ticks() { # FILE
  python3 -c '
import glob, sys
out = []
for f in glob.glob("/proc/[0-9]*/stat"):
    try:
        l = open(f).read()
    except OSError:
        continue
    p = l[l.rindex(")") + 2:].split()
    out.append(f.split("/")[2] + " " + str(int(p[11]) + int(p[12])))
open(sys.argv[1], "w").write("\n".join(out) + "\n")' "$1"; }

# guests NAME SOCK MAC IP ROLE [PEER]: one QEMU, pinned to CPU 0, QEMU the vhost-user server
start_guest() {
  local name=$1 sock=$2 mac=$3 ip=$4 role=$5 peer=${6:-}
  taskset -c 0 qemu-system-x86_64 -accel tcg -cpu qemu64 -m 256 -smp 1 -display none -monitor none -serial stdio -no-reboot \
    -kernel "$IMG/vmlinux" -initrd "$IMG/initramfs.gz" \
    -append "console=ttyS0 quiet panic=-1 vkg_ip=$ip/24 vkg_role=$role vkg_peer=$peer vkg_time=$SECS vkg_iperf=-J" \
    -object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
    -chardev socket,id=c0,path="$sock",server=on,wait=off -netdev vhost-user,id=n0,chardev=c0 \
    -device "virtio-net-pci,netdev=n0,mac=$mac,vectors=0" < /dev/null > "$TMP/guest-$name.log" 2>&1 &
  echo $!
}

# one transfer with the data plane DP_PID already running; prints "gbps dp_cpu_s host_cpu_s bytes other_load"
transfer() { # DIR DP_PID
  local d=$1 dp=$2 qa qb k c0 q0 t0 c1 q1 t1
  rm -f "$TMP/guest-A.log" "$TMP/guest-B.log"
  qb=$(start_guest B "$d/b.sock" 52:54:00:00:00:0b 10.0.1.12 server); PIDS="$PIDS $qb"
  qa=$(start_guest A "$d/a.sock" 52:54:00:00:00:0a 10.0.1.11 client 10.0.1.12); PIDS="$PIDS $qa"
  for k in $(seq 3000); do grep -qa 'vkg: iperf3 TCP' "$TMP/guest-A.log" 2>/dev/null && break; kill -0 "$qa" 2>/dev/null || break; sleep 0.1; done
  proc_ticks "$TMP/procs0"; c0=$(cpu_ticks "$dp"); q0=$(cpu_ticks "$qa" "$qb"); t0=$(date +%s%N)
  for k in $(seq $(( (SECS + 60) * 10 ))); do grep -qa 'vkg: DONE' "$TMP/guest-A.log" && break; kill -0 "$qa" 2>/dev/null || break; sleep 0.1; done
  c1=$(cpu_ticks "$dp"); q1=$(cpu_ticks "$qa" "$qb"); t1=$(date +%s%N); proc_ticks "$TMP/procs1"
  kill "$qa" "$qb" 2>/dev/null; wait "$qa" "$qb" 2>/dev/null
  cp "$TMP/guest-A.log" "$d/guest-A.log" 2>/dev/null
  python3 - "$TMP/guest-A.log" $((c1 - c0)) $((q1 - q0)) $((t1 - t0)) "$HZ" "$TMP/procs0" "$TMP/procs1" "$dp $qa $qb $$" <<'PY'
import json, re, sys
log, dp, q, ns, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
def snap(f):
    d = {}
    for l in open(f):
        p = l.split()
        if len(p) == 2: d[p[0]] = int(p[1])
    return d
s0, s1, ours = snap(sys.argv[6]), snap(sys.argv[7]), set(sys.argv[8].split())
busy = sum(t - s0.get(p, 0) for p, t in s1.items() if p not in ours and t >= s0.get(p, 0))
t = open(log, errors='replace').read().replace('\r', '')
b, s = 0, 0.0
i, j = t.find('{'), t.find('vkg: DONE')
try:
    e = json.loads(t[i:j])['end']['sum_received']; b, s = int(e['bytes']), float(e['seconds'])
except Exception:
    pass
gb = b / 1e9
# what every other process ran over the window (both CPUs), as a share of the two cores
share = (busy / hz) / (2 * ns / 1e9) if ns > 0 else 1
print(f"{(b * 8 / s / 1e9) if s > 0 else 0:.3f} {((dp / hz) / gb) if gb > 0 else float('nan'):.2f} {(((dp + q) / hz) / gb) if gb > 0 else float('nan'):.2f} {b} {share:.2f}")
PY
}

sluice_run() { # TSO REP
  local tso=$1 rep=$2 d=$TMP/sluice-$1-$2 dp k
  mkdir -p "$d"
  cat > "$d/sluice.yaml" <<EOF
eal: ["--no-huge", "-m", "1024", "--no-pci", "--no-shconf", "-l", "1"]
burst-size: 32
idle-strategy: backoff
mbufs: 16383
counters-file: $d/counters.dat
metrics: {listen: "off"}
ports:
  - {name: up, device: "net_ring0"}
  - {name: a,  device: "net_vhost0,iface=$d/a.sock,client=1,tso=$tso"}
  - {name: b,  device: "net_vhost1,iface=$d/b.sock,client=1,tso=$tso"}
workers:
  - {lcore: 1, rx: [up, a, b]}
overlay:
  uplink: up
  underlay-ip: 192.168.50.1/24
  underlay-mac: "02:00:00:00:aa:01"
  router-mac: "02:00:00:00:ff:01"
  networks:
    - name: blue
      vni: 100
      cidr: 10.0.0.0/16
      subnets: [{name: s, cidr: 10.0.1.0/24, gateway: 10.0.1.1}]
      vms:
        - {name: a, subnet: s, mac: "52:54:00:00:00:0a", ip: 10.0.1.11, port: a}
        - {name: b, subnet: s, mac: "52:54:00:00:00:0b", ip: 10.0.1.12, port: b}
security-groups: {}
EOF
  SLUICE_CMD="taskset -c 1 $JAVA ${JFLAGS[*]} -XX:+UseZGC -Dsluice.native.lib=$NATIVE_LIB -Dsluice.home=$HERE -Dsluice.conntrack.dir=$d -cp $SLUICE_JAR io.sluice.dataplane.Main run $d/sluice.yaml"
  $SLUICE_CMD > "$d/out.txt" 2>&1 &
  dp=$!; PIDS="$PIDS $dp"
  for k in $(seq 600); do grep -q '^sluice: ready' "$d/out.txt" && break; kill -0 $dp 2>/dev/null || break; sleep 0.1; done
  if ! grep -q '^sluice: ready' "$d/out.txt"; then log "sluice did not start: $(tail -3 "$d/out.txt" | tr '\n' ' ')"; echo "0 nan nan 0 0"; kill $dp 2>/dev/null; return; fi
  transfer "$d" "$dp"
  kill -TERM $dp 2>/dev/null; for k in $(seq 100); do kill -0 $dp 2>/dev/null || break; sleep 0.1; done; kill -9 $dp 2>/dev/null
}

ovs_run() { # TSO REP
  local tso=$1 rep=$2 d=$TMP/ovs-$1-$2
  mkdir -p "$d"
  OVSL_OTHER_CONFIG=""; [ "$tso" = 1 ] && OVSL_OTHER_CONFIG="other_config:userspace-tso-enable=true"
  if ! ovsl_start "$d/ovs" "$PFX" >"$d/ovs-start.txt" 2>&1; then log "OVS did not start: $(tail -3 "$d/ovs-start.txt" | tr '\n' ' ')"; ovsl_stop; echo "0 nan nan 0 0"; return; fi
  ovsl_vsctl add-port brn vhua -- set Interface vhua type=dpdkvhostuserclient ofport_request=3 options:vhost-server-path="$d/a.sock" \
    -- add-port brn vhub -- set Interface vhub type=dpdkvhostuserclient ofport_request=4 options:vhost-server-path="$d/b.sock"
  ovs-ofctl -O OpenFlow13 replace-flows brn - <<< "priority=0,actions=NORMAL"
  # every OVS thread on CPU 1 with its PMD, as Sluice's whole JVM is: CPU 0 is the guests'
  taskset -a -p -c 1 "$(ovsl_pid)" > "$d/taskset.txt" 2>&1
  transfer "$d" "$(ovsl_pid)"
  ovsl_vsctl get Open_vSwitch . other_config > "$d/ovs-settings.txt" 2>&1
  ovsl_stop
}

log "guest image $IMG; results -> $RESULTS; Sluice tso=1 $([ $SLUICE_TSO = 1 ] && echo "on" || echo "not supported by this build: nan")"
: > "$TMP/runs.tsv"
for tso in $CASES; do
  for rep in $(seq "$REPS"); do
    for sys in sluice ovs; do
      if [ "$sys" = sluice ] && [ "$tso" = 1 ] && [ "$SLUICE_TSO" = 0 ]; then continue; fi
      r=$(${sys}_run "$tso" "$rep" | tail -1)
      read -r gbps dpc hostc bytes share <<< "$r"
      st=ACCEPT
      awk -v s="$share" 'BEGIN{exit !(s > 0.05)}' && st="REJECT other processes $share > 0.05 of 2 cores"
      [ "${bytes:-0}" -ge 1000000 ] 2>/dev/null || st="REJECT transfer failed (bytes ${bytes:-0})"
      printf 'tso=%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tso" "$sys" "$rep" "$st" "$gbps" "$dpc" "$hostc" "$bytes" >> "$TMP/runs.tsv"
      log "tso=$tso $sys #$rep: $gbps Gbit/s, data plane $dpc CPU-s/GB, host $hostc CPU-s/GB, $bytes B, other processes $share of 2 cores: $st"
    done
  done
done

summary=$(python3 - "$TMP/runs.tsv" "$CASES" <<'PY'
import statistics, sys
rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[1]) if l.strip()]
cases = ['tso=' + c for c in sys.argv[2].split()]
def med(case, sysname, col):
    v = [float(r[col]) for r in rows if r[0] == case and r[1] == sysname and r[3] == 'ACCEPT']
    return statistics.median(v) if v else float('nan')
print('| case | Sluice Gbit/s | OVS Gbit/s | Sluice/OVS | Sluice data-plane CPU-s/GB | OVS data-plane CPU-s/GB | Sluice host CPU-s/GB | OVS host CPU-s/GB | accepted runs (Sluice/OVS) |')
print('|---|---|---|---|---|---|---|---|---|')
ratio = {}
for c in cases:
    s, o = med(c, 'sluice', 4), med(c, 'ovs', 4)
    ratio[c] = s / o if o == o and s == s and o > 0 else float('nan')
    n = lambda sysname: sum(1 for r in rows if r[0] == c and r[1] == sysname and r[3] == 'ACCEPT')
    t = lambda sysname: sum(1 for r in rows if r[0] == c and r[1] == sysname)
    print(f"| {c} | {s:.3f} | {o:.3f} | {ratio[c]:.2f} | {med(c,'sluice',5):.2f} | {med(c,'ovs',5):.2f} | {med(c,'sluice',6):.2f} | {med(c,'ovs',6):.2f} | {n('sluice')}/{t('sluice')}, {n('ovs')}/{t('ovs')} |")
r = ratio.get('tso=1', float('nan'))
print(f"ovs_ratio={r:.2f}" if r == r else "ovs_ratio=nan")
PY
)
{
  echo "# bench vms $STAMP"
  echo
  echo "Command: \`$CMDLINE\` (bench/scripts/vms.sh). Peer in the same run: OVS-DPDK $(ovs-vswitchd --version 2>/dev/null | head -1 | awk '{print $NF}') dpdkvhostuserclient ports, bridge actions=NORMAL."
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load at end: $(cut -d' ' -f1-3 /proc/loadavg); sluice $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo ?); $(qemu-system-x86_64 --version | head -1); guest: $(ls "$IMG"/kernel/boot/ 2>/dev/null | grep vmlinuz | head -1), TCG, 1 vCPU, both QEMUs on CPU 0."
  echo "Sluice: \`Main run\`, overlay (one project, both guests in its default security group: conntrack), worker on lcore 1, idle-strategy backoff; tso=1 for Sluice: $([ $SLUICE_TSO = 1 ] && echo measured || echo "not supported by this build (nan)")."
  echo "Each run: guest A \`iperf3 -c B -t $SECS -J\`; Gbit/s from the receiver's bytes and seconds; CPU-s/GB over the iperf3 window (data plane: its whole process; host: data plane + both QEMUs). Accepted when every other process together ran <= 0.05 of the two cores (utime+stime from /proc/PID/stat at both ends of the window) and >= 1 MB moved; median of accepted runs."
  echo
  echo "$summary"
  echo
  echo "Runs (case, system, rep, verdict, Gbit/s, data-plane CPU-s/GB, host CPU-s/GB, bytes):"
  echo
  echo '```'
  cat "$TMP/runs.tsv"
  echo '```'
} > "$RESULTS"
echo "$summary"
log "written $RESULTS"
