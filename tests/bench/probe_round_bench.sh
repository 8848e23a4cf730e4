#!/bin/bash
# probe_round_bench.sh - one tcpreapd probe round over N live, idle clients.
#
#   tests/bench/probe_round_bench.sh [N]      (root; default N = 100000 connections)
#
# A ZooKeeper-like host: a server and a client network namespace joined by a
# veth, N established, live, idle IPv4 connections from the client to one
# server port (conn_mass.cpp -c holds both ends in forked workers). The
# real tcpreapd runs in the server namespace on
#     scan: { interval: INTERVAL }           metrics: { listen: 127.0.0.1:METRICS_PORT }
#     policies: [{ name: zk, match: { local_ports: [PORT] }, dead_when: { silent_for: SILENT_FOR },
#                  verify: { max_per_scan: N } }]
# The daemon starts once every client has been silent for SILENT_FOR, so its
# first turn probes all N at once: the first row is that probe round. An
# answer ends a client's silence, so it is due again SILENT_FOR after it
# answered; the clients answered early in a round are due before the late
# ones, and the later rounds split over turns (the daemon also scans early
# when a verification falls due). Every POLL seconds the script
# scrapes /metrics and reads /proc/PID/stat and /proc/PID/status; the turns
# that ended between two samples (tcpreap_scans_total) make one row: their
# duration (tcpreap_scan_duration_seconds_sum: dump, decide, probe), the
# probes they sent and the answers they counted (tcpreap_probes_*_total), the
# daemon's CPU time (utime + stime) since the previous row (the first: since
# it started). After ROUNDS turns that probed, the totals are read once more,
# the daemon is stopped, and the server ends still ESTABLISHED are counted
# (ss). Asserts nothing: exit 0 unless setup failed.
#
# Environment: TCPREAPD_BIN (default: build-probe/, build-bench/,
# build-release/, build/ + daemon/tcpreapd), CONN_MASS_BIN (the same directories
# + tests/bench/conn_mass), ROUNDS (3), INTERVAL (10s), SILENT_FOR
# (2s), POLL (0.2 s), PORT (2181), METRICS_PORT (10126), PER_ADDRESS (30000
# connections per client address), VERBOSE (0; 1: tcpreapd -v, which also
# logs each answered probe).
set -euo pipefail

HERE=$(dirname "$(readlink -f "$0")")
ROOT=$(readlink -f "$HERE/../..")
ROUNDS=${ROUNDS:-3}
INTERVAL=${INTERVAL:-10s}
SILENT_FOR=${SILENT_FOR:-2s}
POLL=${POLL:-0.2}
VERBOSE=${VERBOSE:-0}
[[ $VERBOSE == 0 || $VERBOSE == 1 ]] || { echo "probe_round_bench: VERBOSE must be 0 or 1" >&2; exit 1; }
PORT=${PORT:-2181}
METRICS_PORT=${METRICS_PORT:-10126}
PER_ADDRESS=${PER_ADDRESS:-30000}
SNS=trpr$$s
CNS=trpr$$c
SERVER_ADDR=10.233.0.1
BENCH=probe_round_bench

die() { echo "$BENCH: $*" >&2; exit 1; }

