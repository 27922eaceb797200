"""Wire encodings of docs/design.md section 1, bit-identical with src/runtime/codec.ts.

uint8 uses one fp32 scale per image's tensor ([k,H,W]), so a batched request gives the
same bytes and numbers as the same images sent one by one.
"""
from __future__ import annotations

import torch

PRECISIONS = ("fp32", "fp16", "uint8")
BYTES = {"fp32": 4, "fp16": 2, "uint8": 1}


def uint8_scale(t: torch.Tensor) -> torch.Tensor:
    """t: [N,...,k,H,W] -> per-image-tensor scale [N,...,1,1,1] (fp32)."""
    m = t.detach().amax(dim=(-3, -2, -1), keepdim=True)
    scale = m / 255.0
    return torch.where(m > 0, scale, torch.ones_like(scale))


def decode_roundtrip(t: torch.Tensor, precision: str) -> torch.Tensor:
    """The value the receiver decodes, computed exactly as the wire does it."""
    if precision == "fp32":
        return t
    if precision == "fp16":
        return t.half().float()  # IEEE round-to-nearest-even
    if precision == "uint8":
        scale = uint8_scale(t)
        q = torch.clamp(torch.round(t / scale), 0, 255)  # torch.round is half-to-even
        return q * scale
    raise ValueError("precision: unknown %r" % precision)


def simulate(t: torch.Tensor, precision: str) -> torch.Tensor:
    """Straight-through quantisation for training: forward = wire value, backward = identity. Under bf16
    autocast the activations arrive in bf16; the wire arithmetic is done in fp32 as on the real wire."""
    if precision == "fp32":
        return t
    t = t.float()
    return t + (decode_roundtrip(t, precision) - t).detach()
