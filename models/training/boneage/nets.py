import torch
import torch.nn as nn
import torch.nn.functional as F


# test-time views (dx, dy, mirrored), averaged on the head's outputs: the image and its mirror image (2.0.0 to
# 3.6.0), and since 3.7.0 also the image shifted by (2, 2) pixels and the mirror image by (-2, -2), edge-padded as
# the training's shifts pad with the border (tta_eval.py on round 9's out-of-fold cases: 9.49 -> 9.41 months)
TTA_VIEWS = ((0, 0, False), (0, 0, True), (2, 2, False), (-2, -2, True))


def shift(x, dx, dy):
    """Integer shift of [N,C,H,W] by (dx, dy) pixels with edge padding."""
    p = max(abs(dx), abs(dy))
    y = F.pad(x, (p, p, p, p), mode="replicate")
    h, w = x.shape[2], x.shape[3]
    return y[:, :, p - dy:p - dy + h, p - dx:p - dx + w]


def tta_batch(x):
    """[N,1,H,W] -> [V*N,1,H,W]: the views of TTA_VIEWS, view-major."""
    out = []
    for dx, dy, mirrored in TTA_VIEWS:
        v = torch.flip(x, dims=[3]) if mirrored else x
        out.append(shift(v, dx, dy) if dx or dy else v)
    return torch.cat(out, 0)


def cbr(i, o, s=1, k=3):
    pad = (k - 1) // 2 if k == 3 else 0
    return nn.Sequential(nn.Conv2d(i, o, k, s, pad, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))


class ZScore(nn.Module):
    """Per-image z-score (population SD + 1e-6), inside the graph so that callers feed value / 255."""

    def forward(self, x):
        m = x.mean(dim=(2, 3), keepdim=True)
        s = ((x - m) ** 2).mean(dim=(2, 3), keepdim=True).sqrt()
        return (x - m) / (s + 1e-6)


class BoneAgeNet(nn.Module):
    """100x100 grey + sex -> (mean, log-variance) of bone age in normalised units (months = 120 + 50 t).

    A 3x3 stride-2 stem (100 -> 50: every pixel seen by a 3x3 kernel, unlike a 4x4 stride-4 patchify), then
    3x3 conv + BatchNorm + ReLU stages at 25, 13 and 7 pixels (widths w[1..3], a stride-2 conv then a
    stride-1 conv each), global average pooling, sex (+1 male, -1 female) concatenated, MLP head.
    About 65 MMAC per image. `tta`: the mean and log-variance averaged over the views of TTA_VIEWS (the
    training mirrors and shifts hands at random, so all are in distribution); used for every figure and in the
    exported graph."""

    def __init__(self, w=(24, 48, 96, 192), tta=False):
        super().__init__()
        a, b, c, d = w
        self.tta = tta
        self.z = ZScore()
        self.body = nn.Sequential(cbr(1, a, 2), cbr(a, b, 2), cbr(b, b), cbr(b, c, 2), cbr(c, c), cbr(c, d, 2), cbr(d, d),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(d + 1, 64), nn.ReLU(inplace=True), nn.Linear(64, 2))

    def features(self, x, s=None):
        return self.body(self.z(x))

    def forward(self, x, male):
        s = male * 2 - 1
        if not self.tta:
            return self.head(torch.cat([self.features(x, s).float(), s], dim=1))
        n = x.shape[0]
        sv = s.repeat(len(TTA_VIEWS), 1)
        o = self.head(torch.cat([self.features(tta_batch(x), sv).float(), sv], dim=1))
        return o.view(len(TTA_VIEWS), n, 2).mean(0)


class BoneAgeVGG(BoneAgeNet):
    """VGG-like variant: two 3x3 conv + BatchNorm + ReLU per resolution at 100, 50, 25 and 12 pixels (2x2 max
    pooling between them), one more at 6, global average pooling, MLP head as BoneAgeNet. `sexin`: the sex
    (+1 male, -1 female) also enters the body as a constant second input channel (besides the head)."""

    def __init__(self, w=(12, 24, 48, 96, 192), tta=False, sexin=False):
        nn.Module.__init__(self)
        a, b, c, d, e = w
        self.tta = tta
        self.sexin = sexin
        self.z = ZScore()
        i = 2 if sexin else 1
        P = lambda: nn.MaxPool2d(2)
        self.body = nn.Sequential(cbr(i, a), cbr(a, a), P(), cbr(a, b), cbr(b, b), P(), cbr(b, c), cbr(c, c), P(),
                                  cbr(c, d), cbr(d, d), P(), cbr(d, e), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(nn.Linear(e + 1, 64), nn.ReLU(inplace=True), nn.Linear(64, 2))
        self._s = None

    def features(self, x, s=None):
        z = self.z(x)
        if self.sexin:
            z = torch.cat([z, s.view(-1, 1, 1, 1).expand(-1, 1, z.shape[2], z.shape[3]).to(z.dtype)], dim=1)
        return self.body(z)


def make_boneage(cfg, tta=False):
    """The bone-age network a run's config.json describes (arch 'net' = BoneAgeNet when absent)."""
    width = tuple(int(c) for c in cfg["width"].split(","))
    if cfg.get("arch", "net") == "vgg":
        return BoneAgeVGG(width, tta=tta, sexin=bool(cfg.get("sexin", 0)))
    return BoneAgeNet(width, tta=tta)


class KindNet(nn.Module):
    """100x100 grey -> logits over (cephalogram, hand, other)."""

    def __init__(self):
        super().__init__()
        self.z = ZScore()
        self.body = nn.Sequential(cbr(1, 16, 4, 4), cbr(16, 32, 2), cbr(32, 64, 2), cbr(64, 64),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(64, 3))

    def forward(self, x):
        return self.body(self.z(x))


def augment(x, g, rot_deg=12.0, scale=0.1, shift=0.06, flip=0.5, contrast=0.25, gamma=0.3, padding="border"):
    """Batch augmentation on [N,1,H,W] in [0,1]: affine (rotation, scale, shift, horizontal flip) with
    `padding` ("border" repeats the edge, "zeros" fills black as a film scanned at a tilt), then
    contrast/brightness/gamma. g: torch.Generator."""
    import math
    import torch.nn.functional as F
    n = x.shape[0]
    ang = (torch.rand(n, generator=g) * 2 - 1) * rot_deg * math.pi / 180
    sc = 1 + (torch.rand(n, generator=g) * 2 - 1) * scale
    fl = torch.where(torch.rand(n, generator=g) < flip, -1.0, 1.0)
    tx = (torch.rand(n, generator=g) * 2 - 1) * shift * 2
    ty = (torch.rand(n, generator=g) * 2 - 1) * shift * 2
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos * fl, -sin, tx], 1), torch.stack([sin * fl, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    y = F.grid_sample(x, grid, mode="bilinear", padding_mode=padding, align_corners=False)
    c = 1 + (torch.rand(n, 1, 1, 1, generator=g) * 2 - 1) * contrast
    b = (torch.rand(n, 1, 1, 1, generator=g) * 2 - 1) * contrast * 0.4
    gm = torch.exp((torch.rand(n, 1, 1, 1, generator=g) * 2 - 1) * gamma)
    m = y.mean(dim=(2, 3), keepdim=True)
    y = ((y - m) * c + m + b).clamp(0, 1)
    return y.clamp_min(1e-6) ** gm
