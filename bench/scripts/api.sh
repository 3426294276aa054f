#!/usr/bin/env bash
# ./sluice bench api — first cut (issue 13): request-to-answer time of the control API for one rule
# changed in a group of API_RULES rules (both local VMs in it), msync and none in the same run,
# against Main run on TAP ports (one worker, no traffic). Writes bench/results/api-<date>.md and
# prints one_rule_p99_ms=<p99 with the default sync (msync)> last.
#   API_RULES=1000 API_CHANGES=1000
set -euo pipefail
SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SLUICE_HOME"
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
SLUICE_JAR=${SLUICE_JAR:-$SLUICE_HOME/dataplane/target/sluice.jar}
BENCH_CP=${BENCH_JAR:-$SLUICE_HOME/bench/target/benchmarks.jar}
NATIVE_LIB=${SLUICE_NATIVE_LIB:-$SLUICE_HOME/native/target/libsluice.so}
# the JVM flags, with the Chronicle Queue opens this benchmark needs (SLUICE_JVM_FLAGS overrides)
JVM_FLAGS=${SLUICE_JVM_FLAGS:---enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED -Dchronicle.analytics.disable=true}
RULES=${API_RULES:-1000}
CHANGES=${API_CHANGES:-1000}
out="bench/results/api-$(date -u +%Y%m%d-%H%M).md"
cmd="$JAVA $JVM_FLAGS -Dsluice.native.lib=$NATIVE_LIB -cp $BENCH_CP io.sluice.bench.api.ApiLatencyBench $SLUICE_JAR $RULES $CHANGES"
{
  echo "# Control API change latency (first cut of ./sluice bench api)"
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
tail -1 "$out" >/dev/null
grep '^one_rule_p99_ms=' "$out" | tail -1
