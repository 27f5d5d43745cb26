"""Train the two stages of the cvm13 landmark model.

  python3 train.py --stage locate --fold 0 --out runs/cv        # stage 1 of CV fold 0 (of 5)
  python3 train.py --stage refine --fold 0 --out runs/cv        # stage 2 of CV fold 0
  python3 train.py --stage both --fold all --out runs/final     # both stages on all 54 images

Stage 1 'locate': the whole image letterbox-area resized to --locate-size, 13 vertebral heatmaps plus
19 auxiliary ISBI face-landmark heatmaps (multi-task, all 376 ISBI images minus the fold's validation
images); only the 13 vertebral channels are exported.
Stage 2 'refine': a crop of --refine-w x --refine-h input pixels at --mm-per-px around the mean of the 13
landmarks, jittered (+-6 mm), rotated (+-15 deg), scaled (+-10%), with intensity augmentation.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from dataset import Data, LANDMARKS, SPACING_MM, image_to_letterbox
from model import UNet, n_params
from pipeline import zscore

HERE = os.path.dirname(os.path.abspath(__file__))


def pick_device():
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def folds_of(n, k, seed):
    perm = np.random.RandomState(seed).permutation(n)
    return [sorted(perm[i::k].tolist()) for i in range(k)]


def split(n, fold, k, seed):
    """-> (train indices, val indices) into the cvm13 image list; fold 'all' -> all for training."""
    if fold == "all":
        return list(range(n)), []
    val = folds_of(n, k, seed)[int(fold)]
    return [i for i in range(n) if i not in val], val


def member_seed(args):
    """The seed of initialisation and augmentation: --member-seed when given (an independently trained ensemble
    member), else --seed. The fold split always follows --seed, so every member of a fold holds out the same
    images."""
    return args.seed if args.member_seed is None else args.member_seed


def assert_honest(data, tr, val, fold, k, seed):
    """A CV fold's training part and its validation images are disjoint, the validation images are exactly the
    fold's share of the --seed split, and 'all' validates nothing."""
    assert not set(tr) & set(val), "fold %s: validation images in training" % fold
    if fold == "all":
        assert len(val) == 0 and len(tr) == len(data.cvm_ids)
    else:
        assert sorted(val) == folds_of(len(data.cvm_ids), k, seed)[int(fold)]
        assert len(tr) + len(val) == len(data.cvm_ids)


def gaussian_targets(uv, valid, H, W, sigma):
    """uv [B,K,2] (input px), valid [B,K] -> [B,K,H,W] Gaussian heatmaps (peak 1), zero where invalid."""
    dev = uv.device
    ys = torch.arange(H, device=dev, dtype=torch.float32).view(1, 1, H, 1)
    xs = torch.arange(W, device=dev, dtype=torch.float32).view(1, 1, 1, W)
    gx = torch.exp(-(xs - uv[..., 0].view(*uv.shape[:2], 1, 1)) ** 2 / (2 * sigma * sigma))
    gy = torch.exp(-(ys - uv[..., 1].view(*uv.shape[:2], 1, 1)) ** 2 / (2 * sigma * sigma))
    return (gy * valid.view(*valid.shape, 1, 1).float()) * gx


def blur(x, sigma):
    r = max(1, int(math.ceil(2.5 * sigma)))
    k = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float32, device=x.device) ** 2 / (2 * sigma * sigma))
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))


