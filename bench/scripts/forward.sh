#!/usr/bin/env bash
# ./sluice bench forward — end-to-end forwarding rate of Sluice (rx -> stages -> tx) against
# dpdk-testpmd --forward-mode=io on the same DPDK devices (net_null0 + net_null1) and the same
# lcore, interleaved in one run, FORWARD_REPS repetitions for every system; and, in the same run,
# the cost of the operability features (issue 14) on the parse-l2 pipeline: nothing armed (the
# baseline), a trace armed that matches nothing (`./sluice trace`), a capture of every packet
# (`./sluice capture p0 -w /dev/null`), each armed through the bench data plane's admin socket
# exactly as an operator arms a running `./sluice run`.
#
# parse-l2 forwards every packet both ways (port 0 -> port 1 and port 1 -> port 0, as testpmd io
# does) over FORWARD_MACS learned MAC entries (half behind each port; ForwardBench.PeerMacs writes
# the next destination behind the other port into each received frame, the generator's part).
#
# The one acceptance rule (bench/scripts/accept.py, docs/performance.md#acceptance): a run whose
# forwarding thread got < 0.95 of its core over the window, or that forwarded less than it received,
# or (a feature run) whose feature was not armed to the end, is rejected and repeated up to
# FORWARD_RETRIES times; what stays rejected is recorded; a system with no accepted run is nan.
# Rates are per CPU-second of the forwarding thread (the machine is shared).
#
# Writes bench/results/forward-<date>.md (forward-short-<date>.md for a run shorter than the
# defaults: validation only); prints the feature ratios, then ratio=<sluice parse-l2 / testpmd io,
# per CPU-second, medians of accepted runs> last (nan when either has no accepted run).
#
# Environment (all optional except what the launcher sets):
#   JAVA, SLUICE_HOME, SLUICE_JAR, JVM_FLAGS   set by ./sluice
#   FORWARD_REPS=3  FORWARD_RETRIES=2  FORWARD_SECONDS=8  FORWARD_WARMUP=4  FORWARD_LCORE=1
#   FORWARD_PIPELINES="io macswap parse-l2"      Sluice pipelines measured each repetition
#   FORWARD_RATIO_PIPELINE=parse-l2              the one the ratio and the features are taken on
#   FORWARD_FEATURES="trace capture"             feature variants of it ("" : none)
#   FORWARD_MACS=1000  FEAT_MATCH="udp and dst 192.0.2.99" (the trace's expression: matches none of the frames)
set -uo pipefail

SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SLUICE_HOME"
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
SLUICE_JAR=${SLUICE_JAR:-$SLUICE_HOME/dataplane/target/sluice.jar}
JVM_FLAGS=${JVM_FLAGS:---enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow}
REPS=${FORWARD_REPS:-3}
RETRIES=${FORWARD_RETRIES:-2}
MEASURE=${FORWARD_SECONDS:-8}
WARMUP=${FORWARD_WARMUP:-4}
LCORE=${FORWARD_LCORE:-1}
PIPELINES=${FORWARD_PIPELINES:-io macswap parse-l2}
RATIO_PIPELINE=${FORWARD_RATIO_PIPELINE:-parse-l2}
FEATURES=${FORWARD_FEATURES-trace capture}
MACS=${FORWARD_MACS:-1000}
NATIVE_LIB=${SLUICE_NATIVE_LIB:-$SLUICE_HOME/native/target/libsluice.so}
TESTPMD=${TESTPMD:-$(command -v dpdk-testpmd || true)}
# the launcher exports BENCH_JAR (bench/target/benchmarks.jar, shaded: holds ForwardBench)
BENCH_CP=${BENCH_JAR:-$SLUICE_HOME/bench/target/benchmarks.jar}
S=$SLUICE_HOME/bench/scripts

