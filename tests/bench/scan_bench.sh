#!/bin/bash
# scan_bench.sh - how fast `tcpreap list` scans, next to a reference dump and ss.
#
#   tests/bench/scan_bench.sh [N ...]      (root; default N = 10000 100000)
#
# For each N: a fresh network namespace holding N established loopback
# connections, both ends (2N sockets; conn_mass.cpp), then these commands run
# interleaved inside it, WARMUP untimed + RUNS timed rounds (run_timed.cpp):
#   tcpreap list --count --state established            our scanner
#   diagdump -e                                         reference dump (1)
#   ss -tin state established                           output to /dev/null
#   tcpreap list --count --state established --dport P  kernel-filtered scan
#   diagdump -e -p P -k                                 reference, same filter (1)
#   tcpreap list --config C --only-matched --count      C: one policy on local port P;
#                                                       the kernel filters by the policies
#   tcpreap list --config C --state established --count every socket through the
#                                                       decision engine
# (1) only if ../shared/bench/diagdump.c exists next to the repository (or
#     REFERENCE_SRC names it); otherwise those columns read n/a.
# Reports wall time (whole process, spawn to reap), peak RSS, counts and the
# ratios against their targets. Asserts nothing: exit 0 unless setup failed.
#
# Environment: TCPREAP_BIN (the binary; default: the first of build-bench/,
# build-release/, build/ daemon/tcpreap), RUNS (7), WARMUP (1), NPORTS (10),
# BASEPORT (20000), REFERENCE_SRC (diagdump.c).
set -euo pipefail

HERE=$(dirname "$(readlink -f "$0")")
ROOT=$(readlink -f "$HERE/../..")
RUNS=${RUNS:-7}
WARMUP=${WARMUP:-1}
NPORTS=${NPORTS:-10}
BASEPORT=${BASEPORT:-20000}
REFERENCE_SRC=$(readlink -m "${REFERENCE_SRC:-$ROOT/../shared/bench/diagdump.c}")
NS=tcpreap-bench-$$
# Targets shown next to the figures (not enforced).
TARGET_REF_RATIO=1.15   # tcpreap / reference dump, at most
TARGET_SS_RATIO=3.5     # ss -tin / tcpreap, at least
TARGET_RSS_KIB=8192     # tcpreap peak RSS at 200 000 sockets, below

die() { echo "scan_bench: $*" >&2; exit 1; }
BENCH=scan_bench
# shellcheck source=tests/bench/bench_lib.sh
source "$(dirname "$(readlink -f "$0")")/bench_lib.sh"

