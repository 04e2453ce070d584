#!/usr/bin/env bash
# Prepares a checkout to run the calls module: the mediasoup worker (built once, cached outside the
# clone), the npm dependencies (only when package-lock.json changed) and the compiled app.
# Usage: libs/calls/scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

log() { printf '[setup] %s\n' "$*" >&2; }

worker="$(bash libs/calls/scripts/ensure-mediasoup-worker.sh | tail -n 1)"
# mediasoup's postinstall skips its download/build when this is set; the app spawns this binary.
export MEDIASOUP_WORKER_BIN="$worker"

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
# Also place the worker where mediasoup looks by default, so plain `node dist/src/main.js` works.
bash libs/calls/scripts/ensure-mediasoup-worker.sh --link node_modules >/dev/null

if [[ "${1:-}" != "--no-build" ]]; then
  log "building"
  npx nest build
fi
log "ready [worker=$worker]"