die() { echo "forward.sh: $*" >&2; exit 1; }
log() { echo "forward.sh: $*" >&2; }
[ -x "$TESTPMD" ] || die "dpdk-testpmd not found (Debian package dpdk; ./sluice installs it)"
"$JAVA" -version 2>&1 | grep -q 'version "25' || die "$JAVA is not Java 25"
case " $PIPELINES " in *" $RATIO_PIPELINE "*) ;; *) PIPELINES="$PIPELINES $RATIO_PIPELINE" ;; esac

# The harness classes live in the bench module; build what is missing.
if [ ! -f "$SLUICE_JAR" ] || [ ! -f "$BENCH_CP" ] || [ ! -f "$NATIVE_LIB" ] \
   || [ -n "$(find bench/src dataplane/src/main native/src native/include -newer "$BENCH_CP" -type f 2>/dev/null | head -1)" ]; then
  log "building (mvn -q -pl bench -am package -DskipTests)"
  JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$JAVA")")") mvn -q -pl bench -am package -DskipTests >&2 || die "build failed"
fi
CP="$SLUICE_JAR:$BENCH_CP"

# forwarding lcore for both; testpmd's main lcore (stats printing, sleeps) is another core
NCPU=$(nproc)
MAIN=$(( LCORE == 0 ? 1 : 0 )); [ "$NCPU" -gt 1 ] || MAIN=$LCORE
TMP=$(mktemp -d /tmp/slb-forward.XXXXXX)
SOCK=$TMP/admin.sock
BENCH_PID=""; TP_PID=""
FEAT_WORKER_CPU=$LCORE
. "$S/features-common.sh"
cleanup() {
  local p
  for p in $FEAT_PID $BENCH_PID $TP_PID; do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in $FEAT_PID $BENCH_PID $TP_PID; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$TMP" /var/run/dpdk/slb-tp$$
  # the bench JVMs' own EAL runtime dirs (Eal.uniquePrefix("slb-fwd") = slb-fwd<pid>...) of this run
  for p in $BENCH_PIDS; do rm -rf /var/run/dpdk/slb-fwd"$p"; done
}
BENCH_PIDS=""
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -O2 -o "$TMP/tsc" "$S/tsc-mhz.c" || die "cannot build tsc-mhz.c"
TSC_MHZ=$("$TMP/tsc")

testpmd_cmd() {
  echo "timeout -s INT $((WARMUP + MEASURE + 6)) $TESTPMD -l $MAIN,$LCORE --main-lcore $MAIN --no-huge -m 1024 --no-pci --no-shconf --file-prefix slb-tp$$ --vdev net_null0 --vdev net_null1 -- --forward-mode=io --nb-cores=1 --total-num-mbufs=16384 --burst=32 --rxd=1024 --txd=1024 --auto-start --stats-period 1"
}
sluice_cmd() { # PIPELINE [extra args]
  local p=$1; shift
  echo "$JAVA $JVM_FLAGS -Dsluice.native.lib=$NATIVE_LIB -cp $CP io.sluice.bench.forward.ForwardBench --pipeline $p --lcore $LCORE --warmup $WARMUP --seconds $MEASURE --mbufs 16384 --burst 32 --macs $MACS $*"
}
# testpmd: the forwarding thread (rte-worker-LCORE) sampled from /proc/PID/task/TID/schedstat: its
# share of the core over the window (WARMUP s after it appeared, MEASURE s), and its whole CPU time;
# per-CPU rate = accumulated RX packets / that CPU time; forwarded = accumulated TX packets.
# -> "rx tx cpu_share per_cpu_mpps wall_mpps"
run_testpmd() {
  local out=$TMP/testpmd.out pid="" tid="" k t c0 c1 t0 t1 ticks=0
  $(testpmd_cmd) > "$out" 2>&1 < /dev/null &
  TP_PID=$!
  for k in $(seq 200); do
    [ -n "$pid" ] || pid=$(pgrep -P "$TP_PID" -x dpdk-testpmd || true)
    if [ -n "$pid" ]; then
      for t in /proc/"$pid"/task/*; do [ "$(cat "$t"/comm 2>/dev/null)" = "rte-worker-$LCORE" ] && tid=${t##*/}; done
    fi
    [ -n "$tid" ] && grep -q "Press enter\|Port statistics" "$out" 2>/dev/null && break
    sleep 0.05
  done
  sleep "$WARMUP"
  c0=$(cut -d' ' -f1 /proc/"$pid"/task/"$tid"/schedstat 2>/dev/null || echo 0); t0=$(date +%s%N)
  sleep "$MEASURE"
  c1=$(cut -d' ' -f1 /proc/"$pid"/task/"$tid"/schedstat 2>/dev/null || echo 0); t1=$(date +%s%N)
  while kill -0 "$TP_PID" 2>/dev/null; do
    t=$(cut -d' ' -f1 /proc/"$pid"/task/"$tid"/schedstat 2>/dev/null) && [ -n "$t" ] && ticks=$t
    sleep 0.05
  done
  wait "$TP_PID"; TP_PID=""
  rm -rf /var/run/dpdk/slb-tp$$
  awk -v ns="$ticks" -v c=$((c1 - c0)) -v t=$((t1 - t0)) -v skip="$WARMUP" -v n="$MEASURE" '
    /Rx-pps:/ { v[k++] = $2 }
    /Accumulated forward statistics/ { acc = 1 }
    acc && /RX-packets:/ { rx = $2 }
    acc && /TX-packets:/ { tx = $2; acc = 0 }
    END {
      s = 0; m = 0
      for (i = 2 * skip; i + 1 < k && m < n; i += 2) { s += v[i] + v[i + 1]; m++ }
      printf "%d %d %.3f %.3f %s\n", rx, tx, (t > 0 ? c / t : 0), (ns > 0 ? rx / (ns / 1e9) / 1e6 : 0), (m > 0 ? sprintf("%.3f", s / m / 1e6) : "nan")
    }' "$out"
}

