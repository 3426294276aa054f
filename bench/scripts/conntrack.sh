#!/usr/bin/env bash
# ./sluice bench conntrack — Sluice's stateful firewall (parse -> arp -> l2 -> firewall: conntrack +
# security group) against Open vSwitch's userspace conntrack firewall (OVS-DPDK 3.1, flows
# br1-ct-fw.txt: ct(table=1,zone=1), ct(commit) for new UDP 1001 from port 1, +est both ways) on the
# same work in the same run: the same pcap (64-byte UDP request/reply pairs over N flows, mkpcap.py
# "bidir", so conntrack is in the established steady state) replayed from memory by net_pcap
# infinite_rx into one forwarding core, out to a net_null sink. OVS runs first (the harness in
# bench/scripts/ovs, copied to a scratch dir with every namespace/file prefix renamed to
# "slfw..."), is torn down, then Sluice runs on the same core.
#
# Rates are normalised per CPU-second of the forwarding thread (OVS: rx Mpps / share of CPU 1 its
# PMD got; Sluice: packets / worker thread CPU time), because this 2-core machine is shared.
# Writes bench/results/conntrack-e2e-<date>.md; prints min_ratio=<lowest Sluice/OVS ratio> last.
#
# New connections: a second case feeds both a pcap of CT_NEW_WARM + CT_NEW one-way UDP flows, one
# packet each (every packet opens a connection: lookup miss, rule check, commit), read ONCE from the
# file by net_pcap (no infinite_rx). The first CT_NEW_WARM flows warm up (OVS: a separate file before
# its stats are cleared; Sluice: the JIT); the rate is taken over the other CT_NEW. OVS: PMD
# "avg processing cycles per packet" / TSC GHz; Sluice: worker CPU ns per packet. Both include the
# pcap file read (~190 ns per packet for Sluice with one established flow, see the table note).
#
# Environment: CT_FLOWS="1000 10000 100000"  CT_SECONDS=10  CT_EXTRA_RULES=0
#              CT_TRIES=2 (OVS tries per case until its PMD got >= 0.95 of CPU 1)  CT_QUIET_TRIES=3
#              CT_NEW=1000000 (0 skips the new-connection case)  CT_NEW_WARM=500000
set -euo pipefail
SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SLUICE_HOME"
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
JVM_FLAGS=${JVM_FLAGS:---enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow}
FLOWS=${CT_FLOWS:-1000 10000 100000}
SECS=${CT_SECONDS:-10}
EXTRA=${CT_EXTRA_RULES:-0}
NATIVE_LIB=${SLUICE_NATIVE_LIB:-$SLUICE_HOME/native/target/libsluice.so}
BENCH_JAR=${BENCH_JAR:-$SLUICE_HOME/bench/target/benchmarks.jar}
die() { echo "conntrack.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (OVS-DPDK, DPDK ports)"
[ -x /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ] || die "openvswitch-switch-dpdk not installed (apt-get install openvswitch-switch-dpdk)"
. "$SLUICE_HOME/bench/scripts/ovs-common.sh"
ovs_other_running && die "another ovs-vswitchd-dpdk is running; it would share the cores (run again when it is gone)"
if [ ! -f "$BENCH_JAR" ] || [ -n "$(find bench/src dataplane/src/main rules-compiler/src/main -newer "$BENCH_JAR" -type f 2>/dev/null | head -1)" ]; then
  echo "conntrack.sh: building (mvn -q -pl bench -am package -DskipTests)" >&2
  mvn -q -pl bench -am package -DskipTests >&2 || die "build failed"
fi

TMP=$(mktemp -d /tmp/slfwct.XXXXXX)
# a copy of the recipe with our own names: namespaces slfwck*, DPDK file prefix slfwovs (never the recipe's ovsck*/ovs)
ovs_prepare "$TMP/ovs" slfw || die "could not prepare the OVS recipe copy"
trap 'ovs_teardown; rm -rf "$TMP"' EXIT

for n in $FLOWS; do python3 "$OVSB/mkpcap.py" "$n" "$OVSB/pcap/udpbi-$n.pcap" 64 1024 bidir; done
NEW=${CT_NEW:-1000000}; NEW_WARM=${CT_NEW_WARM:-500000}
if [ "$NEW" -gt 0 ]; then
  # one pcap of NEW_WARM + NEW distinct one-way flows, and the same split in two files for OVS
  python3 "$OVSB/mkpcap.py" $((NEW_WARM + NEW)) "$OVSB/pcap/new-all.pcap" 64 1024
  python3 - "$OVSB/pcap/new-all.pcap" "$NEW_WARM" "$OVSB/pcap/new-warm.pcap" "$OVSB/pcap/new-meas.pcap" <<'PY'
import sys
src, warm, a, b = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
d = open(src, 'rb').read(); hdr, rec = d[:24], 16 + 60  # mkpcap.py: fixed 60-byte frames
open(a, 'wb').write(hdr + d[24:24 + warm * rec]); open(b, 'wb').write(hdr + d[24 + warm * rec:])
PY
fi
# cycles are converted at the TSC rate (what OVS's cycle counters tick at), not `cpu MHz`
cc -O2 -o "$TMP/tsc" "$SLUICE_HOME/bench/scripts/tsc-mhz.c" || die "cannot build tsc-mhz.c"
TSC_MHZ=$("$TMP/tsc")
ACCEPT="$SLUICE_HOME/bench/scripts/accept.py"

out="$SLUICE_HOME/bench/results/conntrack-e2e-$(date -u +%Y%m%d-%H%M).md"
declare -A OVS_RX OVS_CPU OVS_LINE SL_MPPS SL_CPU SL_SHARE
echo "conntrack.sh: OVS-DPDK (recipe copy in $OVSB)" >&2
ovs_start 20-memif.sh 30-vxlan.sh || { cat "$OVSB/setup.log" >&2; die "OVS setup failed"; }
for n in $FLOWS; do
  line=$(TRIES=${CT_TRIES:-2} QUIET_TRIES=${CT_QUIET_TRIES:-3} PCAP=pcap/udpbi-$n.pcap ovs_bench pcap flows/br1-ct-fw.txt "$n" "$SECS")
  echo "  ovs $n: $line" >&2
  OVS_LINE[$n]=$line
  OVS_RX[$n]=$(ovs_field "$line" rx); OVS_RX[$n]=${OVS_RX[$n]:-0}
  OVS_CPU[$n]=$(ovs_field "$line" pmd_cpu); OVS_CPU[$n]=${OVS_CPU[$n]:-0}
done
NEW_OVS_LINE=""; NEW_OVS_NS=0
if [ "$NEW" -gt 0 ]; then
  # OVS reads each file once; pmd-stats are cleared after the warm-up file, conntrack is not
  new_ovs() (
    cd "$OVSB"; . ./env.sh; set +e
    OVSPID=$(cat $OVS_RUNDIR/ovs-vswitchd.pid)
    ovs-ofctl -O OpenFlow13 replace-flows br2 flows/br1-ct-fw.txt || exit 1
    appctl dpctl/flush-conntrack; appctl dpctl/ct-set-maxconns $((2 * (NEW_WARM + NEW))) >/dev/null
    rxd() { appctl dpif-netdev/pmd-stats-show | python3 -c 'import sys,re; s=sys.stdin.read().split("main thread")[0]; print(re.search(r"packets received: (\d+)",s).group(1))'; }
    feed() { # FILE COUNT: add pcap0 reading FILE once, wait until the PMD received COUNT packets
      appctl dpif-netdev/pmd-stats-clear >/dev/null
      ovs-vsctl --if-exists del-port br2 pcap0
      ovs-vsctl add-port br2 pcap0 -- set Interface pcap0 type=dpdk ofport_request=1 options:dpdk-devargs="net_pcap0,rx_pcap=$1"
      local k e; for k in $(seq 600); do
        [ "$(rxd)" -ge "$2" ] && return 0
        e=$(ovs-vsctl get Interface pcap0 error 2>/dev/null); [ -n "$e" ] && [ "$e" != "[]" ] && { echo "pcap0: $e"; return 1; }
        sleep 0.2
      done; return 1
    }
    wait_quiet $OVSPID || true
    feed "$OVSB/pcap/new-warm.pcap" $NEW_WARM || { echo "warm-up file not consumed"; exit 1; }
    wait_quiet $OVSPID || true
    p0=$(tj $OVSPID pmd); ts0=$(date +%s.%N)
    feed "$OVSB/pcap/new-meas.pcap" $NEW || { echo "file not consumed"; exit 1; }
    p1=$(tj $OVSPID pmd); ts1=$(date +%s.%N)
    appctl dpif-netdev/pmd-stats-show > $OVS_LOGDIR/pmdstats-new.txt
    nct=$(appctl dpctl/ct-get-nconns)
    ovs-vsctl del-port br2 pcap0
    python3 - $OVS_LOGDIR/pmdstats-new.txt $p0 $p1 $ts0 $ts1 $(getconf CLK_TCK) "$nct" "$TSC_MHZ" <<'PY'
import sys, re
f, p0, p1, t0, t1, hz, nct, mhz = sys.argv[1:9]
s = open(f).read().split("main thread")[0]
rx = int(re.search(r"packets received: (\d+)", s).group(1))
cyc = float(re.search(r"avg processing cycles per packet: ([\d.]+)", s).group(1))
pc = (int(p1) - int(p0)) / float(hz) / (float(t1) - float(t0))
print(f"{'OK   ' if pc >= 0.95 else 'NOISY'} new-conn br1-ct-fw.txt rx={rx} cyc/pkt={cyc:.0f} ns/pkt={cyc / float(mhz) * 1e3:.1f} pmd_cpu={pc:.2f} conns={nct}")
PY
  )
  NEW_OVS_LINE=$(new_ovs 2>&1 | tail -1)
  echo "  ovs new connections: $NEW_OVS_LINE" >&2
  NEW_OVS_NS=$(echo "$NEW_OVS_LINE" | grep -o 'ns/pkt=[0-9.]*' | cut -d= -f2 || echo 0)
fi
ovs_teardown
sleep 2

echo "conntrack.sh: Sluice" >&2
for n in $FLOWS; do
  pk=$((n < 1024 ? 2048 : 2 * n))
  mb=$(( pk + 16384 )); [ $mb -lt 16383 ] && mb=16383
  mem=$(( mb / 200 + 512 )); [ $mem -lt 1024 ] && mem=1024
  log="$TMP/sluice-$n.log"
  timeout $((SECS + 60)) "$JAVA" $JVM_FLAGS -Dsluice.native.lib="$NATIVE_LIB" -cp "$BENCH_JAR" io.sluice.bench.firewall.FirewallPcapBench \
    --pcap "$OVSB/pcap/udpbi-$n.pcap" --lcore 1 --warmup 4 --seconds "$SECS" --extra-rules "$EXTRA" --mbufs "$mb" --mem "$mem" > "$log" 2>&1 || { tail -20 "$log" >&2; die "Sluice run failed for $n flows"; }
  SL_MPPS[$n]=$(grep '^mpps=' "$log" | cut -d= -f2)
  SL_CPU[$n]=$(grep '^cpu_mpps=' "$log" | cut -d= -f2)
  SL_SHARE[$n]=$(grep '^worker cpu share=' "$log" | cut -d= -f2)
  echo "  sluice $n: mpps=${SL_MPPS[$n]} cpu_mpps=${SL_CPU[$n]} share=${SL_SHARE[$n]} $(grep '^firewall:' "$log")" >&2
  # the same work as OVS means every packet forwarded: any firewall drop makes the comparison void
  grep -q '^firewall: .* no_rule=0 invalid=0$' "$log" || { cat "$log" >&2; die "Sluice dropped packets of the test stream ($n flows): not the same work"; }
done

NEW_SL_NS=0; NEW_SL_LINE=""
if [ "$NEW" -gt 0 ]; then
  log="$TMP/sluice-new.log"
  cap=$(( 2 * (NEW_WARM + NEW) ))
  timeout 300 "$JAVA" $JVM_FLAGS -Dsluice.native.lib="$NATIVE_LIB" -cp "$BENCH_JAR" io.sluice.bench.firewall.FirewallPcapBench \
    --pcap "$OVSB/pcap/new-all.pcap" --lcore 1 --once "$NEW_WARM" --max-conns "$cap" --extra-rules "$EXTRA" > "$log" 2>&1 || { tail -20 "$log" >&2; die "Sluice new-connection run failed"; }
  NEW_SL_NS=$(grep '^new_ns=' "$log" | cut -d= -f2)
  NEW_SL_LINE="$(grep '^measured' "$log"); $(grep '^firewall:' "$log")"
  echo "  sluice new connections: new_ns=$NEW_SL_NS $NEW_SL_LINE" >&2
  grep -q "^firewall: created=$((NEW_WARM + NEW)) .* no_rule=0 invalid=0 limit=0$" "$log" || { cat "$log" >&2; die "Sluice did not open one connection per packet: not the same work"; }
fi

min=""
{
  echo "# Conntrack firewall end to end: Sluice vs OVS-DPDK userspace conntrack — $(date -u +%F\ %H:%M) UTC"
  echo
  echo "Command: \`./sluice bench conntrack\` (bench/scripts/conntrack.sh), CT_FLOWS=\"$FLOWS\" CT_SECONDS=$SECS CT_EXTRA_RULES=$EXTRA"
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load at end: $(cut -d' ' -f1-3 /proc/loadavg); sluice $(git rev-parse --short HEAD 2>/dev/null || echo ?)"
  echo
  echo "Work: 64-byte UDP request/reply pairs over N flows (mkpcap.py bidir), replayed from memory by net_pcap infinite_rx"
  echo "into one forwarding core (CPU 1), out to net_null. OVS: flows/br1-ct-fw.txt (ct zone 1, commit new UDP 1001, +est both ways)."
  echo "Sluice: parse -> arp -> l2 -> firewall, destination port a VM port whose group allows UDP 1001 (+$EXTRA rules in front)."
  echo "Per-CPU rate = packets per CPU-second of the forwarding thread (OVS: rx / pmd_cpu; Sluice: packets / worker CPU time)."
  echo
  echo "| flows | OVS rx Mpps | OVS pmd_cpu | OVS per-CPU Mpps | Sluice Mpps (wall) | Sluice worker CPU share | Sluice per-CPU Mpps | ratio Sluice/OVS (per CPU) |"
  echo "|---|---|---|---|---|---|---|---|"
  for n in $FLOWS; do
    ovs_pc=$(awk -v r="${OVS_RX[$n]}" -v c="${OVS_CPU[$n]}" 'BEGIN{ if (c > 0) printf "%.3f", r / c; else print 0 }')
    # the acceptance rule (bench/scripts/accept.py): each thread >= 0.95 of its core, forwarded >= received
    ovs_tx=$(ovs_field "${OVS_LINE[$n]}" sink_tx); ovs_tx=${ovs_tx:-0}
    acc_o=$(python3 "$ACCEPT" run "${OVS_CPU[$n]}" "$(awk -v r="${OVS_RX[$n]}" 'BEGIN{printf "%.0f", r * 1e6}')" "$(awk -v r="$ovs_tx" 'BEGIN{printf "%.0f", r * 1e6}')") || true
    acc_s=$(python3 "$ACCEPT" run "${SL_SHARE[$n]:-0}" 1 1) || true
    ratio=$(awk -v s="${SL_CPU[$n]}" -v o="$ovs_pc" 'BEGIN{ if (o > 0) printf "%.2f", s / o; else print "nan" }')
    [ "$acc_o" = ACCEPT ] && [ "$acc_s" = ACCEPT ] || ratio=nan
    echo "| $n | ${OVS_RX[$n]} | ${OVS_CPU[$n]} | $ovs_pc | ${SL_MPPS[$n]} | ${SL_SHARE[$n]} | ${SL_CPU[$n]} | $ratio (OVS: $acc_o; Sluice: $acc_s) |"
    RATIOS="${RATIOS:-} $ratio"
  done
  if [ "$NEW" -gt 0 ]; then
    nratio=$(awk -v s="$NEW_SL_NS" -v o="$NEW_OVS_NS" 'BEGIN{ if (s > 0 && o > 0) printf "%.2f", o / s; else print "nan" }')
    new_share=$(echo "$NEW_SL_LINE" | grep -o 'share=[0-9.]*' | cut -d= -f2) || true
    case "$NEW_OVS_LINE" in OK*) ;; *) nratio=nan;; esac
    python3 "$ACCEPT" run "${new_share:-0}" 1 1 >/dev/null || nratio=nan
    echo
    echo "New connections ($NEW one-way UDP flows, one packet each, after $NEW_WARM warm-up flows; read once from the pcap file):"
    echo
    echo "| system | ns per new connection (per CPU) | Mconn/s per CPU-s | ratio Sluice/OVS |"
    echo "|---|---|---|---|"
    echo "| OVS-DPDK ct(commit) | $NEW_OVS_NS | $(awk -v n="$NEW_OVS_NS" 'BEGIN{ if (n > 0) printf "%.3f", 1e3 / n; else print 0 }') | |"
    echo "| Sluice firewall | $NEW_SL_NS | $(awk -v n="$NEW_SL_NS" 'BEGIN{ if (n > 0) printf "%.3f", 1e3 / n; else print 0 }') | $nratio |"
    echo
    echo "OVS: \`$NEW_OVS_LINE\` (ns = PMD processing cycles per packet / $TSC_MHZ MHz TSC)."
    echo "Sluice: \`$NEW_SL_LINE\`"
    RATIOS="${RATIOS:-} $nratio"
  fi
  echo
  echo "Acceptance (bench/scripts/accept.py, docs/performance.md): a case whose OVS PMD or Sluice worker got < 0.95 of its core, or"
  echo "whose OVS forwarded less than it received, has ratio nan, and then min_ratio is nan. One repetition per system."
  echo
  echo "OVS bench.sh lines (bench.sh marks OK when pmd_cpu >= 0.95, else NOISY after CT_TRIES tries):"
  echo '```'
  for n in $FLOWS; do echo "${OVS_LINE[$n]}"; done
  echo '```'
} > "$out"
cat "$out" >&2
echo "results: $out" >&2
# a case without an accepted run makes the minimum nan, never a minimum over fewer cases
if [ -z "${RATIOS:-}" ] || echo "$RATIOS" | grep -q nan; then min=nan
else min=$(echo $RATIOS | tr ' ' '\n' | sort -g | head -1); fi
echo "min_ratio=$min"
