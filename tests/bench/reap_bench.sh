#!/bin/bash
# reap_bench.sh - how fast `tcpreap reap` removes sockets, next to `ss -K`.
#
#   tests/bench/reap_bench.sh [N]      (root; default N = 100000 connections)
#
# Every measurement gets a fresh network namespace holding N established
# loopback connections, both ends (2N sockets; conn_mass.cpp), connection i
# to port BASEPORT + i % NPORTS. The targets are the client ends of the
# connections to BASEPORT (N/NPORTS sockets), made dead by the config
#     policies: [{ name: bench, match: { remote_ports: [BASEPORT] },
#                  dead_when: { silent_for: 1s } }]
#     (+ reap.max_per_scan and reap.max_per_minute 1000000: no cap in the way)
# and 1.5 s of rest after conn_mass is ready.
#  1. destroy, ROUNDS rounds, the two commands interleaved (order alternates):
#       tcpreap reap --config C --method destroy   (scan + decide + SOCK_DESTROY)
#       ss -K -t state established '( dport = :BASEPORT )'   (output to /dev/null)
#     ONE run each per fresh namespace; counts before/after check what went.
#  2. RST injection: `tcpreap reap --config C --method rst` at the smaller
#     sizes RST_SIZES (connections), throughput in sockets per second.
# Wall time: the whole command (spawn to exit, its scan and decisions
# included), taken around `ip netns exec NS /usr/bin/time CMD` minus that
# wrapper's own cost (the median of /bin/true run the same way). Peak RSS from
# /usr/bin/time -f %M. Before each command the kernel-filtered dump alone
# (tcpreap list --count --dport BASEPORT, the target count) is timed the same
# way: 'scan ms', the part both commands share. Asserts nothing: exit 0
# unless setup failed.
#
# Environment: TCPREAP_BIN (default: the first of build-reapbench/,
# build-bench/, build-release/, build/ daemon/tcpreap), ROUNDS (3), NPORTS
# (10), BASEPORT (20000), RST_SIZES ("2000 10000"; "" skips part 2),
# RST_TIMEOUT (seconds one RST run may take, 120).
set -euo pipefail

HERE=$(dirname "$(readlink -f "$0")")
ROOT=$(readlink -f "$HERE/../..")
ROUNDS=${ROUNDS:-3}
NPORTS=${NPORTS:-10}
BASEPORT=${BASEPORT:-20000}
RST_SIZES=${RST_SIZES-2000 10000}
RST_TIMEOUT=${RST_TIMEOUT:-120}
NS=tcpreap-reapbench-$$
TARGET_SS_RATIO=2.0  # ss -K / tcpreap reap --method destroy, at least

die() { echo "reap_bench: $*" >&2; exit 1; }
BENCH=reap_bench
# shellcheck source=tests/bench/bench_lib.sh
source "$(dirname "$(readlink -f "$0")")/bench_lib.sh"

