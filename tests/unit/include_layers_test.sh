#!/bin/bash
# include_layers_test.sh LIB_DIR
#
# lib/'s folders form layers: each may include only the folders below it in
# LAYERS (bottom first), so no two folders include each other and no folder
# reaches up the pipeline. An include of a folder that is not in LAYERS, or
# of one above, fails with the line that does it. The graph found is
# printed, one folder and what it includes per line.
#
# Run with --self-test to show the check fails where it should: a copy of a
# small tree in which core/ includes net/ must be refused.
set -euo pipefail

LAYERS=(core net netns netlink filter diag config wire verify decide reap cycle report metrics log privilege)

check() {
  local lib=$1 status=0 rank=() i
  declare -A rank_of
  for i in "${!LAYERS[@]}"; do rank_of[${LAYERS[$i]}]=$i; done
  for dir in "$lib"/*/; do
    local folder
    folder=$(basename "$dir")
    if [[ -z ${rank_of[$folder]+x} ]]; then
      echo "lib/$folder is not in LAYERS: place it in $0" >&2
      status=1
      continue
    fi
    local uses
    uses=$(grep -ho '^#include "[a-z_]*/' "$dir"* 2>/dev/null | sed 's/#include "//; s/\///' | sort -u |
           grep -vx "$folder" | tr '\n' ' ' || true)
    echo "$folder -> ${uses:-(nothing)}"
    while IFS=: read -r file line text; do
      local used=${text#\#include \"}
      used=${used%%/*}
      [[ $used == "$folder" ]] && continue
      if [[ -z ${rank_of[$used]+x} ]] || (( rank_of[$used] >= rank_of[$folder] )); then
        echo "${file#"$lib"/}:$line: lib/$folder may not include $used/ (it is not below it in the layers)" >&2
        status=1
      fi
    done < <(grep -Hn '^#include "[a-z_]*/' "$dir"* 2>/dev/null || true)
  done
  return $status
}

if [[ ${1:-} == --self-test ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/core" "$tmp/net"
  echo '#include "core/error.h"' > "$tmp/net/ip_address.h"
  check "$tmp" > /dev/null || { echo "self-test: a downward include was refused" >&2; exit 1; }
  echo '#include "net/ip_address.h"' > "$tmp/core/error.h"
  if check "$tmp" 2> "$tmp/err" > /dev/null; then
    echo "self-test: core/ including net/ was not refused" >&2
    exit 1
  fi
  grep -q 'core/error.h:1: lib/core may not include net/' "$tmp/err" ||
    { echo "self-test: the refusal does not name the line:" >&2; cat "$tmp/err" >&2; exit 1; }
  echo "self-test: passed"
  exit 0
fi

[[ $# -eq 1 ]] || { echo "usage: $0 LIB_DIR | --self-test" >&2; exit 2; }
check "$1"
