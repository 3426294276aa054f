#!/usr/bin/env bash
# One-rule update latency (RulesUpdateLatency) of this checkout against an earlier commit, in the
# same session: the earlier commit is exported with `git archive` into a scratch directory and
# built there (as bench/scripts/ab.sh does); then for each change kind (port, mixed) the "before"
# and the "after" jar run one after the other on core 0, on the same sets and the same change
# sequence (seed 17). The "after" run prints the slowest-2 % breakdown (-Dsluice.rules.breakdown,
# IncrementalClassifier.lastCost). On a loaded machine only the thread-CPU percentiles mean much.
# Env: RU_BEFORE=<commit> (default HEAD~1), RU_SETS (default the six ClassBench sets),
#      RU_UPDATES (1000), CLASSBENCH (../shared/classbench), JAVA (java 25).
# Writes bench/results/rules-update-<date>.md (the commands are in it).
set -euo pipefail
SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
CLASSBENCH=${CLASSBENCH:-$SLUICE_HOME/../shared/classbench}
BEFORE=${RU_BEFORE:-HEAD~1}
SETS=${RU_SETS:-"acl1_1k fw1_1k ipc1_1k acl1_10k fw1_10k ipc1_10k"}
UPDATES=${RU_UPDATES:-1000}
die() { echo "rules-update-ab.sh: $*" >&2; exit 2; }
[[ -x "$JAVA" ]] || die "JAVA=$JAVA is not executable"
[[ -d "$CLASSBENCH" ]] || die "CLASSBENCH=$CLASSBENCH is not a directory"
cd "$SLUICE_HOME"
source "$SLUICE_HOME/bench/scripts/jars-ab-common.sh"
build_ab_jars "$BEFORE"
out="$SLUICE_HOME/bench/results/rules-update-$(date -u +%Y-%m-%d-%H%M).md"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
{
    echo "# One-rule update latency, $BEFORE_SHA (before) vs $AFTER_SHA (after) — $(date -u +'%Y-%m-%d %H:%M UTC')"
    echo
    echo "RulesUpdateLatency: $UPDATES one-rule changes after 300 of warm-up, per set; port: a random rule's destination port;"
    echo "mixed: the five kinds of ClassBenchGen.withOneRuleChanged. Wall and thread-CPU percentiles; the machine is shared, so"
    echo "wall includes preemption and the CPU percentiles are the robust figure. Load average before: $load_before."
    for m in port mixed; do
        for side in before after; do
            sha=$BEFORE_SHA; [[ $side == after ]] && sha=$AFTER_SHA
            echo
            echo "## $m, $side ($sha)"
            echo
            echo "\`CLASSBENCH=$CLASSBENCH taskset -c 0 $JAVA -Xmx3g -Dsluice.rules.breakdown=true -cp $side.jar io.sluice.bench.rules.RulesUpdateLatency $UPDATES $m $SETS\`"
            echo
            CLASSBENCH="$CLASSBENCH" taskset -c 0 "$JAVA" -Xmx3g -Dsluice.rules.breakdown=true -cp "$TMP/$side.jar" io.sluice.bench.rules.RulesUpdateLatency "$UPDATES" "$m" $SETS
        done
    done
    echo
    echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
} > "$out"
echo "results: $out" >&2
