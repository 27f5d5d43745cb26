"""Test-time augmentation measured on the out-of-fold cases: each fold model (after update_bn.py) predicts its
held-out images under several views (mirror, 2-pixel shifts with edge padding, 4 % zoom in and out), and the MAE
of averaging a set of views is printed for a few sets. The shipped graph averages nets.TTA_VIEWS.

  OMP_NUM_THREADS=1 python3 tta_eval.py --run runs/boneage2 [--folds 0,1,2,3,4]

Writes <run>/tta.npz (per-view mean and log-variance in months of every out-of-fold case).
"""
import argparse, json, os, time
import numpy as np
import torch
import torch.nn.functional as F
from common import load_rsna100
from nets import make_boneage, shift
from train_boneage import MU0, SD0


def zoom(x, f):
    """f > 1: centre crop of size/f resized to size (zoom in); f < 1: edge-padded to size/f, resized (zoom out)."""
    n = x.shape[2]
    if f > 1:
        c = int(round(n / f)); o = (n - c) // 2
        y = x[:, :, o:o + c, o:o + c]
    else:
        p = int(round((n / f - n) / 2))
        y = F.pad(x, (p, p, p, p), mode="replicate")
    return F.interpolate(y, size=(n, n), mode="bilinear", align_corners=False)


VIEWS = {"id": lambda x: x, "s+2+2": lambda x: shift(x, 2, 2), "s-2-2": lambda x: shift(x, -2, -2),
         "s+2-2": lambda x: shift(x, 2, -2), "s-2+2": lambda x: shift(x, -2, 2),
         "zin": lambda x: zoom(x, 1.04), "zout": lambda x: zoom(x, 1 / 1.04)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default="runs/boneage2")
    ap.add_argument("--folds", default="0,1,2,3,4")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="smoke test: this many held-out images per fold")
    ap.add_argument("--out", default=None, help="default <run>/tta.npz")
    ap.add_argument("--views", default=",".join(VIEWS), help="views to run (each also mirrored)")
    a = ap.parse_args()
    views = {v: VIEWS[v] for v in a.views.split(",")}
    torch.set_num_threads(a.threads)
    cfg = json.load(open(os.path.join(a.run, "config.json")))
    imgs, ids, age, male = load_rsna100()
    fold = np.load(os.path.join(a.run, "oof.npz"))["fold"]
    names = [f"{v}{'|m' if fl else ''}" for fl in (0, 1) for v in views]
    mu = np.full((len(names), len(age)), np.nan, np.float32); lv = np.full_like(mu, np.nan)
    ks = [int(s) for s in a.folds.split(",")]
    for k in ks:
        t0 = time.time()
        m = make_boneage(cfg); m.load_state_dict(torch.load(os.path.join(a.run, f"fold{k}.pt"))); m.eval(); m.tta = False
        te = np.where(fold == k)[0]
        if a.limit: te = te[:a.limit]
        with torch.no_grad():
            for i in range(0, len(te), 256):
                b = te[i:i + 256]
                x = torch.from_numpy(imgs[b]).float().div_(255).unsqueeze(1)
                s = torch.from_numpy(male[b].astype(np.float32)).unsqueeze(1)
                j = 0
                for fl in (0, 1):
                    xf = torch.flip(x, dims=[3]) if fl else x
                    for v in views.values():
                        o = m(v(xf), s).numpy()
                        mu[j, b] = o[:, 0] * SD0 + MU0; lv[j, b] = o[:, 1] + 2 * np.log(SD0); j += 1
        print(f"fold {k}: {len(te)} held-out images x {len(names)} views, {time.time() - t0:.0f}s", flush=True)
    np.savez(a.out or os.path.join(a.run, "tta.npz"), mu=mu, logvar=lv, names=np.array(names), fold=fold, age=age, male=male)
    sel = ~np.isnan(mu[0])
    y = age[sel]; ml = male[sel].astype(bool)
    sets = {"image only": ["id"], "image + mirror (shipped)": ["id", "id|m"],
            "+ 2-px shifts (4 views)": ["id", "id|m", "s+2+2", "s-2-2|m"],
            "image, mirror and every 2-px shift run": [n for n in names if n.startswith(("id", "s"))],
            "+ zoom in/out (6 views)": ["id", "id|m", "zin", "zin|m", "zout", "zout|m"],
            "zoom in + mirror (4 views)": ["id", "id|m", "zin", "zin|m"],
            "all views run": names}
    print(f"{'views':32s} {'n':>3s} {'MAE':>6s} {'boys':>6s} {'girls':>6s} {'<=12':>6s}")
    for label, vs in sets.items():
        if not set(vs) <= set(names):
            continue
        p = mu[[names.index(v) for v in vs]][:, sel].mean(0)
        ae = np.abs(p - y)
        print(f"{label:32s} {len(vs):3d} {ae.mean():6.2f} {ae[ml].mean():6.2f} {ae[~ml].mean():6.2f} {(ae <= 12).mean() * 100:5.1f}%")
    for j, n in enumerate(names):
        print(f"  single view {n:10s} MAE {np.abs(mu[j, sel] - y).mean():6.2f}")


if __name__ == "__main__":
    main()
