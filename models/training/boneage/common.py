"""Shared pieces of the bone-age and radiograph-kind recipes.

Preparation (the contract of models/README.md, section "Hand-wrist models"): the displayed grey image,
squashed (aspect ratio ignored) to 100x100 by nearest neighbour with source index floor((i + 0.5) * n / 100),
which is PIL's Image.NEAREST and reproduces the rsna100 arrays exactly; float32 value / 255 in [0, 1].
Everything else (per-image z-score) happens inside the exported graphs.
"""
import os
import numpy as np

SIZE = 100
DATA = os.environ.get("CVM_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data"))


def squash_nearest(a: np.ndarray, size: int = SIZE) -> np.ndarray:
    """2-D uint8 array -> size x size by nearest neighbour, source index floor((i + 0.5) * n / size)."""
    h, w = a.shape
    ys = np.minimum(((np.arange(size) + 0.5) * h / size).astype(np.int64), h - 1)
    xs = np.minimum(((np.arange(size) + 0.5) * w / size).astype(np.int64), w - 1)
    return a[ys][:, xs]


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
