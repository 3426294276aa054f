#!/usr/bin/env bash
# ./sluice bench tenant — the whole tenant pipeline of a hypervisor, Sluice against OVS-DPDK doing the
# same work with the flows OVN would program, and dpdk-testpmd io (the limit of the devices), same
# run, same frames, same core (CPU 1), per CPU-second of the forwarding thread.
#
# Work (TenantBench write-pcap; N flows, a third each, all established both ways; 64-byte frames,
# VXLAN 114): network VNI 100 10.254.0.0/16; vm1 (floating IP 203.0.113.10), vm2 (outbound: SNAT
# 203.0.113.1), R remote VMs behind VTEP 192.168.50.2; one security group (ingress UDP 1000, egress 1001).
#   east-west    VXLAN on "up" -> decap -> anti-spoof -> route -> SG/conntrack -> vm1;
#                vm1's reply -> SG/conntrack -> route -> encap -> up
#   floating IP  server -> 203.0.113.10 on "ext" -> DNAT -> SG/conntrack -> vm1; reply -> SG/CT -> FIP -> ext
#   SNAT         vm2 -> server -> SG/conntrack -> SNAT 203.0.113.1 -> ext; reply on ext -> un-SNAT -> SG/CT -> vm2
# Devices: every source port (up, vm1, vm2, ext) is net_pcap rx_pcap=FILE,infinite_rx=1 (the file
# replayed from memory inside the forwarding thread's own rx call, no generator), no tx file (what is
# sent is counted and freed); the forwarding thread polls the four ports round robin.
# Systems (case = flow count N):
#   testpmd-io   dpdk-testpmd --forward-mode=io over the same four pcap ports (0<->1, 2<->3): the limit
#   ovs-default, ovs-tuned   OVS-DPDK 3.1 (bench/scripts/ovs/lib.sh, own ovsdb/vswitchd/netns "sltn"):
#                brn ports vm1 vm2 ext + vx0 (VXLAN key=flow) over br-phy (port "up", VTEP 192.168.50.1,
#                static neighbour 192.168.50.2); OVN-shaped flows (bench/scripts/tenantovs.py: port
#                security, per-VM conntrack zones for the ACLs, the router's NAT zone with ct(nat) for
#                SNAT and the floating IP, one anti-spoof and one L2 flow per remote VM); default and
#                tuned profiles of lib.sh ovsl_profile (tuned: SMC on, EMC insertion per flow count,
#                every rxq pinned to the PMD)
#   sluice       TenantBench run --mix tenant, one worker
# Reference of every ratio: the better OVS. Second line (shard hand-off scaling, NAT excluded: Sluice's
# NAT takes one worker): the east-west mix (all N flows east-west, ports up and vm1) on one worker
# (sluice-ew-1w, lcore 1) and on two workers on two cores (sluice-ew-2w, lcores 0 and 1: worker 0
# polls up, worker 1 polls vm1, so every flow's two directions meet on two workers and the one not
# owning the flow hands it off). Judged by the same rule, per worker: EVERY worker >= 0.95 of its core,
# forwarded >= received in the window (a full hand-off ring drops, which rejects the run); the scaling
# = median wall Mpps of 2 workers / of 1 worker (2.0 = linear), the efficiency = the per-CPU-second rates' ratio.
#
# Acceptance (bench/scripts/accept.py): TENANT_REPS interleaved repetitions for every system (per rep:
# OVS both profiles every case, stopped; then per case testpmd, Sluice, Sluice ew 1w, 2w); a run whose
# thread got < 0.95 of its core, or that forwarded less than it received, or whose ports sent other
# than the mix sends (tenantovs.py check, OVS and Sluice) is rejected and repeated up to TENANT_RETRIES
# times; a case with no accepted run is nan, and so is the last line.
#
# Environment: TENANT_FLOWS="1000 100000 1000000" TENANT_REPS=2 TENANT_RETRIES=1 TENANT_SECONDS=3
#              TENANT_WARMUP=3 (OVS and Sluice: after every flow's connection exists, i.e. after the
#              first pass of the files; testpmd: plus 1 s per 250k flows)
#              TENANT_REMOTE_VMS=1000 TENANT_EW=1 (0: no two-worker line)
#              TENANT_SHORT=1: validation only (flows "1000 100000", 1 rep, 0 retries, 1 s windows)
#              TENANT_ONLY=ew: the second line alone (Sluice ew 1w and 2w; no OVS, testpmd or tenant mix):
#              writes bench/results/tenant-ew-<date>.md, last line ew_scaling=
# Writes bench/results/tenant-<date>.md and .png (tenant-short-... for a short run); prints
# testpmd_ratio=, ew_scaling=, then last ovs_ratio=<lowest Sluice / better OVS over the cases>.
set -uo pipefail
SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SLUICE_HOME"
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
JVM_FLAGS=${JVM_FLAGS:---enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow}
NATIVE_LIB=${SLUICE_NATIVE_LIB:-$SLUICE_HOME/native/target/libsluice.so}
BENCH_JAR=${BENCH_JAR:-$SLUICE_HOME/bench/target/benchmarks.jar}
TESTPMD=${TESTPMD:-$(command -v dpdk-testpmd || true)}
if [ "${TENANT_SHORT:-0}" = 1 ]; then
  FLOWS=${TENANT_FLOWS:-1000 100000}; REPS=${TENANT_REPS:-1}; RETRIES=${TENANT_RETRIES:-0}; SECS=${TENANT_SECONDS:-1}; WARM=${TENANT_WARMUP:-2}
