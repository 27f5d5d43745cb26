"""Anatomy-aware decoding and expected-error calibration for a cvm13 model (docs/inference.md).

1. Shape model: a point-distribution model (Procrustes-aligned, PCA) of the 13 C2-C4 landmarks, from the
   720 CVM-900 training shapes (scale-free) plus the cvm13 shapes the model was trained on (weight 5). Each
   fold model gets its own, without its held-out images, so cross-validation stays honest.
2. Test-time decoding (TEST_TIME): stage 2 four times, members 0 and 2 on the crop as is (the candidates from
   member 0), members 1 and 3 (stages.refine.ensemble) on the crop turned by -8 and +8 degrees, positions averaged, then pulled
   towards the shape model (weight 0.1; each point weighted by its heatmap spread).
3. Expected error in mm per landmark: log(error + 0.05) regressed on the landmark and six uncertainty
   features (heatmap peak, spread, mass outside the core; spread of the test-time passes; shift by the shape
   regularisation; disagreement of the ensemble's members; a disagreement feature whose coefficient comes out
   negative is dropped), fit on the cross-validated predictions of the fold models (each image predicted by the
   fold model that held it out, through the app's pipeline: dump_cv_heatmaps.mts). The calibration's own
   figures are reported leave-one-image-out (the image's points predicted by a fit without them, the flag
   threshold from that fit too) and leave-one-fold-out. The shipped model gets the fit on all points; each
   fold model gets the fit without its own fold's points, so `cvm eval --folds` through the app measures the
   expected error, the flags and the image verdict leave-one-fold-out (honest), not in-sample.

Usage (from the repository root):
  python3 models/training/fit_decoding.py shapes      # shape models + test-time parameters (keeps the calibration)
  npx tsx models/training/dump_cv_heatmaps.mts        # CV predictions and features with those -> /tmp/cvm13-cv-dump.json
  python3 models/training/fit_decoding.py             # the expected-error calibration (checks the dump is current)
(CV_DUMP=<prefix> to read another dump.) Writes decoding.json into models/cvm13-unet and each fold folder,
puts each file's sha256 into its manifest and prints the figures.
"""
import hashlib, json, os, sys
import numpy as np
from scipy.stats import spearmanr

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.environ.get('CVM_MODEL', os.path.join(HERE, '..', 'cvm13-unet'))
SHARED = os.path.join(HERE, '..', '..', '..', 'shared', 'data')
DUMP = os.environ.get('CV_DUMP', '/tmp/cvm13-cv-dump')
N = ['C2p', 'C2m', 'C2a', 'C3up', 'C3lp', 'C3m', 'C3la', 'C3ua', 'C4up', 'C4lp', 'C4m', 'C4la', 'C4ua']
MODES = 10
CVM13_WEIGHT = 5.0
SPREAD_RADIUS, CORE_RADIUS = 8, 3
# Stage 2 four times (1.3.0): member 0 (refine.onnx) and member 2 (refine-m2.onnx, the same recipe trained on
# device-processed films too) on the crop as is, the candidates from member 0; member 1 (refine-m1.onnx, independently
# trained) on the crop turned by -8 degrees and member 3 (refine-m3.onnx, member 1's seed with device processing)
# turned by +8; rotationsDeg is what apps without ensembles run instead (member 0 turned).
TEST_TIME = {'rotationsDeg': [-8, 8], 'shapeWeight': 0.1, 'searchRadiusMm': 3,
             'passes': [{'member': 0, 'rotationDeg': 0}, {'member': 2, 'rotationDeg': 0},
                        {'member': 1, 'rotationDeg': -8}, {'member': 3, 'rotationDeg': 8}],
             'combine': 'coordinates'}
if os.environ.get('CVM_TEST_TIME'):  # experiments: another test-time plan (JSON), e.g. with ensemble passes
    TEST_TIME = json.loads(os.environ['CVM_TEST_TIME'])
IMAGE_CHECK_QUANTILE = 0.9
FEATURES = ['spreadMm', 'peak', 'outside', 'ttaSpreadMm', 'shapeShiftMm', 'memberSpreadMm']


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