# Sluice: one ForwardBench run; FEATURE (none|trace|capture) armed through the admin socket by the
# operator's command. -> "rx tx cpu_share per_cpu_mpps wall_mpps check"
run_sluice() { # PIPELINE FEATURE LOG
  local p=$1 f=$2 lg=$3 extra="" ck=ok
  rm -f "$SOCK"
  [ "$f" != none ] && extra="--admin-socket $SOCK --await-armed $f"
  $(sluice_cmd "$p" $extra) > "$lg" 2>&1 < /dev/null &
  BENCH_PID=$!; BENCH_PIDS="$BENCH_PIDS $BENCH_PID"
  [ "$f" != none ] && feat_start "$f" "$SOCK" p0 "$lg.cli" "$BENCH_PID"
  wait "$BENCH_PID"; BENCH_PID=""
  if [ "$f" != none ]; then feat_stop; ck=$(feat_check "$f" "$lg" "$lg.cli"); fi
  local rx tx share pc mp
  rx=$(sed -n 's/^check rx=\([0-9]*\) .*/\1/p' "$lg"); tx=$(sed -n 's/^check rx=[0-9]* tx=\([0-9]*\) .*/\1/p' "$lg")
  share=$(sed -n 's/^worker cpu share=//p' "$lg"); pc=$(sed -n 's/^cpu_mpps=//p' "$lg"); mp=$(sed -n 's/^mpps=//p' "$lg")
  echo "${rx:-0} ${tx:-0} ${share:-0} ${pc:-nan} ${mp:-nan} ${ck// /_}"
}

