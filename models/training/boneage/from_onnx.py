"""Recovers the five fold models of a shipped bone-age ensemble (models/boneage-rsna100/boneage.onnx) as a run
folder that train_boneage.py --init can continue from, so that a further round does not need the whole
recipe again (about three hours on two CPU cores).

The exported graph has each BatchNorm folded into its convolution (y = W'x + b'). The recovered fold model keeps
W' as the convolution weight and puts b' into a BatchNorm whose statistics are those of W'x on the fold's own
training images (mean m, variance v): gamma = sqrt(v + eps), beta = m + b'. In evaluation mode that is exactly
the exported function; in training mode (batch statistics) it is the same function up to the batch's deviation
from m and v, as in any further round. Checked by re-predicting the full-size samples, which the manifest
records (ensemble_months), and by the out-of-fold figures (oof.npz, written like train_boneage.py's).

  /usr/bin/python3 from_onnx.py --onnx ../../boneage-rsna100/boneage.onnx --out runs/boneage9
"""
import argparse, json, os
import numpy as np
import onnx
import onnx.numpy_helper as nh
import torch
from common import load_rsna100, load_samples
from nets import make_boneage
from train_boneage import folds_of, predict
from update_bn import plain_batches


def conv_weights_in_order(graph):
    """The (weight, bias) of every Conv node in graph order, initializers resolved through Identity nodes."""
    init = {i.name: nh.to_array(i) for i in graph.initializer}
    alias = {n.output[0]: n.input[0] for n in graph.node if n.op_type == "Identity"}
    const = {}
    for n in graph.node:
        if n.op_type == "Constant":
            const[n.output[0]] = nh.to_array(n.attribute[0].t)

    def value(name):
        while name in alias:
            name = alias[name]
        return init[name] if name in init else const[name]

    return [(value(n.input[1]), value(n.input[2])) for n in graph.node if n.op_type == "Conv"]


def fold_state(model, convs, head):
    """Loads one fold's folded convolutions (BatchNorm set to identity, statistics filled in later) and head."""
    conv_mods = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    bn_mods = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(conv_mods) == len(convs) == len(bn_mods), (len(conv_mods), len(convs))
    with torch.no_grad():
        for c, bn, (w, b) in zip(conv_mods, bn_mods, convs):
            assert tuple(c.weight.shape) == w.shape, (c.weight.shape, w.shape)
            c.weight.copy_(torch.from_numpy(w))
            bn.running_mean.zero_(); bn.running_var.fill_(1 - bn.eps); bn.weight.fill_(1.0); bn.bias.copy_(torch.from_numpy(b))
        for name, arr in head.items():
            dict(model.named_parameters())[name].copy_(torch.from_numpy(arr))


