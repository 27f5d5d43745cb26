"""Out-of-fold figures of finished rounds, and of the no-training levers measured on them (no model is run:
only each run's oof.npz, written by train_boneage.py and rewritten by update_bn.py).

  python3 oof_eval.py runs/boneage2 runs/boneage3 runs/boneage4        # each round, then snapshot ensembles

For each run: MAE overall, per sex, within 12 months, the variance head's 90 % coverage, bias and MAE per age
band, all 11,000 out-of-fold cases. Then:
- snapshot ensembles: the rounds' models of the SAME fold combined as the app combines members (mean of the
  means; variance = mean variance + spread of the means). Every round's fold-k model trained on fold k's
  training images only, so the combination is still an honest out-of-fold prediction.
- recalibrations of the last run's mean, each fitted on a random half of the cases (export.py's half, seed 0)
  and reported on the other half: linear (what ships), piecewise-linear least squares and least absolute
  deviations (knots every 30-60 months of the predicted mean), overall or per sex.
"""
import argparse, os
import numpy as np

Z90 = 1.6448536269514722
BANDS = [(0, 60), (60, 120), (120, 180), (180, 229)]


def combine(mu, lv):
    """core/boneage/estimate.ts's combination over axis 0."""
    m = mu.mean(0)
    return m, np.log(np.exp(lv).mean(0) + ((mu - m) ** 2).mean(0))


def report(name, y, male, mu, lv):
    e = np.abs(mu - y); sd = np.exp(0.5 * lv)
    print(f"{name}: MAE {e.mean():.2f} (boys {e[male].mean():.2f}, girls {e[~male].mean():.2f}), median {np.median(e):.2f}, "
          f"within 12 months {(e <= 12).mean() * 100:.1f} %, 90 % interval (variance head) covers {(e <= Z90 * sd).mean() * 100:.1f} %, "
          f"bias {np.mean(mu - y):+.2f}")
    for lo, hi in BANDS:
        q = (y >= lo) & (y < hi)
        print(f"    {lo}-{min(hi, 228)} months ({q.sum()}): MAE {e[q].mean():.2f}, bias {np.mean((mu - y)[q]):+.2f}, within 12 {(e[q] <= 12).mean() * 100:.0f} %")


def pwl(x, t, knots, l1):
    """Piecewise-linear fit of t on x (hinges at knots); least squares, or least absolute deviations by IRLS."""
    def basis(z):
        return np.stack([np.ones_like(z), z] + [np.maximum(z - k, 0) for k in knots], 1)
    a = basis(x); w = np.ones(len(x))
    for _ in range(50 if l1 else 1):
        c = np.linalg.lstsq(a * np.sqrt(w)[:, None], t * np.sqrt(w), rcond=None)[0]
        w = 1 / np.maximum(np.abs(a @ c - t), 1.0)
    return lambda z: basis(z) @ c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()
    o = [np.load(f"{r}/oof.npz") for r in a.runs]
    for r, oo in zip(a.runs[1:], o[1:]):
        assert np.array_equal(oo["fold"], o[0]["fold"]) and np.array_equal(oo["ids"], o[0]["ids"]), f"{r}: another split"
    ks = [k for k in range(5) if all(os.path.exists(f"{r}/fold{k}.pt") for r in a.runs)]
    sel = np.isin(o[0]["fold"], ks)
    print(f"folds {ks}: {sel.sum()} out-of-fold cases")
    y = o[0]["age"][sel].astype(np.float64); male = o[0]["male"][sel].astype(bool)
    mus = np.stack([oo["mu"][sel] for oo in o]).astype(np.float64); lvs = np.stack([oo["logvar"][sel] for oo in o]).astype(np.float64)
    for i, r in enumerate(a.runs):
        report(r, y, male, mus[i], lvs[i])
    for i in range(len(a.runs) - 1):
        for j in range(i + 1, len(a.runs)):
            report(f"snapshot ensemble {' + '.join(a.runs[i:j + 1])}", y, male, *combine(mus[i:j + 1], lvs[i:j + 1]))
    mu = mus[-1]
    half = np.random.default_rng(0).random(len(y)) < 0.5
    ev = ~half
    print(f"recalibrations of {a.runs[-1]}'s mean, fitted on {half.sum()} cases, MAE on the other {ev.sum()}:")

    def show(label, p):
        e = np.abs(p - y)[ev]; m = male[ev]
        print(f"    {label:44s} MAE {e.mean():.3f} (boys {e[m].mean():.3f}, girls {e[~m].mean():.3f}), within 12 months {(e <= 12).mean() * 100:.1f} %")
    show("none", mu)
    s, c = np.polyfit(mu[half], y[half], 1); show("linear (shipped)", c + s * mu)
    for knots in ([60, 120, 180], [40, 80, 120, 160, 200], [30, 60, 90, 120, 150, 180, 210]):
        for l1 in (False, True):
            show(f"piecewise-linear, {len(knots)} knots, {'L1' if l1 else 'L2'}", pwl(mu[half], y[half], knots, l1)(mu))
            p = mu.copy()
            for sx in (True, False):
                q = male == sx
                p[q] = pwl(mu[half & q], y[half & q], knots, l1)(mu[q])
            show(f"piecewise-linear, {len(knots)} knots, {'L1' if l1 else 'L2'}, per sex", p)


if __name__ == "__main__":
    main()
