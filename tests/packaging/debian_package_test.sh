#!/bin/bash
# The Debian package, end to end:
#   debian_package_test.sh SOURCE_DIR
#
# 1. builds it with packaging/build-deb.sh from a copy of SOURCE_DIR, leaving
#    the checkout as it was;
# 2. lintian: no errors, no warnings;
# 3. the contents: programs, unit, conffile, man pages, docs, the unit's
#    all-namespaces drop-in (shipped, not in force), and dependencies that
#    dh_shlibdeps derived;
# 4. as root, installs it (unless a tcpreap package or /etc/tcpreap is
#    already there: an operator's install is never touched), checks the
#    installed config with tcpreapd --check-config and tcpreap check, finds
#    the man page, then purges it and checks nothing is left.
# Not root: step 4 is skipped, which fails under TCPREAP_REQUIRE_INTEGRATION=1.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 SOURCE_DIR" >&2; exit 2; }
src=$(cd "$1" && pwd)

step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

tmp=${TMPDIR:-/tmp}/debian_package_test.$$
installed_by_test=0
cleanup() {
    if [ "$installed_by_test" = 1 ] && dpkg-query -W tcpreap >/dev/null 2>&1; then
        echo "cleanup: purging the tcpreap package this test installed"
        dpkg --purge tcpreap >/dev/null || echo "cleanup: dpkg --purge tcpreap failed" >&2
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
rm -rf "$tmp"
mkdir -p "$tmp/out"

for tool in dpkg-buildpackage dh lintian dpkg-deb; do
    command -v "$tool" >/dev/null || fail "$tool not found (apt-get install dpkg-dev debhelper lintian)"
done

# The versions must agree: a native package's version is the project's.
cmake_version=$(sed -n 's/^project(tcpreap VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
deb_version=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)
[ "$cmake_version" = "$deb_version" ] ||
    fail "packaging/debian/changelog says $deb_version, CMakeLists.txt project() says $cmake_version"

# --- 1. build from a copy --------------------------------------------------
git_tree=0
if [ "$(git -C "$src" rev-parse --show-toplevel 2>/dev/null)" = "$src" ]; then
    git_tree=1
    git -C "$src" --no-optional-locks status --porcelain --untracked-files=all > "$tmp/status.before"
fi

step "building the package from a copy of $src"
start=$SECONDS
if ! TMPDIR=$tmp "$src/packaging/build-deb.sh" "$tmp/out" "$src" > "$tmp/build.log" 2>&1; then
    tail -n 40 "$tmp/build.log" >&2
    fail "packaging/build-deb.sh failed (the last 40 lines of its output are above)"
fi
echo "built in $((SECONDS - start)) s:"
ls "$tmp/out"
deb=$tmp/out/tcpreap_${deb_version}_$(dpkg --print-architecture).deb
changes=$tmp/out/tcpreap_${deb_version}_$(dpkg --print-architecture).changes
[ -f "$deb" ] || fail "no $(basename "$deb") was built"
[ -f "$changes" ] || fail "no $(basename "$changes") was written"

if [ "$git_tree" = 1 ]; then
    git -C "$src" --no-optional-locks status --porcelain --untracked-files=all > "$tmp/status.after"
    diff -u "$tmp/status.before" "$tmp/status.after" >&2 ||
        fail "the build changed the checkout's git status (diff above)"
    echo "the checkout's git status is unchanged"
fi

# --- 2. lintian ------------------------------------------------------------
step "lintian (errors and warnings fail; info tags are shown)"
# lintian warns on stderr when run as root; that line is not a finding.
lintian_rc=0
lintian --display-info --fail-on error,warning "$changes" > "$tmp/lintian.out" 2>&1 || lintian_rc=$?
grep -v 'running with root privileges' "$tmp/lintian.out" || true
[ "$lintian_rc" = 0 ] || fail "lintian reported errors or warnings (above), exit status $lintian_rc"
echo "lintian: no errors, no warnings"

# --- 3. contents and control -----------------------------------------------
step "contents"
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' > "$tmp/contents"
for path in /usr/sbin/tcpreapd /lib/systemd/system/tcpreapd.service /etc/tcpreap/tcpreap.yaml \
            /usr/share/man/man8/tcpreapd.8.gz /usr/share/man/man8/tcpreap.8.gz \
            /usr/share/man/man5/tcpreap.yaml.5.gz /usr/share/doc/tcpreap/copyright \
            /usr/share/doc/tcpreap/changelog.gz /usr/share/doc/tcpreap/examples/zookeeper.yaml \
            /usr/share/tcpreap/systemd/all-namespaces.conf; do
    grep -qxF "$path" "$tmp/contents" || fail "the package lacks $path"
done
grep -qxE '/usr/s?bin/tcpreap' "$tmp/contents" || fail "the package lacks /usr/sbin/tcpreap (or /usr/bin/tcpreap)"
grep -qxE '/usr/share/doc/tcpreap/README\.md(\.gz)?' "$tmp/contents" || fail "the package lacks the README"
if grep -E '^/usr/(local|lib/systemd)/' "$tmp/contents"; then
    fail "files under /usr/local or /usr/lib/systemd (above): Debian 12 wants /usr and /lib/systemd/system"
fi
# The drop-in for namespaces: {scan: all} is shipped for the operator to
# copy, never in force by itself: nothing in a drop-in directory of the unit.
if grep -E '/tcpreapd\.service\.d(/|$)' "$tmp/contents"; then
    fail "a drop-in directory of tcpreapd.service is in the package (above): all-namespaces.conf must not apply by itself"
fi
dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/share/tcpreap/systemd/all-namespaces.conf |
    cmp -s - "$src/systemd/all-namespaces.conf" ||
    fail "the package's all-namespaces.conf differs from systemd/all-namespaces.conf"
echo "$(wc -l < "$tmp/contents") entries, every expected file present"

step "control"
mkdir "$tmp/control"
dpkg-deb -e "$deb" "$tmp/control"
grep -qxF /etc/tcpreap/tcpreap.yaml "$tmp/control/conffiles" ||
    fail "/etc/tcpreap/tcpreap.yaml is not a conffile; conffiles: $(cat "$tmp/control/conffiles")"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in libmnl0 libyaml-cpp libprometheus-cpp libsystemd0; do
    [[ "$depends" == *"$lib"* ]] || fail "Depends lacks $lib"
done
# They must come from dh_shlibdeps, not from a hand-written list.
control_depends=$(sed -n '/^Package: tcpreap$/,/^$/s/^Depends: *//p' "$src/packaging/debian/control")
[ "$control_depends" = '${shlibs:Depends}, ${misc:Depends}' ] ||
    fail "debian/control's Depends should be \${shlibs:Depends}, \${misc:Depends}, not: $control_depends"
# dh_installsystemd: enabled and started on install, restarted on upgrade.
grep -q "deb-systemd-helper enable 'tcpreapd.service'" "$tmp/control/postinst" ||
    fail "the postinst does not enable tcpreapd.service"
grep -q "deb-systemd-invoke \$_dh_action 'tcpreapd.service'" "$tmp/control/postinst" ||
    fail "the postinst does not start tcpreapd.service"
echo "conffile, derived dependencies and the systemd maintainer scripts are there"

# --- 4. install, use, purge ------------------------------------------------
step "install"
if [ "$(id -u)" != 0 ]; then
    [ "${TCPREAP_REQUIRE_INTEGRATION:-0}" != 1 ] || fail "installing the package needs root"
    echo "SKIP: installing the package needs root"
    exit 0
fi
status=$(dpkg-query -W -f='${db:Status-Status}' tcpreap 2>/dev/null || true)
if [ -n "$status" ] && [ "$status" != not-installed ]; then
    echo "SKIP: a tcpreap package is already on this machine ($status): an operator's install is never touched"
    exit 0
fi
if [ -e /etc/tcpreap ]; then
    echo "SKIP: /etc/tcpreap already exists: an operator's config is never touched"
    exit 0
fi

installed_by_test=1
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" > "$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log" >&2
    fail "dpkg -i failed (a missing dependency? apt-get install -f)"
}
[ "$(dpkg-query -W -f='${db:Status-Abbrev}' tcpreap)" = "ii " ] ||
    fail "tcpreap is not fully installed: $(dpkg-query -W -f='${Status}' tcpreap)"
