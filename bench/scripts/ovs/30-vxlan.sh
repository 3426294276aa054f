#!/bin/bash
# Sluice's OVS harness (bench/scripts/ovs; used through bench/scripts/ovs-common.sh by bench conntrack/overlay): first written after the peer recipe ../shared/peers/ovs-dpdk, maintained here.
# Userspace VXLAN: underlay bridge br-phy (in netns ovsck0 only) with "physical" port null2 (net_null sink,
# ofport 1), LOCAL port br-phy = VTEP 172.31.255.1 (MAC 02:00:00:ff:00:01); remote VTEP 172.31.255.2 has a
# static neighbour entry. Overlay port vx0 (ofport 3) on br2. Needs 00 + 20 (+ one pcap-bench run for br2).
set -e
export OVSB="${OVSB:-$(cd "$(dirname "$0")" && pwd)}"; cd "$OVSB"; . ./env.sh
ovs-vsctl --may-exist add-br br2 -- set bridge br2 datapath_type=netdev protocols=OpenFlow10,OpenFlow13,OpenFlow15
ovs-vsctl --may-exist add-port br2 null1 -- set Interface null1 type=dpdk options:dpdk-devargs="net_null1,no-rx=1" ofport_request=2
ovs-vsctl --may-exist add-br br-phy -- set bridge br-phy datapath_type=netdev protocols=OpenFlow10,OpenFlow13,OpenFlow15 \
  other-config:hwaddr=02:00:00:ff:00:01
ovs-vsctl --may-exist add-port br-phy null2 -- set Interface null2 type=dpdk options:dpdk-devargs="net_null2,no-rx=1" ofport_request=1
ip -n ovsck0 addr replace 172.31.255.1/24 dev br-phy
ip -n ovsck0 link set br-phy up
ovs-vsctl --may-exist add-port br2 vx0 -- set interface vx0 type=vxlan ofport_request=3 \
  options:remote_ip=172.31.255.2 options:local_ip=172.31.255.1 options:key=flow
sleep 1
appctl tnl/arp/set br-phy 172.31.255.2 02:00:00:ff:00:02
# underlay: encapsulated packets leave br-phy LOCAL -> null2; VXLAN arriving on port 2 (pcap) -> LOCAL (tnl_pop)
ovs-ofctl -O OpenFlow13 replace-flows br-phy - <<'FL'
table=0,priority=10,in_port=LOCAL,actions=output:1
table=0,priority=10,in_port=2,actions=LOCAL
table=0,priority=0,actions=drop
FL
appctl ovs/route/show | grep -E '172.31.255|Route'; appctl tnl/arp/show; appctl tnl/ports/show -v
