"""Export the final two-stage model to ONNX and write models/cvm13-unet/manifest.json.

  python3 export.py --ckpt runs/cv/foldall --cv runs/cv/cv_metrics.json --out ../cvm13-unet

Input name "image" [1,1,H,W] float32 (z-scored), output name "heatmaps" [1,13,H,W]; only the 13 vertebral
channels of stage 1 are exported (the 19 auxiliary face channels are dropped from the 1x1 head).
Checks each file with onnx.checker and, where onnxruntime is importable (or installed under
runs/ort), compares it numerically with torch and times it.
"""
import argparse
import datetime
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch

from dataset import LANDMARKS
from model import Heatmaps, UNet, n_params

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 13


def load_13(path):
    """Checkpoint -> inference model (model.Heatmaps) with a 13-channel head (stage 1's 19 auxiliary
    face-landmark channels are cut from the 1x1 head, so they cost nothing at inference)."""
    ck = torch.load(path, map_location="cpu")
    sd = {k: (v[:13] if k.startswith("head.") else v) for k, v in ck["state"].items()}
    m = UNet(13, ck["base"])
    m.load_state_dict(sd)
    return Heatmaps(m, ck["sigma"], 13).eval(), ck


def fold_checkpoint(folder, ckpt, stage, expect_held_out):
    """(manifest, network, checkpoint) of a checkpoint meant for a model folder: the stage it holds, and (cross-
    validation stays honest) exactly the folder's held-out images held out, no image outside its training.images
    learnt. expect_held_out False: the final model, which holds out nothing."""
    m = json.load(open(os.path.join(folder, "manifest.json")))
    model, ck = load_13(ckpt)
    cfg = ck["cfg"]
    if ck["stage"] != stage:
        raise SystemExit("%s is a %s checkpoint, not %s" % (ckpt, ck["stage"], stage))
    held = sorted(m["training"].get("heldOut", [])) if expect_held_out else []
    if sorted(cfg["val_ids"]) != held:
        raise SystemExit("%s held out %s, %s holds out %s: not the same fold" % (ckpt, cfg["val_ids"], folder, held))
    if not set(cfg["train_ids"]) <= set(m["training"]["images"]) or set(cfg["train_ids"]) & set(held):
        raise SystemExit("%s learnt from images outside %s's training.images" % (ckpt, folder))
    return m, model, ck


def export(model, shape, path):
    x = torch.randn(*shape)
    torch.onnx.export(model, x, path, opset_version=OPSET, input_names=["image"], output_names=["heatmaps"],
                      do_constant_folding=True)
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    out = {"ops": sorted({n.op_type for n in m.graph.node}), "bytes": os.path.getsize(path)}
    try:
        try:
            import onnxruntime as ort
        except ImportError:
            sys.path.insert(0, os.path.join(HERE, "runs", "ort"))
            import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = 2
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        xs = torch.randn(*shape)
        with torch.no_grad():
            ref = model(xs).numpy()
        got = sess.run(["heatmaps"], {"image": xs.numpy()})[0]
        ts = []
        for _ in range(20):
            t = time.time()
            sess.run(["heatmaps"], {"image": xs.numpy()})
            ts.append(time.time() - t)
        out.update({"onnxruntime": ort.__version__, "max_abs_diff_vs_torch": float(np.abs(ref - got).max()),
                    "ort_cpu_ms_median_2threads": round(1000 * float(np.median(ts)), 1)})
    except ImportError:
        out["onnxruntime"] = "not available: numeric check skipped"
    return out


