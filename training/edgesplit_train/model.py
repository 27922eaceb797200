"""SepResNeXt (docs/design.md section 1) as one network whose channels are laid out partition-major:
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


def stem_stride(height: int, width: int) -> int:
    """The stem's stride s: the smallest power of two with max(H, W) / s <= 32 (28 -> 1, 64 -> 2, 96 -> 4,
    224 -> 8), so the stages always start at <= 32 x 32 whatever the input resolution."""
    s = 1
    while max(height, width) / s > 32:
        s *= 2
    return s


def stem_geometry(stride: int) -> tuple:
    """(kernel, padding) of the stem conv for stride s: 3x3 / padding 1 at s = 1 (as always), else a
    (2s+1) x (2s+1) kernel with padding s, centred on each output pixel, which covers every input pixel and
    gives exactly ceil(H / s) x ceil(W / s) outputs (H / s when s divides H)."""
    return (3, 1) if stride == 1 else (2 * stride + 1, stride)


def _down(n: int, stride: int) -> int:
    """Output size of a conv with this stride and 'same' padding: ceil(n / stride)."""
    return (n + stride - 1) // stride


def _tuple(v, n: int = 0) -> tuple:
    t = tuple(float(x) for x in v) if isinstance(v, (list, tuple)) else (float(v),)
    return t * n if n and len(t) == 1 and n > 1 else t


@dataclass(frozen=True)
class Arch:
    partitions: int
    stem: int = 32
    widths: Sequence[int] = (64, 128, 256)
    blocks_per_stage: int = 3
    cardinality: int = 8
    mean: Sequence[float] = (0.2860,)  # per input channel, of the 0..1 pixel values (a float means C = 1)
    std: Sequence[float] = (0.3530,)
    channels: int = 1  # input: C x H x W
    height: int = 28
    width: int = 28
    classes: int = 10

    def __post_init__(self):
        object.__setattr__(self, "mean", _tuple(self.mean, self.channels))
        object.__setattr__(self, "std", _tuple(self.std, self.channels))
        if len(self.mean) != self.channels or len(self.std) != self.channels:
            raise ValueError("Arch: mean/std need one value per input channel (%d)" % self.channels)

    @property
    def stem_stride(self) -> int:
        return stem_stride(self.height, self.width)

    def stem_hw(self) -> tuple:
        """(H, W) of the stem's output = the first stage's input."""
        s = self.stem_stride
        return _down(self.height, s), _down(self.width, s)

    def block_specs(self):
        """(index, stage, cin, cout, stride, (in_h, in_w)) of every block, totals over all partitions."""
        (h, w), specs, cin, b = self.stem_hw(), [], self.stem, 0
        for stage, wd in enumerate(self.widths):
            for j in range(self.blocks_per_stage):
                stride = 2 if (j == 0 and stage > 0) else 1
                specs.append((b, stage, cin, wd, stride, (h, w)))
                h, w = _down(h, stride), _down(w, stride)
                cin, b = wd, b + 1
        return specs

    def points(self) -> List[PointShape]:
        """A point after every block whose successor keeps the same shape."""
        out, specs = [], self.block_specs()
        for (b, _, _, cout, stride, (h, w)), nxt in zip(specs, specs[1:]):
            if nxt[2] == nxt[3] and nxt[4] == 1:
                out.append(PointShape(b, cout // self.partitions, _down(h, stride), _down(w, stride)))
        return out


class Stem(nn.Module):
    """Normalises the 0..255 image per channel and computes `out` channels of the stem conv (stride
    `stride`, see stem_geometry). With `replicas` R > 1 the input holds one C-channel image per replica
    ([N,R*C,H,W], replica-major) and replica r computes output channels [r*out/R, ...)."""

    def __init__(self, out: int, mean, std, replicas: int = 1, channels: int = 1, stride: int = 1):
        super().__init__()
        mean, std = _tuple(mean, channels), _tuple(std, channels)
        # not in the state dict (checkpoints stay as they were); moved with the module by .to()
        self.register_buffer("mean", torch.tensor(mean * replicas).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std * replicas).view(1, -1, 1, 1), persistent=False)
        k, pad = stem_geometry(stride)
        self.conv = nn.Conv2d(replicas * channels, out, k, stride=stride, padding=pad, groups=replicas, bias=False)
        self.bn = nn.BatchNorm2d(out)

    def forward(self, img):  # img: [N,R*C,H,W] float, 0..255
        x = (img / 255.0 - self.mean) / self.std
        return F.relu(self.bn(self.conv(x)))  # [N,out,ceil(H/s),ceil(W/s)]


class Block(nn.Module):
    """ResNeXt bottleneck; `groups1x1` = P in the full network, 1 in one partition's unit (x R replicas)."""

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