if [ -d /run/systemd/system ]; then
    echo "systemd is PID 1: the postinst started tcpreapd.service"
else
    echo "PID 1 is not systemd: deb-systemd-invoke did not start the service (expected here)"
fi
# Enabled: deb-systemd-helper made the [Install] links (it answers queries
# only from maintainer scripts, so the links are looked at directly).
enabled_links() { find /etc/systemd/system -name tcpreapd.service -type l 2>/dev/null; }
[ -n "$(enabled_links)" ] || fail "tcpreapd.service is not enabled after install (no link under /etc/systemd/system)"
echo "enabled: $(enabled_links | tr '\n' ' ')"

check=$(/usr/sbin/tcpreapd --check-config 2>&1) ||
    fail "/usr/sbin/tcpreapd --check-config on the installed config failed: $check"
echo "tcpreapd --check-config: $check"
grep -qw valid <<<"$check" || fail "tcpreapd --check-config did not say the config is valid"
tcpreap_bin=$(dpkg -L tcpreap | grep -xE '/usr/s?bin/tcpreap')
"$tcpreap_bin" check > "$tmp/check.out" 2>&1 || { cat "$tmp/check.out" >&2; fail "tcpreap check on the installed config failed"; }
echo "tcpreap check: $(head -n 1 "$tmp/check.out")"
version=$(/usr/sbin/tcpreapd --version)
[[ "$version" == *"$deb_version"* ]] || fail "tcpreapd --version says '$version', not $deb_version"
# The build's copy has no .git: build-deb.sh hands the revision in.
if revision=$(git -C "$src" rev-parse --short=12 HEAD 2>/dev/null); then
    [[ "$version" == *"($revision)"* ]] || fail "tcpreapd --version says '$version', not revision $revision"
fi
echo "tcpreapd --version: $version"
man_page=$(man -w tcpreapd 2>&1) || fail "man -w tcpreapd: $man_page"
echo "man -w tcpreapd: $man_page"

step "purge"
dpkg --purge tcpreap > "$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log" >&2; fail "dpkg --purge tcpreap failed"; }
installed_by_test=0
[ ! -e /etc/tcpreap ] || fail "/etc/tcpreap is still there after dpkg --purge"
[ -z "$(enabled_links)" ] || fail "tcpreapd.service links are still there after dpkg --purge: $(enabled_links)"
[ ! -e /usr/sbin/tcpreapd ] || fail "/usr/sbin/tcpreapd is still there after dpkg --purge"
echo "purged: /etc/tcpreap and the unit's enablement are gone"
echo "PASS"
