"""Training data: Fashion-MNIST from IDX files (Debian's dataset-fashion-mnist, no downloads) or a user's
image folder (one sub-folder per class holding PNG/JPEG files; class names = the sorted sub-folder names).

Host arrays are kept in the layout the runtime serves: [N,H,W] uint8 when C == 1, [N,H,W,C] (channels last,
as image decoders give them) when C > 1. On the training device they become [N,C,H,W] uint8 (`to_device`).

Image-folder splits are deterministic: a stable hash (SHA-1) of each file's path relative to the folder puts
about 15% of the images in the held-out test split; the validation split for the search is drawn from the
rest with the seed, as for Fashion-MNIST (min(val_size, 15% of the rest) images)."""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import numpy as np
import torch

from .config import ConfigError
from .idx import read_idx  # noqa: F401  (re-exported: callers read IDX files through data)

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MEAN = 0.2860
STD = 0.3530
IDX_MARKER = "train-images-idx3-ubyte.gz"
IMAGE_EXT = (".png", ".jpg", ".jpeg")
TEST_FRACTION = 0.15
VAL_FRACTION = 0.15


def is_idx_dir(data_dir: str) -> bool:
    return os.path.isfile(os.path.join(data_dir, IDX_MARKER))


def parse_image_size(raw: str) -> Optional[Tuple[int, int]]:
    """'' -> None, '64' -> (64, 64), '96x64' -> (96, 64) (H x W); ConfigError otherwise."""
    if not raw:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?", raw)
    if not m:
        raise ConfigError("image_size: expected N or HxW (e.g. 64 or 96x64), got %r" % raw)
    h = int(m.group(1))
    w = int(m.group(2)) if m.group(2) else h
    if h < 8 or w < 8 or h > 4096 or w > 4096:
        raise ConfigError("image_size: %dx%d is outside 8..4096" % (h, w))
    return h, w


def folder_prefix(data_dir: str) -> str:
    """The default package name prefix of an image folder: its basename, lower-case, runs of anything but
    a-z, 0-9 turned into '-'."""
    base = os.path.basename(os.path.normpath(os.path.abspath(data_dir)))
    return re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-") or "data"


@dataclass
class DataInfo:
    kind: str  # "idx" or "folder"
    dataset: str  # "fashion-mnist" or the folder's basename
    classes: List[str]
    channels: int
    height: int
    width: int
    mean: List[float] = field(default_factory=list)  # per channel, of the 0..1 training pixels
    std: List[float] = field(default_factory=list)
    source: str = ""  # how the sample (the first test images) was chosen; {n} = their number

    def image_shape(self) -> List[int]:
        """The served image's shape: [H, W] when C == 1, [H, W, C] (channels last) when C > 1."""
        return [self.height, self.width] if self.channels == 1 else [self.height, self.width, self.channels]

    def input_json(self) -> dict:
        return {"channels": self.channels, "height": self.height, "width": self.width,
                "mean": list(self.mean), "std": list(self.std)}


@dataclass
class Dataset:
    info: DataInfo
    train: tuple  # (x, y): x in the served layout, y int64
    val: tuple
    test: tuple


def load_split(data_dir: str, split: str):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(data_dir, "%s-images-idx3-ubyte.gz" % prefix))  # [N,28,28] uint8
    y = read_idx(os.path.join(data_dir, "%s-labels-idx1-ubyte.gz" % prefix))  # [N] uint8
    return x, y.astype(np.int64)


# ---- image folders ---------------------------------------------------------------------------

_GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"}


def _resample():
    from PIL import Image
    return getattr(Image, "Resampling", Image).BILINEAR


def scan_folder(data_dir: str) -> Tuple[List[str], List[Tuple[str, int]]]:
    """(class names, [(relative path, label)] sorted by path); ConfigError for an empty folder or one class."""
    subs = sorted(d for d in os.listdir(data_dir) if not d.startswith(".") and os.path.isdir(os.path.join(data_dir, d)))
    classes, files = [], []
    for d in subs:
        names = sorted(f for f in os.listdir(os.path.join(data_dir, d))
                       if not f.startswith(".") and f.lower().endswith(IMAGE_EXT)
                       and os.path.isfile(os.path.join(data_dir, d, f)))
        if not names:
            continue  # a sub-folder without images is not a class
        files += [(d + "/" + f, len(classes)) for f in names]
        classes.append(d)
    if not files:
        raise ConfigError("data: %s holds no images (expected one sub-folder per class with PNG/JPEG files, or the "
                          "Fashion-MNIST IDX files)" % data_dir)
    if len(classes) < 2:
        raise ConfigError("data: %s has only one class (%s, %d image%s); an image folder needs at least two class "
                          "sub-folders" % (data_dir, classes[0], len(files), "" if len(files) == 1 else "s"))
    return classes, files


