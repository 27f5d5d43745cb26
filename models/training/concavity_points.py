"""Where the deepest points of the lower borders (C2m, C3m, C4m) go wrong, on the cross-validated predictions.

Reads the dump of `npx tsx models/training/dump_cv_heatmaps.mts /tmp/cvm13-cv-dump --heatmaps` (each cvm13 image
through the app's pipeline with the fold model that held it out) and prints, for the three concavity points:
- their errors split along the border's chord (from the lower posterior to the lower anterior corner) and across
  it, against the other ten points;
- where along the chord the annotators put them (a fraction from 0 at the posterior corner to 1 at the anterior
  one), how much that varies between images and how well the prediction follows it;
- two decodings that could shorten the tail, each chosen without the held-out fold: moving the point along the
  chord towards the other folds' mean fraction, and replacing each point by the centroid of its heatmaps near it.

numpy only. Usage: python3 models/training/concavity_points.py [dump prefix, default /tmp/cvm13-cv-dump]
"""
import json
import os
import sys

import numpy as np

PREFIX = sys.argv[1] if len(sys.argv) > 1 else '/tmp/cvm13-cv-dump'
dump = json.load(open(PREFIX + '.json'))
raw = np.memmap(PREFIX + '.heatmaps.bin', dtype=np.float32, mode='r')
man = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cvm13-unet', 'manifest.json')))
_, _, H, W = man['stages']['refine']['output']['shape']
SP = dump['spacingMm']
S = man['stages']['refine']['mmPerPixel'] / SP  # image pixels per heatmap pixel
NAMES = man['landmarks']
# Each concavity point and the two corners its border runs between (posterior, anterior).
MIDDLE = {1: (0, 2), 5: (4, 6), 10: (9, 11)}
YY, XX = np.mgrid[0:H, 0:W]


def to_heatmap(x, y, cx, cy, rot_deg):
    du, dv = (x - cx) / S, (y - cy) / S
    t = np.deg2rad(-rot_deg)
    return np.cos(t) * du - np.sin(t) * dv + (W - 1) / 2, np.sin(t) * du + np.cos(t) * dv + (H - 1) / 2


def to_image(u, v, cx, cy, rot_deg):
    du, dv = u - (W - 1) / 2, v - (H - 1) / 2
    t = np.deg2rad(rot_deg)
    return np.array([cx + S * (np.cos(t) * du - np.sin(t) * dv), cy + S * (np.sin(t) * du + np.cos(t) * dv)])


def centroid(hms, rots, p, cx, cy, radius):
    """Mean over the passes of each pass's heatmap centroid within `radius` heatmap pixels of the point."""
    out = []
    for h, a in zip(hms, rots):
        u, v = to_heatmap(p[0], p[1], cx, cy, a)
        m = (XX - u) ** 2 + (YY - v) ** 2 <= radius * radius
        w = h[m]
        out.append(to_image((w * XX[m]).sum() / w.sum(), (w * YY[m]).sum() / w.sum(), cx, cy, a))
    return np.mean(out, 0)


points = []  # (fold, image, landmark, predicted, truth, {radius: centroid}, chord frame or None)
for d in dump['images']:
    P = np.array(d['pred'])
    cx, cy = np.array(d['stage1']).mean(0)
    o = d['heatmapOffset'] + H * W  # after the input crop
    hms = []
    for _ in range(d['passes']):
        hms.append(np.maximum(np.array(raw[o:o + 13 * H * W]).reshape(13, H, W), 0))
        o += 13 * H * W
    rots = [p['rotationDeg'] for p in dump['decodings'][d['fold']]['testTime']['passes']]
    for c, n in enumerate(NAMES):
        if n in d['filled']:
            continue
        cents = {r: centroid([h[c] for h in hms], rots, P[c], cx, cy, r) for r in (3, 4, 6)}
        frame = None
        if c in MIDDLE:
            a, b = P[MIDDLE[c][0]], P[MIDDLE[c][1]]
            frame = (a, (b - a) / np.linalg.norm(b - a), np.linalg.norm(b - a))
        points.append((d['fold'], d['id'], c, P[c], np.array(d['truth'][n]), cents, frame))


def report(name, place):
    e = np.array([np.hypot(*(place(p) - p[4])) * SP for p in points])
    print(f'  {name:<58} MRE {e.mean():.4f} mm, > 2 mm: {(e > 2).sum()}, within 2 mm {100 * (e <= 2).mean():.2f}%')


print(f'{len(points)} cross-validated points')
along, across, rest = [], [], []
for p in points:
    d = (p[3] - p[4]) * SP
    if p[6] is None:
        rest.append(np.hypot(*d))
        continue
    t = p[6][1]
    along.append(d @ t)
    across.append(d @ np.array([-t[1], t[0]]))
along, across = np.array(along), np.array(across)
print(f'concavity points: RMS error along the chord {np.sqrt((along ** 2).mean()):.2f} mm, across it '
      f'{np.sqrt((across ** 2).mean()):.2f} mm; the other ten points: RMS {np.sqrt((np.array(rest) ** 2).mean()):.2f} mm')
big = [p for p in points if np.hypot(*(p[3] - p[4])) * SP > 2]
print(f'points > 2 mm off: {len(big)}, of which concavity points {sum(p[6] is not None for p in big)}')


def fraction(p, q):
    a, t, length = p[6]
    return (q - a) @ t / length


for c in MIDDLE:
    mine = [p for p in points if p[2] == c]
    ft = np.array([fraction(p, p[4]) for p in mine])
    fp = np.array([fraction(p, p[3]) for p in mine])
    print(f'{NAMES[c]}: annotated at {ft.mean():.3f} of the chord (SD {ft.std():.3f}, '
          f'{ft.std() * np.mean([p[6][2] for p in mine]) * SP:.2f} mm), predicted {fp.mean():.3f} (SD {fp.std():.3f}); '
          f'correlation {np.corrcoef(ft, fp)[0, 1]:.2f}')

print('decodings (each fold scored with what the other four give):')
report('shipped', lambda p: p[3])


def shrunk(beta):
    def place(p):
        if p[6] is None:
            return p[3]
        others = [fraction(q, q[3]) for q in points if q[2] == p[2] and q[0] != p[0]]
        f = fraction(p, p[3])
        return p[3] + beta * (np.mean(others) - f) * p[6][2] * p[6][1]
    return place


for beta in (0.2, 0.5):
    report(f'concavity points moved {beta:.0%} of the way to the mean fraction', shrunk(beta))
for r in (3, 4, 6):
    report(f'every point at its heatmaps\' centroid within {r} px', lambda p, r=r: p[5][r])
