/*
 * The two loops of `cvm info`'s frame statistics (main/dicom/frame-kernels.ts, used by frameStatistics in
 * main/dicom/pixels.ts) as WebAssembly: a new process runs a JavaScript loop over 4.8 million samples in V8's
 * interpreter until its optimising compiler gets a turn, while WebAssembly is compiled before its first call.
 * The caller places the samples and the counts in memory it grew for them; nothing here allocates.
 */
#include <stdint.h>

/* The range of p[0..n) together with mn..mx so far, as (min << 16) | max; one function per sample width. */
#define RANGE(name, sample)                                                                                      \
  __attribute__((export_name(#name))) uint32_t name(const sample *p, uint32_t n, uint32_t mn, uint32_t mx) {      \
    for (uint32_t i = 0; i < n; i++) {                                                                           \
      uint32_t v = p[i];                                                                                         \
      mn = v < mn ? v : mn;                                                                                      \
      mx = v > mx ? v : mx;                                                                                      \
    }                                                                                                            \
    return (mn << 16) | mx;                                                                                      \
  }
RANGE(range16, uint16_t)
RANGE(range8, uint8_t)

/* counts[v] += 1 for each sample v of p[from..to). */
#define COUNT(name, sample)                                                                                      \
  __attribute__((export_name(#name))) void name(const sample *p, uint32_t from, uint32_t to, uint32_t *counts) { \
    for (uint32_t i = from; i < to; i++) counts[p[i]]++;                                                         \
  }
COUNT(count16, uint16_t)
COUNT(count8, uint8_t)
