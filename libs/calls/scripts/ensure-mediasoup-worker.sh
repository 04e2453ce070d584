#!/usr/bin/env bash
# ensure-mediasoup-worker.sh — provide a working `mediasoup-worker` binary for mediasoup 3.19.3.
#
# Why: mediasoup's npm postinstall either downloads a prebuilt worker from GitHub or builds one with a
# pip-installed meson that downloads every C/C++ dependency (openssl, libuv, libsrtp3, usrsctp, abseil,
# flatbuffers, ...) as meson subprojects. Neither works on machines whose only network is the npm registry
# and Debian's apt. So we build the worker from the npm package's own sources against Debian bookworm's
# system libraries (small, asserted source patches below), cache the binary outside the clone, and let the
# app use it via MEDIASOUP_WORKER_BIN (and optionally a symlink inside node_modules, see --link).
#
# Usage: ensure-mediasoup-worker.sh [--link <node_modules_dir>]
#   stdout: the absolute path of the binary, as the last line. Progress goes to stderr.
# Env:
#   MEDIASOUP_WORKER_BIN        use this binary if it passes the health check (no build).
#   MEDIASOUP_WORKER_CACHE_DIR  cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/calls-mediasoup-worker).
#   MEDIASOUP_WORKER_JOBS       parallel compile jobs (default: nproc).
# The binary links the system libraries dynamically (the -dev packages below must stay installed), except
# libsrtp, which is built from Debian's source against OpenSSL and linked statically.
set -euo pipefail

readonly MS_VERSION="3.19.3"
readonly APT_PACKAGES=(g++ make pkg-config ninja-build python3 meson libssl-dev libuv1-dev libabsl-dev
  libflatbuffers-dev flatbuffers-compiler libusrsctp-dev)
# Packages whose versions are part of the cache key (liburing-dev is optional, see the patch).
readonly HASHED_PACKAGES=(libssl-dev libuv1-dev libabsl-dev libflatbuffers-dev libusrsctp-dev
  meson flatbuffers-compiler liburing-dev)
# libsrtp 2.5.0, the source of Debian bookworm's libsrtp2 package, from Debian's archive. Debian builds it
# against NSS (one PK11 call per packet); built here against OpenSSL (AES-NI) and linked statically, SRTP
# costs half as much with AES-GCM and a fifth with AES-CM + HMAC-SHA1 (libsrtp's own timing test).
readonly LIBSRTP_VERSION="2.5.0"
readonly LIBSRTP_URL="http://deb.debian.org/debian/pool/main/libs/libsrtp2/libsrtp2_${LIBSRTP_VERSION}.orig.tar.gz"
readonly LIBSRTP_SHA256="8a43ef8e9ae2b665292591af62aa1a4ae41e468b6d98d8258f91478735da4e09"
readonly MESON_OPTIONS=(--buildtype release -Db_ndebug=true --wrap-mode=nodownload)

SCRIPT_PATH="$(readlink -f "${BASH_SOURCE[0]}")"
readonly SCRIPT_PATH

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
  ldd_out="$(ldd "$bin" 2>&1)" || return 1
  if grep -q 'not found' <<<"$ldd_out"; then
    log "$bin: missing libraries:"
    grep 'not found' <<<"$ldd_out" >&2 || true
    return 1
  fi
  env -u MEDIASOUP_VERSION timeout 20 "$bin" </dev/null >/dev/null 2>&1 || rc=$?
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
  mkdir -p -- "$(dirname -- "$target")"
  ln -sfn -- "$bin" "$target"
  log "linked $target -> $bin"
}

finish() {
  link_into_node_modules "$1" "$LINK_DIR"
  printf '%s\n' "$1"
  exit 0
}

# 1. Explicit override.
if [[ -n "${MEDIASOUP_WORKER_BIN:-}" ]]; then
  if worker_ok "$MEDIASOUP_WORKER_BIN"; then
    log "using MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN"
    finish "$(readlink -f -- "$MEDIASOUP_WORKER_BIN")"
  fi
  log "WARNING: MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not a working worker; ignoring it"
fi

# 2. System packages (installed only when some are missing).
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
for tool in npm tar flock sha256sum ldd timeout make; do
  command -v "$tool" >/dev/null 2>&1 || die "required tool not found: $tool"
