#!/usr/bin/env bash
# ./sluice bench nat — Sluice's NAT (security groups + conntrack + SNAT / floating IP, overlay pipeline,
# one worker) against OVS-DPDK 3.1 userspace conntrack NAT (ct(nat), flows bench/scripts/ovs/flows/
# br1-ct-snat.txt and br1-ct-fip.txt), same run, same frames, same core (CPU 1), per CPU-second of
# the forwarding thread. OVS is started by bench/scripts/ovs/lib.sh (our own harness, named "slnt").
#
# Cases (64-byte UDP, the VM 10.254.0.1:1000 to N servers :1001 and their replies, natpcap.py):
#   snat-N  SG + SNAT to 203.0.113.1, established both ways (N = 1000, 100000)
#   fip-N   SG + floating IP 198.51.100.1, established both ways
#   new     new outbound connections through SNAT (NEW one-packet flows read once, after NEW_WARM)
# Systems: ovs-default, ovs-tuned (bench/scripts/ovs/lib.sh ovsl_profile), sluice. The reference of
# every ratio is the better OVS. Each repetition: OVS (both profiles, every case), stopped, then
# Sluice (every case); NAT_REPS repetitions; the acceptance rule (bench/scripts/accept.py) rejects a
# run whose thread got < 0.95 of its core or that forwarded less than it received, which is then
# repeated up to NAT_RETRIES times; a case left with no accepted run is nan, and so is min_ratio.
# Translation check, once per case and system before the measurements: what leaves is written to a
# pcap and checked frame by frame (natpcap.py check): Sluice reads each input once and must send all
# of it; OVS loops its input for 1 s (a sample: re-attached ports miss the datapath flows at first).
# A failed check rejects every run of that case and system.
#
# Environment: NAT_FLOWS="1000 100000" NAT_REPS=2 NAT_RETRIES=1 NAT_SECONDS=3 NAT_WARMUP=2
#              NAT_NEW=1000000 NAT_NEW_WARM=1000000 (0: no new-connection case)  NAT_CASES (default all)
#              (the new-connection window is ~0.6 s of Sluice CPU after 1M warm-up connections: with 200k
#              the JIT still compiled during the window and the worker got 0.85 of its core, rejected)
#              NAT_PROFILE=1 (0: no JFR profile of Sluice's 100k-flow cases after the timed runs)
# Writes bench/results/nat-<date>.md; prints min_ratio=<lowest Sluice/best OVS> last.
set -uo pipefail
SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SLUICE_HOME"
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
JVM_FLAGS=${JVM_FLAGS:---enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow}
NATIVE_LIB=${SLUICE_NATIVE_LIB:-$SLUICE_HOME/native/target/libsluice.so}
BENCH_JAR=${BENCH_JAR:-$SLUICE_HOME/bench/target/benchmarks.jar}
FLOWS=${NAT_FLOWS:-1000 100000}; REPS=${NAT_REPS:-2}; RETRIES=${NAT_RETRIES:-1}
SECS=${NAT_SECONDS:-3}; WARM=${NAT_WARMUP:-2}; NEW=${NAT_NEW:-1000000}; NEW_WARM=${NAT_NEW_WARM:-1000000}
S=$SLUICE_HOME/bench/scripts
die() { echo "nat.sh: $*" >&2; exit 1; }
log() { echo "nat.sh: $*" >&2; }
[ "$(id -u)" = 0 ] || die "needs root (OVS-DPDK, DPDK ports)"
[ -x /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ] || die "openvswitch-switch-dpdk not installed (apt-get install openvswitch-switch-dpdk)"
[ -n "$(pidof ovs-vswitchd-dpdk 2>/dev/null)" ] && die "another ovs-vswitchd-dpdk is running (pid $(pidof ovs-vswitchd-dpdk)): it would share CPU 1; run again when it is gone"
if [ ! -f "$BENCH_JAR" ] || [ -n "$(find bench/src dataplane/src/main rules-compiler/src/main -newer "$BENCH_JAR" -type f 2>/dev/null | head -1)" ]; then
  log "building (mvn -q -pl bench -am package -DskipTests)"
  mvn -q -pl bench -am package -DskipTests >&2 || die "build failed"