if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
(($# <= 1)) || die "one N at most (got $#)"
N=${1:-100000}
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, not '$N'"
for v in ROUNDS NPORTS BASEPORT RST_TIMEOUT; do [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number"; done
((ROUNDS >= 1 && NPORTS >= 1 && BASEPORT >= 1 && RST_TIMEOUT >= 1)) ||
  die "ROUNDS, NPORTS, BASEPORT and RST_TIMEOUT must be >= 1"
for n in $RST_SIZES; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "RST_SIZES: '$n' is not a positive integer"; done
# The listeners' ports must stay below the ephemeral range: then only client
# ends have dport BASEPORT, and the targets are exactly the N/NPORTS client ends.
EPHEMERAL_LOW=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
((BASEPORT + NPORTS <= EPHEMERAL_LOW)) ||
  die "ports BASEPORT..BASEPORT+NPORTS-1 must be below the ephemeral range ($EPHEMERAL_LOW)"
[[ $EUID -eq 0 ]] || die "needs root (network namespaces, SOCK_DESTROY, raw sockets)"
for tool in ip ss g++ awk timeout; do command -v "$tool" >/dev/null || die "$tool not found"; done

TCPREAP=${TCPREAP_BIN:-${TCPREAP:-}}
if [[ -n $TCPREAP ]]; then
  [[ -x $TCPREAP ]] || die "TCPREAP_BIN=$TCPREAP is not executable"
else
  for c in "$ROOT"/build-reapbench/daemon/tcpreap "$ROOT"/build-bench/daemon/tcpreap \
           "$ROOT"/build-release/daemon/tcpreap "$ROOT"/build/daemon/tcpreap; do
    [[ -x $c ]] && { TCPREAP=$c; break; }
  done
  [[ -n $TCPREAP ]] ||
    die "no tcpreap binary: build it (cmake -S . -B build-reapbench -DCMAKE_BUILD_TYPE=Release -DTCPREAP_TESTS=OFF) or set TCPREAP_BIN"
fi
TCPREAP=$(readlink -f "$TCPREAP")
"$TCPREAP" reap --help >/dev/null 2>&1 || die "$TCPREAP has no working 'reap' command"
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$TCPREAP")/../CMakeCache.txt" 2>/dev/null || true)

# Peak RSS needs GNU time; without it the column reads n/a.
TIME_BIN=""
if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then TIME_BIN=/usr/bin/time; fi

# --- state that cleanup undoes ------------------------------------------------
TMP=""
CMD_PID=""
CM_PID=""
NS_CREATED=""
NR_OPEN_OLD=""

bench_stop() {
  if [[ -n $CMD_PID ]]; then  # the timed command's wrapper; what it ran dies with the namespace
    kill -TERM "$CMD_PID" 2>/dev/null || true
    wait "$CMD_PID" 2>/dev/null || true
  fi
}
bench_setup reap-bench
CONFIG=$TMP/reap.yaml
cat >"$CONFIG" <<EOF
reap:
  max_per_scan: 1000000
  max_per_minute: 1000000
policies:
  - name: bench
    match: { remote_ports: [$BASEPORT] }
    dead_when: { silent_for: 1s }
EOF
"$TCPREAP" check --config "$CONFIG" >/dev/null 2>"$TMP/check.err" || { cat "$TMP/check.err" >&2; die "the bench config is invalid"; }

# --- helpers ------------------------------------------------------------------

stamp() {  # NOW = wall clock in µs; bash's EPOCHREALTIME needs no fork, date +%s%N is the fallback
  if [[ -n ${EPOCHREALTIME:-} ]]; then NOW=${EPOCHREALTIME/[.,]/}; else NOW=$(($(date +%s%N) / 1000)); fi
}

# measure OUTFILE CMD...: runs CMD once inside the namespace, stdout to
# OUTFILE, stderr to $TMP/cmd.err. Sets T_US (wall µs, wrapper included),
# RC (exit status) and PEAK (KiB or n/a). In the background, so that a
# signal runs our trap at once, not after the command.
measure() {
  local out=$1 t0
  shift
  local wrap=(ip netns exec "$NS")
  [[ -n $TIME_BIN ]] && wrap+=("$TIME_BIN" -f %M -o "$TMP/peak")
  rm -f "$TMP/peak"
  RC=0
  stamp
  t0=$NOW
  "${wrap[@]}" "$@" >"$out" 2>"$TMP/cmd.err" &
  CMD_PID=$!
  wait "$CMD_PID" || RC=$?
  stamp
  CMD_PID=""
  T_US=$((NOW - t0))
  PEAK=n/a
  # GNU time writes "Command exited with non-zero status N" before the figure.
  [[ -s $TMP/peak ]] && PEAK=$(tail -n1 "$TMP/peak")
  [[ $PEAK =~ ^[0-9]+$ ]] || PEAK=n/a
  return 0
}

# The wrapper's own cost: median of 7 runs of /bin/true through measure().
wrapper_overhead_us() {
  local _ all=()
  for _ in $(seq 7); do
    measure /dev/null /bin/true
    all+=("$T_US")
  done
  printf '%s\n' "${all[@]}" | sort -n | sed -n 4p
}

# setup CONNECTIONS: fresh namespace + conn_mass, then 1.5 s of rest (the
# wrapper overhead is measured during it). Sets SETUP_S and OVERHEAD_US.
setup() {
  local n=$1 _ t0 rest
  ip netns add "$NS" || die "ip netns add $NS failed"
  NS_CREATED=1
  ip -n "$NS" link set lo up
  raise_nr_open "$n"
  rm -f "$TMP/ready"
  # Not through nsexec: a function in the background is a subshell, and $!
  # would be its PID. `ip netns exec` execs the command, so $! is conn_mass.
  ip netns exec "$NS" "$TMP/conn_mass" "$n" -P "$NPORTS" -p "$BASEPORT" -r "$TMP/ready" >"$TMP/conn_mass.log" 2>&1 &
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
  SETUP_S=$(sed -n 's/.* setup_s=\([0-9.]*\).*/\1/p' "$TMP/ready")
  stamp
  t0=$NOW
  OVERHEAD_US=$(wrapper_overhead_us)
  stamp
  # The newest connection must be silent for more than silent_for (1 s).
  rest=$(awk -v t0="$t0" -v t1="$NOW" 'BEGIN { r = 1.5 - (t1 - t0) / 1e6; printf "%.3f", (r > 0 ? r : 0) }')
  sleep "$rest"
}

teardown() {
  stop_conn_mass
  delete_namespace
}

# counts: sets C_TARGET (established, dport BASEPORT) and C_EST (all
# established). The first is timed (SCAN_US, wrapper cost subtracted): the
# kernel-filtered dump alone, the scan tcpreap reap and ss -K both start with.
# Only `counts timed` touches SCAN_US, T_US, RC and PEAK.
counts() {
  if [[ ${1:-} == timed ]]; then
    measure "$TMP/count.txt" "$TCPREAP" list --count --state established --dport "$BASEPORT"
    ((RC == 0)) || { cat "$TMP/cmd.err" >&2; die "tcpreap list --dport failed"; }
    C_TARGET=$(cat "$TMP/count.txt")
    SCAN_US=$(net_us "$T_US" "$OVERHEAD_US")
  else
    C_TARGET=$(nsexec "$TCPREAP" list --count --state established --dport "$BASEPORT") || die "tcpreap list --dport failed"
  fi
  C_EST=$(nsexec "$TCPREAP" list --count --state established) || die "tcpreap list failed"
}

net_us() { local v=$(($1 - $2)); ((v > 0)) || v=0; echo "$v"; }
ratio() {  # A B -> "A/B" with 2 decimals, or n/a
  [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ && $2 -gt 0 ]] || { echo n/a; return; }
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}
stats() {  # numbers on stdin -> "min median max"
  sort -n | awk '{ a[NR] = $1 } END {
    if (NR == 0) { print "n/a n/a n/a"; exit }
    med = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
    printf "%d %d %d\n", a[1], med, a[NR] }'
}
verdict() {  # VALUE >= TARGET -> meets / MISSES
  [[ $1 == n/a ]] && { echo n/a; return; }
  awk -v v="$1" -v t="$2" 'BEGIN { print (v >= t ? "meets" : "MISSES") }'
}
# The summary line of tcpreap reap: "... reaped (destroy D, rst R), G already gone, F failed, H held back ..."
summary_of() { grep -E '^[0-9]+ dead: ' "$1" | tail -n1 || true; }
field_of() {  # SUMMARY KEY -> number (KEY: dead reaped destroy rst gone failed held)
  local s=$1
  case $2 in
    dead) sed -n 's/^\([0-9]*\) dead: .*/\1/p' <<<"$s" ;;
    reaped) sed -n 's/.* \([0-9]*\) reaped .*/\1/p' <<<"$s" ;;
    destroy) sed -n 's/.*(destroy \([0-9]*\),.*/\1/p' <<<"$s" ;;
    rst) sed -n 's/.*, rst \([0-9]*\)).*/\1/p' <<<"$s" ;;
    gone) sed -n 's/.* \([0-9]*\) already gone.*/\1/p' <<<"$s" ;;
    failed) sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$s" ;;
    held) sed -n 's/.* \([0-9]*\) held back.*/\1/p' <<<"$s" ;;
  esac
}

