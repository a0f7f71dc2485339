#!/usr/bin/env bash
# Installs the Debian packages omniflow needs to build, test and benchmark, and only those
# that are missing. Safe to run again: with everything present it does nothing.
set -euo pipefail

build=(g++ cmake ninja-build ccache pkg-config
       libboost1.74-dev libsimdjson-dev libsqlite3-dev libssl-dev libspdlog-dev libfmt-dev
       libcli11-dev libcurl4-openssl-dev libgtest-dev sqlite3 libpq-dev libphonenumber-dev
       libprotobuf-dev protobuf-compiler zlib1g-dev)
extra=()
# The dashboard (web/) is built with npm and Vite: Debian's nodejs and npm, only when no node or
# npm is on the PATH already (a newer Node from elsewhere is fine).
command -v node >/dev/null || extra+=(nodejs)
command -v npm >/dev/null || extra+=(npm)
case "${1:-build}" in
  build) ;;
  # chromium: the headless browser the dashboard tests drive (through npm's playwright-core);
  # fonts-droid-fallback: CJK glyphs, so its screenshots show Japanese text. postgresql: the
  # throwaway cluster of the PostgreSQL test pass (scripts/test-postgres.sh). prometheus: a real
  # Prometheus scrapes a test server's /metrics (tests/e2e_metrics_test.cpp).
  test) extra+=(python3 chromium fonts-droid-fallback postgresql prometheus) ;;
  postgres) extra+=(python3 postgresql) ;;
  bench) extra+=(python3 wrk curl nginx-light postgresql postgresql-contrib valgrind chromium fonts-droid-fallback) ;;
  *) echo "usage: $0 [build|test|postgres|bench]" >&2; exit 2 ;;
esac

missing=()
for pkg in "${build[@]}" "${extra[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
