#!/usr/bin/env bash
# ./sluice bench ab — a speed change measured against the build before it, in the same run.
#
# AB_BEFORE=<commit> (default HEAD~1) is exported with `git archive` into a scratch directory and
# built there (mvn -o package -pl bench -am, its own native shim); "after" is this checkout's build.
# Then AB_REPS repetitions, each running the Sluice side of every workload once with the "before"
# build and once with "after" (which one goes first alternates per repetition), on the same frames
# and the same lcore. The figure is packets per CPU-second of the worker thread (the benches'
# cpu_mpps); the result of a workload is the median of the per-repetition ratios after/before (each
# pair ran seconds apart, so machine load hits both) and the medians of each side.
#
# This is not a peer comparison (bench forward / conntrack / overlay do those, with accept.py); it
# answers "did this commit make Sluice faster", on a loaded machine, by ratios of alternating runs.
# Every run's worker CPU share is printed; a pair where either side got < AB_MIN_SHARE (default
# 0.2) of its core is left out of the median ratio and counted (all pairs left out: nan).
#
# Workloads (AB_WORK, space separated):
#   conntrack-N   FirewallPcapBench: parse -> arp -> l2 -> firewall (conntrack + SG), N UDP flows
#                 request/reply from memory (net_pcap infinite_rx), as `bench conntrack` est-N
#   forward       ForwardBench --pipeline parse-l2 --macs 1000, as `bench forward`
#   forward-P     ForwardBench --pipeline P
#   snat-N, fip-N NatPcapBench --mode snat|fip over N flows, as `bench nat` (natpcap.py gen)
#   ew2w-N        TenantBench run --mix ew --workers 2, N flows: the two-worker (shard hand-off) line of
#                 `bench tenant` (worker 0 on lcore 0 polls up, worker 1 on lcore 1 polls vm1); the
#                 figure is per CPU-second summed over both workers, and each side's median wall Mpps and
#                 window drops (hand-off) are printed beside it
#   tenant-N      TenantBench run --mix tenant --workers 1, N flows: the Sluice line of `bench tenant` (decap,
#                 anti-spoof, route, SG/conntrack, floating IP and SNAT, encap; 1000 remote VMs; four ports, lcore 1)
#   overlay-encap-N, overlay-decap-N  OverlayE2E encap|decap --pcap over N inner flows, 1000 remote VMs: the
#                 Sluice side of `bench overlay` (same frames, mbufs and memory as overlay.sh)
# Environment: AB_BEFORE=HEAD~1 AB_WORK="conntrack-100000 forward" AB_REPS=4 AB_SECONDS=4 AB_WARMUP=3
#              AB_NAME=<label for the result file> AB_EXTRA_ARGS_<before|after>= (appended to that side)
# Writes bench/results/ab-<AB_NAME>-<date>.md; last lines: ratio_<workload>=<median after/before>.
set -uo pipefail
SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SLUICE_HOME"
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
JVM_FLAGS=${JVM_FLAGS:---enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED -Dchronicle.analytics.disable=true}
BEFORE=${AB_BEFORE:-HEAD~1}
WORK=${AB_WORK:-conntrack-100000 forward}
REPS=${AB_REPS:-4}; SECS=${AB_SECONDS:-4}; WARM=${AB_WARMUP:-3}; MIN_SHARE=${AB_MIN_SHARE:-0.2}
S=$SLUICE_HOME/bench/scripts
die() { echo "ab.sh: $*" >&2; exit 1; }
log() { echo "ab.sh: $*" >&2; }
[ "$(id -u)" = 0 ] || die "needs root (DPDK ports)"
BEFORE_SHA=$(git rev-parse --short "$BEFORE") || die "unknown commit $BEFORE"
AFTER_SHA=$(git rev-parse --short HEAD)
[ -z "$(git status --porcelain -- dataplane/src/main bench/src native/src native/include)" ] || AFTER_SHA="$AFTER_SHA+uncommitted"
NAME=${AB_NAME:-$BEFORE_SHA-$AFTER_SHA}
export JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$JAVA")")") PATH="$(dirname "$JAVA"):$PATH"
TMP=$(mktemp -d /tmp/slab.XXXXXX)
PID=""
cleanup() {
  [ -n "$PID" ] && { kill "$PID" 2>/dev/null; sleep 1; kill -9 "$PID" 2>/dev/null; }
  for p in $PIDS; do rm -rf /var/run/dpdk/slb-fwd"$p" /var/run/dpdk/sluice"$p"; done
  rm -rf "$TMP"
}
PIDS=""
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building after (this checkout) and before ($BEFORE_SHA) in $TMP/before"
mvn -B -o -q package -DskipTests -pl bench -am >&2 || die "build of this checkout failed"
mkdir -p "$TMP/before"
git archive "$BEFORE" | tar -x -C "$TMP/before"
(cd "$TMP/before" && mvn -B -o -q package -DskipTests -pl bench -am >&2) || die "build of $BEFORE_SHA failed"
jar_of() { [ "$1" = before ] && echo "$TMP/before/bench/target/benchmarks.jar" || echo "$SLUICE_HOME/bench/target/benchmarks.jar"; }
lib_of() { [ "$1" = before ] && echo "$TMP/before/native/target/libsluice.so" || echo "$SLUICE_HOME/native/target/libsluice.so"; }

