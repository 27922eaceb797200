"""SepResNeXt (DESIGN.md section 1) as one network whose channels are laid out partition-major:
partition i owns channels [i*C/P, (i+1)*C/P) of every tensor, and every 1x1 conv is grouped by P,
so the P partitions are independent branches except at the transmission points."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .codec import simulate, decode_roundtrip
from .policy import PointPolicy, PointShape, Policy, channels_sent


@dataclass(frozen=True)
class Arch:
    partitions: int
    stem: int = 32
    widths: Sequence[int] = (64, 128, 256)
    blocks_per_stage: int = 3
    cardinality: int = 8
    mean: float = 0.2860
    std: float = 0.3530

    def block_specs(self):
        """(index, stage, cin, cout, stride, in_hw) of every block, totals over all partitions."""
        specs, cin, hw, b = [], self.stem, 28, 0
        for stage, w in enumerate(self.widths):
            for j in range(self.blocks_per_stage):
                stride = 2 if (j == 0 and stage > 0) else 1
                specs.append((b, stage, cin, w, stride, hw))
                hw = hw // stride
                cin, b = w, b + 1
        return specs

    def points(self) -> List[PointShape]:
        """A point after every block whose successor keeps the same shape."""
        out, specs = [], self.block_specs()
        for (b, _, _, cout, stride, hw), nxt in zip(specs, specs[1:]):
            ohw = hw // stride
            if nxt[2] == nxt[3] and nxt[4] == 1:
                out.append(PointShape(b, cout // self.partitions, ohw, ohw))
        return out


class Stem(nn.Module):
    """Normalises the 0..255 image and computes `out` channels of the 3x3 stem."""

    def __init__(self, out: int, mean: float, std: float):
        super().__init__()
        self.mean, self.std = mean, std
        self.conv = nn.Conv2d(1, out, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out)

    def forward(self, img):  # img: [N,1,28,28] float, 0..255
        x = (img / 255.0 - self.mean) / self.std
        return F.relu(self.bn(self.conv(x)))  # [N,out,28,28]


class Block(nn.Module):
    """ResNeXt bottleneck; `groups1x1` = P in the full network, 1 in one partition's unit."""

    def __init__(self, cin, cout, stride, groups1x1, cardinality):
        super().__init__()
        mid = cout
        self.conv1 = nn.Conv2d(cin, mid, 1, groups=groups1x1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride=stride, padding=1, groups=cardinality, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, groups=groups1x1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.proj = None
        if cin != cout or stride != 1:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, groups=groups1x1, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):  # x: [N,cin,H,W]
        y = F.relu(self.bn1(self.conv1(x)))  # [N,mid,H,W]
        y = F.relu(self.bn2(self.conv2(y)))  # [N,mid,H/s,W/s]
        y = self.bn3(self.conv3(y))  # [N,cout,H/s,W/s]
        return F.relu(y + (x if self.proj is None else self.proj(x)))


class SepResNeXt(nn.Module):
    def __init__(self, arch: Arch):
        super().__init__()
        self.arch = arch
        P = arch.partitions
        self.stem = Stem(arch.stem, arch.mean, arch.std)
        self.blocks = nn.ModuleList(Block(cin, cout, stride, P, arch.cardinality)
                                    for (_, _, cin, cout, stride, _) in arch.block_specs())
        self.point_shapes = arch.points()
        self.point_at = {p.after_block: j for j, p in enumerate(self.point_shapes)}
        self.head = nn.Linear(arch.widths[-1], 10)

    def features(self, img: torch.Tensor, policy: Policy, train_quant: bool = True) -> torch.Tensor:
        """img [N,1,28,28] -> pooled features [N,W3] (partition-major) under `policy`."""
        P = self.arch.partitions
        quant = simulate if train_quant else decode_roundtrip
        x = self.stem(img)  # [N,S,28,28]
        pending = None
        for b, block in enumerate(self.blocks):
            x = block(x)  # [N,C,H,W]
            if pending is not None:
                x = merge(x, pending, P)
                pending = None
            j = self.point_at.get(b)
            if j is not None and policy[j].active():
                pending = send(x, policy[j], P, quant)
        return x.mean(dim=(2, 3))  # [N,W3]

    def forward(self, img, policy: Policy, drop: Optional[torch.Tensor] = None, train_quant: bool = True):
        feats = self.features(img, policy, train_quant)  # [N,W3]
        if drop is not None:
            feats = apply_branch_mask(feats, drop, self.arch.partitions)
        return self.head(feats)  # [N,10] logits


