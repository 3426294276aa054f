#!/usr/bin/env bash
# ./sluice bench pipeline [JMH_REGEX]: JMH over the parser and forwarding stages with -prof gc.
# Writes bench/results/pipeline-jmh-<date>.txt with the command, the machine and JMH's output.
set -euo pipefail
: "${JAVA:?run through ./sluice bench pipeline}" "${BENCH_JAR:?}" "${SLUICE_HOME:?}"
regex="${1:-io.sluice.bench.pipeline.*}"
out="$SLUICE_HOME/bench/results/pipeline-jmh-$(date -u +%Y%m%d-%H%M).txt"
cmd=("$JAVA" $JVM_FLAGS -jar "$BENCH_JAR" "$regex" -f 1 -wi 3 -i 5 -w 1s -r 2s -prof gc)
{
  echo "# command: ${cmd[*]}"
  echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  "${cmd[@]}"
  echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} 2>&1 | tee "$out"
echo "results: $out"
