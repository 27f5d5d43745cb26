"""Cross-validated figures of the whole two-stage pipeline (README pre/post-processing, exactly).

For each fold k, the fold's stage-1 model finds the 13 landmarks on the whole letterboxed image of each
validation image, the crop is centred on the mean of those predictions, and the fold's stage-2 model
refines them. Errors are measured in mm (0.1 mm/px) against annotations.json, skipping landmarks listed in
`filled_from_prediction`. Also: the human reference (image 001, second annotator), a picture, timings.

  python3 evaluate.py --run runs/cv --png runs/cv_examples.png
"""
import argparse
import json
import os
import time

import numpy as np
import torch

from dataset import Data, LANDMARKS, SPACING_MM
from model import Heatmaps, UNet
from pipeline import run_locate, run_refine

HERE = os.path.dirname(os.path.abspath(__file__))
VERT = [2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4]  # vertebra of each landmark


def load(path, dev="cpu"):
    """A checkpoint as its inference model (13 channels, spatial softmax; see model.Heatmaps)."""
    ck = torch.load(path, map_location=dev)
    m = UNet(ck["out_ch"], ck["base"])
    m.load_state_dict(ck["state"])
    return Heatmaps(m, ck["sigma"], 13).to(dev).eval(), ck


def metrics(err, ok):
    """err [N,13] mm, ok [N,13] bool -> dict of figures."""
    e = err[ok]
    out = {
        "images": int(err.shape[0]), "landmarks_measured": int(ok.sum()),
        "mre_mm": round(float(e.mean()), 4), "median_mm": round(float(np.median(e)), 4),
        "sd_mm": round(float(e.std()), 4), "max_mm": round(float(e.max()), 4),
        "sdr_1mm": round(float((e <= 1).mean()), 4), "sdr_2mm": round(float((e <= 2).mean()), 4),
        "sdr_2_5mm": round(float((e <= 2.5).mean()), 4), "sdr_4mm": round(float((e <= 4).mean()), 4),
        "per_landmark_mm": {n: round(float(err[ok[:, k], k].mean()), 4) for k, n in enumerate(LANDMARKS)},
    }
    return out


# homologous landmarks on the three vertebrae (lower posterior corner, lower deepest point, lower anterior
# corner, upper posterior corner, upper anterior corner)
HOMOLOG = [["C2p", "C3lp", "C4lp"], ["C2m", "C3m", "C4m"], ["C2a", "C3la", "C4la"], ["C3up", "C4up"],
           ["C3ua", "C4ua"]]


def wrong_vertebra(pred, gt, oks):
    """(a) predictions closer to the annotation of the homologous landmark of another vertebra than to their
    own (a whole-vertebra slip); (b) predictions whose nearest annotated landmark of any name belongs to
    another vertebra (stricter: across a disc space the C2 lower and C3 upper corners are only ~2 mm apart)."""
    idx = {n: k for k, n in enumerate(LANDMARKS)}
    slip = near = 0
    for p, g, ok in zip(pred, gt, oks):
        for k in range(13):
            if not ok[k]:
                continue
            own = np.sqrt(((g[k] - p[k]) ** 2).sum())
            for grp in HOMOLOG:
                if LANDMARKS[k] in grp:
                    slip += any(np.sqrt(((g[idx[o]] - p[k]) ** 2).sum()) < own for o in grp if o != LANDMARKS[k])
            j = int(np.argmin(((g - p[k]) ** 2).sum(-1)))
            near += VERT[j] != VERT[k]
    return slip, near