else
  FLOWS=${TENANT_FLOWS:-1000 100000 1000000}; REPS=${TENANT_REPS:-2}; RETRIES=${TENANT_RETRIES:-1}; SECS=${TENANT_SECONDS:-3}; WARM=${TENANT_WARMUP:-3}
fi
RVMS=${TENANT_REMOTE_VMS:-1000}; EW=${TENANT_EW:-1}
ONLY=${TENANT_ONLY:-all}; case $ONLY in all) ;; ew) EW=1;; *) echo "tenant.sh: TENANT_ONLY must be ew (or unset)" >&2; exit 2;; esac
LCORE=1
S=$SLUICE_HOME/bench/scripts
die() { echo "tenant.sh: $*" >&2; exit 1; }
log() { echo "tenant.sh: $*" >&2; }
[ "$(id -u)" = 0 ] || die "needs root (OVS-DPDK, DPDK ports)"
[ -x "$TESTPMD" ] || die "dpdk-testpmd not found (Debian package dpdk)"
[ "$ONLY" = ew ] || [ -x /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ] || die "openvswitch-switch-dpdk not installed (apt-get install openvswitch-switch-dpdk)"
[ "$ONLY" = all ] && [ -n "$(pidof ovs-vswitchd-dpdk 2>/dev/null)" ] && die "another ovs-vswitchd-dpdk is running (pid $(pidof ovs-vswitchd-dpdk)): it would share CPU 1; run again when it is gone"
# the plot: Debian's python3-matplotlib (/usr/bin/python3 when another python3 comes first in PATH)
PLOTPY=""; for p in python3 /usr/bin/python3; do "$p" -c 'import matplotlib' 2>/dev/null && { PLOTPY=$p; break; }; done
[ -n "$PLOTPY" ] || die "python3-matplotlib not installed (apt-get install python3-matplotlib): the plot needs it"
if [ ! -f "$BENCH_JAR" ] || [ -n "$(find bench/src dataplane/src/main rules-compiler/src/main -newer "$BENCH_JAR" -type f 2>/dev/null | head -1)" ]; then
  log "building (mvn -q -pl bench -am package -DskipTests)"
  mvn -q -pl bench -am package -DskipTests >&2 || die "build failed"
fi
T_START=$(date +%s)
TMP=$(mktemp -d /tmp/sltn.XXXXXX)
TPPFX=sltn-tp$$
TP_PID=""; SL_PID=""
. "$S/ovs/lib.sh"
cleanup() {
  local p
  for p in $TP_PID $SL_PID; do kill "$p" 2>/dev/null; done
  ovsl_stop >/dev/null 2>&1
  rm -rf "$TMP" "/var/run/dpdk/${OVSL_PFX:-sltn}ovs" "/var/run/dpdk/$TPPFX"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -O2 -o "$TMP/tsc" "$S/tsc-mhz.c" || die "cannot build tsc-mhz.c"
TSC_MHZ=$("$TMP/tsc")
P=$TMP/pcap; mkdir -p "$P"
for n in $FLOWS; do
  "$JAVA" $JVM_FLAGS -cp "$BENCH_JAR" io.sluice.bench.tenant.TenantBench write-pcap --dir "$P" --flows "$n" --remote-vms "$RVMS" >&2 || die "write-pcap $n"
done
pk() { local f=$1 b=$(( $(stat -c %s "$1") - 24 )); case $f in *-up.pcap) echo $(( b / 130 ));; *) echo $(( b / 80 ));; esac; }
pkts() { local s=0 f; for f in "$P/$1-$2"-*.pcap; do s=$(( s + $(pk "$f") )); done; echo $s; }   # MIX N
warm() { echo $(( WARM + $1 / 250000 )); }   # N: testpmd's warm-up (no connections to wait for: as long as the others' first pass)
mbufs() { echo $(( $(pkts "$1" "$2") + 32768 )); }                                              # MIX N
# DPDK memory for MBUFS mbufs: without hugepages an mbuf (2.3-2.4 KB) does not cross a 4 KB page, so one per page
memmb() { echo $(( $(mbufs "$1" "$2") * 17 / 4 / 1024 + 768 )); }                                 # MIX N: 4.25 KB per mbuf
# OVS: per-port mempools (other_config:per-port-memory=true) sized by each port's requested rx queues
# (n_rxq x 2048 descriptors + ...): the shared pool holds at most 262144 mbufs, less than a 1M-flow loop;
# the pcap device has one rx queue, so OVS polls one (n_rxq only sizes the pool)
ovs_nrxq() { echo $(( ($(pk "$1") + 16384 + 2047) / 2048 )); }                                  # PCAP
ovs_mem() { local m=0 n k; for n in $FLOWS; do k=$(pkts tenant "$n"); [ "$k" -gt "$m" ] && m=$k; done   # the largest case
  echo $(( (m + 4 * (16384 + 8192)) * 17 / 4 / 1024 * 3 / 2 + 1536 )); }   # x 1.5: a pool of the previous case may not be freed yet (-m is reserved, touched only as used)