class StackedHead(nn.Module):
    """R independent linear heads (W3 -> K classes) as one grouped 1x1 conv; same init as nn.Linear."""

    def __init__(self, w3: int, replicas: int, classes: int = 10):
        super().__init__()
        self.replicas, self.classes = replicas, classes
        self.fc = nn.Conv1d(replicas * w3, replicas * classes, 1, groups=replicas)

    def forward(self, feats):  # feats: [N,R*W3]
        return self.fc(feats[:, :, None])[:, :, 0].view(len(feats), self.replicas, self.classes)  # [N,R,K]


class SepResNeXt(nn.Module):
    """replicas R > 1 stacks R independent networks of the same architecture into one (channels
    replica-major, every group count x R, BatchNorm per channel), so R models (seeds, policies, fine-tunes)
    train in one pass; each replica gets its own images ([N,R*C,H,W]) and its own policy.
    `extract_replica` turns replica r back into an ordinary R = 1 network."""

    def __init__(self, arch: Arch, replicas: int = 1):
        super().__init__()
        self.arch, self.replicas = arch, replicas
        P, R = arch.partitions, replicas
        self.stem = Stem(R * arch.stem, arch.mean, arch.std, R, arch.channels, arch.stem_stride)
        self.blocks = nn.ModuleList(Block(R * cin, R * cout, stride, R * P, R * arch.cardinality)
                                    for (_, _, cin, cout, stride, _) in arch.block_specs())
        self.point_shapes = arch.points()
        self.point_at = {p.after_block: j for j, p in enumerate(self.point_shapes)}
        self.head = nn.Linear(arch.widths[-1], arch.classes) if R == 1 else \
            StackedHead(arch.widths[-1], R, arch.classes)

    def _policies(self, policy) -> List[Policy]:
        if self.replicas == 1:
            return [policy]
        if len(policy) != self.replicas or not isinstance(policy[0], tuple) or \
                (len(policy[0]) and not isinstance(policy[0][0], PointPolicy)):
            raise ValueError("a stacked network needs one policy per replica")
        return list(policy)

    def features(self, img: torch.Tensor, policy, train_quant: bool = True) -> torch.Tensor:
        """img [N,R*C,H,W] -> pooled features [N,R*W3] (replica-major, then partition-major) under `policy`
        (R = 1: one Policy; R > 1: a list of R policies)."""
        P, R = self.arch.partitions, self.replicas
        pols = self._policies(policy)
        quant = simulate if train_quant else decode_roundtrip
        x = self.stem(img)  # [N,R*S,H/s,W/s]
        pending = None
        for b, block in enumerate(self.blocks):
            x = block(x)  # [N,R*C,H,W]
            if pending:
                x = merge(x, pending, P, R)
                pending = None
            j = self.point_at.get(b)
            if j is not None:
                pending = send(x, [pol[j] for pol in pols], P, R, quant)
        return x.mean(dim=(2, 3))  # [N,R*W3]

    def forward(self, img, policy, drop: Optional[torch.Tensor] = None, train_quant: bool = True):
        feats = self.features(img, policy, train_quant)  # [N,R*W3]
        if drop is not None:
            feats = apply_branch_mask(feats, drop, self.arch.partitions)
        return self.head(feats)  # [N,K] logits (R = 1) or [N,R,K]


