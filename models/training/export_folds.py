"""Export the cross-validation fold models, so that `cvm eval --folds` reproduces the cross-validated
figures through the app's own inference code (each image analysed by the fold model that held it out).

  python3 export_folds.py --cv-dir runs/cv --model ../cvm13-unet --out ../cvm13-unet/folds

Each fold becomes a complete model folder (manifest.json + locate.onnx + refine.onnx) with the shipped
model's processing, `training.heldOut` = that fold's validation images, `training.images` = the cvm13 images
whose vertebral landmarks it learnt and `training.auxiliaryImages` = the other ISBI images whose face landmarks
stage 1 learnt (validation images are in neither: `cvm eval --folds` checks this from the lists). They sit
inside the model's folder, where the app's model registry does not look, and are not packaged with the app.

  python3 export_folds.py --lists-only      # rewrite only the three lists of existing fold manifests
"""
import argparse
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def training_lists(held_out, data_dir=None):
    """(images, auxiliaryImages) of a fold model, as train.py builds its training data (dataset.py's files)."""
    import csv
    data_dir = data_dir or os.environ.get("CVM_DATA", os.path.abspath(os.path.join(HERE, "..", "..", "..", "shared", "data")))
    cvm = sorted(json.load(open(os.path.join(data_dir, "cvm13", "annotations.json")))["images"])
    rows = list(csv.reader(open(os.path.join(data_dir, "isbi2015", "isbi19_landmarks.csv"))))
    isbi = sorted(r[0] for r in rows[1:])
    held = set(held_out)
    images = [i for i in cvm if i not in held]
    return images, [i for i in isbi if i not in held and i not in set(images)]


def set_lists(m, held_out):
    images, aux = training_lists(held_out)
    m["training"]["heldOut"] = sorted(held_out)
    m["training"]["images"] = images
    m["training"]["auxiliaryImages"] = aux
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cv-dir", default=os.path.join(HERE, "runs", "cv"))
    ap.add_argument("--model", default=os.path.join(HERE, "..", "cvm13-unet"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "cvm13-unet", "folds"))
    ap.add_argument("--lists-only", action="store_true", help="only rewrite the training lists of existing fold manifests")
    args = ap.parse_args()
    if args.lists_only:
        for fold in sorted(f for f in os.listdir(args.out) if f.startswith("fold")):
            mp = os.path.join(args.out, fold, "manifest.json")
            m = set_lists(json.load(open(mp)), json.load(open(mp))["training"]["heldOut"])
            with open(mp, "w") as fh:
                json.dump(m, fh, indent=2)
                fh.write("\n")
            print(fold, "held out", len(m["training"]["heldOut"]), "trained on", len(m["training"]["images"]),
                  "+", len(m["training"]["auxiliaryImages"]), "auxiliary")
        return
    import torch
    from export import export, load_13, sha256
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
        set_lists(m, held_out)
        m["accuracy"] = None
        m["stages"]["locate"]["sha256"] = sha256(os.path.join(out, "locate.onnx"))
        m["stages"]["refine"]["sha256"] = sha256(os.path.join(out, "refine.onnx"))
        json.dump(m, open(os.path.join(out, "manifest.json"), "w"), indent=2)
        print(fold, "held out", len(held_out), "images ->", out)


if __name__ == "__main__":
    main()
