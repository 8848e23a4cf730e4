#!/bin/bash
# netns_scan_bench.sh - one `namespaces: scan: all` turn over many network
# namespaces, next to the reference dump run once per namespace.
#
#   tests/bench/netns_scan_bench.sh [netns_scan_bench options]   (root)
#
# Builds the reference (../shared/bench/diagdump.c next to the repository,
# or REFERENCE_SRC) with gcc -O2 into a temporary directory if it exists -
# otherwise the reference columns read n/a - and runs netns_scan_bench
# (netns_scan_bench.cpp; a CMake target, built with the tests because it uses
# their namespace helpers) with --reference and these arguments:
#   --connections N (100000)  --spreads K,K,... (1,10,100)  --empty E (100)
#   --rounds R (7)
# netns_scan_bench creates and removes its own namespaces, trp<its pid>l<n>
# and trp<its pid>e<n>; if it dies without removing them (SIGKILL, an
# abort), this script deletes them by that name. INT/TERM/HUP are passed on
# to netns_scan_bench, which stops and cleans up. Asserts nothing: exit
# status is netns_scan_bench's.
#
# Environment: NETNS_SCAN_BENCH_BIN (default: the first that exists of
# build-bench/, build-probebench/, build-release/, build/ +
# tests/bench/netns_scan_bench), REFERENCE_SRC (diagdump.c).
set -euo pipefail

HERE=$(dirname "$(readlink -f "$0")")
ROOT=$(readlink -f "$HERE/../..")
REFERENCE_SRC=$(readlink -m "${REFERENCE_SRC:-$ROOT/../shared/bench/diagdump.c}")

die() { echo "netns_scan_bench.sh: $*" >&2; exit 1; }

if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, setns)"
for tool in ip nsenter; do command -v "$tool" >/dev/null || die "$tool not found"; done

BIN=${NETNS_SCAN_BENCH_BIN:-}
if [[ -z $BIN ]]; then
  for dir in build-bench build-probebench build-release build; do
    if [[ -x $ROOT/$dir/tests/bench/netns_scan_bench ]]; then BIN=$ROOT/$dir/tests/bench/netns_scan_bench; break; fi
  done
fi
[[ -n $BIN && -x $BIN ]] || die "no netns_scan_bench binary${BIN:+ at $BIN}; build it with
  cmake -S $ROOT -B $ROOT/build-bench -DCMAKE_BUILD_TYPE=Release
  cmake --build $ROOT/build-bench -j2 --target netns_scan_bench
or set NETNS_SCAN_BENCH_BIN"
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$(dirname "$BIN")/../../CMakeCache.txt" 2>/dev/null || true)
[[ $BUILD_TYPE == Release ]] || echo "netns_scan_bench.sh: $BIN is not a Release build (${BUILD_TYPE:-unknown})" >&2

TMP=$(mktemp -d /tmp/tcpreap-netnsscan-bench.XXXXXX)
PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [[ -n $PID ]]; then
    kill -TERM "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    local ns
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^trp${PID}[le][0-9]+$" || true); do
      echo "netns_scan_bench.sh: netns_scan_bench left namespace $ns; deleting it" >&2
      ip netns del "$ns" || echo "netns_scan_bench.sh: could not delete namespace $ns" >&2
    done
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT

REFERENCE=()
if [[ -f $REFERENCE_SRC ]]; then
  command -v gcc >/dev/null || die "gcc not found (needed for $REFERENCE_SRC)"
  gcc -O2 -o "$TMP/diagdump" "$REFERENCE_SRC" || die "building $REFERENCE_SRC failed"
  REFERENCE=(--reference "$TMP/diagdump")
else
  echo "netns_scan_bench.sh: no reference at $REFERENCE_SRC: its columns read n/a" >&2
fi

# In the background so that its PID (its namespaces' names) is known here.
"$BIN" "${REFERENCE[@]}" "$@" &
PID=$!
trap 'kill -TERM "$PID" 2>/dev/null || true' INT TERM HUP

# A trapped signal ends `wait` early: wait again until netns_scan_bench is gone.
RC=0
while :; do
  wait "$PID" && RC=0 || RC=$?
  kill -0 "$PID" 2>/dev/null || break
done
exit "$RC"
