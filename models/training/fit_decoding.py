"""Anatomy-aware decoding and expected-error calibration for a cvm13 model (docs/inference.md).

1. Shape model: a point-distribution model (Procrustes-aligned, PCA) of the 13 C2-C4 landmarks, from the
   720 CVM-900 training shapes (scale-free) plus the cvm13 shapes the model was trained on (weight 5). Each
   fold model gets its own, without its held-out images, so cross-validation stays honest.
2. Expected error in mm per landmark: log(error + 0.05) regressed on the landmark and three statistics of
   its stage-2 heatmap (peak value, spread within 8 input px, mass outside 3 input px), fit on the
   cross-validated predictions of the fold models (each image predicted by the fold model that held it out;
   heatmaps written by dump_cv_heatmaps.mts). Reports leave-one-fold-out figures of the calibration itself.

Usage: npx tsx models/training/dump_cv_heatmaps.mts && python3 models/training/fit_decoding.py  (CV_DUMP=<prefix> to read another dump)
Writes decoding.json into models/cvm13-unet and each fold folder and prints the figures.
"""
import hashlib, json, os, sys
import numpy as np
from scipy.stats import spearmanr

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, '..', 'cvm13-unet')
SHARED = os.path.join(HERE, '..', '..', '..', 'shared', 'data')
DUMP = os.environ.get('CV_DUMP', '/tmp/cvm13-cv-dump')
N = ['C2p', 'C2m', 'C2a', 'C3up', 'C3lp', 'C3m', 'C3la', 'C3ua', 'C4up', 'C4lp', 'C4m', 'C4la', 'C4ua']
MODES = 10
CVM13_WEIGHT = 5.0
SPREAD_RADIUS, CORE_RADIUS = 8, 3


def shapes(path, exclude=()):
    d = json.load(open(path))
    return [np.array([e['points'][n] for n in N], float) for k, e in d['images'].items()
            if k not in exclude and all(n in e['points'] for n in N)]


def centred(P):
    z = P[:, 0] + 1j * P[:, 1]
    return z - z.mean()


def fit_shape_model(S, W):
    Z = np.array([centred(P) for P in S])
    m = Z[0] / np.linalg.norm(Z[0])
    for _ in range(20):
        Al = np.array([(np.vdot(z, m) / np.vdot(z, z)) * z for z in Z])
        m = (Al * W[:, None]).sum(0) / W.sum()
        m /= np.linalg.norm(m)
    X = np.concatenate([Al.real, Al.imag], 1)
    mu = (X * W[:, None]).sum(0) / W.sum()
    C = np.cov((X - mu).T, aweights=W)
    ev, V = np.linalg.eigh(C)
    ev, V = ev[::-1], V[:, ::-1]
    resid = float(ev[MODES:].sum() / (26 - 4 - MODES))  # 4 dof are removed by the alignment
    model = {'mean': [float(v) for v in np.concatenate([m.real, m.imag])],
             'modes': [[float(v) for v in V[:, k]] for k in range(MODES)],
             'variances': [float(v) for v in ev[:MODES]], 'residualVariance': resid}
    return model


def md2(model, P):
    m = np.array(model['mean']); mz = m[:13] + 1j * m[13:]
    z = centred(P)
    a = (np.vdot(z, mz) / np.vdot(z, z)) * z
    x = np.concatenate([a.real, a.imag]) - m
    V = np.array(model['modes']); b = V @ x; r = x - V.T @ b
    return float((b ** 2 / np.array(model['variances'])).sum() + r @ r / model['residualVariance'])


def features(h, u, v, mmpp):
    """Heatmap statistics around the chosen peak (u, v); same formulas as core/inference/uncertainty.ts."""
    H, W = h.shape
    p = np.clip(h.astype(np.float64), 0, None)
    p = p / max(p.sum(), 1e-12)
    ys, xs = np.mgrid[0:H, 0:W]
    d2 = (xs - u) ** 2 + (ys - v) ** 2
    q = p * (d2 <= SPREAD_RADIUS ** 2)
    qs = max(q.sum(), 1e-12)
    mx, my = (q * xs).sum() / qs, (q * ys).sum() / qs
    spread = np.sqrt((q * ((xs - mx) ** 2 + (ys - my) ** 2)).sum() / qs) * mmpp
    outside = 1 - (p * (d2 <= CORE_RADIUS ** 2)).sum()
    return float(h[v, u]), float(spread), float(outside)


def design(c, conf, spread, outside):
    return np.column_stack([np.eye(13)[c], np.log(np.maximum(spread, 1e-3)), np.log(np.maximum(conf, 1e-3)), np.log(outside + 1e-3)])


