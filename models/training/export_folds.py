"""Export the cross-validation fold models, so that `cvm eval --folds` reproduces the cross-validated
figures through the app's own inference code (each image analysed by the fold model that held it out).

  python3 export_folds.py --cv-dir runs/cv --model ../cvm13-unet --out ../cvm13-unet/folds

Each fold becomes a complete model folder (manifest.json + locate.onnx + refine.onnx) with the shipped
model's processing and `training.heldOut` = that fold's validation images. They sit inside the model's
folder, where the app's model registry does not look, and are not packaged with the app.
"""
import argparse
import copy
import json
import os

import torch

from export import export, load_13, sha256

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cv-dir", default=os.path.join(HERE, "runs", "cv"))
    ap.add_argument("--model", default=os.path.join(HERE, "..", "cvm13-unet"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "cvm13-unet", "folds"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    shipped = json.load(open(os.path.join(args.model, "manifest.json")))
    predictions = json.load(open(os.path.join(args.cv_dir, "cv_predictions.json")))
    folds = sorted({p["fold"] for p in predictions})
    for fold in folds:
        out = os.path.join(args.out, fold)
        os.makedirs(out, exist_ok=True)
        loc, _ = load_13(os.path.join(args.cv_dir, fold, "locate.pt"))
        ref, _ = load_13(os.path.join(args.cv_dir, fold, "refine.pt"))
        stages = shipped["stages"]
        export(loc, tuple(stages["locate"]["input"]["shape"]), os.path.join(out, "locate.onnx"))
        export(ref, tuple(stages["refine"]["input"]["shape"]), os.path.join(out, "refine.onnx"))
        m = copy.deepcopy(shipped)
        m["id"] = "%s-%s" % (shipped["id"], fold)
        held_out = sorted(p["id"] for p in predictions if p["fold"] == fold)
        m["training"] = {
            "data": shipped["training"]["data"] + "; this fold model did not learn the vertebral landmarks of its held-out images",
            "recipe": shipped["training"]["recipe"],
            "heldOut": held_out,
            "notes": "cross-validation fold %s of the shipped model's recipe" % fold,
        }
        m["accuracy"] = None
        m["stages"]["locate"]["sha256"] = sha256(os.path.join(out, "locate.onnx"))
        m["stages"]["refine"]["sha256"] = sha256(os.path.join(out, "refine.onnx"))
        json.dump(m, open(os.path.join(out, "manifest.json"), "w"), indent=2)
        print(fold, "held out", len(held_out), "images ->", out)


if __name__ == "__main__":
    main()