def fill_bn_statistics(model, x_u8, male, n=2048, seed=0, bs=128):
    """gamma, beta, running statistics from W'x on n plain training images (half mirrored, as update_bn.py)."""
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    sums = {id(c): [0.0, 0.0, 0] for c in convs}

    def hook(mod, _inp, out):
        s = sums[id(mod)]
        o = out.double()
        s[0] = s[0] + o.sum(dim=(0, 2, 3)); s[1] = s[1] + (o ** 2).sum(dim=(0, 2, 3)); s[2] += o.shape[0] * o.shape[2] * o.shape[3]

    hooks = [c.register_forward_hook(hook) for c in convs]
    model.eval(); model.tta = False
    with torch.no_grad():
        for x, s in plain_batches(x_u8, male, n, seed, bs):
            model.features(x, s)
    for h in hooks:
        h.remove()
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for c, bn in zip(convs, bns):
            s1, s2, cnt = sums[id(c)]
            m = s1 / cnt; v = (s2 / cnt - m ** 2).clamp_min(1e-12)
            bn.running_mean.copy_(m.float()); bn.running_var.copy_(v.float())
            bn.weight.copy_(torch.sqrt(v + bn.eps).float()); bn.bias.add_(m.float())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", default=os.path.join(os.path.dirname(__file__), "..", "..", "boneage-rsna100", "boneage.onnx"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    manifest = json.load(open(os.path.join(os.path.dirname(a.onnx), "manifest.json")))
    tr_cfg = manifest["training"]
    cfg = {"arch": {"BoneAgeVGG": "vgg", "BoneAgeNet": "net"}[tr_cfg["architecture"]], "width": tr_cfg["width"],
           "sexin": 1 if tr_cfg["sexInput"] == "head and body" else 0}
    graph = onnx.load(a.onnx).graph
    convs = conv_weights_in_order(graph)
    heads = {i.name: nh.to_array(i) for i in graph.initializer if i.name.startswith("members.")}
    members = manifest["members"]
    # each member's Conv nodes in graph order: its body once (views batched, 3.7.0) or once per view (up to 3.6.0)
    per_member = len(convs) // members
    n_body = sum(isinstance(m, torch.nn.Conv2d) for m in make_boneage(cfg).modules())
    imgs, ids, age, male = load_rsna100()
    fold = folds_of(age, male, seed=tr_cfg["seed"])
    os.makedirs(a.out, exist_ok=True)
    s_ids, s_age, s_male, s_x = load_samples()
    oof_mu = np.zeros(len(age), np.float32); oof_lv = np.zeros(len(age), np.float32)
    s_mu = np.zeros((5, len(s_ids)), np.float32); s_lv = np.zeros((5, len(s_ids)), np.float32)
    for k in tr_cfg["folds"]:
        model = make_boneage(cfg)
        body = convs[k * per_member: k * per_member + n_body]
        fold_state(model, body, {n[len(f"members.{k}."):]: v for n, v in heads.items() if n.startswith(f"members.{k}.")})
        tr = np.where(fold != k)[0]; te = np.where(fold == k)[0]
        fill_bn_statistics(model, imgs[tr], male[tr], seed=k)
        mu, lv = predict(model, imgs[te], male[te]); oof_mu[te] = mu; oof_lv[te] = lv
        s_mu[k], s_lv[k] = predict(model, s_x, s_male)
        torch.save(model.state_dict(), os.path.join(a.out, f"fold{k}.pt"))
        print(f"fold {k}: held-out MAE {np.abs(mu - age[te]).mean():.2f} months", flush=True)
    np.savez(os.path.join(a.out, "split.npz"), ids=ids, fold=fold)
    np.savez(os.path.join(a.out, "oof.npz"), mu=oof_mu, logvar=oof_lv, fold=fold, age=age, male=male, ids=ids)
    np.savez(os.path.join(a.out, "samples.npz"), mu=s_mu, logvar=s_lv, ids=s_ids, age=s_age, male=s_male,
             in_train=np.isin(s_ids, ids), fold=np.array([fold[ids == i][0] if i in ids else -1 for i in s_ids]))
    cal = manifest["calibration"]
    recorded = {r["id"]: r["ensemble_months"] for r in manifest["accuracy"]["samples_full_size"]["images"]}
    ens = cal["meanIntercept"] + cal["meanSlope"] * s_mu[tr_cfg["folds"]].mean(axis=0)
    worst = max(abs(float(np.clip(e, 1, 228)) - recorded[int(i)]) for i, e in zip(s_ids, ens))
    print(f"samples: largest difference to the manifest's ensemble_months {worst:.3f} months")
    # the recipe so far, for export.py's record of the rounds (the last round is the shipped one)
    rounds = tr_cfg["rounds"]
    last = rounds[-1]
    json.dump({"arch": cfg["arch"], "sexin": cfg["sexin"], "width": cfg["width"], "init": None, "aug": tr_cfg["augmentation"],
               "nll": tr_cfg["nllWeight"], "wd": 1e-4, "bf16": tr_cfg["bf16"], "loss": tr_cfg["loss"], "epochs": last["epochs"],
               "bs": tr_cfg["batch"], "lr": last["lr"], "seed": tr_cfg["seed"], "draw": len(rounds) - 3, "device": tr_cfg["device"],
               "recovered_from": f"{manifest['id']} {manifest['version']} ({os.path.basename(a.onnx)}, sha256 {manifest['sha256'][:12]})",
               "rounds_before": rounds[:-1]}, open(os.path.join(a.out, "config.json"), "w"))


if __name__ == "__main__":
    main()
