"""Data loading for the cvm13 landmark model.

Reads the shared data folder (default: ../shared/data relative to the repository, i.e. resolved from this
file's location; override with --data or the CVM_DATA environment variable) and builds numpy caches under
runs/cache/ so that the JPEG decoding happens once:
  * letterbox<S>-<key>.npz : all 376 ISBI images letterbox-area resized to the stage-1 input (README convention)
  * full_cvm13-<key>.npy   : the 54 cvm13 images at full resolution (uint8, 0.1 mm/px) for stage-2 crops
<key> is a digest of the images' content (sha256 of every file, in id order) and of the cache's parameters,
so a changed, added or replaced image file (same name, other pixels) builds a new cache instead of reusing
a stale one. Stage 2 alone (Data(letterbox=False), train.py --stage refine) reads only the 54 cvm13 images, so a
machine that trains it (a rented GPU) needs those 16 MB, not all 376 ISBI images.
"""
import csv
import hashlib
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_DATA = os.environ.get("CVM_DATA", os.path.abspath(os.path.join(REPO, "..", "shared", "data")))
CACHE = os.path.join(HERE, "runs", "cache")

LANDMARKS = ["C2p", "C2m", "C2a", "C3up", "C3lp", "C3m", "C3la", "C3ua",
             "C4up", "C4lp", "C4m", "C4la", "C4ua"]
SPACING_MM = 0.1  # ISBI 2015 pixel spacing


def load_gray(path):
    """Displayed grey image as float32 in [0,1] (8-bit: value / 255)."""
    im = Image.open(path).convert("L")
    return np.asarray(im, dtype=np.uint8)


def letterbox_params(w, h, W, H):
    k = min(W / w, H / h)
    rw, rh = int(round(w * k)), int(round(h * k))
    return rw, rh, (W - rw) // 2, (H - rh) // 2


def letterbox_area(img01, W, H):
    """img01: float32 [h,w] in [0,1] -> (float32 [H,W], (rw, rh, ox, oy)). README 'letterbox-area'."""
    h, w = img01.shape
    rw, rh, ox, oy = letterbox_params(w, h, W, H)
    t = torch.from_numpy(np.ascontiguousarray(img01, dtype=np.float32))[None, None]
    r = F.adaptive_avg_pool2d(t, (rh, rw))[0, 0].numpy()
    out = np.zeros((H, W), np.float32)
    out[oy:oy + rh, ox:ox + rw] = r
    return out, (rw, rh, ox, oy)


def image_to_letterbox(pts, w, h, W, H):
    rw, rh, ox, oy = letterbox_params(w, h, W, H)
    pts = np.asarray(pts, np.float64)
    u = (pts[..., 0] + 0.5) * rw / w - 0.5 + ox
    v = (pts[..., 1] + 0.5) * rh / h - 0.5 + oy
    return np.stack([u, v], -1)


def letterbox_to_image(uv, w, h, W, H):
    rw, rh, ox, oy = letterbox_params(w, h, W, H)
    uv = np.asarray(uv, np.float64)
    x = (uv[..., 0] - ox + 0.5) * w / rw - 0.5
    y = (uv[..., 1] - oy + 0.5) * h / rh - 0.5
    return np.stack([x, y], -1)


