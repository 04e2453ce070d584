#!/usr/bin/env python3
"""Patches mediasoup 3.19.3's worker sources to build against Debian bookworm's libraries.

Usage: mediasoup-worker-patches.py <unpacked mediasoup package>/worker

Run by ensure-mediasoup-worker.sh (its Debian fallback build). Every replaced text must occur
exactly once, so another mediasoup version fails loudly. This file is part of the worker cache key:
changing it rebuilds the worker.
"""
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
