#!/usr/bin/env bash
# ./sluice bench api (issue 13): request-to-answer time of the control API (journaled, applied,
# taken by every worker) against Main run forwarding on one worker (net_pcap app -> db), with
# 10 x API_RULES rules on the host: one rule changed in a group (API_ONE changes), a group replaced
# whole (API_REPLACE), a VM's membership changed (API_MEMBERSHIP); api.sync msync (the default) and
# none in the same run; the server's phases; the forwarding rate during changes against without.
# API_PEERS="before=/path/sluice.jar" adds builds measured in the same run (before/after);
# API_BEFORE_COMMIT=<commit> builds that commit's data plane for it.
# Writes bench/results/api-<date>.md and prints one_rule_p99_ms=<p99, msync, this build> last.
#   API_RULES=1000 API_ONE=10000 API_REPLACE=2000 API_MEMBERSHIP=2000 API_SYNCS=msync,none
#   API_SNAPSHOT_EVERY=N: the server's api.snapshot-every (default 1000: the 10,000 one-rule changes
#   include 10 journal snapshots, checked and written on their own thread; 0 = none, to compare)
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
ONE=${API_ONE:-10000}
REPLACE=${API_REPLACE:-2000}
MEMBERSHIP=${API_MEMBERSHIP:-2000}
SYNCS=${API_SYNCS:-msync,none}
# API_BEFORE_COMMIT=<commit>: that commit's data plane, built here into a temporary directory, measured
# in the same run as "before" (the before/after comparison of bench/results/)
if [ -n "${API_BEFORE_COMMIT:-}" ]; then
  before_dir="$(mktemp -d /tmp/sluice-api-before.XXXXXX)"
  trap 'rm -rf "$before_dir"' EXIT
  git -C "$SLUICE_HOME" archive "$API_BEFORE_COMMIT" | tar -x -C "$before_dir"
  (cd "$before_dir" && JAVA_HOME="$(dirname "$(dirname "$JAVA")")" PATH="$(dirname "$JAVA"):$PATH" \
    mvn -B -o -q package -DskipTests -pl dataplane -am >&2)
  API_PEERS="before=$before_dir/dataplane/target/sluice.jar${API_PEERS:+,$API_PEERS}"
fi
JARS="this=$SLUICE_JAR${API_PEERS:+,$API_PEERS}"
out="bench/results/api-$(date -u +%Y%m%d-%H%M).md"
cmd="$JAVA $JVM_FLAGS -Dsluice.native.lib=$NATIVE_LIB ${API_SNAPSHOT_EVERY:+-Dsluice.api.snapshotEvery=$API_SNAPSHOT_EVERY }-cp $BENCH_CP io.sluice.bench.api.ApiLatencyBench $JARS $RULES $ONE $REPLACE $MEMBERSHIP $SYNCS"
{
  echo "# Control API change latency (./sluice bench api)"
  echo
  echo "Command: \`$cmd\`${API_BEFORE_COMMIT:+ (before = commit $API_BEFORE_COMMIT, built by bench/scripts/api.sh)}"
  echo
  echo "Load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo '```'
} > "$out"
echo "$cmd" >&2
# shellcheck disable=SC2086
$cmd | tee -a "$out"
{ echo '```'; echo; echo "Load after: $(cut -d' ' -f1-3 /proc/loadavg)"; } >> "$out"
echo "results: $out" >&2
grep '^one_rule_p99_ms=' "$out" | tail -1
