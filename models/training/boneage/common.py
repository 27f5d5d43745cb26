"""Shared pieces of the bone-age and radiograph-kind recipes.

Preparation (the contract of models/README.md, section "Hand-wrist models"): the displayed grey image,
squashed (aspect ratio ignored) to 100x100 by nearest neighbour exactly as PIL's Image.NEAREST (position a / 2 with
a = n / 100, a added per output cell, truncated), which made the rsna100 arrays; float32 value / 255 in [0, 1].
Everything else (per-image z-score) happens inside the exported graphs.
"""
import os
import numpy as np

SIZE = 100
DATA = os.environ.get("CVM_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data"))


def nearest_indices(n: int, size: int = SIZE) -> np.ndarray:
    """Pillow's NEAREST source indices (ImagingScaleAffine): accumulated double sum, truncated."""
    step = n / size
    pos = step * 0.5
    out = []
    for _ in range(size):
        out.append(min(n - 1, int(pos)))
        pos += step
    return np.array(out, dtype=np.int64)


def squash_nearest(a: np.ndarray, size: int = SIZE) -> np.ndarray:
    """2-D uint8 array -> size x size by nearest neighbour, exactly as PIL's Image.NEAREST."""
    h, w = a.shape
    return a[nearest_indices(h, size)][:, nearest_indices(w, size)]


def load_grey(path: str) -> np.ndarray:
    from PIL import Image
    im = Image.open(path)
    if im.mode not in ("L", "I;16", "I"):
        im = im.convert("L")
    a = np.asarray(im)
    if a.dtype != np.uint8:
        a = (a.astype(np.float64) * 255.0 / max(1.0, float(a.max()))).round().astype(np.uint8)
    return a


def load_rsna100():
    d = np.load(os.path.join(DATA, "boneage", "rsna100", "rsna100_train.npz"))
    return d["images"], d["ids"], d["boneage_months"].astype(np.float32), d["male"].astype(bool)


def load_samples():
    """The full-size rsna-sample radiographs prepared like the app (nearest squash): ids, bone age, male, images."""
    sdir = os.path.join(DATA, "boneage", "rsna-sample")
    lab = [l.strip().split(",") for l in open(os.path.join(sdir, "labels.csv")).read().strip().splitlines()[1:]]
    ids = np.array([int(r[0]) for r in lab]); age = np.array([float(r[1]) for r in lab])
    male = np.array([r[2].strip().lower() == "true" for r in lab])
    return ids, age, male, np.stack([squash_nearest(load_grey(os.path.join(sdir, f"{i}.png"))) for i in ids])
