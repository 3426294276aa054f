#!/bin/bash
# Sluice's OVS harness (bench/scripts/ovs; used through bench/scripts/ovs-common.sh by bench conntrack/overlay): first written after the peer recipe ../shared/peers/ovs-dpdk, maintained here.
# Usage: bench.sh MODE FLOWFILE NFLOWS [SECONDS]                         (needs 00 + 20 (+30 for VXLAN))
#  memif  : dpdk-testpmd flowgen (CPU 0) --memif--> br1 mif0(1) -> FLOWFILE -> null0(2)
#  pcap   : br2 pcap0(1) = net_pcap infinite_rx replay of pcap/udp-N.pcap -> FLOWFILE -> null1(2) or vx0(3)->br-phy->null2
#  vxdecap: br-phy pcap0(2) replays pcap/vx-N.pcap (VXLAN) -> LOCAL -> tnl_pop -> br2 vx0(3) -> FLOWFILE -> null1(2)
# Env PCAP_IFACE_EXTRA: more `set Interface pcap0` settings (e.g. other_config:pmd-rxq-affinity=0:1).
# Output: Mpps received by the OVS PMD, Mpps leaving on the null sinks, PMD cycles/pkt and busy %, and the share of
# its core each of our busy threads really got (pmd_cpu, gen_cpu): this VM is shared with other work, so a try is
# accepted (OK) only when pmd_cpu >= 0.95 (and gen_cpu >= 0.90 for memif); up to TRIES tries (default 4).
export OVSB="${OVSB:-$(cd "$(dirname "$0")" && pwd)}"; cd "$OVSB"; . ./env.sh
MODE=$1; F=$2; NF=${3:-1}; D=${4:-10}; TRIES=${TRIES:-4}; HZ=$(getconf CLK_TCK)
OVSPID=$(cat $OVS_RUNDIR/ovs-vswitchd.pid)
TAG=$MODE-$(basename $F .txt)-$NF
case $MODE in memif) BR=br1;; pcap|vxdecap) BR=br2;; *) echo "bad mode"; exit 1;; esac
sinktx() { appctl dpctl/show -s | awk '/port [0-9]+: null/{f=1;next} /port [0-9]+:/{f=0} f&&/TX packets/{split($2,a,":"); s+=a[2]} END{printf "%.0f\n", s}'; }
ovs-ofctl -O OpenFlow13 replace-flows $BR $F || exit 1
# NORMAL pipelines: static FDB entries so the test stream is unicast to the sink instead of flooded
# (a flood also writes every packet into the bridge's LOCAL tap and the vx0 tunnel).
case $F in *normal*)
  appctl fdb/add br2 null1 0 02:00:00:00:00:02 >/dev/null
  appctl fdb/add br1 null0 0 02:00:00:00:00:00 >/dev/null
  appctl fdb/add br1 null0 0 00:01:02:03:04:01 >/dev/null;;
esac
if [ $MODE = pcap ]; then PCAP=${PCAP:-pcap/udp-$NF.pcap}; PBR=br2; PPORT=1; fi
if [ $MODE = vxdecap ]; then PCAP=pcap/vx-$NF.pcap; PBR=br-phy; PPORT=2; fi
[ -n "$PCAP" ] && [ ! -f $PCAP ] && python3 mkpcap.py $NF $PCAP 64 1024 $([ $MODE = vxdecap ] && echo vxlan)
for try in $(seq $TRIES); do
  [ -z "$NOFLUSH" ] && appctl dpctl/flush-conntrack
  wait_quiet $OVSPID
  TPPID=""; TO=""
  if [ $MODE = memif ]; then
    LOG=$OVS_LOGDIR/testpmd-$TAG.log
    timeout -s INT $((D+12)) taskset -c 0 dpdk-testpmd --no-huge -m 1024 --no-pci --file-prefix=tpmd \
      --lcores=0@0,1@0 --vdev=net_memif0,role=client,id=0,socket=$OVS_RUNDIR/memif0.sock,socket-abstract=no,rsize=14 -- \
      --forward-mode=flowgen --flowgen-flows=$NF --txpkts=64 --port-topology=loop --nb-cores=1 \
      --stats-period=5 > $LOG 2>&1 &
    TO=$!; sleep 6; TPPID=$(pgrep -P $TO | head -1)
  else
    ovs-vsctl --if-exists del-port $PBR pcap0
    # PCAP_IFACE_EXTRA: more Interface settings for the source port (the tuned profile: pmd-rxq-affinity)
    ovs-vsctl add-port $PBR pcap0 -- set Interface pcap0 type=dpdk ofport_request=$PPORT ${PCAP_IFACE_EXTRA:-} \
      options:dpdk-devargs="net_pcap0,rx_pcap=$OVSB/$PCAP,infinite_rx=1"
    sleep 4
  fi
  t0=$(sinktx); p0=$(tj $OVSPID pmd); g0=$([ -n "$TPPID" ] && tj $TPPID rte-worker || echo 0); ts0=$(date +%s.%N)
  appctl dpif-netdev/pmd-stats-clear
  sleep $D
  appctl dpif-netdev/pmd-stats-show > $OVS_LOGDIR/pmdstats-$TAG.txt
  t1=$(sinktx); p1=$(tj $OVSPID pmd); g1=$([ -n "$TPPID" ] && tj $TPPID rte-worker || echo 0); ts1=$(date +%s.%N)
  NCT=$(appctl dpctl/ct-get-nconns); NDP=$(appctl dpctl/dump-flows | wc -l)
  if [ -n "$TO" ]; then wait $TO; else ovs-vsctl del-port $PBR pcap0; fi
  python3 - $MODE "$F" $NF $t0 $t1 $ts0 $ts1 "$NCT" $NDP $OVS_LOGDIR/pmdstats-$TAG.txt $try $HZ $p0 $p1 $g0 $g1 <<'PY'
import sys,re
mode,f,nf,t0,t1,ts0,ts1,nct,ndp,pf,tr,hz,p0,p1,g0,g1=sys.argv[1:17]
dt=float(ts1)-float(ts0); hz=float(hz)
tx=(int(t1)-int(t0))/dt/1e6
s=open(pf).read().split("main thread")[0]
rx=int(re.search(r"packets received: (\d+)",s).group(1))/dt/1e6
cyc=float(re.search(r"avg processing cycles per packet: ([\d.]+)",s).group(1)) if "avg processing" in s else 0
idle=float(re.search(r"idle cycles: \d+ \(([\d.]+)%\)",s).group(1))
pc=(int(p1)-int(p0))/hz/dt; gc=(int(g1)-int(g0))/hz/dt
ok = pc>=0.95 and (mode!="memif" or gc>=0.90)
gs=f" gen_cpu={gc:.2f}" if mode=="memif" else ""
print(f"{'OK   ' if ok else 'NOISY'} {mode:7s} {f.split('/')[-1]:26s} flows={nf:>6s} 64B rx={rx:6.3f} Mpps sink_tx={tx:6.3f} Mpps "
      f"cyc/pkt={cyc:5.0f} pmd_busy={100-idle:3.0f}% pmd_cpu={pc:.2f}{gs} conns={nct} dp_flows={ndp} try={tr}", flush=True)
sys.exit(0 if ok else 3)
PY
  [ $? = 0 ] && break
done
