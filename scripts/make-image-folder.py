#!/usr/bin/env python3
"""Makes a small RGB image-folder data set (one sub-folder per class of PNG and JPEG files) from the
Fashion-MNIST IDX files, for trying and testing `training/pipeline.py --data DIR` on colour images of any size.

Each 28x28 grey image is colourised with a class-independent random background colour and a random tint for
the garment (drawn per image from the seed, so colour carries no label), resized to size x size (bilinear) and
saved as PNG, every 5th image of a class as JPEG (quality 92) to exercise both decoders. The images are the
first `per_class` training images of each of the first `classes` classes. Deterministic for a seed.

usage: /usr/bin/python3 scripts/make-image-folder.py --out DIR [--classes 3] [--per_class 80] [--size 64]
       [--seed 1] [--idx /usr/share/datasets/fashion-mnist] [--grey]
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "training"))
from edgesplit_train.idx import read_idx  # noqa: E402  (numpy only: no torch needed)

FOLDERS = ["t-shirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot"]


def colourise(img: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """[28,28] uint8 grey -> [28,28,3] uint8: background colour + intensity x tint colour."""
    bg = rng.uniform(0, 110, 3)  # a darkish background
    tint = rng.uniform(120, 255, 3)  # a brighter garment colour
    a = img.astype(np.float64)[:, :, None] / 255.0
    return np.clip(np.rint(bg * (1 - a) + tint * a), 0, 255).astype(np.uint8)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--classes", type=int, default=3)
    ap.add_argument("--per_class", type=int, default=80)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--idx", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--grey", action="store_true", help="keep the images grey (mode L) instead of colourising")
    a = ap.parse_args()
    if not 2 <= a.classes <= 10 or a.per_class < 1 or a.size < 8:
        raise SystemExit("make-image-folder: need 2..10 classes, per_class >= 1 and size >= 8")
    x = read_idx(os.path.join(a.idx, "train-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(a.idx, "train-labels-idx1-ubyte.gz"))
    rng = np.random.RandomState(a.seed)
    resample = getattr(Image, "Resampling", Image).BILINEAR
    counts = {"png": 0, "jpg": 0}
    for c in range(a.classes):
        d = os.path.join(a.out, FOLDERS[c])
        os.makedirs(d, exist_ok=True)
        idx = np.nonzero(y == c)[0][:a.per_class]
        for j, i in enumerate(idx):
            img = Image.fromarray(x[i], "L") if a.grey else Image.fromarray(colourise(x[i], rng), "RGB")
            img = img.resize((a.size, a.size), resample)
            if j % 5 == 4:
                img.save(os.path.join(d, "%s_%04d.jpg" % (FOLDERS[c], j)), quality=92)
                counts["jpg"] += 1
            else:
                img.save(os.path.join(d, "%s_%04d.png" % (FOLDERS[c], j)), optimize=False)
                counts["png"] += 1
    print("make-image-folder: wrote %d images (%d PNG, %d JPEG), %d classes (%s) x %d, %dx%d %s, seed %d, to %s" % (
        counts["png"] + counts["jpg"], counts["png"], counts["jpg"], a.classes, ", ".join(FOLDERS[:a.classes]),
        a.per_class, a.size, a.size, "grey" if a.grey else "RGB", a.seed, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
