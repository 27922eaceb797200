"""Pipeline configuration: one dataclass, every field overridable as --key=value."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import List


class ConfigError(ValueError):
    """Thrown when a configuration key or value is invalid (reported in one line, exit 2)."""


@dataclass
class Config:
    # data
    data_dir: str = "/usr/share/datasets/fashion-mnist"
    val_size: int = 5000  # held out of the 60k training images for the search
    train_limit: int = 0  # 0 = all; the quick mode uses a few hundred images
    test_limit: int = 0
    # architecture
    stem: int = 32
    widths: List[int] = field(default_factory=lambda: [64, 128, 256])
    blocks_per_stage: int = 3
    cardinality: int = 8
    partitions: List[int] = field(default_factory=lambda: [1, 2, 4])
    # supernet training
    epochs: int = 40
    epochs_p1: int = 40
    batch_size: int = 256
    lr: float = 0.1
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    branch_dropout: float = 0.1  # probability that one partition's pooled features are zeroed
    supernet_budget_s: float = 0.0  # > 0: cut the epoch count after the first epoch to fit (GPU runs)
    finetune_budget_s: float = 0.0
    only_policy: str = ""  # fine-tune just this policy id of a finished search (parallel fine-tunes)
    skip_finetune: bool = False
    init_from: str = ""  # continue fine-tuning from <init_from>/<package>.pt instead of the supernet  # stop after the supernet and the search
    # search (NSGA-II)
    population: int = 48
    generations: int = 20
    search_val_images: int = 5000
    front_size: int = 4  # fine-tuned Pareto packages per P (besides baseline and none)
    # fine-tuning
    finetune_epochs: int = 10
    finetune_lr: float = 0.02
    # run
    seed: int = 20261127
    device: str = "auto"
    workers: int = 0
    out_dir: str = "training/out"
    models_dir: str = "models"
    name_prefix: str = "fmnist"
    sample_images: int = 1000
    test_vectors: int = 32
    quick: bool = False

    def validate(self) -> None:
        if not self.widths or len(self.widths) != 3:
            raise ConfigError("widths: expected three stage widths, got %r" % (self.widths,))
        if self.blocks_per_stage < 2:
            raise ConfigError("blocks_per_stage: must be >= 2 so every stage has a transmission point")
        for p in self.partitions:
            if p < 1:
                raise ConfigError("partitions: %d is not a positive partition count" % p)
            for name, w in [("stem", self.stem)] + [("widths[%d]" % i, w) for i, w in enumerate(self.widths)]:
                if w % p:
                    raise ConfigError("%s: width %d is not divisible by P=%d" % (name, w, p))
            if self.cardinality % p:
                raise ConfigError("cardinality: %d is not divisible by P=%d" % (self.cardinality, p))
        for i, w in enumerate(self.widths):
            if w % self.cardinality:
                raise ConfigError("widths[%d]: %d is not divisible by cardinality %d" % (i, w, self.cardinality))
        for key in ("epochs", "batch_size", "population", "generations", "search_val_images", "sample_images"):
            if getattr(self, key) <= 0:
                raise ConfigError("%s: must be > 0, got %r" % (key, getattr(self, key)))
        for key in ("lr", "finetune_lr"):
            if not getattr(self, key) > 0:
                raise ConfigError("%s: must be > 0, got %r" % (key, getattr(self, key)))
        if not 0 <= self.branch_dropout < 1:
            raise ConfigError("branch_dropout: must be in [0, 1), got %r" % self.branch_dropout)
        if not os.path.isdir(self.data_dir):
            raise ConfigError("data_dir: %s does not exist (install Debian's dataset-fashion-mnist)" % self.data_dir)
        for f in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                  "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
            if not os.path.isfile(os.path.join(self.data_dir, f)):
                raise ConfigError("data_dir: missing %s in %s" % (f, self.data_dir))


QUICK = dict(train_limit=768, val_size=256, test_limit=256, partitions=[1, 2], epochs=1, epochs_p1=1,
             batch_size=128, population=8, generations=2, search_val_images=256, front_size=1,
             finetune_epochs=1, test_vectors=8, sample_images=64, quick=True)


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
            return [int(x) for x in raw.split(",") if x]
        return raw
    except ValueError:
        raise ConfigError("%s: cannot parse %r as %s" % (key, raw, type(cur).__name__)) from None


def parse_args(argv: List[str]) -> Config:
    """--key=value or --key value for any Config field; --quick applies the quick preset first."""
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
