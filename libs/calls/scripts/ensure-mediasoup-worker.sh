#!/usr/bin/env bash
# ensure-mediasoup-worker.sh — provide a working `mediasoup-worker` binary for mediasoup 3.19.3.
#
# In this order, the first that gives a worker which runs here wins:
#   1. MEDIASOUP_WORKER_BIN, when it names a working binary.
#   2. The worker mediasoup's own npm install left in <node_modules>/mediasoup (with --link).
#   3. A worker cached by an earlier run (${XDG_CACHE_HOME:-~/.cache}/calls-mediasoup-worker).
#   4. mediasoup's own install (`npm install mediasoup` in a scratch directory): its prebuilt binary,
#      else its own build. Skipped at once when the place it downloads from does not answer (a
#      machine whose only network is the npm registry and apt), since its own build downloads its
#      C/C++ dependencies from there too.
#   5. On Debian-family machines (apt-get): a build from the npm package's own sources against Debian's
#      libraries (apt packages installed when missing; small, asserted source patches in
#      mediasoup-worker-patches.py; libsrtp 2.5.0 built from Debian's source package, fetched through
#      apt's own configured sources, and linked statically).
#   Otherwise it stops with one message naming what to install.
# Workers from 4 and 5 are cached outside the clone, so `npm ci` or a new clone reuses them.
#
# Usage: ensure-mediasoup-worker.sh [--link <node_modules_dir>]
#   stdout: the absolute path of the binary, as the last line. Progress goes to stderr.
#   --link: also place the worker where mediasoup looks by default (a symlink), so a plain
#           `node dist/src/main.js` finds it.
# Env:
#   MEDIASOUP_WORKER_BIN        use this binary if it passes the health check.
#   MEDIASOUP_WORKER_SOURCE     auto (default: 4, then 5), upstream (4 only) or debian (5 only).
#   MEDIASOUP_WORKER_CACHE_DIR  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/calls-mediasoup-worker).
#   MEDIASOUP_WORKER_PROBE_TIMEOUT  seconds to wait for mediasoup's download site (default 5).
#   MEDIASOUP_WORKER_JOBS       parallel compile jobs of the Debian build (default: nproc).
# The Debian-built binary links the system libraries dynamically (the -dev packages below must stay
# installed), except libsrtp, which is linked statically.
set -euo pipefail

readonly MS_VERSION="3.19.3"
readonly APT_PACKAGES=(g++ make pkg-config ninja-build python3 meson libssl-dev libuv1-dev libabsl-dev
  libflatbuffers-dev flatbuffers-compiler libusrsctp-dev)
# Packages whose versions are part of the cache key (liburing-dev is optional, see the patches).
readonly HASHED_PACKAGES=(libssl-dev libuv1-dev libabsl-dev libflatbuffers-dev libusrsctp-dev
  meson flatbuffers-compiler liburing-dev)
# libsrtp 2.5.0, the source of Debian bookworm's libsrtp2 package. Debian builds it against NSS (one
# PK11 call per packet); built here against OpenSSL (AES-NI) and linked statically, SRTP costs half as
# much with AES-GCM and a fifth with AES-CM + HMAC-SHA1 (libsrtp's own timing test).
readonly LIBSRTP_SOURCE_PACKAGE="libsrtp2"
readonly LIBSRTP_VERSION="2.5.0"
readonly LIBSRTP_SHA256="8a43ef8e9ae2b665292591af62aa1a4ae41e468b6d98d8258f91478735da4e09"
readonly LIBSRTP_CONFIGURE=(--enable-openssl "CFLAGS=-O2 -fPIC")
readonly MESON_OPTIONS=(--buildtype release -Db_ndebug=true --wrap-mode=nodownload)
# Bump when the Debian build's steps below change in a way the cache key does not see otherwise.
readonly RECIPE_REVISION=1

# An absolute path with symlinks resolved (macOS before 12.3 has no `readlink -f`).
resolve() {
  readlink -f -- "$1" 2>/dev/null ||
    (cd "$(dirname -- "$1")" && printf '%s/%s\n' "$(pwd -P)" "$(basename -- "$1")")
}
SCRIPT_PATH="$(resolve "${BASH_SOURCE[0]}")"
readonly SCRIPT_PATH
readonly PATCHES="${SCRIPT_PATH%/*}/mediasoup-worker-patches.py"
readonly SOURCE="${MEDIASOUP_WORKER_SOURCE:-auto}"
readonly PROBE_TIMEOUT="${MEDIASOUP_WORKER_PROBE_TIMEOUT:-5}"

