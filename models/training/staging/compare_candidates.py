"""Compares candidate staging models by nested cross-validation on features dumped from the app's own TypeScript
feature function (so Python and TypeScript cannot disagree about a feature):

    npx tsx models/training/staging/fit.ts --dump-features /tmp/cvm900-features.json
    OMP_NUM_THREADS=1 /usr/bin/python3 models/training/staging/compare_candidates.py /tmp/cvm900-features.json \
        [../shared/data/cvm900/cvm900_train.json]

With the landmark file as a second argument, the spines' whole shapes are tried too: the 13 points facing right,
Procrustes-aligned (position, size, rotation), their first principal modes as extra features (the modes are fitted
on all spines' shapes without their stages, a small optimism in their favour).

Same outer folds as the fit script (stored with the features); within each training fold the regularisation is
chosen by an inner stratified 5-fold CV on log-loss. Prints exact, within one, QWK, top-2, ECE (10 bins), log-loss.
"""
import json
import sys

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, softmax
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

data = json.load(open(sys.argv[1]))
names = data["features"]
X = np.array([s["x"] for s in data["spines"]])
y = np.array([s["stage"] - 1 for s in data["spines"]])
folds = np.array([s["fold"] for s in data["spines"]])


def qwk(a, b, k=6):
    o = np.zeros((k, k))
    for i, j in zip(a, b):
        o[i, j] += 1
    w = np.array([[(i - j) ** 2 for j in range(k)] for i in range(k)]) / (k - 1) ** 2
    e = np.outer(o.sum(1), o.sum(0)) / o.sum()
    return 1 - (w * o).sum() / (w * e).sum()


def ece(p, t, bins=10):
    conf = p.max(1)
    pred = p.argmax(1)
    total = 0.0
    for b in range(bins):
        m = (conf > b / bins) & (conf <= (b + 1) / bins)
        if m.any():
            total += m.mean() * abs((pred[m] == t[m]).mean() - conf[m].mean())
    return total


def figures(p):
    pred = p.argmax(1)
    top2 = np.argsort(-p, 1)[:, :2]
    return {
        "exact": (pred == y).mean(),
        "within1": (abs(pred - y) <= 1).mean(),
        "qwk": qwk(y, pred),
        "top2": np.mean([y[i] in top2[i] for i in range(len(y))]),
        "ece": ece(p, y),
        "logloss": -np.mean(np.log(np.maximum(p[np.arange(len(y)), y], 1e-12))),
    }


class Multinomial:
    def __init__(self, cols, quadratic=False):
        self.cols, self.quadratic = cols, quadratic

    def design(self, x):
        x = x[:, self.cols]
        return np.hstack([x, x ** 2]) if self.quadratic else x

    def fit(self, x, t, lam):
        d = self.design(x)
        self.sc = StandardScaler().fit(d)
        # sklearn minimises 0.5 |w|^2 + C sum loss: lambda |w|^2 + sum loss <=> C = 1 / (2 lambda)
        self.m = LogisticRegression(C=1 / (2 * lam), max_iter=5000).fit(self.sc.transform(d), t)
        return self

    def predict(self, x):
        return self.m.predict_proba(self.sc.transform(self.design(x)))


class Ordinal:
    """Cumulative-link (proportional odds) logistic model: P(stage <= k) = expit(c_k - w.x)."""

    def __init__(self, cols):
        self.cols = cols

    def fit(self, x, t, lam):
        self.sc = StandardScaler().fit(x[:, self.cols])
        z = self.sc.transform(x[:, self.cols])
        n, p = z.shape

        def unpack(th):
            return th[:p], th[p] + np.concatenate([[0], np.cumsum(np.exp(th[p + 1:]))])

        def nll(th):
            w, c = unpack(th)
            f = expit(c[None, :] - (z @ w)[:, None])
            f = np.hstack([np.zeros((n, 1)), f, np.ones((n, 1))])
            pr = f[np.arange(n), t + 1] - f[np.arange(n), t]
            return -np.sum(np.log(np.maximum(pr, 1e-12))) + lam * np.sum(w ** 2)

        th = minimize(nll, np.concatenate([np.zeros(p), [-2.5], np.zeros(4)]), method="L-BFGS-B").x
        self.w, self.c = unpack(th)
        return self

    def predict(self, x):
        s = self.sc.transform(x[:, self.cols]) @ self.w
        f = expit(self.c[None, :] - s[:, None])
        return np.diff(np.hstack([np.zeros((len(s), 1)), f, np.ones((len(s), 1))]), axis=1)


