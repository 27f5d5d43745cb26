"""Export retrained stage-1 networks (train.py --stage locate) into a model folder and its fold folders, in place
of their locate.onnx, and update each manifest's stages.locate.sha256 and training record (the app refuses a
file that does not match).

  python3 export_locate.py --ckpt-dir runs/locate --model ../cvm13-unet --version 1.2.0

For every fold folder of <model>/folds (foldN), <ckpt-dir>/foldN/locate.pt is exported; it must hold out exactly
that fold model's heldOut images and have learnt the vertebral landmarks of no other image than its
training.images (cross-validation stays honest: checked, not assumed). <model> itself gets
<ckpt-dir>/foldall/locate.pt, which must have held out nothing. Stage 2 and the processing are unchanged: the
input shape is checked against the manifest.
"""
import argparse
import json
import os

import torch

from export import export, fold_checkpoint, sha256

HERE = os.path.dirname(os.path.abspath(__file__))


def replace_locate(folder, ckpt, expect_held_out, version):
    mp = os.path.join(folder, "manifest.json")
    m, model, ck = fold_checkpoint(folder, ckpt, "locate", expect_held_out)
    cfg = ck["cfg"]
    loc = m["stages"]["locate"]
    if tuple(loc["input"]["shape"]) != (1, 1, cfg["locate_size"], cfg["locate_size"]):
        raise SystemExit("%s: stage-1 input %d px, the manifest's is %s" % (ckpt, cfg["locate_size"], loc["input"]["shape"]))
    info = export(model, tuple(loc["input"]["shape"]), os.path.join(folder, loc["file"]))
    loc["sha256"] = sha256(os.path.join(folder, loc["file"]))
    if version:
        m["version"] = version
    m["training"]["stage1"] = {
        "steps": cfg["locate_steps"], "batch": cfg["batch_locate"],
        "zoom": [cfg.get("locate_zoom_min", 1.2), cfg.get("locate_zoom", 1.0)] if cfg.get("locate_zoom", 1.0) > 1 else None,
        "zoomShare": cfg.get("locate_zoom_share", 0.0) if cfg.get("locate_zoom", 1.0) > 1 else 0.0,
        "trainSeconds": round(ck["seconds"], 1), "bytes": info["bytes"],
    }
    if "train_seconds" in m["training"]:
        m["training"]["train_seconds"]["locate"] = round(ck["seconds"], 1)
    json.dump(m, open(mp, "w"), indent=2)
    open(mp, "a").write("\n")
    print("%s: %s (%d steps, zoom up to %.2f, %d training images, held out %d) sha256 %s" % (
        folder, loc["file"], cfg["locate_steps"], cfg.get("locate_zoom", 1.0), len(cfg["train_ids"]),
        len(cfg["val_ids"]), loc["sha256"][:12]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt-dir", required=True, help="train.py --out of stage 1 (foldN/locate.pt, foldall/locate.pt)")
    ap.add_argument("--model", default=os.path.join(HERE, "..", "cvm13-unet"))
    ap.add_argument("--folds-only", action="store_true", help="only the fold folders (not the final model)")
    ap.add_argument("--version", default=None, help="the model's new version (all folders)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    folds_dir = os.path.join(args.model, "folds")
    for fold in sorted(f for f in os.listdir(folds_dir) if f.startswith("fold")):
        replace_locate(os.path.join(folds_dir, fold), os.path.join(args.ckpt_dir, fold, "locate.pt"), True, args.version)
    if not args.folds_only:
        replace_locate(args.model, os.path.join(args.ckpt_dir, "foldall", "locate.pt"), False, args.version)


if __name__ == "__main__":
    main()
