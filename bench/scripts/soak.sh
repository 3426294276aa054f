#!/usr/bin/env bash
# ./sluice bench soak — the firewall soak of issue 17 part 6 (io.sluice.bench.conntrack.SoakBench):
# mixed traffic through the real L2 firewall pipeline in-process (parse -> arp -> l2 -> firewall:
# parser, security groups, conntrack, fragment table; frames in native memory, no DPDK) for
# SOAK_SECONDS of wall time: churning TCP/UDP connections on vm1..vm3, 16 long-lived connections per
# VM, a SYN flood from vm0 up to its per-VM limit, IPv4 fragments (complete, incomplete, orphan), and
# a new security-group configuration (epoch) every 2 s with a probe of the toggled rule. Reports
# conntrack occupancy over time (per VM), memory (RSS, off-heap by NMT) and drops by reason. Fails
# when another VM has a connection refused FW_LIMIT, a long-lived connection's packet is not passed,
# any packet's outcome differs from the expected one, or the occupancy (conntrack, per-VM and host
# counts, fragment table) is not back at its baseline once every timeout has passed (virtual time).
# JVM: -Xmx256m (RSS then shows the collector's working set, not an ever-growing young generation).
# Writes bench/results/soak-<date>.md; prints soak=pass or soak=fail: <what> last.
#   SOAK_SECONDS=600  SOAK_SEED=20261206  SOAK_INJECT=none|no-vm-limit|no-expiry (break a property on purpose)
set -euo pipefail
SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SLUICE_HOME"
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
BENCH_JAR=${BENCH_JAR:-$SLUICE_HOME/bench/target/benchmarks.jar}
SECS=${SOAK_SECONDS:-600}
SEED=${SOAK_SEED:-20261206}
INJECT=${SOAK_INJECT:-none}
if [ ! -f "$BENCH_JAR" ] || [ -n "$(find bench/src/main dataplane/src/main rules-compiler/src/main -newer "$BENCH_JAR" -type f 2>/dev/null | head -1)" ]; then
  echo "soak.sh: building (mvn -q -o -pl bench -am package -DskipTests)" >&2
  mvn -B -q -o -pl bench -am package -DskipTests >&2 || { echo "soak.sh: build failed" >&2; exit 1; }
fi
suffix=""; [ "$INJECT" = none ] || suffix="-inject-$INJECT"
out="$SLUICE_HOME/bench/results/soak-$(date -u +%Y%m%d-%H%M)$suffix.md"
cmd="SOAK_SECONDS=$SECS SOAK_SEED=$SEED${suffix:+ SOAK_INJECT=$INJECT} ./sluice bench soak"
echo "soak.sh: $cmd (sluice $(git rev-parse --short HEAD 2>/dev/null || echo ?))" >&2
"$JAVA" -Xmx256m -XX:NativeMemoryTracking=summary --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
  -cp "$BENCH_JAR" io.sluice.bench.conntrack.SoakBench --seconds "$SECS" --seed "$SEED" --inject "$INJECT" \
  --out "$out" --cmd "$cmd (sluice $(git rev-parse --short HEAD 2>/dev/null || echo ?))" >&2 || true
[ -f "$out" ] || { echo "soak.sh: failed before writing $out" >&2; exit 1; }
echo "results: $out" >&2
grep '^soak=' "$out" | tail -1
grep -q '^soak=pass' "$out"   # exit status: 0 only for a pass
