"""Out-of-distribution score for the radiograph-kind classifier, without retraining it.

The shipped classifier (models/radiograph-kind/kind.onnx) only knows cephalograms, hands and synthetic
"other" images; a real radiograph of another body part (the NEMA WG04 chest film) can land in the
cephalogram class with a high probability. This script rebuilds the network from the ONNX file (weights
unchanged), takes its penultimate features (64 globally pooled channels), and fits one Gaussian per known
class (cephalogram, hand) with a shared covariance (Lee et al., NeurIPS 2018, "A simple unified framework for
detecting out-of-distribution samples and adversarial attacks") on the classifier's OWN training images under
the 8 flips/quarter-turns. The score of an image is its Mahalanobis distance to the class it is given.
Threshold per class: the (1 - rate) quantile of the distances of augmented training images (rotation 15 deg,
scale, shift, contrast, gamma: the training augmentation), a stated false-reject rate; then checked on
held-out images (ISBI cephalograms 301-400 and 1,000 held-out rsna100 hands, under 8 flips/turns and a
15-degree rotation), and reported on the WG04 real radiographs (read with the app's decoder, see --wg04).

  OMP_NUM_THREADS=1 python3 ood_kind.py --wg04 /tmp/wg04.json [--export]
"""
import argparse, json, os
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import onnx
from onnx import numpy_helper
from common import DATA, load_grey, load_rsna100, squash_nearest
from nets import ZScore
from train_kind import anatomy_aug, dihedral, others

HERE = os.path.dirname(os.path.abspath(__file__))


class KindFromOnnx(nn.Module):
    """The exported KindNet (BatchNorm folded into the convolutions) rebuilt as a torch module."""

    def __init__(self, path):
        super().__init__()
        m = onnx.load(path)
        init = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
        self.z = ZScore()
        convs = []
        for n in m.graph.node:
            if n.op_type == "Conv":
                at = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
                w, b = init[n.input[1]], init[n.input[2]]
                c = nn.Conv2d(w.shape[1], w.shape[0], tuple(at["kernel_shape"]), tuple(at["strides"]), tuple(at["pads"][:2]))
                c.weight.data.copy_(w); c.bias.data.copy_(b); convs.append(c)
            elif n.op_type == "Gemm":
                self.fc = nn.Linear(init[n.input[1]].shape[1], init[n.input[1]].shape[0])
                self.fc.weight.data.copy_(init[n.input[1]]); self.fc.bias.data.copy_(init[n.input[2]])
        self.convs = nn.ModuleList(convs)

    def features(self, x):
        h = self.z(x)
        for c in self.convs:
            h = F.relu(c(h))
        return h.mean(dim=(2, 3))

    def forward(self, x):
        return self.fc(self.features(x))


class KindWithDistance(nn.Module):
    """image -> (logits [1,3], Mahalanobis distance to the cephalogram and hand classes [1,2])."""

    def __init__(self, net, means, prec_chol):
        super().__init__()
        self.net = net
        self.register_buffer("means", torch.from_numpy(means).float())         # [2, 64]
        self.register_buffer("chol", torch.from_numpy(prec_chol).float())      # [64, 64]: precision = chol @ chol.T

    def forward(self, image):
        f = self.net.features(image)                                           # [1, 64]
        d = (f.unsqueeze(1) - self.means.unsqueeze(0)) @ self.chol             # [1, 2, 64]
        return self.net.fc(f), torch.sqrt((d * d).sum(dim=2))


