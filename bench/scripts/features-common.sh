# Sourced by bench forward / bench conntrack: the operability features of issue 14, armed on a bench
# driver's admin socket (ForwardBench / FirewallPcapBench --admin-socket PATH, served as `./sluice run`
# serves it) with the operator's own commands, while the driver runs:
#   trace:   ./sluice trace --socket SOCK --match "$FEAT_MATCH" --count 0   (FEAT_MATCH matches none of the frames)
#   capture: ./sluice capture PORT --socket SOCK -w /dev/null              (every packet of PORT: rx, tx, drops)
# (flow logs are configuration: the driver's --flow-logs DIR writes a flow-logs: section.)
#
#   feat_cmd FEATURE SOCK PORT             the command, as text (result files)
#   feat_start FEATURE SOCK PORT LOG PID   waits for SOCK while the driver PID lives, then starts the command in
#                                          the background, its output in LOG (FEAT_PID)
#   feat_stop                              stops the command if it is still running
#   feat_check FEATURE DRIVER_LOG LOG      "ok", or why the run is not a run with FEATURE armed: the driver's
#                                          "armed at end ... ok" line is missing (disarmed, never armed), or the
#                                          trace printed no header / printed a packet
FEAT_MATCH=${FEAT_MATCH:-udp and dst 192.0.2.99}
FEAT_PID=""
# FEAT_WORKER_CPU: the bench worker's CPU; the client (a JVM of its own) runs on the other CPUs, as an
# operator's shell would beside a data plane whose workers own their cores
FEAT_WORKER_CPU=${FEAT_WORKER_CPU:-}

feat_pin() {
  [ -n "$FEAT_WORKER_CPU" ] || return 0
  local others
  others=$(seq 0 $(( $(nproc) - 1 )) | grep -vx "$FEAT_WORKER_CPU" | paste -sd, -)
  [ -n "$others" ] && echo "taskset -c $others"
}

feat_cmd() {
  case $1 in
    trace) echo "$(feat_pin) ./sluice trace --socket $2 --match '$FEAT_MATCH' --count 0";;
    capture) echo "$(feat_pin) ./sluice capture $3 --socket $2 -w /dev/null";;
  esac
}

feat_start() {
  local f=$1 sock=$2 port=$3 lg=$4 pid=$5 k
  for k in $(seq 600); do [ -S "$sock" ] && break; kill -0 "$pid" 2>/dev/null || return 1; sleep 0.1; done
  case $f in
    trace) $(feat_pin) "$SLUICE_HOME/sluice" trace --socket "$sock" --match "$FEAT_MATCH" --count 0 > "$lg" 2>&1 < /dev/null &;;
    capture) $(feat_pin) "$SLUICE_HOME/sluice" capture "$port" --socket "$sock" -w /dev/null > "$lg" 2>&1 < /dev/null &;;
    *) return 1;;
  esac
  FEAT_PID=$!
}

feat_stop() {
  [ -n "$FEAT_PID" ] || return 0
  kill "$FEAT_PID" 2>/dev/null; wait "$FEAT_PID" 2>/dev/null; FEAT_PID=""
}

feat_check() {
  local f=$1 dlg=$2 lg=$3
  grep -q '^armed at end .* ok,' "$dlg" || { echo "feature not armed to the end: $(grep '^armed at end' "$dlg" || tail -1 "$dlg")"; return; }
  if [ "$f" = trace ]; then
    grep -q '^tracing ' "$lg" || { echo "trace client: $(head -1 "$lg")"; return; }
    grep -q '^trace 1:' "$lg" && { echo "the trace matched a packet"; return; }
  fi
  echo ok
}
