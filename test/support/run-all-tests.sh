#!/usr/bin/env bash
# The whole test suite from a fresh clone: setup (worker, dependencies), the tools the tests need
# (redis-server, the suites start their own throwaway Redis servers; chromium for the calls page's
# browser tests, which build the page themselves), static checks, then unit, integration and
# end-to-end tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

log() { printf '[test] %s\n' "$*" >&2; }

apt_install() {
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  log "installing $* (apt)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v redis-server >/dev/null || apt_install redis-server
# The browser e2e tests drive Debian's Chromium through playwright-core (which downloads no browser);
# the emoji font makes the page's reaction buttons legible in the test screenshot.
[[ -x ${CHROMIUM_PATH:-/usr/bin/chromium} ]] || apt_install chromium fonts-noto-color-emoji

bash libs/calls/scripts/setup.sh --no-build

# WebRTC peers in the tests use many file descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

log "static checks"
npx tsc -p tsconfig.json --noEmit
npx tsc -p src/web/client/tsconfig.json --noEmit
npx tsc -p test/browser/pages/tsconfig.json --noEmit
npx eslint . --max-warnings 0
npm run --silent lint:deps
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }

log "unit and integration tests"
npx jest --config jest.config.js --forceExit
log "end-to-end tests"
npx jest --config test/jest-e2e.json --forceExit --runInBand
log "all tests passed"
