#!/usr/bin/env bash
# ./sluice bench conntrack — Sluice's stateful firewall (parse -> arp -> l2 -> firewall: conntrack +
# security group) against Open vSwitch's userspace conntrack firewall (OVS-DPDK 3.1, flows
# bench/scripts/ovs/flows/br1-ct-fw.txt: ct(table=1,zone=1), ct(commit) for new UDP 1001 from port 1,
# +est both ways), OVS default and OVS tuned, on the same work in the same run; and, in the same run,
# the cost of the operability features (issue 14) on Sluice's established path.
#
# Work: the same pcap (64-byte UDP request/reply pairs over N flows, bench/scripts/ovs/mkpcap.py
# "bidir", so conntrack is in the established steady state) replayed from memory by net_pcap
# infinite_rx into one forwarding core (CPU 1), out to a net_null sink. OVS is started by
# bench/scripts/ovs/lib.sh (our own harness, named "slct"), one PMD on CPU 1.
#
# Cases: est-N (N in CT_FLOWS) and "new" (CT_NEW one-way UDP flows, one packet each, every packet
# opens a connection, read ONCE from the file; measured after CT_NEW_WARM warm-up flows).
# Systems: ovs-default, ovs-tuned (bench/scripts/ovs/lib.sh ovsl_profile: SMC on, EMC insertion per
# flow count, rxq pinned), sluice, and Sluice with one feature on (est cases; flow logs also "new"):
#   sluice+trace     a trace armed that matches nothing:  ./sluice trace --socket S --match EXPR --count 0
#   sluice+capture   a capture of every packet of "ext":  ./sluice capture ext --socket S -w /dev/null
#   sluice+flowlogs  a flow-logs: section in the configuration (interval-s CT_FLOWLOG_INTERVAL)
# (trace and capture armed on the bench data plane's admin socket, served as ./sluice run serves it;
# bench/scripts/features-common.sh). The reference of every Sluice/OVS ratio is the better OVS.
#
# The one acceptance rule (bench/scripts/accept.py, docs/performance.md#acceptance): CT_REPS
# interleaved repetitions for every system (per repetition: OVS both profiles, every case, then OVS
# stopped, then Sluice every case and variant, the variants' order rotated per repetition); a run whose
# forwarding thread got < 0.95 of its core, or that forwarded less than it received, or (Sluice) whose
# firewall dropped a packet of the stream or whose feature was not armed to the end, is rejected and
# repeated up to CT_RETRIES times; a case with no accepted run is nan, and so is min_ratio. Cycles are
# converted at the TSC rate (bench/scripts/tsc-mhz.c).
#
# Environment: CT_FLOWS="1000 10000 100000" CT_REPS=3 CT_RETRIES=2 CT_SECONDS=6 CT_WARMUP=3
#              CT_NEW=1000000 (0: no new-connection case) CT_NEW_WARM=500000 CT_EXTRA_RULES=0
#              CT_FEATURES="trace capture flowlogs" ("": none) CT_FLOWLOG_INTERVAL=60
#              FEAT_MATCH="udp and dst 192.0.2.99" (the trace's expression: matches none of the frames)
# Writes bench/results/conntrack-e2e-<date>.md (conntrack-e2e-short-<date>.md for a run shorter than
# the defaults: validation only); prints feature_ratio_<feature>= lines, then min_ratio=<lowest
# Sluice/best OVS> last.
set -uo pipefail
SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SLUICE_HOME"
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
# the launcher's flags (Chronicle Queue, which flow logs write to, needs the --add-opens)
JVM_FLAGS=${JVM_FLAGS:---enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED -Dchronicle.analytics.disable=true}
NATIVE_LIB=${SLUICE_NATIVE_LIB:-$SLUICE_HOME/native/target/libsluice.so}
BENCH_JAR=${BENCH_JAR:-$SLUICE_HOME/bench/target/benchmarks.jar}
FLOWS=${CT_FLOWS:-1000 10000 100000}; REPS=${CT_REPS:-3}; RETRIES=${CT_RETRIES:-2}
SECS=${CT_SECONDS:-6}; WARM=${CT_WARMUP:-3}; EXTRA=${CT_EXTRA_RULES:-0}
NEW=${CT_NEW:-1000000}; NEW_WARM=${CT_NEW_WARM:-500000}
FEATURES=${CT_FEATURES-trace capture flowlogs}; FL_INTERVAL=${CT_FLOWLOG_INTERVAL:-60}
S=$SLUICE_HOME/bench/scripts
die() { echo "conntrack.sh: $*" >&2; exit 1; }
log() { echo "conntrack.sh: $*" >&2; }
[ "$(id -u)" = 0 ] || die "needs root (OVS-DPDK, DPDK ports)"
[ -x /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ] || die "openvswitch-switch-dpdk not installed (apt-get install openvswitch-switch-dpdk)"
[ -n "$(pidof ovs-vswitchd-dpdk 2>/dev/null)" ] && die "another ovs-vswitchd-dpdk is running (pid $(pidof ovs-vswitchd-dpdk)): it would share CPU 1; run again when it is gone"
if [ ! -f "$BENCH_JAR" ] || [ -n "$(find bench/src dataplane/src/main rules-compiler/src/main -newer "$BENCH_JAR" -type f 2>/dev/null | head -1)" ]; then
  log "building (mvn -q -pl bench -am package -DskipTests)"
  mvn -q -pl bench -am package -DskipTests >&2 || die "build failed"
