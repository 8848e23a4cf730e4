#!/bin/bash
# rss_breakdown.sh - where a process's resident memory goes, from its smaps.
#
#   tests/bench/rss_breakdown.sh PID      (root, or the process's owner)
#
# Prints a Markdown table of Rss by kind of mapping, largest first:
#   - each file mapped (shared libraries and the executable), by file name:
#     their pages are in RSS but shared with every process that maps them
#     (the Pss column says how much of them is this process's share);
#   - [heap] (brk: malloc's main arena);
#   - thread stacks: anonymous mappings directly above a 4 KiB guard page
#     (glibc's pthread stacks), their count in the "maps" column;
#   - other anonymous memory (malloc's mmap'd blocks and thread arenas);
#   - [stack] (the main thread's), [vdso] and the rest.
# Then the totals and /proc/PID/smaps_rollup's Rss and Pss. Asserts nothing.
set -euo pipefail

die() { echo "rss_breakdown: $*" >&2; exit 1; }
if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
(($# == 1)) || die "usage: rss_breakdown.sh PID"
PID=$1
[[ $PID =~ ^[1-9][0-9]*$ ]] || die "PID must be a number, not '$PID'"
[[ -r /proc/$PID/smaps ]] || die "cannot read /proc/$PID/smaps"

# One record per mapping: its header line, then "Key: value kB" lines.
# A pthread stack is the anonymous rw mapping right after a ---p guard of
# 4 KiB (or the guard's size): the header's address range tells neighbours.
echo "| mapping | maps | Rss KiB | Pss KiB |"
echo "|---|---|---|---|"
awk '
function hex(s,   i, c, v) { v = 0; s = tolower(s)
  for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
  return v }
function flush() {
  if (kind == "") return
  rss[kind] += r; pss[kind] += p; maps[kind]++; kind = "" }
/^[0-9a-f]+-[0-9a-f]+ / {
  flush()
  split($1, range, "-"); start = hex(range[1]); end = hex(range[2]); perms = $2
  name = ""; for (i = 6; i <= NF; i++) name = name (i > 6 ? " " : "") $i
  if (name ~ /^\//) { n = split(name, parts, "/"); kind = parts[n] }
  else if (name != "") kind = name
  else if (perms ~ /^---p/) { kind = "guard pages"; guard_end = end }
  else if (start == guard_end) kind = "thread stacks"
  else kind = "other anonymous (malloc mmap blocks, arenas)"
  r = 0; p = 0; next }
/^Rss:/ { r = $2 }
/^Pss:/ { p = $2 }
END {
  flush()
  for (k in rss) if (rss[k] > 0) printf "%s\t%d\t%d\t%d\n", k, maps[k], rss[k], pss[k]
}' "/proc/$PID/smaps" | sort -t$'\t' -k3,3nr | awk -F'\t' '{ printf "| %s | %d | %d | %d |\n", $1, $2, $3, $4 }'
file_rss=$(awk '/^[0-9a-f]+-[0-9a-f]+ /{ f = ($6 ~ /^\//) } /^Rss:/ && f { s += $2 } END { print s + 0 }' "/proc/$PID/smaps")
echo
echo "file-backed (libraries and executable): $file_rss KiB"
awk '/^(Rss|Pss|Pss_Anon|Pss_File|Anonymous):/ { printf "%s %s KiB  ", $1, $2 } END { print "" }' "/proc/$PID/smaps_rollup"