def device_processing(x, mask, rng, px_mm, share=0.4):
    """What a digital cephalostat's own image processing does before export, on a share of the samples
    (x, mask: [B,1,H,W], x in [0,1] inside the image): edge enhancement by unsharp masking (Gaussian sigma
    0.5-8 mm, log-uniform, gain 0.5-3, the result clipped to the 8-bit range as an exported picture is) and/or
    a narrowed display window with both ends clipped. px_mm: millimetres per pixel of x, so that the unsharp
    radius means the same in both stages. Unsharp masking uses a normalised convolution inside the mask, so
    the letterbox padding and the crop's border add no halo. Without this, a cvm13 image unsharp-masked as
    such devices export it (sigma 2 mm, gain 2.5) put stage-1 points 10-16 mm off (docs/inference.md)."""
    x = x.clone()
    for b in np.nonzero(rng.rand(x.shape[0]) < share)[0]:
        kind = rng.randint(3)  # 0: unsharp masking, 1: narrowed window, 2: both
        xb, mb = x[b:b + 1], mask[b:b + 1]
        if kind != 1:
            sigma = float(np.exp(rng.uniform(np.log(0.5), np.log(8.0)))) / px_mm
            gain = rng.uniform(0.5, 3.0)
            smooth = blur(xb * mb, max(sigma, 0.3)) / blur(mb, max(sigma, 0.3)).clamp_min(1e-3)
            xb = (xb + gain * (xb - smooth)).clamp(0, 1)
        if kind != 0:
            lo, hi = rng.uniform(0.0, 0.35), rng.uniform(0.65, 1.0)
            xb = ((xb - lo) / (hi - lo)).clamp(0, 1)
        x[b:b + 1] = xb * mb
    return x


def intensity_aug(x, mask, rng, device_rng=None, px_mm=None):
    """x, mask: [B,1,H,W]; x in [0,1] inside the image, 0 outside. Returns the z-scored tensor.
    With device_rng (--device-processing): first what devices do to their exports (device_processing, drawn
    from its own generator so that the other draws stay those of the recipe without it). Then gamma,
    contrast, brightness, blur, Gaussian noise and MONOCHROME1-like inversion, per sample."""
    B = x.shape[0]
    dev = x.device

    def col(a):
        return torch.as_tensor(a, dtype=torch.float32, device=dev).view(B, 1, 1, 1)

    if device_rng is not None:
        x = device_processing(x, mask, device_rng, px_mm)
    x = x.clamp(1e-6, 1) ** col(np.exp(rng.uniform(-0.4, 0.4, B)))
    x = (x - 0.5) * col(rng.uniform(0.7, 1.3, B)) + 0.5 + col(rng.uniform(-0.12, 0.12, B))
    sel = np.nonzero(rng.rand(B) < 0.3)[0]
    if len(sel):
        xb = x[sel].clone()
        x = x.clone()
        x[sel] = blur(xb, rng.uniform(0.4, 1.3))
    x = x + torch.randn_like(x) * col(rng.uniform(0.0, 0.04, B) * (rng.rand(B) < 0.5))
    x = x.clamp(0, 1)
    inv = col(rng.rand(B) < 0.2)  # outside the image stays 0
    x = (x * (1 - inv) + (1 - x) * inv) * mask
    return zscore(x)


def weighted_mse(pred, target, chan_valid, fg_weight=10.0):
    """mean over valid channels of (pred - target)^2 * (1 + fg_weight * target)."""
    d = pred - target
    w = chan_valid.view(*chan_valid.shape, 1, 1).float()
    return ((d * d * (1 + fg_weight * target)) * w).sum() / (chan_valid.float().sum() * pred.shape[-1] * pred.shape[-2] + 1e-6)


def heatmap_loss(pred, target, chan_valid):
    """Spatial-softmax cross-entropy: each channel's output as logits over the H*W pixels vs the normalised
    Gaussian target (channels weighted by chan_valid; channels whose landmark falls outside the input are
    skipped). Its optimum is a quadratic peak in logit space, i.e. a Gaussian after the softmax that
    model.Heatmaps adds for inference/export. (A plain MSE on Gaussian heatmaps stayed stuck near the
    all-zero solution for the few hundred steps that this CPU budget allows.)"""
    B, K, H, W = pred.shape
    logp = F.log_softmax(pred.reshape(B, K, H * W), -1)
    t = target.reshape(B, K, H * W)
    t = t / (t.sum(-1, keepdim=True) + 1e-6)
    ce = -(t * logp).sum(-1)  # [B,K]
    w = (target.reshape(B, K, -1).amax(-1) > 0.5).float() * chan_valid.float()
    return (ce * w).sum() / (w.sum() + 1e-6)