if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
(($# <= 1)) || die "one N at most (got $#)"
N=${1:-100000}
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, not '$N'"
for v in ROUNDS PORT METRICS_PORT PER_ADDRESS; do [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive number"; done
((PER_ADDRESS <= 64000)) || die "PER_ADDRESS must be at most 64000 (the client's ports 1024-65535)"
[[ $POLL =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "POLL must be a number of seconds"
[[ $SILENT_FOR =~ ^[0-9]+(ms|s|m)$ ]] || die "SILENT_FOR must look like 2s, 1500ms or 1m (got '$SILENT_FOR')"
SILENT_S=$(awk -v v="$SILENT_FOR" 'BEGIN { n = v + 0; u = v; sub(/^[0-9]+/, "", u)
  print (u == "ms") ? n / 1000 : (u == "m") ? n * 60 : n }')
[[ $EUID -eq 0 ]] || die "needs root (network namespaces)"
for tool in ip ss curl nsenter awk getconf; do command -v "$tool" >/dev/null || die "$tool not found"; done

find_bin() {  # find_bin ENV_VALUE RELATIVE_PATH
  if [[ -n $1 ]]; then
    [[ -x $1 ]] || die "$1 is not executable"
    echo "$1"
    return
  fi
  local dir
  for dir in build-probe build-bench build-release build; do
    [[ -x $ROOT/$dir/$2 ]] && { echo "$ROOT/$dir/$2"; return; }
  done
  die "no $2 in build-probe/, build-bench/, build-release/ or build/; build it with
  cmake -S $ROOT -B $ROOT/build-probe -DCMAKE_BUILD_TYPE=Release
  cmake --build $ROOT/build-probe -j2 --target tcpreapd conn_mass"
}
TCPREAPD=$(find_bin "${TCPREAPD_BIN:-}" daemon/tcpreapd)
HOLD=$(find_bin "${CONN_MASS_BIN:-}" tests/bench/conn_mass)

TICK=$(getconf CLK_TCK)
NADDR=$(((N + PER_ADDRESS - 1) / PER_ADDRESS))
((NADDR <= 250)) || die "N / PER_ADDRESS needs more than 250 client addresses"

# ---- cleanup: everything by PID and name, on every exit path ----------------
HOLD_PID="" DAEMON_PID="" TMP="" CREATED=""
# shellcheck source=tests/bench/bench_lib.sh
source "$HERE/bench_lib.sh"  # running, stop_pid, delete_namespace
cleanup() {
  local rc=$?
  # A second signal must not cut the cleanup short.
  trap - EXIT
  trap '' INT TERM HUP
  [[ -n $DAEMON_PID ]] && stop_pid "$DAEMON_PID" tcpreapd 10
  [[ -n $HOLD_PID ]] && stop_pid "$HOLD_PID" conn_mass 30
  if [[ -n $CREATED ]]; then
    for NS in "$SNS" "$CNS"; do NS_CREATED=1 delete_namespace; done
  fi
  [[ -n $TMP ]] && rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo "$BENCH: interrupted, cleaning up" >&2; exit 130' INT
trap 'echo "$BENCH: terminated, cleaning up" >&2; exit 143' TERM
trap 'echo "$BENCH: hung up, cleaning up" >&2; exit 129' HUP
TMP=$(mktemp -d /tmp/tcpreap-probe-round.XXXXXX)
chmod 755 "$TMP"  # tcpreapd reads its config as nobody

# ---- setup -----------------------------------------------------------------
CREATED=1
ip netns add "$SNS"
ip netns add "$CNS"
ip -n "$SNS" link add v0 type veth peer name v1 netns "$CNS"
ip -n "$SNS" addr add "$SERVER_ADDR/16" dev v0
CLIENTS=""
for ((a = 0; a < NADDR; a++)); do
  addr=10.233.1.$((a + 2))
  ip -n "$CNS" addr add "$addr/16" dev v1
  CLIENTS+=${CLIENTS:+,}$addr
done
for ns in "$SNS" "$CNS"; do ip -n "$ns" link set lo up; done
ip -n "$SNS" link set v0 up
ip -n "$CNS" link set v1 up
ip netns exec "$CNS" sysctl -qw net.ipv4.ip_local_port_range="1024 65535"

ip netns exec "$SNS" "$HOLD" -c "/run/netns/$CNS" -s "$SERVER_ADDR" -P 1 -p "$PORT" -a "$CLIENTS" -r "$TMP/ready" "$N" \
  2>"$TMP/hold.log" &
HOLD_PID=$!
for _ in $(seq 3000); do
  [[ -e $TMP/ready ]] && break
  running "$HOLD_PID" || { cat "$TMP/hold.log" >&2; die "conn_mass failed"; }
  sleep 0.1
done
[[ -e $TMP/ready ]] || die "conn_mass not ready after 300 s"
HOLD_LINE=$(cat "$TMP/ready")

count_established() {
  ip netns exec "$SNS" ss -Htn state established "( sport = :$PORT )" | wc -l
}
BEFORE=$(count_established)
# Every client silent for SILENT_FOR before the daemon starts: its first
# turn then finds all N due and probes them in one round.
sleep "$(awk -v s="$SILENT_S" 'BEGIN {print s + 0.5}')"

cat >"$TMP/tcpreap.yaml" <<EOF
scan: { interval: $INTERVAL }
metrics: { listen: 127.0.0.1:$METRICS_PORT }
policies:
  - name: zk
    match: { local_ports: [$PORT] }
    dead_when: { silent_for: $SILENT_FOR }
    verify: { max_per_scan: $N }
EOF
chmod 644 "$TMP/tcpreap.yaml"

VERBOSE_FLAG=()
((VERBOSE)) && VERBOSE_FLAG=(-v)
ip netns exec "$SNS" "$TCPREAPD" --config "$TMP/tcpreap.yaml" "${VERBOSE_FLAG[@]}" >"$TMP/daemon.log" 2>&1 &
DAEMON_PID=$!

# ---- sampling ----------------------------------------------------------------
# One sample: "scans dur_sum sent answered unanswered peer_reset errors reaped cpu_ticks rss hwm".
sample() {
  local m cpu mem
  m=$(nsenter --net="/run/netns/$SNS" curl -sf --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics") || return 1
  cpu=$(awk '{print $14 + $15}' "/proc/$DAEMON_PID/stat") || return 1
  mem=$(awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} END {print r, h}' "/proc/$DAEMON_PID/status") || return 1
  awk -v cpu="$cpu" -v mem="$mem" '
    /^tcpreap_scans_total / {s = $2}
    /^tcpreap_scan_duration_seconds_sum / {d = $2}
    /^tcpreap_probes_sent_total/ {p += $2}
    /^tcpreap_probes_answered_total/ {a += $2}
    /^tcpreap_probes_unanswered_total/ {u += $2}
    /^tcpreap_probes_peer_reset_total/ {r += $2}
    /^tcpreap_probe_errors_total/ {e += $2}
    /^tcpreap_reaped_connections_total/ {k += $2}
    END {printf "%d %.6f %d %d %d %d %d %d %d %s\n", s, d, p, a, u, r, e, k, cpu, mem}' <<<"$m"
}

START=$(date +%s)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
PREV="0 0 0 0 0 0 0 0 0 0 0" LAST_TURN_CPU=0 ROUND=0
ROWS=$TMP/rows
: >"$ROWS"
while ((ROUND < ROUNDS)); do
  running "$DAEMON_PID" || { cat "$TMP/daemon.log" >&2; die "tcpreapd ended early"; }
  (($(date +%s) - START < 900)) || die "no $ROUNDS probe rounds in 900 s"
  sleep "$POLL"
  CUR=$(sample) || continue
  read -r s0 d0 p0 a0 u0 r0 e0 k0 c0 _ _ <<<"$PREV"
  read -r s1 d1 p1 a1 u1 r1 e1 k1 c1 rss hwm <<<"$CUR"
  PREV=$CUR
  ((s1 > s0)) || continue
  turn_cpu=$((c1 - LAST_TURN_CPU))
  LAST_TURN_CPU=$c1
  # Two turns between samples: their sum, flagged.
  echo "$s1 $((s1 - s0)) $(awk -v a="$d1" -v b="$d0" 'BEGIN {printf "%.3f", a - b}') $((p1 - p0)) $((a1 - a0)) \
$((u1 - u0)) $((r1 - r0)) $((e1 - e0)) $k1 $turn_cpu $rss $hwm" >>"$ROWS"
  ((p1 > p0)) && ROUND=$((ROUND + 1))
done
sleep 1
FINAL=$(sample || echo "")

stop_pid "$DAEMON_PID" tcpreapd 10
DAEMON_RC=$STOP_RC
DAEMON_PID=""
AFTER=$(count_established)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report ------------------------------------------------------------------
echo "# probe_round_bench: N = $N live idle connections, $(nproc) cores, Linux $(uname -r), $(date -u +%F)"
echo
echo "setup: $HOLD_LINE; $NADDR client address(es); server ends ESTABLISHED on :$PORT before: $BEFORE"
echo "config: scan.interval $INTERVAL, silent_for $SILENT_FOR, verify.max_per_scan $N; load average before $LOAD_BEFORE, after $LOAD_AFTER"
echo
echo "| turn | turn s | probes sent | answered (counted this turn) | unanswered | peer-reset | errors | verified/s | CPU s (since last turn) | VmRSS MiB | VmHWM MiB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
while read -r turn nturns dur sent ans unans prst errs reaped cpu rss hwm; do
  awk -v t="$turn" -v n="$nturns" -v d="$dur" -v p="$sent" -v a="$ans" -v u="$unans" -v r="$prst" -v e="$errs" \
    -v c="$cpu" -v tick="$TICK" -v rss="$rss" -v hwm="$hwm" 'BEGIN {
      label = (n > 1) ? t " (" n " turns)" : t
      vps = (p > 0 && d > 0) ? sprintf("%.0f", a / d) : "-"
      printf "| %s | %.3f | %d | %d | %d | %d | %d | %s | %.2f | %.1f | %.1f |\n", label, d, p, a, u, r, e, vps,
             c / tick, rss / 1024, hwm / 1024 }'
done <"$ROWS"
echo
if [[ -n $FINAL ]]; then
  read -r s d p a u r e k c rss hwm <<<"$FINAL"
  echo "totals after $s turns: probes sent $p, answered $a, unanswered $u, peer-reset $r, errors $e; reaped $k;" \
    "CPU $(awk -v c="$c" -v t="$TICK" 'BEGIN {printf "%.2f", c / t}') s; VmRSS $((rss / 1024)) MiB, VmHWM $((hwm / 1024)) MiB"
fi
echo "server ends ESTABLISHED on :$PORT after: $AFTER (before: $BEFORE); tcpreapd exit status on SIGTERM: $DAEMON_RC"
OTHER=$(grep -v -E '^tcpreapd: (probe [0-9]+/[0-9]+ .*: answered: alive$|probed [0-9]+ peers?: |turn [0-9]+: |capabilities: |started: |stopping on |stopped$)' \
  "$TMP/daemon.log" | head -20 || true)
if [[ -n $OTHER ]]; then
  echo "!!! log lines other than answered probes, turn lines, start and stop (first 20):"
  echo "$OTHER"
  echo "!!!"
fi
echo "turns' probe lines (probed N peers: ...): $(grep -c '^tcpreapd: probed ' "$TMP/daemon.log" || true);" \
  "answered, summed over them: $(grep '^tcpreapd: probed ' "$TMP/daemon.log" | grep -o '[0-9]* answered' | awk '{s += $1} END {print s + 0}')"
echo "probe lines logged: $(grep -c ': answered: alive$' "$TMP/daemon.log" || true) answered (with VERBOSE=1 only)," \
  "$(grep -E -c '^tcpreapd: probe [0-9]+/[0-9]+ .*: sent$' "$TMP/daemon.log" || true) sent (no answer in the window)," \
  "$(grep -c '^tcpreapd: probe FAILED' "$TMP/daemon.log" || true) failed"