done

# 3. Cache key: this script (hence the patches) plus the build facts (options, compiler, library versions).
build_facts() {
  printf 'mediasoup=%s\n' "$MS_VERSION"
  printf 'option=%s\n' "${MESON_OPTIONS[@]}"
  printf 'arch=%s\n' "$(uname -m)"
  g++ --version | sed -n 1p
  local pkg
  for pkg in "${HASHED_PACKAGES[@]}"; do
    printf '%s=%s\n' "$pkg" \
      "$(dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>/dev/null | sed -n 's/^install ok installed //p')"
  done
}
HASH="$({ cat -- "$SCRIPT_PATH"; build_facts; } | sha256sum | cut -c1-16)"
CACHE_ROOT="${MEDIASOUP_WORKER_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}/calls-mediasoup-worker}"
CACHE_DIR="$CACHE_ROOT/$MS_VERSION-$HASH"
BIN="$CACHE_DIR/mediasoup-worker"

if worker_ok "$BIN"; then
  log "cached worker OK: $BIN"
  finish "$BIN"
fi

# 4. Build under a lock, so concurrent runs build once.
mkdir -p -- "$CACHE_DIR"
exec 9>"$CACHE_DIR/.lock"
if ! flock -n 9; then
  log "another run is building into $CACHE_DIR; waiting for its lock"
  flock 9
fi
if worker_ok "$BIN"; then
  log "worker was built by a concurrent run: $BIN"
  finish "$BIN"
fi

log "building mediasoup-worker $MS_VERSION (cache key $HASH); this takes several minutes"
WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/mediasoup-worker-build.XXXXXX")"

log "fetching mediasoup@$MS_VERSION sources with npm pack"
(cd "$WORK_DIR" && npm pack "mediasoup@$MS_VERSION" --ignore-scripts --silent >&2)
TARBALL="$WORK_DIR/mediasoup-$MS_VERSION.tgz"
[[ -f "$TARBALL" ]] || die "npm pack did not produce $TARBALL"
tar -xzf "$TARBALL" -C "$WORK_DIR" package/package.json package/worker
grep -q "\"version\": \"$MS_VERSION\"" "$WORK_DIR/package/package.json" ||
  die "unpacked package is not mediasoup $MS_VERSION"
SRC="$WORK_DIR/package/worker"

log "patching worker sources for Debian's system libraries"
python3 - "$SRC" <<'PY'
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])


