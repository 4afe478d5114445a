#!/usr/bin/env bash
# The main job: install what is missing, build, and run every bundled
# scenario in virtual time. Extra arguments go to `hooksim run` (e.g.
# --junit report.xml, --trace). Exit code: hooksim's (0 all passed).
set -euo pipefail
HOOKSIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$HOOKSIM_ROOT/scripts/setup.sh"
exec "$HOOKSIM_BUILD/hooksim" run "$HOOKSIM_ROOT/scenarios" "$@"
