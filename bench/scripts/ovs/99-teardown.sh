#!/bin/bash
# Sluice's OVS harness (bench/scripts/ovs; used through bench/scripts/ovs-common.sh by bench conntrack/overlay): first written after the peer recipe ../shared/peers/ovs-dpdk, maintained here.
# Stop only what these scripts started (by pidfile), remove its namespaces and DPDK runtime dirs.
export OVSB="${OVSB:-$(cd "$(dirname "$0")" && pwd)}"; cd "$OVSB"; . ./env.sh
for p in $OVS_RUNDIR/iperf3-*.pid; do [ -f "$p" ] && kill $(cat $p) 2>/dev/null; rm -f $p; done
for d in ovs-vswitchd ovsdb-server; do
  f=$OVS_RUNDIR/$d.pid; [ -f $f ] && kill $(cat $f) 2>/dev/null
done
sleep 2
for d in ovs-vswitchd ovsdb-server; do
  f=$OVS_RUNDIR/$d.pid; [ -f $f ] && kill -0 $(cat $f) 2>/dev/null && { echo "killing -9 $d"; kill -9 $(cat $f); }
  rm -f $f
done
for ns in ovsckA ovsckB ovsck0; do ip netns del $ns 2>/dev/null; done
rm -rf /var/run/dpdk/ovs /var/run/dpdk/tpmd /var/run/dpdk/tphelp
rm -f $OVS_RUNDIR/*.ctl $OVS_RUNDIR/*.mgmt $OVS_RUNDIR/*.snoop $OVS_RUNDIR/db.sock $OVS_RUNDIR/memif*.sock
echo teardown done
