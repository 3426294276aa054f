#!/bin/bash
# Sluice's OVS harness (bench/scripts/ovs; used through bench/scripts/ovs-common.sh by bench conntrack/overlay): first written after the peer recipe ../shared/peers/ovs-dpdk, maintained here.
# Packet-rate setup: drop the TAP ports (polling a tap costs a read() syscall per poll), create
# br1: mif0 = memif server (ofport 1, testpmd connects as client), null0 = net_null sink (ofport 2).
set -e
export OVSB="${OVSB:-$(cd "$(dirname "$0")" && pwd)}"; cd "$OVSB"; . ./env.sh
ovs-vsctl --if-exists del-port br0 dp0 -- --if-exists del-port br0 dp1
ovs-vsctl --may-exist add-br br1 -- set bridge br1 datapath_type=netdev protocols=OpenFlow10,OpenFlow13,OpenFlow15
ovs-vsctl --may-exist add-port br1 mif0 -- set Interface mif0 type=dpdk ofport_request=1 \
  options:dpdk-devargs="net_memif0,role=server,id=0,socket=$OVS_RUNDIR/memif0.sock,socket-abstract=no"
# no-rx=1 is REQUIRED: a plain net_null port's rx endlessly generates packets into OVS.
ovs-vsctl --may-exist add-port br1 null0 -- set Interface null0 type=dpdk ofport_request=2 options:dpdk-devargs="net_null0,no-rx=1"
sleep 1; ovs-vsctl show | sed -n '/Bridge br1/,/Bridge br0/p'; ls -la $OVS_RUNDIR/memif0.sock
