# Sourced: a private OVS-DPDK (3.1, Debian package openvswitch-switch-dpdk) for benchmarks that
# measure it in the same run as Sluice. Everything it makes is named after $OVSL_PFX and lives in
# $OVSL_DIR: its own ovsdb-server and ovs-vswitchd (in netns ${OVSL_PFX}ovs0, so its bridges'
# internal ports never touch the host), DPDK file prefix ${OVSL_PFX}ovs, no hugepages, no PCI.
# Learned from the peer recipe (../shared/peers/ovs-dpdk RECIPE.md), which is not used at run time.
#
#   ovsl_start DIR PFX          start OVS: lcore 0 for its main threads, the one PMD on CPU 1;
#                               (OVSL_OTHER_CONFIG: more other_config:K=V set before ovs-vswitchd starts)
#                               bridge "brn": port 2 = sink (net_null no-rx), port 1 = the source (per run)
#                               (env OVSL_MEM: DPDK memory in MB, default 2048; OVSL_EXTRA_CONFIG: more
#                               other_config:key=value settings read at DPDK init, e.g. per-port-memory=true)
#   ovsl_profile default|tuned NFLOWS   OVS's cache settings (see OVSL_SETTINGS, recorded in results):
#                               default: EMC on, emc-insert-inv-prob 100 (OVS's default), SMC off;
#                               tuned (OVS's DPDK performance guide): SMC on; EMC insertion always (1)
#                               when the flows fit the EMC (8192 entries), else EMC off (0) and SMC only;
#                               the source rxq pinned to the PMD on CPU 1 (pmd-rxq-affinity 0:1)
#   ovsl_flows FILE             replace brn's flows (OpenFlow 1.3, multi-table)
#   ovsl_source PCAP once|loop  (re)attach the source port: net_pcap replaying PCAP (loop: infinite_rx)
#   ovsl_sink null|FILE         the sink port 2: net_null, or net_pcap writing what leaves to FILE
#   ovsl_measure SECS           one window: "rx=<pkts> tx=<pkts> secs= cpu= cyc_pkt= busy="
#                               (cpu: the PMD thread's share of its core from /proc/<pid>/task/<tid>/schedstat;
#                               rx and tx from one read of the datapath's port stats at each end)
#   ovsl_measure_once PCAP WARM TOTAL TSC_MHZ   a file read once (new connections), measured after WARM packets
#   ovsl_ct_flush / ovsl_ct_dump / ovsl_pmd_cycles
#   ovsl_stop                   stop both daemons (pidfiles), remove the netns and DPDK runtime dir
OVSL_VSWITCHD=/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk

ovsl_env() {
  export OVS_RUNDIR=$OVSL_DIR/run OVS_LOGDIR=$OVSL_DIR/log OVS_DBDIR=$OVSL_DIR/db OVS_SYSCONFDIR=$OVSL_DIR/etc
  OVSL_DB=$OVS_RUNDIR/db.sock; OVSL_CTL=$OVS_RUNDIR/ovs-vswitchd.ctl
}
ovsl_vsctl() { ovs-vsctl --db=unix:$OVSL_DB "$@"; }
ovsl_appctl() { ovs-appctl -t "$OVSL_CTL" "$@"; }

ovsl_start() {
  OVSL_DIR=$1; OVSL_PFX=$2; ovsl_env
  mkdir -p "$OVS_RUNDIR" "$OVS_LOGDIR" "$OVS_DBDIR" "$OVS_SYSCONFDIR"
  ip netns add "${OVSL_PFX}ovs0" && ip -n "${OVSL_PFX}ovs0" link set lo up || return 1
  rm -f "$OVS_DBDIR/conf.db"
  ovsdb-tool create "$OVS_DBDIR/conf.db" /usr/share/openvswitch/vswitch.ovsschema || return 1
  ovsdb-server "$OVS_DBDIR/conf.db" --remote=punix:$OVSL_DB --pidfile=$OVS_RUNDIR/ovsdb-server.pid \
    --unixctl=$OVS_RUNDIR/ovsdb-server.ctl --log-file=$OVS_LOGDIR/ovsdb-server.log --detach || return 1
  OVSL_PIDS=$(cat $OVS_RUNDIR/ovsdb-server.pid)
  ovsl_vsctl --no-wait init
  # --legacy-mem: OVS 3.1 adds --in-memory unless it is given, which --no-huge refuses
  ovsl_vsctl --no-wait set Open_vSwitch . other_config:dpdk-init=true \
    other_config:dpdk-extra="--no-huge -m ${OVSL_MEM:-2048} --no-pci --legacy-mem --file-prefix=${OVSL_PFX}ovs" \
    other_config:dpdk-lcore-mask=0x1 other_config:pmd-cpu-mask=0x2 ${OVSL_EXTRA_CONFIG:-} ${OVSL_OTHER_CONFIG:-}
  ip netns exec "${OVSL_PFX}ovs0" $OVSL_VSWITCHD unix:$OVSL_DB --pidfile=$OVS_RUNDIR/ovs-vswitchd.pid \
    --unixctl=$OVSL_CTL --log-file=$OVS_LOGDIR/ovs-vswitchd.log --detach || return 1
  OVSL_PIDS="$(cat $OVS_RUNDIR/ovsdb-server.pid) $(cat $OVS_RUNDIR/ovs-vswitchd.pid)"  # kept apart from the pidfiles
  [ "$(ovsl_vsctl get Open_vSwitch . dpdk_initialized)" = true ] || return 1
  ovsl_vsctl add-br brn -- set bridge brn datapath_type=netdev protocols=OpenFlow10,OpenFlow13,OpenFlow15 || return 1
  ovsl_sink null
}