def cosine_lr(opt, step, total, base, warm=30):
    lr = base * min(1.0, (step + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
    for g in opt.param_groups:
        g["lr"] = lr
    return lr


# ---------------------------------------------------------------------------------------- stage 1

class ZoomedViews:
    """Stage-1 samples of another field of view than the whole film: the part of the cephalogram around the C2-C4
    column, so that the column appears --locate-zoom-min to --locate-zoom times as large as in the whole image
    (log-uniform). Above 1: a clinic's collimated or cropped cephalogram, letterboxed from a sharper
    (--locate-zoom-source x --locate-size) copy; below 1: a film on a larger canvas or a device with a larger field, the image smaller
    with black around it, from the stage-1 letterbox itself. Where an image has no vertebral annotation, the
    column's centre is estimated from its gonion (ISBI landmark 10) and the mean offset of the annotated training
    images; the column lands anywhere in the central half of the view. Landmarks outside the view get no target
    (heatmap_loss skips them)."""

    GONION = 9

    def __init__(self, data, cvm_train_ids, isbi_rows, S, dev, source=2):
        self.S, self.dev, self.isbi_rows, self.sharp = S, dev, isbi_rows, source * S
        annotated = {data.isbi_ids.index(i): data.cvm_pts[data.cvm_ids.index(i)] for i in cvm_train_ids}
        offset = np.mean([pts.mean(0) - data.isbi_pts[j, self.GONION] for j, pts in annotated.items()], 0)
        # (images, content masks, the 32 points and the column's centre in the source's normalised coordinates)
        self.sources = {size: self._source(data, annotated, offset, size, lb)
                        for size, lb in ((S, data.lb), (self.sharp, data.letterbox_at(self.sharp)))}

    def _source(self, data, annotated, offset, Z, lb):
        from dataset import letterbox_params
        n = len(data.isbi_ids)
        imgs = torch.from_numpy(lb).to(self.dev)[:, None]
        masks = torch.zeros_like(imgs)
        uvn = torch.zeros((n, 32, 2), device=self.dev)
        centre = torch.zeros((n, 2), device=self.dev)
        for j in range(n):
            w, h = data.sizes[j]
            rw, rh, ox, oy = letterbox_params(w, h, Z, Z)
            masks[j, :, oy:oy + rh, ox:ox + rw] = 1
            pts = np.concatenate([annotated.get(j, np.zeros((13, 2))), data.isbi_pts[j]])
            uvn[j] = torch.from_numpy(image_to_letterbox(pts, w, h, Z, Z) / (Z - 1) * 2 - 1).float()
            col = annotated[j].mean(0) if j in annotated else data.isbi_pts[j, self.GONION] + offset
            centre[j] = torch.from_numpy(image_to_letterbox(col[None], w, h, Z, Z)[0] / (Z - 1) * 2 - 1).float()
        return imgs, masks, uvn, centre

    def sample(self, n, zoom_range, cvm_rows, rng):
        """n views: (images [n,1,S,S], content masks, targets in output px [n,32,2], the rows used)."""
        S, dev = self.S, self.dev
        nb = n // 2
        rows = torch.tensor(list(rng.choice(cvm_rows, nb)) + list(rng.choice(self.isbi_rows, n - nb)), device=dev)
        z = np.exp(rng.uniform(math.log(zoom_range[0]), math.log(zoom_range[1]), n))
        ang = rng.uniform(-10, 10, n) * math.pi / 180
        at = rng.uniform(-0.5, 0.5, (n, 2))  # where the column lands in the view (output, normalised)
        xs, ms, ps = [], [], []
        for size, pick in ((S, z < 1), (self.sharp, z >= 1)):
            if not pick.any():
                continue
            imgs, masks, uvn, centre = self.sources[size]
            r = rows[torch.from_numpy(np.flatnonzero(pick)).to(dev)]
            k = int(pick.sum())
            a = torch.from_numpy(ang[pick]).float().to(dev)
            A = torch.stack([torch.stack([torch.cos(a), -torch.sin(a)], -1),
                             torch.stack([torch.sin(a), torch.cos(a)], -1)], -2) \
                / torch.from_numpy(z[pick]).float().to(dev).view(k, 1, 1)
            t = centre[r] - (A @ torch.from_numpy(at[pick]).float().to(dev).unsqueeze(-1)).squeeze(-1)
            grid = F.affine_grid(torch.cat([A, t.unsqueeze(-1)], -1), (k, 1, S, S), align_corners=True)
            xs.append(F.grid_sample(imgs[r], grid, mode="bilinear", padding_mode="zeros", align_corners=True))
            ms.append(F.grid_sample(masks[r], grid, mode="bilinear", padding_mode="zeros", align_corners=True))
            o = torch.linalg.solve(A, (uvn[r] - t.unsqueeze(1)).transpose(1, 2)).transpose(1, 2)
            ps.append((o + 1) * (S - 1) / 2)
        order = np.concatenate([np.flatnonzero(z < 1), np.flatnonzero(z >= 1)])
        return torch.cat(xs), torch.cat(ms), torch.cat(ps), rows[torch.from_numpy(order).to(dev)]


def train_locate(data, tr, val, args, dev, log):
    S = args.locate_size
    val_ids = {data.cvm_ids[i] for i in val}
    cvm_train_ids = [data.cvm_ids[i] for i in tr]
    isbi_rows = [j for j, iid in enumerate(data.isbi_ids) if iid not in val_ids]
    cvm_rows = [data.isbi_ids.index(iid) for iid in cvm_train_ids]
    n_isbi = len(data.isbi_ids)
    # 32 target channels in letterbox coordinates: 13 vertebral (only cvm13 training images) + 19 face
    uv = np.zeros((n_isbi, 32, 2), np.float32)
    ok = np.zeros((n_isbi, 32), bool)
    w, h = data.sizes[0]
    for j in range(n_isbi):
        uv[j, 13:] = image_to_letterbox(data.isbi_pts[j], *data.sizes[j], S, S)
        ok[j, 13:] = True
    for iid in cvm_train_ids:
        j = data.isbi_ids.index(iid)
        uv[j, :13] = image_to_letterbox(data.cvm_pts[data.cvm_ids.index(iid)], *data.sizes[j], S, S)
        ok[j, :13] = True
    imgs = torch.from_numpy(data.lb).to(dev)[:, None]
    masks = torch.zeros_like(imgs)
    for j in range(n_isbi):
        rw, rh = data.sizes[j]
        from dataset import letterbox_params
        rw, rh, ox, oy = letterbox_params(rw, rh, S, S)
        masks[j, :, oy:oy + rh, ox:ox + rw] = 1
    uv_t, ok_t = torch.from_numpy(uv).to(dev), torch.from_numpy(ok).to(dev)

    torch.manual_seed(member_seed(args) * 1000 + 1)
    rng = np.random.RandomState(member_seed(args) * 1000 + 1)
    device_rng = np.random.RandomState(member_seed(args) * 1000 + 11) if args.device_processing else None
    # Millimetres per letterbox pixel of the whole film (the zoomed views are 1.2-2.2x finer: close enough).
    lb_px_mm = max(max(wh) for wh in data.sizes) * SPACING_MM / S
    model = UNet(32, args.locate_base).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=1e-5)
    log("locate: %d params, %d images (%d with vertebrae), %d steps x batch %d" % (
        n_params(model), len(isbi_rows), len(cvm_rows), args.locate_steps, args.batch_locate))
    nz = int(round(args.batch_locate * args.locate_zoom_share)) if args.locate_zoom > 1 else 0
    zoom = ZoomedViews(data, cvm_train_ids, isbi_rows, S, dev, args.locate_zoom_source) if nz > 0 else None
    B = args.batch_locate - nz
    c = (S - 1) / 2
    t0 = time.time()
    for step in range(args.locate_steps):
        nb = B // 2
        rows = list(rng.choice(cvm_rows, nb)) + list(rng.choice(isbi_rows, B - nb))
        rows = torch.tensor(rows, device=dev)
        # random affine in letterbox pixel space: input point p_in = A (p_out - c) + c + t
        ang = torch.from_numpy(rng.uniform(-10, 10, B) * math.pi / 180).float().to(dev)
        sc = torch.from_numpy(np.exp(rng.uniform(-0.12, 0.12, B))).float().to(dev)
        tr_ = torch.from_numpy(rng.uniform(-8, 8, (B, 2))).float().to(dev)
        A = torch.stack([torch.stack([torch.cos(ang), -torch.sin(ang)], -1),
                         torch.stack([torch.sin(ang), torch.cos(ang)], -1)], -2) * sc.view(B, 1, 1)
        theta = torch.cat([A, (tr_ * 2 / (S - 1)).view(B, 2, 1)], -1)  # normalised coords (align_corners)
        grid = F.affine_grid(theta, (B, 1, S, S), align_corners=True)
        x = F.grid_sample(imgs[rows], grid, mode="bilinear", padding_mode="zeros", align_corners=True)
        m = F.grid_sample(masks[rows], grid, mode="bilinear", padding_mode="zeros", align_corners=True)
        p = uv_t[rows] - c - tr_.view(B, 1, 2)
        p = torch.linalg.solve(A, p.transpose(1, 2)).transpose(1, 2) + c
        valid = ok_t[rows]
        if zoom:
            zx, zm, zp, zrows = zoom.sample(nz, (args.locate_zoom_min, args.locate_zoom), cvm_rows, rng)
            x, m, p = torch.cat([x, zx]), torch.cat([m, zm]), torch.cat([p, zp])
            valid = torch.cat([valid, ok_t[zrows]])
        tgt = gaussian_targets(p, valid, S, S, args.locate_sigma)
        x = intensity_aug(x, m, rng, device_rng, lb_px_mm)
        if step == 0 and args.debug_png:
            debug_png(x, tgt, os.path.join(args.out, "debug_locate.png"))
        lr = cosine_lr(opt, step, args.locate_steps, args.lr)
        pred = model(x)
        cw = valid.float()
        cw[:, :13] *= 2.0  # the vertebral channels matter most
        loss = heatmap_loss(pred, tgt, cw)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0 or step == args.locate_steps - 1:
            log("locate step %d/%d loss %.5f lr %.2e %.2f s/step" % (step, args.locate_steps, loss.item(), lr,
                                                                      (time.time() - t0) / (step + 1)))
    return model, time.time() - t0


# ---------------------------------------------------------------------------------------- stage 2

def random_crop(p, jit, s0, gu, gv, rng):
    """A stage-2 training crop around the points p ([13,2], full-resolution pixels): centre = their mean plus
    N(0, jit/2) clipped to +-jit per axis, rotation +-15 deg, scale s0 x exp(+-0.1). gu, gv: the crop's pixel
    offsets from its centre ([H,W]). Returns the full-resolution coordinates x, y ([H,W]) to sample and the
    points in crop pixels ([13,2])."""
    H, W = gu.shape
    c = p.mean(0) + torch.from_numpy(np.clip(rng.normal(0, jit / 2, 2), -jit, jit)).float().to(p.device)
    ang = rng.uniform(-15, 15) * math.pi / 180
    s = s0 * math.exp(rng.uniform(-0.1, 0.1))
    ca, sa = math.cos(ang), math.sin(ang)
    x = c[0] + (ca * gu - sa * gv) * s
    y = c[1] + (sa * gu + ca * gv) * s
    d = p - c
    u = (ca * d[:, 0] + sa * d[:, 1]) / s + (W - 1) / 2
    v = (-sa * d[:, 0] + ca * d[:, 1]) / s + (H - 1) / 2
    return x, y, torch.stack([u, v], -1)


def train_refine(data, tr, val, args, dev, log):
    W, H = args.refine_w, args.refine_h
    s0 = args.mm_per_px / SPACING_MM
    full = torch.from_numpy(data.full[tr]).to(dev)  # uint8 [n,h,w]
    pts = torch.from_numpy(data.cvm_pts[tr]).float().to(dev)
    n, ih, iw = full.shape
    imgs = [full[i].float().div(255)[None, None] for i in range(n)]
    torch.manual_seed(member_seed(args) * 1000 + 2)
    rng = np.random.RandomState(member_seed(args) * 1000 + 2)
    device_rng = np.random.RandomState(member_seed(args) * 1000 + 12) if args.device_processing else None
    model = UNet(13, args.refine_base).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=1e-5)
    log("refine: %d params, %d images, %d steps x batch %d, input %dx%d at %.3f mm/px" % (
        n_params(model), n, args.refine_steps, args.batch_refine, W, H, args.mm_per_px))
    B = args.batch_refine
    jit = args.jitter_mm / SPACING_MM
    ones = torch.ones(1, 1, ih, iw, device=dev)
    uu = torch.arange(W, dtype=torch.float32, device=dev) - (W - 1) / 2
    vv = torch.arange(H, dtype=torch.float32, device=dev) - (H - 1) / 2
    gv, gu = torch.meshgrid(vv, uu, indexing="ij")
    t0 = time.time()
    for step in range(args.refine_steps):
        xs, ms, tg = [], [], []
        for b in range(B):
            i = int(rng.randint(n))
            p = pts[i]
            x, y, uv = random_crop(p, jit, s0, gu, gv, rng)
            g = torch.stack([2 * x / (iw - 1) - 1, 2 * y / (ih - 1) - 1], -1)[None]
            xs.append(F.grid_sample(imgs[i], g, mode="bilinear", padding_mode="zeros", align_corners=True))
            ms.append(F.grid_sample(ones, g, mode="bilinear", padding_mode="zeros", align_corners=True))
            tg.append(uv)
        x = intensity_aug(torch.cat(xs), torch.cat(ms), rng, device_rng, args.mm_per_px)
        uv = torch.stack(tg)
        okk = torch.ones(B, 13, dtype=torch.bool, device=dev)
        tgt = gaussian_targets(uv, okk, H, W, args.refine_sigma)
        if step == 0 and args.debug_png:
            debug_png(x, tgt, os.path.join(args.out, "debug_refine.png"))
        lr = cosine_lr(opt, step, args.refine_steps, args.lr)
        pred = model(x)
        loss = heatmap_loss(pred, tgt, okk.float())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0 or step == args.refine_steps - 1:
            log("refine step %d/%d loss %.5f lr %.2e %.2f s/step" % (step, args.refine_steps, loss.item(), lr,
                                                                      (time.time() - t0) / (step + 1)))
    return model, time.time() - t0


