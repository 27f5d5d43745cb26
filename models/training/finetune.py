"""Fine-tune stage 2 ('refine') of a fold model or of the final model with pseudo-labels and clinic augmentations.

  python3 finetune.py --fold 0 --init ../cvm13-unet/folds/fold0 --pseudo runs/pl/fold0.json --out runs/ft
  python3 finetune.py --fold all --init ../cvm13-unet --pseudo runs/pl/foldall.json --out runs/ft
  python3 finetune.py --rule-report runs/pl/fold*_heldout.json     # how good the kept pseudo-labels are

Starting point: the model's exported refine.onnx (onnx_weights.py rebuilds the torch network from it, exactly;
BatchNorm stays frozen). Training data per step: half of the batch from the fold's labelled cvm13 training
images (never its held-out ones; the split is train.py's and is checked against the folder's manifest), half
from pseudo-labelled ISBI images without cvm13 annotations (pseudo_label.mts, made by the *same* fold model, so
no held-out image enters in any form). A pseudo-label point is kept only where the model's passes agree
(KEEP_RULE); the rest of that image's channels are masked out of the loss.

Augmentations: train.py's (crop jitter +-6 mm, rotation +-15 deg, scale +-10 %, gamma, contrast, brightness,
blur, noise, inversion) plus what clinics produce: lower resolution (the crop sampled from the image
area-reduced to 0.2 or 0.3 mm/px), scanned-film contrast (an S-shaped characteristic curve, a compressed range,
an uneven illumination ramp and film grain) and stronger noise. No mirroring: the app turns every image to the
upright, facing-right view before stage 1 (core/inference/orientation.ts), so the network never sees a mirrored
crop; a mirrored crop with unchanged landmark names would be anatomically consistent (C2-C4 have no left/right
pairs to swap) but would teach a view that inference never shows it.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from dataset import Data, LANDMARKS, SPACING_MM, load_gray
from onnx_weights import freeze_batchnorm, load_onnx_unet
from train import blur, cosine_lr, fold_logger, random_crop, gaussian_targets, heatmap_loss, intensity_aug, split

HERE = os.path.dirname(os.path.abspath(__file__))

# A pseudo-labelled point is kept when the image's decoded shape is plausible (anatomy check) and not failed,
# the three test-time passes agree (RMS distance from their mean <= TTA_MAX_MM), and its calibrated expected
# error is below EXPECTED_MAX_MM. An image contributes only with at least MIN_POINTS kept points.
KEEP_RULE = {"tta_max_mm": 0.35, "expected_max_mm": 0.7, "min_points": 8}


def keep_mask(img, rule=KEEP_RULE):
    """-> bool [13] of the points kept from one pseudo_label.mts image record."""
    if not img["plausible"] or img["verdict"] == "failed" or not img["pred"]:
        return np.zeros(13, bool)
    tta = np.array([f["ttaSpreadMm"] for f in img["features"]])
    exp = np.array([e if e is not None else np.inf for e in img["expectedErrorMm"]])
    keep = (tta <= rule["tta_max_mm"]) & (exp < rule["expected_max_mm"])
    return keep if keep.sum() >= rule["min_points"] else np.zeros(13, bool)


def rule_report(paths, rule=KEEP_RULE):
    """The keep rule on held-out cvm13 predictions (pseudo_label.mts held-out): kept share and their error."""
    errs_all, errs_kept, n_img, n_img_kept = [], [], 0, 0
    for p in paths:
        for img in json.load(open(p))["images"]:
            n_img += 1
            truth = np.array([img["truth"][n] for n in LANDMARKS])
            e = np.hypot(*(np.array(img["pred"]) - truth).T) * SPACING_MM if img["pred"] else np.full(13, np.nan)
            k = keep_mask(img, rule)
            errs_all.extend(e.tolist())
            errs_kept.extend(e[k].tolist())
            n_img_kept += bool(k.any())
    a, k = np.array(errs_all), np.array(errs_kept)
    return {"rule": rule, "images": n_img, "images_kept": n_img_kept, "points": len(a), "points_kept": len(k),
            "mre_all_mm": round(float(np.nanmean(a)), 3), "mre_kept_mm": round(float(k.mean()), 3) if len(k) else None,
            "over_2mm_all": int((a > 2).sum()), "over_2mm_kept": int((k > 2).sum()),
            "over_1mm_kept": int((k > 1).sum()), "max_kept_mm": round(float(k.max()), 2) if len(k) else None}


class Source:
    """A grey image (uint8 region of a full-resolution image, offset x0/y0) with area-reduced copies."""

    def __init__(self, u8, x0, y0, full_w, full_h, dev):
        self.x0, self.y0, self.full_w, self.full_h = x0, y0, full_w, full_h
        t = torch.from_numpy(u8).to(dev).float().div(255)[None, None]
        self.levels = {1: t}
        for f in (2, 3):
            h, w = t.shape[-2] // f, t.shape[-1] // f
            self.levels[f] = F.avg_pool2d(t[..., :h * f, :w * f], f)


def sample_crop(src, f, x, y):
    """Bilinear samples of src's level f at full-resolution image coordinates x, y ([H,W] tensors), zeros
    outside the image, plus the in-image mask (what the app's crop sees)."""
    img = src.levels[f]
    ih, iw = img.shape[-2:]
    # full-resolution pixel centre -> this level's pixel centre, relative to the region
    xr = (x - src.x0 + 0.5) / f - 0.5
    yr = (y - src.y0 + 0.5) / f - 0.5
    g = torch.stack([2 * xr / (iw - 1) - 1, 2 * yr / (ih - 1) - 1], -1)[None]
    out = F.grid_sample(img, g, mode="bilinear", padding_mode="zeros", align_corners=True)
    # the mask of the whole image (not the region): bilinear samples of an all-ones image with zero padding
    xf = (x + 0.5) / f - 0.5
    yf = (y + 0.5) / f - 0.5
    wf, hf = src.full_w // f, src.full_h // f
    mx = torch.clamp(torch.minimum(xf + 1, wf - xf), 0, 1)
    my = torch.clamp(torch.minimum(yf + 1, hf - yf), 0, 1)
    return out, (mx * my)[None, None]


def film_aug(x, mask, rng):
    """Scanned-film look on a [1,1,H,W] crop in [0,1]: S-shaped characteristic curve, compressed range, uneven
    illumination ramp, grain (spatially correlated noise). Outside the image stays 0."""
    H, W = x.shape[-2:]
    slope = rng.uniform(4, 10)
    mid = rng.uniform(0.35, 0.65)
    y = torch.sigmoid((x - mid) * slope)
    lo, hi = torch.sigmoid(torch.tensor((0 - mid) * slope)), torch.sigmoid(torch.tensor((1 - mid) * slope))
    y = (y - lo) / (hi - lo)
    a, b = rng.uniform(0, 0.25), rng.uniform(0.7, 1.0)
    y = a + (b - a) * y
    gx, gy = rng.uniform(-0.15, 0.15, 2)
    u = torch.linspace(-0.5, 0.5, W, device=x.device).view(1, 1, 1, W)
    v = torch.linspace(-0.5, 0.5, H, device=x.device).view(1, 1, H, 1)
    y = y + gx * u + gy * v
    grain = blur(torch.randn_like(y), rng.uniform(0.6, 1.5)) * rng.uniform(0.01, 0.05) * 3
    return (y + grain).clamp(0, 1) * mask


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fold", default="all")
    ap.add_argument("--init", help="model folder whose refine.onnx and manifest.json start the fine-tuning")
    ap.add_argument("--pseudo", help="pseudo_label.mts output of the same model on the unlabelled ISBI images")
    ap.add_argument("--out", default=os.path.join(HERE, "runs", "ft"))
    ap.add_argument("--data", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--lr", type=float, default=4e-4)
    ap.add_argument("--warm", type=int, default=20)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--pseudo-share", type=float, default=0.5, help="share of each batch from pseudo-labels")
    ap.add_argument("--pseudo-weight", type=float, default=0.5, help="loss weight of a pseudo-labelled channel")
    ap.add_argument("--p-lowres", type=float, default=0.25)
    ap.add_argument("--p-film", type=float, default=0.25)
    ap.add_argument("--jitter-mm", type=float, default=6.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rule-report", nargs="*", help="held-out pseudo_label.mts outputs: report the keep rule and exit")
    args = ap.parse_args()
    if args.rule_report:
        print(json.dumps(rule_report(args.rule_report), indent=1))
        return
    torch.set_num_threads(args.threads)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    out = os.path.join(args.out, "fold%s" % args.fold)
    os.makedirs(out, exist_ok=True)
    log = fold_logger(out, "finetune.log", "ft fold %s" % args.fold)

    data = Data(args.data, 128, verbose=False)
    tr, val = split(len(data.cvm_ids), args.fold, args.folds, args.seed)
    manifest = json.load(open(os.path.join(args.init, "manifest.json")))
    held = sorted(manifest["training"].get("heldOut", [])) if manifest.get("training") else []
    assert held == sorted(data.cvm_ids[i] for i in val), "the fold split differs from the manifest's heldOut"
    refine_spec = manifest["stages"]["refine"]
    _, _, H, W = refine_spec["input"]["shape"]
    mmpp = refine_spec["mmPerPixel"]
    model, sigma, base = load_onnx_unet(os.path.join(args.init, refine_spec["file"]))
    net = model.net.to(dev)

    # labelled sources: the fold's cvm13 training images at full resolution
    lab = [Source(data.full[i], 0, 0, data.full.shape[2], data.full.shape[1], dev) for i in tr]
    lab_pts = [torch.from_numpy(data.cvm_pts[i]).float().to(dev) for i in tr]
    # pseudo-labelled sources: regions of 100 x 100 mm around the predicted column
    pl = json.load(open(args.pseudo))
    cvm = set(data.cvm_ids)
    pse, pse_pts, pse_ok, kept_ids = [], [], [], []
    n_points = 0
    half = int(round(50 / SPACING_MM))
    for img in pl["images"]:
        assert img["id"] not in cvm and img["id"] not in held, "pseudo-labels must not come from cvm13 images"
        k = keep_mask(img)
        if not k.any():
            continue
        p = np.array(img["pred"], np.float64)
        g = load_gray(data.path(img["id"]))
        fh, fw = g.shape
        cx, cy = p.mean(0)
        x0, y0 = int(cx) - half, int(cy) - half
        reg = np.zeros((2 * half, 2 * half), np.uint8)
        sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(fw, x0 + 2 * half), min(fh, y0 + 2 * half)
        reg[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = g[sy0:sy1, sx0:sx1]
        pse.append(Source(reg, x0, y0, fw, fh, dev))
        pse_pts.append(torch.from_numpy(p).float().to(dev))
        pse_ok.append(torch.from_numpy(k).to(dev))
        kept_ids.append(img["id"])
        n_points += int(k.sum())
    log("init %s (sigma %.2f, base %d), %d labelled images, pseudo-labels: %d of %d images, %d points kept (rule %s)"
        % (args.init, sigma, base, len(lab), len(pse), len(pl["images"]), n_points, KEEP_RULE))

    torch.manual_seed(args.seed * 1000 + 3)
    rng = np.random.RandomState(args.seed * 1000 + 3)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, weight_decay=1e-5)
    s0 = mmpp / SPACING_MM
    jit = args.jitter_mm / SPACING_MM
    uu = torch.arange(W, dtype=torch.float32, device=dev) - (W - 1) / 2
    vv = torch.arange(H, dtype=torch.float32, device=dev) - (H - 1) / 2
    gv, gu = torch.meshgrid(vv, uu, indexing="ij")
    B = args.batch
    n_pse = int(round(B * args.pseudo_share)) if pse else 0
    t0 = time.time()
    for step in range(args.steps):
        net.train()
        freeze_batchnorm(net)
        xs, ms, tg, oks, ws = [], [], [], [], []
        for b in range(B):
            pseudo = b < n_pse
            i = int(rng.randint(len(pse) if pseudo else len(lab)))
            src, p = (pse[i], pse_pts[i]) if pseudo else (lab[i], lab_pts[i])
            ok = pse_ok[i] if pseudo else torch.ones(13, dtype=torch.bool, device=dev)
            x, y, uv = random_crop(p, jit, s0, gu, gv, rng)
            f = int(rng.choice([2, 3])) if rng.rand() < args.p_lowres else 1
            crop, m = sample_crop(src, f, x, y)
            if rng.rand() < args.p_film:
                crop = film_aug(crop, m, rng)
            xs.append(crop)
            ms.append(m)
            tg.append(uv)
            oks.append(ok)
            ws.append(ok.float() * (args.pseudo_weight if pseudo else 1.0))
        x = intensity_aug(torch.cat(xs), torch.cat(ms), rng)
        tgt = gaussian_targets(torch.stack(tg), torch.stack(oks), H, W, sigma)
        lr = cosine_lr(opt, step, args.steps, args.lr, warm=args.warm)
        loss = heatmap_loss(net(x), tgt, torch.stack(ws))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0 or step == args.steps - 1:
            log("step %d/%d loss %.5f lr %.2e %.2f s/step" % (step, args.steps, loss.item(), lr,
                                                               (time.time() - t0) / (step + 1)))
    secs = time.time() - t0
    net.eval()
    cfg = {k: v for k, v in vars(args).items() if k not in ("data", "out", "rule_report")}
    cfg.update({"train_ids": [data.cvm_ids[i] for i in tr], "val_ids": held, "pseudo_ids": kept_ids,
                "pseudo_points": n_points, "keep_rule": KEEP_RULE, "refine_w": W, "refine_h": H, "mm_per_px": mmpp})
    torch.save({"state": net.state_dict(), "cfg": cfg, "seconds": secs, "stage": "refine", "out_ch": 13,
                "sigma": sigma, "base": base}, os.path.join(out, "refine.pt"))
    log("fine-tuned in %.1f s -> %s" % (secs, os.path.join(out, "refine.pt")))


if __name__ == "__main__":
    main()
