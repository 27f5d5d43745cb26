/**
 * What dist/cli/cvm (build/cli-launcher.sh) adds to GLIBC_TUNABLES when the caller has not set the same tunable:
 * glibc's malloc set for a short process that touches a lot of fresh memory (the launcher says why, and
 * docs/performance.md round 12 has the figures). The bench strips them for the native tools it compares with; a
 * test checks the launcher against this list.
 */
export const LAUNCHER_TUNABLES = [
  'glibc.malloc.hugetlb=1',
  'glibc.malloc.arena_max=1',
  'glibc.malloc.mmap_threshold=33554432',
  'glibc.malloc.top_pad=16777216',
] as const;