def debug_png(x, tgt, path):
    """Save the first 4 and the last 4 augmented inputs (stage 1: the last are the zoomed views) with the target
    heatmaps overlaid in red (sanity check)."""
    from PIL import Image
    rows = []
    n = x.shape[0]
    for i in sorted(set(range(min(4, n))) | set(range(max(0, n - 4), n))):
        g = x[i, 0].detach().cpu()
        g = ((g - g.min()) / (g.max() - g.min() + 1e-6)).numpy()
        t = tgt[i].max(0)[0].detach().cpu().numpy()
        rgb = np.stack([np.maximum(g, t), g * (1 - t), g * (1 - t)], -1)
        rows.append((rgb * 255).astype(np.uint8))
    im = Image.fromarray(np.concatenate(rows, 1))
    im = im.resize((im.width * 2, im.height * 2), Image.NEAREST)
    im.save(path)


def fold_logger(out, filename, tag):
    """log(msg): a time-stamped line tagged with the fold, to stdout and appended to out/filename."""
    logf = open(os.path.join(out, filename), "a")

    def log(msg):
        line = "[%s %s] %s" % (time.strftime("%H:%M:%S"), tag, msg)
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    return log


def add_args(ap):
    ap.add_argument("--data", default=None, help="shared data folder (default ../shared/data of the repo)")
    ap.add_argument("--seed", type=int, default=0, help="fold split (and, without --member-seed, the rest)")
    ap.add_argument("--member-seed", type=int, default=None,
                    help="initialisation and augmentation seed of an ensemble member (the fold split stays on --seed)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--locate-size", type=int, default=128)
    ap.add_argument("--locate-base", type=int, default=16)
    ap.add_argument("--locate-steps", type=int, default=600)
    ap.add_argument("--locate-sigma", type=float, default=1.5)
    ap.add_argument("--batch-locate", type=int, default=16)
    ap.add_argument("--locate-zoom", type=float, default=1.0,
                    help="stage 1 also sees views of another field of view, the column up to this many times as "
                         "large as in the whole image (1: off)")
    ap.add_argument("--locate-zoom-min", type=float, default=1.2, help="... and down to this many times")
    ap.add_argument("--locate-zoom-source", type=int, default=2,
                    help="zoomed-in views are sampled from a letterbox this many times --locate-size")
    ap.add_argument("--locate-zoom-share", type=float, default=0.375, help="share of each stage-1 batch so zoomed")
    ap.add_argument("--refine-w", type=int, default=160)
    ap.add_argument("--refine-h", type=int, default=192)
    ap.add_argument("--mm-per-px", type=float, default=0.3)
    ap.add_argument("--refine-base", type=int, default=16)
    ap.add_argument("--refine-steps", type=int, default=600)
    ap.add_argument("--refine-sigma", type=float, default=2.0)
    ap.add_argument("--batch-refine", type=int, default=8)
    ap.add_argument("--jitter-mm", type=float, default=6.0)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--debug-png", action="store_true", help="save augmented inputs + targets at step 0")
    ap.add_argument("--device-processing", action="store_true",
                    help="also augment with what cephalostats do to their exports (unsharp masking, narrowed window)")
    return ap