def design(c, F):
    """The regressors; same formulas as expectedErrorMm in core/inference/decoding.ts."""
    return np.column_stack([np.eye(13)[c], np.log(np.maximum(F[:, 0], 1e-3)), np.log(np.maximum(F[:, 1], 1e-3)),
                            np.log(F[:, 2] + 1e-3), np.log(np.maximum(F[:, 3], 0.01)), np.log(np.maximum(F[:, 4], 0.01)),
                            np.log(np.maximum(F[:, 5], 0.01))])


# Disagreement features (test-time spread, shape shift, member spread): more disagreement cannot mean a smaller
# error, so a negative coefficient (a collinear feature fitting noise) drops the feature and the rest is refit.
DISAGREEMENT = [13 + FEATURES.index(k) for k in ('ttaSpreadMm', 'shapeShiftMm', 'memberSpreadMm')]


def fit(X, y):
    # A feature that is constant on these points (e.g. the member spread of a one-member model) gets 0.
    live = np.array([True] * 13 + [np.ptp(X[:, k]) > 0 for k in range(13, X.shape[1])])
    while True:
        beta = np.zeros(X.shape[1])
        beta[live] = np.linalg.lstsq(X[:, live], y, rcond=None)[0]
        negative = [k for k in DISAGREEMENT if live[k] and beta[k] < 0]
        if not negative:
            break
        live[min(negative, key=lambda k: beta[k])] = False
    s2 = float(np.var(y - X @ beta))
    return beta, s2, np.exp(X @ beta + s2 / 2) - 0.05


def held_out_figures(X, y, err, groups):
    """Each group predicted by a fit without it; its flags use that fit's own 90% threshold."""
    pred = np.zeros_like(y); flagged = np.zeros(len(y), bool)
    for g in sorted(set(groups)):
        tr = groups != g
        beta, s2, train_pred = fit(X[tr], y[tr])
        pred[~tr] = np.exp(X[~tr] @ beta + s2 / 2) - 0.05
        flagged[~tr] = pred[~tr] >= np.quantile(train_pred, 0.9)
    big = err > 2
    return {'spearman': float(spearmanr(pred, err).correlation), 'flaggedShare': float(flagged.mean()),
            'over2mmFlagged': float(flagged[big].mean())}, pred


def image_check(image, expected, err, groups=None):
    """The image verdict's threshold: an image says 'check' when its largest expected error is >= imageCheckMm,
    the IMAGE_CHECK_QUANTILE of the cross-validated images' largest expected errors, i.e. when the image is
    less certain than all but a few of the images the model was validated on. (Separating the validated images
    that hold a point > 2 mm off from the others is not possible with these features: their largest expected
    errors are distributed like the others', AUC ~0.5; so a 'check' on every image with a flagged landmark
    was alarm fatigue: 5 of 6 images.) With groups, each group's images are judged with the threshold of the
    other groups. Returns (threshold, figures)."""
    ids = sorted(set(image))
    mx = np.array([expected[image == i].max() for i in ids])
    bad = np.array([(err[image == i] > 2).any() for i in ids])
    t_all = float(np.quantile(mx, IMAGE_CHECK_QUANTILE))
    check = mx >= t_all
    if groups is not None:
        g_img = np.array([groups[image == i][0] for i in ids])
        check = np.zeros(len(ids), bool)
        for g in sorted(set(g_img)):
            check[g_img == g] = mx[g_img == g] >= np.quantile(mx[g_img != g], IMAGE_CHECK_QUANTILE)
    auc = float(np.mean([[float(a > b) + 0.5 * float(a == b) for b in mx[~bad]] for a in mx[bad]])) if bad.any() else None
    return t_all, {'images': len(ids), 'imagesWithPointOver2mm': int(bad.sum()),
                   'checkShareWithPointOver2mm': float(check[bad].mean()) if bad.any() else None,
                   'checkShareWithout': float(check[~bad].mean()), 'checkShare': float(check.mean()),
                   'aucLargestExpected': auc}


