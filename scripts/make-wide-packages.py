"""Builds the 4x-width SepResNeXt (stem 128, widths 256/512/1024) with RANDOM weights and exports model packages
for the latency-only part of the benchmark: P=1, P=4 baseline, P=4 no-exchange and P=4 with one sparse policy
(the searched policy of the shipped most accurate P=4 package, unless --policy says otherwise).

Random weights, latency only: the packages' accuracy is meaningless and they are never committed (tens of MB);
they go to a cache directory (default ~/.cache/edgesplit/wide-packages) that `edgesplit bench` reuses.

With `--input CxHxW` (e.g. 3x96x96) it builds instead the larger-input regime: the normal-width network
(stem 32, widths 64/128/256) at that input, again with random weights (packages `large96-p1`,
`large96-p4-baseline`, `large96-p4-none`, `large96-p4-<policy>`; `large<H>x<W>-...` when H != W), into its own
cache directory (default ~/.cache/edgesplit/large96-packages), with test vectors and a sample (data/) made from
random images of that shape (uint8, [H,W] when C = 1, [H,W,C] channels last otherwise). The stem's stride follows
the rule of training/README.md (96 -> 4, so the stages run at 24/12/6).

usage: training/.venv/bin/python scripts/make-wide-packages.py [--out DIR] [--policy ID] [--force] [--input CxHxW]
"""
import argparse
import json
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "training"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from edgesplit_train.data import CLASSES  # noqa: E402
from edgesplit_train.export import export_package, write_sample  # noqa: E402
from edgesplit_train.model import Arch, SepResNeXt  # noqa: E402
from edgesplit_train.policy import baseline, no_exchange, parse_policy_id  # noqa: E402

STEM, WIDTHS = 128, (256, 512, 1024)
LARGE_STEM, LARGE_WIDTHS = 32, (64, 128, 256)
SEED = 20261127


DEFAULT_OUT = os.path.join(os.path.expanduser("~"), ".cache", "edgesplit", "wide-packages")


def searched_policy() -> str:
    cat = json.load(open(os.path.join(REPO, "models", "catalog.json")))
    p4 = [p for p in cat["packages"] if p["partitions"] == 4 and p["policyId"] not in ("baseline", "none")]
    if not p4:
        raise SystemExit("make-wide-packages: models/catalog.json has no searched P=4 package")
    return max(p4, key=lambda p: p["testAccuracy"])["policyId"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--policy", default="")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--input", default="", help="CxHxW, e.g. 3x96x96: the larger-input regime (default: 4x width)")
    a = ap.parse_args()
    if a.input:
        return large(a)
    pid = a.policy or searched_policy()
    os.makedirs(a.out, exist_ok=True)
    data = os.path.join(REPO, "models", "data")
    sx = np.frombuffer(open(os.path.join(data, "images.bin"), "rb").read(), dtype=np.uint8).reshape(-1, 28, 28)[:8]
    sy = np.frombuffer(open(os.path.join(data, "labels.bin"), "rb").read(), dtype=np.uint8)[:8]
    todo = [(1, "none"), (4, "baseline"), (4, "none"), (4, pid)]
    made = []
    for P, policy in todo:
        name = "wide4x-p%d-%s" % (P, policy) if P > 1 else "wide4x-p1"
        out = os.path.join(a.out, name)
        if os.path.isfile(os.path.join(out, "manifest.json")) and not a.force:
            made.append(name)
            continue
        torch.manual_seed(20261127)
        arch = Arch(partitions=P, stem=STEM, widths=WIDTHS)
        model = SepResNeXt(arch).eval()
        n = len(arch.points())
        pol = no_exchange(n) if policy == "none" else baseline(n) if policy == "baseline" else parse_policy_id(policy, n, P)
        t0 = time.time()
        export_package(model, pol, policy, out, name, {"valAccuracy": 0.0, "testAccuracy": 0.0},
                       {"epochs": 0, "seed": 20261127, "note": "random weights, latency only"}, sx, sy, 4)
        print("make-wide-packages: %s in %.1fs" % (name, time.time() - t0), file=sys.stderr)
        made.append(name)
    json.dump({"note": "random weights, latency only (4x width: stem %d, widths %s)" % (STEM, list(WIDTHS)),
               "sparsePolicy": pid, "packages": made}, open(os.path.join(a.out, "index.json"), "w"), indent=2)
    print(a.out)
    return 0


def parse_input(raw: str) -> tuple:
    try:
        C, H, W = (int(v) for v in raw.lower().split("x"))
    except ValueError:
        raise SystemExit("make-wide-packages: --input: expected CxHxW (e.g. 3x96x96), got %r" % raw) from None
    if C not in (1, 3) or min(H, W) < 8:
        raise SystemExit("make-wide-packages: --input: C must be 1 or 3 and H, W >= 8, got %r" % raw)
    return C, H, W


def large(a) -> int:
    """The larger-input regime: normal width at C x H x W, random weights, random test images."""
    C, H, W = parse_input(a.input)
    tag = "large%d" % H if H == W else "large%dx%d" % (H, W)
    out_dir = a.out if a.out != DEFAULT_OUT else os.path.join(os.path.dirname(DEFAULT_OUT), "%s-packages" % tag)
    pid = a.policy or searched_policy()
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.RandomState(SEED)
    shape = (H, W) if C == 1 else (H, W, C)
    sx = rng.randint(0, 256, size=(8,) + shape).astype(np.uint8)  # [8,H,W(,C)] served layout
    sy = rng.randint(0, len(CLASSES), size=8).astype(np.uint8)
    write_sample(out_dir, sx, sy, CLASSES, "8 random uint8 images of shape %s (random weights: latency only)" % (
        list(shape),))
    todo = [(1, "none"), (4, "baseline"), (4, "none"), (4, pid)]
    made = []
    for P, policy in todo:
        name = "%s-p%d-%s" % (tag, P, policy) if P > 1 else "%s-p1" % tag
        out = os.path.join(out_dir, name)
        if os.path.isfile(os.path.join(out, "manifest.json")) and not a.force:
            made.append(name)
            continue
        torch.manual_seed(SEED)
        arch = Arch(partitions=P, stem=LARGE_STEM, widths=LARGE_WIDTHS, channels=C, height=H, width=W,
                    mean=(0.5,) * C, std=(0.25,) * C)
        model = SepResNeXt(arch).eval()
        n = len(arch.points())
        pol = no_exchange(n) if policy == "none" else baseline(n) if policy == "baseline" else parse_policy_id(policy, n, P)
        t0 = time.time()
        export_package(model, pol, policy, out, name, {"valAccuracy": 0.0, "testAccuracy": 0.0},
                       {"epochs": 0, "seed": SEED, "note": "random weights, latency only"}, sx, sy, 4,
                       classes=CLASSES, dataset="random")
        print("make-wide-packages: %s in %.1fs" % (name, time.time() - t0), file=sys.stderr)
        made.append(name)
    json.dump({"note": "random weights, latency only (input %dx%dx%d, stem stride %d; normal width: stem %d, widths %s)"
               % (C, H, W, Arch(partitions=1, channels=C, height=H, width=W).stem_stride, LARGE_STEM,
                  list(LARGE_WIDTHS)),
               "input": [C, H, W], "sparsePolicy": pid, "packages": made},
              open(os.path.join(out_dir, "index.json"), "w"), indent=2)
    print(out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
