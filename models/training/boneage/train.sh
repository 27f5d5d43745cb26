#!/usr/bin/env bash
# The reproducible recipe of models/boneage-rsna100 and models/radiograph-kind (see README.md here).
#   bash models/training/boneage/train.sh                     # FOLDS=0: what this 2-core machine allowed
#   FOLDS=0,1,2,3,4 bash models/training/boneage/train.sh     # the full 5-fold ensemble (GPU: minutes)
#   CVM_DATA=/path/to/shared/data bash ...
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-/usr/bin/python3}
FOLDS=${FOLDS:-0}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export MALLOC_MMAP_THRESHOLD_=1000000000000 MALLOC_TRIM_THRESHOLD_=1000000000000 MALLOC_TOP_PAD_=536870912
mkdir -p runs/round2 runs/kind
start=$(date +%s)
# round 1: 5 epochs, one-cycle up to 3e-3; round 2: 5 more epochs from those weights, one-cycle up to 1e-3
$PY train_boneage.py --epochs 5 --lr 3e-3 --folds "$FOLDS" --threads 1 --out runs
$PY train_boneage.py --epochs 5 --lr 1e-3 --aug light --l1 1.0 --init runs --folds "$FOLDS" --threads 1 --out runs/round2
$PY train_kind.py --steps 800 --threads 1 --out runs/kind
$PY export.py --boneage-run runs/round2 --kind-run runs/kind
echo "total wall time: $(( $(date +%s) - start )) s"