def main():
    ap = add_args(argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter))
    ap.add_argument("--stage", choices=["locate", "refine", "both"], default="both")
    ap.add_argument("--fold", default="all", help="0..folds-1, or 'all' (final model on all 54 images)")
    ap.add_argument("--out", default=os.path.join(HERE, "runs", "cv"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = pick_device()
    data = Data(args.data, args.locate_size, letterbox=args.stage != "refine")  # stage 2 needs the 54 cvm13 images only
    tr, val = split(len(data.cvm_ids), args.fold, args.folds, args.seed)
    assert_honest(data, tr, val, args.fold, args.folds, args.seed)
    out = os.path.join(args.out, "fold%s" % args.fold)
    os.makedirs(out, exist_ok=True)
    log = fold_logger(out, "train.log", "fold %s" % args.fold)

    log("device %s, torch %s, train %d, val %d (%s)" % (dev, torch.__version__, len(tr), len(val),
                                                       ",".join(data.cvm_ids[i] for i in val)))
    cfg = {k: v for k, v in vars(args).items() if k not in ("data", "out")}
    cfg["train_ids"] = [data.cvm_ids[i] for i in tr]
    cfg["val_ids"] = [data.cvm_ids[i] for i in val]
    for stage in (["locate", "refine"] if args.stage == "both" else [args.stage]):
        fn = train_locate if stage == "locate" else train_refine
        model, secs = fn(data, tr, val, args, dev, log)
        log("%s trained in %.1f s" % (stage, secs))
        torch.save({"state": model.state_dict(), "cfg": cfg, "seconds": secs, "stage": stage,
                    "out_ch": 32 if stage == "locate" else 13,
                    "sigma": args.locate_sigma if stage == "locate" else args.refine_sigma,
                    "base": args.locate_base if stage == "locate" else args.refine_base},
                   os.path.join(out, stage + ".pt"))


if __name__ == "__main__":
    main()
