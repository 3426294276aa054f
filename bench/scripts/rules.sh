#!/usr/bin/env bash
# sluice bench rules: Sluice's rules compiler vs DPDK rte_acl (dpdk-test-acl), same machine,
# same session, same ClassBench rule files and traces, one core each (core 0).
# Env: JAVA (java 25), SLUICE_HOME (repo root), BENCH_JAR, CLASSBENCH (ClassBench dir).
# Writes bench/results/rules-<date>.md; the last line printed is min_ratio=<lowest Sluice/rte_acl lookups/s>.
# Acceptance (bench/scripts/accept.py run, the one rule of the same-run benches): a timed lookup run
# whose thread got < 0.95 of its core is rejected (rte_acl: the main lcore's run time over run +
# run-queue wait, /proc/thread-self/schedstat, from the end of rte_acl_build to exit; Sluice: the
# thread's CPU time over the timed block's wall time) and repeated up to RULES_RETRIES times; every
# run is listed in the result file. A set where either side has no accepted run has lookups ratio
# nan, and then min_ratio=nan (never the minimum over fewer sets). Build time and memory are not gated.
# RULES_DEFER_US: intervals (microseconds) between changes for the time-to-effect rows (default "1000 10000").
set -euo pipefail

SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
BENCH_JAR=${BENCH_JAR:-$SLUICE_HOME/bench/target/benchmarks.jar}
CLASSBENCH=${CLASSBENCH:-$SLUICE_HOME/../shared/classbench}
ITER=${RULES_ITER:-100}
ROUNDS=${RULES_ROUNDS:-3}
SETS=${RULES_SETS:-"acl1_1k fw1_1k ipc1_1k acl1_10k fw1_10k ipc1_10k"}
UPDATES=${RULES_UPDATES:-1000}
RETRIES=${RULES_RETRIES:-2}
S="$SLUICE_HOME/bench/scripts"

die() { echo "rules.sh: $*" >&2; exit 2; }
[[ -x "$JAVA" ]] || die "JAVA=$JAVA is not executable"
[[ -f "$BENCH_JAR" ]] || die "BENCH_JAR=$BENCH_JAR not found (mvn -pl bench -am package -DskipTests)"
[[ -d "$CLASSBENCH" ]] || die "CLASSBENCH=$CLASSBENCH is not a directory"
command -v dpdk-test-acl >/dev/null || die "dpdk-test-acl not found"
command -v gcc >/dev/null || die "gcc not found (needed for the rte_acl_build timing shim)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp" /var/run/dpdk/sluiceacl$$' EXIT

