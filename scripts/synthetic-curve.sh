#!/bin/sh
# An "observed" adoption curve made by pioneer itself, at parameter values a calibration is then
# asked to find again (docs/analysis.md): run 0 of SCENARIO with the given [params] lines, its
# share of units adopted at the end of each year, as `year,share` from the scenario's start_year.
#
#   scripts/synthetic-curve.sh scenarios/baseline.toml data/observed/baseline-synthetic.csv \
#       'gamma_g = 6' 'theta_hi = 0.7'
#
# PIONEER names the binary (default: target/release/pioneer, built if missing).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 SCENARIO OUT.csv 'param = value'..." >&2; exit 2; }
scenario=$1; out=$2; shift 2
bin=${PIONEER:-target/release/pioneer}
[ -x "$bin" ] || cargo build --release --quiet
grep -q '^\[params\]' "$scenario" && { echo "$scenario already has a [params] table" >&2; exit 2; }
start=$(sed -n 's/^start_year *= *\([0-9]*\).*/\1/p' "$scenario")
[ -n "$start" ] || { echo "$scenario has no start_year" >&2; exit 2; }
# The copy sits beside the scenario, so that world files given by relative paths are found.
copy=$(dirname "$scenario")/.synthetic-$$.toml
work=$(mktemp -d)
trap 'rm -rf "$copy" "$work"' EXIT
{ cat "$scenario"; printf '\n[params]\n'; for p in "$@"; do printf '%s\n' "$p"; done; } > "$copy"
"$bin" run "$copy" --replicates 1 --backend cpu --out "$work/run" > /dev/null 2>&1
awk -F, -v start="$start" '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; print "year,share"; next }
  $col["run"] == 0 && $col["innovation"] == 0 && $col["month"] % 12 == 0 {
    print start + $col["month"] / 12 - 1 "," $col["share"]
  }' "$work/run/steps.csv" > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out ($(($(wc -l < "$out") - 1)) years)"