fi
T_START=$(date +%s)
TMP=$(mktemp -d /tmp/slnat.XXXXXX)
. "$S/ovs/lib.sh"
cleanup() { ovsl_stop >/dev/null 2>&1; rm -rf "$TMP" "/var/run/dpdk/${OVSL_PFX:-slnt}ovs"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -O2 -o "$TMP/tsc" "$S/tsc-mhz.c" || die "cannot build tsc-mhz.c"
TSC_MHZ=$("$TMP/tsc")
P=$TMP/pcap; mkdir -p "$P"
CASES=${NAT_CASES:-}
if [ -z "$CASES" ]; then
  for n in $FLOWS; do CASES="$CASES snat-$n"; done
  for n in $FLOWS; do CASES="$CASES fip-$n"; done
  [ "$NEW" -gt 0 ] && CASES="$CASES new"
fi
for c in $CASES; do
  case $c in snat-*|fip-*) python3 "$S/natpcap.py" gen "${c%%-*}" "${c#*-}" "$P" || die "pcap $c";; esac
done
if [ "$NEW" -gt 0 ]; then
  python3 "$S/natpcap.py" gen new $((NEW_WARM + NEW)) "$P" || die "pcap new"
fi
npk() { python3 -c "import sys; sys.path.insert(0,'$S'); import natpcap; print(len(natpcap.read('$1')))"; }

RUNS=$TMP/runs.tsv; : > "$RUNS"
CHECKS=$TMP/checks.txt; : > "$CHECKS"
OVSLOG=$TMP/ovs-runs.txt; : > "$OVSLOG"
SLLOG=$TMP/sluice-runs.txt; : > "$SLLOG"
declare -A CHECK SETTINGS
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RUNS"; }