RUNS=$TMP/runs.tsv; EWR=$TMP/ew.tsv; EWW=$TMP/ew-wall.tsv; : > "$RUNS"; : > "$EWR"; : > "$EWW"
RUNLOG=$TMP/runs.txt; : > "$RUNLOG"
declare -A SETTINGS
rec() { local f=$1; shift; printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$f"; }
field() { echo "$1" | grep -o "$2=[0-9.e+-]*" | head -1 | cut -d= -f2; }
verdict() { # cpu rx tx check -> ACCEPT / REJECT ...
  python3 "$S/accept.py" run "${1:-0}" "${2:-0}" "${3:-0}" "$4"
}

# ---------------------------------------------------------------- OVS
ovs_setup() {
  OVSL_MEM=$(ovs_mem) OVSL_EXTRA_CONFIG=other_config:per-port-memory=true ovsl_start "$TMP/ovs" sltn > "$TMP/ovs-start.log" 2>&1 || { cat "$TMP/ovs-start.log" "$TMP/ovs/log/ovs-vswitchd.log" >&2 2>/dev/null; die "OVS did not start"; }
  ovsl_vsctl --if-exists del-port brn sink0
  ovsl_vsctl add-br br-phy -- set bridge br-phy datapath_type=netdev protocols=OpenFlow10,OpenFlow13 other-config:hwaddr=02:00:00:00:aa:01 || die "br-phy"
  ip -n sltnovs0 addr replace 192.168.50.1/24 dev br-phy && ip -n sltnovs0 link set br-phy up || die "br-phy address"
  ovsl_vsctl add-port brn vx0 -- set interface vx0 type=vxlan ofport_request=4 options:remote_ip=192.168.50.2 options:local_ip=192.168.50.1 options:key=flow || die "vx0"
  sleep 1
  ovsl_appctl tnl/arp/set br-phy 192.168.50.2 02:00:00:00:aa:02 >/dev/null || die "tnl/arp/set"
  printf '%s\n' 'table=0,priority=10,in_port=LOCAL,actions=output:1' 'table=0,priority=10,in_port=1,actions=LOCAL' 'table=0,priority=0,actions=drop' > "$TMP/br-phy.txt"
  ovs-ofctl -O OpenFlow13 replace-flows br-phy "$TMP/br-phy.txt" || die "br-phy flows"
  python3 "$S/tenantovs.py" flows tenant "$RVMS" > "$TMP/brn.txt" && ovsl_flows "$TMP/brn.txt" || die "brn flows"
}
ovs_ports_add() { # N: the four pcap ports (looped), rxqs pinned to the PMD when tuned
  local n=$1 aff="" k=0
  [ "$OVSL_PROFILE" = tuned ] && aff="other_config:pmd-rxq-affinity=0:1"
  ovsl_vsctl add-port br-phy up -- set Interface up type=dpdk ofport_request=1 $aff options:n_rxq=$(ovs_nrxq "$P/tenant-$n-up.pcap") options:dpdk-devargs="net_pcap$((k * 4)),rx_pcap=$P/tenant-$n-up.pcap,infinite_rx=1" \
    -- add-port brn vm1 -- set Interface vm1 type=dpdk ofport_request=1 $aff options:n_rxq=$(ovs_nrxq "$P/tenant-$n-vm1.pcap") options:dpdk-devargs="net_pcap$((k * 4 + 1)),rx_pcap=$P/tenant-$n-vm1.pcap,infinite_rx=1" \
    -- add-port brn vm2 -- set Interface vm2 type=dpdk ofport_request=2 $aff options:n_rxq=$(ovs_nrxq "$P/tenant-$n-vm2.pcap") options:dpdk-devargs="net_pcap$((k * 4 + 2)),rx_pcap=$P/tenant-$n-vm2.pcap,infinite_rx=1" \
    -- add-port brn ext -- set Interface ext type=dpdk ofport_request=3 $aff options:n_rxq=$(ovs_nrxq "$P/tenant-$n-ext.pcap") options:dpdk-devargs="net_pcap$((k * 4 + 3)),rx_pcap=$P/tenant-$n-ext.pcap,infinite_rx=1"
  local i e
  for i in up vm1 vm2 ext; do
    e=$(ovsl_vsctl get Interface "$i" error 2>/dev/null); [ -n "$e" ] && [ "$e" != '[]' ] && { echo "$i: $e"; return 1; }
    [ "$(ovsl_vsctl get Interface "$i" ofport)" -gt 0 ] 2>/dev/null || { echo "$i: no ofport"; return 1; }
  done
  return 0
}
ovs_ports_del() { ovsl_vsctl --if-exists del-port br-phy up -- --if-exists del-port brn vm1 -- --if-exists del-port brn vm2 -- --if-exists del-port brn ext; }
ovs_stats() { # -> "up=RX/TX vm1=RX/TX vm2=RX/TX ext=RX/TX" from one read of the datapath's port stats
  ovsl_appctl dpctl/show -s | awk '$1=="port" {p=$3; next} $1=="RX" && $2 ~ /^packets:/ {split($2,a,":"); r[p]=a[2]} $1=="TX" && $2 ~ /^packets:/ {split($2,a,":"); x[p]=a[2]}
    END {printf "up=%d/%d vm1=%d/%d vm2=%d/%d ext=%d/%d\n", r["up"], x["up"], r["vm1"], x["vm1"], r["vm2"], x["vm2"], r["ext"], x["ext"]}'
}
ovs_run() { # N -> "ports=... rx= tx= secs= cpu= cyc_pkt= check="
  local n=$1 a b pid tid c0 c1 t0 t1 err
  ovsl_ct_flush >/dev/null
  ovsl_appctl dpctl/ct-set-maxconns $(( 4 * n + 100000 )) >/dev/null
  err=$(ovs_ports_add "$n") || { ovs_ports_del; echo "check=attach_failed:_${err// /_}"; return; }
  # every flow established (N + 2 x N/3 connections: the VMs' zones and the router's NAT zone), then the warm-up
  local k want=$(( n + 2 * (n / 3) ))
  for k in $(seq 1500); do [ "$(ovsl_appctl dpctl/ct-get-nconns 2>/dev/null || echo 0)" -ge "$want" ] && break; sleep 0.2; done
  sleep "$WARM"
  pid=$(ovsl_pid); tid=$(ovsl_pmd_tid)
  ovsl_appctl dpif-netdev/pmd-stats-clear >/dev/null
  a=$(ovs_stats); c0=$(cut -d' ' -f1 /proc/$pid/task/$tid/schedstat); t0=$(date +%s%N)
  sleep "$SECS"
  b=$(ovs_stats); c1=$(cut -d' ' -f1 /proc/$pid/task/$tid/schedstat); t1=$(date +%s%N)
  local cy; cy=$(ovsl_pmd_cycles)
  local conns; conns=$(ovsl_appctl dpctl/ct-get-nconns 2>/dev/null)
  ovs_ports_del
  python3 - "$a" "$b" "$c0" "$c1" "$t0" "$t1" "$cy" "$TSC_MHZ" "$conns" "$S" <<'PY'
import sys, subprocess
a, b, c0, c1, t0, t1, cy, mhz, conns, s = sys.argv[1:11]
pa = {k: [int(x) for x in v.split('/')] for k, v in (w.split('=') for w in a.split())}
pb = {k: [int(x) for x in v.split('/')] for k, v in (w.split('=') for w in b.split())}
d = {k: (pb[k][0] - pa[k][0], pb[k][1] - pa[k][1]) for k in pa}
rx = sum(v[0] for v in d.values()); tx = sum(v[1] for v in d.values())
secs = (int(t1) - int(t0)) / 1e9; cpu = (int(c1) - int(c0)) / (int(t1) - int(t0))
cyc = float(cy.split()[2]) if len(cy.split()) > 2 else 0
ports = ' '.join(f'{k}={v[0]}/{v[1]}' for k, v in d.items())
chk = subprocess.run(['python3', s + '/tenantovs.py', 'check', 'tenant'] + ports.split(), capture_output=True, text=True).stdout.strip()
pc = rx / secs / cpu / 1e6 if cpu > 0 and secs > 0 else 0
print(f'ports={ports.replace(" ", ",")} rx={rx} tx={tx} secs={secs:.3f} cpu={cpu:.3f} cyc_pkt={cyc:.0f} tsc_ns_pkt={cyc * 1e3 / float(mhz):.1f} conns={conns} percpu={pc:.3f} check={chk.replace(" ", "_")}')
PY
}
run_ovs_rep() { # rep
  local r=$1 prof n line st try pc ck
  ovs_setup
  for prof in default tuned; do
    for n in $FLOWS; do
      ovsl_profile "$prof" "$n"; SETTINGS[$prof-$n]=$OVSL_SETTINGS
      for try in $(seq 0 "$RETRIES"); do
        line=$(ovs_run "$n")
        ck=$(echo "$line" | grep -o 'check=[^ ]*' | cut -d= -f2- | tr _ ' ')
        pc=$(field "$line" percpu); [ -n "$pc" ] || pc=nan
        st=$(verdict "$(field "$line" cpu)" "$(field "$line" rx)" "$(field "$line" tx)" "${ck:-no check}")
        echo "rep=$r ovs-$prof flows=$n try=$try $line $st" >> "$RUNLOG"; log "rep $r ovs-$prof $n: per-CPU $pc Mpps, cpu $(field "$line" cpu): $st"
        [ "$st" = ACCEPT ] && break
      done
      rec "$RUNS" "$n" "ovs-$prof" "$r" "$st" "$pc" "$line"
    done
  done
  { echo "OVS settings (ovs-vsctl get Open_vSwitch . other_config):"; ovsl_vsctl get Open_vSwitch . other_config; } > "$TMP/ovs-settings.txt" 2>&1
  ovsl_stop
}

# ---------------------------------------------------------------- testpmd io
testpmd_cmd() { # N
  local n=$1 mb mem
  mb=$(mbufs tenant "$n"); mem=$(memmb tenant "$n")
  echo "timeout -s INT $(( $(warm "$n") + SECS + 120 )) $TESTPMD -l 0,$LCORE --main-lcore 0 --no-huge -m $mem --no-pci --no-shconf --file-prefix $TPPFX --vdev net_pcap0,rx_pcap=$P/tenant-$n-up.pcap,infinite_rx=1 --vdev net_pcap1,rx_pcap=$P/tenant-$n-vm1.pcap,infinite_rx=1 --vdev net_pcap2,rx_pcap=$P/tenant-$n-vm2.pcap,infinite_rx=1 --vdev net_pcap3,rx_pcap=$P/tenant-$n-ext.pcap,infinite_rx=1 -- --forward-mode=io --nb-cores=1 --total-num-mbufs=$mb --burst=32 --rxd=1024 --txd=1024 --auto-start --stats-period 1"
}
run_testpmd() { # N -> "rx= tx= cpu= percpu="  (accumulated over the run / the lcore thread's CPU time; cpu: share over the window)
  local n=$1 out=$TMP/testpmd.out pid="" tid="" k t c0 c1 t0 t1 ticks=0
  $(testpmd_cmd "$n") > "$out" 2>&1 < /dev/null &
  TP_PID=$!
  for k in $(seq 600); do
    [ -n "$pid" ] || pid=$(pgrep -P "$TP_PID" -x dpdk-testpmd || true)
    if [ -n "$pid" ]; then
      for t in /proc/"$pid"/task/*; do [ "$(cat "$t"/comm 2>/dev/null)" = "rte-worker-$LCORE" ] && tid=${t##*/}; done
    fi
    [ -n "$tid" ] && grep -q "Press enter\|Port statistics" "$out" 2>/dev/null && break
    sleep 0.05
  done
  sleep "$(warm "$n")"
  c0=$(cut -d' ' -f1 /proc/"$pid"/task/"$tid"/schedstat 2>/dev/null || echo 0); t0=$(date +%s%N)
  sleep "$SECS"
  c1=$(cut -d' ' -f1 /proc/"$pid"/task/"$tid"/schedstat 2>/dev/null || echo 0); t1=$(date +%s%N)
  [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null   # stop now (the timeout is only a bound: loading a large pcap takes long)
  while kill -0 "$TP_PID" 2>/dev/null; do
    t=$(cut -d' ' -f1 /proc/"$pid"/task/"$tid"/schedstat 2>/dev/null) && [ -n "$t" ] && ticks=$t
    sleep 0.05
  done
  wait "$TP_PID"; TP_PID=""
  rm -rf "/var/run/dpdk/$TPPFX"
  awk -v ns="$ticks" -v c=$((c1 - c0)) -v t=$((t1 - t0)) '
    /Accumulated forward statistics/ { acc = 1 }
    acc && /RX-packets:/ { rx = $2 }
    acc && /TX-packets:/ { tx = $2; acc = 0 }
    END { printf "rx=%d tx=%d cpu=%.3f percpu=%.3f\n", rx, tx, (t > 0 ? c / t : 0), (ns > 0 ? rx / (ns / 1e9) / 1e6 : 0) }' "$out"
}

# ---------------------------------------------------------------- Sluice
sluice_cmd() { # MIX N WORKERS
  echo "$JAVA $JVM_FLAGS -Dsluice.native.lib=$NATIVE_LIB -cp $BENCH_JAR io.sluice.bench.tenant.TenantBench run --mix $1 --dir $P --flows $2 --remote-vms $RVMS --workers $3 --lcore $LCORE --warmup $WARM --seconds $SECS --mbufs $(mbufs "$1" "$2") --mem $(memmb "$1" "$2")"
}
run_sluice() { # MIX N WORKERS LOG -> "rx= tx= cpu= percpu= wall= check="
  local lg=$4 ports ck
  timeout 600 $(sluice_cmd "$1" "$2" "$3") > "$lg" 2>&1 < /dev/null &
  SL_PID=$!; wait "$SL_PID"; SL_PID=""
  ports=$(sed -n 's/^window ports //p' "$lg")
  if [ -z "$ports" ]; then echo "check=run_failed:_$(tail -1 "$lg" | tr ' ' _)"; return; fi
  ck=$(python3 "$S/tenantovs.py" check "$1" $ports)
  grep -q '^window rx=.* drops=0 ' "$lg" || ck="drops: $(grep '^window rx=' "$lg")"
  echo "rx=$(sed -n 's/^window rx=\([0-9]*\) .*/\1/p' "$lg") tx=$(sed -n 's/^window rx=[0-9]* tx=\([0-9]*\) .*/\1/p' "$lg") cpu=$(sed -n 's/^worker cpu share=//p' "$lg") percpu=$(sed -n 's/^cpu_mpps=//p' "$lg") wall=$(sed -n 's/^mpps=//p' "$lg") check=${ck// /_}"
}
measure() { # REP SYSTEM N KIND(testpmd|sluice) [MIX WORKERS]
  local r=$1 sys=$2 n=$3 kind=$4 try line st pc ck
  for try in $(seq 0 "$RETRIES"); do
    if [ "$kind" = testpmd ]; then run_testpmd "$n" > "$TMP/line"; else run_sluice "$5" "$n" "$6" "$TMP/$sys-$n-$r-$try.log" > "$TMP/line"; fi
    line=$(cat "$TMP/line")
    ck=$(echo "$line" | grep -o 'check=[^ ]*' | cut -d= -f2- | tr _ ' '); [ "$kind" = testpmd ] && ck=ok
    pc=$(field "$line" percpu); [ -n "$pc" ] || pc=nan
    st=$(verdict "$(field "$line" cpu)" "$(field "$line" rx)" "$(field "$line" tx)" "${ck:-no check}")
    echo "rep=$r $sys flows=$n try=$try $line $st" >> "$RUNLOG"; log "rep $r $sys $n: per-CPU $pc Mpps, cpu $(field "$line" cpu): $st"
    [ "$st" = ACCEPT ] && break
  done
  case $sys in
    sluice-ew-*) rec "$EWR" "$n" "$sys" "$r" "$st" "$pc" "$line"; rec "$EWW" "$n" "$sys" "$r" "$st" "$(field "$line" wall)" "$line";;
    *) rec "$RUNS" "$n" "$sys" "$r" "$st" "$pc" "$line";;
  esac
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$REPS"); do
  if [ "$ONLY" = all ]; then
    log "repetition $r/$REPS: OVS-DPDK (default, tuned)"
    run_ovs_rep "$r"
    sleep 1
  fi
  for n in $FLOWS; do
    if [ "$ONLY" = all ]; then
      log "repetition $r/$REPS: testpmd io, Sluice ($n flows)"
      measure "$r" testpmd-io "$n" testpmd
      measure "$r" sluice "$n" sluice tenant 1
    fi
    if [ "$EW" = 1 ]; then
      measure "$r" sluice-ew-1w "$n" sluice ew 1
      measure "$r" sluice-ew-2w "$n" sluice ew 2
    fi
  done
