#!/usr/bin/env bash
# ./sluice bench latency — per-packet latency through the real data plane, with and without rule
# churn, and the JVM's pauses, against testpmd io (the memif loopback floor) and OVS-DPDK 3.1
# (userspace conntrack, flows bench/scripts/ovs/flows/br1-ct-fw.txt: ct + allow) on the same loopback.
#
# Loopback: a generator process (io.sluice.bench.latency.LatencyGen: its own EAL, --file-prefix
# ${PFX}g, lcore 0 = CPU 0) has two net_memif client ports A and B connected to two memif server
# ports of the system under test, whose forwarding thread is on CPU 1. It sends 60-byte UDP frames at
# LAT_RATE packets/s, alternately A->B (VM app 10.0.1.11 -> VM db 10.0.1.12:1001, LAT_FLOWS source
# ports) and the reply B->A, each stamped with System.nanoTime at tx; what comes back is timed with
# the same clock in the same process into a fixed log-linear histogram (no allocation).
#   sluice-g1 / sluice-zgc: `Main run` (what ./sluice run starts) on a configuration with the
#     overlay (project blue, VMs app and db on the two memif ports, an unused net_null uplink),
#     security groups with conntrack on both VM ports, the control API, one worker on lcore 1
#     (busy-spin). The JVM runs under `taskset -c 0` (its worker pins itself to CPU 1, so JIT, GC
#     and API threads stay off the worker's CPU), with -XX:+UseG1GC or -XX:+UseZGC (generational in
#     25) and -Xlog:safepoint*,gc*. Phases after LAT_WARMUP s: steady (LAT_SECONDS), then churn
#     (LAT_SECONDS) while io.sluice.bench.latency.LatencyChurn applies LAT_CHURN_RATE rule changes per
#     second through the control API (PUT of a security group that VM db is in, X-API-Key).
#   testpmd: dpdk-testpmd --forward-mode=io between two memif server ports (no pipeline): the floor.
#   ovs: OVS-DPDK (bench/scripts/ovs/lib.sh, own ovsdb/vswitchd/netns, tuned profile: SMC on, EMC
#     insertion 1, rxq affinity to the PMD on CPU 1) with memif server ports 1 and 2; steady only.
# Acceptance (bench/scripts/accept.py run, the one rule): per phase, the forwarding thread got >= 0.95
# of its core (schedstat over the phase) and nothing was lost; else the run is repeated up to
# LAT_RETRIES times and a phase left without an accepted run is nan. The generator shares CPU 0 with
# the data plane's JIT, GC and control API and with the churn driver by design (2 cores): its share
# (gen_cpu) and the frames in flight while it was away (gen_stalled, and the percentiles without
# them) are reported beside the result, which they can only make worse, never better.
# Pauses: each safepoint in the DUT JVM's log (Total = reaching + at + leaving) that overlaps a
# phase; the max and the number over 1 ms per phase.
#
# Environment: LAT_RATE=50000 LAT_FLOWS=100 LAT_SECONDS=10 LAT_WARMUP=15 LAT_CHURN_RATE=100
#              LAT_GCS="g1 zgc" LAT_PEERS="testpmd ovs" LAT_RETRIES=1 LAT_IDLE=busy-spin
#              LAT_KEEP=1 (keep the scratch directory: logs, DUT and OVS output)
# Writes bench/results/latency-<date>.md; prints last "p999_over_p50=<x> max_pause_ms=<y>" for the
# launcher's collector (the worse p99.9/p50 of its two phases; its largest pause during churn), nan
# when a phase has no accepted run.
set -uo pipefail
SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SLUICE_HOME"
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
JVM_FLAGS=${JVM_FLAGS:---enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED -Dchronicle.analytics.disable=true}
NATIVE_LIB=${SLUICE_NATIVE_LIB:-$SLUICE_HOME/native/target/libsluice.so}
SLUICE_JAR=${SLUICE_JAR:-$SLUICE_HOME/dataplane/target/sluice.jar}
BENCH_JAR=${BENCH_JAR:-$SLUICE_HOME/bench/target/benchmarks.jar}
RATE=${LAT_RATE:-50000}; FLOWS=${LAT_FLOWS:-100}; SECS=${LAT_SECONDS:-10}; WARM=${LAT_WARMUP:-15}
CHURN=${LAT_CHURN_RATE:-100}; GCS=${LAT_GCS-g1 zgc}; PEERS=${LAT_PEERS-testpmd ovs}
RETRIES=${LAT_RETRIES:-1}; IDLE=${LAT_IDLE:-busy-spin}
S=$SLUICE_HOME/bench/scripts
die() { echo "latency.sh: $*" >&2; exit 1; }
log() { echo "latency.sh: $*" >&2; }
[ "$(id -u)" = 0 ] || die "needs root (DPDK memif ports, OVS-DPDK)"
for g in $GCS; do case $g in g1|zgc) ;; *) die "LAT_GCS: unknown collector '$g' (g1, zgc)";; esac; done
for p in $PEERS; do case $p in testpmd|ovs) ;; *) die "LAT_PEERS: unknown peer '$p' (testpmd, ovs)";; esac; done
if [ ! -f "$BENCH_JAR" ] || [ -n "$(find bench/src dataplane/src/main rules-compiler/src/main -newer "$BENCH_JAR" -type f 2>/dev/null | head -1)" ]; then
  log "building (mvn -q -pl bench -am package -DskipTests)"
  mvn -q -pl bench -am package -DskipTests >&2 || die "build failed"
