#!/usr/bin/env bash
# The whole FirewallState.apply of a one-rule change (FirewallApplyLatency: what the control API
# waits for after validation and the journal: expansion, table update, snapshot), of this checkout
# against an earlier commit, in the same session. The earlier commit is exported with `git archive`
# and built with this checkout's FirewallApplyLatency class copied in (the same changes, the same
# seed). Per collector (ZGC, the data plane's; G1), per kind of edit and per rule count, the
# "before" and the "after" jar run one after the other:
#   mixed    two of three changes set a random rule's port, every third inserts or removes a rule;
#   port     every change sets a rule's port (-Dsluice.bench.portOnly=true);
#   decoded  mixed, every rule of the group a new object equal by value (as a config file reload or
#            a PUT of the whole group decodes them; -Dsluice.bench.decoded=true).
# Env: FA_BEFORE=<commit> (default HEAD~1), FA_RULES ("1000 10000"), FA_CHANGES (1000),
#      FA_EVERY_US (10000), FA_KINDS ("mixed port decoded"), FA_GCS ("ZGC G1GC"), JAVA (java 25).
# Wall-clock percentiles on a shared machine: not gated by the acceptance rule (no forwarding).
# Writes bench/results/firewall-apply-<date>.md (the commands are in it).
set -euo pipefail
SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
BEFORE=${FA_BEFORE:-HEAD~1}
RULES=${FA_RULES:-"1000 10000"}
CHANGES=${FA_CHANGES:-1000}
EVERY=${FA_EVERY_US:-10000}
KINDS=${FA_KINDS:-"mixed port decoded"}
GCS=${FA_GCS:-"ZGC G1GC"}
die() { echo "firewall-apply.sh: $*" >&2; exit 2; }
[[ -x "$JAVA" ]] || die "JAVA=$JAVA is not executable"
cd "$SLUICE_HOME"
source "$SLUICE_HOME/bench/scripts/jars-ab-common.sh"
build_ab_jars "$BEFORE" bench/src/main/java/io/sluice/bench/firewall/FirewallApplyLatency.java
out="$SLUICE_HOME/bench/results/firewall-apply-$(date -u +%Y%m%d-%H%M).md"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
{
    echo "# Whole FirewallState.apply of a one-rule change, $BEFORE_SHA (before) vs $AFTER_SHA (after) — $(date -u +'%Y-%m-%d %H:%M UTC')"
    echo
    echo "FirewallApplyLatency: one VM port whose group has RULES TCP ingress rules; 300 changes of warm-up, then $CHANGES timed,"
    echo "one every $EVERY us; wall time of \`FirewallState.apply\` in microseconds. Both jars run this checkout's bench class."
    echo "Load average before: $load_before."
    echo
    echo "| collector | edits | side | rules | changes | every us | deferFrom | p50 us | p99 us | p99.9 us | max us | deferred |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for gc in $GCS; do
        for kind in $KINDS; do
            opt=()
            case $kind in port) opt=(-Dsluice.bench.portOnly=true) ;; decoded) opt=(-Dsluice.bench.decoded=true) ;; esac
            for n in $RULES; do
                for side in before after; do
                    row=$("$JAVA" -Xmx3g "-XX:+Use$gc" "${opt[@]}" -cp "$TMP/$side.jar" io.sluice.bench.firewall.FirewallApplyLatency "$n" "$CHANGES" "$EVERY" | tail -1)
                    echo "| $gc | $kind | $side |${row#|}"
                done
            done
        done
    done
    echo
    echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "Command (JAR: each side's bench/target/benchmarks.jar):"
    echo '```'
    echo "java -Xmx3g -XX:+UseZGC|-XX:+UseG1GC [-Dsluice.bench.portOnly=true|-Dsluice.bench.decoded=true] -cp JAR io.sluice.bench.firewall.FirewallApplyLatency RULES $CHANGES $EVERY"
    echo "FA_BEFORE=$BEFORE_SHA ./sluice bench firewall-apply"
    echo '```'
} > "$out"
echo "results: $out" >&2