SOCKETS=$((2 * N))
EXPECT_TARGET=$(( (N + NPORTS - 1) / NPORTS ))  # connections i with i % NPORTS == 0
SS_FILTER="( dport = :$BASEPORT )"
LABEL_T="tcpreap reap --config C --method destroy"
LABEL_S="ss -K -t state established '$SS_FILTER'"
SHORT_T="tcpreap reap --method destroy"
SHORT_S="ss -K"
ODD=()  # anything that did not go as expected

echo "tcpreap reap benchmark - $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), kernel $(uname -r)," \
     "$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tcpreap: $TCPREAP (CMAKE_BUILD_TYPE=${BUILD_TYPE:-unknown})"
[[ ${BUILD_TYPE:-} == Release ]] || echo "WARNING: not a Release build: the figures are not representative"
echo "ss: $(ss -V 2>&1 | head -n1)"
echo "peak RSS: $([[ -n $TIME_BIN ]] && echo "$TIME_BIN -f %M" || echo "n/a (no GNU time: apt-get install time)")"
echo "config C: reap.max_per_scan and max_per_minute 1000000; one policy: remote_ports [$BASEPORT], dead when silent_for 1s"
echo "wall ms = whole command (spawn to exit) around 'ip netns exec NS${TIME_BIN:+ time} CMD', minus that wrapper's"
echo "          cost (median of 7 x /bin/true, measured in each fresh namespace: the 'wrap ms' column)"