log() { printf '[ensure-mediasoup-worker] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

usage() {
  sed -n '2,/^set -euo/p' "$SCRIPT_PATH" | sed '$d' | sed 's/^# \{0,1\}//' >&2
}

LINK_DIR=""
while (($# > 0)); do
  case "$1" in
    --link)
      (($# >= 2)) || die "--link needs a node_modules directory"
      LINK_DIR="$2"
      shift 2
      ;;
    --link=*)
      LINK_DIR="${1#--link=}"
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
case "$SOURCE" in
  auto | upstream | debian) ;;
  *) die "MEDIASOUP_WORKER_SOURCE=$SOURCE: expected auto, upstream or debian" ;;
esac

WORK_DIR=""
TMP_BIN=""
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
  if [[ -n "$TMP_BIN" ]]; then rm -f -- "$TMP_BIN"; fi
  if [[ -n "$WORK_DIR" ]]; then rm -rf -- "$WORK_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A binary is usable when all its libraries resolve and, started without a parent process, it exits
# with code 41 ("you don't seem to be my real father!").
worker_ok() {
  local bin="$1" ldd_out rc=0
  [[ -f "$bin" && -x "$bin" ]] || return 1
  if command -v ldd >/dev/null 2>&1 && ldd_out="$(ldd "$bin" 2>&1)"; then
    if grep -q 'not found' <<<"$ldd_out"; then
      log "$bin: missing libraries:"
      grep 'not found' <<<"$ldd_out" >&2 || true
      return 1
    fi
  fi
  local limit=()
  if command -v timeout >/dev/null 2>&1; then limit=(timeout 20); fi
  # (The ${a[@]+…} form: an empty array under `set -u` in macOS's bash 3.2.)
  env -u MEDIASOUP_VERSION ${limit[@]+"${limit[@]}"} "$bin" </dev/null >/dev/null 2>&1 || rc=$?
  if ((rc != 41)); then
    log "$bin: expected exit code 41 when run without a parent, got $rc"
    return 1
  fi
}

link_into_node_modules() {
  local bin="$1" nm="$2" ms_dir target
  [[ -n "$nm" ]] || return 0
  ms_dir="$nm/mediasoup"
  if [[ ! -d "$ms_dir" ]]; then
    log "--link: $ms_dir does not exist, not linking"
    return 0
  fi
  target="$ms_dir/worker/out/Release/mediasoup-worker"
  if [[ -e "$target" && "$(resolve "$target")" == "$bin" ]]; then return 0; fi
  mkdir -p -- "$(dirname -- "$target")"
  ln -sfn -- "$bin" "$target"
  log "linked $target -> $bin"
}

finish() {
  link_into_node_modules "$1" "$LINK_DIR"
  printf '%s\n' "$1"
  exit 0
}

# Copies a working binary into a cache directory (atomically) with a description of it.
install_into_cache() {
  local from="$1" dir="$2" info="$3"
  mkdir -p -- "$dir"
  TMP_BIN="$dir/.mediasoup-worker.tmp.$$"
  cp -- "$from" "$TMP_BIN"
  chmod 0755 "$TMP_BIN"
  worker_ok "$TMP_BIN" || die "$TMP_BIN fails the health check after copying"
  printf '%s\n' "$info" >"$dir/build-info.txt"
  mv -f -- "$TMP_BIN" "$dir/mediasoup-worker"
  TMP_BIN=""
  log "installed $dir/mediasoup-worker"
}

# --- 1. Explicit override -------------------------------------------------------------------------
if [[ -n "${MEDIASOUP_WORKER_BIN:-}" ]]; then
  if worker_ok "$MEDIASOUP_WORKER_BIN"; then
    log "using MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN"
    finish "$(resolve "$MEDIASOUP_WORKER_BIN")"
  fi
  log "WARNING: MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not a working worker; ignoring it"
fi

# --- 2. What mediasoup's own npm install left in node_modules (a file, not our link) --------------
if [[ -n "$LINK_DIR" ]]; then
  own="$LINK_DIR/mediasoup/worker/out/Release/mediasoup-worker"
  if [[ -f "$own" && ! -L "$own" ]] && worker_ok "$own"; then
    log "using the worker mediasoup's own install left: $own"
    finish "$(resolve "$own")"
  fi
fi

# --- 3. Cache ---------------------------------------------------------------------------------------
CACHE_ROOT="${MEDIASOUP_WORKER_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/calls-mediasoup-worker}"
UPSTREAM_DIR="$CACHE_ROOT/$MS_VERSION-upstream-$(uname -s)-$(uname -m)"

is_debian_family() { command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; }

# The Debian build's facts: options, compiler and library versions.
build_facts() {
  printf 'mediasoup=%s\n' "$MS_VERSION"
  printf 'option=%s\n' "${MESON_OPTIONS[@]}"
  printf 'arch=%s\n' "$(uname -m)"
  g++ --version 2>/dev/null | sed -n 1p
  local pkg
  for pkg in "${HASHED_PACKAGES[@]}"; do
    printf '%s=%s\n' "$pkg" \
      "$(dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>/dev/null | sed -n 's/^install ok installed //p')"
  done
}
# What the Debian build does: the patches, libsrtp's source and options, the recipe revision. Changing
# how things are fetched or logged does not change the binary, so it does not change the key.
recipe() {
  printf 'recipe-revision=%s\n' "$RECIPE_REVISION"
  printf 'libsrtp=%s %s %s\n' "$LIBSRTP_SOURCE_PACKAGE" "$LIBSRTP_VERSION" "$LIBSRTP_SHA256"
  printf 'libsrtp-configure=%s\n' "${LIBSRTP_CONFIGURE[@]}"
  cat -- "$PATCHES"
}
debian_key() { { recipe; build_facts; } | sha256sum | cut -c1-16; }

# Until this script's key covered only the recipe, it covered the whole script. The last such version
# (commit 72cfa06) built exactly this recipe, and the only earlier one linked Debian's libsrtp2
# dynamically: reuse a binary of that version when its build facts are today's.
adopt_previous_key() {
  local dest="$1" facts dir
  facts="$(build_facts)"
  for dir in "$CACHE_ROOT/$MS_VERSION"-*/; do
    dir="${dir%/}"
    [[ "$dir" != "$dest" && -f "$dir/build-info.txt" && -x "$dir/mediasoup-worker" ]] || continue
    [[ "$(cat -- "$dir/build-info.txt")" == "$facts" ]] || continue
    if ldd "$dir/mediasoup-worker" 2>/dev/null | grep -q libsrtp; then continue; fi
    worker_ok "$dir/mediasoup-worker" || continue
    log "reusing the worker built by the previous version of this script (same recipe): $dir"
    install_into_cache "$dir/mediasoup-worker" "$dest" "recipe=$(recipe | sha256sum | cut -c1-16)
$facts"
    return 0
  done
  return 1
}

DEBIAN_DIR=""
cached_worker() {
  if [[ "$SOURCE" != debian ]] && worker_ok "$UPSTREAM_DIR/mediasoup-worker"; then
    log "cached worker (mediasoup's own) OK: $UPSTREAM_DIR/mediasoup-worker"
    finish "$UPSTREAM_DIR/mediasoup-worker"
  fi
  if [[ "$SOURCE" != upstream ]] && is_debian_family && command -v g++ >/dev/null 2>&1; then
    DEBIAN_DIR="$CACHE_ROOT/$MS_VERSION-$(debian_key)"
    if worker_ok "$DEBIAN_DIR/mediasoup-worker"; then
      log "cached worker OK: $DEBIAN_DIR/mediasoup-worker"
      finish "$DEBIAN_DIR/mediasoup-worker"
    fi
    if adopt_previous_key "$DEBIAN_DIR"; then finish "$DEBIAN_DIR/mediasoup-worker"; fi
  fi
}
cached_worker

# Build (or download) under a lock, so concurrent runs do it once.
mkdir -p -- "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.lock-$MS_VERSION"
if command -v flock >/dev/null 2>&1 && ! flock -n 9; then
  log "another run is getting the worker into $CACHE_ROOT; waiting for its lock"
  flock 9
  cached_worker
fi
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/mediasoup-worker.XXXXXX")"

# --- 4. mediasoup's own install ---------------------------------------------------------------------
UPSTREAM_PROBLEM=""
# What to do when mediasoup's own install is the only way left.
UPSTREAM_HINT="install what mediasoup's own build needs — Python 3 with pip, make and a C++17 compiler (g++ or clang) — and run this again"
upstream_install() {
  local scratch="$WORK_DIR/upstream" ms reach own
  command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1 || {
    UPSTREAM_PROBLEM="node and npm are not on PATH"
    UPSTREAM_HINT="install Node.js (20 or newer, with npm) and run this again"
    return 1
  }
  log "trying mediasoup's own install (its prebuilt worker, else its own build)"
  if ! npm install --prefix "$scratch" --no-save --no-package-lock --ignore-scripts --no-audit \
    --no-fund --loglevel=error "mediasoup@$MS_VERSION" >&2; then
    UPSTREAM_PROBLEM="npm could not install mediasoup@$MS_VERSION"
    return 1
  fi
  ms="$scratch/node_modules/mediasoup"
  # Where mediasoup downloads from: its package's repository (or its own override variable).
  reach="$(node - "$ms/package.json" "$PROBE_TIMEOUT" <<'JS'
const [pkgFile, seconds] = process.argv.slice(2);
const pkg = JSON.parse(require('node:fs').readFileSync(pkgFile, 'utf8'));
const base =
  process.env.MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL ||
  pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
const origin = new URL(base).origin;
fetch(origin, { method: 'HEAD', signal: AbortSignal.timeout(Number(seconds) * 1000) }).then(
  (res) => console.log(`ok ${origin} answered ${res.status}`),
  (err) => console.log(`no ${origin} ${err.cause?.code ?? err.cause?.message ?? err.name}`),
);
JS
)" || reach="no mediasoup's-download-site probe-failed"
  local site="${reach#* }"
  site="${site%% *}"
  if [[ "$reach" != ok* ]]; then
    UPSTREAM_PROBLEM="its download site $site does not answer: ${reach#* "$site" }"
    UPSTREAM_HINT="let this machine reach $site (mediasoup downloads its prebuilt worker, and its own build's sources, from there)"
    log "skipping mediasoup's own install: $UPSTREAM_PROBLEM"
    return 1
  fi
  log "$site answered; running mediasoup's postinstall"
  if ! (cd "$ms" && env -u MEDIASOUP_WORKER_BIN node npm-scripts.mjs postinstall) >&2; then
    UPSTREAM_PROBLEM="its prebuilt download and its own build failed (see above)"
    return 1
  fi
  own="$ms/worker/out/Release/mediasoup-worker"
  if ! worker_ok "$own"; then
    UPSTREAM_PROBLEM="the worker it produced does not run here"
    return 1
  fi
  install_into_cache "$own" "$UPSTREAM_DIR" "source=mediasoup $MS_VERSION's own install (prebuilt or its own build)"
}