# rte_acl_build timer: LD_PRELOAD wrapper around the library call dpdk-test-acl makes.
cat > "$tmp/aclbuildtime.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>
static unsigned long long run0, wait0;
static int built;
static void schedstat(unsigned long long *run, unsigned long long *wait) {
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    *run = *wait = 0;
    if (f) { if (fscanf(f, "%llu %llu", run, wait) != 2) *run = *wait = 0; fclose(f); }
}
/* the share of its core the main lcore got from the end of the (last) build to exit: the lookups */
__attribute__((destructor)) static void cpu_share(void) {
    unsigned long long run, wait;
    if (!built) return;
    schedstat(&run, &wait);
    if (run > run0) fprintf(stderr, "SLUICE_ACL_CPU_SHARE=%.3f\n", (double) (run - run0) / (double) (run - run0 + wait - wait0));
}
struct rte_acl_ctx;
struct rte_acl_config;
int rte_acl_build(struct rte_acl_ctx *ctx, const struct rte_acl_config *cfg) {
    static int (*real)(struct rte_acl_ctx *, const struct rte_acl_config *);
    if (!real) real = (int (*)(struct rte_acl_ctx *, const struct rte_acl_config *)) dlsym(RTLD_NEXT, "rte_acl_build");
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int r = real(ctx, cfg);
    clock_gettime(CLOCK_MONOTONIC, &b);
    fprintf(stderr, "SLUICE_ACL_BUILD_NS=%lld\n", (long long) (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
    built = 1;
    schedstat(&run0, &wait0);
    return r;
}
C
gcc -O2 -shared -fPIC -o "$tmp/aclbuildtime.so" "$tmp/aclbuildtime.c" -ldl

date_tag=$(date -u +%Y-%m-%d-%H%M)
out="$SLUICE_HOME/bench/results/rules-$date_tag.md"
run_cmd="RULES_ITER=$ITER RULES_ROUNDS=$ROUNDS RULES_RETRIES=$RETRIES RULES_SETS=\"$SETS\" RULES_SG_INTERFACES=${RULES_SG_INTERFACES:-1000} RULES_UPDATES=$UPDATES RULES_DEFER_US=\"${RULES_DEFER_US:-1000 10000}\" CLASSBENCH=$CLASSBENCH ./sluice bench rules"
echo "command: $run_cmd" >&2
mkdir -p "$(dirname "$out")"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

rows=""
cmds=""
min_ratio=""
any_nan=0
runs_md=""
# accept SHARE: ACCEPT or REJECT <why> (accept.py's rule; a lookup run has no packets to lose: rx = tx = 1)
accept() { python3 "$S/accept.py" run "${1:-0}" 1 1 || true; }
better() { [[ -z "$2" ]] || awk -v a="$1" -v b="$2" 'BEGIN {exit !(a > b)}'; }
for set in $SETS; do
    rules="$CLASSBENCH/$set"
    trace="$CLASSBENCH/${set}_trace"
    note=""
    if [[ ! -f "$trace" ]]; then
        trace="$tmp/${set}_trace"
        "$JAVA" -cp "$BENCH_JAR" io.sluice.bench.rules.TraceGen "$rules" "$trace"
        note=" (trace generated: 10 headers per rule at corners/interior, TraceGen seed 7)"
    fi
    tracenum=""
    [[ "$set" == *10k ]] && tracenum="--tracenum=100000"
    acl_cmd="LD_PRELOAD=aclbuildtime.so dpdk-test-acl -l 0 --no-huge -m 1024 --no-pci --file-prefix=sluiceacl$$ --log-level=lib.acl:debug -- --rulesf=$rules --tracef=$trace --verbose=0 --iter=$ITER $tracenum"
    sl_cmd="taskset -c 0 $JAVA -Xmx3g -cp $BENCH_JAR io.sluice.bench.rules.RulesVsAcl $rules $trace $ITER"
    # One warm-up run of each side (discarded: page cache, CPU clocks), then ROUNDS alternating runs of each side,
    # each run one timed block of ITER passes over the trace; keep each side's best (the machine is shared:
    # interference only slows things down). Same rounds, same best-of-N, same warm-up for both.
    acl_pps=""; acl_build_ms=""; sl_pps=""; sl_build_ms=""; sl_ns=""
    acl_ok=0; sl_ok=0; acl_n=0; sl_n=0
    for round in $(seq 0 "$ROUNDS"); do
        warmup=$([[ $round == 0 ]] && echo 1 || echo 0)
        for attempt in $(seq 0 "$RETRIES"); do
            LD_PRELOAD="$tmp/aclbuildtime.so" dpdk-test-acl -l 0 --no-huge -m 1024 --no-pci --file-prefix=sluiceacl$$ --log-level=lib.acl:debug \
                -- --rulesf="$rules" --tracef="$trace" --verbose=0 --iter="$ITER" $tracenum > "$tmp/$set.acl" 2>&1 || { cat "$tmp/$set.acl" >&2; die "dpdk-test-acl failed on $set"; }
            p=$(grep -o '[0-9.]* pkt/sec' "$tmp/$set.acl" | tail -1 | cut -d' ' -f1)
            b=$(awk -F= '/SLUICE_ACL_BUILD_NS/ {printf "%.3f", $2 / 1e6}' "$tmp/$set.acl" | tail -1)
            acl_mem=$(awk '/^total: [0-9]+ bytes/ {print $2}' "$tmp/$set.acl" | tail -1)
            acl_cpp_r=$(grep -o '[0-9.]* cycles/pkt' "$tmp/$set.acl" | tail -1 | cut -d' ' -f1)
            share=$(awk -F= '/SLUICE_ACL_CPU_SHARE/ {print $2}' "$tmp/$set.acl" | tail -1)
            [[ -n "$p" && -n "$b" && -n "$acl_mem" ]] || { cat "$tmp/$set.acl" >&2; die "could not parse dpdk-test-acl output for $set"; }
            [[ $warmup == 1 ]] && break
            st=$(accept "$share"); acl_n=$((acl_n + 1))
            runs_md+="| $set | rte_acl | $round | $attempt | ${share:-none} | $st | $(awk -v x="$p" 'BEGIN {printf "%.2f", x / 1e6}') |"$'\n'
            if [[ -z "$acl_build_ms" ]] || awk -v a="$b" -v b="$acl_build_ms" 'BEGIN {exit !(a < b)}'; then acl_build_ms=$b; fi
            if [[ $st == ACCEPT ]]; then
                acl_ok=$((acl_ok + 1))
                if better "$p" "$acl_pps"; then acl_pps=$p; acl_cpp=$acl_cpp_r; fi
                break
            fi
        done

        for attempt in $(seq 0 "$RETRIES"); do
            taskset -c 0 "$JAVA" -Xmx3g -cp "$BENCH_JAR" io.sluice.bench.rules.RulesVsAcl "$rules" "$trace" "$ITER" > "$tmp/$set.sl"
            get() { awk -F= -v k="$1" '$1 == k {print $2}' "$tmp/$set.sl"; }
            [[ $warmup == 1 ]] && break
            p=$(get lookups_per_s); b=$(get build_ms); share=$(get cpu_share)
            st=$(accept "$share"); sl_n=$((sl_n + 1))
            runs_md+="| $set | sluice | $round | $attempt | ${share:-none} | $st | $(awk -v x="$p" 'BEGIN {printf "%.2f", x / 1e6}') |"$'\n'
            if [[ -z "$sl_build_ms" ]] || awk -v a="$b" -v b="$sl_build_ms" 'BEGIN {exit !(a < b)}'; then sl_build_ms=$b; fi
            sl_cold_ms=$(get build_ms_cold); sl_mem=$(get memory_bytes); sl_trees=$(get trees); nrules=$(get rules); nhead=$(get headers)
            if [[ $st == ACCEPT ]]; then
                sl_ok=$((sl_ok + 1))
                if better "$p" "$sl_pps"; then sl_pps=$p; sl_ns=$(get ns_per_lookup); fi
                break
            fi
        done
    done
    [[ -n "$acl_pps" ]] || { acl_pps=nan; acl_cpp=nan; }
    [[ -n "$sl_pps" ]] || { sl_pps=nan; sl_ns=nan; }

    if [[ $acl_pps == nan || $sl_pps == nan ]]; then r_pps=nan; any_nan=1; else r_pps=$(awk -v a="$sl_pps" -v b="$acl_pps" 'BEGIN {printf "%.3f", a / b}'); fi
    r_build=$(awk -v a="$sl_build_ms" -v b="$acl_build_ms" 'BEGIN {printf "%.3f", a / b}')
    r_cold=$(awk -v a="$sl_cold_ms" -v b="$acl_build_ms" 'BEGIN {printf "%.3f", a / b}')
    r_mem=$(awk -v a="$sl_mem" -v b="$acl_mem" 'BEGIN {printf "%.3f", a / b}')
    if [[ $r_pps != nan ]] && { [[ -z "$min_ratio" ]] || awk -v a="$r_pps" -v b="$min_ratio" 'BEGIN {exit !(a < b)}'; }; then min_ratio=$r_pps; fi
    mfmt() { [[ $1 == nan ]] && echo nan || awk -v x="$1" 'BEGIN {printf "%.2f", x / 1e6}'; }
    rows+="| $set | $nrules | $nhead | $(mfmt "$acl_pps") ($acl_cpp cyc, $acl_ok/$acl_n accepted) | $(mfmt "$sl_pps") ($sl_ns ns, $sl_ok/$sl_n accepted) | **$r_pps** | $acl_build_ms | $sl_build_ms (cold $sl_cold_ms) | **$r_build** (cold $r_cold) | $acl_mem | $sl_mem | **$r_mem** | $sl_trees |"$'\n'
    cmds+="- $set$note"$'\n'"  - \`$acl_cmd\`"$'\n'"  - \`$sl_cmd\`"$'\n'
    echo "$set: rte_acl ${acl_pps} pkt/s ($acl_ok/$acl_n runs accepted), build ${acl_build_ms} ms, ${acl_mem} B | sluice ${sl_pps} lookups/s ($sl_ok/$sl_n accepted), build ${sl_build_ms} ms (cold ${sl_cold_ms}), ${sl_mem} B | ratios pps=$r_pps build=$r_build mem=$r_mem" >&2
done
[[ $any_nan == 1 || -z "$min_ratio" ]] && min_ratio=nan

# Security-group shape: 1,000 interfaces x 50 rules (2 of them remote-group rules over 100-member tiers).
# Sluice compiles all interfaces; rte_acl is measured on one interface's list (one context per interface).
SG_N=${RULES_SG_INTERFACES:-1000}
sg_cmd="$JAVA -Xmx3g -cp $BENCH_JAR io.sluice.bench.rules.RulesSgShape DIR $SG_N"
taskset -c 0 "$JAVA" -Xmx3g -cp "$BENCH_JAR" io.sluice.bench.rules.RulesSgShape "$tmp/sg" "$SG_N" > "$tmp/sg.sl"
sgget() { awk -F= -v k="$1" '$1 == k {print $2}' "$tmp/sg.sl"; }
sg_headers=$(wc -l < "$tmp/sg/sg_iface0_trace")
sg_acl_pps=""; sg_acl_build=""
for round in $(seq "$ROUNDS"); do
    LD_PRELOAD="$tmp/aclbuildtime.so" dpdk-test-acl -l 0 --no-huge -m 1024 --no-pci --file-prefix=sluiceacl$$ --log-level=lib.acl:debug \
        -- --rulesf="$tmp/sg/sg_iface0" --tracef="$tmp/sg/sg_iface0_trace" --verbose=0 --iter=2000 > "$tmp/sg.acl" 2>&1 || { cat "$tmp/sg.acl" >&2; die "dpdk-test-acl failed on the SG shape"; }
    p=$(grep -o '[0-9.]* pkt/sec' "$tmp/sg.acl" | tail -1 | cut -d' ' -f1)
    b=$(awk -F= '/SLUICE_ACL_BUILD_NS/ {printf "%.3f", $2 / 1e6}' "$tmp/sg.acl" | tail -1)
    sg_acl_mem=$(awk '/^total: [0-9]+ bytes/ {print $2}' "$tmp/sg.acl" | tail -1)
    if [[ -z "$sg_acl_pps" ]] || awk -v a="$p" -v b="$sg_acl_pps" 'BEGIN {exit !(a > b)}'; then sg_acl_pps=$p; fi
    if [[ -z "$sg_acl_build" ]] || awk -v a="$b" -v b="$sg_acl_build" 'BEGIN {exit !(a < b)}'; then sg_acl_build=$b; fi
done
sg_acl_cmd="dpdk-test-acl -l 0 --no-huge -m 1024 --no-pci -- --rulesf=DIR/sg_iface0 --tracef=DIR/sg_iface0_trace --verbose=0 --iter=2000"
echo "sg shape: rte_acl ${sg_acl_pps} pkt/s (one context), ${sg_acl_mem} B per context | sluice $(sgget lookups_per_s) lookups/s over $SG_N tables, $(sgget lookups_per_s_iface0) on interface 0 alone" >&2

# Update latency of a one-rule change (IncrementalClassifier.update), per set.
upd_port=$(CLASSBENCH="$CLASSBENCH" taskset -c 0 "$JAVA" -Xmx3g -cp "$BENCH_JAR" io.sluice.bench.rules.RulesUpdateLatency "$UPDATES" port $SETS)
upd_mixed=$(CLASSBENCH="$CLASSBENCH" taskset -c 0 "$JAVA" -Xmx3g -cp "$BENCH_JAR" io.sluice.bench.rules.RulesUpdateLatency "$UPDATES" mixed $SETS)
# Deferred tree updates (DeferredClassifier): the time until a change takes effect, the folds on their own
# thread; the writer and the folder on the two CPUs of the machine (a control plane's housekeeping CPUs).
DEFER_US=${RULES_DEFER_US:-"1000 10000"}
upd_deferred=""
for us in $DEFER_US; do
    for m in port mixed; do
        d=$(CLASSBENCH="$CLASSBENCH" "$JAVA" -Xmx3g -Dsluice.rules.deferred="$us" -cp "$BENCH_JAR" io.sluice.bench.rules.RulesUpdateLatency "$UPDATES" "$m" $SETS)
        if [[ -z "$upd_deferred" ]]; then upd_deferred=$(echo "$d" | sed -n '1,2s/^| set |/| edits | set |/; 1p; 2s/^|---|/|---|---|/p'); upd_deferred+=$'\n'; fi
        upd_deferred+=$(echo "$d" | tail -n +3 | sed "s/^| /| $m | /")$'\n'
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

{
    echo "# Rules compiler vs DPDK rte_acl — $(date -u +'%Y-%m-%d %H:%M UTC')"
    echo
    echo "Same session, same rule files and traces, one core each (core 0): per set one discarded warm-up run of each side, then $ROUNDS alternating rounds of each side, best accepted run of each side. Ratios are Sluice / rte_acl:"
    echo "lookups/s higher is better (goal >= 1); build time and memory lower is better (goals <= 0.1 and <= 0.25)."
    echo
    echo "| set | rules | headers | rte_acl Mlookups/s | Sluice Mlookups/s | lookups ratio | rte_acl build ms | Sluice build ms (warm median of 5) | build ratio | rte_acl bytes | Sluice bytes | memory ratio | Sluice trees |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    printf '%s' "$rows"
    echo
    echo "min_ratio=$min_ratio (lowest Sluice/rte_acl lookups/s; nan when a set has no accepted run on either side)"
    echo
    echo "Command: \`$run_cmd\`"
    echo
    echo "## What is measured"
    echo "- Sluice build 'cold' = the first compile in a fresh JVM (interpreted/JIT-compiling), last round."
    echo "- rte_acl lookups/s: dpdk-test-acl's own pkt/sec line (search_ip5tuples, $ITER iterations over the trace, 1 category, default SIMD method)."
    echo "- rte_acl build: wall time of the rte_acl_build() call, via an LD_PRELOAD wrapper (the C source is in bench/scripts/rules.sh)."
    echo "- rte_acl memory: the 'runtime memory footprint ... total' line rte_acl_build logs at debug level (the trie only; the context's rule copy and build scratch are not counted)."
    echo "- Sluice: RulesVsAcl — classifyBurst in bursts of 256 over the whole trace, one timed block of $ITER iterations per run (as dpdk-test-acl's one block per run) after 1 s of untimed JIT warm-up passes in the same JVM; build = median of 5 compiles after 2 s of JIT warm-up (first, cold compile in brackets); memory = Classifier.memoryBytes() (array payloads)."
    echo "- Both sides: the same $ROUNDS timed rounds per set after one discarded warm-up run each, alternating rte_acl / Sluice, best accepted run of each side for lookups, best run for build."
    echo "- Acceptance (bench/scripts/accept.py run): a timed run whose thread got < 0.95 of its core is rejected and repeated up to $RETRIES times (rte_acl: run / (run + run-queue wait) of the main lcore from /proc/thread-self/schedstat, from the end of rte_acl_build to exit; Sluice: thread CPU time / wall time of the timed block). A set with no accepted run on either side has lookups ratio nan, and min_ratio is then nan. The security-group shape and update latencies are not gated."
    echo
    echo "## Every timed run"
    echo
    echo "| set | side | round | attempt | CPU share | status | Mlookups/s |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s' "$runs_md"
    echo
    echo "## Security-group shape ($SG_N interfaces x 50 rules, remote-group rules expanded)"
    echo
    echo "Sluice: all $SG_N interfaces compiled by SecurityGroupCompiler.apply ($(sgget rules_per_interface) effective ingress IPv4 rules per interface); lookups in bursts of 64 per interface, interfaces in shuffled order. rte_acl: interface 0's ingress list as one context (dpdk-test-acl runs one context), so its memory and build are per interface and multiplied by $SG_N for the total."
    echo
    echo "| | rte_acl | Sluice | ratio |"
    echo "|---|---|---|---|"
    echo "| lookups/s, interface 0 alone ($sg_headers headers, hot) | $sg_acl_pps | $(sgget lookups_per_s_iface0) | **$(awk -v a="$(sgget lookups_per_s_iface0)" -v b="$sg_acl_pps" 'BEGIN {printf "%.2f", a / b}')** |"
    echo "| lookups/s, all $SG_N interfaces | (one context only) | $(sgget lookups_per_s) | |"
    echo "| memory, ingress IPv4 tables of $SG_N interfaces, bytes | $((sg_acl_mem * SG_N)) ($sg_acl_mem x $SG_N) | $(sgget memory_bytes_ingress_v4) | **$(awk -v a="$(sgget memory_bytes_ingress_v4)" -v b="$((sg_acl_mem * SG_N))" 'BEGIN {printf "%.2f", a / b}')** |"
    echo "| memory, all four tables per interface (in/out x v4/v6), bytes | | $(sgget memory_bytes) | |"
    echo "| build, all interfaces, ms | $(awk -v a="$sg_acl_build" -v n="$SG_N" 'BEGIN {printf "%.0f", a * n}') ($sg_acl_build x $SG_N) | $(sgget apply_ms) (cold $(sgget apply_ms_cold)) | **$(awk -v a="$(sgget apply_ms)" -v b="$sg_acl_build" -v n="$SG_N" 'BEGIN {printf "%.2f", a / (b * n)}')** |"
    echo
    echo "## Update latency (one-rule change at the table level, IncrementalClassifier.update)"
    echo
    echo "port: each change sets a random rule's destination port; mixed: ClassBenchGen.withOneRuleChanged's five kinds (port, destination prefix, source widened to any, another rule's box, a source prefix). $UPDATES changes after 300 of warm-up; wall-clock and thread-CPU percentiles (the machine is shared: wall includes preemption)."
    echo
    echo "### port"
    echo "$upd_port"
    echo
    echo "### mixed"
    echo "$upd_mixed"
    echo
    echo "## Time until a one-rule change takes effect (deferred tree updates, DeferredClassifier.update)"
    echo
    echo "The change is published at once as the last trees plus the changed rules checked beside them (an overlay, exact); the incremental update above runs on a folder thread and publishes the plain trees when it catches up. One change every 'every us' microseconds ($UPDATES after 300 of warm-up), writer and folder free to use both CPUs. effect: the update call's wall time (the new table is published when it returns); waited: updates that waited for the folds (an overlay is capped at 64 changed rules); tree lag: from a change until the plain trees hold it; overlay lookups / plain: classifyBurst over the set's trace with the last overlay table seen against the settled table (higher is better; 1 = no cost)."
    echo
    printf '%s' "$upd_deferred"
    echo
    echo "## Commands"
    printf '%s' "$cmds"
    echo "- security-group shape: \`$sg_cmd\` then \`$sg_acl_cmd\` (DIR: the files RulesSgShape wrote)"
    echo "- update latency: \`CLASSBENCH=$CLASSBENCH $JAVA -Xmx3g -cp $BENCH_JAR io.sluice.bench.rules.RulesUpdateLatency $UPDATES port|mixed $SETS\`"
    echo "- time to effect: \`CLASSBENCH=$CLASSBENCH $JAVA -Xmx3g -Dsluice.rules.deferred=US -cp $BENCH_JAR io.sluice.bench.rules.RulesUpdateLatency $UPDATES port|mixed $SETS\` for US in $DEFER_US"
    echo
    echo "## Machine"
    echo "- CPU: $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2; exit}'), $(nproc) cores; kernel $(uname -r)"
    echo "- Java: $("$JAVA" -version 2>&1 | head -1); DPDK: $(dpkg-query -W -f='${Version}' dpdk 2>/dev/null || echo unknown)"
    echo "- load average before: $load_before; after: $load_after (the machine is shared with other builds)"
} > "$out"
echo "results: $out" >&2
echo "min_ratio=$min_ratio"