def _in_test(rel: str) -> bool:
    h = int(hashlib.sha1(rel.encode("utf-8")).hexdigest()[:8], 16)
    return h / float(1 << 32) < TEST_FRACTION


def load_folder(data_dir: str, size: Optional[Tuple[int, int]], channels: int):
    """Decodes every image: (classes, rel paths, x [N,H,W] or [N,H,W,C] uint8, y [N] int64, C)."""
    from PIL import Image
    classes, files = scan_folder(data_dir)
    imgs, colour, first_size = [], False, None
    for rel, _ in files:
        path = os.path.join(data_dir, rel)
        try:
            with Image.open(path) as im:
                im.load()
                img = im.copy()
        except Exception as e:  # noqa: BLE001 - any decoder failure is the same user error
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ConfigError("data: cannot read image %s (%s)" % (path, msg)) from None
        if img.mode not in _GREY_MODES:
            colour = True
        if size is None:
            if first_size is None:
                first_size = (img.size, rel)
            elif img.size != first_size[0]:
                (w0, h0), rel0 = first_size
                w1, h1 = img.size
                raise ConfigError("data: images differ in size (HxW %dx%d in %s, %dx%d in %s); pass "
                                  "--image_size (N or HxW) to resize them all" % (h0, w0, os.path.join(data_dir, rel0), h1, w1,
                                                                    path))
        imgs.append(img)
    C = channels or (3 if colour else 1)
    H, W = size if size is not None else (first_size[0][1], first_size[0][0])
    x = np.empty((len(imgs), H, W) + ((C,) if C > 1 else ()), dtype=np.uint8)
    for i, img in enumerate(imgs):
        img = img.convert("RGB" if C == 3 else "L")
        if img.size != (W, H):
            img = img.resize((W, H), _resample())
        x[i] = np.asarray(img, dtype=np.uint8)
        imgs[i] = None
    y = np.array([lab for _, lab in files], dtype=np.int64)
    return classes, [rel for rel, _ in files], x, y, C


def _reshape_idx(x: np.ndarray, size, channels: int) -> np.ndarray:
    """Fashion-MNIST with --image_size / --channels: every image resized / turned into C channels with PIL."""
    from PIL import Image
    H, W = size if size is not None else x.shape[1:3]
    C = channels or 1
    if (H, W) == x.shape[1:3] and C == 1:
        return x
    out = np.empty((len(x), H, W) + ((C,) if C > 1 else ()), dtype=np.uint8)
    for i in range(len(x)):
        img = Image.fromarray(x[i], "L")
        if (H, W) != x.shape[1:3]:
            img = img.resize((W, H), _resample())
        out[i] = np.asarray(img.convert("RGB") if C == 3 else img, dtype=np.uint8)
    return out


def _mean_std(x: np.ndarray, C: int) -> Tuple[List[float], List[float]]:
    v = x.reshape(-1, C).astype(np.float64) / 255.0  # every pixel, channel last
    std = np.maximum(v.std(axis=0), 1e-3)
    return [round(float(m), 6) for m in v.mean(axis=0)], [round(float(s), 6) for s in std]


_CACHE = {}