def data_ids():
    from dataset import DEFAULT_DATA
    import csv
    rows = list(csv.reader(open(os.path.join(DEFAULT_DATA, "isbi2015", "isbi19_landmarks.csv"))))
    return [r[0] for r in rows[1:]]


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=os.path.join(HERE, "runs", "cv", "foldall"))
    ap.add_argument("--cv", default=os.path.join(HERE, "runs", "cv", "cv_metrics.json"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "cvm13-unet"))
    ap.add_argument("--train-wall-s", type=float, default=None)
    ap.add_argument("--version", default="1.0.0")
    args = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)
    loc, ckl = load_13(os.path.join(args.ckpt, "locate.pt"))
    ref, ckr = load_13(os.path.join(args.ckpt, "refine.pt"))
    cfg = ckr["cfg"]
    S, W, H, mmpp = cfg["locate_size"], cfg["refine_w"], cfg["refine_h"], cfg["mm_per_px"]
    info_l = export(loc, (1, 1, S, S), os.path.join(args.out, "locate.onnx"))
    info_r = export(ref, (1, 1, H, W), os.path.join(args.out, "refine.onnx"))
    print("locate.onnx", info_l)
    print("refine.onnx", info_r)

    acc = {"protocol": "pending: cross-validation not run yet (placeholder)"}
    if args.cv and os.path.exists(args.cv):
        cv = json.load(open(args.cv))
        acc = {k: cv[k] for k in ["protocol", "images", "landmarks_measured", "mre_mm", "median_mm", "sd_mm",
                                  "max_mm", "sdr_1mm", "sdr_2mm", "sdr_2_5mm", "sdr_4mm", "per_landmark_mm",
                                  "wrong_vertebra", "nearest_annotation_on_other_vertebra", "stage1",
                                  "human_reference"]}
        acc["human_reference"] = {k: v for k, v in cv["human_reference"].items()}
    manifest = {
        "id": "cvm13-unet",
        "version": args.version,
        "createdAt": datetime.datetime.utcnow().replace(microsecond=0).isoformat() + "Z",
        "license": ("Weights trained on the ISBI 2015 Grand Challenge cephalometric dataset (Wang et al.; "
                    "research use only) and on the cvm13 C2-C4 annotations derived from "
                    "nhthanh0809/CVM_assessment (MIT). Research use; not for clinical decisions."),
        "landmarks": LANDMARKS,
        "training": {
            "data": ("stage 1: 376 ISBI 2015 cephalograms (0.1 mm/px), 13 cvm13 vertebral heatmaps on the 54 "
                     "annotated images + 19 ISBI face landmarks as an auxiliary task on all 376 (not exported); "
                     "stage 2: the 54 cvm13 images"),
            "recipe": "models/training/train.sh",
            # every image the shipped weights saw (stage 1 used all 376 ISBI images, 54 of them with the
            # vertebral landmarks; stage 2 the 54 cvm13 images)
            "images": data_ids(),
            "seed": cfg["seed"],
            "notes": ("U-Net heatmap regression (base %d channels, depth 4, BatchNorm folded), Gaussian targets "
                      "(sigma %.1f / %.1f input px), spatial-softmax cross-entropy (exported with the softmax, scaled by 2*pi*sigma^2 so that a confident peak is ~1), Adam + cosine LR, %d + %d steps (batch %d / %d). "
                      "Stage 1: whole films rotated +-10 deg, scaled +-12%%, and (since 1.2.0) views of a smaller field "
                      "of view, the column 1.2-2.2 times as large. "
                      "Stage 2 training crops centred on the annotated mean, jittered +-%.0f mm, rotated +-15 deg, "
                      "scaled +-10%%, gamma/contrast/brightness/blur/noise/inversion. Final model trained on all "
                      "54 images with the same recipe as the CV folds."
                      % (ckr["base"], cfg["locate_sigma"], cfg["refine_sigma"], cfg["locate_steps"],
                         cfg["refine_steps"], cfg["batch_locate"], cfg["batch_refine"], cfg["jitter_mm"])),
            "torch": torch.__version__,
            "train_seconds": {"locate": round(ckl["seconds"], 1), "refine": round(ckr["seconds"], 1)},
            "recipe_wall_seconds": args.train_wall_s,
            "params": {"locate": n_params(loc), "refine": n_params(ref)},
            "export": {"opset": OPSET, "locate": info_l, "refine": info_r},
        },
        "accuracy": acc,
        # peak values of the exported heatmaps: in cross-validation the 1st percentile of the final
        # confidences was ~0.46 and the minimum ~0.24, so the app's default threshold (0.3) is kept explicitly
        "quality": {"minConfidence": 0.3},
        "stages": {
            "locate": {
                "file": "locate.onnx", "sha256": sha256(os.path.join(args.out, "locate.onnx")),
                "input": {"name": "image", "shape": [1, 1, S, S]},
                "output": {"name": "heatmaps", "shape": [1, 13, S, S]},
                "heatmapStride": 1,
                "normalization": "zscore",
                "resize": "letterbox-area",
            },
            "refine": {
                "file": "refine.onnx", "sha256": sha256(os.path.join(args.out, "refine.onnx")),
                "input": {"name": "image", "shape": [1, 1, H, W]},
                "output": {"name": "heatmaps", "shape": [1, 13, H, W]},
                "heatmapStride": 1,
                "normalization": "zscore",
                "mmPerPixel": mmpp,
                "roiMm": [round(W * mmpp, 4), round(H * mmpp, 4)],
            },
        },
    }
    json.dump(manifest, open(os.path.join(args.out, "manifest.json"), "w"), indent=2)
    print("wrote", os.path.join(args.out, "manifest.json"))


if __name__ == "__main__":
    main()
