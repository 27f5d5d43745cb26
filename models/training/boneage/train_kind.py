"""Radiograph-kind classifier (cephalogram / hand / other) on the 100x100 squashed input of the hand models.

Data (all prepared with common.squash_nearest, like the app):
  cephalogram  the 376 ISBI 2015 lateral cephalograms: images 001-300 train, 301-376 held out
  hand         rsna100 hands: 3000 train, 1000 held out (disjoint, random with the seed)
  other        synthetic, generated fresh per batch (held-out set from other seeds), five families:
               1/f ("natural image") random fields, blank / gradient frames (failed exposures, empty
               scans), geometric frames (rectangles, bar patterns, discs: test patterns, screenshots,
               documents), and block-shuffled cephalograms and hands (8x8 tiles permuted: the same grey
               levels, edges and texture as the radiographs but no anatomy, so the classifier has to use
               the layout of the whole image, not its texture)
Augmentation of cephalograms and hands: any of the 8 flips/quarter-turns (so mirrored or rotated images
keep their kind), rotation +-ROT_DEG (films are scanned and patients positioned at a tilt; half of each batch
with the corners filled black as a scanner does and scaled by 0.65-1.35, as a turned film on an enlarged canvas,
half with the edge repeated and scaled +-10 %), shift, contrast/brightness/gamma; the synthetic others the same.

Held-out figures: accuracy per class on the held-out images under each of the 8 flips/quarter-turns, a random
rotation within +-15 deg and fixed tilts (TILTS_DEG; the cephalograms turned at full resolution before the
squash, as a tilted scan reaches the app, also mirrored); written to runs/kind/heldout.json.

With --device-processing (1.2.0) every class also sees what devices and exports do: inversion, edge enhancement
by unsharp masking, a narrowed window (device_look); held-out rows for cephalograms so processed at full
resolution.

With --frames-and-noise (1.3.0) every class also sees itself small in a wide uniform canvas and with pixel noise
(framed_or_noisy): 1.2.0 took ISBI 001 at half size on a black canvas twice its size for a hand (P 0.81) and the
same film with strong noise for "other" (P 0.97); held-out rows 'on_canvas' and 'noisy'.

  OMP_NUM_THREADS=1 python3 train_kind.py --steps 3000 --device-processing --frames-and-noise
"""
import argparse, json, os, time
import numpy as np
import torch
import torch.nn.functional as F
from common import DATA, load_grey, load_rsna100, squash_nearest
from nets import KindNet, augment

CLASSES = ["cephalogram", "hand", "other"]
ROT_DEG = 35  # the landmark pipeline looks at tilts up to +-30 deg (LEVELLING_TURNS_DEG), so the kind must hold there
TILTS_DEG = (-30, -25, 25, 30)


def dihedral(x, k):
    """k in 0..7: quarter-turns (k % 4) then a horizontal mirror when k >= 4, on [N,1,H,W]."""
    y = torch.rot90(x, k % 4, dims=(2, 3))
    return torch.flip(y, dims=(3,)) if k >= 4 else y


def pink_noise(n, g, size=100):
    f = torch.fft.fftfreq(size)
    r = torch.sqrt(f[:, None] ** 2 + f[None, :] ** 2).clamp_min(1.0 / size)
    out = []
    for _ in range(n):
        alpha = 1.0 + torch.rand(1, generator=g).item() * 1.5
        ph = torch.randn(size, size, generator=g) + 1j * torch.randn(size, size, generator=g)
        img = torch.fft.ifft2(ph / r ** alpha).real
        img = (img - img.min()) / (img.max() - img.min() + 1e-6)
        out.append(img)
    return torch.stack(out).unsqueeze(1)


def frames(n, g, size=100):
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    out = []
    for _ in range(n):
        a, b, c = (torch.rand(3, generator=g) * 2 - 1).tolist()
        img = 0.5 + 0.5 * (a * xx + b * yy) + 0.2 * c
        img = img + torch.randn(size, size, generator=g) * torch.rand(1, generator=g).item() * 0.05
        out.append(img.clamp(0, 1))
    return torch.stack(out).unsqueeze(1)


