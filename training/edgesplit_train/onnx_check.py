"""Runs a package's ONNX units with onnxruntime, wiring the partitions together in numpy exactly as
the TypeScript runtime does, and compares with PyTorch. Used by the exporter and the tests."""
from __future__ import annotations

import base64
import json
import os

import numpy as np


def _ort():
    try:
        import onnxruntime as ort  # noqa: F401
        return ort
    except ImportError as e:  # pragma: no cover - environment problem, reported clearly
        raise RuntimeError("onnxruntime is not importable: run `bash training/setup-venv.sh` "
                           "and use training/.venv/bin/python") from e


def _round_half_even(v: np.ndarray) -> np.ndarray:
    return np.rint(v)  # numpy rounds half to even


def wire(t: np.ndarray, precision: str) -> np.ndarray:
    """t: [N,k,H,W] float32 -> what the receiver decodes."""
    if precision == "fp32":
        return t
    if precision == "fp16":
        return t.astype(np.float16).astype(np.float32)
    m = t.reshape(len(t), -1).max(axis=1).astype(np.float32)  # [N]
    scale = np.where(m > 0, m / np.float32(255.0), np.float32(1.0)).astype(np.float32)  # [N]
    q = np.clip(_round_half_even(t / scale[:, None, None, None]), 0, 255).astype(np.float32)
    return (q * scale[:, None, None, None]).astype(np.float32)


def run_package(pkg: str, images: np.ndarray, fused: bool = False):
    """images: [N,H,W] or [N,H,W,C] uint8 (served layout) -> (features [N,P,W3/P], logits [N,K]).
    fused: run the manifest's fused segments (onnx.fused) where it has them, as the runtime does."""
    from .fuse import segments_of, unit_name
    ort = _ort()
    man = json.load(open(os.path.join(pkg, "manifest.json")))
    P = man["partitions"]
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = lambda p: ort.InferenceSession(os.path.join(pkg, p), so, providers=["CPUExecutionProvider"])
    img = images.astype(np.float32)
    img = np.ascontiguousarray(img[:, None] if img.ndim == 3 else img.transpose(0, 3, 1, 2))  # [N,C,H,W]
    files = {(e["first"], e["last"]): e["file"] for e in (man.get("onnx") or {}).get("fused", [])} if fused else {}
    steps = []  # (file relative to p<i>/, last unit)
    for first, last in (segments_of(man) if fused else [(u, u) for u in range(len(man["blocks"]) + 1)]):
        if first == last:
            steps.append(("%s.onnx" % unit_name(first), last))
        elif (first, last) in files:
            steps.append((files[(first, last)], last))
        else:
            raise ValueError("%s: manifest onnx.fused has no segment %s..%s" % (pkg, unit_name(first), unit_name(last)))
    point_at = {p["afterBlock"]: j for j, p in enumerate(man["points"])}
    pending = None
    xs = [img] * P
    for f, last in steps:
        xs = [(lambda s: s.run(None, {s.get_inputs()[0].name: xs[i]})[0])(sess("p%d/%s" % (i, f))) for i in range(P)]
        b = last - 1  # the block this step ends with (-1: the stem)
        if pending is not None:
            k, recv = pending
            xs = [np.concatenate([(xs[r][:, :k] + recv[r]) / np.float32(2), xs[r][:, k:]], axis=1) for r in range(P)]
            pending = None
        j = point_at.get(b)
        if j is not None and P > 1 and man["policy"]["points"][j]["shift"] != 0:
            pp = man["policy"]["points"][j]
            c = xs[0].shape[1]
            k = max(1, int(round(pp["fraction"] * c)))
            sent = [wire(np.ascontiguousarray(xs[i][:, :k]), pp["precision"]) for i in range(P)]
            pending = (k, [sent[(r - pp["shift"]) % P] for r in range(P)])
    feats = np.stack([x.mean(axis=(2, 3)) for x in xs], axis=1)  # [N,P,W3/P]
    logits = sess("head.onnx").run(None, {"features": feats.reshape(len(images), -1)})[0]  # [N,K]
    return feats, logits


def check_package(pkg: str, fused: bool = False) -> dict:
    tv = json.load(open(os.path.join(pkg, "testvectors.json")))
    imgs = np.frombuffer(base64.b64decode(tv["imagesBase64"]), dtype=np.uint8).reshape(tv["count"], *tv["imageShape"])
    feats, logits = run_package(pkg, imgs, fused=fused)
    d_feat = float(np.abs(feats - np.array(tv["features"], dtype=np.float32)).max())
    d_logit = float(np.abs(logits - np.array(tv["logits"], dtype=np.float32)).max())
    return {"maxAbsDiffFeatures": d_feat, "maxAbsDiffLogits": d_logit}
