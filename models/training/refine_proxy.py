"""Stage-2 networks compared on their own, cross-validated, in minutes on a CPU.

Each image is cropped by the networks of the fold that held it out, centred at its annotated points' mean plus a
fixed offset drawn once per image (about 1 mm per axis, clipped at 2.5 mm: what a stage-1 estimate is typically
off by), and decoded by argmax and parabola (pipeline.run_refine). No stage 1, no test-time turns, no shape model,
no expected error: these figures are not the app's (`cvm eval --folds` through the app's pipeline is), but every
network sees exactly the same crops, so their differences are what a choice between networks needs, without
exporting each candidate into a model folder first. An ensemble averages its members' positions; its member spread
(RMS distance of the members from their mean) is ranked against the error like the app's expected error.

  python3 refine_proxy.py runs/gpu/b16_s2400_ms0 runs/gpu/b16_s2400_ms1      # train.py --out folders (foldN/refine.pt)
  python3 refine_proxy.py ../cvm13-unet:refine.onnx ../cvm13-unet:refine-m2.onnx  # a model's fold members (folds/foldN/<file>)
  python3 refine_proxy.py A B C D --ensemble 0+1 0+1+2+3                       # ensembles by position in the list
(from models/training; --json for the figures as JSON)
"""
import argparse
import json
import os

import numpy as np
import torch
from scipy.stats import spearmanr

from dataset import SPACING_MM, Data
from evaluate import load
from onnx_weights import load_onnx_unet
from pipeline import run_refine

FOLDS = 5


def fold_networks(source):
    """-> [(network, cfg-like dict with val_ids, refine_w, refine_h, mm_per_px)] for folds 0..4 of a source."""
    if ":" in source:  # model folder : member file
        folder, file = source.rsplit(":", 1)
        out = []
        for k in range(FOLDS):
            fd = os.path.join(folder, "folds", "fold%d" % k)
            ref = json.load(open(os.path.join(fd, "manifest.json")))["stages"]["refine"]
            _, _, h, w = ref["input"]["shape"]
            held = json.load(open(os.path.join(fd, "manifest.json")))["training"]["heldOut"]
            net = load_onnx_unet(os.path.join(fd, file))[0].eval()
            out.append((net, {"val_ids": held, "refine_w": w, "refine_h": h, "mm_per_px": ref["mmPerPixel"]}))
        return out
    out = []
    for k in range(FOLDS):
        net, ck = load(os.path.join(source, "fold%d" % k, "refine.pt"))
        out.append((net, ck["cfg"]))
    return out


def predict(data, source, offsets):
    """Every cvm13 image by its held-out fold's network of this source: [54, 13, 2] full-resolution pixels."""
    P = np.full((len(data.cvm_ids), 13, 2), np.nan)
    for net, cfg in fold_networks(source):
        s = cfg["mm_per_px"] / SPACING_MM
        for iid in cfg["val_ids"]:
            i = data.cvm_ids.index(iid)
            img = torch.from_numpy(data.full[i]).float().div(255)[None, None]
            c = data.cvm_pts[i].mean(0) + offsets[i]
            P[i], _ = run_refine(net, img, c[0], c[1], cfg["refine_w"], cfg["refine_h"], s)
    if np.isnan(P).any():
        raise SystemExit("%s: its folds do not hold out every image once" % source)
    return P


def figures(data, members):
    """MRE, points > 2 mm and > 1.5 mm of the members' mean position; with several members the member spread's
    Spearman with the error and how many points > 2 mm are among the 10% of points with the largest spread."""
    P = np.stack(members)
    mean = P.mean(0)
    ok = data.cvm_eval
    err = np.linalg.norm(mean - data.cvm_pts, axis=-1)[ok] * SPACING_MM
    row = {"mreMm": round(float(err.mean()), 4), "over2mm": int((err > 2).sum()),
           "over1_5mm": int((err > 1.5).sum()), "points": int(ok.sum())}
    if len(members) > 1:
        spread = np.sqrt((np.linalg.norm(P - mean, axis=-1) ** 2).mean(0))[ok] * SPACING_MM
        top = spread >= np.quantile(spread, 0.9)
        row["spreadSpearman"] = round(float(spearmanr(spread, err).correlation), 3)
        row["over2mmInTop10PctSpread"] = int((top & (err > 2)).sum())
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sources", nargs="+", help="train.py --out folder, or <model folder>:<member file>")
    ap.add_argument("--ensemble", nargs="*", default=[], help="members by position in sources, joined by +")
    ap.add_argument("--data", default=None, help="shared data folder (default ../shared/data of the repo)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(2)
    data = Data(args.data, letterbox=False)
    rng = np.random.RandomState(123)
    offsets = np.clip(rng.normal(0, 1.0 / SPACING_MM, (len(data.cvm_ids), 2)), -2.5 / SPACING_MM, 2.5 / SPACING_MM)
    preds = [predict(data, s, offsets) for s in args.sources]
    rows = [dict(name=s, **figures(data, [p])) for s, p in zip(args.sources, preds)]
    for e in args.ensemble:
        idx = [int(i) for i in e.split("+")]
        rows.append(dict(name="ensemble of " + e, **figures(data, [preds[i] for i in idx])))
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    for r in rows:
        extra = "  spread: Spearman %.3f, %d of the > 2 mm in its top 10%%" % (
            r["spreadSpearman"], r["over2mmInTop10PctSpread"]) if "spreadSpearman" in r else ""
        print("%-40s MRE %.3f mm  > 2 mm %2d  > 1.5 mm %2d%s" % (r["name"][-40:], r["mreMm"], r["over2mm"],
                                                              r["over1_5mm"], extra))


if __name__ == "__main__":
    main()
