# Sourced by bench scripts that measure Open vSwitch with DPDK in the same run as Sluice.
# Drives the OVS harness kept in this repository (bench/scripts/ovs: 00-setup-ovs.sh, 20-memif.sh,
# 30-vxlan.sh, bench.sh, 99-teardown.sh, mkpcap.py, flows/; first written after the peer recipe in
# ../shared/peers/ovs-dpdk, which is not used at run time) from a private copy whose namespaces and
# DPDK file prefixes are renamed to ours, so no fixed name (ovsck*, /var/run/dpdk/ovs) is touched.
# The NAT benchmark uses the newer library bench/scripts/ovs/lib.sh directly.
#
#   ovs_prepare DIR PREFIX   copy bench/scripts/ovs to DIR (sets OVSB), rename ovsck* -> PREFIXck*,
#                            --file-prefix=ovs -> PREFIXovs, tpmd/tphelp -> PREFIXtp/PREFIXtph
#   ovs_other_running        true when any ovs-vswitchd-dpdk runs (only one OVS may run here)
#   ovs_start SCRIPT...      start OVS (00-setup-ovs.sh) then the given recipe scripts; log in $OVSB/setup.log
#   ovs_bench MODE FLOWFILE NFLOWS SECONDS   one bench.sh measurement (env PCAP, TRIES, QUIET_TRIES
#                            are passed on); prints its last OK/NOISY line (empty when it failed)
#   ovs_field LINE KEY       the value of KEY=... in a bench.sh line (rx, sink_tx, cyc/pkt, pmd_cpu)
#   ovs_teardown             stop what ovs_start started (pidfiles), delete our namespaces and DPDK dirs
#
# bench.sh accepts a try only when the PMD got >= 0.95 of CPU 1 (OK), else retries; after TRIES
# tries it prints NOISY (rate still usable per CPU-second: rx / pmd_cpu).

ovs_prepare() {
  local dir=$1 pfx=$2 peer
  peer="${SLUICE_HOME:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/bench/scripts/ovs"
  [ -f "$peer/bench.sh" ] || { echo "OVS harness not found at $peer" >&2; return 1; }
  mkdir -p "$dir/pcap" "$dir/flows"
  cp "$peer"/[0-9]*.sh "$peer"/bench.sh "$peer"/env.sh "$peer"/*.py "$dir/"
  cp "$peer"/flows/*.txt "$dir/flows/"
  sed -i "s/ovsck/${pfx}ck/g; s/--file-prefix=ovs/--file-prefix=${pfx}ovs/; s/--file-prefix=tpmd/--file-prefix=${pfx}tp/;
          s#/var/run/dpdk/ovs /var/run/dpdk/tpmd /var/run/dpdk/tphelp#/var/run/dpdk/${pfx}ovs /var/run/dpdk/${pfx}tp /var/run/dpdk/${pfx}tph#" "$dir"/*.sh
  if grep -q -- '--file-prefix=ovs\b\|/var/run/dpdk/ovs\b\|ovsck' "$dir"/*.sh; then
    echo "ovs_prepare: bench/scripts/ovs changed, could not rename all of its prefixes" >&2; return 1
  fi
  OVS_PREFIX=$pfx
  export OVSB=$dir
}

ovs_other_running() { [ -n "$(pidof ovs-vswitchd-dpdk 2>/dev/null)" ]; }

ovs_start() {
  local s
  (cd "$OVSB" && ./00-setup-ovs.sh && for s in "$@"; do "./$s" || exit 1; done) > "$OVSB/setup.log" 2>&1
}

ovs_bench() {
  (cd "$OVSB" && ./bench.sh "$@" 2>&1) | tee -a "$OVSB/bench.log" | grep -E '^(OK|NOISY)' | tail -1 || true
}

ovs_field() { echo "$1" | grep -o "$2= *[0-9.]*" | head -1 | grep -o '[0-9.]*$' || true; }

ovs_teardown() {
  [ -n "${OVSB:-}" ] && [ -d "$OVSB" ] || return 0
  (cd "$OVSB" && ./99-teardown.sh >/dev/null 2>&1) || true
  rm -rf "/var/run/dpdk/${OVS_PREFIX}ovs" "/var/run/dpdk/${OVS_PREFIX}tp" "/var/run/dpdk/${OVS_PREFIX}tph"
}
