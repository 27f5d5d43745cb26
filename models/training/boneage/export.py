"""Exports the bone-age ensemble and the radiograph-kind classifier to ONNX with their manifests
(models/boneage-rsna100/, models/radiograph-kind/), computing every figure in the manifests from the
out-of-fold predictions of train_boneage.py and the held-out figures of train_kind.py.

  python3 export.py --boneage-run runs --kind-run runs/kind
"""
import argparse, datetime, hashlib, json, os
import numpy as np
import torch
import onnx
from nets import TTA_VIEWS, KindNet, make_boneage
from train_boneage import MU0, SD0

OPSET = 13
HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "..")
Z90 = 1.6448536269514722


class Ensemble(torch.nn.Module):
    """[1,1,100,100] in [0,1] and male [1,1] (1 male, 0 female) -> [1, K, 2]: each fold model's mean bone age
    in months and log variance in months^2."""

    def __init__(self, members):
        super().__init__()
        self.members = torch.nn.ModuleList(members)

    def forward(self, image, male):
        outs = []
        for m in self.members:
            o = m(image, male)
            outs.append(torch.stack([o[:, 0] * SD0 + MU0, o[:, 1] + 2 * float(np.log(SD0))], dim=1))
        return torch.stack(outs, dim=1)


class KindSoft(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, image):
        return self.m(image)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def figures(y, mu, sd, male, scale):
    err = mu - y
    ae = np.abs(err)
    cover = np.abs(err) <= Z90 * scale * sd
    out = {"cases": int(len(y)), "mae_months": round(float(ae.mean()), 2), "median_ae_months": round(float(np.median(ae)), 2),
           "within_12_months": round(float((ae <= 12).mean()), 4), "bias_months": round(float(err.mean()), 2),
           "coverage_90": round(float(cover.mean()), 4), "mean_interval_width_months": round(float(2 * Z90 * scale * sd.mean()), 1)}
    return out


def breakdown(y, mu, sd, male, scale):
    res = {"all": figures(y, mu, sd, male, scale),
           "male": figures(y[male], mu[male], sd[male], male[male], scale),
           "female": figures(y[~male], mu[~male], sd[~male], male[~male], scale), "by_age_band": {}}
    for lo, hi in [(0, 60), (60, 120), (120, 180), (180, 229)]:
        sel = (y >= lo) & (y < hi)
        if sel.any():
            res["by_age_band"][f"{lo}-{hi if hi < 229 else 228} months"] = figures(y[sel], mu[sel], sd[sel], male[sel], scale)
    return res


