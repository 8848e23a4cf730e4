#!/bin/bash
# tcpreapd.service under a real systemd: the Debian package, installed in a
# Debian 12 container booted with systemd-nspawn (--private-network), checked
# the way an operator would see it:
#  1. after `dpkg -i` the unit is active as Type=notify; its main process runs
#     as a dynamic user with CapEff exactly CAP_NET_ADMIN|CAP_NET_RAW and
#     NoNewPrivs; `systemd-analyze security` rates it at most 2.0;
#  2. real work in the sandbox: of two idle clients (network namespaces of
#     their own on a bridge), the one whose link went down silently is reaped
#     (the server sees ECONNABORTED) after an unanswered probe, the live one
#     answers its probes and is kept;
#  3. `systemctl reload` takes a good config; a broken one fails the reload,
#     the daemon keeps its PID and its old policy (which still reaps), status
#     and journal say file:line:column, and the metrics say
#     tcpreap_config_last_reload_successful 0;
#  4. the watchdog is armed and fed; journal entries carry TCPREAP_* fields;
#     `systemctl restart` and `stop` work;
#  5. a broken config at start leaves the unit failed, NRestarts 0, and it
#     stays so past RestartSec=;
#  6. the shipped all-namespaces drop-in: tcpreapd.service's sandbox with it
#     holds exactly four capabilities, sees namespaces bound after its start
#     and other users' processes, enters their network namespaces and no
#     other kind; and, once tcpreapd accepts namespaces: {scan: all}, the
#     daemon with it reaps a dead client in a namespace made after its start
#     (TCPREAP_TEST_SCAN_ALL: see step 6 below);
#  7. `dpkg --purge` removes the unit and the config.
#
# The container's root file system (debootstrap, minbase + systemd + the
# package's Depends + python3-minimal for the test's peers) is built once into
# CACHE (default /var/cache/tcpreap-test, TCPREAP_TEST_CACHE), keyed by its
# package list, atomically (a temporary directory renamed when complete) and
# under flock; each run boots an overlay of it (a copy where overlayfs is
# unavailable), so a rerun takes the package build and a minute. The first
# run needs the Debian archive (TCPREAP_TEST_MIRROR, default deb.debian.org).
# Not root: skipped (exit 77), which fails under TCPREAP_REQUIRE_INTEGRATION=1.
#
# Usage: systemd_service_test.sh SOURCE_DIR
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 SOURCE_DIR" >&2; exit 2; }
src=$(cd "$1" && pwd)
cache=${TCPREAP_TEST_CACHE:-/var/cache/tcpreap-test}
mirror=${TCPREAP_TEST_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
machine=tcpreap-test-$$
run=${TMPDIR:-/tmp}/systemd_service_test.$$
nspawn_pid=
init_pid=
started=$SECONDS

step() { echo "== $* ($((SECONDS - started)) s)"; }

# What the container says about the service, for a failure's message.
diagnose() {
  [[ -n $init_pid ]] && kill -0 "$init_pid" 2>/dev/null || return 0
  echo "--- systemctl status tcpreapd" >&2
  in_ct systemctl status --no-pager -l tcpreapd >&2 2>&1 || true
  echo "--- journalctl -u tcpreapd (last 40)" >&2
  in_ct journalctl --no-pager -u tcpreapd -n 40 >&2 2>&1 || true
}
fail() {
  echo "FAIL: $*" >&2
  diagnose
  exit 1
}

cleanup() {
  if [[ -n $nspawn_pid ]] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid" 2>/dev/null || true  # the container powers off
    for _ in $(seq 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$nspawn_pid" 2>/dev/null || true
    wait "$nspawn_pid" 2>/dev/null || true
  fi
  if mountpoint -q "$run/root" 2>/dev/null; then umount "$run/root" || umount -l "$run/root" || true; fi
  rm -rf --one-file-system "$run"
}
trap cleanup EXIT

if [[ $(id -u) != 0 ]]; then
  [[ ${TCPREAP_REQUIRE_INTEGRATION:-0} != 1 ]] || fail "booting a container needs root"
  echo "SKIP: booting a container needs root"
  exit 77
fi
for tool in debootstrap systemd-nspawn nsenter flock dpkg-buildpackage dpkg-deb; do
  command -v "$tool" > /dev/null ||
    fail "$tool not found (apt-get install debootstrap systemd-container dpkg-dev debhelper)"
done
# What a killed run left (its trap never ran): its overlay and scratch files,
# unless its container still runs (then the overlay is busy: left alone).
for old in "${run%.*}".*; do
  [[ -d $old && ${old##*.} =~ ^[0-9]+$ ]] && ! kill -0 "${old##*.}" 2>/dev/null || continue
  if mountpoint -q "$old/root"; then umount "$old/root" 2>/dev/null || continue; fi
  rm -rf --one-file-system "$old"
done
mkdir -p "$run/out"

# --- the package ------------------------------------------------------------
step "building the package"
# Where ccache is installed, a rerun's build takes seconds: the build tree's
# temporary path is the base directory, so its objects are found again; the
# cache is the caller's (debhelper points HOME into the build tree).
if command -v ccache > /dev/null; then
  CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir)}
  export CCACHE_DIR CMAKE_C_COMPILER_LAUNCHER=ccache CMAKE_CXX_COMPILER_LAUNCHER=ccache CCACHE_BASEDIR=$run \
    CCACHE_NOHASHDIR=1
fi
if ! TMPDIR=$run "$src/packaging/build-deb.sh" "$run/out" "$src" > "$run/build.log" 2>&1; then
  tail -n 40 "$run/build.log" >&2
  fail "packaging/build-deb.sh failed (the last 40 lines of its output are above)"
fi
deb=$(ls "$run"/out/tcpreap_*_"$(dpkg --print-architecture)".deb)
echo "built $(basename "$deb")"

# --- the root file system -----------------------------------------------------
# What the container needs: systemd, the tools the test drives it with, the
# package's run-time dependencies (it is installed with dpkg -i, and the
# container has no network) and python3 for the test's server and clients.
packages=$(
  { echo systemd systemd-sysv dbus iproute2 python3-minimal
    dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -e 's/([^)]*)//g' -e 's/|.*//' -e 's/:any//'
  } | tr -s ' \n' '\n\n' | grep . | sort -u | tr '\n' ',' | sed 's/,$//')
key=$(echo "$suite $packages" | sha256sum | cut -c1-12)
root=$cache/$suite-$key
mkdir -p "$cache"
# Runs share the lock while they use a root; building one takes it alone.
exec {lock}> "$cache/lock"
flock -s "$lock"
[[ -d $root ]] || { flock -u "$lock"; flock -x "$lock"; }
if [[ ! -d $root ]]; then
  step "building the root file system $root (once)"
  # Under the lock nothing else builds or uses a root: what is left is
  # from a run that was killed (a half-built root) or a stale package list.
  for old in "$cache"/tmp.* "$cache/$suite"-*; do
    [[ -e $old ]] || continue
    awk -v d="$old/" 'index($2 "/", d) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount -l
    rm -rf --one-file-system "$old"
  done
  building=$(mktemp -d "$cache/tmp.XXXXXX")
  if ! debootstrap --variant=minbase --include="$packages" "$suite" "$building/root" "$mirror" \
      > "$run/debootstrap.log" 2>&1; then
    tail -n 30 "$run/debootstrap.log" >&2
    fail "debootstrap failed (the last 30 lines are above; the first run needs $mirror)"
  fi
  rm -rf "$building/root/var/cache/apt/archives/"*.deb
  mv "$building/root" "$root"
  rmdir "$building"
fi
# Shared from here on (again): other runs may use the root, none removes it.
flock -s "$lock"
echo "root file system: $root"

# --- boot ----------------------------------------------------------------------
step "booting $machine"
mkdir -p "$run/upper" "$run/work" "$run/root"
if ! mount -t overlay overlay -o "lowerdir=$root,upperdir=$run/upper,workdir=$run/work" "$run/root" 2> /dev/null; then
  echo "no overlayfs here: copying the root file system"
  cp -a --reflink=auto "$root/." "$run/root/"
fi
systemd-nspawn -D "$run/root" -M "$machine" --register=no --keep-unit -b --private-network \
  --console=passive > "$run/nspawn.log" 2>&1 &
nspawn_pid=$!

# Commands in all of the container's namespaces, in a clean environment.
in_ct() {
  nsenter -t "$init_pid" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 SYSTEMD_PAGER= \
    SYSTEMD_COLORS=0 "$@"
}
# Polls `cmd...` every 0.2 s until it succeeds; fails with `what` after
# `seconds` (a deadline that only stops a broken run).
wait_for() {
  local what=$1 seconds=$2 deadline
  shift 2
  deadline=$((SECONDS + seconds))
  until "$@"; do
    ((SECONDS < deadline)) || fail "$what: not within $seconds s"
    sleep 0.2
  done
}
container_init() {
  kill -0 "$nspawn_pid" 2>/dev/null || fail "systemd-nspawn ended:"$'\n'"$(cat "$run/nspawn.log")"
  init_pid=$(cat "/proc/$nspawn_pid/task/$nspawn_pid/children" 2>/dev/null | awk '{ print $1 }')
  [[ -n $init_pid && $(cat "/proc/$init_pid/comm" 2>/dev/null) == systemd ]]
}
wait_for "the container's systemd" 30 container_init
booted() { [[ $(in_ct systemctl is-system-running 2>/dev/null) =~ ^(running|degraded)$ ]]; }
wait_for "the container's boot" 60 booted
echo "booted: systemd $(in_ct systemctl --version | awk 'NR == 1 { print $2 }'), $(in_ct systemctl is-system-running)"

prop() { in_ct systemctl show -P "$1" tcpreapd; }
# Read whole before any grep: `systemctl status` exits 3 for a failed unit,
# and a grep -q that stops early would break the pipe (pipefail).
status() { in_ct systemctl status --no-pager -l -n 20 tcpreapd || true; }
journal() { in_ct journalctl --no-pager -u tcpreapd -o cat; }
# The daemon's metrics, from inside the container (its loopback).
scrape() {
  in_ct bash -c 'exec 3<>/dev/tcp/127.0.0.1/10126 &&
    printf "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 && cat <&3'
}
# The value of the series NAME with each of the labels given (k="v", in
# any order, others allowed): metric NAME [LABEL...].
metric() {
  local name=$1
  shift
  scrape | awk -v name="$name" -v want="$*" '
    { brace = index($1, "{"); series = brace ? substr($1, 1, brace - 1) : $1 }
    series != name { next }
    { labels = brace ? substr($1, brace) : ""; n = split(want, w, " "); ok = 1
      for (i = 1; i <= n; i++) if (!index(labels, "{" w[i]) && !index(labels, "," w[i])) ok = 0
      if (ok) { print $2; exit } }'
}
# at_least NAME MIN [LABEL...]: the series exists and is at least MIN.
at_least() {
  local name=$1 min=$2 v
  shift 2
  v=$(metric "$name" "$@") && [[ -n $v ]] && awk -v v="$v" -v n="$min" 'BEGIN { exit !(v >= n) }'
}
config() { in_ct sh -c 'cat > /etc/tcpreap/tcpreap.yaml'; }

# --- 1. install ------------------------------------------------------------------
step "dpkg -i"
cp "$deb" "$run/root/root/tcpreap.deb"
in_ct dpkg -i /root/tcpreap.deb > "$run/install.log" 2>&1 || { cat "$run/install.log" >&2; fail "dpkg -i failed"; }
active() { [[ $(in_ct systemctl is-active tcpreapd) == active ]]; }
wait_for "tcpreapd active after install" 30 active
[[ $(prop Type) == notify ]] || fail "Type=$(prop Type), not notify"
pid=$(prop MainPID)
[[ $pid -gt 0 ]] || fail "no main process"
proc_status=$(in_ct cat "/proc/$pid/status")
field() { awk -v f="$1:" '$1 == f { print $2 }' <<< "$proc_status"; }
uid=$(field Uid)
[[ $(field CapEff) == 0000000000003000 ]] || fail "CapEff $(field CapEff), not 0000000000003000 (CAP_NET_ADMIN|CAP_NET_RAW)"
[[ $(field NoNewPrivs) == 1 ]] || fail "NoNewPrivs $(field NoNewPrivs)"
# systemd's dynamic users are 61184-65519 (systemd.exec(5)).
((uid >= 61184 && uid <= 65519)) || fail "uid $uid is not a dynamic user's"
[[ $(prop UID) == "$uid" ]] || fail "the main process runs as $uid, systemd's dynamic user is $(prop UID)"
echo "active as Type=notify: PID $pid, dynamic uid $uid, CapEff 0x3000, NoNewPrivs 1; status: $(prop StatusText)"
security=$(in_ct systemd-analyze security --no-pager tcpreapd 2>&1 | tail -n 1)
echo "$security"
exposure=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<< "$security")
[[ -n $exposure ]] && awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || fail "exposure above 2.0: $security"
[[ $(prop WatchdogUSec) != 0 && $(prop WatchdogUSec) != infinity ]] || fail "no watchdog: WatchdogUSec=$(prop WatchdogUSec)"

# --- 2. real work ------------------------------------------------------------------
step "a good config by systemctl reload"
# silent_for is on line 7: the broken config below breaks it there.
good='scan: { interval: 1s }
reap: { method: auto }
metrics: { listen: "127.0.0.1:10126" }
policies:
  - name: test-peers
    match: { local_ports: [7000] }
    dead_when: { silent_for: 2s }
    verify: { probes: 1, interval: 1s }'
config <<< "$good"
in_ct systemctl reload tcpreapd || fail "systemctl reload with a good config failed"
[[ $(prop MainPID) == "$pid" ]] || fail "the reload changed the main PID"
wait_for "the reload counted" 10 at_least tcpreap_config_reloads_total 1 'result="success"'
[[ $(metric tcpreap_config_last_reload_successful) == 1 ]] || fail "the good reload is not counted a success"
echo "journal: $(grep -m1 '^reloaded' <<< "$(journal)")"

step "a dead and a live client"
cat > "$run/root/root/peer.py" << 'EOF'
# peer.py server PORT: accepts, says each connection's end and its errno.
# peer.py client HOST PORT: connects, says so, waits for the end.
import errno, select, socket, sys

def say(*words):
    print(*words, flush=True)

def end_of(sock):
    try:
        return "eof" if sock.recv(4096) == b"" else None
    except OSError as e:
        return "error " + errno.errorcode.get(e.errno, str(e.errno))

if sys.argv[1] == "server":
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", int(sys.argv[2])))
    listener.listen()
    peers = {}
    say("listening")
    while True:
        for s in select.select([listener, *peers], [], [])[0]:
            if s is listener:
                conn, addr = listener.accept()
                peers[conn] = "%s:%d" % addr
                say("accepted", peers[conn])
            elif (end := end_of(s)) is not None:
                say(end, peers.pop(s))
                s.close()
else:
    conn = socket.create_connection((sys.argv[2], int(sys.argv[3])))
    say("connected", conn.getsockname()[1])
    while (end := end_of(conn)) is None:
        pass
    say(end)
EOF
in_ct systemd-run -q --unit=test-server -p StandardOutput=file:/run/server.log \
  python3 -u /root/peer.py server 7000
server_log() { in_ct cat /run/server.log; }
listening() { grep -qx listening <<< "$(server_log 2>/dev/null)"; }
wait_for "the test server" 10 listening
# The server's LAN: a bridge, 10.77.0.1. Each client is a host of its own on
# it (a network namespace, 10.77.0.N, on a veth); one vanishes by taking its
# own link down. The server's side keeps its carrier, as a switch port does:
# its probes leave (to a neighbour that no longer answers ARP) and go
# unanswered. (Were the server's own device to lose its carrier, nothing
# would leave: the probe could not even be sent, and verify never reaps on
# a probe that failed.)
in_ct ip link add br0 type bridge
in_ct ip addr add 10.77.0.1/24 dev br0
in_ct ip link set br0 up
client() {
  local name=$1 n=$2
  in_ct ip netns add "$name"
  in_ct ip link add "$name" type veth peer name eth0 netns "$name"
  in_ct ip link set "$name" master br0 up
  in_ct ip -n "$name" addr add "10.77.0.$n/24" dev eth0
  in_ct ip -n "$name" link set eth0 up
  in_ct ip -n "$name" link set lo up
  in_ct systemd-run -q --unit="test-$name" -p NetworkNamespacePath="/run/netns/$name" \
    python3 -u /root/peer.py client 10.77.0.1 7000
}
accepted() { grep -q "^accepted 10\.77\.0\.$1:" <<< "$(server_log)"; }
# The server's line for the end of client N's connection ("error ECONNABORTED
# 10.77.0.N:PORT", "eof ..."), if it ended.
end_of() { grep -E "^(eof|error [A-Z0-9]+) 10\.77\.0\.$1:" <<< "$(server_log)" || true; }
ended() { [[ -n $(end_of "$1") ]]; }
client live 2
client dead1 3
wait_for "the clients' connections" 10 eval 'accepted 2 && accepted 3'
# Its host vanishes silently: nothing is sent, nothing arrives.
in_ct ip -n dead1 link set dev eth0 down
wait_for "the dead client's end at the server" 30 ended 3
[[ $(end_of 3) == "error ECONNABORTED 10.77.0.3:"* ]] || fail "the server saw: $(end_of 3)"
echo "server: $(end_of 3)"
reaped() { at_least tcpreap_reaped_connections_total "$1" 'policy="test-peers"' 'method="destroy"' 'reason="silent"'; }
wait_for "the reap counted" 10 reaped 1
scans=$(metric tcpreap_scans_total)
wait_for "three more scans" 20 at_least tcpreap_scans_total $((scans + 3))
! ended 2 || fail "the live client's connection ended: $(end_of 2)"
at_least tcpreap_probes_answered_total 1 || fail "the live client never answered a probe (it was never verified)"
echo "the dead client was reaped after an unanswered probe; the live one answered its probe and is kept"

# --- 3. a broken reload --------------------------------------------------------------
step "a broken config by systemctl reload"
config <<< "${good/silent_for: 2s/silent_for: 2 fortnights}"
if in_ct systemctl reload tcpreapd > "$run/reload.out" 2>&1; then
  fail "systemctl reload with a broken config succeeded"
fi
echo "systemctl reload: $(head -n 1 "$run/reload.out")"
wait_for "the failed reload counted" 10 at_least tcpreap_config_reloads_total 1 'result="failure"'
[[ $(metric tcpreap_config_last_reload_successful) == 0 ]] ||
  fail "tcpreap_config_last_reload_successful is $(metric tcpreap_config_last_reload_successful) after a failed reload"
active || fail "the service is $(in_ct systemctl is-active tcpreapd) after a failed reload"
[[ $(prop MainPID) == "$pid" ]] || fail "the main PID changed from $pid to $(prop MainPID) on a failed reload"
where='/etc/tcpreap/tcpreap.yaml:7:[0-9]+: '
grep -qE "$where" <<< "$(status)" || fail "systemctl status does not say where the file is broken"
grep -qE "^tcpreapd: $where" <<< "$(journal)" || fail "the reload's check did not say where the file is broken"
grep -qE "^$where" <<< "$(journal)" || fail "the daemon did not say where the file is broken"
echo "journal: $(grep -E "^$where" <<< "$(journal)" | tail -n 1)"
echo "journal: $(grep -m1 '^reload failed' <<< "$(journal)")"
# The old policy still acts.
client dead2 4
wait_for "the second dead client's connection" 10 accepted 4
in_ct ip -n dead2 link set dev eth0 down
wait_for "the old policy reaping after the failed reload" 30 ended 4
[[ $(end_of 4) == "error ECONNABORTED 10.77.0.4:"* ]] || fail "the server saw: $(end_of 4)"
wait_for "the second reap counted" 10 reaped 2
# From here on no reload or start resets the watchdog's timestamp: when it
# moves, a WATCHDOG=1 came.
watchdog_since=$(prop WatchdogTimestampMonotonic)
echo "the old policy reaped the second dead client; metrics: tcpreap_config_last_reload_successful 0"

# --- 4. watchdog, journal fields, restart, stop --------------------------------------------
step "watchdog and journal fields"
fed() { [[ $(prop WatchdogTimestampMonotonic) != "$watchdog_since" ]]; }
wait_for "a watchdog ping (WatchdogSec=$(prop WatchdogUSec))" 60 fed
[[ $(prop MainPID) == "$pid" ]] || fail "the main PID changed while waiting for the watchdog"
echo "watchdog $(prop WatchdogUSec): pinged at $(prop WatchdogTimestamp)"
fields=$(in_ct journalctl -u tcpreapd -o verbose TCPREAP_ACTION=reap)
for f in "TCPREAP_POLICY=test-peers" "TCPREAP_REMOTE=10.77.0.3:" "TCPREAP_METHOD=destroy" "TCPREAP_OUTCOME="; do
  grep -q "^ *$f" <<< "$fields" || fail "no $f in the journal's reaped entries:"$'\n'"$fields"
done
echo "journal: $(grep -c '^ *TCPREAP_' <<< "$fields") TCPREAP_* fields in the $(grep -c '^ *TCPREAP_ACTION=' <<< "$fields") reaped entries"

step "systemctl restart and stop"
config <<< "$good"
in_ct systemctl restart tcpreapd || fail "systemctl restart failed"
active || fail "not active after a restart"
[[ $(prop MainPID) != "$pid" ]] || fail "systemctl restart kept PID $pid"
echo "restarted: PID $(prop MainPID)"
in_ct systemctl stop tcpreapd || fail "systemctl stop failed"
[[ $(prop ActiveState) == inactive && $(prop Result) == success ]] ||
  fail "after stop: $(prop ActiveState), result $(prop Result)"
[[ $(prop ExecMainStatus) == 0 ]] || fail "the daemon exited $(prop ExecMainStatus) on stop"
echo "stopped: exit status 0"

# --- 5. a broken config at start -----------------------------------------------------------
step "a broken config at start"
config <<< "${good/silent_for: 2s/silent_for: 2 fortnights}"
if in_ct systemctl start tcpreapd 2>/dev/null; then fail "systemctl start with a broken config succeeded"; fi
settled() { [[ $(prop ActiveState) != activating ]] || [[ $(prop SubState) == auto-restart ]]; }
wait_for "the failed start settling" 10 settled
state() { echo "$(prop ActiveState)/$(prop SubState), NRestarts $(prop NRestarts), exit $(prop ExecMainStatus)"; }
[[ $(state) == "failed/failed, NRestarts 0, exit 78" ]] || fail "after a start with a broken config: $(state)"
# Past RestartSec=, nothing was restarted.
sleep $(($(prop RestartUSec | sed -n 's/^\([0-9]*\)s$/\1/p') + 1))
[[ $(state) == "failed/failed, NRestarts 0, exit 78" ]] || fail "a while after a start with a broken config: $(state)"
grep -qE "$where" <<< "$(status)" || fail "systemctl status does not say where the file is broken"
echo "failed and stays failed: $(state)"

# --- 6. every network namespace: the drop-in ------------------------------------------------
# The shipped drop-in (/usr/share/tcpreap/systemd/all-namespaces.conf), installed as the
# operator would. Two parts:
#  - dropin_sandbox needs nothing of the daemon: a probe unit with tcpreapd.service's
#    sandbox and the drop-in (a copy of the unit, only the program replaced) holds the four
#    capabilities, sees /run/netns entries bound after it started (/run/netns itself made
#    after it started, too), enters one with setns(CLONE_NEWNET) (nsenter), sees another
#    user's process (ProtectProc=) and enters its namespace, and is still refused setns
#    into a UTS namespace and the process's environ;
#  - dropin_reap: tcpreapd itself, with namespaces: {scan: all}: four capabilities, not
#    restricted (tcpreap_network_namespaces_restricted 0), it finds a namespace bound
#    after its start, and a dead client of a server there is reaped (the journal says
#    TCPREAP_NETNS=<its name>). A tcpreapd that rejects that config fails the
#    step; TCPREAP_TEST_SCAN_ALL=0 skips it (by hand only).
dropin=/usr/share/tcpreap/systemd/all-namespaces.conf
scan_all_mode=${TCPREAP_TEST_SCAN_ALL:-1}
# CAP_NET_ADMIN|CAP_NET_RAW|CAP_SYS_PTRACE|CAP_SYS_ADMIN
four_caps=0000000000283000
# The sandbox's exposure with the drop-in: systemd_dropin_test.sh says why 2.5.
dropin_max_exposure=2.5

# The namespaces of steps 2 and 3 go, and /run/netns with them: the next
# `ip netns add` makes the directory again, after the units below started.
netns_dir_gone() {
  local n
  for n in $(in_ct ip netns list | awk '{ print $1 }'); do in_ct ip netns del "$n"; done
  while in_ct mountpoint -q /run/netns; do in_ct umount /run/netns; done
  in_ct rmdir /run/netns 2>/dev/null || true
  in_ct test ! -e /run/netns || fail "/run/netns is still there"
}

dropin_sandbox() {
  step "the drop-in's sandbox, probed"
  in_ct test -f "$dropin" || fail "the package lacks $dropin"
  local probe=tcpreap-sandbox-probe name=tcpreap-dropin-probe-$$ other
  # Another user's process in a network namespace bound nowhere.
  in_ct systemd-run -q --unit=test-other-user -p User=nobody -p PrivateNetwork=yes sleep infinity
  other=$(in_ct systemctl show -P MainPID test-other-user)
  [[ $other -gt 0 ]] || fail "no process for test-other-user"
  mkdir -p "$run/root/usr/local/libexec"
  cat > "$run/root/usr/local/libexec/$probe" << 'EOF'
#!/bin/sh
# tcpreap-sandbox-probe NAME PID: what tcpreapd.service's sandbox with the
# drop-in lets a process do. One line per check; exit 1 at the first that fails.
name=$1 pid=$2 bound=/run/netns/$1
bad() { echo "probe failed: $*"; exit 1; }
grep -E '^Cap(Eff|Bnd|Amb):' /proc/self/status | tr '\t' ' '
# The bind mount of `ip netns add`, made after this started: a device of
# its own (nsfs) once the mount has propagated here.
i=0
until [ -e "$bound" ] && [ "$(stat -c %d "$bound")" != "$(stat -c %d /run)" ]; do
  i=$((i + 1)); [ $i -le 150 ] || bad "$bound never appeared bound"; sleep 0.2
done
want=$(stat -L -c %i "$bound")
got=$(nsenter --net="$bound" readlink /proc/self/ns/net) || bad "setns into $bound"
[ "$got" = "net:[$want]" ] || bad "entered $got, not net:[$want]"
echo "bound after the start: entered $got"
[ -d "/proc/$pid" ] || bad "process $pid (another user's) is hidden"
theirs=$(readlink "/proc/$pid/ns/net") || bad "readlink /proc/$pid/ns/net"
got=$(nsenter --net="/proc/$pid/ns/net" readlink /proc/self/ns/net) || bad "setns into /proc/$pid/ns/net"
[ "$got" = "$theirs" ] || bad "entered $got, not $theirs"
head -n 1 "/proc/$pid/cgroup" > /dev/null || bad "reading /proc/$pid/cgroup"
echo "another user's process: seen, entered $got"
if why=$(nsenter --uts="/proc/$pid/ns/uts" true 2>&1); then bad "setns into a UTS namespace was allowed"; fi
case $why in *reassociate*) ;; *) bad "nsenter --uts failed before setns: $why" ;; esac
echo "setns into a UTS namespace: refused ($why)"
if head -c 1 "/proc/$pid/environ" > /dev/null 2>&1; then bad "another user's environ is readable"; fi
echo "another user's environ: refused"
echo "probe passed"
EOF
  chmod 755 "$run/root/usr/local/libexec/$probe"
  in_ct cp /lib/systemd/system/tcpreapd.service "/etc/systemd/system/$probe.service"
  in_ct mkdir -p "/etc/systemd/system/$probe.service.d"
  in_ct cp "$dropin" "/etc/systemd/system/$probe.service.d/all-namespaces.conf"
  in_ct sh -c "cat > /etc/systemd/system/$probe.service.d/zz-probe.conf" << EOF
[Unit]
Description=tcpreapd.service's sandbox with the all-namespaces drop-in, probed
[Service]
Type=oneshot
ExecStart=
ExecStart=/usr/local/libexec/$probe $name $other
ExecReload=
WatchdogSec=0
Restart=no
EOF
  in_ct systemctl daemon-reload
  netns_dir_gone
  in_ct systemctl start --no-block "$probe"
  # Running (waiting for the namespace), or already failed: said below.
  probe_running() { [[ $(in_ct systemctl show -P SubState "$probe") =~ ^(start|failed)$ ]]; }
  wait_for "the probe unit running" 10 probe_running
  in_ct ip netns add "$name"
  probe_done() { [[ $(in_ct systemctl show -P ActiveState "$probe") =~ ^(inactive|failed)$ ]]; }
  wait_for "the probe's end" 60 probe_done
  local said
  said=$(in_ct journalctl --no-pager -u "$probe" -o cat)
  [[ $(in_ct systemctl show -P Result "$probe") == success ]] ||
    fail "the probe in tcpreapd's sandbox with the drop-in failed:"$'\n'"$said"
  grep -q "^CapEff: $four_caps\$" <<< "$said" || fail "the probe's capabilities: $(grep '^Cap' <<< "$said")"
  grep -q "^CapBnd: $four_caps\$" <<< "$said" || fail "the probe's bounding set: $(grep '^CapBnd' <<< "$said")"
  grep -q "^CapAmb: $four_caps\$" <<< "$said" || fail "the probe's ambient set: $(grep '^CapAmb' <<< "$said")"
  sed -n '/^bound after/,/^probe passed/p' <<< "$said"
  in_ct systemctl stop test-other-user
  in_ct rm -r "/etc/systemd/system/$probe.service" "/etc/systemd/system/$probe.service.d"
  in_ct systemctl daemon-reload
  in_ct ip netns del "$name"
}