done
WALL=$(( $(date +%s) - T_START ))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

TABLE=$(python3 "$S/accept.py" table "$RUNS" sluice ovs)
TPTABLE=$(python3 "$S/accept.py" table "$RUNS" sluice testpmd)
EWTABLE=""; EWWTABLE=""
if [ "$EW" = 1 ]; then
  EWTABLE=$(python3 "$S/accept.py" table "$EWR" sluice-ew-2w sluice-ew-1w)
  EWWTABLE=$(python3 "$S/accept.py" table "$EWW" sluice-ew-2w sluice-ew-1w)
fi
SHORT=""; { [ "${TENANT_SHORT:-0}" = 1 ] || [ "$REPS" -lt 2 ] || [ "$SECS" -lt 3 ]; } && SHORT=short-
DATE=$(date -u +%Y%m%d-%H%M)
OUT=$SLUICE_HOME/bench/results/tenant-$SHORT$DATE.md; PNG=${OUT%.md}.png
report_head() { # TITLE COMMAND-PREFIX COMMAND-SUFFIX: title, short-run note, command, machine
  echo "# $1 — $(date -u +%F\ %H:%M) UTC"
  echo
  [ -n "$SHORT" ] && { echo "**Short validation run** (fewer/shorter repetitions than the defaults, on a machine loaded by other work): it shows the bench works, its figures are not measurements."; echo; }
  echo "Command: \`$2$( [ "${TENANT_SHORT:-0}" = 1 ] && echo 'TENANT_SHORT=1 ')./sluice bench tenant\` (bench/scripts/tenant.sh) TENANT_FLOWS=\"$FLOWS\" TENANT_REPS=$REPS TENANT_RETRIES=$RETRIES TENANT_SECONDS=$SECS TENANT_WARMUP=$WARM TENANT_REMOTE_VMS=$RVMS$3; wall time ${WALL} s"
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), TSC $TSC_MHZ MHz; load before: $LOAD_BEFORE, after: $LOAD_AFTER; sluice $(git rev-parse --short HEAD 2>/dev/null || echo ?)$(git diff --quiet 2>/dev/null || echo ' (dirty)'); $(ovs-vswitchd --version 2>/dev/null | head -1)"
}
ew_tables() { # the second line's two tables (wall, per CPU-second)
  echo "Wall Mpps (ratio column = **scaling**, 2 workers / 1 worker; accept.py's column label says per-CPU, the figures are wall Mpps):"
  echo
  echo "$EWWTABLE"
  echo
  echo "Per CPU-second (summed over the workers; ratio column = efficiency, 2 workers / 1 worker):"
  echo
  echo "$EWTABLE"
}
if [ "$ONLY" = ew ]; then   # the second line alone: no plot (it needs the first line's runs), no OVS/testpmd tables
  OUT=$SLUICE_HOME/bench/results/tenant-ew-$SHORT$DATE.md
  {
    report_head "Tenant pipeline, second line alone: Sluice east-west on two workers (shard hand-off) vs one" "TENANT_ONLY=ew " ""
    echo
    echo "Work and acceptance as the second line of \`./sluice bench tenant\` (bench/scripts/tenant.sh header): east-west mix"
    echo "(decap, anti-spoof, route, SG/conntrack, encap) on net_pcap infinite_rx ports up and vm1; 1 worker (lcore 1) polls both;"
    echo "2 workers: worker 0 (lcore 0) polls up, worker 1 (lcore 1) polls vm1, the one not owning a flow hands it off. A run is"
    echo "accepted when EVERY worker got >= 0.95 of its core, forwarded >= received and nothing was dropped in the window."
    echo "Per worker: handoff out/in/full (drops) and rx_pauses (rx polls skipped while the ring to the other worker had no room)."
    echo
    ew_tables
    echo
    echo "Commands:"
    echo '```'
    for n in $FLOWS; do sluice_cmd ew "$n" 1; sluice_cmd ew "$n" 2; done
    echo '```'
    echo "Every run (with the hand-off counters of each two-worker run's window):"
    echo '```'; cat "$RUNLOG"; echo '```'
    for f in "$TMP"/sluice-ew-2w-*.log; do [ -f "$f" ] && { echo "$(basename "$f"): $(grep '^worker [0-9] cpu share' "$f" | tr '\n' ';')"; }; done
  } > "$OUT"
  cat "$OUT" >&2
  log "results: $OUT (wall ${WALL} s)"
  echo "$EWWTABLE" | tail -1 | sed 's/^min_ratio=/ew_scaling=/'
  exit 0