for w in $WORK; do
  case $w in
    conntrack-*) n=${w#conntrack-}; python3 "$S/ovs/mkpcap.py" "$n" "$TMP/udpbi-$n.pcap" 64 1024 bidir || die "pcap $n";;
    forward|forward-*) ;;
    snat-*|fip-*) python3 "$S/natpcap.py" gen "${w%%-*}" "${w#*-}" "$TMP" >&2 || die "pcap $w";;
    ew2w-*|tenant-*) n=${w#*-}; mkdir -p "$TMP/ew"; [ -f "$TMP/ew/tenant-$n-up.pcap" ] || "$JAVA" $JVM_FLAGS -cp "$(jar_of after)" io.sluice.bench.tenant.TenantBench write-pcap --dir "$TMP/ew" --flows "$n" --remote-vms 1000 >&2 || die "pcap tenant $n";;
    overlay-*) n=${w##*-}; mkdir -p "$TMP/ov"; [ -f "$TMP/ov/decap-$n.pcap" ] || "$JAVA" $JVM_FLAGS -cp "$(jar_of after)" io.sluice.bench.overlay.OverlayE2E write-pcap --dir "$TMP/ov" --flows "$n" --remote-vms 1000 >&2 || die "pcap overlay $n";;
    *) die "unknown workload $w";;
  esac
done
args_of() { # workload
  local w=$1 n pk mb mem
  case $w in
    conntrack-*)
      n=${w#conntrack-}; pk=$(( n < 1024 ? 2048 : 2 * n )); mb=$(( pk + 16384 )); mem=$(( mb / 200 + 512 )); [ $mem -lt 1024 ] && mem=1024
      echo "io.sluice.bench.firewall.FirewallPcapBench --pcap $TMP/udpbi-$n.pcap --lcore 1 --warmup $WARM --seconds $SECS --extra-rules 0 --mbufs $mb --mem $mem";;
    forward) echo "io.sluice.bench.forward.ForwardBench --pipeline parse-l2 --lcore 1 --warmup $WARM --seconds $SECS --mbufs 16384 --burst 32 --macs 1000";;
    forward-*) echo "io.sluice.bench.forward.ForwardBench --pipeline ${w#forward-} --lcore 1 --warmup $WARM --seconds $SECS --mbufs 16384 --burst 32 --macs 1000";;
    snat-*|fip-*) # as bench nat: VM and external frames replayed, NAT both ways
      n=${w#*-}; mb=$(( 2 * (n < 1024 ? 2048 : n) + 16384 ))
      echo "io.sluice.bench.nat.NatPcapBench --mode ${w%%-*} --vm-pcap $TMP/${w%%-*}-$n-vm.pcap --ext-pcap $TMP/${w%%-*}-$n-ext.pcap --lcore 1 --warmup $WARM --seconds $SECS --mbufs $mb --mem $(( mb / 200 + 512 )) --max-conns $(( 2 * n + 4096 ))";;
    ew2w-*) # mbufs and memory as bench tenant: every frame of the two files held, + 32768; 4.25 KB per mbuf without hugepages
      n=${w#ew2w-}; pk=$(( ($(stat -c %s "$TMP/ew/ew-$n-up.pcap") - 24) / 130 + ($(stat -c %s "$TMP/ew/ew-$n-vm1.pcap") - 24) / 80 )); mb=$(( pk + 32768 ))
      echo "io.sluice.bench.tenant.TenantBench run --mix ew --dir $TMP/ew --flows $n --remote-vms 1000 --workers 2 --lcore 1 --warmup $WARM --seconds $SECS --mbufs $mb --mem $(( mb * 17 / 4 / 1024 + 768 ))";;
    tenant-*) # as bench tenant's Sluice line: every frame of the four files held, + 32768
      n=${w#tenant-}; pk=0; for f in "$TMP"/ew/tenant-"$n"-*.pcap; do pk=$(( pk + ($(stat -c %s "$f") - 24) / 80 )); done; mb=$(( pk + 32768 ))
      echo "io.sluice.bench.tenant.TenantBench run --mix tenant --dir $TMP/ew --flows $n --remote-vms 1000 --workers 1 --lcore 1 --warmup $WARM --seconds $SECS --mbufs $mb --mem $(( mb * 17 / 4 / 1024 + 768 ))";;
    overlay-*) # as bench overlay (overlay.sh sluice_cmd): net_pcap holds the whole file, + 16384 mbufs
      n=${w##*-}; m=${w#overlay-}; m=${m%-*}; mb=$(( (n < 1024 ? 1024 : n) + 16384 )); mem=$(( mb / 200 + 512 )); [ $mem -lt 1024 ] && mem=1024
      echo "io.sluice.bench.overlay.OverlayE2E $m --lcore 1 --warmup $WARM --seconds $SECS --remote-vms 1000 --pcap $TMP/ov/$m-$n.pcap --mbufs $mb --mem $mem";;
  esac
}
cmd_of() { # side workload
  local extra_var="AB_EXTRA_ARGS_$1"
  echo "$JAVA $JVM_FLAGS -Dsluice.native.lib=$(lib_of "$1") -cp $(jar_of "$1") $(args_of "$2") ${!extra_var:-}"
}
RUNS=$TMP/runs.tsv; : > "$RUNS"
run() { # rep side workload
  local lg=$TMP/$3-$2-$1.log pc share wall drops
  $(cmd_of "$2" "$3") > "$lg" 2>&1 < /dev/null &
  PID=$!; PIDS="$PIDS $PID"
  wait "$PID"; PID=""
  pc=$(sed -n 's/^cpu_mpps=//p' "$lg" | tail -1); share=$(sed -n 's/^worker cpu share=//p' "$lg" | tail -1)
  [ -n "$pc" ] || { log "run failed, last lines:"; tail -5 "$lg" >&2; }
  wall=$(sed -n 's/^mpps=//p' "$lg" | tail -1); drops=$(sed -n 's/^window rx=.* drops=\([0-9]*\) .*/\1/p' "$lg" | tail -1)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$3" "$1" "$2" "${pc:-nan}" "${share:-nan}" "${wall:-nan}" "${drops:--}" >> "$RUNS"
  log "rep $1 $3 $2: ${pc:-nan} Mpps per CPU-second (worker share ${share:-nan})"
}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)
for r in $(seq 1 "$REPS"); do
  for w in $WORK; do
    if [ $((r % 2)) = 1 ]; then run "$r" before "$w"; run "$r" after "$w"; else run "$r" after "$w"; run "$r" before "$w"; fi
  done
