#!/bin/bash
# packaging/prometheus/: the scrape config and the alert rules pass promtool
# (Debian's prometheus package), the rules' unit tests pass, and every
# tcpreap_* metric the files name is one the daemon exports.
#
#   prometheus_rules_test.sh SOURCE_DIR
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 SOURCE_DIR" >&2
  exit 2
fi
src=$1
dir=$src/packaging/prometheus
metrics_source=$src/lib/metrics/daemon_metrics.cpp

if ! command -v promtool > /dev/null; then
  echo "prometheus_rules_test: promtool not found (apt-get install prometheus)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# promtool resolves rule_files against the config file's directory: the
# copies keep the files side by side, as in packaging/prometheus/.
cp "$dir/prometheus.yml" "$dir/tcpreap-rules.yml" "$dir/tcpreap-rules.test.yml" "$work/"

# Debian builds Prometheus without Kubernetes service discovery, so its
# promtool rejects kubernetes_sd_configs as an unknown field. There, the
# Kubernetes job is checked with a static target in place of its discovery
# block: the rest of the job, its relabeling included, is still checked.
printf 'scrape_configs:\n  - job_name: probe\n    kubernetes_sd_configs: [{role: pod}]\n' > "$work/probe.yml"
if ! promtool check config "$work/probe.yml" > /dev/null 2>&1; then
  echo "note: this promtool has no Kubernetes service discovery; checking the" \
       "kubernetes_sd_configs job with a static stand-in target"
  awk '
    skip && $0 !~ /^[[:space:]]*$/ {
      match($0, /^ */)
      if (RLENGTH < indent || (RLENGTH == indent && $0 !~ /^ *- /)) skip = 0
    }
    skip { next }
    /^ *kubernetes_sd_configs:/ {
      match($0, /^ */); indent = RLENGTH
      print substr($0, 1, indent) "static_configs: [{targets: [\"kubernetes-sd-stand-in:10126\"]}]"
      skip = 1; next
    }
    { print }' "$dir/prometheus.yml" > "$work/prometheus.yml"
  if cmp -s "$dir/prometheus.yml" "$work/prometheus.yml"; then
    echo "prometheus_rules_test: expected a kubernetes_sd_configs job in prometheus.yml" >&2
    exit 1
  fi
fi

(cd "$work" && promtool check config prometheus.yml)
(cd "$work" && promtool check rules tcpreap-rules.yml)
(cd "$work" && promtool test rules tcpreap-rules.test.yml)

# Every tcpreap_* name in the rules and their tests is a metric the daemon
# registers (as a string literal in daemon_metrics.cpp), or one with the
# suffix Prometheus adds to a histogram's series.
names=$(grep -ohE 'tcpreap_[a-z_]+' "$dir/tcpreap-rules.yml" "$dir/tcpreap-rules.test.yml" | sort -u)
if [[ -z $names ]]; then
  echo "prometheus_rules_test: no tcpreap_* metric in the rules" >&2
  exit 1
fi
unknown=0
for name in $names; do
  found=0
  for base in "$name" "${name%_bucket}" "${name%_sum}" "${name%_count}"; do
    if grep -qF "\"$base\"" "$metrics_source"; then
      found=1
      break
    fi
  done
  if [[ $found -eq 0 ]]; then
    echo "prometheus_rules_test: $name is not a metric of $metrics_source" >&2
    unknown=1
  fi
done
[[ $unknown -eq 0 ]] || exit 1
echo "metric names: $(echo $names | wc -w) used, all exported by the daemon"