if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
SIZES=("$@")
[[ ${#SIZES[@]} -gt 0 ]] || SIZES=(10000 100000)
for n in "${SIZES[@]}"; do [[ $n =~ ^[1-9][0-9]*$ ]] || die "N must be a positive integer, not '$n'"; done
for v in RUNS WARMUP NPORTS BASEPORT; do [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number"; done
((RUNS >= 1 && NPORTS >= 1 && BASEPORT >= 1)) || die "RUNS, NPORTS and BASEPORT must be >= 1"
# The listeners' ports must stay below the ephemeral range: then only client
# ends can have dport BASEPORT, and the filtered count is exactly N/NPORTS.
EPHEMERAL_LOW=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
((BASEPORT + NPORTS <= EPHEMERAL_LOW)) ||
  die "ports BASEPORT..BASEPORT+NPORTS-1 must be below the ephemeral range ($EPHEMERAL_LOW)"
[[ $EUID -eq 0 ]] || die "needs root (network namespaces)"
for tool in ip ss g++ awk; do command -v "$tool" >/dev/null || die "$tool not found"; done

TCPREAP=${TCPREAP_BIN:-${TCPREAP:-}}
if [[ -n $TCPREAP ]]; then
  [[ -x $TCPREAP ]] || die "TCPREAP_BIN=$TCPREAP is not executable"
else
  for c in "$ROOT/build-bench/daemon/tcpreap" "$ROOT/build-release/daemon/tcpreap" "$ROOT/build/daemon/tcpreap"; do
    [[ -x $c ]] && { TCPREAP=$c; break; }
  done
  [[ -n $TCPREAP ]] || die "no tcpreap binary: build it (cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release) or set TCPREAP_BIN"
fi
TCPREAP=$(readlink -f "$TCPREAP")
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$TCPREAP")/../CMakeCache.txt" 2>/dev/null || true)

# --- state that cleanup undoes ------------------------------------------------
TMP=""
RT_PID=""
CM_PID=""
NS_CREATED=""
NR_OPEN_OLD=""

bench_stop() {
  if [[ -n $RT_PID ]]; then  # it kills and reaps the command it runs, then dies
    kill -TERM "$RT_PID" 2>/dev/null || true
    wait "$RT_PID" 2>/dev/null || true
  fi
}

# --- build the helpers --------------------------------------------------------
bench_setup scan-bench
# Static, so the pre-exec image the kernel folds into ru_maxrss stays small.
g++ -O2 -std=c++20 -Wall -Wextra -static -o "$TMP/run_timed" "$HERE/run_timed.cpp" 2>/dev/null ||
  g++ -O2 -std=c++20 -Wall -Wextra -o "$TMP/run_timed" "$HERE/run_timed.cpp" || die "building run_timed failed"
DIAGDUMP=""
if [[ -f $REFERENCE_SRC ]]; then
  command -v gcc >/dev/null || die "gcc not found (needed for $REFERENCE_SRC)"
  gcc -O2 -o "$TMP/diagdump" "$REFERENCE_SRC" || die "building $REFERENCE_SRC failed"
  DIAGDUMP=$TMP/diagdump
fi

# --- helpers ------------------------------------------------------------------

# timed OUTFILE RUNS WARMUP CMD...: run_timed inside the namespace. In the
# background, so that a signal runs our trap at once, not after the timing.
timed() {
  local file=$1
  shift
  ip netns exec "$NS" "$TMP/run_timed" "$@" >"$file" &
  RT_PID=$!
  wait "$RT_PID" || { RT_PID=""; die "run_timed failed"; }
  RT_PID=""
}

ratio() {  # A B -> "A/B" with 2 decimals, or n/a
  [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ && $2 -gt 0 ]] || { echo n/a; return; }
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}
times() { [[ $1 == n/a ]] && echo n/a || echo "${1}x"; }
# verdict VALUE OP TARGET: "meets" / "MISSES" (OP is <= or >= or <)
verdict() {
  [[ $1 == n/a ]] && { echo "n/a"; return; }
  awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
    ok = (op == "<=") ? v <= t : (op == ">=") ? v >= t : v < t
    print ok ? "meets" : "MISSES" }'
}

SUMMARY=()

bench_one() {
  local n=$1 sockets=$(($1 * 2))
  local t_begin=$SECONDS
  echo
  echo "=== N = $n connections = $sockets ESTABLISHED sockets (+$NPORTS listeners), netns $NS ==="

  ip netns add "$NS" || die "ip netns add $NS failed"
  NS_CREATED=1
  ip -n "$NS" link set lo up

  # The established hash is shared with every other namespace on the machine:
  # an empty namespace's scan shows what other sockets cost us.
  local base_cmds=("$TCPREAP list --count --state established")
  [[ -n $DIAGDUMP ]] && base_cmds+=("$DIAGDUMP -e")
  local base
  timed "$TMP/baseline.out" 5 1 "${base_cmds[@]}"
  base=$(cat "$TMP/baseline.out")
  echo "empty-netns scan (walks the machine's shared established hash), median:" \
       "tcpreap $(ms "$(awk '$1 == 0 {print $3}' <<<"$base")") ms," \
       "reference $([[ -n $DIAGDUMP ]] && echo "$(ms "$(awk '$1 == 1 {print $3}' <<<"$base")") ms" || echo n/a)"

  raise_nr_open "$n"
  rm -f "$TMP/ready"
  # Not through nsexec: a function in the background is a subshell, and $!
  # would be its PID. `ip netns exec` execs the command, so $! is conn_mass.
  ip netns exec "$NS" "$TMP/conn_mass" "$n" -P "$NPORTS" -p "$BASEPORT" -r "$TMP/ready" >"$TMP/conn_mass.log" 2>&1 &
  CM_PID=$!
  local _
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
  echo "sockstat in $NS: $(nsexec cat /proc/net/sockstat | grep '^TCP:')"

  # --- counts (one untimed run each) ---
  local c_tcpreap c_ref=n/a c_ss c_tcpreap_f c_ref_f=n/a
  c_tcpreap=$(nsexec "$TCPREAP" list --count --state established) || die "tcpreap list failed"
  c_tcpreap_f=$(nsexec "$TCPREAP" list --count --state established --dport "$BASEPORT") || die "tcpreap list --dport failed"
  c_ss=$(nsexec ss -tnH state established | wc -l)
  if [[ -n $DIAGDUMP ]]; then
    c_ref=$(nsexec "$DIAGDUMP" -e 2>&1 >/dev/null | sed -n 's/^records=\([0-9]*\).*/\1/p')
    c_ref_f=$(nsexec "$DIAGDUMP" -e -p "$BASEPORT" -k 2>&1 >/dev/null | sed -n 's/^records=\([0-9]*\).*/\1/p')
  fi
  local expect_f=$(( (n + NPORTS - 1) / NPORTS ))  # connections i with i % NPORTS == 0
  # One policy on the first listener's port: the server ends of 1 connection in NPORTS.
  printf 'policies:\n  - name: bench\n    match: { local_ports: [%s] }\n    dead_when: { silent_for: 1h }\n' \
    "$BASEPORT" >"$TMP/policy.yaml"
  local c_policy c_decide_all
  c_policy=$(nsexec "$TCPREAP" list --config "$TMP/policy.yaml" --only-matched --count) ||
    die "tcpreap list --config --only-matched failed"
  c_decide_all=$(nsexec "$TCPREAP" list --config "$TMP/policy.yaml" --state established --count) ||
    die "tcpreap list --config failed"

  # --- timed, interleaved ---
  local labels=() cmds=() counts=()
  labels+=("process floor: /bin/true");                                  cmds+=("/bin/true");                                  counts+=("-")
  labels+=("tcpreap list --count --state established");                  cmds+=("$TCPREAP list --count --state established");  counts+=("$c_tcpreap")
  labels+=("reference: diagdump -e");                                    cmds+=("${DIAGDUMP:+$DIAGDUMP -e}");                  counts+=("$c_ref")
  labels+=("ss -tin state established");                                 cmds+=("ss -tin state established");                  counts+=("$c_ss")
  labels+=("tcpreap list --count --state established --dport $BASEPORT"); cmds+=("$TCPREAP list --count --state established --dport $BASEPORT"); counts+=("$c_tcpreap_f")
  labels+=("reference: diagdump -e -p $BASEPORT -k");                    cmds+=("${DIAGDUMP:+$DIAGDUMP -e -p $BASEPORT -k}");  counts+=("$c_ref_f")
  labels+=("tcpreap list --config C --only-matched --count");           cmds+=("$TCPREAP list --config $TMP/policy.yaml --only-matched --count"); counts+=("$c_policy")
  labels+=("tcpreap list --config C --state established --count");      cmds+=("$TCPREAP list --config $TMP/policy.yaml --state established --count"); counts+=("$c_decide_all")
  local run_cmds=() i
  for i in "${!cmds[@]}"; do [[ -n ${cmds[i]} ]] && run_cmds+=("${cmds[i]}"); done
  echo "timing: $WARMUP warm-up + $RUNS timed rounds, commands interleaved; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  local out
  timed "$TMP/timed.out" "$RUNS" "$WARMUP" "${run_cmds[@]}"
  out=$(cat "$TMP/timed.out")

  # Map results back to the full list (skipped commands read n/a).
  local -a MIN MED MAX RSS FAILED
  local k=0
  for i in "${!cmds[@]}"; do
    if [[ -n ${cmds[i]} ]]; then
      read -r _ "MIN[$i]" "MED[$i]" "MAX[$i]" "RSS[$i]" "FAILED[$i]" <<<"$(awk -v k=$k '$1 == k' <<<"$out")"
      k=$((k + 1))
    fi
  done

  echo
  printf '%-62s %8s %9s %8s %9s %8s\n' "command" "min ms" "median ms" "max ms" "peak KiB" "count"
  printf '%-62s %8s %9s %8s %9s %8s\n' "$(printf '%.0s-' {1..62})" "--------" "---------" "--------" "---------" "--------"
  for i in "${!cmds[@]}"; do
    if [[ -n ${cmds[i]} ]]; then
      printf '%-62s %8s %9s %8s %9s %8s%s\n' "${labels[i]}" "$(ms "${MIN[$i]}")" "$(ms "${MED[$i]}")" \
        "$(ms "${MAX[$i]}")" "${RSS[$i]}" "${counts[i]}" \
        "$([[ ${FAILED[$i]} -gt 0 ]] && echo "   (${FAILED[$i]} runs FAILED)")"
    else
      printf '%-62s %8s %9s %8s %9s %8s\n' "${labels[i]}" n/a n/a n/a n/a n/a
    fi
  done

  # --- ratios (medians) ---
  local r_ref=n/a r_ref_min=n/a r_filt=n/a r_ss
  if [[ -n $DIAGDUMP ]]; then
    r_ref=$(ratio "${MED[1]}" "${MED[2]}")
    r_ref_min=$(ratio "${MIN[1]}" "${MIN[2]}")
    r_filt=$(ratio "${MED[4]}" "${MED[5]}")
  fi
  r_ss=$(ratio "${MED[3]}" "${MED[1]}")
  local rss_note="(target is set for 200 000 sockets)"
  ((sockets == 200000)) && rss_note=""
  echo
  printf '%-50s %10s   %-10s %s\n' "ratio (of medians)" "value" "target" "verdict"
  printf '%-50s %10s   %-10s %s\n' "tcpreap / reference, full scan" "$(times "$r_ref")" "<= ${TARGET_REF_RATIO}x" \
    "$(verdict "$r_ref" "<=" $TARGET_REF_RATIO)  (of minima: $(times "$r_ref_min"))"
  printf '%-50s %10s   %-10s %s\n' "tcpreap / reference, kernel-filtered scan" "$(times "$r_filt")" "<= ${TARGET_REF_RATIO}x" \
    "$(verdict "$r_filt" "<=" $TARGET_REF_RATIO)"
  printf '%-50s %10s   %s\n' "one-policy scan (kernel union filter) / full scan" \
    "$(times "$(ratio "${MED[6]}" "${MED[1]}")")" "(C: one policy on local port $BASEPORT; $c_policy of $c_tcpreap match)"
  printf '%-50s %10s   %s\n' "deciding every socket / plain full scan" "$(times "$(ratio "${MED[7]}" "${MED[1]}")")" \
    "(the decision engine on every socket, no policy filter in the kernel)"
  printf '%-50s %10s   %-10s %s\n' "ss -tin / tcpreap" "$(times "$r_ss")" ">= ${TARGET_SS_RATIO}x" \
    "$(verdict "$r_ss" ">=" $TARGET_SS_RATIO)"
  printf '%-50s %10s   %-10s %s\n' "tcpreap peak RSS (full scan)" "$(awk -v k="${RSS[1]}" 'BEGIN{printf "%.1f MiB", k/1024}')" \
    "< 8 MiB" "$(verdict "${RSS[1]}" "<" $TARGET_RSS_KIB) $rss_note"

  # --- counts ---
  echo
  local mismatch=""
  [[ $c_tcpreap == "$sockets" ]] || mismatch+=" tcpreap=$c_tcpreap!=expected $sockets;"
  [[ $c_ref == n/a || $c_ref == "$c_tcpreap" ]] || mismatch+=" tcpreap=$c_tcpreap!=reference=$c_ref;"
  [[ $c_ss == "$c_tcpreap" ]] || mismatch+=" tcpreap=$c_tcpreap!=ss=$c_ss;"
  [[ $c_ref_f == n/a || $c_ref_f == "$c_tcpreap_f" ]] || mismatch+=" filtered: tcpreap=$c_tcpreap_f!=reference=$c_ref_f;"
  [[ $c_tcpreap_f == "$expect_f" ]] || mismatch+=" filtered: tcpreap=$c_tcpreap_f!=expected $expect_f;"
  if [[ -z $mismatch ]]; then
    echo "counts: OK - full scan $c_tcpreap (tcpreap) = $c_ref (reference) = $c_ss (ss) = 2N;" \
         "filtered $c_tcpreap_f (tcpreap) = $c_ref_f (reference) = N/$NPORTS" \
         "($(awk -v a="$c_tcpreap_f" -v b="$sockets" 'BEGIN{printf "1 socket in %.0f", b/a}'): only the client ends have dport $BASEPORT)"
  else
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    echo "!!! COUNT MISMATCH:$mismatch"
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  fi

  SUMMARY+=("$(printf '%-8s %9s %9s %9s %7s %7s %9s %11s %8s  %s' "$sockets" "$(ms "${MED[1]}")" \
    "$([[ -n $DIAGDUMP ]] && ms "${MED[2]}" || echo n/a)" "$(ms "${MED[3]}")" "$(times "$r_ref")" "$(times "$r_ss")" \
    "$(ms "${MED[4]}")" "$(times "$r_filt")" "${RSS[1]}" "$([[ -z $mismatch ]] && echo OK || echo MISMATCH)")")

  stop_conn_mass
  delete_namespace
  echo "(N = $n done in $((SECONDS - t_begin)) s)"
}

echo "tcpreap scan benchmark - $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), kernel $(uname -r)," \
     "$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "tcpreap: $TCPREAP (CMAKE_BUILD_TYPE=${BUILD_TYPE:-unknown})"
[[ ${BUILD_TYPE:-} == Release ]] || echo "WARNING: not a Release build: the figures are not representative"
echo "reference: $([[ -n $DIAGDUMP ]] && echo "$REFERENCE_SRC (gcc -O2)" || echo "n/a ($REFERENCE_SRC not found)")"
echo "ss: $(ss -V 2>&1 | head -n1)"
echo "wall time = whole process (spawn to reap, exec and dynamic loading included), measured inside the netns;"
echo "peak KiB = ru_maxrss from wait4 (floor: the spawning helper, see /bin/true)"

for n in "${SIZES[@]}"; do bench_one "$n"; done

echo
echo "=== summary (medians, ms) ==="
printf '%-8s %9s %9s %9s %7s %7s %9s %11s %8s  %s\n' sockets tcpreap reference ss tc/ref ss/tc filt_tc filt_tc/ref rss_KiB counts
for line in "${SUMMARY[@]}"; do echo "$line"; done
echo "targets: tcpreap/reference <= ${TARGET_REF_RATIO}x, ss/tcpreap >= ${TARGET_SS_RATIO}x, peak RSS < 8 MiB at 200 000 sockets"