def load(cfg) -> Dataset:
    """The data of a config (cached per process): splits in the served layout and their description."""
    size = parse_image_size(cfg.image_size)
    key = (os.path.abspath(cfg.data_dir), size, cfg.channels, cfg.seed, cfg.val_size, cfg.train_limit,
           cfg.test_limit)
    if key in _CACHE:
        return _CACHE[key]
    if is_idx_dir(cfg.data_dir):
        x, y = load_split(cfg.data_dir, "train")
        tex, tey = load_split(cfg.data_dir, "test")
        perm = np.random.RandomState(cfg.seed).permutation(len(x))
        val_idx, tr_idx = perm[:cfg.val_size], perm[cfg.val_size:]
        if cfg.train_limit:
            tr_idx = tr_idx[:cfg.train_limit]
        if cfg.test_limit:
            tex, tey = tex[:cfg.test_limit], tey[:cfg.test_limit]
        C = cfg.channels or 1
        xtr, xva, xte = (_reshape_idx(a, size, cfg.channels) for a in (x[tr_idx], x[val_idx], tex))
        H, W = xtr.shape[1:3]
        info = DataInfo("idx", "fashion-mnist", list(CLASSES), C, H, W, [MEAN] * C, [STD] * C,
                        "the first {n} images of the Fashion-MNIST test set (t10k), in order%s" % (
                            "" if (C, H, W) == (1, 28, 28) else ", as %dx%dx%d" % (C, H, W)))
        ds = Dataset(info, (xtr, y[tr_idx]), (xva, y[val_idx]), (xte, tey))
    else:
        classes, rels, x, y, C = load_folder(cfg.data_dir, size, cfg.channels)
        test = np.array([_in_test(r) for r in rels], dtype=bool)
        te_idx, rest = np.nonzero(test)[0], np.nonzero(~test)[0]
        if len(te_idx) == 0 or len(rest) < 2:
            raise ConfigError("data: %s has too few images (%d) for a held-out test split (~%d%% by a hash of each "
                              "path) and a training split" % (cfg.data_dir, len(rels), 100 * TEST_FRACTION))
        n_val = min(cfg.val_size, max(1, int(VAL_FRACTION * len(rest))))
        perm = rest[np.random.RandomState(cfg.seed).permutation(len(rest))]
        val_idx, tr_idx = perm[:n_val], perm[n_val:]
        if cfg.train_limit:
            tr_idx = tr_idx[:cfg.train_limit]
        if cfg.test_limit:
            te_idx = te_idx[:cfg.test_limit]
        H, W = x.shape[1:3]
        mean, std = _mean_std(x[tr_idx], C)
        name = os.path.basename(os.path.normpath(os.path.abspath(cfg.data_dir)))
        info = DataInfo("folder", name, classes, C, H, W, mean, std,
                        "the first {n} images of the held-out test split of %s (a stable hash of each file's "
                        "relative path, ~%d%%), sorted by path" % (name, round(100 * TEST_FRACTION)))
        ds = Dataset(info, (x[tr_idx], y[tr_idx]), (x[val_idx], y[val_idx]), (x[te_idx], y[te_idx]))
    _CACHE[key] = ds
    return ds


def train_val(cfg):
    """Fixed-seed split of the training images into train and a held-out validation set."""
    ds = load(cfg)
    return ds.train, ds.val


def test_set(cfg):
    return load(cfg).test


def to_nchw(x: np.ndarray) -> np.ndarray:
    """Served layout ([N,H,W] or [N,H,W,C]) -> [N,C,H,W]."""
    return x[:, None] if x.ndim == 3 else np.transpose(x, (0, 3, 1, 2))


def to_device(x: np.ndarray, device) -> torch.Tensor:
    """[N,C,H,W] uint8 on the device (Fashion-MNIST's training set is 43 MB; it stays there for the run)."""
    return torch.from_numpy(np.ascontiguousarray(to_nchw(np.asarray(x, dtype=np.uint8)))).to(device)


def nchw(x: torch.Tensor) -> torch.Tensor:
    """Device images [N,H,W] (one channel) or [N,C,H,W] -> [N,C,H,W]."""
    return x[:, None] if x.dim() == 3 else x


def shift_pad(h: int, w: int) -> Tuple[int, int]:
    """The augmentation's largest shift: proportional to the size, 2 pixels at 28 (at least 1)."""
    return max(1, round(2 * h / 28)), max(1, round(2 * w / 28))


def augment(img: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random shift (zero pad + crop; up to shift_pad pixels, 2 at 28) and horizontal flip per image, the same
    for all its channels, drawn on the images' device with `gen` (a generator of that device), so no host round
    trip. img: [B,R,H,W] (one channel) or [B,R,C,H,W] uint8 -> [B,R*C,H,W] float 0..255 (replica-major)."""
    if img.dim() == 4:
        img = img[:, :, None]
    b, r, c, h, w = img.shape
    dev = img.device
    n = b * r
    ph, pw = shift_pad(h, w)
    padded = torch.nn.functional.pad(img.reshape(n, c, h, w).float(), (pw, pw, ph, ph))  # [n,C,H+2ph,W+2pw]
    dx = torch.randint(0, 2 * pw + 1, (n,), generator=gen, device=dev)  # [n]
    dy = torch.randint(0, 2 * ph + 1, (n,), generator=gen, device=dev)  # [n]
    rows = dy[:, None] + torch.arange(h, device=dev)[None, :]  # [n,H]
    cols = dx[:, None] + torch.arange(w, device=dev)[None, :]  # [n,W]
    out = padded[torch.arange(n, device=dev)[:, None, None, None], torch.arange(c, device=dev)[None, :, None, None],
                 rows[:, None, :, None], cols[:, None, None, :]]  # [n,C,H,W]
    flip = torch.rand(n, generator=gen, device=dev) < 0.5  # [n]
    out = torch.where(flip[:, None, None, None], out.flip(-1), out)
    return out.view(b, r * c, h, w)  # [B,R*C,H,W]
