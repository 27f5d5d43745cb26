"""Export an independently trained stage-2 ensemble member (train.py --stage refine --member-seed N) into a
model folder and its fold folders, next to their own refine.onnx, and list it in each manifest's
stages.refine.ensemble (file + sha256; the app refuses a file that does not match).

  python3 export_member.py --ckpt-dir runs/member1 --model ../cvm13-unet --file refine-m1.onnx
  python3 export_member.py --ckpt-dir runs/dev --model ../cvm13-unet --file refine-m2.onnx       # since 1.3.0

For every fold folder of <model>/folds (foldN), runs/member1/foldN/refine.pt is exported; its checkpoint must
have been trained on exactly that fold model's training images and must hold out exactly its heldOut images
(cross-validation stays honest: checked, not assumed). <model> itself gets runs/member1/foldall/refine.pt,
which must have been trained on all annotated images. The member shares the model's stage 1 and processing:
input/output shapes and mm per pixel are checked against the manifest.
"""
import argparse
import json
import os

import torch

from export import export, fold_checkpoint, sha256

HERE = os.path.dirname(os.path.abspath(__file__))


def add_member(folder, ckpt, file, expect_held_out):
    mp = os.path.join(folder, "manifest.json")
    m, model, ck = fold_checkpoint(folder, ckpt, "refine", expect_held_out)
    cfg = ck["cfg"]
    ref = m["stages"]["refine"]
    _, _, H, W = ref["input"]["shape"]
    if (cfg["refine_h"], cfg["refine_w"], cfg["mm_per_px"]) != (H, W, ref["mmPerPixel"]):
        raise SystemExit("%s: crop %dx%d at %s mm/px, the manifest's stage 2 is %dx%d at %s" % (
            ckpt, cfg["refine_w"], cfg["refine_h"], cfg["mm_per_px"], W, H, ref["mmPerPixel"]))
    if file == ref["file"]:
        raise SystemExit("%s is the model's own refine file" % file)
    info = export(model, (1, 1, H, W), os.path.join(folder, file))
    seed = cfg["seed"] if cfg.get("member_seed") is None else cfg["member_seed"]
    entry = {"file": file, "sha256": sha256(os.path.join(folder, file)), "seed": seed,
             "trainSeconds": round(ck["seconds"], 1), "bytes": info["bytes"]}
    if cfg.get("device_processing"):  # trained on what devices do to their exports (train.py --device-processing)
        entry["augmentation"] = "device processing"
    ens = ref.get("ensemble", [])
    # a member exported again keeps its place: the decoding's test-time passes refer to members by index
    ref["ensemble"] = [entry if e["file"] == file else e for e in ens] if any(e["file"] == file for e in ens) \
        else ens + [entry]
    json.dump(m, open(mp, "w"), indent=2)
    open(mp, "a").write("\n")
    print("%s: %s (member seed %s, %d training images, held out %d) sha256 %s" % (
        folder, file, cfg.get("member_seed"), len(cfg["train_ids"]), len(cfg["val_ids"]), entry["sha256"][:12]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt-dir", required=True, help="train.py --out of the member (foldN/refine.pt, foldall/refine.pt)")
    ap.add_argument("--model", default=os.path.join(HERE, "..", "cvm13-unet"))
    ap.add_argument("--file", required=True, help="file name of the member in each folder, e.g. refine-m1.onnx")
    ap.add_argument("--folds-only", action="store_true", help="only the fold folders (not the final model)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    folds_dir = os.path.join(args.model, "folds")
    for fold in sorted(f for f in os.listdir(folds_dir) if f.startswith("fold")):
        add_member(os.path.join(folds_dir, fold), os.path.join(args.ckpt_dir, fold, "refine.pt"), args.file, True)
    if not args.folds_only:
        add_member(args.model, os.path.join(args.ckpt_dir, "foldall", "refine.pt"), args.file, False)


if __name__ == "__main__":
    main()
