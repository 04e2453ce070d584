#!/usr/bin/env bash
# Prepares a checkout to run the calls module: the npm dependencies (only when package-lock.json
# changed), the mediasoup worker (see ensure-mediasoup-worker.sh: mediasoup's own, else built once
# against Debian's libraries; cached outside the clone) and the app with its calls page
# (`npm run build`: dist/src and dist/web).
# Usage: libs/calls/scripts/setup.sh [--no-build]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

log() { printf '[setup] %s\n' "$*" >&2; }

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  if [[ -L node_modules ]]; then
    # npm ci would replace the link with a directory and empty the install it points to (one shared
    # by several checkouts, say): leave that install to whoever owns it.
    log "WARNING: package-lock.json is newer than node_modules, a link to $(readlink node_modules); not running npm ci through the link (run it there if the dependencies changed)"
  else
    log "installing dependencies (npm ci)"
    # mediasoup's postinstall would download or build its worker here, and fail the whole install
    # where it cannot; ensure-mediasoup-worker.sh below runs that same install itself (cached, and
    # skipped at once when mediasoup's download site does not answer), so npm ci skips it.
    MEDIASOUP_WORKER_BIN="${MEDIASOUP_WORKER_BIN:-provided-by-ensure-mediasoup-worker.sh}" \
      npm ci --no-audit --no-fund
  fi
fi
# The worker, also placed where mediasoup looks by default, so plain `node dist/src/main.js` finds it.
worker="$(bash libs/calls/scripts/ensure-mediasoup-worker.sh --link node_modules | tail -n 1)"

if [[ "${1:-}" != "--no-build" ]]; then
  log "building the app and its calls page (npm run build)"
  npm run --silent build
fi
log "ready [worker=$worker]"
