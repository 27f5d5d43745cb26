#!/bin/sh
# Rebuilds main/dicom/wasm/jpeg-grey.wasm: libjpeg-turbo 2.1.5's decoder (its C code, no SIMD) and
# jpeg_grey.c compiled to a standalone WebAssembly module (no JavaScript glue; main/dicom/jpeg-grey.ts loads it).
# Needs Emscripten (Debian 12: `apt-get install emscripten`, 3.1.6) and libjpeg-turbo's source tarball, given
# as $1 or found in the current folder (Debian 12: add a deb-src line, then
# `apt-get source --download-only libjpeg-turbo`: its .orig.tar.gz is upstream's 2.1.5, checked by its SHA-256
# below). Only developers run this; `npm ci` and `npm run build` use the committed .wasm.
set -eu
# Debian's emscripten finds its JavaScript tools' modules (acorn) only on this path.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TARBALL=${1:-libjpeg-turbo_2.1.5.orig.tar.gz}
SHA256=254f3642b04e309fee775123133c6464181addc150499561020312ec61c1bf7c
echo "$SHA256  $TARBALL" | sha256sum -c -
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
tar -xzf "$TARBALL" -C "$WORK"
SRC="$WORK/libjpeg-turbo-2.1.5"
# The two configuration headers CMake would write, for a 32-bit WebAssembly target: 8-bit samples, memory
# source manager, no SIMD, no arithmetic coding.
sed -e 's/@JPEG_LIB_VERSION@/62/' -e 's/@VERSION@/2.1.5/' -e 's/@LIBJPEG_TURBO_VERSION_NUMBER@/2001005/' \
  -e 's/@BITS_IN_JSAMPLE@/8/' -e 's/^#cmakedefine MEM_SRCDST_SUPPORTED 1/#define MEM_SRCDST_SUPPORTED 1/' \
  -e 's/^#cmakedefine .*//' "$SRC/jconfig.h.in" >"$SRC/jconfig.h"
sed -e 's/@BUILD@/20230208/' -e 's/@INLINE@/__inline__ __attribute__((always_inline))/' -e 's/@THREAD_LOCAL@//' \
  -e 's/@CMAKE_PROJECT_NAME@/libjpeg-turbo/' -e 's/@VERSION@/2.1.5/' -e 's/@SIZE_T@/4/' \
  -e 's/^#cmakedefine HAVE_BUILTIN_CTZL/#define HAVE_BUILTIN_CTZL/' -e 's/^#cmakedefine .*//' \
  "$SRC/jconfigint.h.in" >"$SRC/jconfigint.h"
sed -e 's/@COPYRIGHT_YEAR@/1991-2023/' "$SRC/jversion.h.in" >"$SRC/jversion.h"
cd "$SRC"
# The decoder's part of libjpeg-turbo's JPEG_SOURCES (CMakeLists.txt), and jsimd_none.c for "no SIMD".
DECODER="jcomapi.c jdapimin.c jdapistd.c jdatasrc.c jdcoefct.c jdcolor.c jddctmgr.c jdhuff.c jdinput.c jdmainct.c
  jdmarker.c jdmaster.c jdmerge.c jdphuff.c jdpostct.c jdsample.c jdtrans.c jerror.c jidctflt.c jidctfst.c jidctint.c
  jidctred.c jquant1.c jquant2.c jutils.c jmemmgr.c jmemnobs.c jsimd_none.c"
OUT="$ROOT/main/dicom/wasm"
mkdir -p "$OUT"
# shellcheck disable=SC2086
emcc -O3 -I"$SRC" "$HERE/jpeg_grey.c" $DECODER -o "$WORK/jpeg-grey.wasm" \
  --no-entry -sSTANDALONE_WASM=1 -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=2GB -sINITIAL_MEMORY=16MB \
  -sFILESYSTEM=0 -sERROR_ON_UNDEFINED_SYMBOLS=0
cp "$WORK/jpeg-grey.wasm" "$OUT/jpeg-grey.wasm"
cp "$SRC/LICENSE.md" "$OUT/LICENSE-libjpeg-turbo.md"
cp "$SRC/README.ijg" "$OUT/README-ijg.txt"
sha256sum "$OUT/jpeg-grey.wasm"
