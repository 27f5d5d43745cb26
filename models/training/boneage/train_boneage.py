"""5-fold training of the bone-age model (the five fold models are both the cross-validation and the shipped
ensemble). Writes runs/boneage/fold{k}.pt, oof.npz (out-of-fold mean and log-variance in months) and
samples.npz (every fold model on the full-size rsna-sample radiographs, prepared like the app does).

  OMP_NUM_THREADS=1 python3 train_boneage.py --epochs 12 --threads 1

Loss: L1 on the mean (the mean gets the whole gradient of the error, as the MAE it is judged by), plus the
Gaussian negative log-likelihood of the log-variance around the DETACHED mean (so the variance head learns the
size of the error without damping the mean's gradient, the known failure of a plain Gaussian NLL).
On a CPU the convolutional body runs under bfloat16 autocast (about twice as fast on this AVX-512 BF16 CPU);
the weights, the head and every prediction are float32.
"""
import argparse, json, os, time
import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold
from common import load_rsna100, load_samples
from nets import BoneAgeNet, augment, make_boneage

MU0, SD0 = 120.0, 50.0
AUG = {"full": dict(rot_deg=12, scale=0.1, shift=0.06, flip=0.5, contrast=0.25, gamma=0.3),
       "mild": dict(rot_deg=8, scale=0.08, shift=0.04, flip=0.5, contrast=0.1, gamma=0.1),
       "light": dict(rot_deg=5, scale=0.05, shift=0.03, flip=0.5, contrast=0, gamma=0)}


