#!/usr/bin/env bash
# Builds hooksim with sanitizers (the CMake option HOOKSIM_SANITIZE) and
# runs the whole test suite through CTest under each (the GoogleTest
# suites, the CLI tests that start the sanitized hooksim binary, the soak
# smoke test):
#   asan  AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer),
#         in build-asan/
#   tsan  ThreadSanitizer, in build-tsan/, with tests/tsan.supp (which only
#         covers the uninstrumented libcpp-httplib.so; see its comments)
# Usage: scripts/sanitize.sh [asan|tsan|all] [ctest arguments...]
#   e.g. scripts/sanitize.sh tsan -R 'Http'
# The variant defaults to all. Builds use HOOKSIM_JOBS jobs (default 2:
# sanitized builds are slow and memory-hungry). ASAN_OPTIONS, UBSAN_OPTIONS
# and TSAN_OPTIONS from the environment are appended to the defaults below
# (later options win). Every variant runs even when an earlier one fails.
# Exit code: 0 when every selected variant built and passed, 1 when a test
# failed or a sanitizer reported, 2 on bad usage or a failed build.
# CI (.ci/run) runs the asan variant after scripts/test.sh; run tsan by
# hand after touching threads, sockets or lifetimes.
set -euo pipefail

HOOKSIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="${HOOKSIM_JOBS:-2}"

variants=(asan tsan)
if (($# > 0)); then
  case "$1" in
    asan | tsan) variants=("$1"); shift ;;
    all) shift ;;
    -h | --help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) ;;  # hooksim_tests arguments, both variants.
    *) echo "sanitize.sh: unknown variant '$1' (asan, tsan or all)" >&2; exit 2 ;;
  esac
fi

# The CMake option value per variant; the build type adds -O1 -g, which
# keeps the runs bearable and the stacks readable.
option_for() {
  case "$1" in
    asan) echo address ;;
    tsan) echo thread ;;
  esac
}

build() {
  local variant="$1" dir="$HOOKSIM_ROOT/build-$1"
  local log="$dir/sanitize-build.log"
  mkdir -p "$dir"
  echo "sanitize.sh: building $variant in $dir (log: $log)" >&2
  local launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  if ! { cmake -S "$HOOKSIM_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Debug \
           -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
           -DHOOKSIM_SANITIZE="$(option_for "$variant")" "${launcher[@]}" &&
         cmake --build "$dir" -j "$jobs"; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "sanitize.sh: $variant build failed (full log: $log)" >&2
    return 2
  fi
}

run_tests() {
  local variant="$1" dir="$HOOKSIM_ROOT/build-$1"
  shift
  echo "sanitize.sh: running the test suite in $dir under $variant" >&2
  # The tests start build-*/hooksim as a child process too; it inherits
  # these options.
  cd "$dir"
  case "$variant" in
    asan)
      ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:strict_init_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
      UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
        ctest --output-on-failure -j "$jobs" "$@"
      ;;
    tsan)
      # halt_on_error=0: report every race of the run, then exit 66.
      TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 suppressions=$HOOKSIM_ROOT/tests/tsan.supp${TSAN_OPTIONS:+ $TSAN_OPTIONS}" \
        ctest --output-on-failure -j "$jobs" "$@"
      ;;
  esac
}

status=0
summary=()
for variant in "${variants[@]}"; do
  if ! build "$variant"; then
    summary+=("$variant: build failed")
    status=2
    continue
  fi
  if (run_tests "$variant" "$@"); then
    summary+=("$variant: passed")
  else
    summary+=("$variant: FAILED (exit $?)")
    ((status == 0)) && status=1
  fi
done

printf 'sanitize.sh: %s\n' "${summary[@]}" >&2
exit "$status"
