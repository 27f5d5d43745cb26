#!/usr/bin/env bash
# The reproducible recipe of models/cvm13-unet: 5-fold cross-validation of the whole two-stage pipeline,
# the final model on all 54 cvm13 images, ONNX export and manifest (with sha256 and the CV figures).
# Runs on CPU (3 lanes of 1 thread each) or on a CUDA GPU, unchanged.
#   bash models/training/train.sh                  # data from ../shared/data next to the repo
#   CVM_DATA=/path/to/shared/data bash models/training/train.sh
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-/usr/bin/python3}
PYTHON="$PY" bash ./check_env.sh                  # the pinned Debian packages (debian-packages.txt)
OUT=${OUT:-runs}
STEPS=${STEPS:-"--locate-steps 300 --refine-steps 800"}
# Stage 1 also learns smaller fields of view (1.2.0): 6 of each batch of 16 show the column 1.2-2.2 times as large
ZOOM="--locate-zoom 2.2 --locate-zoom-min 1.2 --locate-zoom-share 0.375 --locate-zoom-source 2"
COMMON="--seed 0 --folds 5 --locate-size 128 --locate-base 8 --refine-base 8 --refine-w 128 --refine-h 160 --mm-per-px 0.35 --threads 1 $ZOOM $STEPS"
mkdir -p "$OUT/cv"
# glibc returns large freed blocks to the OS by default, and the page faults of re-allocating them cost
# ~40% of the CPU time on this workload: keep them in the heap instead
export MALLOC_MMAP_THRESHOLD_=1000000000000 MALLOC_TRIM_THRESHOLD_=1000000000000 MALLOC_TOP_PAD_=536870912
start=$(date +%s)
$PY -c "from dataset import Data; Data()"          # build the image caches once
lane() { for f in "$@"; do $PY train.py --stage both --fold "$f" --out "$OUT/cv" $COMMON > "$OUT/cv/log_fold$f.txt" 2>&1; done; }
# three lanes in parallel (1 thread each): the final model (fold "all") first so that it is available early
lane all 2 &
lane 0 3 &
lane 1 4 &
wait
# The ensemble's second stage-2 network: the same recipe and fold split (--seed 0), its own initialisation and
# augmentation draws (--member-seed 1); stage 1 is shared, so only stage 2 is trained (the accuracy is decided there).
mkdir -p "$OUT/member1"
mlane() { for f in "$@"; do $PY train.py --stage refine --member-seed 1 --fold "$f" --out "$OUT/member1" $COMMON > "$OUT/member1/log_fold$f.txt" 2>&1; done; }
mlane all 2 &
mlane 0 3 &
mlane 1 4 &
wait
# Two more stage-2 networks (1.3.0), trained on device-processed films too (--device-processing: unsharp masking,
# a narrowed window, both): the first with member 0's seed, the second with member 1's. Members 0 and 2 read the
# crop as is, members 1 and 3 the crop turned by -8 and +8 degrees (fit_decoding.py TEST_TIME).
mkdir -p "$OUT/dev" "$OUT/dev-member1"
dlane() { for f in "$@"; do $PY train.py --stage refine --device-processing --fold "$f" --out "$OUT/dev" $COMMON > "$OUT/dev/log_fold$f.txt" 2>&1; done; }
dmlane() { for f in "$@"; do $PY train.py --stage refine --device-processing --member-seed 1 --fold "$f" --out "$OUT/dev-member1" $COMMON > "$OUT/dev-member1/log_fold$f.txt" 2>&1; done; }
dlane all 0 1 2 &
(dlane 3 4; dmlane all 0) &
dmlane 1 2 3 4 &
wait
train_end=$(date +%s)
echo "training wall time: $((train_end - start)) s"
$PY evaluate.py --run "$OUT/cv" --threads 2 --png "$OUT/cv_examples.png"
$PY export.py --ckpt "$OUT/cv/foldall" --cv "$OUT/cv/cv_metrics.json" --out ../cvm13-unet \
  --train-wall-s $((train_end - start)) --version 1.3.0
# The fold models, so that `cvm eval --folds models/cvm13-unet/folds` reproduces the CV figures in the app.
$PY export_folds.py --cv-dir "$OUT/cv" --model ../cvm13-unet --out ../cvm13-unet/folds
# The second member next to each fold's and the final model's refine.onnx (manifest stages.refine.ensemble).
$PY export_member.py --ckpt-dir "$OUT/member1" --model ../cvm13-unet --file refine-m1.onnx
$PY export_member.py --ckpt-dir "$OUT/dev" --model ../cvm13-unet --file refine-m2.onnx
$PY export_member.py --ckpt-dir "$OUT/dev-member1" --model ../cvm13-unet --file refine-m3.onnx
# decoding.json of every model: shape models and test-time parameters, the cross-validated dump through the app's
# own pipeline (node), then the expected-error calibration and the image verdict's threshold (docs/inference.md).
case "$OUT" in /*) DUMP="$OUT/cvm13-cv-dump" ;; *) DUMP="$(pwd)/$OUT/cvm13-cv-dump" ;; esac
$PY fit_decoding.py shapes
(cd ../.. && npx tsx models/training/dump_cv_heatmaps.mts "$DUMP")
CV_DUMP="$DUMP" $PY fit_decoding.py
# The figures the app measures (cvm eval --folds, each image by the fold model that held it out) into the manifest.
(cd ../.. && npm run -s cvm -- eval --annotations "${CVM_DATA:-../shared/data}/cvm13/annotations.json" \
  --folds models/cvm13-unet/folds --json > "$DUMP.eval.json")
$PY record_cv.py "$DUMP.eval.json" --model ../cvm13-unet
echo "total wall time: $(( $(date +%s) - start )) s"
