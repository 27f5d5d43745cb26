#!/bin/sh
# dist/cli/cvm: the command line on Linux and macOS (copied there by build/bundle-cli.mjs), `dist/cli/cvm <command>`.
# It starts Node on dist/cli/cvm.mjs with glibc's malloc set for a short process that touches a lot of fresh memory
# (GLIBC_TUNABLES, read by glibc only when a process starts, so it is set here). A decoded cephalogram and ONNX
# Runtime's buffers are fresh memory of several megabytes, and touching fresh memory a 4 KB page at a time is slow
# where page faults are (a virtual machine: 10-15 us a page here):
# - glibc.malloc.hugetlb=1: large blocks on transparent huge pages, 2 MB a fault instead of 4 KB;
# - glibc.malloc.arena_max=1: every thread allocates from the one heap that gets them; a thread's own arena (the
#   inference worker's, ONNX Runtime's threads') is grown a few pages at a time and faulted 4 KB at a time;
# - glibc.malloc.mmap_threshold=33554432 and glibc.malloc.top_pad=16777216: blocks up to 32 MB come from that heap,
#   grown 16 MB at a time and reused, instead of each being mapped fresh and unmapped when freed.
# A cold `cvm analyze` faulted 26,000 pages with hugetlb alone and 9,000 with all four (docs/performance.md,
# round 12). A tunable the caller already set is kept; elsewhere (macOS, musl) glibc's variable is ignored.
for tunable in glibc.malloc.hugetlb=1 glibc.malloc.arena_max=1 glibc.malloc.mmap_threshold=33554432 \
  glibc.malloc.top_pad=16777216; do
  case ":${GLIBC_TUNABLES:-}:" in
    *":${tunable%%=*}="*) ;;
    *) GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}$tunable" ;;
  esac
done
export GLIBC_TUNABLES
# Node reads the CA bundle NODE_EXTRA_CA_CERTS names at every start (40-50 ms here), though only `cvm pacs` makes
# TLS connections: every other command starts without it.
[ "${1:-}" = pacs ] || unset NODE_EXTRA_CA_CERTS
# The folder by parameter expansion, not dirname: a process less (a few ms of a command like `cvm info`).
case "$0" in
  */*) dir=${0%/*} ;;
  *) dir=. ;;
esac
# `cvm info` straight from its CommonJS launcher (build/cli-info-launcher.cjs), `cvm analyze` from its CommonJS bundle
# (main/cli/analyze-main.ts): an ESM entry costs a Node start a few ms more.
[ "${1:-}" = info ] && [ -f "$dir/info.cjs" ] && exec node "$dir/cvm-info.cjs" "$@"
[ "${1:-}" = analyze ] && [ -f "$dir/analyze.cjs" ] && exec node "$dir/analyze.cjs" "$@"
exec node "$dir/cvm.mjs" "$@"
