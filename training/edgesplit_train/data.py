"""Fashion-MNIST from IDX files (Debian's dataset-fashion-mnist), no downloads."""
from __future__ import annotations

import gzip
import os
import struct

import numpy as np
import torch

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MEAN = 0.2860
STD = 0.3530


def read_idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError("%s: not an unsigned-byte IDX file" % path)
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(data_dir: str, split: str):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(data_dir, "%s-images-idx3-ubyte.gz" % prefix))  # [N,28,28] uint8
    y = read_idx(os.path.join(data_dir, "%s-labels-idx1-ubyte.gz" % prefix))  # [N] uint8
    return x, y.astype(np.int64)


def train_val(cfg):
    """Fixed-seed split of the 60k training images into train and a held-out validation set."""
    x, y = load_split(cfg.data_dir, "train")
    perm = np.random.RandomState(cfg.seed).permutation(len(x))
    val_idx, tr_idx = perm[:cfg.val_size], perm[cfg.val_size:]
    if cfg.train_limit:
        tr_idx = tr_idx[:cfg.train_limit]
    return (x[tr_idx], y[tr_idx]), (x[val_idx], y[val_idx])


def test_set(cfg):
    x, y = load_split(cfg.data_dir, "test")
    if cfg.test_limit:
        x, y = x[:cfg.test_limit], y[:cfg.test_limit]
    return x, y


def to_device(x: np.ndarray, device) -> torch.Tensor:
    """[N,28,28] uint8 on the device (the whole training set is 43 MB; it stays there for the run)."""
    return torch.from_numpy(np.array(x, dtype=np.uint8, copy=True)).to(device)  # [N,28,28] uint8


def augment(img: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random 2-pixel shift (zero pad + crop) and horizontal flip per image, drawn on the images' device
    with `gen` (a generator of that device), so no host round trip. img: [B,R,28,28] uint8 -> float 0..255."""
    b, r = img.shape[:2]
    dev = img.device
    n = b * r
    padded = torch.nn.functional.pad(img.reshape(n, 28, 28).float(), (2, 2, 2, 2))  # [n,32,32]
    dx = torch.randint(0, 5, (n,), generator=gen, device=dev)  # [n]
    dy = torch.randint(0, 5, (n,), generator=gen, device=dev)  # [n]
    idx = torch.arange(28, device=dev)
    rows = dy[:, None] + idx[None, :]  # [n,28]
    cols = dx[:, None] + idx[None, :]  # [n,28]
    out = padded[torch.arange(n, device=dev)[:, None, None], rows[:, :, None], cols[:, None, :]]  # [n,28,28]
    flip = torch.rand(n, generator=gen, device=dev) < 0.5  # [n]
    out = torch.where(flip[:, None, None], out.flip(-1), out)
    return out.view(b, r, 28, 28)  # [B,R,28,28]
