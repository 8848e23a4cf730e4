#!/bin/bash
# Builds the tcpreap Debian package from a checkout without touching it.
#
#   packaging/build-deb.sh OUTDIR [SOURCE_DIR]
#
# SOURCE_DIR (default: the checkout holding this script) is copied into a
# temporary directory - in a git work tree its tracked and untracked but not
# ignored files (`git ls-files -co --exclude-standard`), otherwise everything
# but .git, build*/ and debian/ - packaging/debian becomes debian/ there, and
# `dpkg-buildpackage -us -uc -b` builds it. The .deb files, .changes and
# .buildinfo land in OUTDIR; their paths are printed last. JOBS (default
# auto) is passed to dpkg-buildpackage -j; TCPREAP_REVISION (default: the
# checkout's git revision) names the build in `tcpreapd --version`. Needs the Build-Depends of
# packaging/debian/control, dpkg-dev and debhelper.
set -euo pipefail

die() { echo "build-deb: $*" >&2; exit 1; }

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 OUTDIR [SOURCE_DIR]" >&2; exit 2; }
src=${2:-$(dirname "$0")/..}
src=$(cd "$src" && pwd) || die "no such directory: ${2:-}"
[ -f "$src/packaging/debian/control" ] || die "$src has no packaging/debian/control"
mkdir -p "$1"
out=$(cd "$1" && pwd)
command -v dpkg-buildpackage >/dev/null || die "dpkg-buildpackage not found (apt-get install dpkg-dev debhelper)"

work=$(mktemp -d "${TMPDIR:-/tmp}/tcpreap-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT

version=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)
tree=$work/tcpreap-$version
mkdir "$tree"

if [ "$(git -C "$src" rev-parse --show-toplevel 2>/dev/null)" = "$src" ]; then
    # The checkout as it is, local changes included; a tracked file deleted
    # in the work tree is left out.
    git -C "$src" ls-files -co --exclude-standard -z |
        (cd "$src" && while IFS= read -r -d '' f; do
            if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
        done) |
        tar -C "$src" --null --no-recursion -T - -cf - | tar -C "$tree" -xf -
else
    tar -C "$src" --anchored --exclude=./.git --exclude='./build*' --exclude=./debian \
        --exclude='./obj-*' -cf - . | tar -C "$tree" -xf -
fi

rm -rf "$tree/debian"
cp -r "$tree/packaging/debian" "$tree/debian"
# The copy has no .git: tell the build which revision it is (debian/rules).
if [ -z "${TCPREAP_REVISION:-}" ]; then
    TCPREAP_REVISION=$(git -C "$src" rev-parse --short=12 HEAD 2>/dev/null || true)
fi
export TCPREAP_REVISION
(cd "$tree" && dpkg-buildpackage -us -uc -b -j"${JOBS:-auto}") || die "dpkg-buildpackage failed"

shopt -s nullglob
artifacts=("$work"/*.deb "$work"/*.ddeb "$work"/*.changes "$work"/*.buildinfo)
[ ${#artifacts[@]} -gt 0 ] || die "dpkg-buildpackage produced nothing in $work"
for f in "${artifacts[@]}"; do
    mv -f "$f" "$out/"
    echo "$out/$(basename "$f")"
done
