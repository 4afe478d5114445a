#!/usr/bin/env bash
# Installs the Debian packages hooksim needs (only the missing ones) and
# builds it with CMake into build/. Sourced by scripts/run.sh and
# scripts/test.sh; safe to run again (it only does what is missing).
set -euo pipefail

HOOKSIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOOKSIM_BUILD="${HOOKSIM_BUILD:-$HOOKSIM_ROOT/build}"

packages=(
  build-essential cmake pkg-config
  libcpp-httplib-dev nlohmann-json3-dev libboost-program-options-dev
  libboost-dev  # Boost.Beast (header-only): the receiver's request framing
  libvalijson-dev rapidjson-dev  # rapidjson: the payload check's fast path
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev libssl-dev
  prometheus-cpp-dev  # /metrics: registry, metric families, text format
  libpq-dev  # the PostgreSQL state (--state postgres://...): libpq
  postgresql  # its tests and scripts/fleet.sh: a throwaway cluster (initdb, pg_ctl)
  nginx  # scripts/fleet.sh: receivers behind hash $http_webhook_id consistent
  curl python3-requests  # the example senders run by hooksim conform's tests
  chromium fonts-dejavu-core  # tests/html: the HTML reports in headless Chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "hooksim: installing missing Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "hooksim: need root to install packages (or install them yourself)" >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

jobs="$(nproc 2>/dev/null || echo 2)"
mkdir -p "$HOOKSIM_BUILD"
log="$HOOKSIM_BUILD/build.log"
echo "hooksim: building in $HOOKSIM_BUILD (log: $log)" >&2
if ! { cmake -S "$HOOKSIM_ROOT" -B "$HOOKSIM_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
       cmake --build "$HOOKSIM_BUILD" -j "$jobs"; } >"$log" 2>&1; then
  tail -n 60 "$log" >&2
  echo "hooksim: build failed (full log: $log)" >&2
  exit 2
fi