fi
# the collector the launcher starts ./sluice run with (the figure of the last line): SLUICE_DATAPLANE_GC
# from ./sluice (its DATAPLANE_GC), else the JVM's default (G1 on a machine with 2 CPUs)
DEFAULT_GC=g1; case " ${SLUICE_DATAPLANE_GC:-} $JVM_FLAGS " in *" -XX:+UseZGC "*) DEFAULT_GC=zgc;; esac
# the DUT's flags: the launcher's, without a collector choice (each case sets its own)
DUT_FLAGS=$(echo " $JVM_FLAGS " | sed -E 's/ -XX:\+Use[A-Za-z]+GC / /g; s/ -XX:[+-]ZGenerational / /g')
GEN_FLAGS="--enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"

T_START=$(date +%s)
PFX=slat$(( $$ % 100000 ))
TMP=$(mktemp -d /tmp/slat.XXXXXX)
PIDS=""          # every process this script started and has not reaped yet
OVS_UP=0
. "$S/ovs/lib.sh"
stop_pid() { # PID: SIGTERM, then SIGKILL after 10 s; only our own children
  local p=$1 k
  kill -0 "$p" 2>/dev/null || return 0
  kill "$p" 2>/dev/null
  for k in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null
  wait "$p" 2>/dev/null; PIDS=$(echo " $PIDS " | sed "s/ $p / /g")
}
cleanup() {
  local p
  for p in $PIDS; do stop_pid "$p"; done
  [ "$OVS_UP" = 1 ] && ovsl_stop >/dev/null 2>&1
  rm -rf /var/run/dpdk/${PFX}g /var/run/dpdk/${PFX}t /var/run/dpdk/${PFX}ovs
  for p in ${DUT_PIDS:-}; do rm -rf "/var/run/dpdk/sluice$p"; done
  if [ "${LAT_KEEP:-0}" = 1 ]; then echo "latency.sh: kept $TMP (LAT_KEEP=1)" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers
now_ms() { date +%s%3N; }
sleep_until_ms() { local d=$(( $1 - $(now_ms) )); [ "$d" -gt 0 ] && sleep "$(awk -v d=$d 'BEGIN{printf "%.3f", d/1000}')"; return 0; }
tid_of() { # PID COMM-PREFIX -> the first thread of PID whose name starts with it
  local t; for t in /proc/$1/task/*; do case "$(cat "$t/comm" 2>/dev/null)" in $2*) basename "$t"; return 0;; esac; done; return 1
}
cpu_ns() { cut -d' ' -f1 "/proc/$1/task/$2/schedstat" 2>/dev/null || echo 0; }
field() { echo "$1" | grep -o "$2=[^ ]*" | head -1 | cut -d= -f2; }

# gen SYSTEM SOCK_A SOCK_B PHASES FWD_PID FWD_COMM [CHURN_API CHURN_KEY]   (env GEN_RXQ: the generator's rx queues)
# runs the generator (and the churn driver in the second phase when an API is given) and samples
# the forwarding thread's CPU at each phase edge; writes $TMP/run-SYSTEM.{gen,cpu,churn}
gen() {
  local sys=$1 a=$2 b=$3 phases=$4 fpid=$5 fcomm=$6 api=${7:-} key=${8:-} t0 tid gp cp np e i c0 c1 w0 w1
  np=$(echo "$phases" | tr ',' '\n' | wc -l)
  t0=$(( $(now_ms) + (WARM + 4) * 1000 ))
  taskset -c 0 "$JAVA" $GEN_FLAGS -Xmx256m -Dsluice.native.lib="$NATIVE_LIB" -cp "$BENCH_JAR" io.sluice.bench.latency.LatencyGen \
    --sock-a "$a" --sock-b "$b" --rate "$RATE" --flows "$FLOWS" --t0-ms "$t0" --phase-s "$SECS" --phases "$phases" \
    --prefix "${PFX}g" --rx-queues "${GEN_RXQ:-1}" > "$TMP/run-$sys.gen" 2>&1 &
  gp=$!; PIDS="$PIDS $gp"
  cp=""
  if [ -n "$api" ]; then
    taskset -c 0 "$JAVA" -Xmx128m -cp "$BENCH_JAR" io.sluice.bench.latency.LatencyChurn --api "$api" --key "$key" \
      --start-ms $(( t0 + SECS * 1000 )) --seconds "$SECS" --rate "$CHURN" > "$TMP/run-$sys.churn" 2>&1 &
    cp=$!; PIDS="$PIDS $cp"
  fi
  : > "$TMP/run-$sys.cpu"
  tid=$(tid_of "$fpid" "$fcomm") || { echo "no thread $fcomm in $fpid" > "$TMP/run-$sys.cpu"; }
  sleep_until_ms "$t0"
  for i in $(seq "$np"); do
    c0=$(cpu_ns "$fpid" "$tid"); w0=$(date +%s%N)
    sleep_until_ms $(( t0 + i * SECS * 1000 ))
    c1=$(cpu_ns "$fpid" "$tid"); w1=$(date +%s%N)
    awk -v c=$((c1 - c0)) -v w=$((w1 - w0)) -v s=$(( t0 + (i - 1) * SECS * 1000 )) -v e=$(( t0 + i * SECS * 1000 )) \
      'BEGIN{printf "fwd_cpu=%.3f start_ms=%s end_ms=%s\n", c / w, s, e}' >> "$TMP/run-$sys.cpu"
  done
  for e in $(seq 200); do kill -0 "$gp" 2>/dev/null || break; sleep 0.1; done
  stop_pid "$gp"
  [ -n "$cp" ] && { for e in $(seq 300); do kill -0 "$cp" 2>/dev/null || break; sleep 0.1; done; stop_pid "$cp"; }
  return 0
}

# pauses JVMLOG START_MS END_MS -> "max_pause_ms=<x> pauses_over_1ms=<n> [list]" from the safepoint lines
pauses() {
  python3 - "$@" <<'PY'
import glob, re, sys
log, s, e = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mx, over, names = 0.0, 0, {}
for f in sorted(glob.glob(log + '*')):
    for line in open(f, errors='replace'):
        m = re.search(r'\[(\d+)ms\].*\[safepoint\s*\] Safepoint "([^"]+)".*Total: (\d+) ns', line)
        if not m:
            continue
        end, name, tot = int(m.group(1)), m.group(2), int(m.group(3))
        start = end - tot / 1e6
        if end < s or start >= e:
            continue
        ms = tot / 1e6
        mx = max(mx, ms)
        if ms > 1.0:
            over += 1
            names[name] = names.get(name, 0) + 1
print(f"max_pause_ms={mx:.3f} pauses_over_1ms={over}" + ("" if not names else " (" + ", ".join(f"{k} x{v}" for k, v in sorted(names.items())) + ")"))
PY
}

RESULTS=$TMP/results.tsv; : > "$RESULTS"   # system phase status line
RUNLOG=$TMP/runs.txt; : > "$RUNLOG"
# judge SYSTEM PHASES JVMLOG(or -) -> appends one line per phase to $RESULTS; returns 0 when all accepted
judge() {
  local sys=$1 phases=$2 jlog=$3 i=0 ph line cl fc gc st pz ok=0 sent recv ch=""
  [ -f "$TMP/run-$sys.churn" ] && ch=$(grep '^churn offered' "$TMP/run-$sys.churn" | tail -1)
  for ph in $(echo "$phases" | tr ',' ' '); do
    i=$((i + 1))
    line=$(grep "^phase=$ph " "$TMP/run-$sys.gen" | tail -1)
    cl=$(sed -n "${i}p" "$TMP/run-$sys.cpu")
    if [ -z "$line" ] || [ -z "$(field "$cl" fwd_cpu)" ]; then
      st="REJECT run failed: $(grep -v '^EAL\|^TELEMETRY\|mp action' "$TMP/run-$sys.gen" | tail -1)"; pz=""
    else
      fc=$(field "$cl" fwd_cpu); gc=$(field "$line" gen_cpu); sent=$(field "$line" sent); recv=$(field "$line" received)
      st=$(python3 "$S/accept.py" run "$fc" "$sent" "$recv" ok)
      pz=""; [ "$jlog" != - ] && pz=$(pauses "$jlog" "$(field "$cl" start_ms)" "$(field "$cl" end_ms)")
    fi
    printf '%s\t%s\t%s\t%s %s %s %s\n' "$sys" "$ph" "${st%% *}" "$line" "$cl" "$pz" "$([ "$ph" = churn ] && echo "$ch")" >> "$RESULTS.try"
    echo "$sys $ph: $st | $line | $cl | $pz $([ "$ph" = churn ] && echo "| $ch")" >> "$RUNLOG"
    log "$sys $ph: ${st} p50=$(field "$line" p50_us)us p99.9=$(field "$line" p999_us)us max=$(field "$line" max_us)us $pz"
    [ "${st%% *}" = ACCEPT ] || ok=1
  done
  return $ok
}
# keep the last try of a system in $RESULTS
commit_try() { cat "$RESULTS.try" >> "$RESULTS"; rm -f "$RESULTS.try"; }

# ---------------------------------------------------------------- Sluice
KEY=latency-bench-key
sluice_config() { # DIR
  local d=$1 h; h=$(printf %s "$KEY" | sha256sum | cut -d' ' -f1)
  cat > "$d/sluice.yaml" <<EOF
eal: ["--no-huge", "-m", "1024", "--no-pci", "--no-shconf", "-l", "0,1"]
burst-size: 32
idle-strategy: $IDLE
mbufs: 16383
counters-file: $d/counters.dat
metrics: {listen: "off"}
dpdk-log: {file: $d/dpdk.log, level: info}
ports:
  - {name: up,  device: "net_null0,no-rx=1"}
  - {name: app, device: "net_memif0,role=server,id=0,socket=$d/a.sock,socket-abstract=no"}
  - {name: db,  device: "net_memif1,role=server,id=0,socket=$d/b.sock,socket-abstract=no"}
workers:
  - {lcore: 1, rx: [up, app, db]}
overlay:
  uplink: up
  underlay-ip: 192.168.50.1/24
  underlay-mac: "02:00:00:00:aa:01"
  router-mac: "02:00:00:00:ff:01"
  networks:
    - name: blue
      vni: 100
      cidr: 10.0.0.0/16
      subnets: [{name: a, cidr: 10.0.1.0/24, gateway: 10.0.1.1}]
      vms:
        - {name: app, subnet: a, mac: "02:b3:00:00:01:11", ip: 10.0.1.11, port: app}
        - {name: db,  subnet: a, mac: "02:b3:00:00:01:12", ip: 10.0.1.12, port: db}
security-groups: {}
api:
  listen: 127.0.0.1:0
  keys: [{id: bench, sha256: $h, projects: ["*"]}]
  journal: $d/journal
  audit: $d/audit
EOF
}
gc_flag() { case $1 in g1) echo "-XX:+UseG1GC";; zgc) echo "-XX:+UseZGC";; *) die "unknown collector $1 (g1, zgc)";; esac; }
DUT_PIDS=""
run_sluice() { # GC TRY
  local gc=$1 try=$2 d=$TMP/sluice-$1-$2 dp api k sys=sluice-$1
  mkdir -p "$d"; sluice_config "$d"
  DUT_CMD="taskset -c 0 $JAVA $DUT_FLAGS $(gc_flag "$gc") -Xlog:safepoint*,gc*:file=$d/jvm.log:uptime,timemillis,tags:filecount=4,filesize=20m -Dsluice.native.lib=$NATIVE_LIB -Dsluice.home=$SLUICE_HOME -Dsluice.conntrack.dir=$d -cp $SLUICE_JAR io.sluice.dataplane.Main run $d/sluice.yaml"
  # shellcheck disable=SC2086
  $DUT_CMD > "$d/out.txt" 2>&1 &
  dp=$!; PIDS="$PIDS $dp"; DUT_PIDS="$DUT_PIDS $dp"
  api=""
  for k in $(seq 1200); do
    api=$(sed -n 's/^sluice: control API on \(http[^ ]*\).*/\1/p' "$d/out.txt" | head -1)
    [ -n "$api" ] && break
    kill -0 "$dp" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$api" ]; then
    log "$sys: data plane did not start: $(tail -3 "$d/out.txt" | tr '\n' ' ')"
    echo "phase=none start failed" > "$TMP/run-$sys.gen"; : > "$TMP/run-$sys.cpu"; : > "$TMP/run-$sys.churn"
  else
    gen "$sys" "$d/a.sock" "$d/b.sock" steady,churn "$dp" sluice-worker-0 "$api" "$KEY"
  fi
  stop_pid "$dp"
  grep -E '^sluice: (summary|port (app|db):)' "$d/out.txt" > "$TMP/run-$sys.summary" 2>/dev/null
  cp "$d/jvm.log" "$TMP/jvm-$sys.log" 2>/dev/null; cat "$d"/jvm.log.* >> "$TMP/jvm-$sys.log" 2>/dev/null
  : > "$RESULTS.try"
  judge "$sys" steady,churn "$TMP/jvm-$sys.log"
}

# ---------------------------------------------------------------- testpmd io (the floor)
run_testpmd() { # TRY
  local d=$TMP/testpmd tp
  mkdir -p "$d"; rm -f "$d"/*.sock
  TESTPMD_CMD="taskset -c 0,1 dpdk-testpmd -l 0,1 --main-lcore 0 --no-huge -m 512 --no-pci --no-shconf --file-prefix ${PFX}t --vdev net_memif0,role=server,id=0,socket=$d/a.sock,socket-abstract=no --vdev net_memif1,role=server,id=0,socket=$d/b.sock,socket-abstract=no -- --forward-mode=io --nb-cores=1 --total-num-mbufs=16384 --burst=32 --auto-start --stats-period 1"
  # shellcheck disable=SC2086
  $TESTPMD_CMD > "$d/out.txt" 2>&1 < /dev/null &
  tp=$!; PIDS="$PIDS $tp"
  for k in $(seq 100); do [ -S "$d/b.sock" ] && break; sleep 0.1; done
  : > "$RESULTS.try"
  gen testpmd "$d/a.sock" "$d/b.sock" steady "$tp" rte-worker
  stop_pid "$tp"
  judge testpmd steady -
}

# ---------------------------------------------------------------- OVS-DPDK
OVS_NOTE=""
run_ovs() { # TRY
  local d=$TMP/ovs k pid
  if [ -n "$(pidof ovs-vswitchd-dpdk 2>/dev/null)" ]; then
    OVS_NOTE="not run: another ovs-vswitchd-dpdk (pid $(pidof ovs-vswitchd-dpdk)) was running; it would share CPU 1"; return 1
  fi
  [ -x "$OVSL_VSWITCHD" ] || { OVS_NOTE="not run: openvswitch-switch-dpdk is not installed"; return 1; }
  OVS_UP=1
  if ! ovsl_start "$d" "$PFX" > "$TMP/ovs-start.log" 2>&1; then
    OVS_NOTE="not run: OVS did not start ($(tail -2 "$TMP/ovs-start.log" | tr '\n' ' '))"; ovsl_stop >/dev/null 2>&1; OVS_UP=0; return 1
  fi
  ovsl_profile tuned "$FLOWS"
  ovsl_vsctl --if-exists del-port brn sink0
  for k in 0 1; do
    ovsl_vsctl add-port brn mif$k -- set Interface mif$k type=dpdk ofport_request=$((k + 1)) other_config:pmd-rxq-affinity=0:1 \
      options:dpdk-devargs="net_memif$k,role=server,id=0,socket=$d/mif$k.sock,socket-abstract=no" >> "$TMP/ovs-start.log" 2>&1
  done
  ovsl_flows "$S/ovs/flows/br1-ct-fw.txt" 2>> "$TMP/ovs-start.log"
  for k in $(seq 100); do [ -S "$d/mif1.sock" ] && break; sleep 0.1; done
  { echo "OVS settings: $OVSL_SETTINGS"; ovsl_vsctl get Open_vSwitch . other_config; ovsl_vsctl --columns=name,options,other_config list Interface mif0 mif1 | tr -s ' '; } > "$TMP/ovs-settings.txt" 2>&1
  pid=$(ovsl_pid)
  : > "$RESULTS.try"
  # OVS's PMD transmits on tx queue 1 of each port (0 is the main thread's): two memif rings back
  GEN_RXQ=2 gen ovs "$d/mif0.sock" "$d/mif1.sock" steady "$pid" pmd
  ovsl_appctl dpctl/show -s > "$TMP/ovs-ports.txt" 2>&1
  ovsl_stop >/dev/null 2>&1; OVS_UP=0
  judge ovs steady -
}

# ---------------------------------------------------------------- runs
retry() { # FUNCTION ARGS...: runs it, repeats up to RETRIES times while a phase is rejected
  local t
  for t in $(seq 0 "$RETRIES"); do
    "$@" "$t" && { commit_try; return 0; }
    [ -n "$OVS_NOTE" ] && { rm -f "$RESULTS.try"; return 1; }
    [ "$t" -lt "$RETRIES" ] && log "$1 $2: rejected, repeating"
  done
  commit_try
}
for p in $PEERS; do case $p in testpmd) retry run_testpmd;; ovs) retry run_ovs;; *) die "unknown peer $p (testpmd, ovs)";; esac; done
for g in $GCS; do retry run_sluice "$g"; done
WALL=$(( $(date +%s) - T_START ))

# ---------------------------------------------------------------- report
row() { # SYSTEM PHASE -> a table row from the last recorded try
  local l; l=$(awk -F'\t' -v s="$1" -v p="$2" '$1==s && $2==p' "$RESULTS" | tail -1)
  if [ -z "$l" ]; then printf '| %s | %s | not run | | | | nan | nan | nan | nan | nan | | | | | |\n' "$1" "$2"; return; fi
  local st rest; st=$(echo "$l" | cut -f3); rest=$(echo "$l" | cut -f4)
  local p50 p99 p999 mx ratio
  p50=$(field "$rest" p50_us); p999=$(field "$rest" p999_us)
  ratio=$(awk -v a="$p999" -v b="$p50" 'BEGIN{ if (b + 0 > 0) printf "%.2f", a / b; else print "nan" }')
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s (%s) |\n' "$1" "$2" "$st" \
    "$(field "$rest" sent)" "$(field "$rest" received)" "$(field "$rest" lost)" "$p50" "$(field "$rest" p99_us)" "$p999" \
    "$(field "$rest" max_us)" "$ratio" "$(field "$rest" fwd_cpu)" "$(field "$rest" gen_cpu)" \
    "$(field "$rest" max_pause_ms)" "$(field "$rest" pauses_over_1ms)" \
    "$(field "$rest" clean_p50_us)" "$(field "$rest" clean_p999_us)" "$(field "$rest" gen_stalled)"
}
final() { # GC -> "p999_over_p50=<x> max_pause_ms=<y>"
  python3 - "$RESULTS" "sluice-$1" <<'PY'
import re, sys
rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[1]) if l.startswith(sys.argv[2] + '\t')]
def f(rest, k):
    m = re.search(k + r'=([0-9.]+)', rest)
    return float(m.group(1)) if m else None
ratio, pause = [], None
for sysname, ph, st, rest in rows:
    if st != 'ACCEPT':
        print('p999_over_p50=nan max_pause_ms=nan'); sys.exit()
    p50, p999 = f(rest, 'p50_us'), f(rest, 'p999_us')
    ratio.append(p999 / p50 if p50 else float('nan'))
    if ph == 'churn':
        pause = f(rest, 'max_pause_ms')
if len(ratio) < 2 or pause is None:
    print('p999_over_p50=nan max_pause_ms=nan'); sys.exit()
print(f'p999_over_p50={max(ratio):.2f} max_pause_ms={pause:.3f}')
PY
}
out="$SLUICE_HOME/bench/results/latency-$(date -u +%Y%m%d-%H%M).md"
{
  echo "# Latency and pauses: Sluice (tenant pipeline, SG + conntrack) vs testpmd io and OVS-DPDK on a memif loopback — $(date -u +%F\ %H:%M) UTC"
  echo
  echo "Command: \`./sluice bench latency\` (bench/scripts/latency.sh) LAT_RATE=$RATE LAT_FLOWS=$FLOWS LAT_SECONDS=$SECS LAT_WARMUP=$WARM LAT_CHURN_RATE=$CHURN LAT_GCS=\"$GCS\" LAT_PEERS=\"$PEERS\" LAT_RETRIES=$RETRIES LAT_IDLE=$IDLE; wall time ${WALL} s"
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load at end: $(cut -d' ' -f1-3 /proc/loadavg); sluice $(git rev-parse --short HEAD 2>/dev/null || echo ?); $("$JAVA" -version 2>&1 | head -1); $(ovs-vswitchd --version 2>/dev/null | head -1)"
  echo "Launcher's collector (the last line's): $DEFAULT_GC"
  echo
  echo "Loopback: generator (LatencyGen, own EAL, CPU 0) --memif A/B--> system under test (forwarding thread on CPU 1) --memif--> generator."
  echo "$RATE frames/s of 60 bytes, alternately A->B (10.0.1.11:20000+i -> 10.0.1.12:1001, $FLOWS flows) and the reply B->A; latency = System.nanoTime"
  echo "at rx minus the stamp written at tx (one process, one clock), so it includes both memif hops and the generator's own polling."
  echo "Sluice: Main run (overlay: VMs app/db of project blue on the memif ports; security groups + conntrack on both; control API), worker on lcore 1"
  echo "($IDLE), JVM under taskset -c 0 (JIT, GC, API threads on CPU 0). Churn: $CHURN PUTs/s of security group blue/churn (VM db is a member)."
  echo "testpmd: io forwarding between the two memif ports, no pipeline (the floor). OVS: br1-ct-fw.txt flows (ct(zone=1) + commit/allow), tuned profile."
  echo "Acceptance per phase: forwarding thread >= 0.95 of its core, nothing lost (bench/scripts/accept.py run); $RETRIES repeat(s) at most."
  echo "The generator's share of CPU 0 (gen cpu) is reported, not judged: it shares CPU 0 with the DUT's JIT/GC/API and the churn driver."
  echo "Pauses: safepoints of the DUT JVM (-Xlog:safepoint*,gc*; Total = reaching + at + leaving) overlapping the phase."
  echo "Last column (diagnosis only, not the result): the same percentiles without the frames that were in flight while the generator"
  echo "itself was away > 20 µs between two polls (descheduled or interrupted on the shared CPU 0)."
  echo
  echo "| system | phase | status | sent | received | lost | p50 µs | p99 µs | p99.9 µs | max µs | p99.9/p50 | fwd cpu | gen cpu | max pause ms | pauses > 1 ms | without generator stalls: p50 / p99.9 µs (frames left out) |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  for p in $PEERS; do row "$p" steady; done
  for g in $GCS; do row "sluice-$g" steady; row "sluice-$g" churn; done
  [ -n "$OVS_NOTE" ] && { echo; echo "OVS: nan — $OVS_NOTE"; }
  echo
  echo "Every try (generator line | forwarding-thread CPU share and phase window | pauses | churn driver):"
  echo '```'; cat "$RUNLOG"; cat "$TMP"/run-*.summary 2>/dev/null; echo '```'
  echo "Sluice JVM (the last run's; the other collector's differs only in -XX:+Use...GC): \`${DUT_CMD:-}\`"
  echo "testpmd: \`${TESTPMD_CMD:-}\`"
  if [ -f "$TMP/ovs-settings.txt" ]; then echo "OVS:"; echo '```'; cat "$TMP/ovs-settings.txt"; cat "$S/ovs/flows/br1-ct-fw.txt"; echo '```'; fi
  echo "Generator: \`taskset -c 0 java ... io.sluice.bench.latency.LatencyGen --sock-a A --sock-b B --rate $RATE --flows $FLOWS --t0-ms T0 --phase-s $SECS --phases steady,churn --prefix ${PFX}g\`"
  echo "Churn: \`taskset -c 0 java ... io.sluice.bench.latency.LatencyChurn --api URL --key KEY --start-ms T0+${SECS}000 --seconds $SECS --rate $CHURN\`"
  echo
  final "$DEFAULT_GC"
} > "$out"
cat "$out" >&2
log "results: $out (wall ${WALL} s)"
tail -1 "$out"
