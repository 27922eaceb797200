"""Model packages (docs/design.md section 2): per-partition ONNX units, head, manifest, test vectors."""
from __future__ import annotations

import base64
import inspect
import json
import os
import shutil
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn

from .codec import BYTES
from .fuse import fuse_package
from .data import CLASSES, to_nchw
from .model import Arch, SepResNeXt, flops_per_partition, partition_block, partition_stem
from .policy import Policy, baseline, exchanged_bytes, to_json

OPSET = 13


class Head(nn.Module):
    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.fc = linear

    def forward(self, features):  # features: [N,W3]
        logits = self.fc(features)  # [N,K]
        return logits, torch.softmax(logits, dim=1)


def _export(module: nn.Module, example: torch.Tensor, path: str, in_name: str, out_names: List[str]) -> None:
    kwargs = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter gives plain, stable graphs
    axes = {in_name: {0: "N"}}
    axes.update({o: {0: "N"} for o in out_names})
    torch.onnx.export(module.eval(), (example,), path, input_names=[in_name], output_names=out_names,
                      dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True, **kwargs)


def _param_bytes(m: nn.Module) -> int:
    # parameters and persistent buffers (the stem's normalisation constants are not counted, as before)
    return int(sum(t.numel() * t.element_size() for t in m.state_dict().values() if t.dtype.is_floating_point))


def arch_json(arch: Arch) -> dict:
    return {"stem": arch.stem, "widths": list(arch.widths), "blocksPerStage": arch.blocks_per_stage,
            "cardinality": arch.cardinality, "stemStride": arch.stem_stride}


def input_json(arch: Arch) -> dict:
    """The manifest's `input`: the served image is uint8 [N,H,W] when C == 1 and [N,H,W,C] (channels last) when
    C > 1 (`layout`); the stem unit's ONNX input `image` is float32 [N,C,H,W] of the 0..255 values."""
    C, H, W = arch.channels, arch.height, arch.width
    return {"shape": [C, H, W], "channels": C, "height": H, "width": W, "layout": "NHWC", "dtype": "uint8",
            "mean": [float(v) for v in arch.mean], "std": [float(v) for v in arch.std],
            "unitInput": "float32 [N,%d,%d,%d] holding the 0..255 pixel values; the stem normalises" % (C, H, W)}


def image_shape(arch: Arch) -> List[int]:
    """Test vectors' and the sample's imageShape: [H, W] when C == 1, [H, W, C] (HWC byte order) when C > 1."""
    return [arch.height, arch.width] if arch.channels == 1 else [arch.height, arch.width, arch.channels]