# ---------------------------------------------------------------- OVS
ovs_wait_rx() { # COUNT: until src0 received COUNT packets (file read once), max 120 s
  local k r x
  for k in $(seq 1200); do read -r r x < <(ovsl_port_pkts); [ "$r" -ge "$1" ] && return 0; sleep 0.1; done; return 1
}
ovs_snat_pairs() { # N: conns from one pass of the requests, then the request/reply pcap from conntrack
  local n=$1
  ovsl_ct_flush; ovsl_sink null
  # looped for a while: a packet that misses the datapath flows waits for an upcall and may be lost
  ovsl_source "$P/snat-$n-vm.pcap" loop; sleep 1.5; ovsl_source_del
  ovsl_ct_dump | python3 "$S/natpcap.py" ovsbi "$n" "$P" 2>>"$OVSLOG"
}
ovs_check() { # case: a sample of what leaves, written by the sink to a pcap and checked frame by frame
  local c=$1 kind=${1%%-*} n=${1#*-} in out=$TMP/ovs-tx-$1.pcap
  ovsl_flows "$S/ovs/flows/br1-ct-$kind.txt" || return 1
  if [ "$kind" = snat ]; then ovs_snat_pairs "$n" || { echo "conntrack pairs failed"; return 0; }; in=$P/snat-$n-ovsbi.pcap
  else ovsl_ct_flush; in=$P/fip-$n-bi.pcap; fi
  # looped: every (re)attached port is a new datapath port, and packets that miss the datapath flows
  # wait for an upcall and may be lost, so OVS's output is a sample (its counts are checked per run)
  ovsl_sink "$out"; ovsl_source "$in" loop; sleep 1; ovsl_source_del; sleep 0.3; ovsl_sink null
  python3 "$S/natpcap.py" check "ovs-$kind" "$in" "$out" | tail -1
}
ovs_measure_case() { # case -> "rx tx cpu percpu cyc" of one run
  local c=$1 kind=${1%%-*} n=${1#*-} in m
  ovsl_flows "$S/ovs/flows/br1-ct-$kind.txt" || return 1
  if [ "$kind" = snat ]; then ovs_snat_pairs "$n" || return 1; in=$P/snat-$n-ovsbi.pcap
  else ovsl_ct_flush; in=$P/fip-$n-bi.pcap; fi
  ovsl_sink null; ovsl_source "$in" loop; sleep "$WARM"
  m=$(ovsl_measure "$SECS"); ovsl_source_del
  echo "$m"
}
ovs_new() { # -> "rx tx cpu percpu cyc": new connections through SNAT, one file read once; measured after NEW_WARM
  ovsl_flows "$S/ovs/flows/br1-ct-snat.txt" || return 1
  ovsl_ct_flush; ovsl_appctl dpctl/ct-set-maxconns $((2 * (NEW_WARM + NEW))) >/dev/null; ovsl_sink null
  ovsl_measure_once "$P/new-$((NEW_WARM + NEW))-vm.pcap" "$NEW_WARM" $((NEW_WARM + NEW)) "$TSC_MHZ"
}
field() { echo "$1" | grep -o "$2=[0-9.e+-]*" | head -1 | cut -d= -f2; }

run_ovs_rep() { # rep
  local r=$1 prof c n line rx tx cpu pc st try
  ovsl_start "$TMP/ovs" slnt > "$TMP/ovs-start.log" 2>&1 || { cat "$TMP/ovs-start.log" "$TMP/ovs/log/ovs-vswitchd.log" >&2 2>/dev/null; die "OVS did not start"; }
  for prof in default tuned; do
    for c in $CASES; do
      n=${c#*-}; [ "$c" = new ] && n=$((NEW_WARM + NEW))
      ovsl_profile "$prof" "$n"; SETTINGS[$prof-$c]=$OVSL_SETTINGS
      if [ "$r" = 1 ] && [ "$c" != new ] && [ "$prof" = default ]; then
        CHECK[ovs-$c]=$(ovs_check "$c"); echo "ovs $c: ${CHECK[ovs-$c]}" >> "$CHECKS"; log "check ovs $c: ${CHECK[ovs-$c]}"
      fi
      for try in $(seq 0 "$RETRIES"); do
        if [ "$c" = new ]; then line=$(ovs_new); else line=$(ovs_measure_case "$c"); fi
        rx=$(field "$line" rx); tx=$(field "$line" tx); cpu=$(field "$line" cpu)
        if [ -z "$rx" ]; then st="REJECT run failed"; pc=nan
        else
          if [ "$c" = new ]; then pc=$(field "$line" percpu)
          else pc=$(awk -v r="$rx" -v s="$(field "$line" secs)" -v c="$cpu" 'BEGIN{printf "%.3f", (c > 0 ? r / s / c / 1e6 : 0)}'); fi
          ck=ok; [ "$c" != new ] && case "${CHECK[ovs-$c]:-}" in "translation ok"*) ;; *) ck="translation check failed";; esac
          st=$(python3 "$S/accept.py" run "$cpu" "$rx" "$tx" "$ck")
        fi
        echo "rep=$r ovs-$prof $c try=$try $line per_cpu_mpps=$pc $st" >> "$OVSLOG"; log "rep $r ovs-$prof $c: $line per_cpu=$pc $st"
        [ "$st" = ACCEPT ] && break
      done
      record "$c" "ovs-$prof" "$r" "$st" "$pc" "$line"
    done
  done
  { echo "OVS settings (ovs-vsctl get Open_vSwitch . other_config; src0 interface):"; ovsl_settings; } > "$TMP/ovs-settings.txt" 2>&1
  ovsl_stop
}

# ---------------------------------------------------------------- Sluice
sluice_java() { # log args...   (env PROFILE_JFR=file: record a JFR profile)
  local lg=$1; shift
  timeout 300 "$JAVA" $JVM_FLAGS ${PROFILE_JFR:+-XX:StartFlightRecording=filename=$PROFILE_JFR,settings=profile} -Dsluice.native.lib="$NATIVE_LIB" -cp "$BENCH_JAR" io.sluice.bench.nat.NatPcapBench "$@" > "$lg" 2>&1
}
sluice_args() { # case -> the NatPcapBench arguments for it
  local c=$1 kind=${1%%-*} n=${1#*-} mb
  if [ "$c" = new ]; then echo "--mode snat --vm-pcap $P/new-$((NEW_WARM + NEW))-vm.pcap --once $NEW_WARM --max-conns $((2 * (NEW_WARM + NEW)))"; return; fi
  mb=$(( 2 * (n < 1024 ? 2048 : n) + 16384 ))
  echo "--mode $kind --vm-pcap $P/$kind-$n-vm.pcap --ext-pcap $P/$kind-$n-ext.pcap --mbufs $mb --mem $(( mb / 200 + 512 )) --max-conns $(( 2 * n + 4096 ))"
}
sluice_check() { # case
  local c=$1 kind=${1%%-*} n=${1#*-} d=$TMP/sl-chk-$1
  mkdir -p "$d"
  sluice_java "$TMP/sluice-check-$c.log" $(sluice_args "$c") --check "$d" || { echo "run failed: $(tail -1 "$TMP/sluice-check-$c.log")"; return 0; }
  python3 "$S/natpcap.py" check "sluice-$kind" "$P/$kind-$n-vm.pcap,$P/$kind-$n-ext.pcap" "$d/tx-ext.pcap" "$d/tx-vm.pcap" | tail -1
}
run_sluice_rep() { # rep
  local r=$1 c lg rx tx cpu pc st try ck
  for c in $CASES; do
    if [ "$r" = 1 ] && [ "$c" != new ]; then
      CHECK[sluice-$c]=$(sluice_check "$c"); echo "sluice $c: ${CHECK[sluice-$c]}" >> "$CHECKS"; log "check sluice $c: ${CHECK[sluice-$c]}"
    fi
    for try in $(seq 0 "$RETRIES"); do
      lg=$TMP/sluice-$c-$r-$try.log
      if [ "$c" = new ]; then sluice_java "$lg" $(sluice_args "$c")
      else sluice_java "$lg" $(sluice_args "$c") --warmup "$WARM" --seconds "$SECS"; fi
      cpu=$(grep '^worker cpu share=' "$lg" | cut -d= -f2); pc=$(grep '^cpu_mpps=' "$lg" | cut -d= -f2)
      # forwarded vs received over the whole run (exact: read after the worker stopped; the window's
      # snapshot is taken while it runs); the gratuitous ARP at start is one frame more sent than received
      rx=$(grep '^check rx=' "$lg" | sed 's/.*rx=\([0-9]*\).*/\1/'); tx=$(grep '^check rx=' "$lg" | sed 's/.*tx=\([0-9]*\).*/\1/')
      if [ -z "$cpu" ] || [ -z "$rx" ]; then st="REJECT run failed: $(tail -1 "$lg")"; pc=nan
      else
        ck=ok; [ "$c" != new ] && case "${CHECK[sluice-$c]:-}" in "translation ok"*) ;; *) ck="translation check failed";; esac
        grep -q '^check rx=.* drops=0$' "$lg" || ck="drops: $(grep '^check rx=' "$lg")"
        st=$(python3 "$S/accept.py" run "$cpu" "$rx" "$tx" "$ck")
      fi
      echo "rep=$r sluice $c try=$try cpu=$cpu $(grep -E '^(window|check|measured|new_ns)' "$lg" | tr '\n' ' ') per_cpu_mpps=$pc $st" >> "$SLLOG"
      log "rep $r sluice $c: cpu=$cpu per_cpu=$pc $st"
      [ "$st" = ACCEPT ] && break
    done
    record "$c" sluice "$r" "$st" "$pc" "$(grep -E '^(window|check)' "$lg" | tr '\n' ' ')"
  done
}

for r in $(seq "$REPS"); do
  log "repetition $r/$REPS: OVS-DPDK (default, tuned)"
  run_ovs_rep "$r"
  sleep 1
  log "repetition $r/$REPS: Sluice"
  run_sluice_rep "$r"
done
WALL=$(( $(date +%s) - T_START ))

# where Sluice's cycles go: a JFR profile (execution samples, hot methods) of the 100k-flow cases,
# outside the timed runs (NAT_PROFILE=0 skips it)
PROFILE_OUT=$TMP/profile.txt; : > "$PROFILE_OUT"
if [ "${NAT_PROFILE:-1}" = 1 ]; then
  for c in $CASES; do
    case $c in *-100000|*-10000) ;; *) continue;; esac
    log "profile: sluice $c (JFR)"
    PROFILE_JFR=$TMP/$c.jfr sluice_java "$TMP/sluice-profile-$c.log" $(sluice_args "$c") --warmup 8 --seconds 6 || continue
    { echo "### $c: jfr view hot-methods (whole JVM; the worker thread dominates), worker cpu share $(sed -n 's/^worker cpu share=//p' "$TMP/sluice-profile-$c.log")"
      echo '```'; "$(dirname "$JAVA")/jfr" view --width 150 hot-methods "$TMP/$c.jfr" 2>&1 | head -30; echo '```'; echo; } >> "$PROFILE_OUT"
  done
