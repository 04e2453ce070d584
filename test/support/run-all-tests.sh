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

# The static checks run side by side (each is single-threaded for most of its time); a failing
# one prints its output.
log "static checks"
checks_dir=$(mktemp -d)
trap 'rm -rf "$checks_dir"' EXIT
checks=()
check() {
  local name=$1
  shift
  checks+=("$name")
  (
    set +e
    "$@" >"$checks_dir/$name.log" 2>&1
    echo $? >"$checks_dir/$name.rc"
  ) &
}
check tsc npx tsc -p tsconfig.json --noEmit
check tsc-client npx tsc -p src/web/client/tsconfig.json --noEmit
check tsc-pages npx tsc -p test/browser/pages/tsconfig.json --noEmit
check eslint npx eslint . --max-warnings 0
check lint-deps npm run --silent lint:deps
check prettier npx prettier --check .
wait
failed=0
for name in "${checks[@]}"; do
  if [[ $(cat "$checks_dir/$name.rc" 2>/dev/null) != 0 ]]; then
    log "static check failed: $name"
    cat "$checks_dir/$name.log" >&2
    failed=1
  fi
done
[[ $failed == 0 ]] || exit 1

# Two jest workers (jest's default on 2 CPUs is one): 75-80 s instead of 176 on a 2-vCPU VM. (A
# spread call's recovery once failed on two: a bug, since fixed, that timing only exposed.)
log "unit and integration tests"
npx jest --config jest.config.js --forceExit --maxWorkers=2
log "end-to-end tests"
npx jest --config test/jest-e2e.json --forceExit --runInBand
log "all tests passed"
