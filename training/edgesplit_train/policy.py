"""Transmission policies: ids, byte counts, random sampling (pure, no torch)."""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import List, Sequence, Tuple

from .codec import BYTES, PRECISIONS

FRACTIONS = (0.25, 0.5, 0.75, 1.0)
_FCODE = {0.25: "a", 0.5: "b", 0.75: "c", 1.0: "d"}
_QCODE = {"fp32": "f", "fp16": "h", "uint8": "u"}


@dataclass(frozen=True)
class PointPolicy:
    shift: int
    fraction: float = 1.0
    precision: str = "fp32"

    def active(self) -> bool:
        return self.shift != 0


@dataclass(frozen=True)
class PointShape:
    after_block: int
    channels: int  # per partition
    height: int
    width: int


Policy = Tuple[PointPolicy, ...]


def channels_sent(fraction: float, channels: int) -> int:
    # Python's round is half-to-even, as the TypeScript side implements it.
    return max(1, int(round(fraction * channels)))


def policy_id(policy: Policy) -> str:
    """Compact id: one token per point, 'x' = no exchange, else shift + fraction code + precision code
    (fraction a/b/c/d = 0.25/0.5/0.75/1, precision f/h/u = fp32/fp16/uint8), e.g. x-x-1au-x-2bh-1au."""
    return "-".join("x" if not p.active() else "%d%s%s" % (p.shift, _FCODE[p.fraction], _QCODE[p.precision])
                    for p in policy)


def parse_policy_id(pid: str, n_points: int, partitions: int) -> Policy:
    inv_f = {v: k for k, v in _FCODE.items()}
    inv_q = {v: k for k, v in _QCODE.items()}
    toks = pid.split("-")
    if len(toks) != n_points:
        raise ValueError("policy id %r: expected %d points" % (pid, n_points))
    out = []
    for t in toks:
        if t == "x":
            out.append(PointPolicy(0))
            continue
        s, f, q = int(t[:-2]), t[-2], t[-1]
        if not 0 < s < partitions or f not in inv_f or q not in inv_q:
            raise ValueError("policy id %r: bad token %r" % (pid, t))
        out.append(PointPolicy(s, inv_f[f], inv_q[q]))
    return tuple(out)


def baseline(n_points: int) -> Policy:
    return tuple(PointPolicy(1, 1.0, "fp32") for _ in range(n_points))


def no_exchange(n_points: int) -> Policy:
    return tuple(PointPolicy(0) for _ in range(n_points))


def exchanged_bytes(policy: Policy, points: Sequence[PointShape], partitions: int) -> int:
    """Bytes per inference (per image), docs/design.md section 1."""
    total = 0
    for pp, shape in zip(policy, points):
        if not pp.active():
            continue
        k = channels_sent(pp.fraction, shape.channels)
        total += partitions * k * shape.height * shape.width * BYTES[pp.precision]
        if pp.precision == "uint8":
            total += 4 * partitions
    return total


def random_policy(rng: random.Random, n_points: int, partitions: int, p_off: float = 0.0,
                  precisions: Sequence[str] = None) -> Policy:
    """Each point off with probability p_off, else shift 0..P-1 (0 = off), fraction and precision at
    random (precision from `precisions`, default all three)."""
    precisions = tuple(precisions or PRECISIONS)
    if partitions == 1:
        return no_exchange(n_points)
    out = []
    for _ in range(n_points):
        if rng.random() < p_off:
            out.append(PointPolicy(0))
            continue
        s = rng.randrange(0, partitions)
        out.append(PointPolicy(s) if s == 0 else
                   PointPolicy(s, rng.choice(FRACTIONS), rng.choice(precisions)))
    return tuple(out)


def to_json(policy: Policy) -> List[dict]:
    # shift 0 means no exchange; its fraction and precision are kept at neutral valid values.
    return [{"shift": p.shift, "fraction": p.fraction, "precision": p.precision} for p in policy]


def unit_segments(n_blocks: int, active_after_blocks: Sequence[int]) -> List[Tuple[int, int]]:
    """The runs of consecutive units a partition can execute as one ONNX session: unit 0 is the stem, unit u the
    block u-1. A run ends where the partition must see an output: after block b of an active point (it sends
    part of it) and after block b+1 (it merges what it received into that output), and at the last unit.
    src/runtime/policy.ts unitSegments is the same in TypeScript."""
    cut = set()
    for b in active_after_blocks:
        cut.update((b + 1, b + 2))
    n = n_blocks + 1
    segs, start = [], 0
    for u in range(n):
        if u in cut or u == n - 1:
            segs.append((start, u))
            start = u + 1
    return segs
