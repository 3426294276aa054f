#!/usr/bin/env bash
# ./sluice bench overlay — end-to-end rate of Sluice's overlay pipeline (VXLAN decap -> route -> VM
# port, and VM port -> route -> VXLAN encap) against dpdk-testpmd --forward-mode=io (the limit of
# the device) and Open vSwitch with DPDK doing the same VXLAN decap / encap, all three in this run,
# on the same frames, the same kind of device and the same core (CPU 1):
#
#  - the frames: OverlayE2E write-pcap writes decap-N.pcap (114-byte VXLAN, VNI 100, from the allowed
#    VTEP 192.168.50.2 to 192.168.50.1 / 02:00:00:00:aa:01, inner 64-byte UDP remote VM -> local VM)
#    and encap-N.pcap (64-byte UDP local VM -> remote VM) over N inner flows (UDP ports vary per
#    flow, flow k between the local VM and remote VM k % R of the R=OVERLAY_REMOTE_VMS VMs behind
#    the remote VTEP, so Sluice's anti-spoof / route tables hold R remote VMs; decap: the outer
#    source port varies too);
#  - the device: net_pcap rx_pcap=FILE,infinite_rx=1 (the pcap replayed from memory, one copy per
#    packet) into one forwarding core, out to a net_null no-rx=1 sink;
#  - testpmd io: pcap -> null; Sluice (OverlayE2E --pcap): decap: uplink=pcap -> parse -> decap ->
#    anti-spoof -> route -> VM port=null; encap: VM port=pcap -> ... -> encap -> uplink=null;
#    OVS-DPDK 3.1 (the harness bench/scripts/ovs copied to a scratch dir, prefixes renamed
#    to slov..., underlay addresses / VNI changed to Sluice's): decap: pcap0 on br-phy -> LOCAL ->
#    tnl_pop -> vx0 (remote 192.168.50.2, key=flow) -> br2 flow in_port=vx0,tun_id=100 -> null1;
#    encap: pcap0 on br2 -> flow set tun_id=100, output vx0 -> tnl_push (neighbour 02:00:00:00:aa:02)
#    -> br-phy -> null2. One PMD on CPU 1 (pmd-cpu-mask=0x2).
#
# Rates are normalised per CPU-second of the forwarding thread (this 2-core machine is shared):
# testpmd: accumulated RX packets / CPU time of its lcore thread; Sluice: forwarded packets / worker
# thread CPU time; OVS: PMD rx Mpps / share of CPU 1 the PMD got (bench.sh pmd_cpu). OVS runs twice
# per repetition: OVS default and OVS tuned (SMC on, EMC insertion per flow count, rxq pinned: the
# profiles of bench/scripts/ovs/lib.sh), and the better median of the two is the reference of every
# Sluice / OVS ratio. The acceptance rule (bench/scripts/accept.py): a run whose forwarding thread got
# < 0.95 of its core, or that forwarded less than it received (testpmd TX = RX, Sluice forwarded = rx
# over the whole run, OVS: the sinks' TX against the PMD's rx over the window), is REJECTED (nan, and
# said so in the table); a case whose every run was rejected makes the last line nan. Repetitions
# are interleaved: per rep OVS (both profiles, all cases, then torn down, its PMD would otherwise spin
# on CPU 1), then per case testpmd and Sluice; also per rep testpmd and Sluice on the old pre-filled
# net_null devices (1 flow), which shows the pcap device's own cost.
#
# Writes bench/results/overlay-e2e-<date>.md; prints ovs_ratio_decap=, ovs_ratio_encap= (the
# smaller over the flow counts) and last ovs_ratio=<min Sluice/OVS per CPU-second over the cases>.
#
# Environment: OVERLAY_REPS=3 OVERLAY_SECONDS=6 OVERLAY_WARMUP=3 OVERLAY_LCORE=1
#              OVERLAY_FLOWS="1 100000" OVERLAY_REMOTE_VMS=1000 OVERLAY_NULL=1 (0: skip the net_null rows)
#              OVERLAY_OVS_TRIES=2 OVERLAY_QUIET_TRIES=2
set -euo pipefail

SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SLUICE_HOME"
. bench/scripts/ovs-common.sh
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
SLUICE_JAR=${SLUICE_JAR:-$SLUICE_HOME/dataplane/target/sluice.jar}
JVM_FLAGS=${JVM_FLAGS:---enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow}
REPS=${OVERLAY_REPS:-3}
MEASURE=${OVERLAY_SECONDS:-6}
WARMUP=${OVERLAY_WARMUP:-3}
LCORE=${OVERLAY_LCORE:-1}
FLOWS=${OVERLAY_FLOWS:-1 100000}
RVMS=${OVERLAY_REMOTE_VMS:-1000}
WITH_NULL=${OVERLAY_NULL:-1}
NATIVE_LIB=${SLUICE_NATIVE_LIB:-$SLUICE_HOME/native/target/libsluice.so}
TESTPMD=${TESTPMD:-$(command -v dpdk-testpmd || true)}
BENCH_THIN=$SLUICE_HOME/bench/target/sluice-bench-0.1.0-SNAPSHOT.jar

die() { echo "overlay.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (OVS-DPDK, DPDK ports)"
[ -x "$TESTPMD" ] || die "dpdk-testpmd not found (Debian package dpdk; ./sluice installs it)"
[ -x /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ] || die "openvswitch-switch-dpdk not installed (apt-get install openvswitch-switch-dpdk; ./sluice bench overlay installs it)"
"$JAVA" -version 2>&1 | grep -q 'version "25' || die "$JAVA is not Java 25"
[ "$LCORE" = 1 ] || die "OVS's PMD is pinned to CPU 1 by the recipe: OVERLAY_LCORE must be 1"
ovs_other_running && die "another ovs-vswitchd-dpdk is running (pid $(pidof ovs-vswitchd-dpdk)); it would share the cores, and only one OVS may run: run again when it is gone"
if [ ! -f "$SLUICE_JAR" ] || [ ! -f "$BENCH_THIN" ] || [ ! -f "$NATIVE_LIB" ] \
   || [ -n "$(find bench/src dataplane/src/main native/src native/include -newer "$BENCH_THIN" -type f 2>/dev/null | head -1)" ]; then
  echo "overlay.sh: building (mvn -q -pl bench -am package -DskipTests)" >&2
  mvn -q -pl bench -am package -DskipTests >&2 || die "build failed"
fi
CP="$SLUICE_JAR:$BENCH_THIN"
NCPU=$(nproc)
MAIN=0
TMP=$(mktemp -d /tmp/slov-bench.XXXXXX)
TPPFX=slov-tp$$
trap 'ovs_teardown; rm -rf "$TMP" /var/run/dpdk/$TPPFX' EXIT
trap 'exit 130' INT TERM

# --- the frames, written once, read by all three -------------------------------------------------
PCAPS=$TMP/pcap
mkdir -p "$PCAPS"
for n in $FLOWS; do
  "$JAVA" $JVM_FLAGS -cp "$CP" io.sluice.bench.overlay.OverlayE2E write-pcap --dir "$PCAPS" --flows "$n" --remote-vms "$RVMS" >&2 || die "write-pcap failed"
done
pkts() { echo $(( $1 < 1024 ? 1024 : $1 )); }                  # packets in the pcap of N flows
mbufs() { echo $(( $(pkts "$1") + 16384 )); }                  # net_pcap infinite_rx holds them all
memmb() { local m=$(( $(mbufs "$1") / 200 + 512 )); echo $(( m < 1024 ? 1024 : m )); }

# --- OVS-DPDK: the recipe, renamed to slov..., with Sluice's underlay addresses and VNI -------------
ovs_prepare "$TMP/ovs" slov || die "cannot prepare the OVS recipe"
sed -i 's/172\.31\.255\.1/192.168.50.1/g; s/172\.31\.255\.2/192.168.50.2/g;
        s/02:00:00:ff:00:01/02:00:00:00:aa:01/g; s/02:00:00:ff:00:02/02:00:00:00:aa:02/g' "$OVSB/30-vxlan.sh"
sed 's/tun_id=5001/tun_id=100/; s/5001->tun_id/100->tun_id/' "$OVSB/flows/br2-vxlan-decap.txt" > "$OVSB/flows/slov-decap.txt"
sed 's/tun_id=5001/tun_id=100/; s/5001->tun_id/100->tun_id/' "$OVSB/flows/br2-vxlan-encap.txt" > "$OVSB/flows/slov-encap.txt"
grep -q 'tun_id=100,' "$OVSB/flows/slov-decap.txt" && grep -q '100->tun_id' "$OVSB/flows/slov-encap.txt" || die "recipe flows changed (no VNI 5001 to replace)"
grep -q 192.168.50.1 "$OVSB/30-vxlan.sh" || die "recipe 30-vxlan.sh changed (no VTEP 172.31.255.1 to replace)"
for n in $FLOWS; do  # bench.sh vxdecap reads pcap/vx-N.pcap; pcap mode reads $PCAP
  cp "$PCAPS/decap-$n.pcap" "$OVSB/pcap/vx-$n.pcap"; cp "$PCAPS/encap-$n.pcap" "$OVSB/pcap/encap-$n.pcap"
done
ovs_cmd() { # case flows -> the bench.sh command line
  case $1 in decap) echo "./bench.sh vxdecap flows/slov-decap.txt $2 $MEASURE   # replays pcap/vx-$2.pcap";;
             encap) echo "PCAP=pcap/encap-$2.pcap ./bench.sh pcap flows/slov-encap.txt $2 $MEASURE";; esac
}
# OVS's profiles, as bench/scripts/ovs/lib.sh ovsl_profile sets them for the other benches (OVS's DPDK
# performance guide): default = OVS's defaults; tuned = the signature-match cache on, EMC insertion
# always (1) when the flows fit the EMC (8192 entries), else EMC insertion off (0: SMC only), and the
# source port's rxq pinned to the PMD on CPU 1 (pmd-rxq-affinity 0:1). -> OVS_SET (recorded), OVS_AFF
ovs_set_profile() { # default|tuned flows
  local emc=1; [ "$2" -gt 8192 ] && emc=0
  if [ "$1" = default ]; then
    (cd "$OVSB" && . ./env.sh && ovs-vsctl remove Open_vSwitch . other_config smc-enable -- remove Open_vSwitch . other_config emc-insert-inv-prob)
    OVS_AFF=""; OVS_SET="smc-enable=false (default), emc-insert-inv-prob=100 (default), no rxq affinity"
  else
    (cd "$OVSB" && . ./env.sh && ovs-vsctl set Open_vSwitch . other_config:smc-enable=true other_config:emc-insert-inv-prob=$emc)
    OVS_AFF="other_config:pmd-rxq-affinity=0:1"
    OVS_SET="smc-enable=true, emc-insert-inv-prob=$emc, pmd-rxq-affinity=0:1"
  fi
}
run_ovs_case() { # case flows -> "percpu line" (percpu nan when rejected)
  local line rx tx pc v
  if [ "$1" = decap ]; then
    line=$(PCAP_IFACE_EXTRA="$OVS_AFF" TRIES=${OVERLAY_OVS_TRIES:-2} QUIET_TRIES=${OVERLAY_QUIET_TRIES:-2} ovs_bench vxdecap flows/slov-decap.txt "$2" "$MEASURE")
  else
    line=$(PCAP_IFACE_EXTRA="$OVS_AFF" PCAP=pcap/encap-$2.pcap TRIES=${OVERLAY_OVS_TRIES:-2} QUIET_TRIES=${OVERLAY_QUIET_TRIES:-2} ovs_bench pcap flows/slov-encap.txt "$2" "$MEASURE")
  fi
  rx=$(ovs_field "$line" rx); tx=$(ovs_field "$line" sink_tx); pc=$(ovs_field "$line" pmd_cpu)
  v=$(awk -v r="${rx:-0}" -v c="${pc:-0}" 'BEGIN { if (r <= 0 || c <= 0) print "nan"; else printf "%.3f", r / c }')
  # the acceptance rule (bench/scripts/accept.py): the PMD got >= 0.95 of its core (a NOISY run is
  # rejected) and the sinks sent what the PMD received (rx / sink_tx in Mpps over the same window: as packets)
  python3 "$SLUICE_HOME/bench/scripts/accept.py" run "${pc:-0}" "$(awk -v r="${rx:-0}" 'BEGIN{printf "%.0f", r * 1e6}')" \
    "$(awk -v t="${tx:-0}" 'BEGIN{printf "%.0f", t * 1e6}')" >/dev/null || v=nan
  echo "$v ${line:-no bench.sh line (see $OVSB/bench.log)}"
}

