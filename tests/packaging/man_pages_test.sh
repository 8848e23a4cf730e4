#!/bin/bash
# man_pages_test.sh SOURCE_DIR BINARY_DIR TCPREAPD_BIN TCPREAP_BIN
#
# The man pages are built, render without groff warnings, have a whatis line,
# and keep up with the code: every option the programs' --help prints, every
# metric the daemon exports, every config key the loader accepts and every
# exit code of tcpreap is documented. What is checked is read from the
# programs and the source, so a flag, metric, key or exit code added without
# documentation fails here.
set -euo pipefail

if [[ $# -ne 4 ]]; then
  echo "usage: $0 SOURCE_DIR BINARY_DIR TCPREAPD_BIN TCPREAP_BIN" >&2
  exit 2
fi
source_dir=$1
binary_dir=$2
tcpreapd_bin=$3
tcpreap_bin=$4
man_dir=$binary_dir/daemon/man

export LC_ALL=C.UTF-8 MANWIDTH=80

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

for tool in man lexgrog; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAIL: '$tool' not found (apt-get install man-db)" >&2
    exit 1
  fi
done

# The page's text as roff source, with scdoc's escapes taken out, so that
# "--config" and "tcpreap_scans_total" can be searched for literally (a
# rendered page would hyphenate and break long words).
page_text() {
  sed -e 's/\\-/-/g' -e 's/\\&//g' -e 's/\\(aq/'"'"'/g' -e 's/\\f[BIRP]//g' -e 's/\\e/\\/g' "$1"
}

# Whether `word` occurs in `text` as a whole word: not inside a longer
# option, metric or key name.
has_word() {
  local text=$1 word=$2
  grep -qE -- "(^|[^A-Za-z0-9_-])${word//./\\.}([^A-Za-z0-9_-]|$)" <<<"$text"
}

# --- 1. Built, clean, with a whatis line ----------------------------------
pages=(tcpreapd.8 tcpreap.8 tcpreap.yaml.5)
declare -A text
for page in "${pages[@]}"; do
  path=$man_dir/$page
  if [[ ! -s $path ]]; then
    fail "$path was not built (is scdoc installed? apt-get install scdoc, then run cmake again)"
    continue
  fi
  warnings=$(man --warnings -E UTF-8 -l -Tutf8 "$path" 2>&1 >/dev/null) || fail "$page: man could not render it"
  if [[ -n $warnings ]]; then
    fail "$page: groff warnings:"
    echo "$warnings" | sed 's/^/    /' >&2
  fi
  whatis=$(lexgrog "$path" 2>&1) || true
  name=${page%.*}
  if ! grep -qF "\"$name - " <<<"$whatis"; then
    fail "$page: lexgrog finds no whatis line '$name - ...' (got: $whatis)"
  fi
  text[$page]=$(page_text "$path")
done
if [[ $failures -gt 0 && ${#text[@]} -lt ${#pages[@]} ]]; then
  echo "man_pages_test: $failures failure(s); pages missing, the rest is not checked" >&2
  exit 1
fi

# --- 2. Every option of every --help --------------------------------------
# Long options anywhere in the help (usage line included); short options
# where an option list names them ("  -c, --config").
long_options() { grep -oE -- '(^|[^A-Za-z0-9-])--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }
short_options() { grep -oE -- '^ +-[A-Za-z0-9],' | grep -oE -- '-[A-Za-z0-9]' | sort -u; }

check_options() {  # page, what, help text
  local page=$1 what=$2 help=$3 opt n=0
  for opt in $(long_options <<<"$help") $(short_options <<<"$help"); do
    n=$((n + 1))
    has_word "${text[$page]}" "$opt" || fail "$page does not document option $opt of '$what'"
  done
  [[ $n -gt 0 ]] || fail "no options found in the help of '$what' (did its format change?)"
}

help=$("$tcpreapd_bin" --help)
check_options tcpreapd.8 "tcpreapd --help" "$help"

help=$("$tcpreap_bin" --help)
check_options tcpreap.8 "tcpreap --help" "$help"
# The commands: the lines under "Commands:" up to the blank line.
commands=$(sed -n '/^Commands:/,/^$/p' <<<"$help" | grep -oE '^  [a-z]+ ' | tr -d ' ') || true
[[ -n $commands ]] || fail "no commands found in 'tcpreap --help' (did its format change?)"
for cmd in $commands; do
  has_word "${text[tcpreap.8]}" "tcpreap $cmd" || fail "tcpreap.8 does not document the command 'tcpreap $cmd'"
  check_options tcpreap.8 "tcpreap $cmd --help" "$("$tcpreap_bin" "$cmd" --help)"
done
for cmd in list check reap kill; do
  grep -qx "$cmd" <<<"$commands" || fail "'tcpreap --help' does not list the command '$cmd'"
done

# --- 3. Every metric ------------------------------------------------------
# tcpreap's own families, and the standard process_* ones it exports too.
metrics=$(grep -ohE '"(tcpreap|process)_[a-z_]*"' "$source_dir"/lib/metrics/*.cpp | tr -d '"' | sort -u) || true
[[ $(wc -l <<<"$metrics") -ge 10 ]] || fail "found only $(wc -l <<<"$metrics") metric names in lib/metrics/*.cpp"
for metric in $metrics; do
  has_word "${text[tcpreapd.8]}" "$metric" || fail "tcpreapd.8 does not document the metric $metric"
done

# --- 4. Every config key --------------------------------------------------
# The schema (config_schema.cpp) lists the keys each map accepts in `constexpr KeySpec kXKeys[]`
# arrays, aliases included: {"local_port", "local_ports"}.
loader=$source_dir/lib/config/config_schema.cpp
keys=$(sed -n '/constexpr KeySpec k[A-Za-z]*Keys\[\] *=/,/};/p' "$loader" | grep -oE '\{"[a-z_]+"' | tr -d '{"' | sort -u) || true
[[ $(wc -l <<<"$keys") -ge 20 ]] || fail "found only $(wc -l <<<"$keys") config keys in $loader (did the KeySpec tables change?)"
for key in $keys; do
  has_word "${text[tcpreap.yaml.5]}" "$key" || fail "tcpreap.yaml.5 does not document the config key '$key'"
done

# --- 5. Every exit code, in EXIT STATUS -----------------------------------
codes=$(grep -oE 'constexpr int k[A-Za-z]+ = [0-9]+' "$source_dir/daemon/program/exit_codes.h" | awk '{print $NF}' | sort -un) || true
[[ $(wc -l <<<"$codes") -ge 4 ]] || fail "found only $(wc -l <<<"$codes") exit codes in daemon/program/exit_codes.h"
for page in tcpreap.8 tcpreapd.8; do
  # The section, from its .SH to the next; each code is a term of its own.
  section=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' <<<"${text[$page]}")
  if [[ -z $section ]]; then
    fail "$page has no EXIT STATUS section"
    continue
  fi
  for code in $codes; do
    grep -qx "$code" <<<"$section" || fail "$page: exit code $code is not described in EXIT STATUS"
  done
done

if [[ $failures -gt 0 ]]; then
  echo "man_pages_test: $failures failure(s)" >&2
  exit 1
fi
echo "man_pages_test: ok (${#pages[@]} pages; $(wc -w <<<"$metrics") metrics, $(wc -w <<<"$keys") config keys, exit codes $(echo $codes))"
