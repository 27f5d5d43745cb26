"""Measures refitting only the head of each fold model on its frozen body's features (no body training): the
shipped head sees the sex as one concatenated input; a head with the sex interacting with every feature
([f, s * f, s]) can bend the age scale per sex (the girls' oldest are underestimated by 7-10 months).

  OMP_NUM_THREADS=1 python3 head_eval.py --run runs/boneage9

Each fold's head is refitted on the features of its own training images only (image and mirror image), L1 on the
mean + 0.5 x Gaussian NLL as in training, starting from the trained head; reported on its held-out images.
"""
import argparse, json, os, time
import numpy as np
import torch
from common import load_rsna100
from nets import make_boneage
from train_boneage import MU0, SD0


def features(model, x_u8, male, bs=512):
    out = []
    with torch.no_grad():
        for i in range(0, len(x_u8), bs):
            x = torch.from_numpy(x_u8[i:i + bs]).float().div_(255).unsqueeze(1)
            s = torch.from_numpy(male[i:i + bs].astype(np.float32)).unsqueeze(1) * 2 - 1
            out.append(torch.stack([model.features(x, s), model.features(torch.flip(x, dims=[3]), s)], 1))
    return torch.cat(out)                     # [N, 2 views, d]


class PlainHead(torch.nn.Module):
    """The trained head as it is: [f, s] -> 64 -> 2."""

    def __init__(self, head):
        super().__init__()
        self.head = head

    def forward(self, f, s):
        return self.head(torch.cat([f, s], 1))


class InteractionHead(torch.nn.Module):
    def __init__(self, head):
        super().__init__()
        d = head[0].in_features - 1
        self.l1 = torch.nn.Linear(2 * d + 1, head[0].out_features); self.l2 = torch.nn.Linear(head[2].in_features, 2)
        with torch.no_grad():
            self.l1.weight.zero_(); self.l1.weight[:, :d] = head[0].weight[:, :d]; self.l1.weight[:, 2 * d] = head[0].weight[:, d]
            self.l1.bias.copy_(head[0].bias); self.l2.load_state_dict(head[2].state_dict())

    def forward(self, f, s):
        return self.l2(torch.relu(self.l1(torch.cat([f, s * f, s], 1))))


def fit(head, f, s, y, steps, lr, wd, seed):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=wd)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.2)
    n = f.shape[0]
    for _ in range(steps):
        b = torch.randint(0, n, (256,), generator=g)
        v = torch.randint(0, 2, (256,), generator=g)
        o = head(f[b, v], s[b]); mu = o[:, 0]; lv = o[:, 1].clamp(-9, 3)
        nll = 0.5 * (lv + (y[b] - mu.detach()) ** 2 * torch.exp(-lv))
        loss = (y[b] - mu).abs().mean() + 0.5 * nll.mean()
        opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    return head


def predict(head, f, s):
    with torch.no_grad():
        return 0.5 * (head(f[:, 0], s) + head(f[:, 1], s))[:, 0].numpy() * SD0 + MU0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", default="runs/boneage9")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--wd", type=float, default=1e-4)
    a = ap.parse_args()
    torch.set_num_threads(1)
    cfg = json.load(open(os.path.join(a.run, "config.json")))
    imgs, ids, age, male = load_rsna100()
    fold = np.load(os.path.join(a.run, "oof.npz"))["fold"]
    res = {k: np.zeros(len(age)) for k in ("trained", "plain", "interaction")}
    for k in range(5):
        t0 = time.time()
        m = make_boneage(cfg); m.load_state_dict(torch.load(os.path.join(a.run, f"fold{k}.pt"))); m.eval()
        f = features(m, imgs, male).float()
        s = torch.from_numpy(male.astype(np.float32)).unsqueeze(1) * 2 - 1
        y = torch.from_numpy((age - MU0) / SD0).float()
        tr = torch.from_numpy(np.where(fold != k)[0]); te = np.where(fold == k)[0]
        res["trained"][te] = predict(PlainHead(m.head), f[te], s[te])
        import copy
        plain = fit(PlainHead(copy.deepcopy(m.head)), f[tr], s[tr], y[tr], a.steps, a.lr, a.wd, k)
        res["plain"][te] = predict(plain, f[te], s[te])
        inter = fit(InteractionHead(m.head), f[tr], s[tr], y[tr], a.steps, a.lr, a.wd, k)
        res["interaction"][te] = predict(inter, f[te], s[te])
        e = {n: np.abs(r[te] - age[te]).mean() for n, r in res.items()}
        print(f"fold {k}: " + ", ".join(f"{n} {v:.3f}" for n, v in e.items()) + f"  {time.time() - t0:.0f}s", flush=True)
    bm = male.astype(bool)
    for n, r in res.items():
        e = np.abs(r - age)
        print(f"{n:12s} MAE {e.mean():.3f} boys {e[bm].mean():.3f} girls {e[~bm].mean():.3f}")


if __name__ == "__main__":
    main()