def export_boneage(run, out_dir, seed=0, version="3.7.0"):
    cfg = json.load(open(os.path.join(run, "config.json")))
    # each further round (--init) records the round it continued from: the recipe is all of them, in order
    rounds = [cfg]
    while rounds[0].get("init") and os.path.exists(os.path.join(rounds[0]["init"], "config.json")):
        rounds.insert(0, json.load(open(os.path.join(rounds[0]["init"], "config.json"))))
    # a run recovered from a shipped graph (from_onnx.py) carries the rounds that made that graph
    recovered = rounds[0].get("recovered_from")
    if recovered:
        rounds = rounds[0]["rounds_before"] + [{**rounds[0], "init": True}] + rounds[1:]
    width = tuple(int(c) for c in cfg["width"].split(","))
    ks = [k for k in range(5) if os.path.exists(os.path.join(run, f"fold{k}.pt"))]
    members = []
    for k in ks:
        m = make_boneage(cfg, tta=True); m.load_state_dict(torch.load(os.path.join(run, f"fold{k}.pt"))); m.eval(); members.append(m)
    ens = Ensemble(members).eval()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "boneage.onnx")
    x = torch.rand(1, 1, 100, 100); male = torch.ones(1, 1)
    torch.onnx.export(ens, (x, male), path, opset_version=OPSET, input_names=["image", "male"], output_names=["boneage"])
    onnx.checker.check_model(onnx.load(path))
    o = np.load(os.path.join(run, "oof.npz"))
    sel = np.isin(o["fold"], ks)
    y, mu, lv, male_a = o["age"][sel], o["mu"][sel], o["logvar"][sel], o["male"][sel]
    sd = np.exp(0.5 * lv)
    # calibrate the interval scale on a random half of the out-of-fold cases, report on the other half
    rng = np.random.default_rng(seed)
    half = rng.random(len(y)) < 0.5
    # a linear recalibration of the mean (fitted, not assumed: it centres whatever bias and regression to the
    # mean the fold models have), fitted on the same calibration half; the sd is multiplied by the slope
    slope, intercept = (float(v) for v in np.polyfit(mu[half], y[half], 1))
    raw_mu = mu
    mu = intercept + slope * mu
    sd = sd * slope
    z = np.abs(mu - y) / sd
    scale = float(np.quantile(z[half], 0.9) / Z90)
    acc_all = breakdown(y[~half], mu[~half], sd[~half], male_a[~half], scale)
    # the plain cross-validated figures: every out-of-fold case, each fold model's own output, no recalibration
    # (interval scale 1: the variance head as trained)
    raw_sd = np.exp(0.5 * lv)
    cv_raw = breakdown(y, raw_mu, raw_sd, male_a, 1.0)
    cover_eval = figures(y[~half], mu[~half], sd[~half], male_a[~half], scale)["coverage_90"]
    # the 11 full-size samples: each by a fold model that did not train on it when there is one
    s = np.load(os.path.join(run, "samples.npz"))
    # the shipped ensemble on each sample, as exported (float32, mirror TTA, the calibration applied the way
    # core/boneage/estimate.ts does): the app's ONNX run must reproduce these (test/boneage/models.test.ts)
    ens_mu = intercept + slope * s["mu"][ks].astype(np.float64)
    samples = []
    for i, sid in enumerate(s["ids"].tolist()):
        f = int(s["fold"][i])
        if s["in_train"][i] and f in ks:
            m_, l_ = intercept + slope * float(s["mu"][f, i]), float(s["logvar"][f, i]); how = f"fold {f} model (held this image out)"
        elif s["in_train"][i]:
            m_, l_ = None, None; how = "in the training folds of every shipped member: not scored"
        else:
            m_ = intercept + slope * float(np.mean(s["mu"][ks, i])); l_ = None; how = "not in rsna100: the ensemble"
        samples.append({"id": sid, "boneage_months": float(s["age"][i]), "male": bool(s["male"][i]), "predicted_months": None if m_ is None else round(m_, 1), "how": how,
                        "ensemble_months": round(float(np.clip(ens_mu[:, i].mean(), 1, 228)), 2)})
    scored = [r for r in samples if r["predicted_months"] is not None]
    s_mae = float(np.mean([abs(r["predicted_months"] - r["boneage_months"]) for r in scored])) if scored else None
    n_total = 11000
    manifest = {
        "id": "boneage-rsna100", "task": "boneage", "version": version,
        "createdAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "license": "weights: trained in this repository; data: RSNA Pediatric Bone Age Challenge training set (research use)",
        "file": "boneage.onnx", "sha256": sha(path),
        "inputs": {"image": {"name": "image", "shape": [1, 1, 100, 100]}, "male": {"name": "male", "shape": [1, 1]}},
        "output": {"name": "boneage", "shape": [1, len(ks), 2]},
        "preparation": "squash-nearest", "members": len(ks), "ageRangeMonths": [1, 228],
        "calibration": {"level": 0.9, "z": Z90, "scale": round(scale, 4), "meanIntercept": round(intercept, 4), "meanSlope": round(slope, 4),
                        "uncalibratedMaeMonths": round(float(np.abs(raw_mu - y)[~half].mean()), 2),
                        "notes": "months = meanIntercept + meanSlope * each member's mean, sd times meanSlope; intercept, slope and scale fitted on a random half of the out-of-fold cases (single fold models), coverage_90_on_evaluation_half and uncalibratedMaeMonths on the other half; the accuracy figures are on that other half too. The shipped interval also adds the ensemble spread, so it is a little wider than the calibrated single-model interval."},
        "modelCard": {
            "data": f"RSNA Pediatric Bone Age Challenge training set: {n_total} hand radiographs of the 12,611 (as resized to 100x100 in icefairy2/boneage-IS), bone age 1-228 months read by radiologists with the Greulich-Pyle atlas, 54% boys; the rest of the set is kept aside to check the project independently",
            "resolution": "the whole radiograph squashed to 100x100 pixels regardless of aspect ratio (nearest neighbour): fine epiphyseal detail is not visible at this size",
            "ageRange": "1 to 228 months (0-19 years); predictions are clamped to it",
            "validation": "cross-validated on the RSNA data only; NOT validated on this clinic's X-ray devices, on right hands, or on populations unlike the RSNA's (two US children's hospitals)",
            "intendedUse": "a second maturity indicator beside the CVM stage; not a diagnosis",
        },
        "training": {"recipe": "models/training/boneage/train.sh", "data": "../shared/data/boneage/rsna100/rsna100_train.npz",
                     "folds": ks, "epochs": sum(r["epochs"] for r in rounds),
                     "rounds": [{"epochs": r["epochs"], "lr": r["lr"], "schedule": "one-cycle, 20 % warm-up", **({"init": "the same fold's model of the round before (never its held-out images)"} if r.get("init") else {})} for r in rounds], "architecture": {"net": "BoneAgeNet", "vgg": "BoneAgeVGG"}[cfg.get("arch", "net")], "sexInput": "head and body" if cfg.get("sexin") else "head", "width": cfg["width"], "device": cfg["device"], "seed": cfg["seed"],
                     "loss": cfg.get("loss"), "augmentation": cfg.get("aug"), "nllWeight": cfg.get("nll"), "bf16": cfg.get("bf16"),
                     "lr": cfg["lr"], "batch": cfg["bs"], "testTimeAugmentation": "mean over nets.TTA_VIEWS inside the graph: " + ", ".join(f"{'mirror' if m else 'image'}{f' shifted ({dx}, {dy}) px' if dx or dy else ''}" for dx, dy, m in TTA_VIEWS),
                     **({"continuedFrom": f"the fold models recovered from {recovered} by from_onnx.py (BatchNorm folded into the convolutions by the export, re-expanded with the statistics of each fold's training images)"} if recovered else {})},
        "accuracy": {"protocol": f"out-of-fold predictions of the {len(ks)} fold model(s) of a 5-fold split stratified by sex and 2-year age band ({int(sel.sum())} cases held out); figures on the random half ({int((~half).sum())} cases) not used to fit the mean recalibration and the interval scale",
                     **acc_all, "coverage_90_on_evaluation_half": cover_eval,
                     "cross_validated_uncalibrated": {"protocol": f"all {int(sel.sum())} out-of-fold cases, each fold model's own prediction, no recalibration, interval = the variance head's sd unscaled", **cv_raw}, "samples_full_size": {"mae_months": None if s_mae is None else round(s_mae, 1), "scored": len(scored), "images": samples}},
    }
    json.dump(manifest, open(os.path.join(out_dir, "manifest.json"), "w"), indent=2)
    print(json.dumps(manifest["accuracy"], indent=1)[:3000])