# --- 1. destroy: tcpreap vs ss -K -------------------------------------------------
echo
echo "=== 1. destroy: N = $N connections = $SOCKETS ESTABLISHED sockets (+$NPORTS listeners) per namespace;"
echo "===    targets: the client ends with dport $BASEPORT = $EXPECT_TARGET sockets; $ROUNDS rounds, one run per fresh namespace ==="
printf '%-5s %-29s %7s %7s %7s %7s %9s %8s %7s %9s %9s %9s  %s\n' round command setup_s "wrap ms" "scan ms" "wall ms" "peak KiB" \
  before after destroyed "est.bef" "est.aft" "tcpreap summary / exit"
T_WALL=() S_WALL=() T_PEAK=() S_PEAK=() SCANS=()
run_destroy() {  # which(t|s) round
  local which=$1 round=$2 label out=$TMP/out.txt before est_before net s note
  setup "$N"
  counts timed
  before=$C_TARGET est_before=$C_EST
  SCANS+=("$SCAN_US")
  if [[ $which == t ]]; then
    label=$SHORT_T
    measure "$out" "$TCPREAP" reap --config "$CONFIG" --method destroy
  else
    label=$SHORT_S
    measure /dev/null ss -K -t state established "$SS_FILTER"
  fi
  sleep 0.2  # the kernel's RSTs to the server ends cross loopback
  counts
  net=$(net_us "$T_US" "$OVERHEAD_US")
  if [[ $which == t ]]; then
    T_WALL+=("$net") T_PEAK+=("$PEAK")
    s=$(summary_of "$out")
    note="${s:-NO SUMMARY LINE}; exit $RC"
    if [[ $RC -ne 0 || -z $s ]]; then
      ODD+=("round $round tcpreap: exit $RC, summary '${s:-none}', stderr: $(head -c 300 "$TMP/cmd.err" | tr '\n' ' ')")
    elif [[ $(field_of "$s" destroy) != $((before - C_TARGET)) ]]; then
      ODD+=("round $round tcpreap: summary says destroy $(field_of "$s" destroy), the count fell by $((before - C_TARGET))")
    fi
  else
    S_WALL+=("$net") S_PEAK+=("$PEAK")
    note="exit $RC"
    [[ $RC -eq 0 ]] || ODD+=("round $round ss -K: exit $RC: $(head -c 300 "$TMP/cmd.err" | tr '\n' ' ')")
  fi
  [[ $before == "$EXPECT_TARGET" ]] || ODD+=("round $round $label: $before targets before, expected $EXPECT_TARGET")
  [[ $est_before == "$SOCKETS" ]] || ODD+=("round $round $label: $est_before established before, expected $SOCKETS")
  [[ $C_TARGET == 0 ]] || ODD+=("round $round $label: $C_TARGET targets LEFT after it")
  [[ $C_EST == $((est_before - 2 * (before - C_TARGET))) ]] ||
    ODD+=("round $round $label: established $est_before -> $C_EST, expected -2 x $((before - C_TARGET)) (client + server ends)")
  printf '%-5s %-29s %7s %7s %7s %7s %9s %8s %7s %9s %9s %9s  %s\n' "$round" "$label" "$SETUP_S" "$(ms "$OVERHEAD_US")" \
    "$(ms "$SCAN_US")" "$(ms "$net")" "$PEAK" "$before" "$C_TARGET" "$((before - C_TARGET))" "$est_before" "$C_EST" "$note"
  teardown
}
for r in $(seq "$ROUNDS"); do
  if ((r % 2)); then run_destroy t "$r"; run_destroy s "$r"; else run_destroy s "$r"; run_destroy t "$r"; fi
