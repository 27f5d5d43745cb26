"""Export the fine-tuned stage 2 (finetune.py) of every fold model and of the final model.

  python3 export_finetuned.py --ft runs/ft --model ../cvm13-unet

runs/ft/foldK/refine.pt -> ../cvm13-unet/folds/foldK/refine.onnx, runs/ft/foldall/refine.pt ->
../cvm13-unet/refine.onnx; stage 1 (locate.onnx) is kept. Each manifest gets the new sha256, the export
check and a `training.fineTuning` block (recipe, keep rule, the pseudo-labelled image ids). Those ids are ISBI
images without cvm13 annotations, so they are already in `training.auxiliaryImages` (the images whose face
landmarks stage 1 learnt): the script checks that, and that none is a held-out image, so that `cvm eval
--folds` keeps computing "in training" from the lists.
"""
import argparse
import datetime
import json
import os

import torch

from export import export, load_13, sha256

HERE = os.path.dirname(os.path.abspath(__file__))


def fine_tuning_block(ck):
    cfg = ck["cfg"]
    return {
        "recipe": "models/training/finetune.py (train.sh)",
        "from": "the %s model's exported refine.onnx (the recipe of train.sh)" % ("final" if cfg["fold"] == "all" else "fold " + cfg["fold"]),
        "steps": cfg["steps"], "batch": cfg["batch"], "lr": cfg["lr"], "seed": cfg["seed"],
        "pseudoShare": cfg["pseudo_share"], "pseudoWeight": cfg["pseudo_weight"],
        "augmentation": ("train.py's (crop jitter +-%.0f mm, rotation +-15 deg, scale +-10%%, gamma, contrast, "
                         "brightness, blur, noise, inversion) + lower resolution (0.2/0.3 mm/px, p %.2f) + "
                         "scanned-film contrast and grain (p %.2f); no mirroring (inference turns images upright "
                         "and facing right first)" % (cfg["jitter_mm"], cfg["p_lowres"], cfg["p_film"])),
        "keepRule": cfg["keep_rule"],
        "pseudoLabelledImages": cfg["pseudo_ids"],
        "pseudoLabelledPoints": cfg["pseudo_points"],
        "seconds": round(ck["seconds"], 1),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ft", default=os.path.join(HERE, "runs", "ft"))
    ap.add_argument("--model", default=os.path.join(HERE, "..", "cvm13-unet"))
    ap.add_argument("--only", nargs="*", help="fold names (fold0 .. fold4, foldall); default: every one in --ft")
    ap.add_argument("--version", default="1.1.0")
    args = ap.parse_args()
    torch.set_num_threads(1)
    names = args.only or sorted(f for f in os.listdir(args.ft) if os.path.exists(os.path.join(args.ft, f, "refine.pt")))
    for name in names:
        folder = args.model if name == "foldall" else os.path.join(args.model, "folds", name)
        mp = os.path.join(folder, "manifest.json")
        m = json.load(open(mp))
        ref, ck = load_13(os.path.join(args.ft, name, "refine.pt"))
        spec = m["stages"]["refine"]
        info = export(ref, tuple(spec["input"]["shape"]), os.path.join(folder, spec["file"]))
        spec["sha256"] = sha256(os.path.join(folder, spec["file"]))
        block = fine_tuning_block(ck)
        t = m["training"]
        held = set(t.get("heldOut", []))
        trained = set(t.get("images", [])) | set(t.get("auxiliaryImages", [])) if name != "foldall" else set(t["images"])
        assert not (set(block["pseudoLabelledImages"]) & held), "%s: a pseudo-labelled image is held out" % name
        missing = set(block["pseudoLabelledImages"]) - trained
        assert not missing, "%s: pseudo-labelled images missing from the training lists: %s" % (name, sorted(missing))
        assert sorted(ck["cfg"]["val_ids"]) == sorted(held), "%s: fine-tuned with another split" % name
        t["fineTuning"] = block
        if "export" in t:
            t["export"]["refine"] = info
        if "train_seconds" in t:
            t["train_seconds"]["refine_fine_tuning"] = block["seconds"]
        if name == "foldall":
            m["version"] = args.version
            m["createdAt"] = datetime.datetime.utcnow().replace(microsecond=0).isoformat() + "Z"
        with open(mp, "w") as fh:
            json.dump(m, fh, indent=2)
            fh.write("\n")
        print(name, "->", folder, info.get("max_abs_diff_vs_torch", info.get("onnxruntime")), "pseudo-labelled images",
              len(block["pseudoLabelledImages"]), "points", block["pseudoLabelledPoints"])


if __name__ == "__main__":
    main()
