#!/usr/bin/env bash
# ./sluice bench conntrack-diff — Sluice's conntrack against Linux nf_conntrack (issue 17): the
# differential harness of LinuxDiffTest (dataplane tests) with many more random sequences than the
# bounded run in ./sluice test. Each packet goes through Sluice's Conntrack (track, then commit for
# NEW, every rule allowing) and through a Linux forwarding namespace with nftables `ct state`
# rules (the state comes back in the DSCP the rules set); verdict and state are compared per packet.
# Reports sequences and packets compared and the first difference of every diverging sequence by
# kind (deliberate ones with their reason from docs/conntrack.md). Writes
# bench/results/conntrack-diff-<date>.md; prints unexplained=<n> last.
#   CTDIFF_SEQUENCES=110000 (about 1M packets)  CTDIFF_SEED=20261206  CTDIFF_LOOSE=1 (pickup on both sides)
set -euo pipefail
SLUICE_HOME=${SLUICE_HOME:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SLUICE_HOME"
SEQS=${CTDIFF_SEQUENCES:-110000}
SEED=${CTDIFF_SEED:-20261206}
LOOSE=${CTDIFF_LOOSE:-0}   # 1: mid-stream pickup on both sides (Sluice tcp-pickup, Linux nf_conntrack_tcp_loose=1)
suffix=$([ "$LOOSE" = 1 ] && echo "-loose" || true)
out="$SLUICE_HOME/bench/results/conntrack-diff$suffix-$(date -u +%Y%m%d-%H%M).md"
cmd="CTDIFF_SEQUENCES=$SEQS CTDIFF_SEED=$SEED$([ "$LOOSE" = 1 ] && echo " CTDIFF_LOOSE=1" || true) ./sluice bench conntrack-diff"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# the harness lives with the conntrack tests (it drives the package-private parts and the netns helper)
if ! mvn -B -q -o -pl dataplane -am test -Dtest=LinuxDiffTest#randomSequencesMatchLinux -Dsurefire.failIfNoSpecifiedTests=false -Dsluice.test.forkTimeoutSeconds=0 \
    -Dctdiff.sequences="$SEQS" -Dctdiff.seed="$SEED" -Dctdiff.out="$out" -Dctdiff.cmd="$cmd" -Dctdiff.loose="$([ "$LOOSE" = 1 ] && echo true || echo false)" > "$log" 2>&1; then
  tail -60 "$log" >&2
  [ -f "$out" ] || { echo "conntrack-diff: the harness failed before writing $out" >&2; exit 1; }
fi
echo "results: $out" >&2
grep -E '^sequences=|^sequences with' "$out" >&2 || true
grep '^unexplained=' "$out" | tail -1
