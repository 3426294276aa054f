# source this: private OVS run/db/log dirs (nothing under /var/run/openvswitch is used)
# Sluice's OVS harness (bench/scripts/ovs; used through bench/scripts/ovs-common.sh by bench conntrack/overlay): first written after the peer recipe ../shared/peers/ovs-dpdk, maintained here.
export OVS_RUNDIR=$OVSB/run
export OVS_LOGDIR=$OVSB/log
export OVS_DBDIR=$OVSB/db
export OVS_SYSCONFDIR=$OVSB/etc
export DB_SOCK=$OVS_RUNDIR/db.sock
export CTL=$OVS_RUNDIR/ovs-vswitchd.ctl
export VSWITCHD=/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk
appctl() { ovs-appctl -t $CTL "$@"; }
# CPU accounting helpers: cpu_snap PID... -> "busy_jiffies total_jiffies our_jiffies"
cpu_snap() {
  local l; read -r l < /proc/stat; set -- $l "$@"
  local u=$2 n=$3 s=$4 i=$5 w=$6 irq=$7 sirq=$8 st=$9; shift 11
  local o=0 p; for p in "$@"; do [ -r /proc/$p/stat ] && o=$((o + $(awk '{print $14+$15}' /proc/$p/stat))); done
  echo "$((u+n+s+irq+sirq+st)) $((u+n+s+i+w+irq+sirq+st)) $o"
}
# foreign_cores "snap0" "snap1" -> CPU cores used by processes other than the given PIDs (2-CPU box)
foreign_cores() { set -- $1 $2; awk -v b0=$1 -v t0=$2 -v o0=$3 -v b1=$4 -v t1=$5 -v o1=$6 'BEGIN{printf "%.2f", ((b1-b0)-(o1-o0))/((t1-t0)/2)}'; }
# wait_quiet PID...: wait (max QUIET_TRIES*3 s, default 30 s) until other processes use < QUIET_MAX (0.3) core for 3 s
wait_quiet() {
  local k a b f
  for k in $(seq ${QUIET_TRIES:-10}); do a=$(cpu_snap "$@"); sleep 3; b=$(cpu_snap "$@"); f=$(foreign_cores "$a" "$b")
    awk -v f=$f -v m=${QUIET_MAX:-0.3} 'BEGIN{exit !(f<m)}' && return 0; echo "  (waiting: foreign load ${f} cores)" >&2; done; return 1
}
# tj PID PREFIX -> CPU jiffies used by the threads of PID whose name starts with PREFIX
tj() { local s=0 t; for t in /proc/$1/task/*; do case "$(cat $t/comm 2>/dev/null)" in $2*) s=$((s + $(awk '{print $14+$15}' $t/stat)));; esac; done; echo $s; }