def main():
    ann = json.load(open(os.path.join(SHARED, 'cvm13', 'annotations.json')))['images']
    cvm900 = shapes(os.path.join(SHARED, 'cvm900', 'cvm900_train.json'))
    dump = json.load(open(DUMP + '.json'))
    raw = np.fromfile(DUMP + '.bin', dtype=np.float32)
    per = 13 * 160 * 128 * 2 + 13 * 128 * 128
    folds = sorted({d['fold'] for d in dump})
    held = {f: {d['id'] for d in dump if d['fold'] == f} for f in folds}

    def model_without(excl):
        S = cvm900 + [np.array([ann[i]['points'][n] for n in N], float) for i in sorted(ann) if i not in excl]
        W = np.array([1.0] * len(cvm900) + [CVM13_WEIGHT] * (len(S) - len(cvm900)))
        return fit_shape_model(S, W)

    shape_models = {f: model_without(held[f]) for f in folds}
    shape_models['final'] = model_without(set())
    # Plausibility: md2 of the shapes a model was built from, and of held-out truths / CV predictions.
    train_md2 = np.array([md2(shape_models['final'], P) for P in cvm900])
    held_truth = np.array([md2(shape_models[d['fold']], np.array([d['truth'][n] for n in N])) for d in dump])
    held_pred = np.array([md2(shape_models[d['fold']], np.array([p[:2] for p in d['pred']])) for d in dump])
    limit = float(np.percentile(train_md2, 99.5) * 2)
    print(f'md2 training shapes: median {np.median(train_md2):.1f}, 99.5% {np.percentile(train_md2, 99.5):.1f}, max {train_md2.max():.1f}; limit {limit:.1f}')
    print(f'md2 held-out truths: median {np.median(held_truth):.1f} max {held_truth.max():.1f}; CV predictions: median {np.median(held_pred):.1f} max {held_pred.max():.1f}')
    # Wrong-vertebra configurations: one C3 point moved onto C4's counterpart and vice versa (C4 onto a C5 guess).
    bad = []
    for d in dump:
        T = np.array([d['truth'][n] for n in N])
        for a, b in [(3, 8), (4, 9), (5, 10), (6, 11), (7, 12)]:
            Q = T.copy(); Q[a] = T[b]; bad.append(md2(shape_models[d['fold']], Q))
            Q = T.copy(); Q[b] = 2 * T[b] - T[a]; bad.append(md2(shape_models[d['fold']], Q))
    bad = np.array(bad)
    print(f'md2 of one point on the neighbouring vertebra: min {bad.min():.1f}, median {np.median(bad):.1f}; refused by the limit: {(bad > limit).mean():.3f}')

    # Expected error
    rows = []
    for i, d in enumerate(dump):
        hA = raw[i * per:i * per + 13 * 160 * 128].reshape(13, 160, 128)
        for c, n in enumerate(N):
            if n in d['filled']:
                continue
            h = hA[c]
            v, u = np.unravel_index(int(np.argmax(h)), h.shape)
            conf, spread, outside = features(h, u, v, 0.35)
            err = np.hypot(d['pred'][c][0] - d['truth'][n][0], d['pred'][c][1] - d['truth'][n][1]) * 0.1
            rows.append((d['fold'], c, conf, spread, outside, err))
    fold = np.array([r[0] for r in rows]); c = np.array([r[1] for r in rows])
    conf, spread, outside, err = (np.array([r[k] for r in rows]) for k in (2, 3, 4, 5))
    X = design(c, conf, spread, outside); y = np.log(err + 0.05)
    lofo = np.zeros_like(y)
    for f in folds:
        tr = fold != f
        beta = np.linalg.lstsq(X[tr], y[tr], rcond=None)[0]
        s2 = float(np.var(y[tr] - X[tr] @ beta))
        lofo[~tr] = np.exp(X[~tr] @ beta + s2 / 2) - 0.05
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    s2 = float(np.var(y - X @ beta))
    expected = np.exp(X @ beta + s2 / 2) - 0.05
    flag_mm = float(np.quantile(expected, 0.9))
    big = err > 2
    rho_lofo = spearmanr(lofo, err).correlation
    print(f'expected error: Spearman with the actual error {spearmanr(expected, err).correlation:.3f} (leave-one-fold-out {rho_lofo:.3f})')
    print(f'flag at >= {flag_mm:.3f} mm: {(expected >= flag_mm).mean():.3f} of points flagged, {(expected[big] >= flag_mm).mean():.3f} of the {big.sum()} points > 2 mm off'
          f' (leave-one-fold-out {(lofo[big] >= flag_mm).mean():.3f})')
    print(f'mean expected {expected.mean():.3f} mm vs mean actual {err.mean():.3f} mm')
    calib = {'model': 'log(error_mm + 0.05) = perLandmark[c] + spreadLog*log(spread_mm) + peakLog*log(peak) + outsideLog*log(outside + 0.001); expected = exp(. + residualVariance/2) - 0.05',
             'perLandmark': dict(zip(N, [float(v) for v in beta[:13]])), 'spreadLog': float(beta[13]), 'peakLog': float(beta[14]),
             'outsideLog': float(beta[15]), 'residualVariance': s2, 'spreadRadiusPx': SPREAD_RADIUS, 'coreRadiusPx': CORE_RADIUS,
             'flagMm': flag_mm,
             'crossValidated': {'points': int(len(err)), 'spearman': float(spearmanr(expected, err).correlation), 'spearmanLeaveOneFoldOut': float(rho_lofo),
                                'flaggedShare': float((expected >= flag_mm).mean()), 'over2mm': int(big.sum()),
                                'over2mmFlagged': float((expected[big] >= flag_mm).mean())}}
    for name, folder in [('final', MODEL)] + [(f, os.path.join(MODEL, 'folds', f)) for f in folds]:
        out = {'schema': 'cvm13 decoding v1', 'landmarks': N,
               'shapeModel': {**shape_models[name], 'limit': limit,
                              'source': 'Procrustes/PCA of the 720 CVM-900 training shapes + ' + ('all 54' if name == 'final' else f'the {54 - len(held[name])} training') + ' cvm13 shapes (weight 5)'},
               'expectedError': calib}
        with open(os.path.join(folder, 'decoding.json'), 'w') as fh:
            json.dump(out, fh, indent=1)
            fh.write('\n')
        print(name, hashlib.sha256(open(os.path.join(folder, 'decoding.json'), 'rb').read()).hexdigest())


if __name__ == '__main__':
    main()
