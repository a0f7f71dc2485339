#!/usr/bin/env bash
# Builds the dashboard (web/) into OUT_DIR with Vite; installs npm packages from
# web/package-lock.json first when they are missing or stale. Called by the CMake build.
set -euo pipefail
out_dir=$1
cd "$(dirname "$0")/../web"
if ! command -v npm >/dev/null; then
  echo "build-web: npm is missing; run scripts/install-deps.sh build (or make build)" >&2
  exit 1
fi
stamp=node_modules/.omniflow-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
node node_modules/typescript/bin/tsc --noEmit -p .
node node_modules/vite/bin/vite.js build --logLevel warn --outDir "$out_dir" --emptyOutDir