fi

out="$SLUICE_HOME/bench/results/nat-$(date -u +%Y%m%d-%H%M).md"
TABLE=$(python3 "$S/accept.py" table "$RUNS" sluice ovs)
{
  echo "# NAT: Sluice vs OVS-DPDK conntrack NAT, same run — $(date -u +%F\ %H:%M) UTC"
  echo
  echo "Command: \`./sluice bench nat\` (bench/scripts/nat.sh) NAT_FLOWS=\"$FLOWS\" NAT_REPS=$REPS NAT_RETRIES=$RETRIES NAT_SECONDS=$SECS NAT_WARMUP=$WARM NAT_NEW=$NEW NAT_NEW_WARM=$NEW_WARM; wall time ${WALL} s"
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), TSC $TSC_MHZ MHz (bench/scripts/tsc-mhz.c); load at end: $(cut -d' ' -f1-3 /proc/loadavg); sluice $(git rev-parse --short HEAD 2>/dev/null || echo ?); $(ovs-vswitchd --version 2>/dev/null | head -1)"
  echo
  echo "Work: 64-byte UDP, VM 10.254.0.1:1000 <-> N servers :1001 (natpcap.py gen), replayed from memory by net_pcap"
  echo "infinite_rx on one forwarding core (CPU 1). OVS: one port gets requests and replies interleaved (brn port 1 -> ct(zone=1,nat)"
  echo "-> port 2 net_null); Sluice: the VM's requests on its VM port, the replies on its external port (the same frames),"
  echo "out through net_pcap (no tx file: freed). SNAT replies go to the port each system chose: OVS's from its conntrack"
  echo "(dpctl/dump-conntrack after one pass of the requests), Sluice's endpoint-independent binding 203.0.113.1:1024."
  echo "Per-CPU rate = packets received per CPU-second of the forwarding thread (OVS PMD: /proc/<pid>/task/<tid>/schedstat;"
  echo "Sluice worker: its thread CPU time). New connections: packets / CPU time of the thread while the file (read once) went through."
  echo "Acceptance (bench/scripts/accept.py, docs/performance.md): thread >= 0.95 of its core, forwarded >= received (0.2 % window"
  echo "tolerance), translation check passed; $REPS interleaved repetitions per system, a rejected run repeated up to $RETRIES time(s);"
  echo "ratio = Sluice median / better OVS median over accepted runs; a case without an accepted run is nan."
  echo
  echo "$TABLE"
  echo
  echo "Translation checks (each input read once; every frame that left checked: addresses, ports, MACs, TTL, IPv4 and UDP checksums):"
  echo '```'; cat "$CHECKS"; echo '```'
  echo
  echo "OVS settings per profile and case:"
  echo '```'; for k in "${!SETTINGS[@]}"; do echo "$k: ${SETTINGS[$k]}"; done | sort; cat "$TMP/ovs-settings.txt" 2>/dev/null; echo '```'
  echo "OVS flows (ovs-ofctl -O OpenFlow13 replace-flows brn FILE):"
  echo '```'; cat "$S/ovs/flows/br1-ct-snat.txt" "$S/ovs/flows/br1-ct-fip.txt"; echo '```'
  if [ -s "$PROFILE_OUT" ]; then
    echo "## Where Sluice's cycles go (JFR, outside the timed runs: \`java -XX:StartFlightRecording=settings=profile ... NatPcapBench\`)"
    echo; cat "$PROFILE_OUT"
  fi
  echo "Every run (OVS: rx/tx packets in the window, cpu = PMD share of CPU 1, cyc_pkt = PMD processing cycles per packet):"
  echo '```'; cat "$OVSLOG" "$SLLOG"; echo '```'
} > "$out"
cat "$out" >&2
log "results: $out (wall ${WALL} s)"
echo "$TABLE" | tail -1