def human_reference(data):
    """Second annotator of image 001 (LabelMe polygons: C2 lower border 3 points p,m,a (+ a duplicate
    closing point), C3 and C4 5 points each in the order up, lp, m, la, ua) vs annotations.json."""
    lm = json.load(open(os.path.join(data.data_dir, "cvm13", "001_second_annotator_labelme.json")))
    shapes = sorted(lm["shapes"], key=lambda s: s["group_id"])
    pts = shapes[0]["points"][:3] + shapes[1]["points"][:5] + shapes[2]["points"][:5]
    pts = np.array(pts, np.float64)
    i = data.cvm_ids.index("001")
    d = np.sqrt(((pts - data.cvm_pts[i]) ** 2).sum(-1)) * SPACING_MM
    ok = data.cvm_eval[i]
    return {
        "image": "001", "second_annotator": "cvm13/001_second_annotator_labelme.json",
        "mre_mm_all13": round(float(d.mean()), 4),
        "mre_mm": round(float(d[ok].mean()), 4),
        "excluded": [n for n, o in zip(LANDMARKS, ok) if not o],
        "per_landmark_mm": {n: round(float(v), 3) for n, v in zip(LANDMARKS, d)},
        "correspondence": "C2 polygon points 1-3 -> C2p, C2m, C2a (4th point duplicates the 2nd); "
                          "C3/C4 polygon points 1-5 -> up, lp, m, la, ua",
    }, pts


