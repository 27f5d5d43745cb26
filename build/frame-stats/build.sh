#!/bin/sh
# Rebuilds main/dicom/wasm/frame-stats.wasm from frame_stats.c: a standalone WebAssembly module with SIMD (no
# JavaScript glue, no imports; main/dicom/frame-kernels.ts loads it). Needs Emscripten (Debian 12: `apt-get install
# emscripten`, 3.1.6). Only developers run this; `npm ci` and `npm run build` use the committed .wasm, and
# without it the same statistics come from the JavaScript loops.
set -eu
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
emcc -O3 -msimd128 "$HERE/frame_stats.c" -o "$WORK/frame-stats.wasm" --no-entry -sSTANDALONE_WASM=1 \
  -sTOTAL_STACK=65536 -sINITIAL_MEMORY=131072 -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=64MB -sFILESYSTEM=0
cp "$WORK/frame-stats.wasm" "$ROOT/main/dicom/wasm/frame-stats.wasm"
sha256sum "$ROOT/main/dicom/wasm/frame-stats.wasm"