dropin_reap() {
  step "tcpreapd with the drop-in and namespaces: {scan: all}"
  local server=tcpreap-dropin-$$ client=tcpreap-dropin-client-$$ scan_all
  # The good config of step 2, on port 7001, in every namespace.
  scan_all="namespaces: { scan: all }"$'\n'"${good//local_ports: \[7000\]/local_ports: [7001]}"
  [[ $scan_all == *"namespaces: { scan: all }"* && $scan_all == *"[7001]"* ]] || fail "the scan: all config was not made"
  in_ct sh -c 'cat > /run/scan-all.yaml' <<< "$scan_all"
  local why
  if [[ $scan_all_mode == 0 ]] || ! why=$(in_ct tcpreapd --check-config --config /run/scan-all.yaml 2>&1); then
    [[ $scan_all_mode != 1 ]] || fail "TCPREAP_TEST_SCAN_ALL=1, but tcpreapd rejects namespaces: {scan: all}: $why"
    echo "SKIPPED: ${why:+tcpreapd does not accept namespaces: {scan: all} yet: }${why:-TCPREAP_TEST_SCAN_ALL=0}"
    return 0
  fi
  in_ct mkdir -p /etc/systemd/system/tcpreapd.service.d
  in_ct cp "$dropin" /etc/systemd/system/tcpreapd.service.d/all-namespaces.conf
  config <<< "$scan_all"
  in_ct systemctl daemon-reload
  in_ct systemctl restart tcpreapd || fail "systemctl restart with the drop-in and scan: all failed"
  active || fail "not active with the drop-in and scan: all"
  pid=$(prop MainPID)
  proc_status=$(in_ct cat "/proc/$pid/status")
  [[ $(field CapEff) == "$four_caps" ]] || fail "CapEff $(field CapEff), not $four_caps (NET_ADMIN|NET_RAW|SYS_PTRACE|SYS_ADMIN)"
  [[ $(field NoNewPrivs) == 1 ]] || fail "NoNewPrivs $(field NoNewPrivs)"
  security=$(in_ct systemd-analyze security --no-pager tcpreapd 2>&1 | tail -n 1)
  exposure=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<< "$security")
  [[ -n $exposure ]] && awk -v e="$exposure" -v m="$dropin_max_exposure" 'BEGIN { exit !(e <= m) }' ||
    fail "exposure with the drop-in above $dropin_max_exposure: $security"
  echo "PID $pid, CapEff $four_caps; with the drop-in: $security"
  # Not restricted to its own namespace for want of a capability, and
  # scanning (at least its own).
  wait_for "the metrics" 30 at_least tcpreap_network_namespaces 1 'state="scanned"'
  [[ $(metric tcpreap_network_namespaces_restricted) == 0 ]] ||
    fail "tcpreap_network_namespaces_restricted is $(metric tcpreap_network_namespaces_restricted) with the drop-in"
  echo "metrics: tcpreap_network_namespaces{state=\"scanned\"} $(metric tcpreap_network_namespaces 'state="scanned"'), restricted 0"

  # Made after the start: the server's namespace, a LAN of its own (a bridge,
  # 10.78.0.1, kept up by a veth pair of its own when the client's port goes
  # down, as a switch keeps its other ports), and the client's namespace on it.
  in_ct ip netns add "$server"
  in_ct ip netns add "$client"
  in_ct ip -n "$server" link set lo up
  in_ct ip -n "$server" link add br0 type bridge
  in_ct ip -n "$server" addr add 10.78.0.1/24 dev br0
  in_ct ip -n "$server" link add keep0 type veth peer name keep1
  in_ct ip -n "$server" link set keep0 master br0 up
  in_ct ip -n "$server" link set keep1 up
  in_ct ip -n "$server" link set br0 up
  in_ct ip -n "$server" link add client0 type veth peer name eth0 netns "$client"
  in_ct ip -n "$server" link set client0 master br0 up
  in_ct ip -n "$client" addr add 10.78.0.2/24 dev eth0
  in_ct ip -n "$client" link set eth0 up
  in_ct ip -n "$client" link set lo up
  # Found after the start: the bind mount reached the unit's mount namespace.
  discovered() { grep -q "^scanning network namespace $server" <<< "$(journal)"; }
  wait_for "the daemon's 'scanning network namespace $server'" 60 discovered
  echo "journal: $(grep -m1 "^scanning network namespace $server" <<< "$(journal)")"
  in_ct systemd-run -q --unit=test-ns-server -p NetworkNamespacePath="/run/netns/$server" \
    -p StandardOutput=file:/run/ns-server.log python3 -u /root/peer.py server 7001
  ns_server_log() { in_ct cat /run/ns-server.log 2>/dev/null || true; }
  ns_listening() { grep -qx listening <<< "$(ns_server_log)"; }
  wait_for "the server in $server" 10 ns_listening
  in_ct systemd-run -q --unit=test-ns-client -p NetworkNamespacePath="/run/netns/$client" \
    python3 -u /root/peer.py client 10.78.0.1 7001
  ns_accepted() { grep -q '^accepted 10\.78\.0\.2:' <<< "$(ns_server_log)"; }
  wait_for "the client's connection in $server" 10 ns_accepted
  # The client's host vanishes silently.
  in_ct ip -n "$client" link set dev eth0 down
  ns_end() { grep -E '^(eof|error [A-Z0-9]+) 10\.78\.0\.2:' <<< "$(ns_server_log)" || true; }
  ns_ended() { [[ -n $(ns_end) ]]; }
  wait_for "the dead client's end at the server in $server" 60 ns_ended
  [[ $(ns_end) == "error ECONNABORTED 10.78.0.2:"* ]] || fail "the server in $server saw: $(ns_end)"
  echo "server in $server: $(ns_end)"
  local fields
  fields=$(in_ct journalctl -u tcpreapd -o verbose TCPREAP_ACTION=reap "TCPREAP_NETNS=$server")
  grep -q '^ *TCPREAP_REMOTE=10\.78\.0\.2:' <<< "$fields" ||
    fail "no reap with TCPREAP_NETNS=$server and TCPREAP_REMOTE=10.78.0.2 in the journal:"$'\n'"$fields"
  echo "journal: reaped in TCPREAP_NETNS=$server"

  # As an operator would take it away again: the drop-in with scan: all.
  in_ct systemctl stop test-ns-server test-ns-client 2>/dev/null || true
  in_ct rm -r /etc/systemd/system/tcpreapd.service.d
  config <<< "$good"
  in_ct systemctl daemon-reload
  in_ct systemctl restart tcpreapd || fail "systemctl restart without the drop-in failed"
  pid=$(prop MainPID)
  proc_status=$(in_ct cat "/proc/$pid/status")
  [[ $(field CapEff) == 0000000000003000 ]] || fail "CapEff $(field CapEff) without the drop-in, not 0000000000003000"
  in_ct ip netns del "$client"
  in_ct ip netns del "$server"
}

dropin_sandbox
dropin_reap

# --- 7. purge -----------------------------------------------------------------------------
step "dpkg --purge"
in_ct dpkg --purge tcpreap > "$run/purge.log" 2>&1 || { cat "$run/purge.log" >&2; fail "dpkg --purge failed"; }
in_ct test ! -e /lib/systemd/system/tcpreapd.service || fail "the unit is still there"
in_ct test ! -e /etc/tcpreap || fail "/etc/tcpreap is still there"
[[ -z $(in_ct find /etc/systemd/system -name tcpreapd.service) ]] || fail "enablement links are left"
[[ $(prop LoadState) == not-found ]] || fail "systemd still knows the unit: LoadState $(prop LoadState)"
echo "purged: unit, config and enablement gone"
step "PASS"
