#!/bin/sh
# /init of Sluice's test guest (bench/vm/build-guest.sh; after ../shared/recipes/vhost-kvm-guest).
# Kernel command line parameters:
#   vkg_ip=10.0.1.10/24      address of eth0
#   vkg_gw=10.0.1.1          default route (optional)
#   vkg_peer=10.0.0.2        role client: the iperf3 server
#   vkg_role=console|server|client
#       console: after READY, a shell on the serial console without echo; a driver writes a command
#                line and reads its output (the VM tests and the VM demo do this)
#       server:  iperf3 -s in a loop until the VM is killed
#       client:  wait for the peer, iperf3 -c PEER -t TIME -f m IPERF, print "vkg: DONE", power off
#   vkg_time=10               iperf3 seconds (client)
#   vkg_iperf=-P,2            extra iperf3 client arguments, commas become spaces
#   vkg_offload=on|off        off: ethtool -K eth0 tx off sg off tso off gso off gro off
export PATH=/usr/bin:/usr/sbin:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec 0</dev/console 1>/dev/console 2>&1
mkdir -p /tmp /run
IP= GW= PEER= ROLE=console T=10 OFFLOAD=on IPERF=
for kv in $(cat /proc/cmdline); do
  case "$kv" in
    vkg_ip=*)      IP=${kv#vkg_ip=} ;;
    vkg_gw=*)      GW=${kv#vkg_gw=} ;;
    vkg_peer=*)    PEER=${kv#vkg_peer=} ;;
    vkg_role=*)    ROLE=${kv#vkg_role=} ;;
    vkg_time=*)    T=${kv#vkg_time=} ;;
    vkg_offload=*) OFFLOAD=${kv#vkg_offload=} ;;
    vkg_iperf=*)   IPERF=$(echo "${kv#vkg_iperf=}" | tr , ' ') ;;
  esac
done
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
         virtio_pci failover net_failover virtio_net; do
  insmod /lib/modules/$m.ko 2>/dev/null
done
i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
# no IPv6 chatter (router solicitations, DAD): the checks count packets
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null
echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null
/usr/bin/ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
  [ -n "$IP" ] && /usr/bin/ip addr add "$IP" dev eth0
  /usr/bin/ip link set eth0 up
  [ -n "$GW" ] && /usr/bin/ip route add default via "$GW"
  [ "$OFFLOAD" = off ] && ethtool -K eth0 tx off sg off tso off gso off gro off >/dev/null 2>&1
  echo "vkg: eth0 $(cat /sys/class/net/eth0/address) ip=$IP role=$ROLE offload=$OFFLOAD"
  ethtool -k eth0 2>/dev/null | grep -E '^(tx-checksumming|tcp-segmentation-offload):' | sed 's/^/vkg: /'
else
  echo "vkg: ERROR no eth0"
fi
echo "vkg: READY uptime $(cut -d' ' -f1 /proc/uptime)s"
case "$ROLE" in
  console)
    stty -echo 2>/dev/null
    export PS1=
    while :; do sh; done ;;
  server)
    while :; do iperf3 -s -1 || sleep 1; done ;;
  client)
    i=0; until /usr/bin/ping -c 1 -W 1 "$PEER" >/dev/null 2>&1 || [ $i -ge 60 ]; do i=$((i+1)); done
    echo "vkg: iperf3 TCP"; iperf3 -c "$PEER" -t "$T" -f m $IPERF
    echo "vkg: DONE rc=$?"
    sync; sleep 1; poweroff -f ;;
esac