def nested(make, lambdas=(0.03, 0.1, 0.3, 1, 3, 10)):
    p = np.zeros((len(y), 6))
    for f in range(folds.max() + 1):
        tr, te = folds != f, folds == f
        inner = StratifiedKFold(5, shuffle=True, random_state=f)
        best = None
        for lam in lambdas:
            loss = 0.0
            for a, b in inner.split(X[tr], y[tr]):
                q = make().fit(X[tr][a], y[tr][a], lam).predict(X[tr][b])
                loss -= np.sum(np.log(np.maximum(q[np.arange(len(b)), y[tr][b]], 1e-12)))
            if best is None or loss < best[0]:
                best = (loss, lam)
        p[te] = make().fit(X[tr], y[tr], best[1]).predict(X[te])
    return p


def shape_modes(path, k_max=10):
    """The first k_max Procrustes shape modes of each spine in the dump (same order), from the landmark file."""
    raw = json.load(open(path))
    lm = raw["landmarks"]
    shapes = []
    for spine in data["spines"]:
        a = np.array([raw["images"][spine["id"]]["points"][n] for n in lm], float)
        anterior = a[[lm.index("C3ua"), lm.index("C3la")], 0].mean()
        if anterior < a[[lm.index("C3up"), lm.index("C3lp")], 0].mean():
            a[:, 0] = -a[:, 0]
        a -= a.mean(0)
        shapes.append(a / np.linalg.norm(a))
    shapes = np.array(shapes)

    def aligned(ref):
        out = []
        for a in shapes:
            u, _, vt = np.linalg.svd(a.T @ ref)
            if np.linalg.det(u @ vt) < 0:
                u[:, -1] *= -1
            out.append(a @ u @ vt)
        return np.array(out)

    ref = shapes[0]
    for _ in range(5):
        ref = aligned(ref).mean(0)
        ref /= np.linalg.norm(ref)
    flat = aligned(ref).reshape(len(shapes), -1)
    centred = flat - flat.mean(0)
    return centred @ np.linalg.svd(centred, full_matrices=False)[2][:k_max].T


idx = {n: i for i, n in enumerate(names)}
all_cols = list(range(len(names)))
core7 = [idx[n] for n in ["C2.concavity", "C3.concavity", "C4.concavity", "C3.logHeightRatio", "C4.logHeightRatio",
                          "C3.logWidthToHeight", "C4.logWidthToHeight"]]
concavity_only = [idx[n] for n in ["C2.concavity", "C3.concavity", "C4.concavity"]]
candidates = {
    "multinomial, all 11 features (shipped)": lambda: Multinomial(all_cols),
    "multinomial, 7 features (concavities, taper, width/height)": lambda: Multinomial(core7),
    "multinomial, 3 concavities only": lambda: Multinomial(concavity_only),
    "multinomial, 11 features + squares": lambda: Multinomial(all_cols, quadratic=True),
    "ordinal (cumulative logit), all 11 features": lambda: Ordinal(all_cols),
}
if len(sys.argv) > 2:
    X = np.hstack([X, shape_modes(sys.argv[2])])
    for k in (5, 10):
        cols = all_cols + list(range(len(names), len(names) + k))
        candidates[f"multinomial, 11 features + {k} shape modes"] = lambda cols=cols: Multinomial(cols)
print(f"{len(y)} spines, {folds.max() + 1} outer folds")
print(f"{'candidate':60s} exact  within1  QWK    top-2  ECE    log-loss")
for name, make in candidates.items():
    r = figures(nested(make))
    print(f"{name:60s} {r['exact']:.3f}  {r['within1']:.3f}    {r['qwk']:.3f}  {r['top2']:.3f}  {r['ece']:.3f}  {r['logloss']:.3f}")
