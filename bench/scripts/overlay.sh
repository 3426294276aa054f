#!/usr/bin/env bash
# ./sluice bench overlay — end-to-end rate of Sluice's overlay pipeline (VXLAN decap -> route -> VM
# port, and VM port -> route -> VXLAN encap) against dpdk-testpmd --forward-mode=io on the same
# DPDK devices and lcore, interleaved in one run. Writes bench/results/overlay-e2e-<date>.md and
# prints ovs_ratio=<Sluice Mpps / OVS-DPDK Mpps> last.
#
# OVS-DPDK is NOT run by this script (yet): its figures are the single-flow VXLAN decap/encap rows
# of /work/shared/peers/ovs-dpdk/results-pps.txt (same machine type, OVS 3.1 + DPDK 22.11, one PMD
# core, accepted only when the PMD got >= 0.95 of its core), so the ratio compares per-core
# capacity: Sluice packets per CPU-second of its worker vs OVS Mpps on a (nearly) whole core.
# Set OVS_RESULTS=FILE to read other OVS figures (lines "vxdecap br2-vxlan-decap.txt flows= 1"
# and "pcap br2-vxlan-encap.txt flows= 1", as bench.sh of the peer recipe prints them).
#
# Environment: OVERLAY_REPS=3 OVERLAY_SECONDS=6 OVERLAY_WARMUP=3 OVERLAY_LCORE=1
set -euo pipefail

SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SLUICE_HOME"
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
SLUICE_JAR=${SLUICE_JAR:-$SLUICE_HOME/dataplane/target/sluice.jar}
JVM_FLAGS=${JVM_FLAGS:---enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow}
REPS=${OVERLAY_REPS:-3}
MEASURE=${OVERLAY_SECONDS:-6}
WARMUP=${OVERLAY_WARMUP:-3}
LCORE=${OVERLAY_LCORE:-1}
NATIVE_LIB=${SLUICE_NATIVE_LIB:-$SLUICE_HOME/native/target/libsluice.so}
TESTPMD=${TESTPMD:-$(command -v dpdk-testpmd || true)}
BENCH_THIN=$SLUICE_HOME/bench/target/sluice-bench-0.1.0-SNAPSHOT.jar
OVS_RESULTS=${OVS_RESULTS:-/work/shared/peers/ovs-dpdk/results-pps.txt}

die() { echo "overlay.sh: $*" >&2; exit 1; }
[ -x "$TESTPMD" ] || die "dpdk-testpmd not found (Debian package dpdk; ./sluice installs it)"
"$JAVA" -version 2>&1 | grep -q 'version "25' || die "$JAVA is not Java 25"
if [ ! -f "$SLUICE_JAR" ] || [ ! -f "$BENCH_THIN" ] || [ ! -f "$NATIVE_LIB" ] \
   || [ -n "$(find bench/src dataplane/src/main native/src native/include -newer "$BENCH_THIN" -type f 2>/dev/null | head -1)" ]; then
  echo "overlay.sh: building (mvn -q -pl bench -am package -DskipTests)" >&2
  mvn -q -pl bench -am package -DskipTests >&2 || die "build failed"
fi
CP="$SLUICE_JAR:$BENCH_THIN"
NCPU=$(nproc)
MAIN=$(( LCORE == 0 ? 1 : 0 )); [ "$NCPU" -gt 1 ] || MAIN=$LCORE
TMP=$(mktemp -d /tmp/slov-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# the devices of each half: decap = uplink receives 114-byte VXLAN frames, VM port is a sink;
# encap = VM port receives 64-byte frames, uplink is a sink
devs() { case $1 in decap) echo "--vdev net_null0,size=114 --vdev net_null1,no-rx=1";;
                    encap) echo "--vdev net_null0,no-rx=1 --vdev net_null1,size=64";; esac; }