def send(x: torch.Tensor, pp: PointPolicy, P: int, quant) -> tuple:
    """What every partition receives at a point: the first k channels of partition (r - s) mod P."""
    n, c, h, w = x.shape
    k = channels_sent(pp.fraction, c // P)
    parts = x.view(n, P, c // P, h, w)[:, :, :k]  # [N,P,k,H,W]
    wire = quant(parts, pp.precision)  # [N,P,k,H,W] as decoded by the receiver
    return k, torch.roll(wire, shifts=pp.shift, dims=1)  # received[r] = sent[(r - s) mod P]


def merge(y: torch.Tensor, pending: tuple, P: int) -> torch.Tensor:
    """Delayed merge: y[:k] = (y[:k] + a) / 2 in every partition."""
    k, a = pending
    n, c, h, w = y.shape
    parts = y.view(n, P, c // P, h, w)  # [N,P,C/P,H,W]
    merged = torch.cat([(parts[:, :, :k] + a) / 2, parts[:, :, k:]], dim=2)  # [N,P,C/P,H,W]
    return merged.view(n, c, h, w)


def apply_branch_mask(feats: torch.Tensor, keep: torch.Tensor, P: int) -> torch.Tensor:
    """keep: [N,P] of 0/1; zeroes the pooled features of missing partitions and rescales by P/kept,
    exactly as the router does when a partition is down."""
    n, c = feats.shape
    kept = keep.sum(dim=1, keepdim=True).clamp(min=1)  # [N,1]
    scale = keep * (P / kept)  # [N,P]
    return (feats.view(n, P, c // P) * scale[:, :, None]).view(n, c)


def random_keep_mask(n: int, P: int, p: float, gen: torch.Generator, device) -> Optional[torch.Tensor]:
    if P == 1 or p <= 0:
        return None
    keep = (torch.rand(n, P, generator=gen) >= p).float()  # [N,P]
    none = keep.sum(dim=1) == 0
    keep[none, torch.randint(0, P, (int(none.sum()),), generator=gen)] = 1.0
    return keep.to(device)


# ---- per-partition units for export ----------------------------------------------------------

def _slice_conv(conv: nn.Conv2d, out_sl: slice, in_sl: Optional[slice], groups: int) -> nn.Conv2d:
    w = conv.weight.data[out_sl]
    cin = w.shape[1] * groups if in_sl is None else (in_sl.stop - in_sl.start)
    new = nn.Conv2d(cin, w.shape[0], conv.kernel_size, stride=conv.stride, padding=conv.padding,
                    groups=groups, bias=False)
    new.weight.data.copy_(w)
    return new


def _slice_bn(bn: nn.BatchNorm2d, sl: slice) -> nn.BatchNorm2d:
    new = nn.BatchNorm2d(sl.stop - sl.start, eps=bn.eps)
    for name in ("weight", "bias"):
        getattr(new, name).data.copy_(getattr(bn, name).data[sl])
    new.running_mean.copy_(bn.running_mean[sl])
    new.running_var.copy_(bn.running_var[sl])
    return new.eval()


def partition_stem(model: SepResNeXt, i: int) -> Stem:
    P, S = model.arch.partitions, model.arch.stem
    sl = slice(i * S // P, (i + 1) * S // P)
    st = Stem(S // P, model.arch.mean, model.arch.std)
    st.conv = _slice_conv(model.stem.conv, sl, slice(0, 1), 1)
    st.bn = _slice_bn(model.stem.bn, sl)
    return st.eval()


def partition_block(model: SepResNeXt, b: int, i: int) -> Block:
    P, card = model.arch.partitions, model.arch.cardinality
    full: Block = model.blocks[b]
    cin, cout = full.conv1.in_channels, full.conv3.out_channels
    mid = full.conv1.out_channels
    blk = Block(cin // P, cout // P, full.conv2.stride[0], 1, card // P)
    osl = slice(i * cout // P, (i + 1) * cout // P)
    msl = slice(i * mid // P, (i + 1) * mid // P)
    isl = slice(0, cin // P)
    blk.conv1 = _slice_conv(full.conv1, msl, isl, 1)
    blk.bn1 = _slice_bn(full.bn1, msl)
    blk.conv2 = _slice_conv(full.conv2, msl, None, card // P)
    blk.bn2 = _slice_bn(full.bn2, msl)
    blk.conv3 = _slice_conv(full.conv3, osl, slice(0, mid // P), 1)
    blk.bn3 = _slice_bn(full.bn3, osl)
    if full.proj is not None:
        blk.proj = nn.Sequential(_slice_conv(full.proj[0], osl, isl, 1), _slice_bn(full.proj[1], osl))
    return blk.eval()


def flops_per_partition(arch: Arch) -> dict:
    """Multiply-accumulates x 2 of each unit of one partition (BN, ReLU and adds not counted)."""
    P = arch.partitions
    out = {"stem": 2 * 9 * (arch.stem // P) * 28 * 28, "blocks": []}
    for (_, _, cin, cout, stride, hw) in arch.block_specs():
        ci, co, mid = cin // P, cout // P, cout // P
        ohw = hw // stride
        f = ci * mid * hw * hw  # conv1
        f += mid * (mid // (arch.cardinality // P)) * 9 * ohw * ohw  # grouped 3x3
        f += mid * co * ohw * ohw  # conv3
        if cin != cout or stride != 1:
            f += ci * co * ohw * ohw
        out["blocks"].append(2 * f)
    out["head"] = 2 * arch.widths[-1] * 10
    return out
