#!/usr/bin/env bash
# bench/scripts/mseg-forward-ab.sh — the per-packet cost of multi-segment / offload support (issue 18)
# on the forwarding path: the data plane before it (commit BEFORE, default 9f06f44, the branch point)
# against this tree's HEAD, both built here from `git archive` into a scratch directory, measured by
# ./sluice bench forward's own harness (bench/scripts/forward.sh: net_null0 + net_null1, one lcore,
# per-CPU-second Mpps, the acceptance rule, testpmd io in the same run) AB_REPS times, alternating
# before / after (the machine is shared: alternation spreads the load over both).
#
# Writes bench/results/mseg-forward-ab-<date>.md with the command, every run's row, the medians and
# prints ratio_after_before=<median after / median before of sluice-parse-l2 per-CPU Mpps> last
# (accepted runs only; nan when a side has none; the all-runs ratio is printed too, marked as such).
#
# Environment: AB_REPS=3 BEFORE=9f06f44 AB_PIPELINE=parse-l2 FORWARD_SECONDS=8 FORWARD_WARMUP=4
#              FORWARD_RETRIES=1 (passed on to forward.sh)
set -uo pipefail
HERE=$(cd "$(dirname "$0")/../.." && pwd)
cd "$HERE"
REPS=${AB_REPS:-3}
BEFORE=${BEFORE:-9f06f44}
AFTER=$(git rev-parse --short HEAD)
PIPE=${AB_PIPELINE:-parse-l2}
export FORWARD_SECONDS=${FORWARD_SECONDS:-8} FORWARD_WARMUP=${FORWARD_WARMUP:-4} FORWARD_RETRIES=${FORWARD_RETRIES:-1}
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
WORK=$(mktemp -d /tmp/slb-msegab.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
CMD="AB_REPS=$REPS BEFORE=$BEFORE FORWARD_SECONDS=$FORWARD_SECONDS FORWARD_WARMUP=$FORWARD_WARMUP FORWARD_RETRIES=$FORWARD_RETRIES bench/scripts/mseg-forward-ab.sh"
echo "mseg-forward-ab: $CMD (before $BEFORE, after $AFTER)" >&2
for side in before after; do
  rev=$BEFORE; [ "$side" = after ] && rev=$AFTER
  mkdir -p "$WORK/$side"
  git archive "$rev" | tar -x -C "$WORK/$side"
  echo "mseg-forward-ab: building $side ($rev)" >&2
  (cd "$WORK/$side" && JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$JAVA")")") mvn -B -q -o -pl bench -am package -DskipTests >&2) \
    || { echo "mseg-forward-ab: build of $side failed" >&2; exit 1; }
done
ROWS=$WORK/rows.tsv
: > "$ROWS"
for r in $(seq 1 "$REPS"); do
  for side in before after; do
    d=$WORK/$side
    rm -f "$d"/bench/results/forward-short-*.md "$d"/bench/results/forward-2*.md 2>/dev/null
    (cd "$d" && SLUICE_HOME=$d JAVA=$JAVA BENCH_JAR=$d/bench/target/benchmarks.jar SLUICE_JAR=$d/dataplane/target/sluice.jar \
       SLUICE_NATIVE_LIB=$d/native/target/libsluice.so FORWARD_REPS=1 FORWARD_PIPELINES="$PIPE" FORWARD_RATIO_PIPELINE="$PIPE" \
       FORWARD_FEATURES="" bash "$d/bench/scripts/forward.sh" > "$WORK/out-$side-$r.txt" 2>"$WORK/err-$side-$r.txt")
    f=$(ls -t "$d"/bench/results/forward*.md 2>/dev/null | head -1)
    # first table row "| forward | testpmd (a/b) | sluice (a/b) | ratio |" and the all-runs row
    acc=$(grep -m1 '^| forward |' "$f" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$3); gsub(/ /,"",$4); print $3" "$4}')
    all=$(grep '^| forward |' "$f" 2>/dev/null | sed -n 2p | awk -F'|' '{gsub(/ /,"",$3); gsub(/ /,"",$4); print $3" "$4}')
    echo -e "$r\t$side\t$acc\t$all" >> "$ROWS"
    echo "mseg-forward-ab: rep $r $side: testpmd / sluice accepted: $acc; all runs: $all" >&2
  done
done
DATE=$(date -u +%Y%m%d-%H%M%S)
OUT=bench/results/mseg-forward-ab-$DATE.md
python3 - "$ROWS" "$OUT" "$CMD" "$BEFORE" "$AFTER" "$PIPE" <<'PY'
import sys, statistics, re
rows, out, cmd, before, after, pipe = sys.argv[1:7]
def val(s):
    m = re.match(r'([0-9.]+|nan)\((\d+)/(\d+)\)', s)
    if not m: return None
    v = m.group(1)
    return None if v == 'nan' or m.group(2) == '0' else float(v)
acc = {'before': [], 'after': []}; allr = {'before': [], 'after': []}
lines = []
for ln in open(rows):
    p = ln.rstrip('\n').split('\t')
    r, side = p[0], p[1]
    a = p[2].split(' ') if len(p) > 2 else []
    b = p[3].split(' ') if len(p) > 3 else []
    tp = a[0] if a else 'nan'; sl = a[1] if len(a) > 1 else 'nan'
    v = val(sl)
    if v is not None: acc[side].append(v)
    try: allr[side].append(float(b[1]))
    except Exception: pass
    lines.append(f"| {r} | {side} | {tp} | {sl} | {b[1] if len(b) > 1 else 'nan'} |")
def med(x): return statistics.median(x) if x else float('nan')
ra = med(acc['after']) / med(acc['before']) if acc['after'] and acc['before'] else float('nan')
rall = med(allr['after']) / med(allr['before']) if allr['after'] and allr['before'] else float('nan')
with open(out, 'w') as f:
    f.write(f"# Multi-segment / offload support: forwarding cost before vs after (issue 18)\n\n")
    f.write(f"Command: `{cmd}` — before = commit {before} (branch point), after = {after}; each run is "
            f"`./sluice bench forward`'s harness (bench/scripts/forward.sh) with FORWARD_REPS=1 FORWARD_PIPELINES={pipe} "
            f"FORWARD_FEATURES=\"\" on a build of that commit; before and after alternate.\n\n")
    f.write("Question: what does reading pkt_len and ol_flags per received packet (Burst.tailLen/offload) and the per-burst "
            "multi-segment/offload check cost the plain forwarding path (net_null, 64-byte one-segment frames)?\n\n")
    f.write("Per-CPU Mpps of the forwarding thread (forward.sh's acceptance rule; (accepted/runs)); testpmd io is the same run's peer.\n\n")
    f.write("| rep | side | testpmd-io | sluice-" + pipe + " (accepted) | sluice-" + pipe + " (all runs, NOT accepted) |\n|---|---|---|---|---|\n")
    f.write("\n".join(lines) + "\n\n")
    f.write(f"Median accepted sluice-{pipe}: before {med(acc['before']):.3f}, after {med(acc['after']):.3f}; ratio after/before = {ra:.3f}\n\n")
    f.write(f"For information only (all runs, accepted or not): ratio after/before = {rall:.3f}\n")
print(f"ratio_after_before_all_runs={rall:.3f} (not accepted figures)")
print(f"ratio_after_before={ra:.3f}")
PY
echo "mseg-forward-ab: wrote $OUT" >&2