# --- testpmd io and Sluice ---------------------------------------------------------------------------
devs() { # case flows|null
  if [ "$2" = null ]; then
    case $1 in decap) echo "--vdev net_null0,size=114 --vdev net_null1,no-rx=1";;
               encap) echo "--vdev net_null0,no-rx=1 --vdev net_null1,size=64";; esac
  else
    echo "--vdev net_pcap0,rx_pcap=$PCAPS/$1-$2.pcap,infinite_rx=1 --vdev net_null1,no-rx=1"
  fi
}
testpmd_cmd() { # case flows|null
  local mb=16384 mem=1024
  [ "$2" = null ] || { mb=$(mbufs "$2"); mem=$(memmb "$2"); }
  echo "timeout -s INT $((WARMUP + MEASURE + 4)) $TESTPMD -l $MAIN,$LCORE --main-lcore $MAIN --no-huge -m $mem --no-pci --no-shconf --file-prefix $TPPFX $(devs "$1" "$2") -- --forward-mode=io --nb-cores=1 --total-num-mbufs=$mb --burst=32 --rxd=1024 --txd=1024 --auto-start --stats-period 1"
}
sluice_cmd() { # case flows|null
  local src=""
  [ "$2" = null ] || src=" --pcap $PCAPS/$1-$2.pcap --mbufs $(mbufs "$2") --mem $(memmb "$2")"
  echo "$JAVA $JVM_FLAGS -Dsluice.native.lib=$NATIVE_LIB -cp $CP io.sluice.bench.overlay.OverlayE2E $1 --lcore $LCORE --warmup $WARMUP --seconds $MEASURE --remote-vms $RVMS$src"
}
run_testpmd() { # case flows|null -> "wall percpu"
  $(testpmd_cmd "$1" "$2") > "$TMP/testpmd.out" 2>&1 < /dev/null &
  local tpid=$! pid="" ticks=0 t
  while kill -0 "$tpid" 2>/dev/null; do
    [ -n "$pid" ] || pid=$(pgrep -P "$tpid" -x dpdk-testpmd || true)
    if [ -n "$pid" ]; then
      for t in /proc/"$pid"/task/*; do
        if [ "$(cat "$t"/comm 2>/dev/null)" = "rte-worker-$LCORE" ]; then
          t=$(awk '{ print $14 + $15 }' "$t"/stat 2>/dev/null) && [ -n "$t" ] && ticks=$t
        fi
      done
    fi
    sleep 0.05
  done
  wait "$tpid" || true
  rm -rf "/var/run/dpdk/$TPPFX"
  local wall cpu
  wall=$(awk -v skip="$WARMUP" -v n="$MEASURE" '
    /Rx-pps:/ { v[k++] = $2 }
    END { s = 0; c = 0
      for (i = 2 * skip; i + 1 < k && c < n; i += 2) { s += v[i] + v[i + 1]; c++ }
      if (c == 0) { print "nan"; exit } printf "%.3f\n", s / c / 1e6 }' "$TMP/testpmd.out")
  # per CPU-second; rejected (nan) unless every received packet was transmitted (TX = RX, no TX drop)
  cpu=$(awk -v ticks="$ticks" -v hz="$(getconf CLK_TCK)" '
    /Accumulated forward statistics/ { acc = 1 }
    acc && /RX-packets:/ { rx = $2 }
    acc && /TX-packets:/ { tx = $2; txd = $4; acc = 0 }
    END { if (ticks > 0 && rx > 0 && tx == rx && txd == 0) printf "%.3f\n", rx / (ticks / hz) / 1e6; else print "nan" }' "$TMP/testpmd.out")
  [ "$cpu" = nan ] && { echo "overlay.sh: testpmd $1 $2 REJECTED (no rate, or TX != RX):" >&2; grep -A3 'Accumulated' "$TMP/testpmd.out" >&2 || tail -5 "$TMP/testpmd.out" >&2; }
  echo "$wall $cpu"
}
run_sluice() { # case flows|null -> "wall percpu"
  local out="$TMP/sluice-$1-$2.out"
  $(sluice_cmd "$1" "$2") > "$out" 2>&1 < /dev/null || { tail -20 "$out" >&2; echo "nan nan"; return; }
  # rejected unless every packet received on the source port left by the expected port
  if ! awk '/^check rx=/ { split($2, a, "="); split($3, b, "="); ok = (a[2] > 0 && a[2] == b[2]) } END { exit !ok }' "$out"; then
    echo "overlay.sh: sluice $1 $2 REJECTED (not every received packet forwarded): $(grep '^check' "$out")" >&2; echo "nan nan"; return
  fi
  # the acceptance rule (bench/scripts/accept.py): the worker got >= 0.95 of its core
  local share; share=$(sed -n 's/^worker cpu share=//p' "$out" | tail -1)
  if ! python3 "$SLUICE_HOME/bench/scripts/accept.py" run "${share:-0}" 1 1 >/dev/null; then
    echo "overlay.sh: sluice $1 $2 REJECTED (worker cpu share ${share:-?} < 0.95)" >&2; echo "nan nan"; return
  fi
  echo "$(sed -n 's/^mpps=//p' "$out" | tail -1) $(sed -n 's/^cpu_mpps=//p' "$out" | tail -1)"
}
. "$SLUICE_HOME/bench/scripts/stats-common.sh"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
cc -O2 -o "$TMP/tsc" "$SLUICE_HOME/bench/scripts/tsc-mhz.c" || die "cannot build tsc-mhz.c"
TSC_MHZ=$("$TMP/tsc")   # cycles are converted at the TSC rate, not `cpu MHz`
declare -A RES CPU OVSL OVSSET
CASES=""
for n in $FLOWS; do CASES+="decap:$n encap:$n "; done
NULLCASES=""; [ "$WITH_NULL" = 1 ] && NULLCASES="decap:null encap:null"
for r in $(seq 1 "$REPS"); do
  echo "rep $r: OVS-DPDK (recipe copy in $OVSB)" >&2
  ovs_other_running && die "another ovs-vswitchd-dpdk started meanwhile (pid $(pidof ovs-vswitchd-dpdk))"
  ovs_start 30-vxlan.sh || { cat "$OVSB/setup.log" >&2; die "OVS setup failed"; }
  for prof in default tuned; do
    for c in $CASES; do
      m=${c%%:*}; n=${c##*:}
      ovs_set_profile "$prof" "$n"; OVSSET[$prof-$c]=$OVS_SET
      read -r v line < <(run_ovs_case "$m" "$n")
      CPU[ovs$prof-$c]+="$v "; OVSL[$c]+="rep $r ovs-$prof: $line"$'\n'
      printf 'rep %s %-26s %8s Mpps/CPU-s  | %s\n' "$r" "ovs-$prof-$m-$n" "$v" "$line" >&2
      [ "$v" = nan ] && echo "overlay.sh: OVS $prof $m $n REJECTED (no bench.sh line, sinks sent less than the PMD received, or PMD < 0.95 of its core)" >&2
    done
  done
  ovs_teardown
  sleep 2
  for c in $CASES $NULLCASES; do
    m=${c%%:*}; n=${c##*:}
    read -r v cc < <(run_testpmd "$m" "$n"); RES[tp-$c]+="$v "; CPU[tp-$c]+="$cc "
    printf 'rep %s %-22s %8s Mpps  %8s Mpps/CPU-s\n' "$r" "testpmd-io-$m-$n" "$v" "$cc" >&2
    read -r v cc < <(run_sluice "$m" "$n"); RES[sl-$c]+="$v "; CPU[sl-$c]+="$cc "
    printf 'rep %s %-22s %8s Mpps  %8s Mpps/CPU-s\n' "$r" "sluice-$m-$n" "$v" "$cc" >&2
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

DATE=$(date -u +%Y%m%d-%H%M%S)
OUT=bench/results/overlay-e2e-$DATE.md
mkdir -p bench/results
declare -A RATIO OREF
# the better of two medians ("nan" when both are)
best() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan") print b; else if (b == "nan") print a; else print (a + 0 >= b + 0 ? a : b) }'; }
{
  echo "# Overlay end to end: Sluice vs OVS-DPDK vs dpdk-testpmd io, same run ($DATE UTC)"
  echo
  echo "Command: \`./sluice bench overlay\` (bench/scripts/overlay.sh), OVERLAY_REPS=$REPS OVERLAY_SECONDS=$MEASURE"
  echo "OVERLAY_WARMUP=$WARMUP OVERLAY_FLOWS=\"$FLOWS\" OVERLAY_REMOTE_VMS=$RVMS, CPU $LCORE for every forwarding thread. Load average before:"
  echo "$LOAD_BEFORE, after: $LOAD_AFTER."
  echo
  echo "Work: VXLAN decap (114-byte VXLAN frame from the allowed VTEP 192.168.50.2, VNI 100, inner 64-byte"
  echo "UDP remote VM -> local VM: decap, anti-spoof, route, out on the VM port) and VXLAN encap (64-byte"
  echo "UDP local VM -> remote VM: anti-spoof, route, encap to VTEP 192.168.50.2, out on the uplink)."
  echo "The same pcap files (OverlayE2E write-pcap; N inner flows = N UDP port pairs, flow k between the local"
  echo "VM and remote VM k % $RVMS of the $RVMS VMs behind the remote VTEP in Sluice's configuration; decap also"
  echo "N % 16384 outer source ports) are replayed from memory by net_pcap infinite_rx into one forwarding core, out"
  echo "to net_null, for all three systems. OVS: peer recipe flows br2-vxlan-decap/encap with VNI 100"
  echo "(vx0 tunnel port in, match tun_id, output to the VM port; set tun_id, output to vx0 -> tnl_push"
  echo "-> br-phy -> sink). Rates are per CPU-second of the forwarding thread (testpmd lcore thread CPU"
  echo "time, Sluice worker CPU time, OVS rx / share of CPU $LCORE its PMD got); ns/pkt = 1000 / that."
  echo "A rejected measurement (did not forward what it received, or no rate) shows as nan and is not in the median."
  echo
  echo "## Per CPU-second of the forwarding thread (medians of $REPS interleaved repetitions)"
  echo
  echo "OVS runs in two profiles (OVS default, OVS tuned: settings below); the reference of Sluice / OVS is the better"
  echo "of the two medians (the other's nan does not make it nan; both nan does)."
  echo
  echo "| case | flows | testpmd io Mpps | OVS default Mpps | OVS tuned Mpps | Sluice Mpps | Sluice / better OVS | Sluice / testpmd | better OVS / testpmd | ns/pkt testpmd / better OVS / Sluice |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for c in $CASES; do
    m=${c%%:*}; n=${c##*:}
    t=$(med "${CPU[tp-$c]}"); od=$(med "${CPU[ovsdefault-$c]}"); ot=$(med "${CPU[ovstuned-$c]}"); s=$(med "${CPU[sl-$c]}")
    o=$(best "$od" "$ot"); OREF[$c]=$o
    RATIO[$c]=$(div "$s" "$o")
    echo "| $m | $n | $t | $od | $ot | $s | **${RATIO[$c]}** | $(div "$s" "$t") | $(div "$o" "$t") | $(ns "$t") / $(ns "$o") / $(ns "$s") |"
  done
  echo
  echo "## What bounds the ratio (derived from the table above)"
  echo
  echo "testpmd io on the same devices is the device's own cost per packet (net_pcap rx copying the frame"
  echo "out of the replayed file into a fresh mbuf, net_null tx freeing it); both Sluice and OVS pay it too."
  echo "Own work = ns/pkt minus that device cost (an approximation: the costs are taken as additive)."
  echo "Ceiling = OVS ns / device ns: the Sluice/OVS ratio if Sluice's own work cost nothing. For 2x, Sluice"
  echo "would need OVS ns / 2 per packet in all, i.e. OVS ns / 2 - device ns of its own work."
  echo
  echo "| case | flows | device ns (testpmd io) | OVS own ns | Sluice own ns | own work OVS / Sluice | ceiling Sluice / OVS | Sluice own ns needed for 2x |"
  echo "|---|---|---|---|---|---|---|---|"
  for c in $CASES; do
    t=$(ns "$(med "${CPU[tp-$c]}")"); o=$(ns "${OREF[$c]}"); s=$(ns "$(med "${CPU[sl-$c]}")")
    awk -v m="${c%%:*}" -v n="${c##*:}" -v t="$t" -v o="$o" -v s="$s" 'BEGIN {
      if (t == "nan" || o == "nan" || s == "nan") { printf "| %s | %s | %s | nan | nan | nan | nan | nan |\n", m, n, t; exit }
      r = (s - t > 0) ? sprintf("%.2f", (o - t) / (s - t)) : "n/a"
      printf "| %s | %s | %.1f | %.1f | %.1f | %s | %.2f | %.1f |\n", m, n, t, o - t, s - t, r, o / t, o / 2 - t }'
  done
  echo
  echo "## Every repetition"
  echo
  echo "| system | case | flows | Mpps per CPU-second, per rep | wall Mpps per rep |"
  echo "|---|---|---|---|---|"
  for c in $CASES $NULLCASES; do
    m=${c%%:*}; n=${c##*:}; dev=pcap; [ "$n" = null ] && { dev="net_null pre-filled"; n=1; }
    echo "| testpmd io ($dev) | $m | $n | ${CPU[tp-$c]}| ${RES[tp-$c]}|"
    [ "$dev" = pcap ] && echo "| OVS-DPDK default ($dev) | $m | $n | ${CPU[ovsdefault-$c]}| (rx Mpps in the bench.sh lines below) |"
    [ "$dev" = pcap ] && echo "| OVS-DPDK tuned ($dev) | $m | $n | ${CPU[ovstuned-$c]}| (rx Mpps in the bench.sh lines below) |"
    echo "| Sluice ($dev) | $m | $n | ${CPU[sl-$c]}| ${RES[sl-$c]}|"
  done
  if [ -n "$NULLCASES" ]; then
    echo
    echo "Without the pcap device (net_null rx hands out pre-filled mbufs, no copy; OVS cannot be fed this way):"
    echo
    echo "| case | testpmd io Mpps/CPU-s | Sluice Mpps/CPU-s | Sluice / testpmd | ns/pkt testpmd / Sluice |"
    echo "|---|---|---|---|---|"
    for c in $NULLCASES; do
      t=$(med "${CPU[tp-$c]}"); s=$(med "${CPU[sl-$c]}")
      echo "| ${c%%:*} | $t | $s | $(div "$s" "$t") | $(ns "$t") / $(ns "$s") |"
    done
  fi
  echo
  echo "OVS settings per profile and case:"
  echo
  echo '```'
  for k in "${!OVSSET[@]}"; do echo "$k: ${OVSSET[$k]}"; done | sort
  echo '```'
  echo
  echo "OVS bench.sh lines (OK = its PMD got >= 0.95 of CPU $LCORE; NOISY = not after the tries: rejected by the"
  echo "acceptance rule; cyc/pkt = PMD processing cycles per packet, TSC $TSC_MHZ MHz):"
  echo
  echo '```'
  for c in $CASES; do echo "# ${c%%:*} ${c##*:} flows"; printf '%s' "${OVSL[$c]}"; done
  echo '```'
  echo
  echo "## Commands"
  echo
  echo '```'
  for n in $FLOWS; do echo "$JAVA $JVM_FLAGS -cp $CP io.sluice.bench.overlay.OverlayE2E write-pcap --dir $PCAPS --flows $n --remote-vms $RVMS"; done
  echo "# OVS: recipe copied to $OVSB, ovsck -> slovck, --file-prefix=ovs -> slovovs, 30-vxlan.sh VTEPs 192.168.50.1/.2,"
  echo "# MACs 02:00:00:00:aa:01/02, flows VNI 100; then (cd \$OVSB && ./00-setup-ovs.sh && ./30-vxlan.sh), per case:"
  echo "# per profile first: default: ovs-vsctl remove Open_vSwitch . other_config smc-enable -- remove Open_vSwitch . other_config emc-insert-inv-prob;"
  echo "# tuned: ovs-vsctl set Open_vSwitch . other_config:smc-enable=true other_config:emc-insert-inv-prob=<1, or 0 above 8192 flows>,"
  echo "# and PCAP_IFACE_EXTRA=other_config:pmd-rxq-affinity=0:1 before ./bench.sh"
  for c in $CASES; do ovs_cmd "${c%%:*}" "${c##*:}"; done
  echo "# then ./99-teardown.sh; testpmd and Sluice:"
  for c in $CASES $NULLCASES; do testpmd_cmd "${c%%:*}" "${c##*:}"; sluice_cmd "${c%%:*}" "${c##*:}"; done
  echo '```'
  echo
  echo "OVS flows:"
  echo
  echo '```'
  cat "$OVSB/flows/slov-decap.txt" "$OVSB/flows/slov-encap.txt"
  echo '```'
  echo
  echo "## Machine"
  echo
  echo '```'
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $NCPU, TSC $TSC_MHZ MHz"
  echo "kernel: $(uname -r)"
  echo "dpdk: $(pkg-config --modversion libdpdk 2>/dev/null || echo '?'); ovs: $(ovs-vswitchd --version 2>/dev/null | head -1 || echo '?')"
  echo "java: $("$JAVA" -version 2>&1 | head -1)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
  echo "load average before: $LOAD_BEFORE  after: $LOAD_AFTER"
  echo '```'
  echo
  echo "Last Sluice runs' output (pcap, largest flow count):"
  echo
  echo '```'
  last=${FLOWS##* }
  grep -h -v -E '^(EAL|TELEMETRY)' "$TMP/sluice-decap-$last.out" "$TMP/sluice-encap-$last.out" 2>/dev/null || true
  echo '```'
} > "$OUT"
echo "results: $OUT" >&2
minof() { awk 'BEGIN { m = "" } $1 != "nan" { if (m == "" || $1 + 0 < m + 0) m = $1 } END { print (m == "" ? "nan" : m) }'; }
RD=$(for n in $FLOWS; do echo "${RATIO[decap:$n]}"; done | minof)
RE=$(for n in $FLOWS; do echo "${RATIO[encap:$n]}"; done | minof)
ALL=$(for c in $CASES; do echo "${RATIO[$c]}"; done)
echo "ovs_ratio_decap=$RD"
echo "ovs_ratio_encap=$RE"
# a case without a ratio (rejected every time) makes the minimum undefined: say so instead of hiding it
if echo "$ALL" | grep -q nan; then echo "ovs_ratio=nan"; else echo "ovs_ratio=$(echo "$ALL" | minof)"; fi
