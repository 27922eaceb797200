"""Training on the device: supernet (sandwich rule), stacked fine-tunes and study runs, evaluation and
BatchNorm recalibration.

Fast-path rules (they matter on a GPU and cost nothing on the CPU): the whole data set lives on the device
as uint8, augmentation is drawn there with a device generator, bf16 autocast and channels_last on CUDA,
and nothing inside an epoch reads a value back to the host (loss and accuracy accumulate on the device and
are read once per epoch). On the CPU everything runs in fp32."""
from __future__ import annotations

import contextlib
import copy
import math
import random
import sys
import time
from typing import Callable, List, Optional, Sequence, Union

import torch
import torch.nn as nn

from .data import augment, nchw
from .model import SepResNeXt, random_keep_mask
from .policy import Policy, baseline, no_exchange, random_policy

# how the device runs: set once by `configure` (the pipeline), read by fit / evaluate
RUNTIME = {"amp": False, "fmt": torch.contiguous_format, "device": torch.device("cpu")}


def configure(cfg, dev: torch.device) -> dict:
    """bf16 autocast and channels_last on CUDA (unless switched off), plain fp32 on the CPU."""
    cuda = dev.type == "cuda"
    RUNTIME["device"] = dev
    RUNTIME["amp"] = cfg.amp == "bf16" or (cfg.amp == "auto" and cuda)
    if RUNTIME["amp"] and not cuda:
        RUNTIME["amp"] = False  # bf16 autocast is a GPU fast path; the CPU reference stays fp32
    cl = cfg.channels_last == "on" or (cfg.channels_last == "auto" and cuda)
    RUNTIME["fmt"] = torch.channels_last if cl else torch.contiguous_format
    if cuda:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return {"amp": "bf16" if RUNTIME["amp"] else "fp32", "channelsLast": cl, "device": str(dev)}