if [[ "$SOURCE" != debian ]]; then
  if upstream_install; then finish "$UPSTREAM_DIR/mediasoup-worker"; fi
  if [[ "$SOURCE" == upstream ]]; then die "mediasoup's own install gave no worker: $UPSTREAM_PROBLEM"; fi
fi

# --- 5. Build against Debian's libraries ------------------------------------------------------------
if ! is_debian_family; then
  die "no mediasoup-worker for this machine. mediasoup's own install gave none (${UPSTREAM_PROBLEM:-MEDIASOUP_WORKER_SOURCE=$SOURCE}), and the fallback build from its sources needs a Debian-family system (apt-get). To fix it: $UPSTREAM_HINT; or set MEDIASOUP_WORKER_BIN to a working mediasoup-worker $MS_VERSION."
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]} > 0)); then
  log "installing missing Debian packages: ${missing[*]}"
  if ((EUID == 0)); then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    die "not root and no sudo: please install ${missing[*]}"
  fi
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update >&2
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    "${missing[@]}" >&2
fi
for tool in npm tar flock sha256sum ldd make python3 apt-config; do
  command -v "$tool" >/dev/null 2>&1 || die "required tool not found: $tool"
done

KEY="$(debian_key)"
DEBIAN_DIR="$CACHE_ROOT/$MS_VERSION-$KEY"
if worker_ok "$DEBIAN_DIR/mediasoup-worker"; then finish "$DEBIAN_DIR/mediasoup-worker"; fi
if adopt_previous_key "$DEBIAN_DIR"; then finish "$DEBIAN_DIR/mediasoup-worker"; fi