testpmd_cmd() {
  echo "timeout -s INT $((WARMUP + MEASURE + 2)) $TESTPMD -l $MAIN,$LCORE --main-lcore $MAIN --no-huge -m 1024 --no-pci --no-shconf --file-prefix slov-tp$$ $(devs "$1") -- --forward-mode=io --nb-cores=1 --total-num-mbufs=16384 --burst=32 --rxd=1024 --txd=1024 --auto-start --stats-period 1"
}
sluice_cmd() {
  echo "$JAVA $JVM_FLAGS -Dsluice.native.lib=$NATIVE_LIB -cp $CP io.sluice.bench.overlay.OverlayE2E $1 --lcore $LCORE --warmup $WARMUP --seconds $MEASURE"
}
run_testpmd() {
  $(testpmd_cmd "$1") > "$TMP/testpmd.out" 2>&1 < /dev/null &
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
  local wall cpu
  wall=$(awk -v skip="$WARMUP" -v n="$MEASURE" '
    /Rx-pps:/ { v[k++] = $2 }
    END { s = 0; c = 0
      for (i = 2 * skip; i + 1 < k && c < n; i += 2) { s += v[i] + v[i + 1]; c++ }
      if (c == 0) { print "nan"; exit } printf "%.3f\n", s / c / 1e6 }' "$TMP/testpmd.out")
  cpu=$(awk -v ticks="$ticks" -v hz="$(getconf CLK_TCK)" '
    /Accumulated forward statistics/ { acc = 1 }
    acc && /RX-packets:/ { pk = $2; acc = 0 }
    END { if (ticks > 0 && pk > 0) printf "%.3f\n", pk / (ticks / hz) / 1e6; else print "nan" }' "$TMP/testpmd.out")
  echo "$wall $cpu"
}
run_sluice() {
  $(sluice_cmd "$1") > "$TMP/sluice-$1.out" 2>&1 < /dev/null || { cat "$TMP/sluice-$1.out" >&2; echo "nan nan"; return; }
  echo "$(sed -n 's/^mpps=//p' "$TMP/sluice-$1.out" | tail -1) $(sed -n 's/^cpu_mpps=//p' "$TMP/sluice-$1.out" | tail -1)"
}
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "nan"; exit } if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
med() { echo "$1" | tr ' ' '\n' | grep -v '^$' | median; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "nan" }'; }
ovs() { # $1 = mode pattern, $2 = flow file
  [ -f "$OVS_RESULTS" ] || { echo nan; return; }
  awk -v m="$1" -v f="$2" '$1 == "OK" && $2 == m && $3 == f && $4 == "flows=" && $5 == "1" { for (i = 1; i <= NF; i++) if ($i ~ /^rx=/) { split($i, a, "="); v = a[2]; if (v == "") v = $(i + 1) } } END { print (v == "" ? "nan" : v) }' "$OVS_RESULTS"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A RES CPU
for r in $(seq 1 "$REPS"); do
  for m in decap encap; do
    read -r v c < <(run_testpmd "$m"); RES[tp-$m]+="$v "; CPU[tp-$m]+="$c "
    printf 'rep %s %-16s %8s Mpps  %8s Mpps/CPU-s\n' "$r" "testpmd-io-$m" "$v" "$c" >&2
    read -r v c < <(run_sluice "$m"); RES[sl-$m]+="$v "; CPU[sl-$m]+="$c "
    printf 'rep %s %-16s %8s Mpps  %8s Mpps/CPU-s\n' "$r" "sluice-$m" "$v" "$c" >&2
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
OVS_DECAP=$(ovs vxdecap br2-vxlan-decap.txt)
OVS_ENCAP=$(ovs pcap br2-vxlan-encap.txt)
DATE=$(date -u +%Y%m%d-%H%M%S)
OUT=bench/results/overlay-e2e-$DATE.md
mkdir -p bench/results
{
  echo "# Overlay end to end: Sluice vs dpdk-testpmd io (same run) and OVS-DPDK (reference) ($DATE UTC)"
  echo
  echo "Question: how many packets per second does Sluice's overlay pipeline move on one lcore through"
  echo "VXLAN decap (uplink -> parse -> decap -> anti-spoof -> route -> VM port) and VXLAN encap (VM port"
  echo "-> parse -> anti-spoof -> route -> encap -> uplink), against testpmd io on the same devices (the"
  echo "limit) and against OVS-DPDK doing the same VXLAN work? Decap -> route -> encap inside one host is"
  echo "a hairpin the data plane refuses by design (no transit), so the two halves are measured apart,"
  echo "like OVS's vxlan-decap / vxlan-encap cases. Devices: net_null (rx generates, tx frees); the"
  echo "receiving port has every mbuf pre-filled with a valid frame (decap: 114-byte VXLAN from an"
  echo "allowed VTEP, VNI 100, inner 64 bytes; encap: 64-byte frame from the local VM to a remote VM)."
  echo "Mpps/CPU-s = packets per CPU-second of the forwarding thread (the steadier figure on this shared"
  echo "2-vCPU machine); wall Mpps depends on how much of the core the thread got."
  echo
  echo "| run | wall Mpps per rep | median | Mpps/CPU-s per rep | median | vs testpmd (CPU) |"
  echo "|---|---|---|---|---|---|"
  for m in decap encap; do
    tc=$(med "${CPU[tp-$m]}")
    echo "| testpmd io ($m devices) | ${RES[tp-$m]}| $(med "${RES[tp-$m]}") | ${CPU[tp-$m]}| $tc | 1.00 |"
    sc=$(med "${CPU[sl-$m]}")
    echo "| sluice $m | ${RES[sl-$m]}| $(med "${RES[sl-$m]}") | ${CPU[sl-$m]}| $sc | $(div "$sc" "$tc") |"
  done
  echo
  echo "OVS-DPDK (reference, NOT this run: $OVS_RESULTS, single flow, PMD >= 0.95 of its core):"
  echo "vxlan-decap $OVS_DECAP Mpps, vxlan-encap $OVS_ENCAP Mpps."
  echo "Sluice / OVS per core: decap $(div "$(med "${CPU[sl-decap]}")" "$OVS_DECAP"), encap $(div "$(med "${CPU[sl-encap]}")" "$OVS_ENCAP");"
  echo "ovs_ratio printed = the smaller of the two."
  echo
  echo "## Commands"
  echo
  echo '```'
  for m in decap encap; do testpmd_cmd "$m"; sluice_cmd "$m"; done
  echo '```'
  echo
  echo "## Machine"
  echo
  echo '```'
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $NCPU"
  echo "kernel: $(uname -r)"
  echo "dpdk: $(pkg-config --modversion libdpdk 2>/dev/null || echo '?')"
  echo "java: $("$JAVA" -version 2>&1 | head -1)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
  echo "load average before: $LOAD_BEFORE  after: $LOAD_AFTER"
  echo '```'
  echo
  echo "Last Sluice runs' output:"
  echo
  echo '```'
  grep -h -v -E '^(EAL|TELEMETRY)' "$TMP"/sluice-decap.out "$TMP"/sluice-encap.out
  echo '```'
} > "$OUT"
echo "results: $OUT" >&2
RD=$(div "$(med "${CPU[sl-decap]}")" "$OVS_DECAP")
RE=$(div "$(med "${CPU[sl-encap]}")" "$OVS_ENCAP")
echo "ovs_ratio_decap=$RD"
echo "ovs_ratio_encap=$RE"
echo "ovs_ratio=$(awk -v a="$RD" -v b="$RE" 'BEGIN { if (a == "nan" || b == "nan") print "nan"; else print (a < b ? a : b) }')"