ovsl_pid() { cat "$OVS_RUNDIR/ovs-vswitchd.pid" 2>/dev/null; }
ovsl_pmd_tid() { local t; for t in /proc/$(ovsl_pid)/task/*; do case "$(cat $t/comm 2>/dev/null)" in pmd*) basename $t; return;; esac; done; }

ovsl_profile() {
  local p=$1 n=$2
  case $p in
    default) ovsl_vsctl remove Open_vSwitch . other_config smc-enable -- remove Open_vSwitch . other_config emc-insert-inv-prob
             OVSL_SETTINGS="smc-enable=false (default), emc-insert-inv-prob=100 (default), no rxq affinity";;
    tuned) local emc=1; [ "$n" -gt 8192 ] && emc=0
           ovsl_vsctl set Open_vSwitch . other_config:smc-enable=true other_config:emc-insert-inv-prob=$emc
           OVSL_SETTINGS="smc-enable=true, emc-insert-inv-prob=$emc ($([ $emc = 0 ] && echo "EMC off: $n flows > 8192 EMC entries" || echo "insert every flow")), pmd-rxq-affinity=0:1";;
    *) return 1;;
  esac
  OVSL_PROFILE=$p
}

ovsl_flows() { ovs-ofctl -O OpenFlow13 replace-flows brn "$1" 2>&1 | sed 's/^/ovs-ofctl: /' >&2; [ "${PIPESTATUS[0]}" = 0 ]; }

ovsl_source() {
  local pcap=$1 how=$2 aff=""
  [ "${OVSL_PROFILE:-default}" = tuned ] && aff="other_config:pmd-rxq-affinity=0:1"
  ovsl_vsctl --if-exists del-port brn src0
  ovsl_vsctl add-port brn src0 -- set Interface src0 type=dpdk ofport_request=1 $aff \
    options:dpdk-devargs="net_pcap0,rx_pcap=$pcap$([ "$how" = loop ] && echo ,infinite_rx=1)"
}
ovsl_source_del() { ovsl_vsctl --if-exists del-port brn src0; }

ovsl_sink() {
  ovsl_vsctl --if-exists del-port brn sink0
  if [ "$1" = null ]; then
    # no-rx=1 is required: a plain net_null port's rx generates packets endlessly
    ovsl_vsctl add-port brn sink0 -- set Interface sink0 type=dpdk ofport_request=2 options:dpdk-devargs="net_null1,no-rx=1"
  else
    # net_pcap needs an rx side: a pcap file with no packets
    printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' > "$OVSL_DIR/empty.pcap"
    ovsl_vsctl add-port brn sink0 -- set Interface sink0 type=dpdk ofport_request=2 options:dpdk-devargs="net_pcap1,rx_pcap=$OVSL_DIR/empty.pcap,tx_pcap=$1"
  fi
}

# "<packets received by src0> <packets sent by sink0>" from one read of the datapath's port stats
# (exact, unlike the Interface statistics column, which is refreshed every 5 s)
ovsl_port_pkts() {
  ovsl_appctl dpctl/show -s | awk '$1=="port" {p=$3; next} p=="src0" && $1=="RX" && $2 ~ /^packets:/ {split($2,a,":"); r=a[2]} p=="sink0" && $1=="TX" && $2 ~ /^packets:/ {split($2,a,":"); x=a[2]} END{print r+0, x+0}'
}
ovsl_pmd_cycles() { ovsl_appctl dpif-netdev/pmd-stats-show | awk '/pmd thread/{f=1} /main thread/{f=0} f&&/idle cycles/{i=$3} f&&/processing cycles:/{p=$3} f&&/avg processing cycles per packet/{c=$6} END{print i+0, p+0, c+0}'; }

ovsl_measure() {
  local secs=$1 tid pid r0 r1 x0 x1 c0 c1 t0 t1 cy
  pid=$(ovsl_pid); tid=$(ovsl_pmd_tid)
  ovsl_appctl dpif-netdev/pmd-stats-clear >/dev/null
  read -r r0 x0 < <(ovsl_port_pkts); c0=$(cut -d' ' -f1 /proc/$pid/task/$tid/schedstat); t0=$(date +%s%N)
  sleep "$secs"
  read -r r1 x1 < <(ovsl_port_pkts); c1=$(cut -d' ' -f1 /proc/$pid/task/$tid/schedstat); t1=$(date +%s%N)
  cy=$(ovsl_pmd_cycles)
  awk -v r=$((r1 - r0)) -v x=$((x1 - x0)) -v c=$((c1 - c0)) -v t=$((t1 - t0)) -v cy="$cy" 'BEGIN{split(cy,a," ");
    printf "rx=%d tx=%d secs=%.3f cpu=%.3f cyc_pkt=%.0f busy=%.2f\n", r, x, t/1e9, c/t, a[3], (a[1]+a[2]>0 ? a[2]/(a[1]+a[2]) : 0)}'
}

# One file read once through the bridge (new connections): attach PCAP (read once), wait until WARM
# packets were received, then measure until TOTAL were -> "rx= tx= secs= cpu= cyc_pkt= tsc_ns_pkt=
# cpu_ns_pkt= percpu=". Per CPU-second: packets / the PMD's CPU time (schedstat) while the file went
# through, as for Sluice (its worker's CPU time); also its processing cycles per packet and their ns at
# the TSC rate TSC_MHZ (equal when the PMD got its whole core: cycles count wall time, preemption included).
ovsl_measure_once() { # PCAP WARM TOTAL TSC_MHZ
  local warm=$2 total=$3 mhz=$4 pid tid c0 c1 t0 t1 r x r0 x0 cy k
  pid=$(ovsl_pid); tid=$(ovsl_pmd_tid)
  ovsl_source "$1" once
  for k in $(seq 2400); do read -r r0 x0 < <(ovsl_port_pkts); [ "$r0" -ge "$warm" ] && break; sleep 0.02; done
  ovsl_appctl dpif-netdev/pmd-stats-clear >/dev/null
  read -r r0 x0 < <(ovsl_port_pkts); c0=$(cut -d' ' -f1 /proc/$pid/task/$tid/schedstat); t0=$(date +%s%N)
  [ "$r0" -lt $(( (warm + total) / 2 )) ] || { echo "warm-up point missed (rx=$r0)"; ovsl_source_del; return 1; }
  for k in $(seq 2400); do read -r r x < <(ovsl_port_pkts); [ "$r" -ge "$total" ] && break; sleep 0.02; done
  c1=$(cut -d' ' -f1 /proc/$pid/task/$tid/schedstat); t1=$(date +%s%N); cy=$(ovsl_pmd_cycles); sleep 0.2
  read -r r x < <(ovsl_port_pkts); ovsl_source_del
  awk -v r=$((r - r0)) -v x=$((x - x0)) -v c=$((c1 - c0)) -v t=$((t1 - t0)) -v cy="$cy" -v mhz="$mhz" 'BEGIN{split(cy,a," ");
    printf "rx=%d tx=%d secs=%.3f cpu=%.3f cyc_pkt=%.0f tsc_ns_pkt=%.1f cpu_ns_pkt=%.1f percpu=%.3f\n", r, x, t/1e9, c/t, a[3], a[3] * 1e3 / mhz, (r > 0 ? c / r : 0), (c > 0 ? r * 1e3 / c : 0)}'
}

ovsl_ct_flush() { ovsl_appctl dpctl/flush-conntrack; }
ovsl_ct_dump() { ovsl_appctl dpctl/dump-conntrack zone=1; }
ovsl_settings() { ovsl_vsctl get Open_vSwitch . other_config; ovsl_vsctl --columns=name,options,other_config list Interface src0 2>/dev/null | tr -s ' '; }

ovsl_stop() {
  [ -n "${OVSL_DIR:-}" ] || return 0
  ovsl_env
  local d f p pids=${OVSL_PIDS:-}
  for d in ovs-vswitchd ovsdb-server; do f=$OVS_RUNDIR/$d.pid; [ -f $f ] && pids="$pids $(cat $f)"; done
  for p in $pids; do kill "$p" 2>/dev/null; done
  sleep 1
  for p in $pids; do kill -0 "$p" 2>/dev/null && { sleep 2; kill -0 "$p" 2>/dev/null && kill -9 "$p"; }; done
  for p in $pids; do for d in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done; done
  rm -f $OVS_RUNDIR/*.pid; OVSL_PIDS=""
  ip netns del "${OVSL_PFX}ovs0" 2>/dev/null || true
  rm -rf "/var/run/dpdk/${OVSL_PFX}ovs"
  OVSL_DIR=""
}
