#!/usr/bin/env bash
# Golden test: the outputs of the bundled scenarios in virtual time must not
# change. Regenerates them with the given hooksim binary and compares them
# byte for byte with the files in this folder.
#
#   bash tests/golden/check.sh HOOKSIM            compare (exit 1 on any diff)
#   bash tests/golden/check.sh HOOKSIM --update   rewrite the golden files
#
# Runs from the source directory with relative paths (scenarios/...), so no
# absolute path of a clone enters the files. The one machine-dependent value,
# "wall_seconds" in --report-json (wall time of the run), is replaced by 0.
#
# Files:
#   run-scenarios-seed5-trace.txt   stdout of `hooksim run scenarios --seed 5 --trace`
#   report-scenarios-seed5.json     its --report-json (wall_seconds normalised)
#   fingerprints.txt                "seed name fingerprint" of every bundled
#                                   scenario for seeds 1..20 (from --report-json)
#   run-failing-seed5.txt           stdout of `hooksim run examples/failing --seed 5`
#   report-failing-seed5.json       its --report-json (wall_seconds normalised)
#   exit-codes.txt                  the exit code of each of those runs
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: check.sh HOOKSIM [--update]" >&2
  exit 2
fi
hooksim="$1"
update=0
if [ "${2:-}" = "--update" ]; then update=1; elif [ -n "${2:-}" ]; then
  echo "check.sh: unknown argument '$2'" >&2; exit 2
fi
case "$hooksim" in /*) ;; *) hooksim="$PWD/$hooksim" ;; esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/../.."   # the source directory: paths in the outputs are relative
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

normalise() {  # wall time of a run differs on every machine and every run
  sed -E 's/("wall_seconds": )[-+0-9.eE]+/\10/' "$1"
}

codes="$out/exit-codes.txt"
: >"$codes"
run() {  # run NAME ARGS...: stdout to $out/NAME, exit code appended to codes
  local name="$1"; shift
  local rc=0
  "$hooksim" "$@" >"$out/$name" 2>"$out/$name.stderr" || rc=$?
  echo "$name $rc" >>"$codes"
}

run run-scenarios-seed5-trace.txt run scenarios --seed 5 --trace \
  --report-json "$out/r.json"
normalise "$out/r.json" >"$out/report-scenarios-seed5.json"

run run-failing-seed5.txt run examples/failing --seed 5 \
  --report-json "$out/f.json"
normalise "$out/f.json" >"$out/report-failing-seed5.json"

: >"$out/fingerprints.txt"
for seed in $(seq 1 20); do
  run "seed$seed.txt" run scenarios --seed "$seed" --report-json "$out/s.json"
  # Pretty-printed with sorted keys: "fingerprint" precedes "name".
  awk -v seed="$seed" '
    /^      "fingerprint": / { gsub(/[",]/, "", $2); fp = $2 }
    /^      "name": /        { sub(/^      "name": "/, ""); sub(/",$/, "");
                               print seed, $0, fp }' "$out/s.json" \
    >>"$out/fingerprints.txt"
done

files=(run-scenarios-seed5-trace.txt report-scenarios-seed5.json
       run-failing-seed5.txt report-failing-seed5.json fingerprints.txt
       exit-codes.txt)
if [ "$update" = 1 ]; then
  for f in "${files[@]}"; do cp "$out/$f" "$here/$f"; done
  echo "check.sh: golden files rewritten in $here"
  exit 0
fi
failed=0
for f in "${files[@]}"; do
  if ! cmp -s "$here/$f" "$out/$f"; then
    echo "golden: $f differs (first lines of the diff):" >&2
    diff "$here/$f" "$out/$f" | head -20 >&2 || true
    failed=1
  fi
done
if [ "$failed" = 1 ]; then
  echo "golden: outputs changed; if the change is intended, run" >&2
  echo "  bash tests/golden/check.sh build/hooksim --update" >&2
  exit 1
fi
echo "golden: ${#files[@]} files identical"
