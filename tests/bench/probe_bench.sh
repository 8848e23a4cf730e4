#!/bin/bash
# probe_bench.sh - how long liveness probes take over many sockets.
#
#   tests/bench/probe_bench.sh [--connections N] [--rounds R]   (root)
#
# Runs probe_bench (probe_bench.cpp; a CMake target, built with the tests
# because it uses their namespace helpers) with these arguments, and prints
# its table. probe_bench creates and removes its own network namespaces,
# named trp<its pid>s<n> and trp<its pid>c<n>. If it dies without removing
# them (SIGKILL, an abort), this script deletes them by that name.
# INT/TERM/HUP are passed on to probe_bench, which stops and cleans up.
# Asserts nothing: exit status is probe_bench's.
#
# Environment: PROBE_BENCH_BIN (default: the first that exists of
# build-probebench/, build-bench/, build-release/, build/ +
# tests/bench/probe_bench).
set -euo pipefail

HERE=$(dirname "$(readlink -f "$0")")
ROOT=$(readlink -f "$HERE/../..")

die() { echo "probe_bench.sh: $*" >&2; exit 1; }

if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, veth, nftables)"

BIN=${PROBE_BENCH_BIN:-}
if [[ -z $BIN ]]; then
  for dir in build-probebench build-bench build-release build; do
    if [[ -x $ROOT/$dir/tests/bench/probe_bench ]]; then BIN=$ROOT/$dir/tests/bench/probe_bench; break; fi
  done
fi
[[ -n $BIN && -x $BIN ]] || die "no probe_bench binary${BIN:+ at $BIN}; build it with
  cmake -S $ROOT -B $ROOT/build-probebench -DCMAKE_BUILD_TYPE=Release
  cmake --build $ROOT/build-probebench -j2 --target probe_bench
or set PROBE_BENCH_BIN"

# In the background so that its PID (its namespaces' names) is known here.
"$BIN" "$@" &
PID=$!
trap 'kill -TERM "$PID" 2>/dev/null || true' INT TERM HUP

# A trapped signal ends `wait` early: wait again until probe_bench is gone.
RC=0
while :; do
  wait "$PID" && RC=0 || RC=$?
  kill -0 "$PID" 2>/dev/null || break
done

LEFT=$(ip netns list | awk '{print $1}' | grep -E "^trp${PID}[sc][0-9]+$" || true)
for ns in $LEFT; do
  echo "probe_bench.sh: probe_bench left namespace $ns; deleting it" >&2
  ip netns del "$ns" || echo "probe_bench.sh: could not delete namespace $ns" >&2
done
exit "$RC"