fi
T_START=$(date +%s)
TMP=$(mktemp -d /tmp/slct.XXXXXX)
SOCK=$TMP/admin.sock
. "$S/ovs/lib.sh"
FEAT_WORKER_CPU=1   # the driver's worker is on --lcore 1 (below)
. "$S/features-common.sh"
BENCH_PID=""
cleanup() {
  feat_stop
  [ -n "$BENCH_PID" ] && { kill "$BENCH_PID" 2>/dev/null; sleep 1; kill -9 "$BENCH_PID" 2>/dev/null; rm -rf "/var/run/dpdk/sluice$BENCH_PID"; }
  ovsl_stop >/dev/null 2>&1
  rm -rf "$TMP" "/var/run/dpdk/${OVSL_PFX:-slct}ovs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -O2 -o "$TMP/tsc" "$S/tsc-mhz.c" || die "cannot build tsc-mhz.c"
TSC_MHZ=$("$TMP/tsc")
P=$TMP/pcap; mkdir -p "$P"
CASES=""
for n in $FLOWS; do
  python3 "$S/ovs/mkpcap.py" "$n" "$P/udpbi-$n.pcap" 64 1024 bidir || die "pcap $n"
  CASES="$CASES est-$n"
done
if [ "$NEW" -gt 0 ]; then
  python3 "$S/ovs/mkpcap.py" $((NEW_WARM + NEW)) "$P/new-all.pcap" 64 1024 || die "pcap new"
  CASES="$CASES new"
fi

RUNS=$TMP/runs.tsv; : > "$RUNS"
RUNLOG=$TMP/runs.txt; : > "$RUNLOG"
declare -A SETTINGS
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RUNS"; }
field() { echo "$1" | grep -o "$2=[0-9.e+-]*" | head -1 | cut -d= -f2; }

# ---------------------------------------------------------------- OVS
ovs_measure_case() { # case -> "rx= tx= secs= cpu= ... percpu=" of one run
  local c=$1 n=${1#est-} m
  ovsl_flows "$S/ovs/flows/br1-ct-fw.txt" || return 1
  ovsl_ct_flush
  if [ "$c" = new ]; then
    ovsl_appctl dpctl/ct-set-maxconns $((2 * (NEW_WARM + NEW))) >/dev/null; ovsl_sink null
    ovsl_measure_once "$P/new-all.pcap" "$NEW_WARM" $((NEW_WARM + NEW)) "$TSC_MHZ"; return
  fi
  ovsl_sink null; ovsl_source "$P/udpbi-$n.pcap" loop; sleep "$WARM"
  m=$(ovsl_measure "$SECS"); ovsl_source_del
  echo "$m percpu=$(awk -v r="$(field "$m" rx)" -v s="$(field "$m" secs)" -v c="$(field "$m" cpu)" 'BEGIN{printf "%.3f", (c > 0 && s > 0 ? r / s / c / 1e6 : 0)}')"
}
run_ovs_rep() { # rep
  local r=$1 prof c n line rx tx cpu pc st try
  ovsl_start "$TMP/ovs" slct > "$TMP/ovs-start.log" 2>&1 || { cat "$TMP/ovs-start.log" "$TMP/ovs/log/ovs-vswitchd.log" >&2 2>/dev/null; die "OVS did not start"; }
  for prof in default tuned; do
    for c in $CASES; do
      n=${c#est-}; [ "$c" = new ] && n=$((NEW_WARM + NEW))
      ovsl_profile "$prof" "$n"; SETTINGS[$prof-$c]=$OVSL_SETTINGS
      for try in $(seq 0 "$RETRIES"); do
        line=$(ovs_measure_case "$c")
        rx=$(field "$line" rx); tx=$(field "$line" tx); cpu=$(field "$line" cpu); pc=$(field "$line" percpu)
        if [ -z "$rx" ] || [ -z "$pc" ]; then st="REJECT run failed: $line"; pc=nan
        else st=$(python3 "$S/accept.py" run "$cpu" "$rx" "$tx"); fi
        echo "rep=$r ovs-$prof $c try=$try $line $st" >> "$RUNLOG"; log "rep $r ovs-$prof $c try $try: per-CPU $pc Mpps, cpu $cpu: $st"
        [ "$st" = ACCEPT ] && break
      done
      record "$c" "ovs-$prof" "$r" "$st" "$pc" "$line"
    done
  done
  { echo "OVS settings (ovs-vsctl get Open_vSwitch . other_config; src0 interface), last profile:"; ovsl_settings; } > "$TMP/ovs-settings.txt" 2>&1
  ovsl_stop
}

# ---------------------------------------------------------------- Sluice
sluice_args() { # case feature -> FirewallPcapBench arguments
  local c=$1 f=$2 n=${1#est-} pk mb mem a
  if [ "$c" = new ]; then
    a="--pcap $P/new-all.pcap --lcore 1 --once $NEW_WARM --max-conns $((2 * (NEW_WARM + NEW))) --extra-rules $EXTRA"
  else
    pk=$(( n < 1024 ? 2048 : 2 * n )); mb=$(( pk + 16384 )); mem=$(( mb / 200 + 512 )); [ $mem -lt 1024 ] && mem=1024
    a="--pcap $P/udpbi-$n.pcap --lcore 1 --warmup $WARM --seconds $SECS --extra-rules $EXTRA --mbufs $mb --mem $mem"
  fi
  case $f in
    trace|capture) a="$a --admin-socket $SOCK --await-armed $f";;
    flowlogs) a="$a --flow-logs $TMP/flows --flow-log-interval $FL_INTERVAL";;
  esac
  echo "$a"
}
sluice_cmd() { echo "$JAVA $JVM_FLAGS -Dsluice.native.lib=$NATIVE_LIB -cp $BENCH_JAR io.sluice.bench.firewall.FirewallPcapBench $(sluice_args "$@")"; }
run_sluice() { # case feature log -> "rx tx cpu percpu check" (not called in $(...): BENCH_PID/FEAT_PID stay known to cleanup)
  local c=$1 f=$2 lg=$3 ck=ok rx tx cpu pc
  rm -rf "$SOCK" "$TMP/flows"
  $(sluice_cmd "$c" "$f") > "$lg" 2>&1 < /dev/null &
  BENCH_PID=$!
  case $f in trace|capture) feat_start "$f" "$SOCK" ext "$lg.cli" "$BENCH_PID";; esac
  wait "$BENCH_PID"; BENCH_PID=""
  case $f in trace|capture) feat_stop; ck=$(feat_check "$f" "$lg" "$lg.cli");; esac
  if [ "$c" = new ]; then
    cpu=$(grep -o 'share=[0-9.]*' "$lg" | cut -d= -f2); pc=$(sed -n 's/^new_cpu_mpps=//p' "$lg")
    grep -q "^firewall: created=$((NEW_WARM + NEW)) .* no_rule=0 invalid=0 limit=0$" "$lg" || ck="not one connection per packet: $(grep '^firewall:' "$lg" || tail -1 "$lg")"
  else
    cpu=$(sed -n 's/^worker cpu share=//p' "$lg"); pc=$(sed -n 's/^cpu_mpps=//p' "$lg")
    # the same work as OVS means every packet forwarded: a firewall drop makes the run void
    grep -q '^firewall: .* no_rule=0 invalid=0$' "$lg" || ck="firewall drops: $(grep '^firewall:' "$lg" || tail -1 "$lg")"
  fi
  [ "$f" = flowlogs ] && ! grep -q '^flowlog written=' "$lg" && ck="no flow-log writer"
  rx=$(sed -n 's/^check rx=\([0-9]*\) .*/\1/p' "$lg"); tx=$(sed -n 's/^check rx=[0-9]* tx=\([0-9]*\) .*/\1/p' "$lg")
  rm -rf "$TMP/flows"
  echo "${rx:-0} ${tx:-0} ${cpu:-0} ${pc:-nan} ${ck// /_}"
}
variants() { # case -> the Sluice systems of that case
  local c=$1 f v="none"
  for f in $FEATURES; do [ "$c" = new ] && [ "$f" != flowlogs ] && continue; v="$v $f"; done
  echo "$v"
}
run_sluice_rep() { # rep
  local r=$1 c f i vs sys try rx tx cpu pc ck st lg
  for c in $CASES; do
    read -r -a vs <<< "$(variants "$c")"
    for i in $(seq 0 $((${#vs[@]} - 1))); do
      f=${vs[$(( (i + r - 1) % ${#vs[@]} ))]}
      sys=sluice; [ "$f" != none ] && sys=sluice+$f
      for try in $(seq 0 "$RETRIES"); do
        lg=$TMP/$sys-$c-$r-$try.log
        run_sluice "$c" "$f" "$lg" > "$TMP/line"
        read -r rx tx cpu pc ck < "$TMP/line"; ck=${ck//_/ }
        st=$(python3 "$S/accept.py" run "$cpu" "$rx" "$tx" "$ck")
        echo "rep=$r $sys $c try=$try rx=$rx tx=$tx cpu=$cpu per_cpu_mpps=$pc $(grep -E '^(window|firewall|flowlog|armed at end|measured)' "$lg" | tr '\n' ' ')$st" >> "$RUNLOG"
        log "rep $r $sys $c try $try: per-CPU $pc Mpps, cpu $cpu: $st"
        [ "$st" = ACCEPT ] && break
      done
      record "$c" "$sys" "$r" "$st" "$pc" ""
    done
  done
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$REPS"); do
  log "repetition $r/$REPS: OVS-DPDK (default, tuned)"
  run_ovs_rep "$r"
  sleep 1
  log "repetition $r/$REPS: Sluice (baseline and features)"
  run_sluice_rep "$r"
done
WALL=$(( $(date +%s) - T_START ))

TABLE=$(python3 "$S/accept.py" table "$RUNS" sluice ovs)
FEAT=""; [ -n "$FEATURES" ] && FEAT=$(python3 "$S/accept.py" ratios "$RUNS" sluice)
SHORT=""; [ "$SECS" -lt 6 ] || [ "$REPS" -lt 3 ] || [ "$WARM" -lt 3 ] && SHORT=short-
out="$SLUICE_HOME/bench/results/conntrack-e2e-$SHORT$(date -u +%Y%m%d-%H%M).md"
{
  echo "# Conntrack firewall end to end: Sluice vs OVS-DPDK userspace conntrack, and the cost of trace / capture / flow logs — $(date -u +%F\ %H:%M) UTC"
  echo
  [ -n "$SHORT" ] && { echo "**Short validation run** (fewer/shorter repetitions than the defaults, on a loaded machine): it shows the bench works, its figures are not measurements."; echo; }
  echo "Command: \`./sluice bench conntrack\` (bench/scripts/conntrack.sh) CT_FLOWS=\"$FLOWS\" CT_REPS=$REPS CT_RETRIES=$RETRIES CT_SECONDS=$SECS CT_WARMUP=$WARM CT_NEW=$NEW CT_NEW_WARM=$NEW_WARM CT_EXTRA_RULES=$EXTRA CT_FEATURES=\"$FEATURES\" CT_FLOWLOG_INTERVAL=$FL_INTERVAL; wall time ${WALL} s"
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), TSC $TSC_MHZ MHz (bench/scripts/tsc-mhz.c); load before: $LOAD_BEFORE, at end: $(cut -d' ' -f1-3 /proc/loadavg); sluice $(git rev-parse --short HEAD 2>/dev/null || echo ?)$(git diff --quiet 2>/dev/null || echo ' (dirty)'); $(ovs-vswitchd --version 2>/dev/null | head -1)"
  echo
  echo "Work: 64-byte UDP request/reply pairs over N flows (mkpcap.py bidir), replayed from memory by net_pcap infinite_rx"
  echo "into one forwarding core (CPU 1), out to net_null. OVS: flows/br1-ct-fw.txt (ct zone 1, commit new UDP 1001, +est both ways)."
  echo "Sluice: parse -> arp -> l2 -> firewall, destination port a VM port whose group allows UDP 1001 (+$EXTRA rules in front)."
  echo "new: $NEW one-way UDP flows, one packet each (each opens a connection), read once from the file, measured after $NEW_WARM warm-up flows."
  echo "Per-CPU rate = packets received per CPU-second of the forwarding thread (OVS PMD: /proc/<pid>/task/<tid>/schedstat;"
  echo "Sluice worker: its thread CPU time); OVS cycles per packet at the TSC rate in the run lines."
  echo "Acceptance (bench/scripts/accept.py, docs/performance.md#acceptance): thread >= 0.95 of its core, forwarded >= received (0.2 %"
  echo "window tolerance for OVS; Sluice over the whole run), Sluice's firewall dropped nothing of the stream, a feature stayed armed;"
  echo "$REPS interleaved repetitions per system, a rejected run repeated up to $RETRIES time(s); ratio = Sluice median / better OVS"
  echo "median over accepted runs; a case without an accepted run is nan."
  echo
  echo "$TABLE"
  echo
  if [ -n "$FEAT" ]; then
    echo "Operability features (issue 14) on Sluice's firewall, same run (goal: flow logs on, established-flow rate at most 5% lower):"
    echo
    for f in $FEATURES; do
      case $f in
        flowlogs) echo "- flowlogs: the configuration's \`flow-logs: { directory: DIR, interval-s: $FL_INTERVAL }\` (every other key its default), opened by FlowLogWiring.open as \`./sluice run\` opens it";;
        *) echo "- $f: \`$(feat_cmd "$f" ADMIN.sock ext)\` on the bench data plane's admin socket";;
      esac
    done
    echo
    echo "$FEAT"
    echo
  fi
  echo "OVS settings per profile and case:"
  echo '```'; for k in "${!SETTINGS[@]}"; do echo "$k: ${SETTINGS[$k]}"; done | sort; cat "$TMP/ovs-settings.txt" 2>/dev/null; echo '```'
  echo
  echo "## Commands"
  echo
  echo '```'
  echo "OVS: bench/scripts/ovs/lib.sh ovsl_start; ovs-ofctl -O OpenFlow13 replace-flows brn bench/scripts/ovs/flows/br1-ct-fw.txt; src0 = net_pcap0,rx_pcap=udpbi-N.pcap,infinite_rx=1; sink0 = net_null1,no-rx=1"
  for c in $CASES; do for f in $(variants "$c"); do sluice_cmd "$c" "$f" | sed "s|$TMP|TMP|g"; done; done
  for f in $FEATURES; do [ "$f" = flowlogs ] || feat_cmd "$f" TMP/admin.sock ext; done
  echo '```'
  echo
  echo "Every run (OVS: rx/tx packets in the window, cpu = PMD share of CPU 1, cyc_pkt = PMD processing cycles per packet; Sluice: rx/tx over the whole run):"
  echo '```'; cat "$RUNLOG"; echo '```'
} > "$out"
cat "$out" >&2
log "results: $out (wall ${WALL} s)"
[ -n "$FEAT" ] && echo "$FEAT" | grep '^feature_ratio'
echo "$TABLE" | tail -1
