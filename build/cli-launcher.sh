#!/bin/sh
# dist/cli/cvm: the command line on Linux and macOS (copied there by build/bundle-cli.mjs), `dist/cli/cvm <command>`.
# It starts Node on dist/cli/cvm.mjs with glibc's malloc backing its large blocks with transparent huge pages
# (GLIBC_TUNABLES glibc.malloc.hugetlb=1, read by glibc only when a process starts, so it is set here). A decoded
# cephalogram and ONNX Runtime's buffers are fresh memory of several megabytes, and touching fresh memory a 4 KB page
# at a time is slow where page faults are (a virtual machine: 15 us a page here); 2 MB pages make those faults 500
# times fewer. A tunable the caller already set for hugetlb is kept; elsewhere (macOS, musl) glibc's variable is
# ignored. docs/performance.md, round 6, has the figures.
case ":${GLIBC_TUNABLES:-}:" in
  *:glibc.malloc.hugetlb=*) ;;
  *) GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.malloc.hugetlb=1" && export GLIBC_TUNABLES ;;
esac
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
