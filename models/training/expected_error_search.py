"""Search for a better expected error (docs/inference.md, "Expected error: what was tried").

Every candidate is judged leave-one-fold-out (LOFO): the calibration is fitted on the cross-validated points of
four folds and scores the fifth, as fit_decoding.py writes it into each fold model's decoding.json. Reads the
dump of dump_cv_heatmaps.mts made with --heatmaps (the features as the app computes them, the raw stage-2
heatmaps and the unturned input crop), prints for each candidate the rank correlation with the actual error and
the share of points > 2 mm flagged at the 10% threshold, in-sample and LOFO, and an estimate of what any
expected error can reach (the "ceiling").

  npx tsx models/training/dump_cv_heatmaps.mts /tmp/cvm13-cv-dump --heatmaps
  python3 models/training/expected_error_search.py [/tmp/cvm13-cv-dump]

numpy and scipy only (the recipe's pinned packages); one thread.
"""
import json, os, sys
import numpy as np
from scipy.optimize import minimize
from scipy.stats import spearmanr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fit_decoding import FEATURES, N, design, fit  # noqa: E402  (the shipped model form)

PREFIX = sys.argv[1] if len(sys.argv) > 1 else '/tmp/cvm13-cv-dump'
dump = json.load(open(PREFIX + '.json'))
raw = np.memmap(PREFIX + '.heatmaps.bin', dtype=np.float32, mode='r')
SP = dump['spacingMm']
man = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'cvm13-unet', 'manifest.json')))
_, _, H, W = man['stages']['refine']['output']['shape']
MMPX = man['stages']['refine']['mmPerPixel']
S = MMPX / SP  # image pixels per heatmap pixel
# The outline neighbours of each landmark (for the contour direction): C2 p-m-a, C3/C4 up-lp-m-la-ua.
NEIGHBOURS = {0: (3, 1), 1: (0, 2), 2: (1, 7), 3: (7, 4), 4: (3, 5), 5: (4, 6), 6: (5, 7), 7: (6, 3),
              8: (12, 9), 9: (8, 10), 10: (9, 11), 11: (10, 12), 12: (11, 8)}
MIDDLE = {1: (0, 2), 5: (4, 6), 10: (9, 11)}  # concavity points and the two corners their border runs between


def conditional_residuals(sm, P):
    """Leave-one-point-out: each point predicted from the other 12 by the shape model (Gaussian conditional mean
    after aligning the 12 onto the mean), minus the point (image pixels)."""
    m = np.array(sm['mean']); V = np.array(sm['modes']); var = np.array(sm['variances']); rv = sm['residualVariance']
    C = V.T @ np.diag(var) @ V + rv * (np.eye(26) - V.T @ V)
    mz = m[:13] + 1j * m[13:]
    out = np.zeros((13, 2))
    for i in range(13):
        keep = [j for j in range(13) if j != i]
        z = P[keep, 0] + 1j * P[keep, 1]; zc = z.mean(); z = z - zc
        mk = mz[keep]; mkc = mk.mean()
        a = np.vdot(z, mk - mkc) / np.vdot(z, z)
        al = a * z + mkc
        obs = np.concatenate([al.real, al.imag]) - np.concatenate([m[keep], m[[13 + j for j in keep]]])
        io = keep + [13 + j for j in keep]
        mu = C[np.ix_([i, 13 + i], io)] @ np.linalg.solve(C[np.ix_(io, io)], obs) + m[[i, 13 + i]]
        pz = (mu[0] + 1j * mu[1] - mkc) / a + zc
        out[i] = (pz.real - P[i, 0], pz.imag - P[i, 1])
    return out


def to_heatmap(x, y, cx, cy, rot_deg):
    du, dv = (x - cx) / S, (y - cy) / S
    t = np.deg2rad(-rot_deg)
    return np.cos(t) * du - np.sin(t) * dv + (W - 1) / 2, np.sin(t) * du + np.cos(t) * dv + (H - 1) / 2


YY, XX = np.mgrid[0:H, 0:W]


def moments(h, iu, iv, radius=8):
    m = (XX - iu) ** 2 + (YY - iv) ** 2 <= radius * radius
    w = h[m]; q = w.sum()
    mx = (w * XX[m]).sum() / q; my = (w * YY[m]).sum() / q
    cxx = (w * (XX[m] - mx) ** 2).sum() / q; cyy = (w * (YY[m] - my) ** 2).sum() / q
    cxy = (w * (XX[m] - mx) * (YY[m] - my)).sum() / q
    return np.array([[cxx, cxy], [cxy, cyy]])


