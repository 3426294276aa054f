#!/usr/bin/env bash
# ./sluice bench forward — end-to-end forwarding rate of Sluice (rx -> stages -> tx) against
# dpdk-testpmd --forward-mode=io on the same DPDK devices (net_null0 + net_null1) and the same
# lcore, interleaved in one run, several repetitions. Writes bench/results/forward-<date>.md and
# prints ratio=<sluice Mpps / testpmd Mpps> (medians; pipeline $FORWARD_RATIO_PIPELINE) last.
#
# Environment (all optional except what the launcher sets):
#   JAVA, SLUICE_HOME, SLUICE_JAR, JVM_FLAGS   set by ./sluice
#   FORWARD_REPS=3  FORWARD_SECONDS=8  FORWARD_WARMUP=4  FORWARD_LCORE=1 (forwarding core)
#   FORWARD_PIPELINES="io macswap parse-l2"      Sluice pipelines measured each repetition
#   FORWARD_RATIO_PIPELINE=parse-l2              the one the ratio is taken on; a
#                                                PipelineFactory class name works too
#   FORWARD_RATIO_METRIC=cpu                     wall: wall-clock Mpps / Mpps;
#                                                cpu: packets per CPU-second of the forwarding
#                                                thread (steady on a loaded machine)
set -euo pipefail

SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SLUICE_HOME"
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
SLUICE_JAR=${SLUICE_JAR:-$SLUICE_HOME/dataplane/target/sluice.jar}
JVM_FLAGS=${JVM_FLAGS:---enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow}
REPS=${FORWARD_REPS:-3}
MEASURE=${FORWARD_SECONDS:-8}
WARMUP=${FORWARD_WARMUP:-4}
LCORE=${FORWARD_LCORE:-1}
PIPELINES=${FORWARD_PIPELINES:-io macswap parse-l2}
RATIO_PIPELINE=${FORWARD_RATIO_PIPELINE:-parse-l2}
RATIO_METRIC=${FORWARD_RATIO_METRIC:-cpu}
NATIVE_LIB=${SLUICE_NATIVE_LIB:-$SLUICE_HOME/native/target/libsluice.so}
TESTPMD=${TESTPMD:-$(command -v dpdk-testpmd || true)}
# the launcher exports BENCH_JAR (bench/target/benchmarks.jar, shaded: holds ForwardBench)
BENCH_CP=${BENCH_JAR:-$SLUICE_HOME/bench/target/benchmarks.jar}

die() { echo "forward.sh: $*" >&2; exit 1; }
[ -x "$TESTPMD" ] || die "dpdk-testpmd not found (Debian package dpdk; ./sluice installs it)"
"$JAVA" -version 2>&1 | grep -q 'version "25' || die "$JAVA is not Java 25"
case " $PIPELINES " in *" $RATIO_PIPELINE "*) ;; *) PIPELINES="$PIPELINES $RATIO_PIPELINE" ;; esac

# The harness classes live in the bench module; build what is missing.
if [ ! -f "$SLUICE_JAR" ] || [ ! -f "$BENCH_CP" ] || [ ! -f "$NATIVE_LIB" ] \
   || [ -n "$(find bench/src dataplane/src/main native/src native/include -newer "$BENCH_CP" -type f 2>/dev/null | head -1)" ]; then
  echo "forward.sh: building (mvn -q -pl bench -am package -DskipTests)" >&2
  JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$JAVA")")") mvn -q -pl bench -am package -DskipTests >&2 || die "build failed"
fi
CP="$SLUICE_JAR:$BENCH_CP"

# forwarding lcore for both; testpmd's main lcore (stats printing, sleeps) is another core
NCPU=$(nproc)
MAIN=$(( LCORE == 0 ? 1 : 0 )); [ "$NCPU" -gt 1 ] || MAIN=$LCORE
TMP=$(mktemp -d /tmp/slb-forward.XXXXXX)
trap 'rm -rf "$TMP" /var/run/dpdk/slb-tp$$' EXIT

testpmd_cmd() {
  echo "timeout -s INT $((WARMUP + MEASURE + 4)) $TESTPMD -l $MAIN,$LCORE --main-lcore $MAIN --no-huge -m 1024 --no-pci --no-shconf --file-prefix slb-tp$$ --vdev net_null0 --vdev net_null1 -- --forward-mode=io --nb-cores=1 --total-num-mbufs=16384 --burst=32 --rxd=1024 --txd=1024 --auto-start --stats-period 1"
}
sluice_cmd() {
  echo "$JAVA $JVM_FLAGS -Dsluice.native.lib=$NATIVE_LIB -cp $CP io.sluice.bench.forward.ForwardBench --pipeline $1 --lcore $LCORE --warmup $WARMUP --seconds $MEASURE --mbufs 16384 --burst 32"
}