def file_sha(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


def set_manifest_sha(folder):
    """Puts decoding.json's sha256 into the folder's manifest (text edit: the manifest's layout is kept)."""
    mp = os.path.join(folder, 'manifest.json')
    text = open(mp).read()
    new = file_sha(os.path.join(folder, 'decoding.json'))
    m = json.loads(text)
    if 'decoding' not in m:  # a manifest fresh from export.py / export_folds.py
        m['decoding'] = {'file': 'decoding.json', 'sha256': new}
        with open(mp, 'w') as fh:
            json.dump(m, fh, indent=2)
            fh.write('\n')
        return new
    open(mp, 'w').write(text.replace(m['decoding']['sha256'], new))
    return new


def main():
    ann = json.load(open(os.path.join(SHARED, 'cvm13', 'annotations.json')))['images']
    cvm900 = shapes(os.path.join(SHARED, 'cvm900', 'cvm900_train.json'))
    folds = sorted(f for f in os.listdir(os.path.join(MODEL, 'folds')) if f.startswith('fold'))
    held = {f: set(json.load(open(os.path.join(MODEL, 'folds', f, 'manifest.json')))['training']['heldOut']) for f in folds}
    dump = json.load(open(DUMP + '.json')) if os.path.exists(DUMP + '.json') else {'images': [], 'decodings': {}}

    def model_without(excl):
        S = cvm900 + [np.array([ann[i]['points'][n] for n in N], float) for i in sorted(ann) if i not in excl]
        W = np.array([1.0] * len(cvm900) + [CVM13_WEIGHT] * (len(S) - len(cvm900)))
        return fit_shape_model(S, W)

    shape_models = {f: model_without(held[f]) for f in folds}
    shape_models['final'] = model_without(set())
    # Plausibility: md2 of the shapes a model was built from, and of held-out truths / CV predictions.
    train_md2 = np.array([md2(shape_models['final'], P) for P in cvm900])
    limit = float(np.percentile(train_md2, 99.5) * 2)
    print(f'md2 training shapes: median {np.median(train_md2):.1f}, 99.5% {np.percentile(train_md2, 99.5):.1f}, max {train_md2.max():.1f}; limit {limit:.1f}')
    cv = [d for d in dump['images']]
    held_truth = np.array([md2(shape_models[d['fold']], np.array([d['truth'][n] for n in N])) for d in cv])
    if len(cv) > 0:
        held_pred = np.array([md2(shape_models[d['fold']], np.array([p[:2] for p in d['pred']])) for d in cv])
        print(f'md2 held-out truths: median {np.median(held_truth):.1f} max {held_truth.max():.1f}; CV predictions: median {np.median(held_pred):.1f} max {held_pred.max():.1f}')
    # Wrong-vertebra configurations: one C3 point moved onto C4's counterpart and vice versa (C4 onto a C5 guess).
    bad = []
    for d in cv:
        T = np.array([d['truth'][n] for n in N])
        for a, b in [(3, 8), (4, 9), (5, 10), (6, 11), (7, 12)]:
            Q = T.copy(); Q[a] = T[b]; bad.append(md2(shape_models[d['fold']], Q))
            Q = T.copy(); Q[b] = 2 * T[b] - T[a]; bad.append(md2(shape_models[d['fold']], Q))
    bad = np.array(bad)
    if len(cv) > 0:
        print(f'md2 of one point on the neighbouring vertebra: min {bad.min():.1f}, median {np.median(bad):.1f}; refused by the limit: {(bad > limit).mean():.3f}')

    targets = [('final', MODEL)] + [(f, os.path.join(MODEL, 'folds', f)) for f in folds]

    def same_shape(a, b):
        return all(np.allclose(np.array(a[k], float), np.array(b[k], float), rtol=1e-9, atol=1e-12)
                   for k in ('mean', 'modes', 'variances', 'residualVariance', 'limit'))

    def write(calibs):
        """calibs: the expected-error block per target ('final' and each fold)."""
        for name, folder in targets:
            calib = calibs[name]
            shape = {**shape_models[name], 'limit': limit,
                     'source': 'Procrustes/PCA of the 720 CVM-900 training shapes + ' + ('all 54' if name == 'final' else f'the {54 - len(held[name])} training') + ' cvm13 shapes (weight 5)'}
            path = os.path.join(folder, 'decoding.json')
            if os.path.exists(path):  # keep the file's own digits when the refit differs only by rounding
                old = json.load(open(path)).get('shapeModel')
                if old is not None and old.get('source') == shape['source'] and same_shape(old, shape):
                    shape = old
            out = {'schema': 'cvm13 decoding v2', 'landmarks': N, 'shapeModel': shape,
                   'testTime': TEST_TIME, 'expectedError': calib}
            with open(os.path.join(folder, 'decoding.json'), 'w') as fh:
                json.dump(out, fh, indent=1)
                fh.write('\n')
            print(name, set_manifest_sha(folder))

    if len(sys.argv) > 1 and sys.argv[1] == 'shapes':
        write({name: json.load(open(os.path.join(folder, 'decoding.json')))['expectedError'] for name, folder in targets})
        print('shape models and test-time parameters written; now run dump_cv_heatmaps.mts, then this script without "shapes"')
        return
    # The dump must have been made with exactly these shape models and test-time parameters (the expected-error
    # block does not change the features, so a refit needs no new dump).
    for name, folder in targets[1:]:
        used = dump['decodings'].get(name)
        expected = {**shape_models[name], 'limit': limit}
        if used is None or 'shapeModel' not in used or used.get('testTime') != TEST_TIME or not same_shape(used['shapeModel'], expected):
            sys.exit(f'{folder}/decoding.json: the dump was made with other shape models or test-time parameters: '
                     'run "fit_decoding.py shapes", then dump_cv_heatmaps.mts')

    # Expected error
    rows = []
    for d in dump['images']:
        for c, n in enumerate(N):
            if n in d['filled']:
                continue
            f = d['features'][c]
            err = np.hypot(d['pred'][c][0] - d['truth'][n][0], d['pred'][c][1] - d['truth'][n][1]) * dump['spacingMm']
            rows.append((d['fold'], d['id'], c, [f.get(k, 0.0) for k in FEATURES], err))
    fold = np.array([r[0] for r in rows]); image = np.array([r[1] for r in rows]); c = np.array([r[2] for r in rows])
    F = np.array([r[3] for r in rows]); err = np.array([r[4] for r in rows])
    X = design(c, F); y = np.log(err + 0.05)
    beta, s2, expected = fit(X, y)
    flag_mm = float(np.quantile(expected, 0.9))
    big = err > 2
    looi, _ = held_out_figures(X, y, err, image)
    lofo, lofo_pred = held_out_figures(X, y, err, fold)
    rho = float(spearmanr(expected, err).correlation)
    print(f'CV predictions: MRE {err.mean():.4f} mm, within 2 mm {(err <= 2).mean():.4f}, {big.sum()} points > 2 mm')
    for k, name in enumerate(FEATURES):
        print(f'  feature {name}: Spearman with the error {spearmanr(F[:, k], err).correlation:.3f}, coefficient {beta[13 + k]:.3f}')
    print(f'expected error (fit on all CV points): Spearman {rho:.3f}; flag at >= {flag_mm:.3f} mm: {(expected >= flag_mm).mean():.3f} flagged, '
          f'{(expected[big] >= flag_mm).mean():.3f} of the {big.sum()} points > 2 mm')
    for label, fig in [('leave-one-image-out', looi), ('leave-one-fold-out', lofo)]:
        print(f'  {label}: Spearman {fig["spearman"]:.3f}, flagged {fig["flaggedShare"]:.3f}, caught {fig["over2mmFlagged"]:.3f} of the points > 2 mm')
    print(f'mean expected {expected.mean():.3f} mm vs mean actual {err.mean():.3f} mm')
    image_check_mm, image_fit = image_check(image, expected, err)
    _, image_lofo = image_check(image, lofo_pred, err, fold)
    ids = sorted(set(image))
    had_bad = np.array([(err[image == i] > 2).any() for i in ids])
    old_check = np.array([(expected[image == i] >= flag_mm).any() for i in ids])
    n_flag = np.array([(expected[image == i] >= flag_mm).sum() for i in ids])
    print(f'image verdict: "check" when a landmark is expected >= {image_check_mm:.3f} mm off: on {image_fit["checkShareWithPointOver2mm"]:.3f} of the '
          f'{had_bad.sum()} images with a point > 2 mm and {image_fit["checkShareWithout"]:.3f} of the {(~had_bad).sum()} without '
          f'(leave-one-fold-out: {image_lofo["checkShareWithPointOver2mm"]:.3f} / {image_lofo["checkShareWithout"]:.3f}); '
          f'with any flagged landmark (before): {old_check[had_bad].mean():.3f} / {old_check[~had_bad].mean():.3f}; '
          f'images with >= 4 flagged landmarks: {(n_flag >= 4).sum()}; AUC of the largest expected error for images with a point > 2 mm: {image_fit["aucLargestExpected"]:.2f}')
    def block(beta, s2, flag, check):
        return {'model': 'log(error_mm + 0.05) = perLandmark[c] + spreadLog*log(spread_mm) + peakLog*log(peak) + outsideLog*log(outside + 0.001)'
                         ' + ttaSpreadLog*log(max(ttaSpread_mm, 0.01)) + shapeShiftLog*log(max(shapeShift_mm, 0.01))'
                         ' + memberSpreadLog*log(max(memberSpread_mm, 0.01)); expected = exp(. + residualVariance/2) - 0.05',
                'perLandmark': dict(zip(N, [float(v) for v in beta[:13]])), 'spreadLog': float(beta[13]), 'peakLog': float(beta[14]),
                'outsideLog': float(beta[15]), 'ttaSpreadLog': float(beta[16]), 'shapeShiftLog': float(beta[17]),
                'memberSpreadLog': float(beta[18]),
                'residualVariance': s2, 'spreadRadiusPx': SPREAD_RADIUS, 'coreRadiusPx': CORE_RADIUS, 'flagMm': flag,
                'imageCheckMm': check}
    figures = {'points': int(len(err)), 'mreMm': float(err.mean()), 'within2mm': float((err <= 2).mean()),
               'spearman': rho, 'flaggedShare': float((expected >= flag_mm).mean()), 'over2mm': int(big.sum()),
               'over2mmFlagged': float((expected[big] >= flag_mm).mean()),
               'leaveOneImageOut': looi, 'leaveOneFoldOut': lofo,
               'imageCheck': {**image_fit, 'leaveOneFoldOut': image_lofo,
                              'anyFlaggedBefore': {'checkShareWithPointOver2mm': float(old_check[had_bad].mean()),
                                                   'checkShareWithout': float(old_check[~had_bad].mean())}}}
    calibs = {'final': {**block(beta, s2, flag_mm, image_check_mm), 'crossValidated': figures}}
    # Each fold model's file gets the calibration fitted WITHOUT that fold's points (its flag and image-check
    # thresholds from that fit too), so that `cvm eval --folds` reports the expected error, the flags and the
    # image verdict leave-one-fold-out, as a new image would meet them; the shipped model's file has the fit
    # on all points. (The features do not depend on this block, so the dump stays valid.)
    for f in folds:
        tr = fold != f
        b_f, s2_f, pred_f = fit(X[tr], y[tr])
        check_f, _ = image_check(image[tr], pred_f, err[tr])
        calibs[f] = {**block(b_f, s2_f, float(np.quantile(pred_f, 0.9)), check_f),
                     'crossValidated': {**figures, 'fittedWithout': f,
                                        'note': f'fitted on the cross-validated points of the other folds, not on {f}\'s: cvm eval --folds gives leave-one-fold-out figures'}}
    write(calibs)


if __name__ == '__main__':
    main()
