"""Small U-Net for heatmap regression (one Gaussian heatmap per landmark, stride 1)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def _block(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """Input [N,1,H,W] (H, W divisible by 2**depth), output [N,out_ch,H,W] heatmaps."""

    def __init__(self, out_ch=13, base=16, depth=4, in_ch=1, max_mult=8):
        super().__init__()
        chs = [base * min(2 ** i, max_mult) for i in range(depth + 1)]
        self.chs = chs
        self.down = nn.ModuleList([_block(in_ch, chs[0])] + [_block(chs[i - 1], chs[i]) for i in range(1, depth + 1)])
        self.up = nn.ModuleList([_block(chs[i + 1] + chs[i], chs[i]) for i in reversed(range(depth))])
        self.head = nn.Conv2d(chs[0], out_ch, 1)

    def forward(self, x):
        skips = []
        for i, blk in enumerate(self.down):
            if i > 0:
                x = F.max_pool2d(x, 2)
            x = blk(x)
            skips.append(x)
        skips.pop()
        for blk in self.up:
            s = skips.pop()
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
            x = blk(torch.cat([x, s], 1))
        return self.head(x)


def n_params(m):
    return sum(p.numel() for p in m.parameters())


class Heatmaps(nn.Module):
    """Inference form of a trained UNet (what is exported and evaluated): the first `channels` outputs,
    each turned into a spatial softmax over its H*W pixels and multiplied by 2*pi*sigma^2, so that a sharp
    peak matching the Gaussian training target (sigma input px) has a value of ~1 (the README's confidence)."""

    def __init__(self, net, sigma, channels=13):
        super().__init__()
        self.net = net
        self.channels = channels
        self.scale = float(2 * math.pi * sigma * sigma)

    def forward(self, x):
        y = self.net(x)
        if y.shape[1] != self.channels:
            y = y[:, :self.channels]
        n, c, h, w = y.shape
        return torch.softmax(y.reshape(n, c, h * w), -1).reshape(n, c, h, w) * self.scale