done
T1=$(date +%s)
out=bench/results/ab-$NAME-$(date -u +%Y%m%d-%H%M).md
SUMMARY=$(python3 - "$RUNS" "$MIN_SHARE" "$WORK" <<'EOF'
import sys, statistics as st
runs, min_share, work = sys.argv[1], float(sys.argv[2]), sys.argv[3].split()
d, extra = {}, {}
for line in open(runs):
    w, r, side, pc, sh, wall, drops = line.rstrip("\n").split("\t")
    d.setdefault(w, {}).setdefault(r, {})[side] = (float(pc), float(sh))
    if drops != "-": extra.setdefault(w, {}).setdefault(side, []).append((float(wall), int(drops)))
def f(x): return "nan" if x != x else "%.3f" % x
last = []
for w in work:
    ratios, b, a, left = [], [], [], 0
    for r, s in sorted(d.get(w, {}).items(), key=lambda kv: int(kv[0])):
        if "before" not in s or "after" not in s: continue
        (pb, sb), (pa, sa) = s["before"], s["after"]
        if pb != pb or pa != pa or sb < min_share or sa < min_share or pb <= 0:
            left += 1; continue
        ratios.append(pa / pb); b.append(pb); a.append(pa)
    med = st.median(ratios) if ratios else float("nan")
    print(f"{w}: before median {f(st.median(b) if b else float('nan'))}, after median {f(st.median(a) if a else float('nan'))} Mpps per CPU-second; "
          f"after/before per pair {' '.join(f(x) for x in ratios) or '-'}; pairs left out (share < {min_share}): {left}")
    for side in ("before", "after"):
        e = extra.get(w, {}).get(side)
        if e: print(f"  {side}: wall Mpps median {f(st.median(x[0] for x in e))}, window drops per run {' '.join(str(x[1]) for x in e)}")
    last.append(f"ratio_{w}={f(med)}")
print("\n".join(last))
EOF
)
{
  echo "# A/B: $AFTER_SHA against $BEFORE_SHA (./sluice bench ab) — $(date -u +%F\ %H:%M) UTC"
  echo
  echo "Command: \`AB_BEFORE=$BEFORE AB_WORK=\"$WORK\" AB_REPS=$REPS AB_SECONDS=$SECS AB_WARMUP=$WARM bench/scripts/ab.sh\`"
  echo "(before = commit $BEFORE_SHA built by the script in a scratch directory; after = $AFTER_SHA)"
  echo
  echo "Load before: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg); wall time $((T1 - T0)) s."
  echo "Loaded shared machine: each repetition runs both builds back to back (the first alternates), the"
  echo "figure is the median of the per-pair ratios after/before of packets per CPU-second of the worker."
  echo
  for w in $WORK; do echo "- $w: \`$(cmd_of after "$w" | sed "s#$TMP#<tmp>#g")\`"; done
  echo
  echo '```'
  echo "$SUMMARY"
  echo '```'
  echo
  echo "Every run (workload, repetition, side, Mpps per CPU-second, worker CPU share (the smallest), wall Mpps, window drops):"
  echo '```'
  cat "$RUNS"
  echo '```'
} > "$out"
cat "$out"
echo "result: $out" >&2
