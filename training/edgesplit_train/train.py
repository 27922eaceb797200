"""Supernet training (random policy per mini-batch, branch dropout) and per-policy fine-tuning."""
from __future__ import annotations

import math
import random
import sys
import time
from typing import Callable, Optional

import torch
import torch.nn as nn

from .data import augment
from .model import SepResNeXt, random_keep_mask
from .policy import Policy, random_policy


class Progress:
    """Per-epoch lines with elapsed time and ETA (stderr, so stdout stays machine-readable)."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.t0 = label, total, time.time()

    def step(self, i: int, msg: str) -> None:
        el = time.time() - self.t0
        eta = el / max(i, 1) * (self.total - i)
        print("[%s] %d/%d %s | %.0fs elapsed, ETA %.0fs" % (self.label, i, self.total, msg, el, eta),
              file=sys.stderr, flush=True)


def fit(model: SepResNeXt, x: torch.Tensor, y: torch.Tensor, epochs: int, lr: float, cfg, label: str,
        policy_fn: Callable[[random.Random], Policy], branch_dropout: float, seed: int,
        budget_s: float = 0.0) -> tuple:
    """SGD + nesterov, cosine schedule after a short warm-up. With budget_s > 0 the epoch count is cut
    after the first epoch so the run fits the budget (the schedule is rebuilt, so it still anneals to 0).
    Returns (seconds spent, epochs run)."""
    dev = x.device
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)
    steps_per_epoch = max(1, math.ceil(len(x) / cfg.batch_size))
    plan = {"total": epochs * steps_per_epoch}
    warm = min(steps_per_epoch, plan["total"] // 10 + 1)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else
        0.5 * (1 + math.cos(math.pi * min(1.0, (s - warm) / max(1, plan["total"] - warm)))))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    prog = Progress(label, epochs)
    t0 = time.time()
    P = model.arch.partitions
    ep = 0
    while ep < epochs:
        model.train()
        perm = torch.randperm(len(x), generator=gen).to(dev)
        tot_loss, correct, seen = 0.0, 0, 0
        for s in range(steps_per_epoch):
            idx = perm[s * cfg.batch_size:(s + 1) * cfg.batch_size]
            xb = augment(x[idx], gen)  # [B,1,28,28]
            yb = y[idx]
            keep = random_keep_mask(len(idx), P, branch_dropout, gen, dev)
            logits = model(xb, policy_fn(rng), keep)  # [B,10]
            loss = loss_fn(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot_loss += float(loss) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            seen += len(idx)
        ep += 1
        if ep == 1 and budget_s > 0 and (time.time() - t0) * epochs > budget_s:
            epochs = min(epochs, max(2, int(budget_s / (time.time() - t0))))
            plan["total"] = epochs * steps_per_epoch
            prog.total = epochs
            print("[%s] budget %.0fs: cut to %d epochs" % (label, budget_s, epochs), file=sys.stderr, flush=True)
        prog.step(ep, "loss %.4f train-acc %.4f lr %.4f" % (tot_loss / seen, correct / seen, sched.get_last_lr()[0]))
    return time.time() - t0, epochs


@torch.no_grad()
def evaluate(model: SepResNeXt, x: torch.Tensor, y: torch.Tensor, policy: Policy, batch: int = 1000,
             keep: Optional[torch.Tensor] = None) -> float:
    """Accuracy with the exact wire decoding (not the straight-through estimator)."""
    model.eval()
    correct = 0
    for s in range(0, len(x), batch):
        kb = None if keep is None else keep.expand(min(batch, len(x) - s), -1)
        logits = model(x[s:s + batch], policy, kb, train_quant=False)
        correct += int((logits.argmax(1) == y[s:s + batch]).sum())
    return correct / max(1, len(x))


def supernet_policy_fn(n_points: int, P: int) -> Callable[[random.Random], Policy]:
    # A fifth of the draws switch a point off entirely, so the sparse policies the search wants are seen often.
    return lambda rng: random_policy(rng, n_points, P, p_off=0.2)
