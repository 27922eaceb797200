"""Builds the 4x-width SepResNeXt (stem 128, widths 256/512/1024) with RANDOM weights and exports model packages
for the latency-only part of the benchmark: P=1, P=4 baseline, P=4 no-exchange and P=4 with one sparse policy
(the searched policy of the shipped most accurate P=4 package, unless --policy says otherwise).

Random weights, latency only: the packages' accuracy is meaningless and they are never committed (tens of MB);
they go to a cache directory (default ~/.cache/edgesplit/wide-packages) that `edgesplit bench` reuses.

usage: training/.venv/bin/python scripts/make-wide-packages.py [--out DIR] [--policy ID] [--force]
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

from edgesplit_train.export import export_package  # noqa: E402
from edgesplit_train.model import Arch, SepResNeXt  # noqa: E402
from edgesplit_train.policy import baseline, no_exchange, parse_policy_id  # noqa: E402

STEM, WIDTHS = 128, (256, 512, 1024)


def searched_policy() -> str:
    cat = json.load(open(os.path.join(REPO, "models", "catalog.json")))
    p4 = [p for p in cat["packages"] if p["partitions"] == 4 and p["policyId"] not in ("baseline", "none")]
    if not p4:
        raise SystemExit("make-wide-packages: models/catalog.json has no searched P=4 package")
    return max(p4, key=lambda p: p["testAccuracy"])["policyId"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.expanduser("~"), ".cache", "edgesplit", "wide-packages"))
    ap.add_argument("--policy", default="")
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args()
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


if __name__ == "__main__":
    sys.exit(main())
