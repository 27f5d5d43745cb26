"""The shipped model's networks timed with PyTorch on this machine's GPU, or its CPU where it has none: the
weights read back from models/cvm13-unet's ONNX files (onnx_weights.py), batch 1, fp32, medians after warm-up;
on CUDA also the five networks captured as one CUDA graph, and one stage-2 network on a batch of four crops.
What a GPU would do to the inference (docs/inference.md, "On a GPU"); the app itself runs ONNX Runtime.

  python3 models/training/network_timing.py [--model models/cvm13-unet] [--json out.json]
"""
import argparse
import json
import os
import statistics
import time

import torch

from onnx_weights import load_onnx_unet

HERE = os.path.dirname(os.path.abspath(__file__))
NETWORKS = ["locate.onnx", "refine.onnx", "refine-m1.onnx", "refine-m2.onnx", "refine-m3.onnx"]


def median_ms(fn, runs, sync):
    for _ in range(10):
        fn()
    sync()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(HERE, "..", "cvm13-unet"))
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    args = ap.parse_args()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    cuda = dev.type == "cuda"
    torch.set_num_threads(2)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    manifest = json.load(open(os.path.join(args.model, "manifest.json")))
    shape = {"locate.onnx": manifest["stages"]["locate"]["input"]["shape"]}
    refine_shape = manifest["stages"]["refine"]["input"]["shape"]
    nets = {f: load_onnx_unet(os.path.join(args.model, f))[0].to(dev).eval() for f in NETWORKS}
    runs = 200 if cuda else 20
    out = {"device": torch.cuda.get_device_name(0) if cuda else "cpu", "torch": torch.__version__}
    with torch.no_grad():
        xs = {f: torch.randn(*shape.get(f, refine_shape), device=dev) for f in nets}
        for f, net in nets.items():
            out[f] = median_ms(lambda: net(xs[f]), runs, sync)
        out["all five, one after the other"] = median_ms(lambda: [nets[f](xs[f]) for f in nets], runs, sync)
        if cuda:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):  # CUDA graphs are captured after warm-up on a side stream
                for _ in range(3):
                    [nets[f](xs[f]) for f in nets]
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                [nets[f](xs[f]) for f in nets]
            out["all five, one CUDA graph"] = median_ms(graph.replay, runs, sync)
            batch = torch.randn(4, *refine_shape[1:], device=dev)
            out["one stage-2 network, a batch of four crops"] = median_ms(lambda: nets["refine.onnx"](batch), runs, sync)
    for k, v in out.items():
        print("%-45s %s" % (k, "%.2f ms" % v if isinstance(v, float) else v))
    if args.json:
        json.dump(out, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
