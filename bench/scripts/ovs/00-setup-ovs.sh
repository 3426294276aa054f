#!/bin/bash
# Sluice's OVS harness (bench/scripts/ovs; used through bench/scripts/ovs-common.sh by bench conntrack/overlay): first written after the peer recipe ../shared/peers/ovs-dpdk, maintained here.
# Start a private ovsdb-server + DPDK ovs-vswitchd (no hugepages, no PCI). ovs-vswitchd runs inside
# its own netns "ovsck0" so its internal ports / tunnel routes never touch the host's network config.
set -e
export OVSB="${OVSB:-$(cd "$(dirname "$0")" && pwd)}"; cd "$OVSB"; . ./env.sh
ip netns add ovsck0 2>/dev/null || true
ip -n ovsck0 link set lo up
mkdir -p $OVS_RUNDIR $OVS_LOGDIR $OVS_DBDIR $OVS_SYSCONFDIR
rm -f $OVS_DBDIR/conf.db
ovsdb-tool create $OVS_DBDIR/conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server $OVS_DBDIR/conf.db --remote=punix:$DB_SOCK \
  --pidfile=$OVS_RUNDIR/ovsdb-server.pid --unixctl=$OVS_RUNDIR/ovsdb-server.ctl \
  --log-file=$OVS_LOGDIR/ovsdb-server.log --detach
ovs-vsctl --no-wait init
# --legacy-mem is REQUIRED: OVS 3.1 appends --in-memory unless --legacy-mem is given, and
# --no-huge implies legacy mem, so EAL would refuse "--legacy-mem is not compatible with --in-memory".
ovs-vsctl --no-wait set Open_vSwitch . other_config:dpdk-init=true \
  other_config:dpdk-extra="--no-huge -m 2048 --no-pci --legacy-mem --file-prefix=ovs" \
  other_config:dpdk-lcore-mask=0x1 other_config:pmd-cpu-mask=0x2
ip netns exec ovsck0 $VSWITCHD unix:$DB_SOCK --pidfile=$OVS_RUNDIR/ovs-vswitchd.pid \
  --unixctl=$CTL --log-file=$OVS_LOGDIR/ovs-vswitchd.log --detach
echo "dpdk_initialized=$(ovs-vsctl get Open_vSwitch . dpdk_initialized) $(ovs-vsctl get Open_vSwitch . dpdk_version)"