RUNS=$TMP/runs.tsv; : > "$RUNS"
RUNLOG=$TMP/runs.txt; : > "$RUNLOG"
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RUNS"; }
# one system's run, repeated while rejected (up to RETRIES more times); recorded once
measure() { # REP SYSTEM KIND(testpmd|sluice) [PIPELINE FEATURE]
  local r=$1 sys=$2 kind=$3 try line rx tx sh pc mp ck st
  for try in $(seq 0 "$RETRIES"); do
    # not in $(...): the processes they start must stay known to this shell's cleanup
    if [ "$kind" = testpmd ]; then run_testpmd > "$TMP/line"; ck=ok
    else run_sluice "$4" "$5" "$TMP/$sys-$r-$try.log" > "$TMP/line"; fi
    line=$(cat "$TMP/line")
    read -r rx tx sh pc mp ck2 <<< "$line"; [ "$kind" = testpmd ] || ck=${ck2//_/ }
    st=$(python3 "$S/accept.py" run "$sh" "$rx" "$tx" "$ck")
    echo "rep=$r $sys try=$try rx=$rx tx=$tx cpu=$sh per_cpu_mpps=$pc wall_mpps=$mp $st" >> "$RUNLOG"
    log "rep $r $sys try $try: per-CPU $pc Mpps (wall $mp), cpu $sh: $st"
    [ "$st" = ACCEPT ] && break
  done
  record forward "$sys" "$r" "$st" "$pc" "wall=$mp"
}

T_START=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# Sluice's runs of a repetition, in an order rotated by one per repetition (drift spreads evenly)
SL_RUNS=""
for p in $PIPELINES; do SL_RUNS="$SL_RUNS $p:none"; done
for f in $FEATURES; do SL_RUNS="$SL_RUNS $RATIO_PIPELINE:$f"; done
read -r -a SLA <<< "$SL_RUNS"
for r in $(seq 1 "$REPS"); do
  measure "$r" testpmd-io testpmd
  for i in $(seq 0 $((${#SLA[@]} - 1))); do
    x=${SLA[$(( (i + r - 1) % ${#SLA[@]} ))]}; p=${x%%:*}; f=${x#*:}
    sys=sluice-$p; [ "$f" != none ] && sys=$sys+$f
    measure "$r" "$sys" sluice "$p" "$f"
  done
done
WALL=$(( $(date +%s) - T_START ))
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

TABLE=$(python3 "$S/accept.py" table "$RUNS" "sluice-$RATIO_PIPELINE" testpmd)
FEAT=""
[ -n "$FEATURES" ] && FEAT=$(python3 "$S/accept.py" ratios "$RUNS" "sluice-$RATIO_PIPELINE")
SHORT=""; [ "$MEASURE" -lt 8 ] || [ "$REPS" -lt 3 ] || [ "$WARMUP" -lt 4 ] && SHORT=short-
DATE=$(date -u +%Y%m%d-%H%M%S)
OUT=bench/results/forward-$SHORT$DATE.md
mkdir -p bench/results
{
  echo "# Forwarding rate: Sluice vs dpdk-testpmd io, and the cost of trace / capture ($DATE UTC)"
  echo
  [ -n "$SHORT" ] && { echo "**Short validation run** (fewer/shorter repetitions than the defaults, on a loaded machine): it shows the bench works, its figures are not measurements."; echo; }
  echo "Command: \`./sluice bench forward\` (bench/scripts/forward.sh) FORWARD_REPS=$REPS FORWARD_RETRIES=$RETRIES FORWARD_SECONDS=$MEASURE FORWARD_WARMUP=$WARMUP FORWARD_LCORE=$LCORE FORWARD_PIPELINES=\"$PIPELINES\" FORWARD_FEATURES=\"$FEATURES\" FORWARD_MACS=$MACS; wall time ${WALL} s"
  echo
  echo "Question: how many packets per CPU-second does Sluice forward (rx -> stages -> tx, one worker on"
  echo "one lcore) compared with \`dpdk-testpmd --forward-mode=io\` on the same devices and lcore, and what"
  echo "does arming a trace or a capture cost? Devices: net_null0 + net_null1 (64-byte frames; rx allocates"
  echo "mbufs, tx frees them). Both poll both ports and send each port's packets out of the other."
  echo "Per-CPU Mpps = packets received over both ports per second of CPU time of the forwarding thread"
  echo "(testpmd: accumulated RX over rte-worker-$LCORE's run time from schedstat; Sluice: packets in the window over"
  echo "the worker thread's CPU time). $REPS interleaved repetitions per system (testpmd, then the Sluice runs in an"
  echo "order rotated each repetition)."
  echo
  echo "Acceptance (bench/scripts/accept.py, docs/performance.md#acceptance): the forwarding thread got >= 0.95 of its"
  echo "core over the window, it forwarded what it received (testpmd: accumulated TX = RX; Sluice: tx = rx over the"
  echo "whole run, read after the worker stopped), a feature run's feature stayed armed to the end and the trace"
  echo "printed no packet; a rejected run is repeated up to $RETRIES time(s), a system left with no accepted run is nan."
  echo
  echo "$TABLE"
  echo
  if [ -n "$FEAT" ]; then
    echo "Operability features on \`sluice-$RATIO_PIPELINE\` (issue 14), each armed on the bench's admin socket by the operator's own"
    echo "command while the bench runs (the data plane serves the socket as \`./sluice run\` does):"
    echo
    for f in $FEATURES; do echo "- $f: \`$(feat_cmd "$f" ADMIN.sock p0)\`"; done
    echo
    echo "$FEAT"
    echo
    echo "trace: every packet is matched against the expression (it matches none); capture: every packet is copied into"
    echo "the worker's 1 MiB ring (rx on p0, or tx out of p0: each packet once) or, when the ring is full, counted lost"
    echo "(\`debug records lost\`, in each run's line below); the admin threads drain it on the other core."
    echo
  fi
  echo "Pipelines: \`io\` = one stage that sends each packet to the other port without touching it (what"
  echo "testpmd io does); \`macswap\` = swap the MAC addresses then the other port; \`parse-l2\` = the generator's"
  echo "stage \`gen-peer-macs\` (ForwardBench.PeerMacs: writes into each received frame the next of the $((MACS / 2))"
  echo "learned MACs behind the other port, one 4-byte store, charged to Sluice), then the demo's own stages"
  echo "(stage.Pipelines.l2: ParseStage with every length check, ArpResponderStage, L2ForwardStage over a"
  echo "$((MACS + 2))-entry MAC table): every packet forwarded, port 0 -> 1 and 1 -> 0, over $MACS destinations."
  echo "(Results before 2026-12-06 dropped port 1's half as L2_SAME_PORT, one destination MAC.)"
  echo
  echo "## Commands"
  echo
  echo '```'
  testpmd_cmd
  for p in $PIPELINES; do sluice_cmd "$p"; done
  for f in $FEATURES; do sluice_cmd "$RATIO_PIPELINE" --admin-socket ADMIN.sock --await-armed "$f"; feat_cmd "$f" ADMIN.sock p0; done
  echo '```'
  echo
  echo "## Machine"
  echo
  echo '```'
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $NCPU, TSC $TSC_MHZ MHz (bench/scripts/tsc-mhz.c)"
  echo "kernel: $(uname -r)"
  echo "dpdk: $(pkg-config --modversion libdpdk 2>/dev/null || echo '?')"
  echo "java: $("$JAVA" -version 2>&1 | head -1)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
  echo "load average before: $LOAD_BEFORE  after: $LOAD_AFTER"
  echo '```'
  echo
  echo "Every run (rx/tx: packets over the whole run; cpu: the forwarding thread's share of its core over the window):"
  echo
  echo '```'
  cat "$RUNLOG"
  echo '```'
  echo
  echo "Last Sluice runs' output (one per system):"
  for x in $SL_RUNS; do
    p=${x%%:*}; f=${x#*:}; sys=sluice-$p; [ "$f" != none ] && sys=$sys+$f
    lg=$(ls -t "$TMP"/"$sys"-*.log 2>/dev/null | head -1)
    [ -n "$lg" ] || continue
    echo; echo "$sys:"; echo '```'; grep -v -E '^(EAL|TELEMETRY)' "$lg"; [ -f "$lg.cli" ] && sed 's/^/client: /' "$lg.cli" | head -5; echo '```'
  done
} > "$OUT"
echo "results: $OUT" >&2
[ -n "$FEAT" ] && echo "$FEAT" | grep '^feature_ratio'
echo "ratio=$(echo "$TABLE" | sed -n 's/^min_ratio=//p')"