def shapes(n, g, size=100):
    """Geometric frames: random rectangles, bars, grids and discs on a flat or graded background (test
    patterns, screenshots, documents, phantoms)."""
    yy, xx = torch.meshgrid(torch.arange(size).float(), torch.arange(size).float(), indexing="ij")
    out = []
    for _ in range(n):
        img = torch.full((size, size), torch.rand(1, generator=g).item())
        for _ in range(int(torch.randint(3, 25, (1,), generator=g))):
            kind = int(torch.randint(3, (1,), generator=g))
            v = torch.rand(1, generator=g).item()
            x0, y0 = (torch.rand(2, generator=g) * size).tolist()
            w, h = (torch.rand(2, generator=g) * size * 0.5 + 2).tolist()
            if kind == 0:
                m = (xx >= x0) & (xx < x0 + w) & (yy >= y0) & (yy < y0 + h)
            elif kind == 1:
                period = 2 + int(torch.randint(10, (1,), generator=g))
                m = ((xx >= x0) & (xx < x0 + w) & (yy >= y0) & (yy < y0 + h)) & (((xx if v > 0.5 else yy) // period) % 2 == 0)
            else:
                m = (xx - x0) ** 2 + (yy - y0) ** 2 < (w / 2) ** 2
            img[m] = v
        out.append(img)
    return torch.stack(out).unsqueeze(1)


def block_shuffle(x, g, tiles=(4, 5, 10)):
    n, _, h, w = x.shape
    out = x.clone()
    for i in range(n):
        t = tiles[int(torch.randint(len(tiles), (1,), generator=g))]
        s = h // t
        blocks = x[i, 0, : s * t, : s * t].reshape(t, s, t, s).permute(0, 2, 1, 3).reshape(t * t, s, s)
        blocks = blocks[torch.randperm(t * t, generator=g)]
        out[i, 0, : s * t, : s * t] = blocks.reshape(t, t, s, s).permute(0, 2, 1, 3).reshape(s * t, s * t)
    return out


def others(n, g, ceph, hand):
    k = [n // 5, n // 5, n // 5, n // 5, n - 4 * (n // 5)]
    parts = [pink_noise(k[0], g), frames(k[1], g), shapes(k[4], g)]
    parts.append(block_shuffle(ceph[torch.randint(len(ceph), (k[2],), generator=g)], g))
    parts.append(block_shuffle(hand[torch.randint(len(hand), (k[3],), generator=g)], g))
    return torch.cat(parts)


def anatomy_aug(x, g):
    k = torch.randint(8, (x.shape[0],), generator=g)
    y = torch.cat([dihedral(x[i:i + 1], int(k[i])) for i in range(x.shape[0])])
    return tilt_aug(y, g, flip=0.0)


def gaussian_blur(x, sigma):
    """[N,1,H,W] blurred by a separable Gaussian of standard deviation sigma (pixels), edges repeated."""
    r = max(1, int(np.ceil(2.5 * sigma)))
    k = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float32) ** 2 / (2 * sigma * sigma))
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))


def unsharp(x, sigma, gain):
    """Unsharp masking (a cephalostat's edge enhancement) clipped to the 8-bit range, on [N,1,H,W] in [0,1]."""
    return (x + gain * (x - gaussian_blur(x, sigma))).clamp(0, 1)


def device_look(x, g):
    """What devices and exports do to any radiograph, on every class alike (so that none of it marks a class):
    inversion (20 %: MONOCHROME1 shown as stored, a negative export), edge enhancement by unsharp masking
    (25 %; at the 100-px scale a sigma of 0.3-3 px, i.e. about 1-8 mm of a cephalogram, gain 0.5-3: the
    squash keeps single pixels, so the enhanced pixel noise comes through as it does from a full-resolution
    export) and a narrowed display window with both ends clipped (15 %)."""
    n = x.shape[0]
    u = torch.rand(n, 3, generator=g)
    out = []
    for i in range(n):
        xi = x[i:i + 1]
        if u[i, 1] < 0.25:
            sigma = float(np.exp(np.log(0.3) + torch.rand(1, generator=g).item() * np.log(3 / 0.3)))
            xi = unsharp(xi, sigma, 0.5 + 2.5 * torch.rand(1, generator=g).item())
        if u[i, 2] < 0.15:
            lo, hi = 0.35 * torch.rand(1, generator=g).item(), 0.65 + 0.35 * torch.rand(1, generator=g).item()
            xi = ((xi - lo) / (hi - lo)).clamp(0, 1)
        if u[i, 0] < 0.2:
            xi = 1 - xi
        out.append(xi)
    return torch.cat(out)


