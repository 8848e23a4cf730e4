# Sourced by the systemd tests: the system calls a unit's SystemCallFilter=
# allows, worked out with `systemd-analyze syscall-filter` as systemd.exec(5)
# defines it. Bash; needs systemd-analyze.

# The system call names of a systemd-analyze group (@name), nested groups
# expanded.
syscall_group() {
  systemd-analyze syscall-filter "$1" | tail -n +2 | sed -e 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' |
    while read -r name; do
      if [[ $name == @* ]]; then syscall_group "$name"; else echo "$name"; fi
    done
}

# syscall_filter_allowed OUT FILE...: writes to OUT, sorted, every system
# call the SystemCallFilter= lines of the FILEs allow, read in the order
# given (a unit, then its drop-ins). The first line must be an allow list:
# that always includes @default; later allow lines add, deny lines (~)
# remove. An empty assignment (a reset) is not handled: it fails.
syscall_filter_allowed() {
  local out=$1 line value g deny
  shift
  deny=$(mktemp)
  syscall_group @default >"$out"
  while read -r line; do
    value=${line#SystemCallFilter=}
    if [[ -z $value ]]; then
      echo "syscall_filter_allowed: an empty SystemCallFilter= (a reset) is not handled" >&2
      rm -f "$deny"
      return 1
    elif [[ $value == ~* ]]; then
      for g in ${value#\~}; do
        if [[ $g == @* ]]; then syscall_group "$g"; else echo "$g"; fi
      done | sort -u >"$deny"
      sort -u "$out" | comm -23 - "$deny" >"$out.next" && mv "$out.next" "$out"
    else
      for g in $value; do
        if [[ $g == @* ]]; then syscall_group "$g"; else echo "$g"; fi
      done >>"$out"
    fi
  done < <(grep -h '^SystemCallFilter=' "$@")
  rm -f "$deny"
  sort -u -o "$out" "$out"
  [[ -s $out ]]
}

# trace_calls_after_exec TRACE EXE: the names of the system calls in an
# `strace -f` log TRACE made after the successful execve of EXE, sorted,
# each once.
trace_calls_after_exec() {
  awk -v exe="execve(\"$2\"" '
    index($0, exe) && / = 0$/ { started = 1; next }
    started && match($0, /^[0-9]+ +[a-z_0-9]+\(/) {
      s = substr($0, RSTART, RLENGTH - 1); sub(/^[0-9]+ +/, "", s); print s
    }
    started && match($0, /<\.\.\. [a-z_0-9]+ resumed>/) {
      s = substr($0, RSTART + 5, RLENGTH - 5); sub(/ resumed>$/, "", s); print s
    }' "$1" | sort -u
}

# install_unit_copy TMP BIN SRC: the unit as the package installs it, in TMP,
# naming a copy of this build's daemon (one any user may run) and a copy of
# the shipped config; its path in $unit. Fails on a placeholder left.
install_unit_copy() {
  chmod 755 "$1"
  install -m 755 "$2" "$1/tcpreapd"
  install -m 644 "$3/config/tcpreap.yaml" "$1/tcpreap.yaml"
  unit=$1/tcpreapd.service
  sed -e "s|@TCPREAPD@|$1/tcpreapd|g" -e "s|@TCPREAP_CONFIG@|$1/tcpreap.yaml|g" \
    "$3/systemd/tcpreapd.service.in" >"$unit"
  if grep -n '@[A-Z_]*@' "$unit"; then
    echo "FAIL: placeholders left in the unit" >&2
    exit 1
  fi
}