done

read -r T_MIN T_MED T_MAX <<<"$(printf '%s\n' "${T_WALL[@]}" | stats)"
read -r S_MIN S_MED S_MAX <<<"$(printf '%s\n' "${S_WALL[@]}" | stats)"
read -r F_MIN F_MED F_MAX <<<"$(printf '%s\n' "${SCANS[@]}" | stats)"
peak_max() { local m; m=$(printf '%s\n' "$@" | grep -E '^[0-9]+$' | sort -n | tail -n1 || true); echo "${m:-n/a}"; }
echo
printf '%-62s %8s %9s %8s %9s\n' "command ($EXPECT_TARGET sockets destroyed per run)" "min ms" "median ms" "max ms" "peak KiB"
printf '%-62s %8s %9s %8s %9s\n' "$(printf '%.0s-' {1..62})" "--------" "---------" "--------" "---------"
printf '%-62s %8s %9s %8s %9s\n' "$LABEL_T" "$(ms "$T_MIN")" "$(ms "$T_MED")" "$(ms "$T_MAX")" "$(peak_max "${T_PEAK[@]}")"
printf '%-62s %8s %9s %8s %9s\n' "$LABEL_S" "$(ms "$S_MIN")" "$(ms "$S_MED")" "$(ms "$S_MAX")" "$(peak_max "${S_PEAK[@]}")"
printf '%-62s %8s %9s %8s %9s\n' "(scan only: tcpreap list --count --state established --dport $BASEPORT)" \
  "$(ms "$F_MIN")" "$(ms "$F_MED")" "$(ms "$F_MAX")" "-"
R_MED=$(ratio "$S_MED" "$T_MED")
R_MIN=$(ratio "$S_MIN" "$T_MIN")
echo
printf '%-40s %8s   %-9s %s\n' "ratio" "value" "target" "verdict"
printf '%-40s %8s   %-9s %s\n' "ss -K / tcpreap reap, medians" "${R_MED}x" ">= ${TARGET_SS_RATIO}x" "$(verdict "$R_MED" $TARGET_SS_RATIO)"
printf '%-40s %8s   %-9s %s\n' "ss -K / tcpreap reap, minima" "${R_MIN}x" ">= ${TARGET_SS_RATIO}x" "$(verdict "$R_MIN" $TARGET_SS_RATIO)"
[[ $T_MED =~ ^[0-9]+$ && $T_MED -gt 0 ]] &&
  echo "tcpreap: $(awk -v n="$EXPECT_TARGET" -v us="$T_MED" 'BEGIN { printf "%.0f sockets/s, %.2f us per socket", n / (us / 1e6), us / n }')" \
       "(median, whole command)"
echo "beyond the scan (medians): tcpreap $(ms "$(net_us "$T_MED" "$F_MED")") ms, ss -K $(ms "$(net_us "$S_MED" "$F_MED")") ms" \
     "(command minus 'scan ms', the same kernel-filtered dump timed before each run)"
echo "notes: tcpreap's time holds its whole run - a kernel-filtered scan of the namespace, the policy decision for"
echo "       every socket it gets, the batched SOCK_DESTROY, and one output line per socket (to a file); ss -K only"
echo "       dumps with its filter and destroys (one request per socket; its output to /dev/null)."
echo "       SOCK_DESTROY makes the kernel send an RST to the peer, so the server ends of those connections go too:"
echo "       'est.bef' -> 'est.aft' (all ESTABLISHED sockets) falls by 2 x destroyed."

