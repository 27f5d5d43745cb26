/*
 * The two loops of `cvm info`'s frame statistics (main/dicom/frame-kernels.ts, used by frameStatistics in
 * main/dicom/pixels.ts) as WebAssembly: a new process runs a JavaScript loop over 4.8 million samples in V8's
 * interpreter until its optimising compiler gets a turn, while WebAssembly is compiled before its first call.
 * The caller places the samples and the counts in memory it grew for them; nothing here allocates.
 */
#include <stdint.h>

/* The range of p[0..n) together with mn..mx so far, as (min << 16) | max. */
__attribute__((export_name("range16"))) uint32_t range16(const uint16_t *p, uint32_t n, uint32_t mn, uint32_t mx) {
  for (uint32_t i = 0; i < n; i++) {
    uint32_t v = p[i];
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  return (mn << 16) | mx;
}

__attribute__((export_name("range8"))) uint32_t range8(const uint8_t *p, uint32_t n, uint32_t mn, uint32_t mx) {
  for (uint32_t i = 0; i < n; i++) {
    uint32_t v = p[i];
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  return (mn << 16) | mx;
}

/* counts[v] += 1 for each sample v of p[from..to). */
__attribute__((export_name("count16"))) void count16(const uint16_t *p, uint32_t from, uint32_t to, uint32_t *counts) {
  for (uint32_t i = from; i < to; i++) counts[p[i]]++;
}

__attribute__((export_name("count8"))) void count8(const uint8_t *p, uint32_t from, uint32_t to, uint32_t *counts) {
  for (uint32_t i = from; i < to; i++) counts[p[i]]++;
}
