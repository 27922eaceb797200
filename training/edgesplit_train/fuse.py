"""Fuses each partition's consecutive ONNX units between exchange points into one model, so a partition makes
one onnxruntime call per segment instead of one per unit (a call costs about 0.05 ms of CPU in onnxruntime-node,
and its graph optimiser can then work across unit boundaries). The per-unit files stay in the package: the
runtime falls back to them (`--fuse-units false`), and Describe and the tests read them.

    python -m edgesplit_train.fuse models/fmnist-p4-none [more package dirs]

Writes p<i>/fused/<first>-<last>.onnx for every segment of two or more units and records them in the manifest
as onnx.fused = [{"first": unit, "last": unit, "file": "fused/<first>-<last>.onnx"}] (unit 0 = the stem, unit u =
block u-1; files relative to p<i>/)."""
from __future__ import annotations

import json
import os
import sys
from typing import List, Tuple

import onnx
import onnx.compose

from .policy import unit_segments


def unit_name(u: int) -> str:
    return "stem" if u == 0 else "block%d" % (u - 1)


def active_after_blocks(man: dict) -> List[int]:
    if man["partitions"] == 1:
        return []
    return [p["afterBlock"] for p, pp in zip(man["points"], man["policy"]["points"]) if pp["shift"] != 0]


def segments_of(man: dict) -> List[Tuple[int, int]]:
    return unit_segments(len(man["blocks"]), active_after_blocks(man))


def _rename(graph: onnx.GraphProto, old: str, new: str) -> None:
    for node in graph.node:
        node.input[:] = [new if x == old else x for x in node.input]
        node.output[:] = [new if x == old else x for x in node.output]
    for v in list(graph.input) + list(graph.output) + list(graph.value_info):
        if v.name == old:
            v.name = new


def fuse_units(paths: List[str]) -> onnx.ModelProto:
    """Chains single-input, single-output ONNX models (each one's output feeds the next one's input) into one
    model with the first one's input name and the last one's output name."""
    models = [onnx.load(p) for p in paths]
    first_in, last_out = models[0].graph.input[0].name, models[-1].graph.output[0].name
    cur = onnx.compose.add_prefix(models[0], "u0_")
    for i, m in enumerate(models[1:], 1):
        m = onnx.compose.add_prefix(m, "u%d_" % i)
        cur = onnx.compose.merge_models(cur, m, io_map=[(cur.graph.output[0].name, m.graph.input[0].name)])
    _rename(cur.graph, cur.graph.input[0].name, first_in)
    _rename(cur.graph, cur.graph.output[0].name, last_out)
    onnx.checker.check_model(cur)
    return cur


def fuse_package(pkg: str) -> List[dict]:
    """Writes the fused segments of every partition and records them in the manifest; returns the entries."""
    mpath = os.path.join(pkg, "manifest.json")
    man = json.load(open(mpath))
    entries = []
    for first, last in segments_of(man):
        if first == last:
            continue
        rel = "fused/%s-%s.onnx" % (unit_name(first), unit_name(last))
        for i in range(man["partitions"]):
            pdir = os.path.join(pkg, "p%d" % i)
            os.makedirs(os.path.join(pdir, "fused"), exist_ok=True)
            model = fuse_units([os.path.join(pdir, "%s.onnx" % unit_name(u)) for u in range(first, last + 1)])
            onnx.save(model, os.path.join(pdir, rel))
        entries.append({"first": first, "last": last, "file": rel})
    man.setdefault("onnx", {})["fused"] = entries
    with open(mpath, "w") as f:
        json.dump(man, f, indent=2)
    return entries


def main(argv: List[str]) -> int:
    if not argv:
        print("usage: python -m edgesplit_train.fuse PACKAGE_DIR ...", file=sys.stderr)
        return 2
    for pkg in argv:
        if not os.path.isfile(os.path.join(pkg, "manifest.json")):
            print("fuse: %s: no manifest.json (not a package directory)" % pkg, file=sys.stderr)
            return 2
    for pkg in argv:
        entries = fuse_package(pkg)
        print("fused %s: %s" % (pkg, ", ".join("%s..%s" % (unit_name(e["first"]), unit_name(e["last"]))
                                              for e in entries) or "nothing to fuse"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
