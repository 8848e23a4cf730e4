#!/bin/bash
# daemon_bench.sh - what tcpreapd costs in steady state: CPU share and RSS,
# and its CPU per turn next to a reference scanner's for the same dumps.
#
#   tests/bench/daemon_bench.sh [N]      (root; default N = 100000 connections)
#
# N established loopback connections, both ends (2N sockets; conn_mass.cpp),
# connection i to port BASEPORT + i % NPORTS, of family FAMILY (4, 6, or
# dual: half the connections each), in fresh network namespaces: with
# NAMESPACES=1 (the default) one, tcpreap-daemonbench-PID, where tcpreapd
# runs too (its metrics listener is an IPv4 socket there: IPv4 is never
# empty); with NAMESPACES=K, or DAEMON_NS=host, K of them,
# tcpreap-db<PID>-1..K, of which the first SOCKETS_IN hold the connections
# (spread evenly) and the rest nothing, and tcpreapd runs in the host's
# namespace with namespaces: { scan: all }, so that the bench's namespaces
# hold conn_mass's sockets only.
# It then enters only the bench's namespaces: namespaces.exclude is a set of
# globs matching every name but those starting with tcpreap-db<PID>- (checked
# against `ip netns list` before the start, and tcpreap_network_namespaces
# after), and the policy's match.namespaces names them too. The config:
#     scan: { interval: INTERVAL }           metrics: { listen: 127.0.0.1:METRICS_PORT }
#     policies: [{ name: bench, match: { remote_ports: [BASEPORT] },
#                  dead_when: { silent_for: 1h } }]
# one policy on one port: the client ends towards BASEPORT (N/NPORTS sockets)
# are in scope, and none is silent for an hour, so nothing is reaped - the
# steady state of a healthy server. The kernel filter it compiles is one
# INET_DIAG_BC_D_EQ (dport == BASEPORT) on ESTABLISHED: exactly the
# reference's `diagdump -e -p BASEPORT -k`. Every POLL seconds the script
# scrapes /metrics (tcpreap_scans_total, tcpreap_scan_duration_seconds
# _sum/_count, tcpreap_scan_dumps_skipped_total) and reads /proc/PID/stat
# (utime+stime) and /proc/PID/status (VmRSS, VmHWM, Threads).
# Reported, as a Markdown table, for the first 10 scans (process start to
# scan 10) and for the window scan 10 -> scan SCANS: the CPU share of one core
# (CPU time / wall time; the stime part), CPU per scan, the mean scan duration
# (histogram), the dumps the counters let it skip, the scans per second
# achieved, and VmRSS/VmHWM at each end; then RSS at a few scan counts, to
# tell a leak from warm-up, and at the end where the RSS is by kind of
# mapping (rss_breakdown.sh). Each poll is one scrape the daemon serves,
# included in its CPU.
#
# REFERENCE, measured in the same run once tcpreapd has stopped:
# ../shared/bench/diagdump.c next to the repository (or DIAGDUMP_SRC;
# built with gcc -O2; "n/a" when absent), the lab's bare SOCK_DIAG scanner,
# run `diagdump -e -p BASEPORT -k [-4|-6] -r SCANS` under /usr/bin/time in
# each namespace holding connections, for the families it holds - the dumps
# the daemon makes. Its CPU (user+sys) per dump summed over those namespaces
# is the reference's CPU per turn; the table gives tcpreapd's CPU per turn
# over it (target <= 1.15). Also measured: the reference dumping both
# families there (what a scanner without the per-family skip pays), and with
# NAMESPACES > SOCKETS_IN one empty namespace's two dumps, which the counters
# save in each of the K - SOCKETS_IN.
# Asserts nothing: exit 0 unless setup failed.
#
# Environment: TCPREAPD_BIN (default: the first of build-bench/,
# build-release/, build/ daemon/tcpreapd), SCANS (1000; 1000 scans at 1s take
# about 17 min), INTERVAL (1s), POLL (5, seconds: each scrape costs the
# daemon ~3 ms of CPU, a real Prometheus scrapes every 15-60 s), NPORTS (10), BASEPORT
# (20000), METRICS_PORT (10126), FAMILY (4), NAMESPACES (1), SOCKETS_IN (3,
# at most NAMESPACES), DAEMON_NS (inside; host: tcpreapd in the host's
# namespace even with NAMESPACES=1), DIAGDUMP_SRC, AS_UNIT (0; 1: run tcpreapd as
# tcpreapd.service does - user nobody, only CAP_NET_ADMIN and CAP_NET_RAW
# (+ CAP_SYS_ADMIN and CAP_SYS_PTRACE when in the host's namespace, as the
# all-namespaces drop-in grants), no_new_privs - through setpriv(1), from a
# copy of the binary in the scratch directory that nobody may execute).
set -euo pipefail