def export_package(model: SepResNeXt, policy: Policy, policy_id: str, out: str, name: str, metrics: dict,
                   training: dict, sample_x: np.ndarray, sample_y: np.ndarray, n_vectors: int,
                   classes: Optional[List[str]] = None, dataset: str = "fashion-mnist") -> dict:
    """Writes one package directory and returns its manifest. sample_x: served layout ([N,H,W] or [N,H,W,C])."""
    model = model.cpu().eval()
    arch = model.arch
    P = arch.partitions
    classes = list(classes if classes is not None else CLASSES)
    if len(classes) != arch.classes:
        raise ValueError("export_package: %d class names for a %d-class head" % (len(classes), arch.classes))
    C, H, W = arch.channels, arch.height, arch.width
    sh, sw = arch.stem_hw()
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    fl = flops_per_partition(arch)
    blocks_meta = []
    for i in range(P):
        os.makedirs(os.path.join(out, "p%d" % i))
        stem = partition_stem(model, i)
        _export(stem, torch.zeros(2, C, H, W), os.path.join(out, "p%d" % i, "stem.onnx"), "image", ["y"])
        for (b, stage, cin, cout, stride, (h, w)) in arch.block_specs():
            blk = partition_block(model, b, i)
            ex = torch.zeros(2, cin // P, h, w)
            _export(blk, ex, os.path.join(out, "p%d" % i, "block%d.onnx" % b), "x", ["y"])
            if i == 0:
                oh, ow = (h + stride - 1) // stride, (w + stride - 1) // stride
                blocks_meta.append({"index": b, "stage": stage, "inShape": [cin // P, h, w],
                                    "outShape": [cout // P, oh, ow],
                                    "flops": fl["blocks"][b], "paramBytes": _param_bytes(blk)})
    head = Head(model.head)
    _export(head, torch.zeros(2, arch.widths[-1]), os.path.join(out, "head.onnx"), "features",
            ["logits", "probabilities"])
    points = arch.points()
    base_bytes = exchanged_bytes(baseline(len(points)), points, P) if P > 1 else 0
    ex_bytes = exchanged_bytes(policy, points, P)
    manifest = {
        "name": name,
        "dataset": dataset,
        "classes": classes,
        "input": input_json(arch),
        "partitions": P,
        "architecture": arch_json(arch),
        "stem": {"outShape": [arch.stem // P, sh, sw], "flops": fl["stem"],
                 "paramBytes": _param_bytes(partition_stem(model, 0))},
        "blocks": blocks_meta,
        "head": {"inFeatures": arch.widths[-1], "classes": arch.classes, "flops": fl["head"],
                 "paramBytes": _param_bytes(head)},
        "points": [{"afterBlock": p.after_block, "channels": p.channels, "height": p.height, "width": p.width}
                   for p in points],
        "policy": {"id": policy_id, "points": to_json(policy)},
        "metrics": dict(metrics, exchangedBytes=ex_bytes, baselineBytes=base_bytes,
                        reductionVsBaseline=(1 - ex_bytes / base_bytes) if base_bytes else 0.0),
        "training": training,
        "onnx": {"opset": OPSET, "stem": {"input": "image", "output": "y"}, "block": {"input": "x", "output": "y"},
                 "head": {"input": "features", "outputs": ["logits", "probabilities"]}},
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    write_test_vectors(model, policy, policy_id, out, sample_x[:n_vectors], sample_y[:n_vectors])
    # each partition's runs of units between exchange points as one ONNX model (fuse.py; recorded in the manifest)
    manifest["onnx"]["fused"] = fuse_package(out)
    return manifest


@torch.no_grad()
def write_test_vectors(model: SepResNeXt, policy: Policy, pid: str, out: str, x: np.ndarray, y: np.ndarray) -> None:
    """x: [n,H,W] or [n,H,W,C] uint8 (served layout; imagesBase64 holds exactly those bytes)."""
    want = tuple(image_shape(model.arch))
    if tuple(x.shape[1:]) != want:
        raise ValueError("write_test_vectors: images of shape %s for a model of input %s" % (x.shape[1:], want))
    img = torch.from_numpy(np.ascontiguousarray(to_nchw(np.asarray(x)), dtype=np.float32))  # [n,C,H,W]
    feats = model.features(img, policy, train_quant=False)  # [n,W3]
    logits = model.head(feats)  # [n,K]
    P = model.arch.partitions
    per = feats.view(len(x), P, -1)  # [n,P,W3/P]
    tv = {"policyId": pid, "count": int(len(x)), "imageShape": list(want),
          "imagesBase64": base64.b64encode(np.ascontiguousarray(x, dtype=np.uint8).tobytes()).decode(),
          "labels": [int(v) for v in y],
          "features": [[[float(v) for v in per[n, i]] for i in range(P)] for n in range(len(x))],
          "logits": [[float(v) for v in row] for row in logits]}
    with open(os.path.join(out, "testvectors.json"), "w") as f:
        json.dump(tv, f)


def write_sample(models_dir: str, x: np.ndarray, y: np.ndarray, classes: Optional[List[str]] = None,
                 source: Optional[str] = None) -> None:
    """x: [n,H,W] or [n,H,W,C] uint8 (served layout, written as is: HWC byte order); y: [n] labels."""
    d = os.path.join(models_dir, "data")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "images.bin"), "wb") as f:
        f.write(np.ascontiguousarray(x, dtype=np.uint8).tobytes())
    with open(os.path.join(d, "labels.bin"), "wb") as f:
        f.write(np.ascontiguousarray(y, dtype=np.uint8).tobytes())
    with open(os.path.join(d, "sample.json"), "w") as f:
        json.dump({"count": int(len(x)), "imageShape": [int(v) for v in x.shape[1:]], "images": "images.bin",
                   "labels": "labels.bin", "dtype": "uint8", "classes": list(classes if classes is not None else CLASSES),
                   "source": source or "the first %d images of the Fashion-MNIST test set (t10k), in order" % len(x)},
                  f, indent=2)


def catalog_entry(manifest: dict, path: str) -> dict:
    m = manifest["metrics"]
    flops = manifest["stem"]["flops"] + sum(b["flops"] for b in manifest["blocks"])
    return {"name": manifest["name"], "path": path, "partitions": manifest["partitions"],
            "policyId": manifest["policy"]["id"], "testAccuracy": m["testAccuracy"],
            "valAccuracy": m["valAccuracy"], "exchangedBytes": m["exchangedBytes"],
            "reductionVsBaseline": m["reductionVsBaseline"], "flopsPerPartition": flops,
            "headFlops": manifest["head"]["flops"], "sampleAccuracy": m.get("sampleAccuracy")}
