#!/usr/bin/env bash
# ./sluice bench api-crash — the control API's crash loop (issue 13): CRASH_KILLS (1000) kill -9s of
# the control plane at random moments while changes stream, in batches of CRASH_BATCH (100) on a fresh
# journal each; every acknowledged change must be there after each restart, none half there, the audit
# chain intact. Writes bench/results/api-crash-<date>.md; prints the summary line last.
#   CRASH_KILLS=1000 CRASH_BATCH=100 CRASH_SYNC=msync CRASH_PARALLEL=3 (loops side by side)
#   CRASH_SNAPSHOT_EVERY=7 (the child's api.snapshot-every: kills land around journal snapshots too)
set -euo pipefail
SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SLUICE_HOME"
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
SLUICE_JAR=${SLUICE_JAR:-$SLUICE_HOME/dataplane/target/sluice.jar}
BENCH_CP=${BENCH_JAR:-$SLUICE_HOME/bench/target/benchmarks.jar}
JVM_FLAGS=${SLUICE_JVM_FLAGS:---enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED -Dchronicle.analytics.disable=true}
out="bench/results/api-crash-$(date -u +%Y%m%d-%H%M).md"
cmd="$JAVA $JVM_FLAGS -cp $BENCH_CP io.sluice.bench.api.ApiCrashBench $SLUICE_JAR ${CRASH_KILLS:-1000} ${CRASH_BATCH:-100} ${CRASH_SYNC:-msync} ${CRASH_PARALLEL:-3} ${CRASH_SNAPSHOT_EVERY:-7}"
{
  echo "# Control API crash loop (./sluice bench api-crash)"
  echo
  echo "Command: \`$cmd\`"
  echo
  echo "Load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo '```'
} > "$out"
# shellcheck disable=SC2086
$cmd | tee -a "$out"
{ echo '```'; echo; echo "Load after: $(cut -d' ' -f1-3 /proc/loadavg)"; } >> "$out"
echo "results: $out" >&2
grep '^crash_kills=' "$out" | tail -1
