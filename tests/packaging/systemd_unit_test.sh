#!/bin/bash
# tcpreapd.service, checked with systemd's own tools and against the daemon:
#  1. `systemd-analyze verify` has nothing to say (the man pages of
#     Documentation= are found, the commands exist);
#  2. `systemd-analyze security --offline=true` rates its exposure at most
#     2.0, and it grants exactly CAP_NET_ADMIN and CAP_NET_RAW, no root;
#  3. the directives the service depends on are there (notify; a reload
#     that signals the daemon, then checks the file; watchdog; no restart
#     loop on a bad config, so no ExecStartPre=);
#  4. every system call the daemon makes - run as the unit runs it: an
#     unprivileged user with the two capabilities, starting, scanning,
#     serving a scrape, reloading, stopping - is one its SystemCallFilter=
#     allows, and so is every call of `--check-config` (ExecReload=).
# PID 1 is not systemd on the machines this runs on, so the unit is not
# started here; (4) is how its sandbox is checked against the real program.
# systemd_service_test.sh runs the installed unit under a real systemd.
#
# Usage: systemd_unit_test.sh SOURCE_DIR TCPREAPD_BIN
set -euo pipefail

src=$1
bin=$2
man_dir=$(dirname "$bin")/man
ns=tcpreap-unit-$$
tmp=$(mktemp -d "/tmp/tcpreap-unit-$$.XXXXXX")
strace_pid=
daemon_pid=

cleanup() {
  [[ -n $daemon_pid ]] && kill -KILL "$daemon_pid" 2>/dev/null || true
  [[ -n $strace_pid ]] && wait "$strace_pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  [[ -n ${KEEP:-} ]] || rm -rf "$tmp"
}
trap cleanup EXIT
# syscall_filter_allowed, trace_calls_after_exec: the unit's SystemCallFilter=
# against what the daemon calls.
source "$src/tests/packaging/syscall_filter.sh"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# The unit as the package installs it, but naming this build's daemon (a
# copy any user may run) and a copy of the shipped config.
install_unit_copy "$tmp" "$bin" "$src"

# Documentation=man:... is checked by running man(1): give it this build's pages.
for page in tcpreapd.8 tcpreap.8 tcpreap.yaml.5; do
  [[ -f $man_dir/$page ]] || fail "$man_dir/$page not built (is scdoc installed?)"
  mkdir -p "$tmp/man/man${page##*.}"
  cp "$man_dir/$page" "$tmp/man/man${page##*.}/"
done

echo "== systemd-analyze verify"
if ! out=$(cd "$tmp" && MANPATH=$tmp/man systemd-analyze verify "$unit" 2>&1) || [[ -n $out ]]; then
  fail "systemd-analyze verify complains:"$'\n'"$out"
fi
echo "clean"

echo "== systemd-analyze security --offline=true"
# --threshold is on a 0-100 scale: 20 is an exposure of 2.0.
if ! out=$(cd "$tmp" && systemd-analyze security --offline=true --threshold=20 "$unit" 2>&1); then
  echo "$out" | grep -F '✗' >&2 || true
  fail "exposure above 2.0: $(echo "$out" | tail -1)"
fi
echo "$out" | tail -1

echo "== directives"
expect() {
  grep -qxF -- "$1" "$unit" || fail "the unit lacks the line '$1'"
}
expect "Type=notify"
expect "ExecStart=$tmp/tcpreapd --config $tmp/tcpreap.yaml"
# RestartPreventExitStatus= looks at the main process only: a failing
# ExecStartPre= would be restarted every RestartSec=, forever.
grep -n '^ExecStartPre=' "$unit" && fail "ExecStartPre= (above): a broken config would restart the unit forever"
# SIGHUP first, so that the daemon's metrics see a broken file too; then
# the check, so that `systemctl reload` fails on it. No /bin/kill (procps).
reload=$(grep '^ExecReload=' "$unit")
[[ $reload == "ExecReload=/bin/sh -c 'kill -HUP \${MAINPID}'"$'\n'"ExecReload=$tmp/tcpreapd --check-config --config $tmp/tcpreap.yaml" ]] ||
  fail "ExecReload= should signal, then check; it is:"$'\n'"$reload"