def send(x: torch.Tensor, pps: List[PointPolicy], P: int, R: int, quant) -> list:
    """What every partition receives at a point, per distinct active point policy among the replicas:
    (k, received [N,R,P,k,H,W] with received[:, r, p] = sent[:, r, (p - s) mod P], replica mask or None)."""
    n, c, h, w = x.shape
    xv = x.view(n, R, P, c // (R * P), h, w)  # [N,R,P,C/P,H,W]
    out = []
    for pp in dict.fromkeys(pp for pp in pps if pp.active()):
        k = channels_sent(pp.fraction, c // (R * P))
        wire = quant(xv[:, :, :, :k], pp.precision)  # [N,R,P,k,H,W] as decoded by the receiver
        mask = None if all(q == pp for q in pps) else _replica_mask(tuple(q == pp for q in pps), x.device)
        out.append((k, torch.roll(wire, shifts=pp.shift, dims=2), mask))
    return out


_MASKS = {}


def _replica_mask(bits: tuple, device) -> torch.Tensor:
    """Cached on the device: building it every step would be a host-to-device copy per point and step."""
    key = (bits, str(device))
    if key not in _MASKS:
        _MASKS[key] = torch.tensor(bits, device=device)
    return _MASKS[key]


def merge(y: torch.Tensor, pending: list, P: int, R: int = 1) -> torch.Tensor:
    """Delayed merge: y[:k] = (y[:k] + a) / 2 in every partition (of the replicas that exchanged).
    Written as clone + slice assignment so a channels_last tensor keeps its layout."""
    n, c, h, w = y.shape
    yv = y.view(n, R, P, c // (R * P), h, w)  # [N,R,P,C/P,H,W]
    out = yv.clone()
    for k, a, mask in pending:
        avg = (yv[:, :, :, :k] + a) / 2  # [N,R,P,k,H,W]
        if mask is not None:
            avg = torch.where(mask.view(1, R, 1, 1, 1, 1), avg.to(out.dtype), out[:, :, :, :k])
        out[:, :, :, :k] = avg
    return out.view(n, c, h, w)


def apply_branch_mask(feats: torch.Tensor, keep: torch.Tensor, P: int) -> torch.Tensor:
    """keep: [N,P] (or [N,R,P] for stacked replicas) of 0/1; zeroes the pooled features of missing
    partitions and rescales by P/kept, exactly as the router does when a partition is down."""
    n, c = feats.shape
    kv = keep.view(n, -1, P)  # [N,R,P]
    kept = kv.sum(dim=2, keepdim=True).clamp(min=1)  # [N,R,1]
    scale = kv * (P / kept)  # [N,R,P]
    return (feats.view(n, kv.shape[1], P, -1) * scale[..., None]).view(n, c)


def random_keep_mask(n: int, P: int, p, gen: torch.Generator, device, replicas: int = 1) -> Optional[torch.Tensor]:
    """[N,R,P] keep mask drawn on `device` with `gen` (p: one rate or one per replica); None when off."""
    rates = tuple([float(p)] * replicas if isinstance(p, (int, float)) else [float(v) for v in p])
    if P == 1 or max(rates) <= 0:
        return None
    pr = _replica_mask(rates, device).view(1, replicas, 1)  # [1,R,1] drop rates
    keep = (torch.rand(n, replicas, P, generator=gen, device=device) >= pr).float()  # [N,R,P]
    # an image with every partition dropped keeps one at random (the router needs one answer)
    pick = torch.nn.functional.one_hot(torch.randint(0, P, (n, replicas), generator=gen, device=device), P)
    none = keep.sum(dim=2, keepdim=True) == 0  # [N,R,1]
    return torch.where(none, pick.float(), keep)


def extract_replica(model: SepResNeXt, r: int) -> SepResNeXt:
    """Replica r of a stacked network as an ordinary (R = 1) SepResNeXt with the same numbers."""
    R = model.replicas
    single = SepResNeXt(model.arch)
    src = model.state_dict()
    dst = single.state_dict()
    for key, t in dst.items():
        s = src[key if key in src else key.replace("head.", "head.fc.")]
        if t.dim() == 0:
            t.copy_(s)
        elif key.startswith("head."):
            t.copy_(s.view(R, *t.shape)[r] if t.dim() == 1 else s[:, :, 0].view(R, *t.shape)[r])
        else:
            t.copy_(s.view(R, *t.shape)[r])
    single.load_state_dict(dst)
    return single.to(next(model.parameters()).device)


def load_replica(model: SepResNeXt, r: int, state: dict) -> None:
    """Writes an ordinary network's state dict into replica r of a stacked network (fine-tunes from one
    supernet); the inverse of extract_replica."""
    R = model.replicas
    dst = model.state_dict()
    with torch.no_grad():
        for key, t in state.items():
            d = dst[key if key in dst else key.replace("head.", "head.fc.")]
            if d.dim() == 0:
                d.copy_(t)
            elif key.startswith("head."):
                (d.view(R, *t.shape) if t.dim() == 1 else d[:, :, 0].view(R, *t.shape))[r].copy_(t)
            else:
                d.view(R, *t.shape)[r].copy_(t)


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
    a = model.arch
    st = Stem(S // P, a.mean, a.std, 1, a.channels, a.stem_stride)
    st.conv = _slice_conv(model.stem.conv, sl, slice(0, a.channels), 1)
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
    k, _ = stem_geometry(arch.stem_stride)
    sh, sw = arch.stem_hw()
    out = {"stem": 2 * k * k * arch.channels * (arch.stem // P) * sh * sw, "blocks": []}
    for (_, _, cin, cout, stride, (h, w)) in arch.block_specs():
        ci, co, mid = cin // P, cout // P, cout // P
        oh, ow = _down(h, stride), _down(w, stride)
        f = ci * mid * h * w  # conv1
        f += mid * (mid // (arch.cardinality // P)) * 9 * oh * ow  # grouped 3x3
        f += mid * co * oh * ow  # conv3
        if cin != cout or stride != 1:
            f += ci * co * oh * ow
        out["blocks"].append(2 * f)
    out["head"] = 2 * arch.widths[-1] * arch.classes
    return out
