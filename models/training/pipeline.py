"""The inference contract of models/README.md, in Python (used by training-time evaluation and evaluate.py).

Every function here follows the README exactly: letterbox-area stage 1, fixed-scale bilinear crop for
stage 2 (the edge repeated outside the image), z-score normalisation, argmax + per-axis parabola sub-pixel peak.
"""
import numpy as np
import torch
import torch.nn.functional as F

from dataset import letterbox_area, letterbox_to_image


def zscore(x):
    """x: torch [..., H, W] per-sample tensor -> (x - mean) / (std_population + 1e-6) over each sample."""
    dims = tuple(range(1, x.dim()))
    m = x.mean(dim=dims, keepdim=True)
    s = x.var(dim=dims, unbiased=False, keepdim=True).sqrt()
    return (x - m) / (s + 1e-6)


def peaks(hm):
    """hm: numpy [K,H,W] -> (uv [K,2] sub-pixel, conf [K])."""
    K, H, W = hm.shape
    out = np.zeros((K, 2), np.float64)
    conf = np.zeros(K, np.float64)
    for k in range(K):
        h = hm[k]
        idx = int(np.argmax(h))
        v, u = divmod(idx, W)
        conf[k] = h[v, u]
        du = dv = 0.0
        if 0 < u < W - 1:
            a, b, c = float(h[v, u - 1]), float(h[v, u]), float(h[v, u + 1])
            den = a - 2 * b + c
            if den != 0:
                du = float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
        if 0 < v < H - 1:
            a, b, c = float(h[v - 1, u]), float(h[v, u]), float(h[v + 1, u])
            den = a - 2 * b + c
            if den != 0:
                dv = float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
        out[k] = (u + du, v + dv)
    return out, conf


def crop_grid(cx, cy, W, H, s, img_w, img_h, angle=0.0, device="cpu"):
    """grid_sample grid (align_corners=True) for the README stage-2 crop (optionally rotated by angle rad)."""
    u = torch.arange(W, dtype=torch.float32, device=device) - (W - 1) / 2
    v = torch.arange(H, dtype=torch.float32, device=device) - (H - 1) / 2
    vv, uu = torch.meshgrid(v, u, indexing="ij")
    ca, sa = float(np.cos(angle)), float(np.sin(angle))
    x = cx + (ca * uu - sa * vv) * s
    y = cy + (sa * uu + ca * vv) * s
    gx = 2 * x / (img_w - 1) - 1
    gy = 2 * y / (img_h - 1) - 1
    return torch.stack([gx, gy], -1)[None]


def crop(img01, cx, cy, W, H, s):
    """img01: torch [1,1,h,w] float -> torch [1,1,H,W] bilinear samples, 0 outside the image."""
    h, w = img01.shape[-2:]
    g = crop_grid(cx, cy, W, H, s, w, h, device=img01.device)
    return F.grid_sample(img01, g, mode="bilinear", padding_mode="border", align_corners=True)


@torch.no_grad()
def run_locate(model, img_u8, W, H, n_out=13, device="cpu"):
    """Stage 1 on a full grey uint8 image [h,w] -> 13 landmark positions in image pixels."""
    h, w = img_u8.shape
    lb, _ = letterbox_area(img_u8.astype(np.float32) / 255.0, W, H)
    x = zscore(torch.from_numpy(lb)[None, None].to(device))
    hm = model(x)[0, :n_out].float().cpu().numpy()
    uv, conf = peaks(hm)
    return letterbox_to_image(uv, w, h, W, H), conf


@torch.no_grad()
def run_refine(model, img_t, cx, cy, W, H, s, device="cpu", shifts=((0, 0),)):
    """Stage 2: img_t torch [1,1,h,w] float in [0,1]; returns 13 landmark positions in image pixels.

    shifts: optional list of crop-centre offsets (input pixels) whose predictions are averaged."""
    preds = []
    confs = []
    for du, dv in shifts:
        ccx, ccy = cx + du * s, cy + dv * s
        x = zscore(crop(img_t.to(device), ccx, ccy, W, H, s))
        hm = model(x)[0].float().cpu().numpy()
        uv, conf = peaks(hm)
        xy = np.stack([ccx + (uv[:, 0] - (W - 1) / 2) * s, ccy + (uv[:, 1] - (H - 1) / 2) * s], -1)
        preds.append(xy)
        confs.append(conf)
    return np.mean(preds, 0), np.mean(confs, 0)