def export_kind(run, out_dir, version):
    m = KindNet(); m.load_state_dict(torch.load(os.path.join(run, "kind.pt"))); m.eval()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "kind.onnx")
    torch.onnx.export(KindSoft(m), (torch.rand(1, 1, 100, 100),), path, opset_version=OPSET, input_names=["image"], output_names=["logits"])
    onnx.checker.check_model(onnx.load(path))
    held = json.load(open(os.path.join(run, "heldout.json")))
    manifest = {
        "id": "radiograph-kind", "task": "radiograph-kind", "version": version,
        "createdAt": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "license": "weights: trained in this repository; data: ISBI 2015 cephalograms (research use), RSNA bone age hands (research use), synthetic images",
        "file": "kind.onnx", "sha256": sha(path),
        "inputs": {"image": {"name": "image", "shape": [1, 1, 100, 100]}},
        "output": {"name": "logits", "shape": [1, 3]},
        "preparation": "squash-nearest", "classes": ["cephalogram", "hand", "other"], "minProbability": 0.6,
        "modelCard": {
            "data": "cephalogram: ISBI 2015 lateral cephalograms (one device); hand: RSNA bone age hands; other: synthetic (1/f random fields, blank and gradient frames, block-shuffled radiographs)",
            "resolution": "the whole image squashed to 100x100 (the bone-age model's input)",
            "augmentation": "all 8 flips/quarter-turns, rotation +-35 deg (half with black corners and scaled 0.65-1.35 as a film turned on an enlarged canvas), scale, shift, contrast, gamma: mirrored, rotated and tilted images keep their kind; since 1.2.0 also what devices and exports do, on every class alike: inversion, edge enhancement by unsharp masking, a narrowed window (train_kind.py --device-processing)",
            "validation": "held-out images of the same sources only; real 'other' radiographs (chest, skull AP, panoramic, ...) were not in the training data: such images may be called a cephalogram or a hand",
            "decision": "the most probable kind when its probability is at least minProbability, else other (uncertain)",
        },
        "training": {"recipe": "models/training/boneage/train.sh", "steps": held["steps"]},
        "accuracy": {"protocol": "held-out cephalograms (ISBI images numbered above 300), held-out rsna100 hands, synthetic others from unseen seeds; each under the 8 flips/quarter-turns, a random rotation within 15 degrees and tilts of -30, -25, 25 and 30 degrees (cephalograms turned at full resolution, also mirrored and on an enlarged canvas: tilt...whole_film; hands and others turned at 100x100); and as devices export them (edge_enhanced: unsharp masking radius 20 px at 250 %, edge_enhanced_fine: 5 px at 300 %, inverted, narrow_window: 30-75 % of the range stretched; cephalograms processed at full resolution with PIL, hands and others at 100x100)", **held},
    }
    json.dump(manifest, open(os.path.join(out_dir, "manifest.json"), "w"), indent=2)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--boneage-run", default=os.path.join(HERE, "runs"))
    ap.add_argument("--kind-run", default=os.path.join(HERE, "runs", "kind"))
    ap.add_argument("--only", choices=["boneage", "kind"], default=None)
    ap.add_argument("--version", default="3.7.0", help="the bone-age manifest's version")
    ap.add_argument("--kind-version", default="1.2.0", help="the radiograph-kind manifest's version")
    ap.add_argument("--models", default=MODELS, help="folder that receives boneage-rsna100/ and radiograph-kind/")
    a = ap.parse_args()
    if a.only in (None, "kind"):
        export_kind(a.kind_run, os.path.join(a.models, "radiograph-kind"), a.kind_version)
    if a.only in (None, "boneage"):
        export_boneage(a.boneage_run, os.path.join(a.models, "boneage-rsna100"), version=a.version)
