#!/bin/bash
# daemon_bench.sh - what tcpreapd costs in steady state: CPU share and RSS.
#
#   tests/bench/daemon_bench.sh [N]      (root; default N = 100000 connections)
#
# A fresh network namespace holds N established loopback connections, both
# ends (2N sockets; conn_mass.cpp), connection i to port BASEPORT + i % NPORTS.
# tcpreapd runs in it, in the foreground, on the config
#     scan: { interval: INTERVAL }           metrics: { listen: 127.0.0.1:METRICS_PORT }
#     policies: [{ name: bench, match: { local_ports: [BASEPORT] },
#                  dead_when: { silent_for: 1h } }]
# one policy on one port: the server ends on BASEPORT (N/NPORTS sockets) are in
# scope, and none is silent for an hour, so nothing is reaped - the steady
# state of a healthy server. Every POLL seconds the script scrapes /metrics
# (tcpreap_scans_total, tcpreap_scan_duration_seconds _sum/_count) and reads
# /proc/PID/stat (utime+stime) and /proc/PID/status (VmRSS, VmHWM, Threads).
# Reported, as a Markdown table, for the first 10 scans (process start to
# scan 10) and for the window scan 10 -> scan SCANS: the CPU share of one core
# (CPU time / wall time; the stime part), CPU per scan, the mean scan duration
# (histogram), the scans per second achieved, and VmRSS/VmHWM at each end; then
# RSS at a few scan counts, to tell a leak from warm-up. Each poll is one
# scrape the daemon serves, included in its CPU. Asserts nothing: exit 0
# unless setup failed.
#
# Environment: TCPREAPD_BIN (default: the first of build-bench/,
# build-release/, build/ daemon/tcpreapd), SCANS (1000; 1000 scans at 1s take
# about 17 min), INTERVAL (1s), POLL (1, seconds), NPORTS (10), BASEPORT
# (20000), METRICS_PORT (10126), AS_UNIT (0; 1: run tcpreapd as
# tcpreapd.service does - user nobody, only CAP_NET_ADMIN and CAP_NET_RAW,
# no_new_privs - through setpriv(1), from a copy of the binary in the
# scratch directory that nobody may execute).
set -euo pipefail

HERE=$(dirname "$(readlink -f "$0")")
ROOT=$(readlink -f "$HERE/../..")
SCANS=${SCANS:-1000}
INTERVAL=${INTERVAL:-1s}
POLL=${POLL:-1}
NPORTS=${NPORTS:-10}
BASEPORT=${BASEPORT:-20000}
METRICS_PORT=${METRICS_PORT:-10126}
EARLY=10  # the first sample point: after this many scans
NS=tcpreap-daemonbench-$$

die() { echo "daemon_bench: $*" >&2; exit 1; }
BENCH=daemon_bench
# shellcheck source=tests/bench/bench_lib.sh
source "$(dirname "$(readlink -f "$0")")/bench_lib.sh"

