"""Small U-Net for heatmap regression (one Gaussian heatmap per landmark, stride 1)."""
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
