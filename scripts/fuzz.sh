#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*_fuzz.cc) with clang in build-fuzz/
# (-DHOOKSIM_FUZZ=ON: every source instrumented for libFuzzer, ASan and
# UBSan) and runs each for a given time, one after the other, nice'd.
# Usage: scripts/fuzz.sh [TARGET...] [--time S] [--jobs N] [--build-only]
#   TARGET   scenario_fuzz behavior_fuzz payload_fuzz receiver_request_fuzz
#            (default: all of them)
#   --time S seconds per target (default 60)
#   --build-only  build, run nothing
# Corpora: the seeds in fuzz/corpus/TARGET/ (in git) are read; new inputs go
# to build-fuzz/corpus/TARGET/ (not in git). A crash or timeout input is
# written to build-fuzz/artifacts/TARGET/; keep it as a regression input in
# fuzz/regressions/TARGET/ (tests/fuzz_regression_test.cc replays them).
# Prints, per target, libFuzzer's final executions (number_of_executed_units)
# and coverage (cov: edges, ft: features) from -print_final_stats=1.
# Installs clang and libclang-rt-14-dev with apt-get when missing (needs
# root then). Exit: 0 when every target ran clean, 1 when one found a
# crash, 2 on bad usage or a failed build.
set -euo pipefail

HOOKSIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$HOOKSIM_ROOT/build-fuzz"
all_targets=(scenario_fuzz behavior_fuzz payload_fuzz receiver_request_fuzz)
targets=()
seconds=60
jobs="${HOOKSIM_JOBS:-2}"
build_only=0

while (($#)); do
  case "$1" in
    --time) [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --time needs seconds, got '${2:-}'" >&2; exit 2; }
            seconds="$2"; shift 2 ;;
    --jobs) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --jobs needs a number, got '${2:-}'" >&2; exit 2; }
            jobs="$2"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    -h | --help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option '$1'" >&2; exit 2 ;;
    *)
      found=0
      for t in "${all_targets[@]}"; do [[ "$t" == "$1" ]] && found=1; done
      ((found)) || { echo "fuzz.sh: unknown target '$1' (${all_targets[*]})" >&2; exit 2; }
      targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")

missing=()
for p in clang libclang-rt-14-dev; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "fuzz.sh: installing ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "fuzz.sh: need root to install ${missing[*]} (or install them yourself)" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

mkdir -p "$build"
log="$build/fuzz-build.log"
echo "fuzz.sh: building in $build (log: $log)" >&2
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if ! { cmake -S "$HOOKSIM_ROOT" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DCMAKE_CXX_COMPILER=clang++ -DHOOKSIM_FUZZ=ON \
         -DHOOKSIM_BUILD_TESTS=OFF -DHOOKSIM_BUILD_BENCH=OFF "${launcher[@]}" &&
       cmake --build "$build" -j "$jobs" --target "${targets[@]}"; } >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "fuzz.sh: build failed (full log: $log)" >&2
  exit 2
fi
((build_only)) && exit 0

status=0
summary=()
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  artifacts="$build/artifacts/$t/"
  mkdir -p "$corpus" "$artifacts"
  seeds=()
  [[ -d "$HOOKSIM_ROOT/fuzz/corpus/$t" ]] && seeds+=("$HOOKSIM_ROOT/fuzz/corpus/$t")
  [[ -d "$HOOKSIM_ROOT/fuzz/regressions/$t" ]] && seeds+=("$HOOKSIM_ROOT/fuzz/regressions/$t")
  run_log="$build/$t.log"
  echo "fuzz.sh: running $t for ${seconds}s (log: $run_log)" >&2
  dict=()
  [[ -f "$HOOKSIM_ROOT/fuzz/$t.dict" ]] && dict=(-dict="$HOOKSIM_ROOT/fuzz/$t.dict")
  rc=0
  ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
    nice -n 19 "$build/$t" -max_total_time="$seconds" -print_final_stats=1 \
      -timeout=60 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$artifacts" "${dict[@]}" "$corpus" "${seeds[@]}" \
      >"$run_log" 2>&1 || rc=$?
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$run_log" | tail -1 | grep -o '[0-9]*$' || true)"
  last="$(grep -E '^#[0-9]+' "$run_log" | tail -1 || true)"
  cov="$(grep -o 'cov: [0-9]*' <<<"$last" | tail -1 || true)"
  ft="$(grep -o 'ft: [0-9]*' <<<"$last" | tail -1 || true)"
  corp="$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' <<<"$last" | tail -1 || true)"
  if ((rc == 0)); then
    summary+=("$t: ${seconds}s, executions ${execs:-?}, ${cov:-cov: ?}, ${ft:-ft: ?}, ${corp:-corp: ?}")
  else
    summary+=("$t: FOUND A PROBLEM (exit $rc; artifacts in $artifacts; log $run_log), executions ${execs:-?}")
    status=1
  fi
done
printf 'fuzz.sh: %s\n' "${summary[@]}"
exit "$status"
