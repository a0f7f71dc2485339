#!/usr/bin/env bash
# Installs the official openai npm client from package-lock.json (when missing or stale) and runs
# openai.test.mjs against OMNIFLOW_BINARY. Registered in CMake as OpenAiClient.Capture.
set -euo pipefail
binary=$(realpath "${1:?usage: run.sh OMNIFLOW_BINARY}")
cd "$(dirname "$0")"
stamp=node_modules/.omniflow-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
exec node openai.test.mjs "$binary"