if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
(($# <= 1)) || die "one N at most (got $#)"
N=${1:-100000}
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, not '$N'"
for v in SCANS NPORTS BASEPORT METRICS_PORT; do [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number"; done
((SCANS > EARLY)) || die "SCANS must be more than $EARLY (the first sample point)"
((NPORTS >= 1 && BASEPORT >= 1 && METRICS_PORT >= 1 && METRICS_PORT <= 65535)) ||
  die "NPORTS and BASEPORT must be >= 1, METRICS_PORT a port"
[[ $POLL =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "POLL must be a number of seconds"
[[ $INTERVAL =~ ^[0-9]+(ms|s|m)$ ]] || die "INTERVAL must look like 1s, 500ms or 1m (got '$INTERVAL')"
INTERVAL_S=$(awk -v v="$INTERVAL" 'BEGIN { n = v + 0; u = v; sub(/^[0-9]+/, "", u)
  print (u == "ms") ? n / 1000 : (u == "m") ? n * 60 : n }')
# The listeners' ports must stay below the ephemeral range: then only server
# ends have sport BASEPORT, and the scope is exactly N/NPORTS sockets.
EPHEMERAL_LOW=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
((BASEPORT + NPORTS <= EPHEMERAL_LOW)) ||
  die "ports BASEPORT..BASEPORT+NPORTS-1 must be below the ephemeral range ($EPHEMERAL_LOW)"
((METRICS_PORT < BASEPORT || METRICS_PORT >= BASEPORT + NPORTS)) || die "METRICS_PORT collides with a listener"
[[ $EUID -eq 0 ]] || die "needs root (network namespaces)"
[[ ${AS_UNIT:-0} == 0 || ${AS_UNIT:-0} == 1 ]] || die "AS_UNIT must be 0 or 1"
for tool in ip ss g++ awk getconf; do command -v "$tool" >/dev/null || die "$tool not found"; done
# The scrape: curl if there is one, else bash's /dev/tcp (through timeout).
SCRAPER=curl
command -v curl >/dev/null || { SCRAPER=devtcp; command -v timeout >/dev/null || die "neither curl nor timeout found"; }

TCPREAPD=${TCPREAPD_BIN:-}
if [[ -n $TCPREAPD ]]; then
  [[ -x $TCPREAPD ]] || die "TCPREAPD_BIN=$TCPREAPD is not executable"
else
  for c in "$ROOT"/build-bench/daemon/tcpreapd "$ROOT"/build-release/daemon/tcpreapd "$ROOT"/build/daemon/tcpreapd; do
    [[ -x $c ]] && { TCPREAPD=$c; break; }
  done
  [[ -n $TCPREAPD ]] ||
    die "no tcpreapd binary: build it (cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DTCPREAP_TESTS=OFF; cmake --build build-release --target tcpreapd) or set TCPREAPD_BIN"
fi
TCPREAPD=$(readlink -f "$TCPREAPD")
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$TCPREAPD")/../CMakeCache.txt" 2>/dev/null || true)
HZ=$(getconf CLK_TCK)
# Not under systemd here, whatever our own environment says.
unset NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID

# --- state that cleanup undoes ------------------------------------------------
TMP=""
D_PID=""
CM_PID=""
NS_CREATED=""
NR_OPEN_OLD=""

stop_daemon() {
  [[ -n $D_PID ]] || return 0
  stop_pid "$D_PID" tcpreapd 10
  D_RC=$STOP_RC
  D_PID=""
}

bench_stop() {
  stop_daemon
}
bench_setup daemon-bench
CONFIG=$TMP/daemon.yaml
cat >"$CONFIG" <<EOF
scan:
  interval: $INTERVAL
metrics:
  listen: 127.0.0.1:$METRICS_PORT
policies:
  - name: bench
    match: { local_ports: [$BASEPORT] }
    dead_when: { silent_for: 1h }
EOF
"$TCPREAPD" --check-config --config "$CONFIG" >/dev/null 2>"$TMP/check.err" ||
  { cat "$TMP/check.err" >&2; die "the bench config is invalid"; }

# --- helpers ------------------------------------------------------------------

# scrape: the metrics page into $TMP/metrics (empty if the request failed).
scrape() {
  local url=http://127.0.0.1:$METRICS_PORT/metrics
  if [[ $SCRAPER == curl ]]; then
    nsexec curl -sf --max-time 5 -o "$TMP/metrics" "$url" 2>/dev/null || : >"$TMP/metrics"
  else
    # HTTP/1.0: the server closes after the answer, so cat ends.
    nsexec timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
      printf "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 && cat <&3' _ "$METRICS_PORT" \
      >"$TMP/metrics" 2>/dev/null || : >"$TMP/metrics"
  fi
}

# sample: scrape, then read the daemon's /proc at once. Sets S_SCANS (empty
# if the scrape failed), S_SUM, S_COUNT, S_ERRORS (failed scans), S_SEEN
# (tcpreap_sockets_scanned: sockets the last scan looked at), S_TICKS (utime+stime), S_STICKS (stime), S_UP (seconds
# since boot), S_AGE (seconds since the daemon started), S_RSS, S_HWM (KiB),
# S_THREADS, S_FDS.
sample() {
  scrape
  read -r S_SCANS S_SUM S_COUNT S_ERRORS S_SEEN < <(awk '
    # Sum over label sets; prometheus-cpp writes "name{labels} value".
    { name = $1; sub(/\{.*/, "", name) }
    name == "tcpreap_scans_total" { scans += $NF; seen = 1 }
    name == "tcpreap_scan_duration_seconds_sum" { sum += $NF }
    name == "tcpreap_scan_duration_seconds_count" { count += $NF }
    name == "tcpreap_scan_errors_total" { errors += $NF }
    name == "tcpreap_sockets_scanned" { sockets += $NF }
    END { if (seen) printf "%d %.9f %d %d %d\n", scans, sum, count, errors, sockets; else print "- - - - -" }' "$TMP/metrics")
  [[ $S_SCANS == - ]] && S_SCANS=""
  local stat
  stat=$(cat "/proc/$D_PID/stat" 2>/dev/null) || { S_TICKS=""; return 0; }
  read -r S_UP _ </proc/uptime
  # Fields after the ")" that closes comm: 14 utime, 15 stime, 22 starttime (1-based).
  read -r S_TICKS S_STICKS S_AGE < <(awk -v hz="$HZ" -v up="$S_UP" '{
    sub(/^.*\) /, ""); printf "%d %d %.2f\n", $12 + $13, $13, up - $20 / hz }' <<<"$stat")
  S_RSS=$(awk '/^VmRSS:/ {print $2}' "/proc/$D_PID/status" 2>/dev/null || echo 0)
  S_HWM=$(awk '/^VmHWM:/ {print $2}' "/proc/$D_PID/status" 2>/dev/null || echo 0)
  S_THREADS=$(awk '/^Threads:/ {print $2}' "/proc/$D_PID/status" 2>/dev/null || echo 0)
  S_FDS=$(find "/proc/$D_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
}

# calc 'printf ...': arithmetic in awk. Parenthesize any '>' in a printf
# argument, or awk takes it for a redirection.
calc() { awk "BEGIN { $1 }"; }

# --- setup ----------------------------------------------------------------------
SOCKETS=$((2 * N))
EXPECT_SCOPE=$(( (N + NPORTS - 1) / NPORTS ))  # connections i with i % NPORTS == 0
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "tcpreapd benchmark - $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), kernel $(uname -r)," \
     "$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load average $LOAD_BEFORE"
echo "tcpreapd: $TCPREAPD (CMAKE_BUILD_TYPE=${BUILD_TYPE:-unknown}); scrape with $SCRAPER every ${POLL}s"
[[ ${BUILD_TYPE:-} == Release ]] || echo "WARNING: not a Release build: the figures are not representative"

ip netns add "$NS" || die "ip netns add $NS failed"
NS_CREATED=1
ip -n "$NS" link set lo up
raise_nr_open "$N"
# Not through nsexec: a function in the background is a subshell, and $!
# would be its PID. `ip netns exec` execs the command, so $! is conn_mass.
ip netns exec "$NS" "$TMP/conn_mass" "$N" -P "$NPORTS" -p "$BASEPORT" -r "$TMP/ready" >"$TMP/conn_mass.log" 2>&1 &
CM_PID=$!
for _ in $(seq 1800); do  # up to 3 min
  [[ -s $TMP/ready ]] && break
  running "$CM_PID" || break
  sleep 0.1
done
if [[ ! -s $TMP/ready ]]; then
  cat "$TMP/conn_mass.log" >&2
  die "conn_mass did not get ready"
fi
[[ $(sed -n 's/^READY pid=\([0-9]*\).*/\1/p' "$TMP/ready") == "$CM_PID" ]] ||
  die "conn_mass reports another PID than $CM_PID: $(cat "$TMP/ready")"
echo "conn_mass: $(sed 's/^READY //' "$TMP/ready")"
C_EST=$(nsexec ss -Htn state established | wc -l)
C_SCOPE=$(nsexec ss -Htn state established "( sport = :$BASEPORT )" | wc -l)
[[ $C_EST == "$SOCKETS" && $C_SCOPE == "$EXPECT_SCOPE" ]] ||
  die "expected $SOCKETS established sockets, $EXPECT_SCOPE of them on local port $BASEPORT; ss counts $C_EST and $C_SCOPE"

WRAPPER=()
if [[ ${AS_UNIT:-0} == 1 ]]; then
  chmod 755 "$TMP"
  install -m 755 "$TCPREAPD" "$TMP/tcpreapd"
  TCPREAPD=$TMP/tcpreapd
  chmod 644 "$CONFIG"
  WRAPPER=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+net_admin,+net_raw
    --ambient-caps=-all,+net_admin,+net_raw --bounding-set=-all,+net_admin,+net_raw --no-new-privs)
  echo "as the unit runs it: user nobody, CAP_NET_ADMIN and CAP_NET_RAW only (setpriv)"
fi
ip netns exec "$NS" "${WRAPPER[@]}" "$TCPREAPD" --config "$CONFIG" >"$TMP/tcpreapd.log" 2>&1 &
D_PID=$!
# The first scan runs at once; wait for it to be counted (up to 60 s).
S_SCANS=""
for _ in $(seq 300); do
  running "$D_PID" || { cat "$TMP/tcpreapd.log" >&2; die "tcpreapd exited during startup"; }
  sample
  [[ -n $S_SCANS ]] && ((S_SCANS >= 1)) && break
  sleep 0.2
done
[[ -n $S_SCANS ]] && ((S_SCANS >= 1)) ||
  { cat "$TMP/tcpreapd.log" >&2; die "no tcpreap_scans_total >= 1 from 127.0.0.1:$METRICS_PORT after 60 s"; }
[[ $(readlink "/proc/$D_PID/exe") == "$TCPREAPD" ]] || die "PID $D_PID is not $TCPREAPD"

echo "setup: N = $N connections = $SOCKETS ESTABLISHED sockets (+$NPORTS listeners) in netns $NS;" \
     "in scope (local port $BASEPORT, server ends): $C_SCOPE; interval $INTERVAL; kernel $(uname -r); nproc $(nproc)"
echo "config: one policy, match { local_ports: [$BASEPORT] }, dead_when { silent_for: 1h } (nothing is reaped);" \
     "metrics on 127.0.0.1:$METRICS_PORT"
echo "tcpreapd PID $D_PID; sampling until scans_total >= $SCANS (about $(calc "printf \"%.1f\", $SCANS * $INTERVAL_S / 60") min)"

# --- the run --------------------------------------------------------------------
# One line per poll: scans ticks uptime age rss hwm threads fds sum count errors sockets sticks
: >"$TMP/samples"
HAVE_EARLY=""
LAST_SCANS=$S_SCANS LAST_PROGRESS=$SECONDS NEXT_REPORT=100
DEADLINE=$((SECONDS + $(calc "printf \"%d\", $SCANS * $INTERVAL_S * 2 + 120")))
STUCK=$(calc "printf \"%d\", ($INTERVAL_S * 3 > 60 ? $INTERVAL_S * 3 : 60)")  # seconds without a new scan
ODD=()
while :; do
  running "$D_PID" || { cat "$TMP/tcpreapd.log" >&2; die "tcpreapd exited during the run"; }
  sample
  if [[ -z $S_SCANS || -z $S_TICKS ]]; then
    ODD+=("a sample failed at $(date -u +%T) (scrape or /proc)")
  else
    echo "$S_SCANS $S_TICKS $S_UP $S_AGE $S_RSS $S_HWM $S_THREADS $S_FDS $S_SUM $S_COUNT $S_ERRORS $S_SEEN $S_STICKS" >>"$TMP/samples"
    ((S_SCANS > LAST_SCANS)) && { LAST_SCANS=$S_SCANS; LAST_PROGRESS=$SECONDS; }
    if [[ -z $HAVE_EARLY ]] && ((S_SCANS >= EARLY)); then
      HAVE_EARLY=1
      read -r E_SCANS E_TICKS E_UP E_AGE E_RSS E_HWM E_THREADS E_FDS E_SUM E_COUNT E_ERRORS E_SEEN E_STICKS < <(tail -n1 "$TMP/samples")
    fi
    if ((S_SCANS >= NEXT_REPORT && S_SCANS < SCANS)); then
      echo "  scan $S_SCANS: VmRSS $S_RSS KiB, VmHWM $S_HWM KiB, CPU so far $(calc "printf \"%.2f\", $S_TICKS / $HZ") s" \
           "in $(calc "printf \"%.0f\", $S_AGE") s, load $(cut -d' ' -f1-3 /proc/loadavg)"
      NEXT_REPORT=$(( (S_SCANS / 100 + 1) * 100 ))
    fi
    ((S_SCANS >= SCANS)) && break
  fi
  ((SECONDS - LAST_PROGRESS <= STUCK)) || die "scans_total stuck at $LAST_SCANS for $STUCK s"
  ((SECONDS <= DEADLINE)) || die "not $SCANS scans by the deadline (at $LAST_SCANS)"
  sleep "$POLL"
done
read -r L_SCANS L_TICKS L_UP _ L_RSS L_HWM L_THREADS L_FDS L_SUM L_COUNT L_ERRORS L_SEEN L_STICKS < <(tail -n1 "$TMP/samples")
((L_ERRORS == 0)) || ODD+=("$L_ERRORS of $L_SCANS scans failed (tcpreap_scan_errors_total)")
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
stop_daemon
((D_RC == 0)) || ODD+=("tcpreapd exited $D_RC on SIGTERM (expected 0)")
# Anything the daemon logged beyond starting and stopping is worth a look.
mapfile -t EXTRA < <(grep -v -e 'capabilities: ' -e 'started: config' -e 'stopping on' -e 'stopped$' "$TMP/tcpreapd.log" | head -n 5)
((${#EXTRA[@]} == 0)) || ODD+=("tcpreapd logged $(grep -cv -e 'capabilities: ' -e 'started: config' -e 'stopping on' -e 'stopped$' \
  "$TMP/tcpreapd.log") other lines, the first: ${EXTRA[*]}")

# --- report ---------------------------------------------------------------------
pct() { calc "d = $2; if (d > 0) printf \"%.2f %%\", 100 * ($1) / d; else printf \"n/a\""; }
per() { calc "d = $2; if (d > 0) printf \"%.${3:-2}f\", ($1) / d; else printf \"n/a\""; }
W_SCANS=$((L_SCANS - E_SCANS))
W_WALL=$(calc "printf \"%.2f\", $L_UP - $E_UP")
W_CPU=$(calc "printf \"%.3f\", ($L_TICKS - $E_TICKS) / $HZ")
F_CPU=$(calc "printf \"%.3f\", $E_TICKS / $HZ")

echo
echo "setup: N = $N connections, $SOCKETS ESTABLISHED sockets; $C_SCOPE in scope (one policy, local port $BASEPORT," \
     "silent_for 1h: none reaped); interval $INTERVAL; kernel $(uname -r); nproc $(nproc);" \
     "load average $LOAD_BEFORE before, $LOAD_AFTER after"
echo
echo "| tcpreapd | first $E_SCANS scans (start -> scan $E_SCANS) | scans $E_SCANS -> $L_SCANS |"
echo "|---|---:|---:|"
echo "| wall time, s | $E_AGE | $W_WALL |"
echo "| CPU time (utime+stime), s | $F_CPU | $W_CPU |"
echo "| of which in the kernel (stime) | $(pct "$E_STICKS" "$E_TICKS") | $(pct "$L_STICKS - $E_STICKS" "$L_TICKS - $E_TICKS") |"
echo "| **CPU share of one core** | $(pct "$F_CPU" "$E_AGE") | $(pct "$W_CPU" "$W_WALL") |"
echo "| CPU per scan, ms | $(per "$F_CPU * 1000" "$E_SCANS" 1) | $(per "$W_CPU * 1000" "$W_SCANS" 1) |"
echo "| mean scan duration (histogram), ms | $(per "$E_SUM * 1000" "$E_COUNT") |" \
     "$(per "($L_SUM - $E_SUM) * 1000" "$L_COUNT - $E_COUNT") |"
echo "| sockets the last scan looked at (tcpreap_sockets_scanned) | $E_SEEN | $L_SEEN |"
echo "| failed scans (tcpreap_scan_errors_total) | $E_ERRORS | $L_ERRORS |"
echo "| scans/s achieved | $(per "$E_SCANS" "$E_AGE" 3) | $(per "$W_SCANS" "$W_WALL" 3) |"
echo "| **VmRSS at the end, KiB** | $E_RSS | $L_RSS |"
echo "| VmHWM at the end, KiB | $E_HWM | $L_HWM |"
echo "| threads, open fds at the end | $E_THREADS, $E_FDS | $L_THREADS, $L_FDS |"

# RSS over the run: a leak keeps growing in the second half, warm-up does not.
echo
echo "VmRSS by scan (KiB; at the first sample with at least 1, 10, 20, 50, ... scans):"
RSS_LINE=""
for k in 1 "$EARLY" 20 50 100 200 500 1000 2000 5000 "$L_SCANS"; do
  ((k <= L_SCANS)) || continue
  at="" v=""
  read -r at v < <(awk -v k="$k" '$1 >= k { print $1, $5; exit }' "$TMP/samples") || true
  [[ -n $v && $RSS_LINE != *" $at: "* ]] && RSS_LINE+=" $at: $v;"
done
echo " ${RSS_LINE%;}"
MID=$(( (E_SCANS + L_SCANS) / 2 ))
M_RSS=$(awk -v k="$MID" '$1 >= k { print $5; exit }' "$TMP/samples")
echo "growth: $((L_RSS - E_RSS)) KiB from scan $E_SCANS to $L_SCANS;" \
     "$((L_RSS - M_RSS)) KiB over the second half (scan $MID to $L_SCANS)"
if ((${#ODD[@]} > 0)); then
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  for o in "${ODD[@]}"; do echo "!!! $o"; done
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
fi
exit 0