HERE=$(dirname "$(readlink -f "$0")")
ROOT=$(readlink -f "$HERE/../..")
SCANS=${SCANS:-1000}
INTERVAL=${INTERVAL:-1s}
POLL=${POLL:-5}
NPORTS=${NPORTS:-10}
BASEPORT=${BASEPORT:-20000}
METRICS_PORT=${METRICS_PORT:-10126}
FAMILY=${FAMILY:-4}
NAMESPACES=${NAMESPACES:-1}
EARLY=10  # the first sample point: after this many scans
DAEMON_NS=${DAEMON_NS:-inside}
NS=tcpreap-daemonbench-$$  # tcpreapd inside; else the first of tcpreap-db<PID>-1..K
PREFIX=tcpreap-db$$-

die() { echo "daemon_bench: $*" >&2; exit 1; }
BENCH=daemon_bench
# shellcheck source=tests/bench/bench_lib.sh
source "$(dirname "$(readlink -f "$0")")/bench_lib.sh"

if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,64p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
(($# <= 1)) || die "one N at most (got $#)"
N=${1:-100000}
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, not '$N'"
for v in SCANS NPORTS BASEPORT METRICS_PORT NAMESPACES; do [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number"; done
[[ $FAMILY == 4 || $FAMILY == 6 || $FAMILY == dual ]] || die "FAMILY must be 4, 6 or dual (got '$FAMILY')"
((NAMESPACES >= 1 && NAMESPACES <= 1000)) || die "NAMESPACES must be 1..1000"
[[ $DAEMON_NS == inside || $DAEMON_NS == host ]] || die "DAEMON_NS must be inside or host (got '$DAEMON_NS')"
OUTSIDE=""  # non-empty: tcpreapd in the host's namespace, scan: all
if [[ $DAEMON_NS == host ]] || ((NAMESPACES > 1)); then OUTSIDE=1; fi
SOCKETS_IN=${SOCKETS_IN:-$((NAMESPACES < 3 ? NAMESPACES : 3))}
[[ $SOCKETS_IN =~ ^[0-9]+$ ]] && ((SOCKETS_IN >= 1 && SOCKETS_IN <= NAMESPACES)) ||
  die "SOCKETS_IN must be 1..NAMESPACES (got '$SOCKETS_IN')"
((SCANS > EARLY)) || die "SCANS must be more than $EARLY (the first sample point)"
((NPORTS >= 1 && BASEPORT >= 1 && METRICS_PORT >= 1 && METRICS_PORT <= 65535)) ||
  die "NPORTS and BASEPORT must be >= 1, METRICS_PORT a port"
[[ $POLL =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "POLL must be a number of seconds"
[[ $INTERVAL =~ ^[0-9]+(ms|s|m)$ ]] || die "INTERVAL must look like 1s, 500ms or 1m (got '$INTERVAL')"
INTERVAL_S=$(awk -v v="$INTERVAL" 'BEGIN { n = v + 0; u = v; sub(/^[0-9]+/, "", u)
  print (u == "ms") ? n / 1000 : (u == "m") ? n * 60 : n }')
# The listeners' ports must stay below the ephemeral range: then only client
# ends have dport BASEPORT, and the scope is exactly N/NPORTS sockets.
EPHEMERAL_LOW=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
((BASEPORT + NPORTS <= EPHEMERAL_LOW)) ||
  die "ports BASEPORT..BASEPORT+NPORTS-1 must be below the ephemeral range ($EPHEMERAL_LOW)"
((METRICS_PORT < BASEPORT || METRICS_PORT >= BASEPORT + NPORTS)) || die "METRICS_PORT collides with a listener"
[[ $EUID -eq 0 ]] || die "needs root (network namespaces)"
[[ ${AS_UNIT:-0} == 0 || ${AS_UNIT:-0} == 1 ]] || die "AS_UNIT must be 0 or 1"
for tool in ip ss g++ awk getconf; do command -v "$tool" >/dev/null || die "$tool not found"; done
# IPv6 on ::1 from one source address: connect() picks each port against
# the 4-tuple, at most the ephemeral range per listener.
EPHEMERAL_SPAN=$(awk '{ print $2 - $1 + 1 }' /proc/sys/net/ipv4/ip_local_port_range)
[[ $FAMILY == 4 ]] || (((N / SOCKETS_IN + NPORTS) / NPORTS < EPHEMERAL_SPAN)) ||
  die "IPv6 connections per listener must fit the ephemeral range ($EPHEMERAL_SPAN): raise NPORTS or SOCKETS_IN"
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
CM_PID=""      # bench_lib's: unused here, CM_PIDS holds every conn_mass
NS_CREATED=""  # bench_lib's: unused here, NSS holds every namespace
NR_OPEN_OLD=""
CM_PIDS=()
NSS=()

stop_daemon() {
  [[ -n $D_PID ]] || return 0
  stop_pid "$D_PID" tcpreapd 10
  D_RC=$STOP_RC
  D_PID=""
}

# The daemon, every conn_mass, then the namespaces (bench_lib's
# delete_namespace: what is left in one is killed by PID first).
bench_stop() {
  stop_daemon
  local pid ns NS NS_CREATED
  for pid in "${CM_PIDS[@]}"; do stop_pid "$pid" conn_mass 30; done
  CM_PIDS=()
  for ns in "${NSS[@]}"; do
    NS=$ns NS_CREATED=1
    delete_namespace
  done
  NSS=()
}
bench_setup daemon-bench

# The namespaces: K = 1, the daemon's own; else K named PREFIX1..K.
NAMES=()
if [[ -z $OUTSIDE ]]; then
  NAMES=("$NS")
else
  for i in $(seq "$NAMESPACES"); do NAMES+=("$PREFIX$i"); done
  NS=${NAMES[0]}
fi

# exclude_globs PREFIX: fnmatch globs (no flags) matching every namespace
# name but those starting with PREFIX, and no identity "net:[<inode>]"
# (netns_matches() tries both): the daemon then enters the bench's
# namespaces only, whatever else the machine holds. PREFIX is [a-z0-9-].
exclude_globs() {
  local p=$1 i out=()
  out+=("[!${p:0:1}n]*" n "n[!e]*" ne "ne[!t]*" net "net[!:]*" "net:" "net:[![]*")
  for ((i = 1; i < ${#p}; ++i)); do out+=("${p:0:i}" "${p:0:i}[!${p:i:1}]*"); done
  printf '%s\n' "${out[@]}"
}

CONFIG=$TMP/daemon.yaml
NAMESPACE_MATCH=""
if [[ -z $OUTSIDE ]]; then
  : >"$TMP/namespaces.yaml"
else
  mapfile -t EXCLUDE < <(exclude_globs "$PREFIX")
  # Checked here with bash's own matching (fnmatch's syntax for these): every
  # namespace on the machine now and a sample of names are excluded, the
  # bench's are not.
  mapfile -t OTHERS < <(ip netns list | awk '{ print $1 }')
  for name in host labbench trp123x1 tcpreap-daemonbench-1 "tcpreap-db$$" "${PREFIX%-}x" pid:1 0123456789ab \
              pod:0d1e2f net cni-1 "${OTHERS[@]}"; do
    hit=""
    # shellcheck disable=SC2053 # $g is a glob
    for g in "${EXCLUDE[@]}"; do [[ $name == $g ]] && { hit=1; break; }; done
    [[ -n $hit || $name == "$PREFIX"* ]] || die "namespaces.exclude would not exclude '$name'"
  done
  for name in "${NAMES[@]}" "net:[4026531840]"; do
    # shellcheck disable=SC2053 # $g is a glob
    for g in "${EXCLUDE[@]}"; do [[ $name == $g ]] && die "namespaces.exclude glob '$g' excludes '$name'"; done
  done
  {
    echo "namespaces:"
    echo "  scan: all"
    printf '  exclude: ['
    sep=""
    for g in "${EXCLUDE[@]}"; do printf '%s"%s"' "$sep" "$g"; sep=", "; done
    echo "]"
  } >"$TMP/namespaces.yaml"
  NAMESPACE_MATCH=", namespaces: [\"$PREFIX*\"]"
fi
cat >"$CONFIG" <<EOF
scan:
  interval: $INTERVAL
metrics:
  listen: 127.0.0.1:$METRICS_PORT
$(cat "$TMP/namespaces.yaml")
policies:
  - name: bench
    match: { remote_ports: [$BASEPORT]$NAMESPACE_MATCH }
    dead_when: { silent_for: 1h }
EOF
"$TCPREAPD" --check-config --config "$CONFIG" >/dev/null 2>"$TMP/check.err" ||
  { cat "$TMP/check.err" >&2; die "the bench config is invalid"; }

# The reference scanner, when its source is there.
DIAGDUMP=""
DIAGDUMP_SRC=${DIAGDUMP_SRC:-$ROOT/../shared/bench/diagdump.c}
if [[ -r $DIAGDUMP_SRC ]] && command -v gcc >/dev/null && [[ -x /usr/bin/time ]]; then
  gcc -O2 -Wall -o "$TMP/diagdump" "$DIAGDUMP_SRC" 2>"$TMP/diagdump.err" && DIAGDUMP=$TMP/diagdump ||
    echo "daemon_bench: building $DIAGDUMP_SRC failed, no reference: $(head -n 3 "$TMP/diagdump.err")" >&2
fi

# --- helpers ------------------------------------------------------------------

# in_daemon_ns CMD...: where tcpreapd runs (its namespace, or the host's).
in_daemon_ns() { if [[ -z $OUTSIDE ]]; then nsexec "$@"; else "$@"; fi; }

# scrape: the metrics page into $TMP/metrics (empty if the request failed).
scrape() {
  local url=http://127.0.0.1:$METRICS_PORT/metrics
  if [[ $SCRAPER == curl ]]; then
    in_daemon_ns curl -sf --max-time 5 -o "$TMP/metrics" "$url" 2>/dev/null || : >"$TMP/metrics"
  else
    # HTTP/1.0: the server closes after the answer, so cat ends.
    in_daemon_ns timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
      printf "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 && cat <&3' _ "$METRICS_PORT" \
      >"$TMP/metrics" 2>/dev/null || : >"$TMP/metrics"
  fi
}

# sample: scrape, then read the daemon's /proc at once. Sets S_SCANS (empty
# if the scrape failed), S_SUM, S_COUNT, S_ERRORS (failed scans), S_SEEN
# (tcpreap_sockets_scanned: sockets the last scan looked at), S_SKIPPED
# (tcpreap_scan_dumps_skipped_total, both families), S_NSCANNED
# (tcpreap_network_namespaces{state="scanned"}), S_TICKS (utime+stime),
# S_STICKS (stime), S_UP (seconds since boot), S_AGE (seconds since the
# daemon started), S_RSS, S_HWM (KiB), S_THREADS, S_FDS.
sample() {
  scrape
  read -r S_SCANS S_SUM S_COUNT S_ERRORS S_SEEN S_SKIPPED S_NSCANNED < <(awk '
    # Sum over label sets; prometheus-cpp writes "name{labels} value".
    { name = $1; sub(/\{.*/, "", name) }
    name == "tcpreap_scans_total" { scans += $NF; seen = 1 }
    name == "tcpreap_scan_duration_seconds_sum" { sum += $NF }
    name == "tcpreap_scan_duration_seconds_count" { count += $NF }
    name == "tcpreap_scan_errors_total" { errors += $NF }
    name == "tcpreap_sockets_scanned" { sockets += $NF }
    name == "tcpreap_scan_dumps_skipped_total" { skipped += $NF }
    $1 == "tcpreap_network_namespaces{state=\"scanned\"}" { nscanned = $NF }
    END { if (seen) printf "%d %.9f %d %d %d %d %d\n", scans, sum, count, errors, sockets, skipped, nscanned
          else print "- - - - - - -" }' "$TMP/metrics")
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

# scope N: of N connections i, those with i % NPORTS == 0 go to BASEPORT.
scope() { echo $(( ($1 + NPORTS - 1) / NPORTS )); }

# The families namespace k (0-based) holds, as diagdump flags: "-4", "-6",
# or "" (both); "none" for an empty one.
families_of() {
  (($1 < SOCKETS_IN)) || { echo none; return; }
  case $FAMILY in 4) echo -4 ;; 6) echo -6 ;; dual) echo "" ;; esac
}

# --- setup ----------------------------------------------------------------------
SOCKETS=$((2 * N))
EXPECT_SCOPE=0
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "tcpreapd benchmark - $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), kernel $(uname -r)," \
     "$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load average $LOAD_BEFORE"
echo "tcpreapd: $TCPREAPD (CMAKE_BUILD_TYPE=${BUILD_TYPE:-unknown}); scrape with $SCRAPER every ${POLL}s"
if [[ -n $DIAGDUMP ]]; then echo "reference: diagdump built from $(readlink -f "$DIAGDUMP_SRC")"
else echo "reference: n/a (no $DIAGDUMP_SRC, gcc or /usr/bin/time)"; fi
[[ ${BUILD_TYPE:-} == Release ]] || echo "WARNING: not a Release build: the figures are not representative"
if [[ -n $OUTSIDE ]] && [[ -n $(ss -Hltn "( sport = :$METRICS_PORT )" 2>/dev/null) ]]; then
  die "127.0.0.1:$METRICS_PORT is taken in the host's namespace (set METRICS_PORT)"
fi

for name in "${NAMES[@]}"; do
  ip netns add "$name" || die "ip netns add $name failed"
  NSS+=("$name")
  ip -n "$name" link set lo up
done
raise_nr_open "$N"
# start_conn_mass NAMESPACE CONNECTIONS FAMILY(4|6): in the background;
# appends its PID to CM_PIDS and its ready file to READY_FILES. Not through
# a function in the background: `ip netns exec` execs, so $! is conn_mass.
READY_FILES=()
start_conn_mass() {
  local ready=$TMP/ready.$1.$3 flag=""
  [[ $3 == 6 ]] && flag=-6
  ip netns exec "$1" "$TMP/conn_mass" "$2" $flag -P "$NPORTS" -p "$BASEPORT" -r "$ready" \
    >"$TMP/conn_mass.$1.$3.log" 2>&1 &
  CM_PIDS+=($!)
  READY_FILES+=("$ready")
}
for ((k = 0; k < SOCKETS_IN; ++k)); do
  share=$((N / SOCKETS_IN + (k < N % SOCKETS_IN ? 1 : 0)))
  case $FAMILY in
    4 | 6) start_conn_mass "${NAMES[k]}" "$share" "$FAMILY"
           EXPECT_SCOPE=$((EXPECT_SCOPE + $(scope "$share"))) ;;
    dual) half=$(( (share + 1) / 2 ))
          start_conn_mass "${NAMES[k]}" "$half" 4
          start_conn_mass "${NAMES[k]}" $((share - half)) 6
          EXPECT_SCOPE=$((EXPECT_SCOPE + $(scope "$half") + $(scope $((share - half))))) ;;
  esac
done
for _ in $(seq 1800); do  # up to 3 min
  done_=1
  for i in "${!READY_FILES[@]}"; do
    [[ -s ${READY_FILES[i]} ]] && continue
    done_=""
    running "${CM_PIDS[i]}" || { cat "$TMP"/conn_mass.*.log >&2; die "a conn_mass ended before it was ready"; }
  done
  [[ -n $done_ ]] && break
  sleep 0.1
done
for i in "${!READY_FILES[@]}"; do
  [[ -s ${READY_FILES[i]} ]] || { cat "$TMP"/conn_mass.*.log >&2; die "conn_mass did not get ready"; }
  [[ $(sed -n 's/^READY pid=\([0-9]*\).*/\1/p' "${READY_FILES[i]}") == "${CM_PIDS[i]}" ]] ||
    die "conn_mass reports another PID than ${CM_PIDS[i]}: $(cat "${READY_FILES[i]}")"
  echo "conn_mass: $(sed 's/^READY //' "${READY_FILES[i]}")"
done
C_EST=0 C_SCOPE=0
for ((k = 0; k < SOCKETS_IN; ++k)); do
  C_EST=$((C_EST + $(ip netns exec "${NAMES[k]}" ss -Htn state established | wc -l)))
  C_SCOPE=$((C_SCOPE + $(ip netns exec "${NAMES[k]}" ss -Htn state established "( dport = :$BASEPORT )" | wc -l)))
done
[[ $C_EST == "$SOCKETS" && $C_SCOPE == "$EXPECT_SCOPE" ]] ||
  die "expected $SOCKETS established sockets, $EXPECT_SCOPE of them towards port $BASEPORT; ss counts $C_EST and $C_SCOPE"

WRAPPER=()
if [[ ${AS_UNIT:-0} == 1 ]]; then
  chmod 755 "$TMP"
  install -m 755 "$TCPREAPD" "$TMP/tcpreapd"
  TCPREAPD=$TMP/tcpreapd
  chmod 644 "$CONFIG"
  CAPS=+net_admin,+net_raw
  [[ -z $OUTSIDE ]] || CAPS+=,+sys_admin,+sys_ptrace  # systemd/all-namespaces.conf
  WRAPPER=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,"$CAPS"
    --ambient-caps=-all,"$CAPS" --bounding-set=-all,"$CAPS" --no-new-privs)
  echo "as the unit runs it: user nobody, capabilities ${CAPS//+/ } only (setpriv)"
fi
if [[ -z $OUTSIDE ]]; then
  ip netns exec "$NS" "${WRAPPER[@]}" "$TCPREAPD" --config "$CONFIG" >"$TMP/tcpreapd.log" 2>&1 &
else
  "${WRAPPER[@]}" "$TCPREAPD" --config "$CONFIG" >"$TMP/tcpreapd.log" 2>&1 &
fi
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

WHERE="in netns $NS"
[[ -z $OUTSIDE ]] || WHERE="in $SOCKETS_IN of $NAMESPACES namespace(s) ${PREFIX}1..$NAMESPACES (tcpreapd in the host's, scan: all)"
echo "setup: N = $N connections (FAMILY=$FAMILY) = $SOCKETS ESTABLISHED sockets (+listeners) $WHERE;" \
     "in scope (remote port $BASEPORT, client ends): $C_SCOPE; interval $INTERVAL; kernel $(uname -r); nproc $(nproc)"
echo "config: one policy, match { remote_ports: [$BASEPORT] }, dead_when { silent_for: 1h } (nothing is reaped);" \
     "metrics on 127.0.0.1:$METRICS_PORT"
echo "tcpreapd PID $D_PID; sampling until scans_total >= $SCANS (about $(calc "printf \"%.1f\", $SCANS * $INTERVAL_S / 60") min)"

# --- the run --------------------------------------------------------------------
# One line per poll: scans ticks uptime age rss hwm threads fds sum count errors sockets sticks skipped nscanned
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
    echo "$S_SCANS $S_TICKS $S_UP $S_AGE $S_RSS $S_HWM $S_THREADS $S_FDS $S_SUM $S_COUNT $S_ERRORS $S_SEEN $S_STICKS $S_SKIPPED $S_NSCANNED" >>"$TMP/samples"
    ((S_SCANS > LAST_SCANS)) && { LAST_SCANS=$S_SCANS; LAST_PROGRESS=$SECONDS; }
    if [[ -z $HAVE_EARLY ]] && ((S_SCANS >= EARLY)); then
      HAVE_EARLY=1
      read -r E_SCANS E_TICKS E_UP E_AGE E_RSS E_HWM E_THREADS E_FDS E_SUM E_COUNT E_ERRORS E_SEEN E_STICKS E_SKIPPED _ < <(tail -n1 "$TMP/samples")
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
read -r L_SCANS L_TICKS L_UP _ L_RSS L_HWM L_THREADS L_FDS L_SUM L_COUNT L_ERRORS L_SEEN L_STICKS L_SKIPPED L_NSCANNED < <(tail -n1 "$TMP/samples")
((L_ERRORS == 0)) || ODD+=("$L_ERRORS of $L_SCANS scans failed (tcpreap_scan_errors_total)")
((L_NSCANNED == NAMESPACES)) ||
  ODD+=("tcpreapd scanned $L_NSCANNED namespaces, not the bench's $NAMESPACES (tcpreap_network_namespaces)")
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
# Where the daemon's memory is, at the end (smaps, by kind of mapping).
"$HERE/rss_breakdown.sh" "$D_PID" >"$TMP/rss_breakdown" 2>&1 || echo "(rss_breakdown.sh failed)" >>"$TMP/rss_breakdown"
stop_daemon
((D_RC == 0)) || ODD+=("tcpreapd exited $D_RC on SIGTERM (expected 0)")
# Anything the daemon logged beyond starting and stopping is worth a look.
QUIET=(-e 'capabilities: ' -e 'started: config' -e 'stopping on' -e 'stopped$' -e 'network namespace host dropped' -e 'scanning network namespace ')
mapfile -t EXTRA < <(grep -v "${QUIET[@]}" "$TMP/tcpreapd.log" | head -n 5)
((${#EXTRA[@]} == 0)) || ODD+=("tcpreapd logged $(grep -cv "${QUIET[@]}" "$TMP/tcpreapd.log") other lines, the first: ${EXTRA[*]}")

# --- the reference, with the same sockets, once tcpreapd is gone -----------------
# ref_cpu NAMESPACE FLAGS RUNS: diagdump's CPU (user + sys) per run of its
# dumps, ms; "n/a" when it failed.
ref_cpu() {
  local timef=$TMP/ref.time
  # shellcheck disable=SC2086
  if ip netns exec "$1" /usr/bin/time -f '%U %S' -o "$timef" "$DIAGDUMP" -e -p "$BASEPORT" -k $2 -r "$3" \
      >/dev/null 2>"$TMP/ref.err"; then
    awk -v runs="$3" '{ printf "%.3f", ($1 + $2) * 1000 / runs }' "$timef"
  else
    echo "n/a"
    echo "diagdump in $1 failed: $(head -n 2 "$TMP/ref.err" | tr '\n' ' ')" >>"$TMP/ref.odd"
  fi
}
REF="n/a" REF_BOTH="n/a" REF_EMPTY="n/a"
if [[ -n $DIAGDUMP ]]; then
  REF=0 REF_BOTH=0
  for ((k = 0; k < SOCKETS_IN; ++k)); do
    r=$(ref_cpu "${NAMES[k]}" "$(families_of "$k")" "$SCANS")
    [[ $r == n/a ]] && { REF=n/a; break; }
    REF=$(calc "printf \"%.3f\", $REF + $r")
    if [[ $FAMILY == dual ]]; then
      REF_BOTH=$REF
    else
      r=$(ref_cpu "${NAMES[k]}" "" "$SCANS")
      [[ $r == n/a ]] && { REF_BOTH=n/a; break; }
      REF_BOTH=$(calc "printf \"%.3f\", $REF_BOTH + $r")
    fi
  done
  ((NAMESPACES > SOCKETS_IN)) && REF_EMPTY=$(ref_cpu "${NAMES[NAMESPACES - 1]}" "" 20)
  [[ -s $TMP/ref.odd ]] && mapfile -t -O "${#ODD[@]}" ODD <"$TMP/ref.odd"
fi

# --- report ---------------------------------------------------------------------
pct() { calc "d = $2; if (d > 0) printf \"%.2f %%\", 100 * ($1) / d; else printf \"n/a\""; }
per() { calc "d = $2; if (d > 0) printf \"%.${3:-2}f\", ($1) / d; else printf \"n/a\""; }
W_SCANS=$((L_SCANS - E_SCANS))
W_WALL=$(calc "printf \"%.2f\", $L_UP - $E_UP")
W_CPU=$(calc "printf \"%.3f\", ($L_TICKS - $E_TICKS) / $HZ")
F_CPU=$(calc "printf \"%.3f\", $E_TICKS / $HZ")
D_TURN=$(per "$W_CPU * 1000" "$W_SCANS" 1)

echo
echo "setup: N = $N connections (FAMILY=$FAMILY), $SOCKETS ESTABLISHED sockets $WHERE; $C_SCOPE in scope (one policy," \
     "remote port $BASEPORT, silent_for 1h: none reaped); interval $INTERVAL; kernel $(uname -r); nproc $(nproc);" \
     "load average $LOAD_BEFORE before, $LOAD_AFTER after"
echo
echo "| tcpreapd | first $E_SCANS scans (start -> scan $E_SCANS) | scans $E_SCANS -> $L_SCANS |"
echo "|---|---:|---:|"
echo "| wall time, s | $E_AGE | $W_WALL |"
echo "| CPU time (utime+stime), s | $F_CPU | $W_CPU |"
echo "| of which in the kernel (stime) | $(pct "$E_STICKS" "$E_TICKS") | $(pct "$L_STICKS - $E_STICKS" "$L_TICKS - $E_TICKS") |"
echo "| **CPU share of one core** | $(pct "$F_CPU" "$E_AGE") | $(pct "$W_CPU" "$W_WALL") |"
echo "| CPU per scan, ms | $(per "$F_CPU * 1000" "$E_SCANS" 1) | $D_TURN |"
echo "| mean scan duration (histogram), ms | $(per "$E_SUM * 1000" "$E_COUNT") |" \
     "$(per "($L_SUM - $E_SUM) * 1000" "$L_COUNT - $E_COUNT") |"
echo "| dumps skipped per scan (tcpreap_scan_dumps_skipped_total) | $(per "$E_SKIPPED" "$E_SCANS") |" \
     "$(per "$L_SKIPPED - $E_SKIPPED" "$W_SCANS") |"
echo "| sockets the last scan looked at (tcpreap_sockets_scanned) | $E_SEEN | $L_SEEN |"
echo "| failed scans (tcpreap_scan_errors_total) | $E_ERRORS | $L_ERRORS |"
echo "| scans/s achieved | $(per "$E_SCANS" "$E_AGE" 3) | $(per "$W_SCANS" "$W_WALL" 3) |"
echo "| **VmRSS at the end, KiB** | $E_RSS | $L_RSS |"
echo "| VmHWM at the end, KiB | $E_HWM | $L_HWM |"
echo "| threads, open fds at the end | $E_THREADS, $E_FDS | $L_THREADS, $L_FDS |"

echo
echo "Per turn, next to the reference (diagdump -e -p $BASEPORT -k, $SCANS runs in each namespace holding" \
     "connections; CPU = user + sys):"
echo
echo "| CPU per turn | ms | x reference |"
echo "|---|---:|---:|"
echo "| **tcpreapd** (scans $E_SCANS -> $L_SCANS) | $D_TURN | **$( [[ $REF == n/a ]] && echo n/a || per "$D_TURN" "$REF" 2)** |"
echo "| reference: the dumps tcpreapd makes (the families each namespace holds) | $REF | 1 |"
if [[ $FAMILY != dual ]]; then
  echo "| reference: both families there (no per-family skip) | $REF_BOTH |" \
       "$( [[ $REF_BOTH == n/a || $REF == n/a ]] && echo n/a || per "$REF_BOTH" "$REF" 2) |"
fi
if ((NAMESPACES > SOCKETS_IN)); then
  echo "| reference: one empty namespace's two dumps (skipped in each of $((NAMESPACES - SOCKETS_IN))) | $REF_EMPTY | |"
fi

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
echo
echo "Where tcpreapd's RSS is at scan $L_SCANS (rss_breakdown.sh):"
echo
cat "$TMP/rss_breakdown"
if ((${#ODD[@]} > 0)); then
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  for o in "${ODD[@]}"; do echo "!!! $o"; done
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
fi
exit 0