# testpmd prints, every second, Rx-pps for port 0 then port 1: sum each pair, skip warm-up, average.
# CPU-normalised rate: all packets / CPU time of its forwarding thread (rte-worker-LCORE, ns from
# /proc/PID/task/TID/schedstat), sampled until the process exits.
run_testpmd() {
  $(testpmd_cmd) > "$TMP/testpmd.out" 2>&1 < /dev/null &
  local tpid=$! pid="" ticks=0 t
  while kill -0 "$tpid" 2>/dev/null; do
    [ -n "$pid" ] || pid=$(pgrep -P "$tpid" -x dpdk-testpmd || true)
    if [ -n "$pid" ]; then
      for t in /proc/"$pid"/task/*; do
        if [ "$(cat "$t"/comm 2>/dev/null)" = "rte-worker-$LCORE" ]; then
          t=$(awk '{ print $1 }' "$t"/schedstat 2>/dev/null) && [ -n "$t" ] && ticks=$t
        fi
      done
    fi
    sleep 0.05
  done
  wait "$tpid" || true
  local wall cpu
  wall=$(awk -v skip="$WARMUP" -v n="$MEASURE" '
    /Rx-pps:/ { v[k++] = $2 }
    END {
      s = 0; c = 0
      for (i = 2 * skip; i + 1 < k && c < n; i += 2) { s += v[i] + v[i + 1]; c++ }
      if (c == 0) { print "nan"; exit }
      printf "%.3f\n", s / c / 1e6
    }' "$TMP/testpmd.out")
  cpu=$(awk -v ns="$ticks" '
    /Accumulated forward statistics/ { acc = 1 }
    acc && /RX-packets:/ { pk = $2; acc = 0 }
    END { if (ns > 0 && pk > 0) printf "%.3f\n", pk / (ns / 1e9) / 1e6; else print "nan" }' "$TMP/testpmd.out")
  echo "$wall $cpu"
}
run_sluice() {
  $(sluice_cmd "$1") > "$TMP/sluice.out" 2>&1 < /dev/null || { cat "$TMP/sluice.out" >&2; echo "nan nan"; return; }
  echo "$(sed -n 's/^mpps=//p' "$TMP/sluice.out" | tail -1) $(sed -n 's/^cpu_mpps=//p' "$TMP/sluice.out" | tail -1)"
}
. "$SLUICE_HOME/bench/scripts/stats-common.sh"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A RES CPU
for r in $(seq 1 "$REPS"); do
  read -r v c < <(run_testpmd); RES[testpmd]+="$v "; CPU[testpmd]+="$c "
  printf 'rep %s %-16s %8s Mpps  %8s Mpps/CPU-s\n' "$r" testpmd-io "$v" "$c" >&2
  for p in $PIPELINES; do
    read -r v c < <(run_sluice "$p"); RES[$p]+="$v "; CPU[$p]+="$c "
    printf 'rep %s %-16s %8s Mpps  %8s Mpps/CPU-s\n' "$r" "sluice-$p" "$v" "$c" >&2
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

TP_MED=$(med "${RES[testpmd]}")
TP_CPU=$(med "${CPU[testpmd]}")
DATE=$(date -u +%Y%m%d-%H%M%S)
OUT=bench/results/forward-$DATE.md
mkdir -p bench/results
{
  echo "# Forwarding rate: Sluice vs dpdk-testpmd io ($DATE UTC)"
  echo
  echo "Question: how many packets per second does Sluice forward (rx -> stages -> tx, one worker on"
  echo "one lcore) compared with \`dpdk-testpmd --forward-mode=io\` on the same devices and lcore?"
  echo "Devices: net_null0 + net_null1 (64-byte frames; rx allocates mbufs, tx frees them). Both poll"
  echo "both ports and send each port's packets out of the other. Wall-clock Mpps = packets received"
  echo "per second over both ports, measured for ${MEASURE} s after ${WARMUP} s of warm-up; repetitions"
  echo "interleaved (testpmd, then each Sluice pipeline, per repetition). Mpps/CPU-s = packets per"
  echo "second of CPU time of the forwarding thread (testpmd: all its packets over rte-worker-$LCORE's"
  echo "run time from schedstat; Sluice: packets in the window over the worker thread's CPU time): on a shared"
  echo "machine, where other processes take the core away from either, this is the steadier figure."
  echo
  echo "| run | wall Mpps per rep | median | ratio | Mpps/CPU-s per rep | median | ratio |"
  echo "|---|---|---|---|---|---|---|"
  echo "| testpmd io | ${RES[testpmd]}| $TP_MED | 1.00 | ${CPU[testpmd]}| $TP_CPU | 1.00 |"
  for p in $PIPELINES; do
    m=$(med "${RES[$p]}"); c=$(med "${CPU[$p]}")
    echo "| sluice $p | ${RES[$p]}| $m | $(div "$m" "$TP_MED") | ${CPU[$p]}| $c | $(div "$c" "$TP_CPU") |"
  done
  echo
  echo "Pipelines: \`io\` = one stage that sends each packet to the other port without touching it (what"
  echo "testpmd io does); \`macswap\` = swap the MAC addresses then the other port; \`parse-l2\` = the"
  echo "demo's own stages (stage.Pipelines.l2: ParseStage with every length check, ArpResponderStage,"
  echo "L2ForwardStage over a 1001-entry MAC table): frames to 02:00:00:00:00:0b go to port 1, so port 0's"
  echo "packets are forwarded and port 1's are dropped as L2_SAME_PORT (counted, freed); every mbuf is"
  echo "pre-filled with a valid UDP frame. A class name runs that PipelineFactory."
  echo
  echo "Ratio printed by the script: $RATIO_METRIC medians, pipeline \`$RATIO_PIPELINE\`."
  echo
  echo "## Commands"
  echo
  echo '```'
  testpmd_cmd
  for p in $PIPELINES; do sluice_cmd "$p"; done
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
  echo "Last Sluice run's output:"
  echo
  echo '```'
  grep -v -E '^(EAL|TELEMETRY)' "$TMP/sluice.out"
  echo '```'
} > "$OUT"
echo "results: $OUT" >&2
RM=$(med "${RES[$RATIO_PIPELINE]}")
RC=$(med "${CPU[$RATIO_PIPELINE]}")
echo "ratio_wall=$(div "$RM" "$TP_MED") ratio_cpu=$(div "$RC" "$TP_CPU") (pipeline $RATIO_PIPELINE)"
if [ "$RATIO_METRIC" = cpu ]; then
  echo "ratio=$(div "$RC" "$TP_CPU")"
else
  echo "ratio=$(div "$RM" "$TP_MED")"
fi