def framed_or_noisy(x, g):
    """What scanners and exports do to the whole frame, on every class alike: the radiograph small in a wide uniform
    canvas (15 %: scaled to 0.45-0.8 of the frame at a random place, the rest one grey of 0-0.25, as a film scanned
    on a large bed or an export padded to a fixed size) and pixel noise (12 %: Gaussian, sigma 0.03-0.2 of the
    range; the squash keeps single pixels, so a noisy low-dose exposure reaches the classifier as pixel noise)."""
    n, _, h, w = x.shape
    u = torch.rand(n, 2, generator=g)
    out = []
    for i in range(n):
        xi = x[i:i + 1]
        if u[i, 0] < 0.15:
            f = 0.45 + 0.35 * torch.rand(1, generator=g).item()
            sh, sw = max(8, int(round(h * f))), max(8, int(round(w * f)))
            small = F.interpolate(xi, size=(sh, sw), mode="area")
            canvas = torch.full_like(xi, 0.25 * torch.rand(1, generator=g).item())
            y0 = int(torch.randint(h - sh + 1, (1,), generator=g))
            x0 = int(torch.randint(w - sw + 1, (1,), generator=g))
            canvas[:, :, y0:y0 + sh, x0:x0 + sw] = small
            xi = canvas
        if u[i, 1] < 0.12:
            sigma = 0.03 + 0.17 * torch.rand(1, generator=g).item()
            xi = (xi + sigma * torch.randn(xi.shape, generator=g)).clamp(0, 1)
        out.append(xi)
    return torch.cat(out)


