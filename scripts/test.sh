#!/usr/bin/env bash
# The test job: install what is missing, build, and run every GoogleTest
# suite (and a tiny run of each benchmark program) through CTest.
set -euo pipefail
HOOKSIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$HOOKSIM_ROOT/scripts/setup.sh"
cd "$HOOKSIM_BUILD"
exec ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" "$@"