# --- 2. RST injection -------------------------------------------------------------
RST_LINES=()
if [[ -n ${RST_SIZES// /} ]]; then
  echo
  echo "=== 2. RST injection: tcpreap reap --config C --method rst (one run per size, fresh namespace; limit ${RST_TIMEOUT} s) ==="
  printf '%-12s %8s %7s %7s %7s %9s %9s %8s %6s %9s %9s %9s %10s  %s\n' connections targets setup_s "wrap ms" "scan ms" "wall ms" \
    "peak KiB" before after reset "est.bef" "est.aft" "sockets/s" "tcpreap summary / exit"
  for n in $RST_SIZES; do
    expect=$(( (n + NPORTS - 1) / NPORTS ))
    setup "$n"
    counts timed
    before=$C_TARGET est_before=$C_EST
    measure "$TMP/out.txt" timeout -k 5 "$RST_TIMEOUT" "$TCPREAP" reap --config "$CONFIG" --method rst
    sleep 0.2
    counts
    net=$(net_us "$T_US" "$OVERHEAD_US")
    s=$(summary_of "$TMP/out.txt")
    gone=$((before - C_TARGET))
    rate=n/a
    ((net > 0)) && rate=$(awk -v n="$gone" -v us="$net" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
    note="${s:-NO SUMMARY LINE}; exit $RC"
    ((RC == 124 || RC == 137)) && note="TIMED OUT after ${RST_TIMEOUT} s; exit $RC"
    printf '%-12s %8s %7s %7s %7s %9s %9s %8s %6s %9s %9s %9s %10s  %s\n' "$n" "$expect" "$SETUP_S" "$(ms "$OVERHEAD_US")" \
      "$(ms "$SCAN_US")" "$(ms "$net")" "$PEAK" "$before" "$C_TARGET" "$gone" "$est_before" "$C_EST" "$rate" "$note"
    RST_LINES+=("$(printf '%-10s %9s %9s %10s' "$before" "$(ms "$net")" "$C_TARGET" "$rate")")
    [[ $before == "$expect" ]] || ODD+=("rst n=$n: $before targets before, expected $expect")
    [[ $C_TARGET == 0 ]] || ODD+=("rst n=$n: $C_TARGET of $before targets REMAINED after tcpreap reap --method rst")
    [[ $RC -eq 0 && -n $s ]] ||
      ODD+=("rst n=$n: exit $RC, summary '${s:-none}', stderr: $(head -c 300 "$TMP/cmd.err" | tr '\n' ' ')")
    if [[ -n $s && $(field_of "$s" rst) != "$gone" ]]; then
      ODD+=("rst n=$n: summary says rst $(field_of "$s" rst), the count fell by $gone")
    fi
    [[ $C_EST == $((est_before - gone)) ]] ||
      ODD+=("rst n=$n: established $est_before -> $C_EST, expected -$gone (only the local ends)")
    teardown
  done
  echo "notes: an injected RST resets only the local (client) end: the server ends stay ESTABLISHED, so 'est.aft'"
  echo "       falls by 'reset' only. The kernel answers at most one challenge ACK per socket per 500 ms"
  echo "       (tcp_invalid_ratelimit); sockets/s = reset / wall time, scan and decision included."
fi

# --- summary --------------------------------------------------------------------
echo
echo "=== summary ==="
printf '%-44s %s\n' "machine" "$(nproc) CPUs, kernel $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'), load average now $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %s\n' "destroy, $EXPECT_TARGET of $SOCKETS sockets, median ms" \
  "tcpreap $(ms "$T_MED"), ss -K $(ms "$S_MED"): ss -K / tcpreap = ${R_MED}x (target >= ${TARGET_SS_RATIO}x: $(verdict "$R_MED" $TARGET_SS_RATIO))"
for l in "${RST_LINES[@]}"; do
  read -r a b c d <<<"$l"
  printf '%-44s %s\n' "rst, $a sockets" "$b ms, $c left, $d sockets/s (target: far above 2/s)"
done
if ((${#ODD[@]} == 0)); then
  echo "checks: OK - every run removed exactly its targets (and, for destroy, their server ends), nothing left"
else
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  for o in "${ODD[@]}"; do echo "!!! $o"; done
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
fi