fi
"$PLOTPY" "$S/tenantplot.py" "$RUNS" "$EWR" "$EWW" "$PNG" "$SHORT" || log "plot failed"
{
  report_head "Tenant pipeline: Sluice vs OVS-DPDK (OVN-shaped flows) vs dpdk-testpmd io, same run" "" " TENANT_EW=$EW"
  echo
  echo "Plot: [$(basename "$PNG")]($(basename "$PNG"))"
  echo
  echo "Work (TenantBench write-pcap, N flows: a third each, every one established both ways, 64-byte frames, VXLAN 114):"
  echo "east-west (VXLAN on up -> decap -> anti-spoof -> route -> SG/conntrack -> vm1; reply -> SG/CT -> route -> encap -> up),"
  echo "floating IP (ext -> DNAT -> SG/CT -> vm1; reply -> SG/CT -> FIP -> ext), SNAT (vm2 -> SG/CT -> SNAT -> ext; reply -> un-SNAT -> SG/CT -> vm2);"
  echo "$RVMS remote VMs behind VTEP 192.168.50.2. Four net_pcap infinite_rx ports (up, vm1, vm2, ext) polled round robin by one"
  echo "forwarding thread on CPU 1. Per-CPU rate = packets received / CPU time of the forwarding thread (OVS PMD: schedstat;"
  echo "Sluice worker: its thread CPU time; testpmd: the lcore thread's CPU time over the whole run, accumulated RX)."
  echo "Acceptance (bench/scripts/accept.py): thread >= 0.95 of its core, forwarded >= received, each port sent what the mix sends"
  echo "there (tenantovs.py check, OVS and Sluice); $REPS interleaved repetitions, a rejected run repeated up to $RETRIES time(s);"
  echo "a case with no accepted run is nan."
  echo
  echo "## Sluice / better OVS (per CPU-second)"
  echo
  echo "$TABLE"
  echo
  echo "## Sluice / testpmd io (per CPU-second)"
  echo
  echo "$TPTABLE"
  if [ "$EW" = 1 ]; then
    echo
    echo "## Second line: two workers (east-west mix, no NAT), shard hand-off"
    echo
    echo "Sluice's NAT takes one worker (overlay.external), so the two-worker line runs the east-west half of the pipeline"
    echo "(decap, anti-spoof, route, SG/conntrack, encap) over N east-west flows on ports up and vm1 (each with two queues: its"
    echo "own tx queue per worker; the second rx queue replays one frame and is polled by no one). 1 worker: lcore 1 polls both;"
    echo "2 workers: worker 0 (lcore 0) polls up, worker 1 (lcore 1) polls vm1, so a flow's two directions arrive on two workers"
    echo "and the one not owning the flow's conntrack shard hands it off. Judged by the same rule with EVERY worker >= 0.95 of its"
    echo "core and forwarded >= received (a full hand-off ring drops: rejected). No generator competes: net_pcap replays inside"
    echo "each worker's own rx call. Scaling = wall Mpps 2 workers / 1 worker (2.0 = linear); efficiency = per-CPU-second ratio."
    echo
    ew_tables
  fi
  echo
  echo "OVS settings per profile and flow count:"
  echo '```'; for k in "${!SETTINGS[@]}"; do echo "$k: ${SETTINGS[$k]}"; done | sort; cat "$TMP/ovs-settings.txt" 2>/dev/null; echo '```'
  echo "OVS flows (bench/scripts/tenantovs.py flows tenant $RVMS; first 40 lines; brn, and br-phy: LOCAL <-> up):"
  echo '```'; python3 "$S/tenantovs.py" flows tenant "$RVMS" | head -40; echo '```'
  echo
  echo "Commands:"
  echo '```'
  for n in $FLOWS; do
    echo "$JAVA $JVM_FLAGS -cp $BENCH_JAR io.sluice.bench.tenant.TenantBench write-pcap --dir $P --flows $n --remote-vms $RVMS"
    testpmd_cmd "$n"; sluice_cmd tenant "$n" 1; [ "$EW" = 1 ] && { sluice_cmd ew "$n" 1; sluice_cmd ew "$n" 2; }
  done
  echo '```'
  echo "The runs as accept.py and tenantplot.py read them (runs.tsv, ew.tsv, ew-wall.tsv; the plot again: split these"
  echo "three blocks into files and run \`bench/scripts/tenantplot.py runs.tsv ew.tsv ew-wall.tsv out.png\`):"
  for f in "$RUNS" "$EWR" "$EWW"; do echo '```'; cut -f1-5 "$f"; echo '```'; done
  echo "Every run (OVS: ports=P=rx/tx in the window, cpu = PMD share of CPU 1, cyc_pkt = PMD processing cycles per packet, tsc_ns_pkt at the TSC rate):"
  echo '```'; cat "$RUNLOG"; echo '```'
} > "$OUT"
cat "$OUT" >&2
log "results: $OUT, plot: $PNG (wall ${WALL} s)"
echo "$TPTABLE" | tail -1 | sed 's/^min_ratio=/testpmd_ratio=/'
[ "$EW" = 1 ] && echo "$EWWTABLE" | tail -1 | sed 's/^min_ratio=/ew_scaling=/'
echo "$TABLE" | tail -1 | sed 's/^min_ratio=/ovs_ratio=/'