def tab(s):
    """C++ snippets below are written with 4-space indents; mediasoup uses tabs (+2-space continuations)."""
    return re.sub(r"(?m)^((?:    )+)", lambda m: "\t" * (len(m.group(1)) // 4), s)


def fail(rel, what, snippet):
    first = snippet.strip().splitlines()[0] if snippet.strip() else snippet
    sys.exit(f"patch failed: {rel}: {what}: {first!r} (is this mediasoup 3.19.3?)")


def replace(rel, old, new):
    """Replace text that must occur exactly once."""
    path = root / rel
    text = path.read_text()
    count = text.count(old)
    if count != 1:
        fail(rel, f"expected the pattern exactly once, found it {count} times", old)
    path.write_text(text.replace(old, new))


def cut_from(rel, marker):
    """Drop everything from a marker (occurring exactly once) to the end of the file."""
    path = root / rel
    text = path.read_text()
    count = text.count(marker)
    if count != 1:
        fail(rel, f"expected the marker exactly once, found it {count} times", marker)
    path.write_text(text[: text.index(marker)])


# --- worker/meson.build ------------------------------------------------------------------------------
MB = "meson.build"

# Debian bookworm has meson 1.0.1; it builds this project fine.
replace(MB, "meson_version: '>= 1.1.0',", "meson_version: '>= 1.0.0',")

# Subprojects -> system libraries.
replace(MB, """openssl_proj = subproject(
  'openssl',
  default_options: [
    'warning_level=0',
  ],
)

libuv_proj = subproject(
  'libuv',
  default_options: [
    'warning_level=0',
    'build_tests=false',
    'build_benchmarks=false',
  ],
)

libsrtp3_proj = subproject(
  'libsrtp3',
  default_options: [
    'warning_level=0',
    'crypto-library=openssl',
    'crypto-library-kdf=disabled',
    'tests=disabled',
  ],
)

usrsctp_proj = subproject(
  'usrsctp',
  default_options: [
    'warning_level=0',
    'sctp_build_programs=false',
  ],
)

abseil_cpp_proj = subproject(
  'abseil-cpp',
  default_options: [
    'warning_level=0',
    'cpp_std=c++17',
  ],
)

catch2_proj = subproject(
  'catch2',
  default_options: [
    'warning_level=0',
  ],
)

flatbuffers_proj = subproject(
  'flatbuffers',
  default_options: [
    'warning_level=0',
  ],
)
""", """# [calls] System (Debian) libraries instead of meson subprojects.
openssl_dep = dependency('openssl', version: '>= 3.0.0')
libuv_dep = dependency('libuv')
libsrtp2_dep = dependency('libsrtp2', version: '>= 2.5.0', static: true)
usrsctp_dep = dependency('usrsctp')
flatbuffers_dep = dependency('flatbuffers')
absl_deps = [
  dependency('absl_flat_hash_map'),
  dependency('absl_flat_hash_set'),
  dependency('absl_inlined_vector'),
  dependency('absl_btree'),
  dependency('absl_memory'),
  dependency('absl_strings'),
  dependency('absl_optional'),
]
# Debian installs srtp.h under include/srtp2/ while the code includes <srtp.h>; MS_LIBSRTP2 selects the
# libsrtp 2 API in the patched sources.
cpp_args += [
  '-I' + (libsrtp2_dep.get_variable(pkgconfig: 'includedir') / 'srtp2'),
  '-DMS_LIBSRTP2',
]
""")

replace(MB, """dependencies = [
  abseil_cpp_proj.get_variable('absl_container_dep'),
  openssl_proj.get_variable('openssl_dep'),
  libuv_proj.get_variable('libuv_dep'),
  libsrtp3_proj.get_variable('libsrtp3_dep'),
  usrsctp_proj.get_variable('usrsctp_dep'),
  flatbuffers_proj.get_variable('flatbuffers_dep'),
  flatbuffers_generator_dep,
  libwebrtc_dep,
]

link_whole = [
  abseil_cpp_proj.get_variable('absl_container_lib'),
  openssl_proj.get_variable('libcrypto_lib'),
  openssl_proj.get_variable('libssl_lib'),
  libuv_proj.get_variable('libuv'),
  libsrtp3_proj.get_variable('libsrtp3'),
  usrsctp_proj.get_variable('usrsctp'),
  flatbuffers_proj.get_variable('flatbuffers_lib'),
  libwebrtc,
]
""", """dependencies = [
  absl_deps,
  openssl_dep,
  libuv_dep,
  libsrtp2_dep,
  usrsctp_dep,
  flatbuffers_dep,
  flatbuffers_generator_dep,
  libwebrtc_dep,
]

link_whole = [
  libwebrtc,
]
""")

# liburing: Debian bookworm has 2.3, which lacks io_uring_prep_sendto. Use a system liburing only when it
# is >= 2.5; otherwise the worker uses libuv I/O (as upstream does on kernels older than 6).
replace(MB, """  if kernel_version[0].to_int() >= 6
    liburing_proj = subproject('liburing', default_options: ['default_library=static'], required: true)

    dependencies += [
      liburing_proj.get_variable('uring'),
    ]
    link_whole += [
      liburing_proj.get_variable('liburing')
    ]
""", """  liburing_dep = dependency('liburing', version: '>= 2.5', required: false)

  if kernel_version[0].to_int() >= 6 and liburing_dep.found()
    dependencies += [
      liburing_dep,
    ]
""")

# Test and fuzzer targets need catch2 / libFuzzer: drop them.
cut_from(MB, "test_sources = [\n")

# --- worker/deps/libwebrtc/meson.build -----------------------------------------------------------------
WB = "deps/libwebrtc/meson.build"
replace(WB, """abseil_cpp_proj = subproject(
  'abseil-cpp',
  default_options: [
    'warning_level=0',
  ],
)
""", "")
replace(WB, """    local_include_directories,
    openssl_proj.get_variable('openssl_dep'),
    abseil_cpp_proj.get_variable('absl_strings_dep'),
    abseil_cpp_proj.get_variable('absl_types_dep'),
    flatbuffers_proj.get_variable('flatbuffers_dep'),
    libuv_proj.get_variable('libuv_dep'),
  ],
""", """    local_include_directories,
    openssl_dep,
    absl_deps,
    flatbuffers_dep,
    libuv_dep,
  ],
""")
replace(WB, """    local_include_directories,
    abseil_cpp_proj.get_variable('absl_strings_dep'),
    abseil_cpp_proj.get_variable('absl_types_dep'),
  ],
  include_directories: include_directories('.'),
""", """    local_include_directories,
    absl_deps,
  ],
  include_directories: include_directories('.'),
""")

for rel in (MB, WB):
    leftover = [l for l in (root / rel).read_text().splitlines()
                if re.search(r"_proj\b", l) and "wingetopt" not in l]
    if leftover:
        sys.exit(f"patch failed: {rel}: subproject references left: {leftover}")

# --- libsrtp 3 -> libsrtp 2 API ------------------------------------------------------------------------
SS = "src/RTC/SrtpSession.cpp"

# libsrtp 3 protects out of place with size_t lengths; libsrtp 2 protects in place with an int length.
protect_rtp = tab("""        const srtp_err_status_t err = srtp_protect(
          /*srtp_t ctx*/ this->session,
          /*const uint8_t* rtp*/ *data,
          /*size_t rtp_len*/ *len,
          /*uint8_t* srtp*/ encryptBuffer,
          /*size_t* srtp_len*/ std::addressof(encryptLen),
          /*size_t mki_index*/ 0);
""")
replace(SS, protect_rtp, tab("""#ifdef MS_LIBSRTP2
        // [calls] libsrtp 2: copy into the encrypt buffer and protect it in place.
        if (*len + SRTP_MAX_TRAILER_LEN > encryptLen)
        {
            MS_WARN_TAG(srtp, "cannot encrypt RTP packet, size too big (%zu bytes)", *len);

            return false;
        }

        std::memmove(encryptBuffer, *data, *len);

        int srtpLen = static_cast<int>(*len);

        const srtp_err_status_t err =
          srtp_protect(this->session, static_cast<void*>(encryptBuffer), std::addressof(srtpLen));

        encryptLen = static_cast<size_t>(srtpLen);
#else
""") + protect_rtp + "#endif\n")

unprotect_rtp = tab("""        const srtp_err_status_t err = srtp_unprotect(
          /*srtp_t ctx*/ this->session,
          /*const uint8_t* srtp*/ data,
          /*size_t srtp_len*/ *len,
          /*uint8_t* rtp*/ data,
          /*size_t* rtp_len*/ std::addressof(decryptLen));
""")
replace(SS, unprotect_rtp, tab("""#ifdef MS_LIBSRTP2
        // [calls] libsrtp 2: unprotect in place.
        int srtpLen = static_cast<int>(*len);

        const srtp_err_status_t err =
          srtp_unprotect(this->session, static_cast<void*>(data), std::addressof(srtpLen));

        decryptLen = static_cast<size_t>(srtpLen);
#else
""") + unprotect_rtp + "#endif\n")

protect_rtcp = tab("""        const srtp_err_status_t err = srtp_protect_rtcp(
          /*srtp_t ctx*/ this->session,
          /*const uint8_t* rtcp*/ *data,
          /*size_t rtcp_len*/ *len,
          /*uint8_t* srtcp*/ encryptBuffer,
          /*size_t* srtcp_len*/ std::addressof(encryptLen),
          /*size_t mki_index*/ 0);
""")
replace(SS, protect_rtcp, tab("""#ifdef MS_LIBSRTP2
        // [calls] libsrtp 2: copy into the encrypt buffer and protect it in place.
        if (*len + SRTP_MAX_TRAILER_LEN > encryptLen)
        {
            MS_WARN_TAG(srtp, "cannot encrypt RTCP packet, size too big (%zu bytes)", *len);

            return false;
        }

        std::memmove(encryptBuffer, *data, *len);

        int srtpLen = static_cast<int>(*len);

        const srtp_err_status_t err =
          srtp_protect_rtcp(this->session, static_cast<void*>(encryptBuffer), std::addressof(srtpLen));

        encryptLen = static_cast<size_t>(srtpLen);
#else
""") + protect_rtcp + "#endif\n")

unprotect_rtcp = tab("""        const srtp_err_status_t err = srtp_unprotect_rtcp(
          /*srtp_t ctx*/ this->session,
          /*const uint8_t* srtcp*/ data,
          /*size_t srtcp_len*/ *len,
          /*uint8_t* rtcp*/ data,
          /*size_t* rtcp_len*/ std::addressof(decryptLen));
""")
replace(SS, unprotect_rtcp, tab("""#ifdef MS_LIBSRTP2
        // [calls] libsrtp 2: unprotect in place.
        int srtpLen = static_cast<int>(*len);

        const srtp_err_status_t err =
          srtp_unprotect_rtcp(this->session, static_cast<void*>(data), std::addressof(srtpLen));

        decryptLen = static_cast<size_t>(srtpLen);
#else
""") + unprotect_rtcp + "#endif\n")

remove_stream = tab("""            srtp_stream_remove(this->session, uint32_t{ htonl(ssrc) });
""")
replace("include/RTC/SrtpSession.hpp", remove_stream, tab("""#ifdef MS_LIBSRTP2
            srtp_remove_stream(this->session, uint32_t{ htonl(ssrc) });
#else
""") + remove_stream + "#endif\n")

# Error codes that exist only in libsrtp 3.
replace("src/DepLibSRTP.cpp", tab("""    { srtp_err_status_buffer_small,  "out buffer is too small" },
    { srtp_err_status_cryptex_err,   "unsupported cryptex operation" }
"""), tab("""#ifndef MS_LIBSRTP2
    { srtp_err_status_buffer_small,  "out buffer is too small" },
    { srtp_err_status_cryptex_err,   "unsupported cryptex operation" }
#endif
"""))

# --- mediasoup bug: BIO callback must test the BIO_CB_RETURN bit ----------------------------------------
# With a KTLS-enabled OpenSSL (Debian's) the callback otherwise answers 1 to the "is kernel TLS sending?"
# control query, OpenSSL never allocates its DTLS write buffer and the worker crashes on the first
# ClientHello.
replace("src/RTC/DtlsTransport.cpp",
        "long resultOfcallback = (operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;",
        "long resultOfcallback = (operationType & BIO_CB_RETURN) ? static_cast<long>(ret) : 1;")

print("patches applied", file=sys.stderr)
PY

JOBS="${MEDIASOUP_WORKER_JOBS:-$(nproc)}"

log "fetching libsrtp $LIBSRTP_VERSION sources from Debian's archive"
SRTP_TARBALL="$WORK_DIR/libsrtp.tar.gz"
python3 - "$LIBSRTP_URL" "$SRTP_TARBALL" <<'PY' || die "could not download $LIBSRTP_URL"
import shutil
import sys
import urllib.request

with urllib.request.urlopen(sys.argv[1], timeout=120) as response, open(sys.argv[2], "wb") as out:
    shutil.copyfileobj(response, out)
PY
echo "$LIBSRTP_SHA256  $SRTP_TARBALL" | sha256sum -c --quiet - >&2 ||
  die "libsrtp tarball does not match its pinned sha256"
tar -xzf "$SRTP_TARBALL" -C "$WORK_DIR"
SRTP_PREFIX="$WORK_DIR/libsrtp-prefix"
log "building libsrtp $LIBSRTP_VERSION against OpenSSL (static)"
(
  cd "$WORK_DIR/libsrtp-$LIBSRTP_VERSION"
  ./configure --prefix="$SRTP_PREFIX" --enable-openssl CFLAGS="-O2 -fPIC" >&2
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
TMP_BIN="$CACHE_DIR/.mediasoup-worker.tmp.$$"
cp -- "$BUILD/mediasoup-worker" "$TMP_BIN"
chmod 0755 "$TMP_BIN"
worker_ok "$TMP_BIN" || die "freshly built worker fails the health check"
build_facts >"$CACHE_DIR/build-info.txt"
mv -f -- "$TMP_BIN" "$BIN"
TMP_BIN=""
log "installed $BIN"
finish "$BIN"
