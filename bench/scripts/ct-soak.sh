#!/usr/bin/env bash
# ./sluice bench ct-soak — a bounded conntrack soak (issue 17): CtSoak (dataplane tests) churns TCP
# and UDP connections through a file-backed shard for CTSOAK_SECONDS of wall time, with mid-stream
# pickup, per-VM and host limits that bite, SNAT ports for two outbound-only VMs, virtual time across
# every timeout, bounded expiry and restarts (shard re-attached, SNAT pool rebuilt from the kept
# entries and compared with the pool before); ReferenceConntrack answers every packet too. At the end
# the traffic stops and every timeout passes: table, limits and SNAT pool must be empty, the shard's
# counters equal the soak's counts. Writes bench/results/ct-soak-<date>.md; prints soak=pass or
# soak=fail: <what> last. Not a speed figure: ops per second depend on the machine's load.
#   CTSOAK_SECONDS=300  CTSOAK_SEED=20261206
set -euo pipefail
SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SLUICE_HOME"
SECS=${CTSOAK_SECONDS:-300}
SEED=${CTSOAK_SEED:-20261206}
out="$SLUICE_HOME/bench/results/ct-soak-$(date -u +%Y%m%d-%H%M).md"
cmd="CTSOAK_SECONDS=$SECS CTSOAK_SEED=$SEED ./sluice bench ct-soak"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! mvn -B -q -o -pl dataplane -am test -Dtest=CtSoak -Dsurefire.failIfNoSpecifiedTests=false -Dsluice.test.forkTimeoutSeconds=0 \
    -Dctsoak.seconds="$SECS" -Dctsoak.seed="$SEED" -Dctsoak.out="$out" -Dctsoak.cmd="$cmd" > "$log" 2>&1; then
  tail -40 "$log" >&2
  [ -f "$out" ] || { echo "ct-soak: failed before writing $out" >&2; exit 1; }
fi
echo "results: $out" >&2
grep '^soak=' "$out" | tail -1
grep -q '^soak=pass' "$out"   # exit status: 0 only for a pass
