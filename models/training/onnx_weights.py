"""Load an exported stage (locate.onnx / refine.onnx, as export.py wrote it) back into the torch U-Net.

The export folded each BatchNorm into the convolution before it (weight and bias), so the network is rebuilt
with every BatchNorm as the identity (running mean 0, running variance 1 - eps, scale 1) and its shift holding
the folded bias: the torch model then computes exactly what the ONNX graph computes. Fine-tuning keeps these
BatchNorms in eval mode (`freeze_batchnorm`), so they act as per-channel biases and export folds them again.
The checkpoints of the original training are not in the repository; the shipped ONNX files are the weights.
"""
import math
import re

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

from model import Heatmaps, UNet


def load_onnx_unet(path):
    """-> (model.Heatmaps in eval mode, sigma, base channels) with the ONNX file's weights."""
    m = onnx.load(path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    convs = {}
    scale = None
    for n in m.graph.node:
        if n.op_type == "Conv":
            mod = re.match(r"^/net/(.+)/Conv(_\d+)?_output_0$", n.output[0])
            name = mod.group(1).split("/")[-1] if mod else "head"
            convs[name] = (inits[n.input[1]], inits[n.input[2]])
        if n.op_type == "Mul":
            for i in n.input:
                if i in inits:
                    scale = float(np.asarray(inits[i]).reshape(-1)[0])
    if scale is None:  # the scale 2*pi*sigma^2 is a Constant node feeding the final Mul
        consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in m.graph.node if n.op_type == "Constant"}
        mul = [n for n in m.graph.node if n.op_type == "Mul"][-1]
        scale = float(np.asarray([consts[i] for i in mul.input if i in consts][0]).reshape(-1)[0])
    sigma = math.sqrt(scale / (2 * math.pi))
    w_head = convs["head"][0]
    out_ch, base = w_head.shape[0], w_head.shape[1]
    net = UNet(out_ch, base)
    sd = net.state_dict()
    new = {}
    for key in sd:
        parts = key.split(".")  # e.g. down.0.0.weight, down.0.1.running_mean, head.weight
        if parts[0] == "head":
            new[key] = torch.from_numpy(convs["head"][0 if parts[1] == "weight" else 1].copy())
            continue
        blk, idx, leaf = ".".join(parts[:2]), int(parts[2]), parts[3]
        conv_idx = idx if idx in (0, 3) else idx - 1  # BatchNorm i+1 follows Conv i
        w, b = convs["%s.%d" % (blk, conv_idx)]
        if idx in (0, 3):
            new[key] = torch.from_numpy(w.copy())
        elif leaf == "weight":
            new[key] = torch.ones(w.shape[0])
        elif leaf == "bias":
            new[key] = torch.from_numpy(b.copy())
        elif leaf == "running_mean":
            new[key] = torch.zeros(w.shape[0])
        elif leaf == "running_var":
            bn = dict(net.named_modules())[".".join(parts[:3])]
            new[key] = torch.full((w.shape[0],), 1.0 - bn.eps)
        else:  # num_batches_tracked
            new[key] = sd[key]
    net.load_state_dict(new)
    return Heatmaps(net, sigma, out_ch).eval(), sigma, base


def freeze_batchnorm(net):
    """Keep every BatchNorm in eval mode (fixed statistics) while the rest trains."""
    for mod in net.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.eval()


