#!/usr/bin/env bash
# Checks the Debian packages of the training environment against debian-packages.txt (exact versions) and
# that the interpreter is Debian's. Exit 1 with the differences; CVM_TRAIN_ANY_ENV=1 turns them into warnings.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PY=${PYTHON:-/usr/bin/python3}
bad=0
while IFS='=' read -r pkg want; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  have=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
  if [[ "$have" != "$want" ]]; then
    echo "check_env: $pkg is ${have:-not installed}, the recipe was run with $want" >&2
    bad=1
  fi
done < "$HERE/debian-packages.txt"
if [[ "$(readlink -f "$(command -v "$PY")")" != /usr/bin/python3* ]]; then
  echo "check_env: $PY is not Debian's /usr/bin/python3 (its packages are what debian-packages.txt pins)" >&2
  bad=1
fi
if [[ $bad -ne 0 ]]; then
  if [[ "${CVM_TRAIN_ANY_ENV:-0}" == 1 ]]; then
    echo "check_env: CVM_TRAIN_ANY_ENV=1: continuing; the figures may differ from the manifest's" >&2
    exit 0
  fi
  echo "check_env: install the pinned versions (see debian-packages.txt) or set CVM_TRAIN_ANY_ENV=1" >&2
  exit 1
fi
echo "check_env: Debian packages as pinned in debian-packages.txt"