def _autocast():
    if RUNTIME["amp"]:
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _sync() -> None:
    if RUNTIME["device"].type == "cuda":
        torch.cuda.synchronize()


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Progress:
    """Per-epoch lines with elapsed time and ETA (stderr, so stdout stays machine-readable)."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.t0 = label, total, time.time()

    def step(self, i: int, msg: str) -> None:
        el = time.time() - self.t0
        eta = el / max(i, 1) * (self.total - i)
        log("[%s] %d/%d %s | %.0fs elapsed, ETA %.0fs" % (self.label, i, self.total, msg, el, eta))


# a policy spec is one Policy (R = 1) or a list of R policies (stacked replicas)
PolicyFn = Callable[[random.Random], List[Union[Policy, List[Policy]]]]


class _Stepper:
    """One optimiser step over the policy specs of a mini-batch (gradients averaged over the specs)."""

    def __init__(self, model: SepResNeXt, lr: float, cfg, total_steps: int, warm: int):
        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True,
                                   weight_decay=cfg.weight_decay)
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lambda s: (s + 1) / warm if s < warm else
            0.5 * (1 + math.cos(math.pi * min(1.0, (s - warm) / max(1, total_steps - warm)))))
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)

    def step(self, xb: torch.Tensor, yb: torch.Tensor, keep, specs) -> tuple:
        """xb [B,R*C,H,W] float, yb [B,R]; returns (summed loss, correct per replica [R]) as device tensors."""
        B, R = yb.shape
        K = self.model.arch.classes
        self.opt.zero_grad(set_to_none=True)
        tot, correct = 0.0, 0
        for spec in specs:
            with _autocast():
                logits = self.model(xb, spec, keep).view(B, R, K)  # [B,R,K]
            # sum over replicas of each replica's mean loss: every replica gets its own ordinary gradient
            loss = self.loss_fn(logits.float().view(B * R, K), yb.reshape(B * R)) * (R / len(specs))
            loss.backward()
            tot = tot + loss.detach() / R  # the mean loss over replicas and specs
            correct = correct + (logits.detach().argmax(-1) == yb).sum(0)  # [R]
        self.opt.step()
        self.sched.step()
        return tot, correct / len(specs)


def _batch(x: torch.Tensor, y: torch.Tensor, idx: torch.Tensor, gen: torch.Generator):
    """idx [R,B] -> augmented images [B,R*C,H,W] float (device layout) and labels [B,R]."""
    it = idx.t()  # [B,R]
    xb = augment(x[it], gen).contiguous(memory_format=RUNTIME["fmt"])  # [B,R*C,H,W]
    return xb, y[it]


def fit(model: SepResNeXt, x: torch.Tensor, y: torch.Tensor, epochs: int, lr: float, cfg, label: str,
        policy_fn: PolicyFn, branch_dropout, seed: int) -> dict:
    """SGD + nesterov, cosine schedule after a short warm-up, for exactly `epochs` epochs. x: [N,C,H,W] uint8
    on the device, y: [N]. Each replica of a stacked model draws its own image order and augmentation.
    Returns {seconds, epochs, batchSize, stepsPerEpoch, history}."""
    dev = x.device
    R, P = model.replicas, model.arch.partitions
    model.to(memory_format=RUNTIME["fmt"])
    rng = random.Random(seed)
    gen = torch.Generator(device=dev).manual_seed(seed)
    B = min(cfg.batch_size, len(x))
    steps = max(1, len(x) // B)  # the ragged tail is dropped; every epoch draws a new order
    total = epochs * steps
    st = _Stepper(model, lr, cfg, total, min(steps, total // 10 + 1))
    prog = Progress(label, epochs)
    history = []
    _sync()
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        perm = torch.rand(R, len(x), generator=gen, device=dev).argsort(dim=1)  # [R,N]
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros(R, device=dev)
        for s in range(steps):
            xb, yb = _batch(x, y, perm[:, s * B:(s + 1) * B], gen)
            keep = random_keep_mask(B, P, branch_dropout, gen, dev, R)
            loss, corr = st.step(xb, yb, keep, policy_fn(rng))
            loss_sum += loss
            correct += corr
        # the one read-back per epoch
        ep_loss, acc = float(loss_sum) / steps, (correct / (steps * B)).tolist()
        history.append({"epoch": ep + 1, "loss": round(ep_loss, 5), "trainAcc": [round(a, 5) for a in acc]})
        prog.step(ep + 1, "loss %.4f train-acc %s lr %.4f" % (
            ep_loss, " ".join("%.4f" % a for a in acc[:8]) + (" ..." if R > 8 else ""), st.sched.get_last_lr()[0]))
    _sync()
    return {"seconds": time.time() - t0, "epochs": epochs, "batchSize": B, "stepsPerEpoch": steps,
            "history": history}


def seconds_per_epoch(model: SepResNeXt, x: torch.Tensor, y: torch.Tensor, cfg, policy_fn: PolicyFn,
                      branch_dropout, steps: int = 6) -> float:
    """Measured on a throw-away copy (the caller's model is untouched): a few warm-up steps, then `steps`
    timed ones. Used only to choose an epoch count before a run; the run then trains all of it."""
    m = copy.deepcopy(model).to(memory_format=RUNTIME["fmt"])
    dev = x.device
    gen = torch.Generator(device=dev).manual_seed(0)
    rng = random.Random(0)
    B = min(cfg.batch_size, len(x))
    per_epoch = max(1, len(x) // B)
    st = _Stepper(m, cfg.lr, cfg, 100, 1)
    m.train()
    idx = torch.rand(m.replicas, len(x), generator=gen, device=dev).argsort(dim=1)[:, :B]  # [R,B]
    for i in range(steps + 3):
        if i == 3:
            _sync()
            t0 = time.time()
        xb, yb = _batch(x, y, idx, gen)
        st.step(xb, yb, random_keep_mask(B, m.arch.partitions, branch_dropout, gen, dev, m.replicas), policy_fn(rng))
    _sync()
    sec = (time.time() - t0) / steps * per_epoch
    del m, st
    return sec


def auto_epochs(sec_per_epoch: float, budget_s: float, cap: int) -> int:
    return int(max(1, min(cap, math.floor(budget_s / max(sec_per_epoch, 1e-9)))))


def _replicate(x: torch.Tensor, R: int) -> torch.Tensor:
    """uint8 images [n,C,H,W] (or [n,H,W]) -> float [n,R*C,H,W]: the same image for every replica."""
    x = nchw(x).float()
    n, c, h, w = x.shape
    return x[:, None].expand(n, R, c, h, w).reshape(n, R * c, h, w)


@torch.no_grad()
def evaluate(model: SepResNeXt, x: torch.Tensor, y: torch.Tensor, policy, batch: int = 1000,
             keep: Optional[torch.Tensor] = None):
    """Accuracy with the exact wire decoding (not the straight-through estimator), in fp32. x: [N,C,H,W]
    (or [N,H,W]) uint8. Returns a float (R = 1) or a list of R floats (stacked: every replica sees the same images)."""
    model.eval()
    R = model.replicas
    correct = torch.zeros(R, device=x.device)
    for s in range(0, len(x), batch):
        xb = _replicate(x[s:s + batch], R).contiguous(memory_format=RUNTIME["fmt"])  # [n,R*C,H,W]
        kb = None if keep is None else keep.expand(len(xb), *keep.shape[1:])
        logits = model(xb, policy, kb, train_quant=False).view(len(xb), R, model.arch.classes)  # [n,R,K]
        correct += (logits.argmax(-1) == y[s:s + batch, None]).sum(0)
    acc = (correct / max(1, len(x))).tolist()
    return acc[0] if R == 1 else acc


@torch.no_grad()
def recalibrate_bn(model: SepResNeXt, x: torch.Tensor, policy, images: int, batch: int = 512) -> None:
    """Re-estimates every BatchNorm's running statistics under `policy` from the first `images` training
    images (no augmentation): the supernet's running stats average over all sampled policies, so each
    candidate is scored with its own statistics (cumulative average, momentum None)."""
    if images <= 0:
        return
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    n = min(images, len(x))
    for s in range(0, n, batch):
        xb = _replicate(x[s:min(s + batch, n)], model.replicas)
        model(xb.contiguous(memory_format=RUNTIME["fmt"]), policy, None, train_quant=False)
    for m, mom in zip(bns, saved):
        m.momentum = mom
    model.eval()


def supernet_policy_fn(n_points: int, P: int, random_per_step: int = 2, precisions: Sequence[str] = None) -> PolicyFn:
    """Sandwich rule: every step trains the densest policy (the baseline: every point, all channels, fp32)
    and the sparsest (no exchange) besides `random_per_step` random ones (each point off with probability
    p_off, p_off itself drawn per policy, so dense-ish and sparse-ish random policies are both common)."""
    dense, sparse = baseline(n_points), no_exchange(n_points)
    if P == 1:
        return lambda rng: [sparse]

    def fn(rng: random.Random):
        out = [dense, sparse]
        for _ in range(random_per_step):
            out.append(random_policy(rng, n_points, P, p_off=rng.random(), precisions=precisions))
        return out
    return fn


def fixed_policy_fn(spec) -> PolicyFn:
    return lambda rng: [spec]