def picture(data, rows, path):
    from PIL import Image, ImageDraw
    tiles = []
    for r in rows:
        i = data.cvm_ids.index(r["id"])
        g = data.full[i]
        gt, pr = np.array(r["gt"]), np.array(r["pred"])
        c = gt.mean(0)
        x0, y0 = int(c[0] - 250), int(c[1] - 290)
        tile = Image.fromarray(g[max(0, y0):y0 + 580, max(0, x0):x0 + 500]).convert("RGB")
        x0, y0 = max(0, x0), max(0, y0)
        tile = tile.resize((tile.width * 2, tile.height * 2), Image.BILINEAR)
        d = ImageDraw.Draw(tile)
        for (gx, gy), (px, py) in zip(gt, pr):
            gx, gy, px, py = 2 * (gx - x0), 2 * (gy - y0), 2 * (px - x0), 2 * (py - y0)
            d.line([gx, gy, px, py], fill=(255, 255, 0), width=1)
            d.ellipse([gx - 5, gy - 5, gx + 5, gy + 5], outline=(0, 255, 0), width=2)
            d.line([px - 6, py, px + 6, py], fill=(255, 0, 0), width=2)
            d.line([px, py - 6, px, py + 6], fill=(255, 0, 0), width=2)
        d.text((8, 8), "%s  MRE %.2f mm (green: annotation, red: prediction)" % (r["id"], r["mre"]),
               fill=(255, 255, 0))
        tiles.append(tile)
    W = sum(t.width for t in tiles)
    H = max(t.height for t in tiles)
    im = Image.new("RGB", (W, H))
    x = 0
    for t in tiles:
        im.paste(t, (x, 0))
        x += t.width
    im.save(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", default=os.path.join(HERE, "runs", "cv"))
    ap.add_argument("--data", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--png", default=os.path.join(HERE, "runs", "cv_examples.png"))
    ap.add_argument("--shifts", type=int, default=0, help="test-time crop-shift averaging: 0 = off, n = +-n px")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    data = Data(args.data)
    shifts = [(0, 0)]
    if args.shifts:
        n = args.shifts
        shifts = [(0, 0), (n, 0), (-n, 0), (0, n), (0, -n)]
    rows = []
    all_err, all_ok, all_err1, all_c, preds, gts = [], [], [], [], [], []
    folds = sorted(d for d in os.listdir(args.run) if d.startswith("fold") and d != "foldall")
    t_loc, t_ref = [], []
    for fd in folds:
        loc, ck = load(os.path.join(args.run, fd, "locate.pt"), dev=dev)
        ref, ck2 = load(os.path.join(args.run, fd, "refine.pt"), dev=dev)
        cfg = ck2["cfg"]
        S, W, H = cfg["locate_size"], cfg["refine_w"], cfg["refine_h"]
        s = cfg["mm_per_px"] / SPACING_MM
        for iid in cfg["val_ids"]:
            i = data.cvm_ids.index(iid)
            g = data.full[i]
            t0 = time.time()
            p1, _ = run_locate(loc, g, S, S, 13, dev)
            t1 = time.time()
            cx, cy = p1.mean(0)
            img_t = torch.from_numpy(g).float().div(255)[None, None]
            t2 = time.time()
            p2, conf = run_refine(ref, img_t, cx, cy, W, H, s, dev, shifts)
            t3 = time.time()
            t_loc.append(t1 - t0)
            t_ref.append(t3 - t2)
            gt = data.cvm_pts[i]
            e2 = np.sqrt(((p2 - gt) ** 2).sum(-1)) * SPACING_MM
            e1 = np.sqrt(((p1 - gt) ** 2).sum(-1)) * SPACING_MM
            ok = data.cvm_eval[i]
            all_err.append(e2)
            all_err1.append(e1)
            all_ok.append(ok)
            all_c.append(float(np.sqrt(((p1.mean(0) - gt.mean(0)) ** 2).sum()) * SPACING_MM))
            preds.append(p2)
            gts.append(gt)
            rows.append({"id": iid, "fold": fd, "mre": float(e2[ok].mean()), "stage1_mre": float(e1[ok].mean()),
                         "centre_err_mm": all_c[-1], "pred": p2.round(2).tolist(), "gt": gt.tolist(),
                         "err_mm": e2.round(3).tolist(), "conf": conf.round(3).tolist()})
            print("%s %s stage1 %.2f mm, centre %.2f mm, final %.3f mm" % (fd, iid, rows[-1]["stage1_mre"],
                                                                         all_c[-1], rows[-1]["mre"]), flush=True)
    err, ok, err1 = np.array(all_err), np.array(all_ok), np.array(all_err1)
    res = metrics(err, ok)
    res["protocol"] = ("%d-fold cross-validation over the %d cvm13 images, whole two-stage pipeline (stage 2 "
                       "centred on the fold's own stage-1 prediction); landmarks filled from a prediction "
                       "excluded" % (len(folds), len(rows)))
    slip, near = wrong_vertebra(preds, gts, all_ok)
    res["wrong_vertebra"] = slip
    res["nearest_annotation_on_other_vertebra"] = near
    res["stage1"] = {"mre_mm": round(float(err1[ok].mean()), 3), "max_mm": round(float(err1[ok].max()), 3),
                     "roi_centre_err_mm_mean": round(float(np.mean(all_c)), 3),
                     "roi_centre_err_mm_max": round(float(np.max(all_c)), 3)}
    res["per_image_mre_mm"] = {r["id"]: round(r["mre"], 3) for r in rows}
    res["test_time_shifts"] = shifts
    hr, _ = human_reference(data)
    r001 = [r for r in rows if r["id"] == "001"]
    if r001:
        hr["model_cv_mre_mm_on_001"] = round(r001[0]["mre"], 4)
    res["human_reference"] = hr
    res["torch_cpu_ms"] = {"locate_incl_preprocessing": round(1000 * float(np.median(t_loc)), 1),
                           "refine_incl_preprocessing": round(1000 * float(np.median(t_ref)), 1),
                           "threads": args.threads, "device": str(dev)}
    out = os.path.join(args.run, "cv_metrics.json")
    json.dump(res, open(out, "w"), indent=1)
    json.dump(rows, open(os.path.join(args.run, "cv_predictions.json"), "w"))
    print(json.dumps({k: v for k, v in res.items() if k != "per_image_mre_mm"}, indent=1))
    # picture: best, median and worst validation image
    srt = sorted(rows, key=lambda r: r["mre"])
    picture(data, [srt[0], srt[len(srt) // 2], srt[-1]], args.png)
    print("wrote", out, args.png)


if __name__ == "__main__":
    main()