def framed_full_resolution(paths, kind):
    """The cephalograms as scanned or exported whole-frame: 'on_canvas' (at half size in the middle of a black
    canvas of the original size, as ISBI 001 at 0.2 mm per pixel on a bed twice its size) and 'noisy' (uniform
    noise of +-50 grey levels at full resolution), then squashed like the app does."""
    from PIL import Image
    rng = np.random.default_rng(7)
    out = []
    for p in paths:
        a = load_grey(p)
        h, w = a.shape
        if kind == "on_canvas":
            half = np.asarray(Image.fromarray(a).resize((w // 2, h // 2), Image.BOX))
            c = np.zeros_like(a)
            y0, x0 = (h - h // 2) // 2, (w - w // 2) // 2
            c[y0:y0 + h // 2, x0:x0 + w // 2] = half
            a = c
        else:
            a = np.clip(a.astype(np.float32) + (rng.random(a.shape) - 0.5) * 100, 0, 255).astype(np.uint8)
        out.append(squash_nearest(a))
    return torch.from_numpy(np.stack(out)).float().div(255).unsqueeze(1)


def processed_full_resolution(paths, kind):
    """The cephalograms as a device's processing exports them, made at full resolution with PIL, then squashed
    like the app does: 'edge_enhanced' (unsharp masking radius 20 px = 2 mm, 250 %), 'edge_enhanced_fine'
    (5 px, 300 %), 'inverted', 'narrow_window' (the grey range 30-75 % stretched to the whole range)."""
    from PIL import Image, ImageFilter
    out = []
    for p in paths:
        im = Image.fromarray(load_grey(p))
        if kind == "edge_enhanced":
            a = np.asarray(im.filter(ImageFilter.UnsharpMask(radius=20, percent=250, threshold=0)))
        elif kind == "edge_enhanced_fine":
            a = np.asarray(im.filter(ImageFilter.UnsharpMask(radius=5, percent=300, threshold=0)))
        elif kind == "inverted":
            a = 255 - np.asarray(im)
        else:
            a = np.clip((np.asarray(im).astype(np.float32) - 0.3 * 255) / 0.45, 0, 255).astype(np.uint8)
        out.append(squash_nearest(a))
    return torch.from_numpy(np.stack(out)).float().div(255).unsqueeze(1)


def tilt_aug(x, g, flip):
    """augment() with rotations up to +-ROT_DEG: half of the batch with black corners and scaled down as far as a
    whole film turned by 30 deg on an enlarged canvas (x0.67), half with the edge repeated."""
    half = x.shape[0] // 2
    return torch.cat([
        augment(x[:half], g, rot_deg=ROT_DEG, scale=0.35, shift=0.06, flip=flip, contrast=0.3, gamma=0.4, padding="zeros"),
        augment(x[half:], g, rot_deg=ROT_DEG, scale=0.1, shift=0.06, flip=flip, contrast=0.3, gamma=0.4, padding="border"),
    ])


def turned(x, deg):
    """[N,1,H,W] turned by deg (anticlockwise on screen) about the centre, corners black."""
    t = torch.tensor(deg * np.pi / 180)
    theta = torch.tensor([[torch.cos(t), -torch.sin(t), 0.0], [torch.sin(t), torch.cos(t), 0.0]]).expand(x.shape[0], 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def tilted_full_resolution(paths, deg, mirrored, expand):
    """The cephalograms turned by deg at full resolution (PIL, corners black), optionally mirrored first and the
    canvas enlarged to hold the whole turned film, then squashed like the app does."""
    from PIL import Image, ImageOps
    out = []
    for p in paths:
        im = Image.fromarray(load_grey(p))
        if mirrored:
            im = ImageOps.mirror(im)
        out.append(squash_nearest(np.asarray(im.rotate(deg, resample=Image.BILINEAR, expand=expand, fillcolor=0))))
    return torch.from_numpy(np.stack(out)).float().div(255).unsqueeze(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--bs", type=int, default=48)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "runs", "kind"))
    ap.add_argument("--device-processing", action="store_true",
                    help="also learn inverted, edge-enhanced and narrowly windowed radiographs (device_look)")
    ap.add_argument("--frames-and-noise", action="store_true",
                    help="also learn radiographs small in a wide canvas and noisy ones (framed_or_noisy)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    cdir = os.path.join(DATA, "isbi2015", "images")
    names = sorted(f for f in os.listdir(cdir) if f.endswith(".jpg"))
    ceph = torch.from_numpy(np.stack([squash_nearest(load_grey(os.path.join(cdir, f))) for f in names])).float().div(255).unsqueeze(1)
    cnum = np.array([int(f[:3]) for f in names])
    c_tr, c_te = ceph[cnum <= 300], ceph[cnum > 300]
    imgs, ids, _, _ = load_rsna100()
    perm = np.random.default_rng(a.seed).permutation(len(imgs))
    h_tr = torch.from_numpy(imgs[perm[:3000]]).float().div(255).unsqueeze(1)
    h_te = torch.from_numpy(imgs[perm[3000:4000]]).float().div(255).unsqueeze(1)
    model = KindNet()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=a.steps, pct_start=0.15)
    t0 = time.time()
    third = a.bs // 3
    for step in range(a.steps):
        model.train()
        xc = anatomy_aug(c_tr[torch.randint(len(c_tr), (third,), generator=g)], g)
        xh = anatomy_aug(h_tr[torch.randint(len(h_tr), (third,), generator=g)], g)
        xo = others(third, g, c_tr, h_tr)
        xo = tilt_aug(xo, g, flip=0.5)
        x = torch.cat([xc, xh, xo])
        if a.device_processing:
            x = device_look(x, g)
        if a.frames_and_noise:
            x = framed_or_noisy(x, g)
        y = torch.tensor([0] * third + [1] * third + [2] * third)
        loss = F.cross_entropy(model(x), y, label_smoothing=0.05)
        opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        if (step + 1) % 100 == 0:
            print(f"step {step + 1}/{a.steps} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
    model.eval()
    torch.save(model.state_dict(), os.path.join(a.out, "kind.pt"))
    # held out
    gt = torch.Generator().manual_seed(a.seed + 12345)
    o_te = torch.cat([others(400, gt, c_te, h_te)])
    res = {"cephalogram_images": len(c_te), "hand_images": len(h_te), "other_images": len(o_te), "by_transform": {}}
    def acc(x, label):
        with torch.no_grad():
            p = torch.softmax(model(x), 1)
        return float((p.argmax(1) == label).float().mean()), float(p.max(1).values.min()), p
    allp = []
    for k in range(8):
        row = {}
        for name, x, lab in [("cephalogram", c_te, 0), ("hand", h_te, 1), ("other", o_te, 2)]:
            xx = dihedral(x, k)
            r, _, p = acc(xx, lab); row[name] = round(r, 4); allp.append((lab, p))
        res["by_transform"][f"rot{90 * (k % 4)}{'_mirrored' if k >= 4 else ''}"] = row
    rot = lambda x: augment(x, torch.Generator().manual_seed(1), rot_deg=15, scale=0, shift=0, flip=0, contrast=0, gamma=0)
    row = {}
    for name, x, lab in [("cephalogram", c_te, 0), ("hand", h_te, 1), ("other", o_te, 2)]:
        r, _, p = acc(rot(x), lab); row[name] = round(r, 4)
    res["by_transform"]["random_rotation_15deg"] = row
    held_paths = [os.path.join(cdir, f) for f, n in zip(names, cnum) if n > 300]
    for deg in TILTS_DEG:
        for mirrored, expand in ((False, False), (False, True), (True, False)):
            xc = tilted_full_resolution(held_paths, deg, mirrored, expand)
            row = {"cephalogram": round(acc(xc, 0)[0], 4)}
            if not expand:  # the hands and others exist only squashed: turned at 100x100
                row["hand"] = round(acc(turned(dihedral(h_te, 4) if mirrored else h_te, deg), 1)[0], 4)
                row["other"] = round(acc(turned(o_te, deg), 2)[0], 4)
            label = f"tilt{deg:+d}deg{'_mirrored' if mirrored else ''}{'_whole_film' if expand else ''}"
            res["by_transform"][label] = row
    # What devices export: the held-out cephalograms processed at full resolution; the hands (which exist only
    # squashed) and the others processed at 100x100.
    for kind in ("edge_enhanced", "edge_enhanced_fine", "inverted", "narrow_window"):
        row = {"cephalogram": round(acc(processed_full_resolution(held_paths, kind), 0)[0], 4)}
        small = {"edge_enhanced": lambda x: unsharp(x, 1.0, 2.5), "edge_enhanced_fine": lambda x: unsharp(x, 0.3, 3.0),
                 "inverted": lambda x: 1 - x, "narrow_window": lambda x: ((x - 0.3) / 0.45).clamp(0, 1)}[kind]
        row["hand"] = round(acc(small(h_te), 1)[0], 4)
        row["other"] = round(acc(small(o_te), 2)[0], 4)
        res["by_transform"][kind] = row
    # Whole-frame: the held-out cephalograms on a wide black canvas or noisy, made at full resolution; the hands
    # and others at 100x100 (half size in the middle of a black frame; Gaussian noise of sigma 0.2).
    gn = torch.Generator().manual_seed(a.seed + 777)
    def on_canvas_small(x):
        c = torch.zeros_like(x)
        c[:, :, 25:75, 25:75] = F.interpolate(x, size=(50, 50), mode="area")
        return c
    for kind, small in (("on_canvas", on_canvas_small),
                        ("noisy", lambda x: (x + 0.2 * torch.randn(x.shape, generator=gn)).clamp(0, 1))):
        row = {"cephalogram": round(acc(framed_full_resolution(held_paths, kind), 0)[0], 4)}
        row["hand"] = round(acc(small(h_te), 1)[0], 4)
        row["other"] = round(acc(small(o_te), 2)[0], 4)
        res["by_transform"][kind] = row
    # confusion over the 8 dihedral versions
    conf = np.zeros((3, 3), int)
    for lab, p in allp:
        for j in p.argmax(1).tolist(): conf[lab, j] += 1
    res["confusion_rows_true_cols_predicted"] = conf.tolist()
    res["classes"] = CLASSES
    res["steps"] = a.steps; res["train_s"] = round(time.time() - t0)
    json.dump(res, open(os.path.join(a.out, "heldout.json"), "w"), indent=1)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