def feats(net, x, bs=512):
    out = []
    with torch.no_grad():
        for i in range(0, len(x), bs):
            out.append(net.features(x[i:i + bs]))
    return torch.cat(out).numpy().astype(np.float64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", default=os.path.join(HERE, "..", "..", "radiograph-kind", "kind.onnx"))
    ap.add_argument("--wg04", default=None, help="JSON {file: 10000 floats}: the app's 100x100 input of each WG04 file")
    ap.add_argument("--rate", type=float, default=0.001, help="false-reject rate on augmented training images that sets each threshold")
    ap.add_argument("--aug-copies", type=int, default=4)
    ap.add_argument("--out", default=os.path.join(HERE, "runs", "kind-ood"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    net = KindFromOnnx(a.onnx).eval()
    # the classifier's own split (train_kind.py)
    cdir = os.path.join(DATA, "isbi2015", "images")
    names = sorted(f for f in os.listdir(cdir) if f.endswith(".jpg"))
    ceph = torch.from_numpy(np.stack([squash_nearest(load_grey(os.path.join(cdir, f))) for f in names])).float().div(255).unsqueeze(1)
    cnum = np.array([int(f[:3]) for f in names])
    c_tr, c_te = ceph[cnum <= 300], ceph[cnum > 300]
    imgs, _, _, _ = load_rsna100()
    perm = np.random.default_rng(a.seed).permutation(len(imgs))
    h_tr = torch.from_numpy(imgs[perm[:3000]]).float().div(255).unsqueeze(1)
    h_te = torch.from_numpy(imgs[perm[3000:4000]]).float().div(255).unsqueeze(1)
    # fit: training images under the 8 flips/quarter-turns
    fc = np.concatenate([feats(net, dihedral(c_tr, k)) for k in range(8)])
    fh = np.concatenate([feats(net, dihedral(h_tr, k)) for k in range(8)])
    means = np.stack([fc.mean(0), fh.mean(0)])
    cen = np.concatenate([fc - means[0], fh - means[1]])
    cov = cen.T @ cen / len(cen)
    cov += np.eye(cov.shape[0]) * 1e-6 * np.trace(cov) / cov.shape[0]
    prec = np.linalg.inv(cov)
    chol = np.linalg.cholesky(prec)
    maha = lambda f, c: np.sqrt(np.sum(((f - means[c]) @ chol) ** 2, axis=1))
    # thresholds: augmented training images (the classifier's training augmentation), stated false-reject rate
    g = torch.Generator().manual_seed(a.seed + 7)
    fca = np.concatenate([feats(net, anatomy_aug(c_tr, g)) for _ in range(a.aug_copies * 8)])
    fha = np.concatenate([feats(net, anatomy_aug(h_tr, g)) for _ in range(a.aug_copies)])
    thr = [float(np.quantile(maha(fca, 0), 1 - a.rate)), float(np.quantile(maha(fha, 1), 1 - a.rate))]
    print(f"thresholds at {a.rate:.1%} false rejects of augmented training images: cephalogram {thr[0]:.2f}, hand {thr[1]:.2f}"
          f" ({len(fca)} and {len(fha)} images)")
    res = {"rate": a.rate, "thresholds": {"cephalogram": thr[0], "hand": thr[1]}, "heldout": {}, "wg04": {}}

    def judge(x):
        with torch.no_grad():
            f = net.features(x); p = torch.softmax(net.fc(f), 1).numpy()
        f = f.numpy().astype(np.float64)
        k = p.argmax(1)
        d = np.where(k == 0, maha(f, 0), np.where(k == 1, maha(f, 1), np.nan))
        t = np.where(k == 0, thr[0], np.where(k == 1, thr[1], np.nan))
        return k, p.max(1), d, t

    rot = lambda x: __import__("nets").augment(x, torch.Generator().manual_seed(1), rot_deg=15, scale=0, shift=0, flip=0, contrast=0, gamma=0)
    gt = torch.Generator().manual_seed(a.seed + 12345)
    o_te = others(400, gt, c_te, h_te)
    for name, x, lab in [("cephalogram", c_te, 0), ("hand", h_te, 1), ("other", o_te, 2)]:
        row = {}
        for tname, xx in [(f"d{k}", dihedral(x, k)) for k in range(8)] + [("rot15", rot(x))]:
            k, p, d, t = judge(xx)
            kept = (k == lab) & ~(d > t) if lab < 2 else None
            rej = (d > t)
            row[tname] = {"n": len(x), "classified_as_true_kind": float((k == lab).mean()),
                          "rejected_by_distance": float(np.nanmean(rej.astype(float))) if lab < 2 else float(rej.sum() / len(x)),
                          "max_distance_own_class": float(np.nanmax(d[k == lab])) if lab < 2 and (k == lab).any() else None}
            if lab == 2:
                row[tname]["called_ceph_or_hand"] = float((k < 2).mean())
                row[tname]["called_ceph_or_hand_and_kept"] = float(((k < 2) & ~(d > t)).mean())
        res["heldout"][name] = row
        mx = max((v["max_distance_own_class"] or 0) for v in row.values())
        rj = max(v["rejected_by_distance"] for v in row.values())
        print(f"held-out {name}: worst-transform rejection {rj:.4f}, largest distance {mx:.2f}" if lab < 2 else
              f"held-out {name}: called ceph/hand {np.mean([v['called_ceph_or_hand'] for v in row.values()]):.4f}, "
              f"of which kept {np.mean([v['called_ceph_or_hand_and_kept'] for v in row.values()]):.4f}")
    if a.wg04:
        w = json.load(open(a.wg04))
        for n, v in sorted(w.items()):
            x = torch.tensor(v, dtype=torch.float32).view(1, 1, 100, 100)
            with torch.no_grad():
                f = net.features(x); p = torch.softmax(net.fc(f), 1).numpy()[0]
            f = f.numpy().astype(np.float64)
            dc, dh = float(maha(f, 0)[0]), float(maha(f, 1)[0])
            res["wg04"][n] = {"p": [round(float(q), 3) for q in p], "d_ceph": round(dc, 2), "d_hand": round(dh, 2)}
            print(f"{n:16s} P {np.round(p, 3)} distance ceph {dc:7.2f} (thr {thr[0]:.1f}) hand {dh:7.2f} (thr {thr[1]:.1f})")
    np.savez(os.path.join(a.out, "ood.npz"), means=means, chol=chol, thresholds=np.array(thr))
    json.dump(res, open(os.path.join(a.out, "ood.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