def strata(age, male):
    return male.astype(int) * 10 + np.minimum(age // 24, 9).astype(int)


def folds_of(age, male, k=5, seed=0):
    f = np.zeros(len(age), dtype=np.int64)
    for i, (_, te) in enumerate(StratifiedKFold(k, shuffle=True, random_state=seed).split(age, strata(age, male))):
        f[te] = i
    return f


def predict(model, x, male, bs=256):
    """Float32, mirror test-time augmentation (as the exported graph)."""
    model.eval(); model.tta = True
    out = []
    with torch.no_grad():
        for i in range(0, len(x), bs):
            xb = torch.from_numpy(x[i:i + bs]).float().div_(255).unsqueeze(1)
            mb = torch.from_numpy(male[i:i + bs].astype(np.float32)).unsqueeze(1)
            out.append(model(xb, mb).numpy())
    o = np.concatenate(out)
    model.tta = False
    return o[:, 0] * SD0 + MU0, o[:, 1] + 2 * np.log(SD0)      # months, log variance in months^2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--arch", choices=["net", "vgg"], default="net", help="net: BoneAgeNet (stride-2 stem); vgg: BoneAgeVGG (two convs at 100, 50, 25, 12)")
    ap.add_argument("--width", default="24,48,96,192", help="channels: BoneAgeNet stem and three stages; BoneAgeVGG five levels")
    ap.add_argument("--sexin", type=int, default=0, help="BoneAgeVGG: the sex also as a second input channel of the body")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", default="0,1,2,3,4")
    ap.add_argument("--aug", choices=["full", "mild", "light"], default="mild",
                    help="full: rotation 12 deg, scale 10 %%, shift 6 %%, contrast 0.25, gamma 0.3; mild: 8 deg, 8 %%, 4 %%, 0.1, 0.1; light: 5 deg, 5 %%, 3 %%, none; all mirror half the images")
    ap.add_argument("--nll", type=float, default=0.5, help="weight of the variance head's Gaussian NLL (around the detached mean)")
    ap.add_argument("--wd", type=float, default=1e-4)
    ap.add_argument("--bf16", type=int, default=1, help="bfloat16 autocast of the convolutional body on a CPU (1) or not (0)")
    ap.add_argument("--init", default=None, help="continue from runs/<init>/fold{k}.pt (a second round at a lower rate)")
    ap.add_argument("--draw", type=int, default=0, help="another draw of batches and augmentations for a further round (the split stays seed 0's)")
    ap.add_argument("--limit", type=int, default=0, help="smoke test: train on this many images only")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "runs"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    os.makedirs(a.out, exist_ok=True)
    imgs, ids, age, male = load_rsna100()
    fold = folds_of(age, male, seed=a.seed)
    np.savez(os.path.join(a.out, "split.npz"), ids=ids, fold=fold)
    s_ids, s_age, s_male, s_x = load_samples()
    oof_mu = np.zeros(len(age), np.float32); oof_lv = np.zeros(len(age), np.float32)
    if os.path.exists(os.path.join(a.out, "oof.npz")):
        o = np.load(os.path.join(a.out, "oof.npz")); oof_mu, oof_lv = o["mu"].copy(), o["logvar"].copy()
    s_mu = np.zeros((5, len(s_ids)), np.float32); s_lv = np.zeros((5, len(s_ids)), np.float32)
    log = open(os.path.join(a.out, "log.txt"), "a")
    for k in [int(s) for s in a.folds.split(",")]:
        t0 = time.time()
        # a second round (--init) draws other batches and augmentations than the first (the split stays seed 0's)
        # (--draw n: a further round, other draws again)
        rs = a.seed * 100 + k + (7919 if a.init else 0) + 104729 * a.draw
        torch.manual_seed(rs)
        g = torch.Generator().manual_seed(rs)
        tr = np.where(fold != k)[0]; te = np.where(fold == k)[0]
        if a.limit: tr = tr[:a.limit]; te = te[:a.limit]
        model = make_boneage({"arch": a.arch, "width": a.width, "sexin": a.sexin}).to(dev)
        if a.init:
            model.load_state_dict(torch.load(os.path.join(a.init, f"fold{k}.pt")))
        steps = a.epochs * (len(tr) // a.bs)
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.wd)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps, pct_start=0.2)
        xt = torch.from_numpy(imgs[tr]); yt = torch.from_numpy((age[tr] - MU0) / SD0); mt = torch.from_numpy(male[tr].astype(np.float32))
        step = 0
        for ep in range(a.epochs):
            model.train()
            perm = torch.randperm(len(tr), generator=g)
            tl = 0.0; ta = 0.0; nb = 0
            for i in range(0, len(tr) - a.bs + 1, a.bs):
                b = perm[i:i + a.bs]
                x = xt[b].float().div_(255).unsqueeze(1)
                x = augment(x, g, **AUG[a.aug]).to(dev)
                y = yt[b].to(dev); m = mt[b].unsqueeze(1).to(dev)
                if a.bf16 and dev.type == "cpu":
                    with torch.autocast("cpu", dtype=torch.bfloat16):
                        f = model.features(x, m * 2 - 1)
                else:
                    f = model.features(x, m * 2 - 1)
                o = model.head(torch.cat([f.float(), m * 2 - 1], dim=1)); mu = o[:, 0]; lv = o[:, 1].clamp(-9, 3)
                nll = 0.5 * (lv + (y - mu.detach()) ** 2 * torch.exp(-lv))
                loss = (y - mu).abs().mean() + a.nll * nll.mean()
                opt.zero_grad(); loss.backward(); opt.step(); sched.step(); step += 1
                tl += loss.item(); ta += (y - mu).abs().mean().item() * SD0; nb += 1
            msg = f"fold {k} epoch {ep + 1}/{a.epochs} loss {tl / nb:.4f} train-MAE {ta / nb:.2f} months  {time.time() - t0:.0f}s"
            print(msg, flush=True); log.write(msg + "\n"); log.flush()
        model = model.cpu()
        mu, lv = predict(model, imgs[te], male[te])
        oof_mu[te] = mu; oof_lv[te] = lv
        smu, slv = predict(model, s_x, s_male); s_mu[k] = smu; s_lv[k] = slv
        torch.save(model.state_dict(), os.path.join(a.out, f"fold{k}.pt"))
        np.savez(os.path.join(a.out, "oof.npz"), mu=oof_mu, logvar=oof_lv, fold=fold, age=age, male=male, ids=ids)
        prev = np.load(os.path.join(a.out, "samples.npz")) if os.path.exists(os.path.join(a.out, "samples.npz")) else None
        if prev is not None:
            pm, pl = prev["mu"].copy(), prev["logvar"].copy(); pm[k] = smu; pl[k] = slv; s_mu, s_lv = pm, pl
        np.savez(os.path.join(a.out, "samples.npz"), mu=s_mu, logvar=s_lv, ids=s_ids, age=s_age, male=s_male,
                 in_train=np.isin(s_ids, ids), fold=np.array([fold[ids == i][0] if i in ids else -1 for i in s_ids]))
        msg = (f"fold {k} done: held-out MAE {np.abs(mu - age[te]).mean():.2f} months, "
               f"median sd {np.exp(0.5 * lv).mean():.1f}, {time.time() - t0:.0f}s")
        print(msg, flush=True); log.write(msg + "\n"); log.flush()
        json.dump({"arch": a.arch, "sexin": a.sexin, "width": a.width, "init": a.init, "aug": a.aug, "nll": a.nll, "wd": a.wd, "bf16": a.bf16, "loss": "L1(mean) + nll * GaussianNLL(logvar | detached mean)", "epochs": a.epochs, "bs": a.bs, "lr": a.lr, "seed": a.seed, "draw": a.draw, "device": str(dev)},
                  open(os.path.join(a.out, "config.json"), "w"))


if __name__ == "__main__":
    main()
