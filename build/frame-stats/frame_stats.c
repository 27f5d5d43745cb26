/*
 * The two loops of `cvm info`'s frame statistics (main/dicom/frame-kernels.ts, used by frameStatistics in
 * main/dicom/pixels.ts) as WebAssembly: a new process runs a JavaScript loop over 4.8 million samples in V8's
 * interpreter until its optimising compiler gets a turn, while WebAssembly is compiled before its first call.
 * The caller places the samples and the counts in memory it grew for them; nothing here allocates.
 */
#include <stdint.h>
#include <wasm_simd128.h>

/*
 * The range of p[0..n) together with mn..mx so far, as (min << 16) | max; one function per sample width. The bulk
 * runs on 128-bit vectors (WebAssembly SIMD: 8 or 16 lanes, four vectors a step in two pairs of running minima and
 * maxima, which V8's baseline compiler, the one a new process runs, keeps up with), the tail sample by sample. A
 * runtime without SIMD refuses the module, and frame-kernels.ts runs the JavaScript loops instead.
 */
#define RANGE(name, sample, lanes, splat, vmin, vmax)                                                             \
  __attribute__((export_name(#name))) uint32_t name(const sample *p, uint32_t n, uint32_t mn, uint32_t mx) {      \
    uint32_t i = 0;                                                                                              \
    if (n >= 4 * lanes) {                                                                                        \
      v128_t lo0 = splat(mn), hi0 = splat(mx), lo1 = lo0, hi1 = hi0;                                             \
      for (; i + 4 * lanes <= n; i += 4 * lanes) {                                                               \
        v128_t a = wasm_v128_load(p + i), b = wasm_v128_load(p + i + lanes);                                     \
        v128_t c = wasm_v128_load(p + i + 2 * lanes), d = wasm_v128_load(p + i + 3 * lanes);                     \
        lo0 = vmin(lo0, vmin(a, b));                                                                             \
        hi0 = vmax(hi0, vmax(a, b));                                                                             \
        lo1 = vmin(lo1, vmin(c, d));                                                                             \
        hi1 = vmax(hi1, vmax(c, d));                                                                             \
      }                                                                                                          \
      sample l[lanes], h[lanes];                                                                                 \
      wasm_v128_store(l, vmin(lo0, lo1));                                                                        \
      wasm_v128_store(h, vmax(hi0, hi1));                                                                        \
      for (uint32_t k = 0; k < lanes; k++) {                                                                     \
        mn = l[k] < mn ? l[k] : mn;                                                                              \
        mx = h[k] > mx ? h[k] : mx;                                                                              \
      }                                                                                                          \
    }                                                                                                            \
    for (; i < n; i++) {                                                                                         \
      uint32_t v = p[i];                                                                                         \
      mn = v < mn ? v : mn;                                                                                      \
      mx = v > mx ? v : mx;                                                                                      \
    }                                                                                                            \
    return (mn << 16) | mx;                                                                                      \
  }
#define SPLAT16(v) wasm_i16x8_splat((int16_t)(v))
#define SPLAT8(v) wasm_i8x16_splat((int8_t)(v))
RANGE(range16, uint16_t, 8, SPLAT16, wasm_u16x8_min, wasm_u16x8_max)
RANGE(range8, uint8_t, 16, SPLAT8, wasm_u8x16_min, wasm_u8x16_max)

/* counts[v] += 1 for each sample v of p[from..to). */
#define COUNT(name, sample)                                                                                      \
  __attribute__((export_name(#name))) void name(const sample *p, uint32_t from, uint32_t to, uint32_t *counts) { \
    for (uint32_t i = from; i < to; i++) counts[p[i]]++;                                                         \
  }
COUNT(count16, uint16_t)
COUNT(count8, uint8_t)