rows, extra = [], []
for d in dump['images']:
    P = np.array(d['pred']); cx, cy = np.array(d['stage1']).mean(0)
    o = d['heatmapOffset']
    crop = np.array(raw[o:o + H * W]).reshape(H, W); o += H * W
    hms = []
    for _ in range(d['passes']):
        hms.append(np.maximum(np.array(raw[o:o + 13 * H * W]).reshape(13, H, W), 0)); o += 13 * H * W
    rots = [p['rotationDeg'] for p in dump['decodings'][d['fold']]['testTime']['passes']]
    cond = conditional_residuals(dump['decodings'][d['fold']]['shapeModel'], P)
    gy, gx = np.gradient(crop)
    img_spread = np.mean(np.log([f['spreadMm'] for f in d['features']]))
    for c, n in enumerate(N):
        if n in d['filled']:
            continue
        e = np.hypot(*(P[c] - np.array(d['truth'][n]))) * SP
        rows.append((d['fold'], d['id'], c, [d['features'][c].get(k, 0.0) for k in FEATURES], e))
        u, v = to_heatmap(P[c, 0], P[c, 1], cx, cy, 0)
        iu, iv = int(np.clip(round(u), 0, W - 1)), int(np.clip(round(v), 0, H - 1))
        h = hms[0][c]
        r = np.hypot(XX - iu, YY - iv)
        t = P[NEIGHBOURS[c][1]] - P[NEIGHBOURS[c][0]]; t = t / np.linalg.norm(t); nrm = np.array([-t[1], t[0]])
        Cm = moments(h, iu, iv); ev = np.linalg.eigvalsh(Cm)
        p = h / h.sum()
        win = (slice(max(iv - 6, 0), iv + 7), slice(max(iu - 6, 0), iu + 7))
        spreads = []
        for k, a in enumerate(rots):  # every pass's own spread at its peak near the point
            uk, vk = to_heatmap(P[c, 0], P[c, 1], cx, cy, a)
            near = np.where((XX - uk) ** 2 + (YY - vk) ** 2 <= (3 / MMPX) ** 2, hms[k][c], -1)
            j = np.argmax(near)
            spreads.append(np.sqrt(np.trace(moments(hms[k][c], j % W, j // W))) * MMPX)
        f = {'second mode / peak (> 2.1 mm away)': h[r > 6].max() / max(h[iv, iu], 1e-6),
             'major axis of the spread': np.sqrt(ev[1]) * MMPX,
             'minor axis of the spread': np.sqrt(max(ev[0], 1e-12)) * MMPX,
             'spread along the outline': np.sqrt(max(t @ Cm @ t, 1e-12)) * MMPX,
             'spread across the outline': np.sqrt(max(nrm @ Cm @ nrm, 1e-12)) * MMPX,
             'heatmap entropy': float(np.exp(-(p[p > 0] * np.log(p[p > 0])).sum())),
             'spread averaged over the passes': float(np.exp(np.mean(np.log(spreads)))),
             'image gradient at the point': float(np.hypot(gx[win], gy[win]).mean()),
             'image contrast at the point': float(crop[win].std()),
             'shape-model residual given the other 12': np.hypot(*cond[c]) * SP,
             'that residual along the outline': abs(cond[c] @ t) * SP,
             'image mean log spread': float(np.exp(img_spread))}
        if c in MIDDLE:  # depth of the concavity the point is the deepest point of (flat border: ambiguous)
            a_, b_ = MIDDLE[c]; A, B = P[a_], P[b_]; tt = (B - A) / np.linalg.norm(B - A)
            f['concavity depth (m points)'] = max(-(P[c] - A) @ np.array([-tt[1], tt[0]]) * SP, 0.01)
        else:
            f['concavity depth (m points)'] = 1.0  # log 0 for the other points: the term only acts on m points
        extra.append(f)

fold = np.array([r[0] for r in rows]); image = np.array([r[1] for r in rows]); c = np.array([r[2] for r in rows])
F = np.array([r[3] for r in rows]); err = np.array([r[4] for r in rows])
X = design(c, F); y = np.log(err + 0.05); big = err > 2


def ols_fit(Xtr, ytr):
    if Xtr.shape[1] < X.shape[1]:  # fewer terms than the shipped form: plain least squares
        beta = np.linalg.lstsq(Xtr, ytr, rcond=None)[0]
        return lambda Xte: Xte @ beta
    beta, s2, _ = fit(Xtr, ytr)  # the shipped fit (disagreement terms with a negative coefficient dropped)
    return lambda Xte: Xte @ beta + s2 / 2


def judge(Xc, name, fitter=ols_fit):
    pin = fitter(Xc, y)(Xc)
    pred = np.zeros(len(y)); flag = np.zeros(len(y), bool)
    for g in sorted(set(fold)):
        tr = fold != g
        f = fitter(Xc[tr], y[tr]); pred[~tr] = f(Xc[~tr]); flag[~tr] = pred[~tr] >= np.quantile(f(Xc[tr]), 0.9)
    print(f'  {name:48s} in-sample {spearmanr(pin, err).correlation:.3f} (> 2 mm flagged {(pin >= np.quantile(pin, 0.9))[big].mean():.2f})'
          f' | LOFO {spearmanr(pred, err).correlation:.3f}, flagged {flag.mean():.3f}, > 2 mm flagged {flag[big].mean():.2f}')
    return pred


print(f'{len(err)} points, MRE {err.mean():.3f} mm, {big.sum()} > 2 mm')
print('shipped model form:')
base = judge(X, 'log-linear, six features (as shipped)')
judge(np.eye(13)[c], 'per-landmark offsets only')
print('one more feature each (log, next to the six):')
for k in extra[0]:
    v = np.array([e[k] for e in extra])
    print(f'    {k}: Spearman alone {spearmanr(v, err).correlation:+.3f}')
    judge(np.column_stack([X, np.log(np.maximum(v, 1e-3))]), '+ ' + k)


def rayleigh(Xtr, ytr):
    """Maximum likelihood with a Rayleigh error of scale exp(X b) (the radial error of an isotropic 2-D Gaussian)."""
    r = np.maximum(np.exp(ytr) - 0.05, 1e-4)

    def nll(b):
        eta = Xtr @ b
        return (2 * eta + r ** 2 * np.exp(-2 * eta) / 2).sum(), Xtr.T @ (2 - r ** 2 * np.exp(-2 * eta))
    b = minimize(nll, np.zeros(Xtr.shape[1]), jac=True, method='L-BFGS-B').x
    return lambda Xte: Xte @ b


def ridge_slopes(lam):
    def f(Xtr, ytr):
        R = np.zeros((Xtr.shape[1],) * 2); R[X.shape[1]:, X.shape[1]:] = lam * np.eye(Xtr.shape[1] - X.shape[1])
        b = np.linalg.solve(Xtr.T @ Xtr + R, Xtr.T @ ytr)
        return lambda Xte: Xte @ b
    return f


print('other model forms:')
judge(X, 'Rayleigh maximum likelihood', rayleigh)
Xs = np.column_stack([X, np.eye(13)[c] * X[:, 13:14]])
for lam in (1, 10):
    judge(Xs, f'per-landmark spread slopes (ridge {lam})', ridge_slopes(lam))
for name, tgt in [('log(error + 0.2)', np.log(err + 0.2)), ('sqrt(error)', np.sqrt(err))]:
    y0, y = y, tgt
    judge(X, 'least squares on ' + name)
    y = y0
# Per-landmark residual variance (a per-landmark scale of the mm value): held-out log-likelihood.
for label, per in [('one residual variance (shipped)', False), ('per-landmark residual variance', True)]:
    ll = []
    for g in sorted(set(fold)):
        tr = fold != g
        beta, s2, _ = fit(X[tr], y[tr]); res = y[tr] - X[tr] @ beta
        v = np.array([res[c[tr] == k].var() if per else s2 for k in range(13)])[c[~tr]]
        ll.append(-0.5 * (np.log(2 * np.pi * v) + (y[~tr] - X[~tr] @ beta) ** 2 / v))
    print(f'  {label:48s} LOFO mean log-likelihood {np.concatenate(ll).mean():.4f} (higher is better)')

# The ceiling: if each point's error were drawn from a radial (Rayleigh) distribution whose mean is exactly its
# expected error, how well would that expected error rank the draws, and how many > 2 mm points would the top
# 10% catch? Also with the expected errors' spread (in log) widened, as a perfect predictor of a more varied truth.
rng = np.random.default_rng(0)
expected = np.exp(base) - 0.05
print('ceiling (simulated errors drawn with the LOFO expected errors as their true mean, 500 draws):')
for k in (1.0, 1.25, 1.5):
    le = np.log(expected); m = np.exp(le.mean() + k * (le - le.mean()))
    s = m / np.sqrt(np.pi / 2); top = m >= np.quantile(m, 0.9)
    rho, caught, n2 = [], [], []
    for _ in range(500):
        e = np.hypot(*(rng.normal(size=(2, len(m))) * s))
        rho.append(spearmanr(m, e).correlation)
        if (e > 2).any():
            caught.append(top[e > 2].mean()); n2.append((e > 2).sum())
    print(f'  log spread x{k}: Spearman {np.mean(rho):.3f} +- {np.std(rho):.3f}; > 2 mm points {np.mean(n2):.1f} per draw '
          f'(observed {big.sum()}), caught by the top 10%: {np.mean(caught):.2f} (5-95%: {np.percentile(caught, 5):.2f}-{np.percentile(caught, 95):.2f})')
res = np.log(err) - np.log(expected)
print(f'sd of log(error / expected) {res.std():.3f}; a Rayleigh error about a known mean alone gives {np.pi / np.sqrt(24):.3f}')