log "building mediasoup-worker $MS_VERSION against Debian's libraries (cache key $KEY); this takes several minutes"

log "fetching mediasoup@$MS_VERSION sources with npm pack"
(cd "$WORK_DIR" && npm pack "mediasoup@$MS_VERSION" --ignore-scripts --silent >&2)
TARBALL="$WORK_DIR/mediasoup-$MS_VERSION.tgz"
[[ -f "$TARBALL" ]] || die "npm pack did not produce $TARBALL"
tar -xzf "$TARBALL" -C "$WORK_DIR" package/package.json package/worker
grep -q "\"version\": \"$MS_VERSION\"" "$WORK_DIR/package/package.json" ||
  die "unpacked package is not mediasoup $MS_VERSION"
SRC="$WORK_DIR/package/worker"

log "patching worker sources for Debian's system libraries"
python3 "$PATCHES" "$SRC"

# libsrtp's source package through apt itself: a private apt state whose sources are the machine's
# configured `deb` sources as `deb-src`, so whatever mirror, proxy or authentication apt is configured
# with is used, and apt checks the files against the archive's signed index.
fetch_libsrtp_source() {
  local apt_dir="$WORK_DIR/apt" f APT_SOURCELIST="" APT_SOURCEPARTS=""
  mkdir -p -- "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" \
    "$apt_dir/source"
  eval "$(apt-config shell APT_SOURCELIST Dir::Etc::sourcelist/f APT_SOURCEPARTS Dir::Etc::sourceparts/d)"
  : >"$apt_dir/sources.list"
  for f in "$APT_SOURCELIST" "${APT_SOURCEPARTS%/}"/*.list; do
    [[ -f "$f" ]] || continue
    sed -n -E 's/^[[:space:]]*deb([[:space:]])/deb-src\1/p' "$f" >>"$apt_dir/sources.list"
  done
  for f in "${APT_SOURCEPARTS%/}"/*.sources; do
    [[ -f "$f" ]] || continue
    sed -E 's/^([Tt]ypes:).*/\1 deb-src/' "$f" >"$apt_dir/sources.list.d/${f##*/}"
  done
  local apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list"
    -o "Dir::Etc::sourceparts=$apt_dir/sources.list.d" -o "Dir::State::lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache" -o "APT::Sandbox::User=$(id -un)" -o "Debug::NoLocking=true")
  log "fetching the $LIBSRTP_SOURCE_PACKAGE source package through apt (the configured sources, as deb-src)"
  # A source without source indexes (a third-party repository) fails alone; apt-get source decides.
  apt-get "${apt_opts[@]}" -q update >&2 || log "apt-get update reported problems (see above)"
  (cd "$apt_dir/source" && apt-get "${apt_opts[@]}" -q source --download-only \
    "$LIBSRTP_SOURCE_PACKAGE") >&2 ||
    die "apt-get source $LIBSRTP_SOURCE_PACKAGE failed: the configured apt sources have no $LIBSRTP_SOURCE_PACKAGE source package"
  local orig="$apt_dir/source/${LIBSRTP_SOURCE_PACKAGE}_${LIBSRTP_VERSION}.orig.tar.gz"
  [[ -f "$orig" ]] || die "the configured apt sources have no $LIBSRTP_SOURCE_PACKAGE $LIBSRTP_VERSION source (got: $(ls "$apt_dir/source")); this build is made for Debian 12 (bookworm)"
  echo "$LIBSRTP_SHA256  $orig" | sha256sum -c --quiet - >&2 ||
    die "$orig does not match its pinned sha256"
  SRTP_TARBALL="$orig"
}
SRTP_TARBALL=""
fetch_libsrtp_source
tar -xzf "$SRTP_TARBALL" -C "$WORK_DIR"
JOBS="${MEDIASOUP_WORKER_JOBS:-$(nproc)}"
SRTP_PREFIX="$WORK_DIR/libsrtp-prefix"
log "building libsrtp $LIBSRTP_VERSION against OpenSSL (static)"
(
  cd "$WORK_DIR/libsrtp-$LIBSRTP_VERSION"
  ./configure --prefix="$SRTP_PREFIX" "${LIBSRTP_CONFIGURE[@]}" >&2
  make -j"$JOBS" libsrtp2.a >&2
  make install >&2
)
[[ -f "$SRTP_PREFIX/lib/libsrtp2.a" ]] || die "libsrtp build did not produce libsrtp2.a"
export PKG_CONFIG_PATH="$SRTP_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"

BUILD="$WORK_DIR/build"
log "meson setup ${MESON_OPTIONS[*]}"
meson setup "$BUILD" "$SRC" "${MESON_OPTIONS[@]}" >&2
log "generating flatbuffers headers"
meson compile -C "$BUILD" flatbuffers-generator >&2
log "compiling mediasoup-worker with $JOBS jobs"
ninja -C "$BUILD" -j"$JOBS" mediasoup-worker >&2

[[ -x "$BUILD/mediasoup-worker" ]] || die "build did not produce $BUILD/mediasoup-worker"
worker_ok "$BUILD/mediasoup-worker" || die "freshly built worker fails the health check"
install_into_cache "$BUILD/mediasoup-worker" "$DEBIAN_DIR" "recipe=$(recipe | sha256sum | cut -c1-16)
$(build_facts)"
finish "$DEBIAN_DIR/mediasoup-worker"
