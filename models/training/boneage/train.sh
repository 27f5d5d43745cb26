#!/usr/bin/env bash
# The reproducible recipe of models/boneage-rsna100 (and models/radiograph-kind with KIND=1); see README.md here.
#   bash models/training/boneage/train.sh              # the recipe of what ships: all five folds, LAST rounds (7 + 10 + 6 + 6 + 5 + 6 + ... epochs), one CPU thread
#   FOLDS=0 bash models/training/boneage/train.sh      # a single fold (a one-member "ensemble")
#   FROM_ONNX=dir/boneage.onnx FIRST=10 bash ...       # continue: recover rounds 1..FIRST-1 from a shipped graph (its
#                                                      # manifest.json beside it; from_onnx.py), train rounds FIRST..LAST
#   KIND=1 bash models/training/boneage/train.sh       # also retrain the radiograph-kind classifier
#   CVM_DATA=/path/to/shared/data bash ...             # CUDA is used when present
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-/usr/bin/python3}
FOLDS=${FOLDS:-0,1,2,3,4}
KIND=${KIND:-0}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
export MALLOC_MMAP_THRESHOLD_=1000000000000 MALLOC_TRIM_THRESHOLD_=1000000000000 MALLOC_TOP_PAD_=536870912
LAST=${LAST:-14}   # 3.7.0: fourteen rounds (rounds 10-14 trained on top of 3.6.0's nine)
mkdir -p runs/boneage runs/kind
start=$(date +%s)
if [ -n "${FROM_ONNX:-}" ]; then
  FIRST=${FIRST:?FIRST: the first round to train on top of the graph}
  prev=runs/boneage$((FIRST - 1))
  $PY from_onnx.py --onnx "$FROM_ONNX" --out $prev --threads 1
else
  FIRST=3
  # one round per fold: BoneAgeVGG (two 3x3 convs at 100, 50, 25 and 12 pixels of 12/24/48/96 channels, one of
  # 192 at 6), 7 epochs, one-cycle to 3e-3, AdamW (weight decay 1e-4), batch 64, light augmentation (geometric only),
  # L1 on the mean + 0.5 x Gaussian NLL of the log-variance around the detached mean, bfloat16 body on a CPU
  $PY train_boneage.py --arch vgg --width 12,24,48,96,192 --sexin 0 --epochs 7 --lr 3e-3 --bs 64 --aug light --nll 0.5 \
    --folds "$FOLDS" --threads 1 --out runs/boneage
  # BatchNorm statistics re-estimated on plain training images (the augmented ones shifted them: see update_bn.py)
  $PY update_bn.py --run runs/boneage --images 2048 --threads 1
  # second round (3.1.0): each fold continues from its own first-round model (runs/boneage/fold{k}.pt, so it never
  # sees its held-out images), 10 more epochs, one-cycle to 1e-3, other batches and augmentations than round one
  $PY train_boneage.py --arch vgg --width 12,24,48,96,192 --sexin 0 --epochs 10 --lr 1e-3 --bs 64 --aug light --nll 0.5 \
    --init runs/boneage --folds "$FOLDS" --threads 1 --out runs/boneage2
  $PY update_bn.py --run runs/boneage2 --images 2048 --threads 1
  prev=runs/boneage2
fi
# rounds 3-5 (3.2.0), 6 (3.3.0), 7 (3.4.0), 8 (3.5.0), 9 (3.6.0) and 10-LAST (3.7.0): each fold continues from its
# own model of the round before (BatchNorm-updated), 6 more epochs (5 in round 5), one-cycle to 5e-4; --draw r-3
# gives each round other batches and augmentations than the rounds before
for r in $(seq $FIRST $LAST); do
  $PY train_boneage.py --arch vgg --width 12,24,48,96,192 --sexin 0 --epochs $([ $r = 5 ] && echo 5 || echo 6) --lr 5e-4 --bs 64 --aug light --nll 0.5 \
    --init $prev --draw $((r - 3)) --folds "$FOLDS" --threads 1 --out runs/boneage$r
  $PY update_bn.py --run runs/boneage$r --images 2048 --threads 1
  prev=runs/boneage$r
done
# the out-of-fold figures of every round (and of the levers that were measured and not shipped)
$PY oof_eval.py $(for r in $(seq $((FIRST - 1)) $LAST); do echo runs/boneage$r; done)
if [ "$KIND" = 1 ]; then
  $PY train_kind.py --steps 3000 --threads 1 --device-processing --out runs/kind
  $PY export.py --boneage-run $prev --kind-run runs/kind
else
    $PY export.py --boneage-run $prev --only boneage
fi
echo "total wall time: $(( $(date +%s) - start )) s"
