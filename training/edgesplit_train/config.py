"""Pipeline configuration: one dataclass, every field overridable as --key=value."""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from typing import List, Tuple


class ConfigError(ValueError):
    """Thrown when a configuration key or value is invalid (reported in one line, exit 2)."""


@dataclass
class Config:
    # data: a directory with the Fashion-MNIST IDX files, or an image folder (one sub-folder per class of
    # PNG/JPEG files); told apart by train-images-idx3-ubyte.gz. `--data` is an alias of `--data_dir`.
    data_dir: str = "/usr/share/datasets/fashion-mnist"
    image_size: str = ""  # "" = the images' own size; N (square) or HxW: every image resized to it
    channels: int = 0  # 0 = from the data (image folder: 3 if any image is colour, else 1); 1 or 3: converted
    val_size: int = 5000  # held out of the 60k training images for the search
    train_limit: int = 0  # 0 = all; the quick mode uses a few hundred images
    test_limit: int = 0
    # architecture (widths are today's; width_mult scales the stem and all three stage widths)
    stem: int = 32
    widths: List[int] = field(default_factory=lambda: [64, 128, 256])
    width_mult: float = 1.0
    blocks_per_stage: int = 3
    cardinality: int = 8
    partitions: List[int] = field(default_factory=lambda: [1, 2, 4])
    # training (schedules are in epochs; 0 = choose the epoch count once, before training, from a measured
    # step time and time_budget_s, then train that whole schedule; the choice is recorded)
    epochs: int = 40  # supernet
    epochs_p1: int = 40
    batch_size: int = 256
    lr: float = 0.1
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    branch_dropout: float = 0.0  # probability that one partition's pooled features are zeroed (0 = off)
    bd_variant: float = 0.0  # > 0: also fine-tune each searched policy with this branch dropout ("-bd" packages)
    sandwich_random: int = 2  # supernet step = densest + sparsest + this many random policies
    amp: str = "auto"  # auto = bf16 autocast on CUDA, fp32 on CPU; bf16; off
    channels_last: str = "auto"  # auto = on CUDA only; on; off
    time_budget_s: float = 0.0  # only for epochs = 0 (auto): seconds the train stage may plan for
    max_auto_epochs: int = 40
    skip_finetune: bool = False  # stop after the supernet and the search
    reference_from: str = ""  # a study out_dir: take the P = 1 reference (seed 0) from it instead of training
    # search (NSGA-II with binary tournament; every candidate scored after BatchNorm recalibration)
    population: int = 48
    generations: int = 20
    search_val_images: int = 5000
    search_modes: List[str] = field(default_factory=lambda: ["fp32", "mixed"])  # fp32-only and all precisions
    recal_images: int = 2048  # training images per BatchNorm recalibration (0 = score with running stats)
    front_size: int = 4  # fine-tuned Pareto packages per P and search mode (besides baseline and none)
    front_max_drop: float = 0.003  # prefer front policies within this of the baseline's search accuracy
    # fine-tuning
    finetune_epochs: int = 10
    finetune_lr: float = 0.02
    # study (`pipeline.py study`): none vs baseline vs dense P = 1 per width and P, several seeds
    study_partitions: List[int] = field(default_factory=lambda: [4, 8])
    study_widths: List[float] = field(default_factory=lambda: [1.0, 0.5, 0.25])
    study_seeds: int = 3
    study_epochs: int = 30  # 0 = auto from study_budget_s (capped at max_auto_epochs)
    study_budget_s: float = 0.0
    study_gap: float = 0.015  # a regime qualifies when baseline - none >= this (mean over seeds)
    # run
    seed: int = 20261127
    device: str = "auto"
    workers: int = 0
    out_dir: str = "training/out"
    models_dir: str = "models"
    name_prefix: str = ""  # "" = fmnist for the IDX files, else the image folder's basename (lower-case, a-z0-9-)
    catalog_merge: bool = False  # keep catalog entries of packages not re-exported by this run
    sample_images: int = 1000
    test_vectors: int = 32
    quick: bool = False

    def scaled_widths(self, mult: float = None) -> Tuple[int, List[int]]:
        """(stem, [W1, W2, W3]) after the width multiplier; ConfigError unless every width stays whole."""
        mult = self.width_mult if mult is None else mult
        out = []
        for name, w in [("stem", self.stem)] + [("widths[%d]" % i, w) for i, w in enumerate(self.widths)]:
            v = w * mult
            if mult <= 0 or abs(v - round(v)) > 1e-6 or round(v) < 1:
                raise ConfigError("width_mult: %g makes %s = %g, not a positive whole width" % (mult, name, v))
            out.append(int(round(v)))
        return out[0], out[1:]

    def _check_arch(self, mult: float, parts: List[int], what: str) -> None:
        stem, widths = self.scaled_widths(mult)
        tag = "" if mult == 1 else " (%s %g)" % (what, mult)
        for p in parts:
            if p < 1:
                raise ConfigError("partitions: %d is not a positive partition count" % p)
            for name, w in [("stem", stem)] + [("widths[%d]" % i, w) for i, w in enumerate(widths)]:
                if w % p:
                    raise ConfigError("%s: width %d is not divisible by P=%d%s" % (name, w, p, tag))
            if self.cardinality % p:
                raise ConfigError("cardinality: %d is not divisible by P=%d" % (self.cardinality, p))
        for i, w in enumerate(widths):
            if w % self.cardinality:
                raise ConfigError("widths[%d]: %d is not divisible by cardinality %d%s" % (
                    i, w, self.cardinality, tag))

    def validate(self) -> None:
        if not self.widths or len(self.widths) != 3:
            raise ConfigError("widths: expected three stage widths, got %r" % (self.widths,))
        if self.blocks_per_stage < 2:
            raise ConfigError("blocks_per_stage: must be >= 2 so every stage has a transmission point")
        self._check_arch(self.width_mult, self.partitions, "width_mult")
        if not self.study_widths or not self.study_partitions:
            raise ConfigError("study_widths/study_partitions: must not be empty")
        for m in self.study_widths:
            self._check_arch(m, [1] + list(self.study_partitions), "study width")
        if self.study_seeds < 1:
            raise ConfigError("study_seeds: must be >= 1, got %r" % self.study_seeds)
        for key in ("epochs", "epochs_p1", "finetune_epochs", "study_epochs"):
            if getattr(self, key) < 0:
                raise ConfigError("%s: must be >= 0 (0 = auto), got %r" % (key, getattr(self, key)))
        if self.study_epochs == 0 and not self.study_budget_s > 0:
            raise ConfigError("study_epochs: 0 (auto) needs study_budget_s > 0")
        if 0 in (self.epochs, self.epochs_p1, self.finetune_epochs) and not self.time_budget_s > 0:
            raise ConfigError("epochs: 0 (auto) needs time_budget_s > 0")
        if self.amp not in ("auto", "bf16", "off"):
            raise ConfigError("amp: expected auto, bf16 or off, got %r" % self.amp)
        if self.channels_last not in ("auto", "on", "off"):
            raise ConfigError("channels_last: expected auto, on or off, got %r" % self.channels_last)
        bad = [m for m in self.search_modes if m not in ("fp32", "mixed")]
        if bad or not self.search_modes:
            raise ConfigError("search_modes: expected a list of fp32 and/or mixed, got %r" % (self.search_modes,))
        for key in ("sandwich_random", "recal_images", "max_auto_epochs"):
            if getattr(self, key) < 0:
                raise ConfigError("%s: must be >= 0, got %r" % (key, getattr(self, key)))
        if not 0 <= self.bd_variant < 1:
            raise ConfigError("bd_variant: must be in [0, 1), got %r" % self.bd_variant)
        for key in ("batch_size", "population", "generations", "search_val_images", "sample_images"):
            if getattr(self, key) <= 0:
                raise ConfigError("%s: must be > 0, got %r" % (key, getattr(self, key)))
        for key in ("lr", "finetune_lr"):
            if not getattr(self, key) > 0:
                raise ConfigError("%s: must be > 0, got %r" % (key, getattr(self, key)))
        if not 0 <= self.branch_dropout < 1:
            raise ConfigError("branch_dropout: must be in [0, 1), got %r" % self.branch_dropout)
        from .data import folder_prefix, is_idx_dir, parse_image_size  # late: data imports this module
        parse_image_size(self.image_size)
        if self.channels not in (0, 1, 3):
            raise ConfigError("channels: expected 1 or 3 (0 = from the data), got %r" % self.channels)
        if not os.path.isdir(self.data_dir):
            raise ConfigError("data_dir: %s does not exist (install Debian's dataset-fashion-mnist, or pass "
                              "--data DIR with one sub-folder of images per class)" % self.data_dir)
        if is_idx_dir(self.data_dir):
            for f in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                      "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
                if not os.path.isfile(os.path.join(self.data_dir, f)):
                    raise ConfigError("data_dir: missing %s in %s" % (f, self.data_dir))
        if not self.name_prefix:
            self.name_prefix = "fmnist" if is_idx_dir(self.data_dir) else folder_prefix(self.data_dir)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", self.name_prefix):
            raise ConfigError("name_prefix: %r is not a safe package name prefix (letters, digits, . _ -)" %
                              self.name_prefix)


