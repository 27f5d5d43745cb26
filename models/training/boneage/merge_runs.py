"""Merges runs of the same round that trained different folds in separate processes (e.g. two single-thread
lanes: `--folds 1,3 --out runs/r3a` and `--folds 2,4 --out runs/r3b`) into one run folder, as if one process had
trained every fold: fold{k}.pt (and fold{k}.raw.pt), oof.npz (each fold's held-out rows from the run that
trained it), samples.npz (each fold's row), split.npz, config.json (the runs must agree on it) and log.txt.

  python3 merge_runs.py --out runs/boneage3 runs/r3-fold0 runs/r3a runs/r3b
"""
import argparse, json, os, shutil
import numpy as np

SAME = ("arch", "sexin", "width", "aug", "nll", "wd", "bf16", "loss", "epochs", "bs", "lr", "seed")


def folds_in(run):
    return [k for k in range(5) if os.path.exists(os.path.join(run, f"fold{k}.pt"))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--init", default=None, help="the config's init (the round before) to record, when the runs name it differently")
    ap.add_argument("runs", nargs="+")
    a = ap.parse_args()
    cfgs = [json.load(open(os.path.join(r, "config.json"))) for r in a.runs]
    for r, c in zip(a.runs[1:], cfgs[1:]):
        diff = [f for f in SAME if c.get(f) != cfgs[0].get(f)]
        if diff:
            raise SystemExit(f"{r} was trained with other settings than {a.runs[0]}: {', '.join(diff)}")
    splits = [np.load(os.path.join(r, "split.npz")) for r in a.runs]
    for r, s in zip(a.runs[1:], splits[1:]):
        if not (np.array_equal(s["ids"], splits[0]["ids"]) and np.array_equal(s["fold"], splits[0]["fold"])):
            raise SystemExit(f"{r} has another split than {a.runs[0]}")
    owner = {}
    for r in a.runs:
        for k in folds_in(r):
            if k in owner:
                raise SystemExit(f"fold {k} is in both {owner[k]} and {r}")
            owner[k] = r
    os.makedirs(a.out, exist_ok=True)
    first = np.load(os.path.join(a.runs[0], "oof.npz"))
    oof = {f: first[f].copy() for f in first.files}
    s0 = np.load(os.path.join(a.runs[0], "samples.npz"))
    smp = {f: s0[f].copy() for f in s0.files}
    log = []
    for k, r in sorted(owner.items()):
        for name in (f"fold{k}.pt", f"fold{k}.raw.pt"):
            if os.path.exists(os.path.join(r, name)):
                shutil.copyfile(os.path.join(r, name), os.path.join(a.out, name))
        o = np.load(os.path.join(r, "oof.npz"))
        te = o["fold"] == k
        oof["mu"][te] = o["mu"][te]; oof["logvar"][te] = o["logvar"][te]
        s = np.load(os.path.join(r, "samples.npz"))
        smp["mu"][k] = s["mu"][k]; smp["logvar"][k] = s["logvar"][k]
        log += [l for l in open(os.path.join(r, "log.txt")) if l.startswith(f"fold {k} ")]
    np.savez(os.path.join(a.out, "oof.npz"), **oof)
    np.savez(os.path.join(a.out, "samples.npz"), **smp)
    shutil.copyfile(os.path.join(a.runs[0], "split.npz"), os.path.join(a.out, "split.npz"))
    cfg = dict(cfgs[0])
    if a.init:
        cfg["init"] = a.init
    json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"))
    open(os.path.join(a.out, "log.txt"), "a").writelines(log)
    print(f"{a.out}: folds {sorted(owner)} from {', '.join(f'{k} <- {r}' for k, r in sorted(owner.items()))}")


if __name__ == "__main__":
    main()