expect "Restart=on-failure"
expect "RestartPreventExitStatus=78"
expect "DynamicUser=yes"
expect "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW"
expect "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW"
expect "NoNewPrivileges=yes"
grep -q '^WatchdogSec=[1-9]' "$unit" || fail "no WatchdogSec="
grep -q '^User=' "$unit" && fail "the unit names a User=: DynamicUser= is the point"
# SOCK_DESTROY needs CAP_NET_ADMIN in the host's user and network namespace.
for off in PrivateNetwork PrivateUsers; do
  grep -q "^$off=yes" "$unit" && fail "$off=yes would keep the daemon from the host's sockets"
done
# The exit status the unit refuses to restart on is the daemon's for a bad config.
bad=$tmp/bad.yaml
printf 'scan: { interval: 0s }\n' >"$bad"
status=0
"$tmp/tcpreapd" --check-config --config "$bad" >/dev/null 2>&1 || status=$?
[[ $status == 78 ]] || fail "--check-config on a broken file exited $status, not 78"
echo "all present"

echo "== system calls against SystemCallFilter="
allowed=$tmp/allowed
syscall_filter_allowed "$allowed" "$unit" || fail "no system call is allowed?"

# As the unit runs it: nobody, the two capabilities, no new privileges.
as_unit=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+net_admin,+net_raw
  --ambient-caps=-all,+net_admin,+net_raw --bounding-set=-all,+net_admin,+net_raw --no-new-privs)

check_calls() {
  local what=$1 trace=$2
  trace_calls_after_exec "$trace" "$tmp/tcpreapd" >"$tmp/used"
  [[ -s $tmp/used ]] || fail "$what: no system calls traced (strace log format?)"
  if comm -23 "$tmp/used" "$allowed" | grep .; then
    fail "$what makes the system calls above, which the unit's SystemCallFilter= refuses"
  fi
  echo "$what: $(wc -l <"$tmp/used") distinct system calls, all allowed"
}

# ExecReload='s check
strace -f -qq -o "$tmp/check.trace" -- "${as_unit[@]}" "$tmp/tcpreapd" --check-config --config "$tmp/tcpreap.yaml" >/dev/null ||
  fail "--check-config of the shipped config failed as the unit's user"
check_calls "tcpreapd --check-config" "$tmp/check.trace"

# ExecStart= in a namespace of its own: its loopback holds the metrics port.
ip netns add "$ns"
ip -n "$ns" link set lo up
strace -f -qq -o "$tmp/daemon.trace" -- ip netns exec "$ns" "${as_unit[@]}" \
  "$tmp/tcpreapd" --config "$tmp/tcpreap.yaml" 2>"$tmp/daemon.log" &
strace_pid=$!

scrape() { ip netns exec "$ns" curl -sf --max-time 5 http://127.0.0.1:10126/metrics; }
metric() { scrape | awk -v m="$1" '$1 == m { print $2 }'; }
wait_for() {
  local what=$1 deadline=$((SECONDS + 30))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || fail "$what: not within 30 s; the daemon said:"$'\n'"$(cat "$tmp/daemon.log")"
    kill -0 "$strace_pid" 2>/dev/null || fail "$what: the daemon ended:"$'\n'"$(cat "$tmp/daemon.log")"
    sleep 0.2
  done
}
scanned() { [[ $(metric tcpreap_scans_total) -ge 1 ]] 2>/dev/null; }
reloaded() { [[ $(metric 'tcpreap_config_reloads_total{result="success"}') == 1 ]]; }
wait_for "the first scan" scanned
daemon_pid=$(awk -v exe="execve(\"$tmp/tcpreapd\"" 'index($0, exe) && / = 0$/ { print $1; exit }' "$tmp/daemon.trace")
[[ -n $daemon_pid ]] || fail "the daemon's execve is not in the trace"
kill -HUP "$daemon_pid"
wait_for "the reload" reloaded
kill -TERM "$daemon_pid"
status=0
wait "$strace_pid" || status=$?
strace_pid=
daemon_pid=
[[ $status == 0 ]] || fail "the daemon exited $status on SIGTERM:"$'\n'"$(cat "$tmp/daemon.log")"
grep -q "CAP_NET_ADMIN and CAP_NET_RAW held; nothing else to drop" "$tmp/daemon.log" ||
  fail "the daemon did not see exactly the two capabilities:"$'\n'"$(cat "$tmp/daemon.log")"
check_calls "tcpreapd (start, scan, scrape, reload, stop)" "$tmp/daemon.trace"
echo "PASS"