# tiny data, quarter width, one epoch: exercises every code path on the CPU in about a minute
QUICK = dict(train_limit=512, val_size=256, test_limit=256, partitions=[1, 2], epochs=1, epochs_p1=1,
             width_mult=0.25, batch_size=128, sandwich_random=1, population=6, generations=2,
             search_val_images=128, recal_images=128, front_size=1, finetune_epochs=1, test_vectors=8,
             sample_images=64, study_partitions=[4], study_widths=[0.25, 0.125], study_seeds=2, study_epochs=1,
             quick=True)


def _parse_value(cur, raw: str, key: str):
    try:
        if isinstance(cur, bool):
            if raw.lower() in ("1", "true", "yes"):
                return True
            if raw.lower() in ("0", "false", "no"):
                return False
            raise ValueError(raw)
        if isinstance(cur, int):
            return int(raw)
        if isinstance(cur, float):
            return float(raw)
        if isinstance(cur, list):
            kind = type(cur[0]) if cur else int  # the element type of the field's current value
            return [kind(x) for x in raw.split(",") if x]
        return raw
    except ValueError:
        raise ConfigError("%s: cannot parse %r as %s" % (key, raw, type(cur).__name__)) from None


ALIASES = {"data": "data_dir"}


def parse_args(argv: List[str]) -> Config:
    """--key=value or --key value for any Config field (and the aliases above); --quick applies the quick
    preset first."""
    cfg = Config()
    names = {f.name for f in dataclasses.fields(Config)}
    pairs = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if not a.startswith("--"):
            raise ConfigError("unexpected argument %r (use --key=value)" % a)
        key, eq, val = a[2:].partition("=")
        key = key.replace("-", "_")
        key = ALIASES.get(key, key)
        if key not in names:
            raise ConfigError("unknown config key %r" % key)
        if not eq:
            if isinstance(getattr(cfg, key), bool):
                val = "true"
            else:
                i += 1
                if i >= len(argv):
                    raise ConfigError("%s: missing value" % key)
                val = argv[i]
        pairs.append((key, val))
        i += 1
    if any(k == "quick" and v.lower() in ("1", "true", "yes") for k, v in pairs):
        for k, v in QUICK.items():
            setattr(cfg, k, v)
    for key, val in pairs:
        setattr(cfg, key, _parse_value(getattr(cfg, key), val, key))
    cfg.validate()
    return cfg
