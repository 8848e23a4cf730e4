# bench_lib.sh - what the benchmark scripts share: their children, the
# namespace holding conn_mass's connections, and fs.nr_open. Sourced, not
# run. The script sets BENCH (its name, for messages), NS, NPORTS, and the
# state below, which these functions clear once undone:
#   CM_PID (conn_mass), NS_CREATED (non-empty once NS exists),
#   NR_OPEN_OLD (fs.nr_open before raise_nr_open changed it).

nsexec() { ip netns exec "$NS" "$@"; }

ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }

# Whether our child PID still runs (a zombie, exited but not yet waited for, does not).
running() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

# stop_pid PID NAME SECONDS: SIGTERM, wait, SIGKILL if still there; sets STOP_RC.
stop_pid() {
  local pid=$1 name=$2 _
  STOP_RC=""
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq $(($3 * 10))); do
    running "$pid" || break
    sleep 0.1
  done
  if running "$pid"; then
    echo "$BENCH: $name $pid did not stop, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  STOP_RC=0
  wait "$pid" 2>/dev/null || STOP_RC=$?
}

stop_conn_mass() {
  [[ -n $CM_PID ]] || return 0
  # conn_mass kills and reaps its workers, then exits; its workers die with
  # it even if it has to be killed (PR_SET_PDEATHSIG).
  stop_pid "$CM_PID" conn_mass 30
  CM_PID=""
}

delete_namespace() {
  [[ -n $NS_CREATED ]] || return 0
  local pid pids _
  # Anything still inside (an interrupted command) goes first, by PID.
  pids=$(ip netns pids "$NS" 2>/dev/null || true)
  if [[ -n $pids ]]; then
    echo "$BENCH: killing what is left in $NS: ${pids//$'\n'/ }" >&2
    for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
    for _ in $(seq 100); do
      [[ -z $(ip netns pids "$NS" 2>/dev/null) ]] && break
      sleep 0.1
    done
  fi
  ip netns del "$NS" 2>/dev/null || echo "$BENCH: could not delete netns $NS" >&2
  NS_CREATED=""
}

# raise_nr_open CONNECTIONS: fs.nr_open caps RLIMIT_NOFILE, and only a
# process with CAP_SYS_RESOURCE can go past its hard limit at all (without
# it conn_mass forks workers instead): with it, raise fs.nr_open to fit both
# ends of every connection; restore_nr_open puts it back.
raise_nr_open() {
  local need=$(($1 * 2 + 64 + NPORTS)) have caps
  have=$(sysctl -n fs.nr_open)
  caps=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
  if ((have < need && (0x$caps >> 24 & 1))); then
    [[ -n $NR_OPEN_OLD ]] || NR_OPEN_OLD=$have
    sysctl -qw fs.nr_open="$need"
  fi
}

restore_nr_open() {
  [[ -n $NR_OPEN_OLD ]] || return 0
  sysctl -qw fs.nr_open="$NR_OPEN_OLD" || echo "$BENCH: could not restore fs.nr_open=$NR_OPEN_OLD" >&2
  NR_OPEN_OLD=""
}

# The end of every run, however it ends: bench_stop (the script's own: what
# it started beyond conn_mass), then conn_mass, the namespace, fs.nr_open and
# the scratch directory TMP. bench_setup installs it.
bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  bench_stop
  stop_conn_mass
  delete_namespace
  restore_nr_open
  [[ -n $TMP ]] && rm -rf "$TMP"
  exit "$rc"
}

# bench_setup NAME: the traps, the scratch directory TMP
# (/tmp/tcpreap-NAME.XXXXXX) and conn_mass built into it.
bench_setup() {
  trap bench_cleanup EXIT
  trap "echo \"$BENCH: interrupted, cleaning up\" >&2; exit 130" INT
  trap "echo \"$BENCH: terminated, cleaning up\" >&2; exit 143" TERM
  trap "echo \"$BENCH: hung up, cleaning up\" >&2; exit 129" HUP
  TMP=$(mktemp -d "/tmp/tcpreap-$1.XXXXXX")
  g++ -O2 -std=c++20 -Wall -Wextra -o "$TMP/conn_mass" "$HERE/conn_mass.cpp" || die "building conn_mass failed"
}