class Data:
    """All annotations + cached image arrays."""

    def __init__(self, data_dir=None, locate_size=128, verbose=True, letterbox=True):
        """letterbox=False: only the cvm13 images at full resolution (stage 2), no stage-1 caches (lb, sizes)."""
        self.data_dir = os.path.abspath(data_dir or DEFAULT_DATA)
        self.locate_size = locate_size
        self.letterbox = letterbox
        ann = json.load(open(os.path.join(self.data_dir, "cvm13", "annotations.json")))
        assert ann["landmarks"] == LANDMARKS
        self.cvm_ids = sorted(ann["images"].keys())
        self.cvm_pts = np.array([[ann["images"][i]["points"][n] for n in LANDMARKS] for i in self.cvm_ids],
                                np.float64)  # [54,13,2]
        # evaluation mask: False for landmarks filled from a model prediction
        self.cvm_eval = np.array([[n not in ann["images"][i].get("filled_from_prediction", []) for n in LANDMARKS]
                                  for i in self.cvm_ids], bool)
        # ISBI 19 face landmarks
        rows = list(csv.reader(open(os.path.join(self.data_dir, "isbi2015", "isbi19_landmarks.csv"))))
        self.isbi_ids = [r[0] for r in rows[1:]]
        self.isbi_pts = np.array([[float(v) for v in r[1:]] for r in rows[1:]], np.float64).reshape(-1, 19, 2)
        self.img_dir = os.path.join(self.data_dir, "isbi2015", "images")
        self._build_cache(verbose)

    def path(self, iid):
        return os.path.join(self.img_dir, iid + ".jpg")

    def content_key(self):
        """Digest of the image files' sha256 (in id order; every ISBI image, or with letterbox=False the cvm13
        ones), the cvm13 ids and the stage-1 size."""
        h = hashlib.sha256()
        h.update(("cache v2 %d %s\n" % (self.locate_size, ",".join(self.cvm_ids))).encode())
        if not self.letterbox:
            h.update(b"cvm13 images only\n")
        for iid in self.isbi_ids if self.letterbox else self.cvm_ids:
            with open(self.path(iid), "rb") as fh:
                h.update(("%s %s\n" % (iid, hashlib.sha256(fh.read()).hexdigest())).encode())
        return h.hexdigest()[:16]

    def _build_cache(self, verbose):
        os.makedirs(CACHE, exist_ok=True)
        S = self.locate_size
        key = self.content_key()
        lb_file = os.path.join(CACHE, "letterbox%d-%s.npz" % (S, key))
        full_file = os.path.join(CACHE, "full_cvm13-%s.npy" % key)
        if not self.letterbox:
            self.lb = self.sizes = None
            if not os.path.exists(full_file):
                if verbose:
                    print("building the cvm13 image cache under", CACHE, flush=True)
                np.save(full_file, np.stack([load_gray(self.path(i)) for i in self.cvm_ids]))
            self.full = np.load(full_file)
            return
        if os.path.exists(lb_file) and os.path.exists(full_file):
            z = np.load(lb_file)
            if list(z["ids"]) == self.isbi_ids and str(z["key"]) == key:
                self.lb = z["lb"]
                self.sizes = z["sizes"]
                self.full = np.load(full_file, mmap_mode=None)
                return
        if verbose:
            print("building image caches under", CACHE, flush=True)
        lb, sizes, full = [], [], []
        for iid in self.isbi_ids:
            g = load_gray(self.path(iid))
            sizes.append(g.shape[::-1])
            lb.append(letterbox_area(g.astype(np.float32) / 255.0, S, S)[0])
            if iid in self.cvm_ids:
                full.append((iid, g))
        self.lb = np.stack(lb).astype(np.float32)
        self.sizes = np.array(sizes)
        d = dict(full)
        self.full = np.stack([d[i] for i in self.cvm_ids])
        np.savez(lb_file, ids=np.array(self.isbi_ids), lb=self.lb, sizes=self.sizes, key=np.array(key))
        np.save(full_file, self.full)

    def letterbox_at(self, S, verbose=True):
        """All ISBI images letterbox-area resized to S x S (a second size, e.g. the sharper source of stage 1's
        zoomed samples), cached like the stage-1 input: [n, S, S] float32."""
        h = hashlib.sha256()
        h.update(("letterbox only %d %s\n" % (S, self.content_key())).encode())
        key = h.hexdigest()[:16]
        lb_file = os.path.join(CACHE, "letterbox%d-%s.npz" % (S, key))
        if os.path.exists(lb_file):
            z = np.load(lb_file)
            if list(z["ids"]) == self.isbi_ids and str(z["key"]) == key:
                return z["lb"]
        if verbose:
            print("building the %d-px letterbox cache under" % S, CACHE, flush=True)
        lb = np.stack([letterbox_area(load_gray(self.path(iid)).astype(np.float32) / 255.0, S, S)[0]
                       for iid in self.isbi_ids]).astype(np.float32)
        np.savez(lb_file, ids=np.array(self.isbi_ids), lb=lb, key=np.array(key))
        return lb

    def isbi_index(self, iid):
        return self.isbi_ids.index(iid)
