"""The whole pipeline: supernet training, search, fine-tuning (stage `train`), then packages,
catalog, sample, parity checks and the results page (stage `export`)."""
from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import sys
import time
from typing import List

import numpy as np
import torch

from .config import Config, ConfigError, parse_args
from .data import test_set, to_tensor, train_val
from .export import catalog_entry, export_package, write_sample
from .model import Arch, SepResNeXt
from .policy import baseline, exchanged_bytes, no_exchange, parse_policy_id, policy_id, PointPolicy
from .search import nsga2, pareto_front, pick_front
from .train import evaluate, fit, supernet_policy_fn


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def device_of(cfg: Config) -> torch.device:
    if cfg.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(cfg.device)


def arch_for(cfg: Config, P: int) -> Arch:
    return Arch(partitions=P, stem=cfg.stem, widths=tuple(cfg.widths), blocks_per_stage=cfg.blocks_per_stage,
                cardinality=cfg.cardinality)


def git_commit() -> str:
    if os.environ.get("EDGESPLIT_COMMIT"):
        return os.environ["EDGESPLIT_COMMIT"]
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], stderr=subprocess.DEVNULL,
                                       text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def train_stage(cfg: Config, command: str) -> None:
    dev = device_of(cfg)
    torch.manual_seed(cfg.seed)
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    (trx, try_), (vax, vay) = train_val(cfg)
    tex, tey = test_set(cfg)
    xtr, ytr = to_tensor(trx, dev), torch.from_numpy(try_).to(dev)
    xva, yva = to_tensor(vax, dev), torch.from_numpy(vay).to(dev)
    xte, yte = to_tensor(tex, dev), torch.from_numpy(tey).to(dev)
    sv = min(cfg.search_val_images, len(xva))
    log("data: %d train, %d validation, %d test images on %s" % (len(xtr), len(xva), len(xte), dev))
    for P in cfg.partitions:
        pdir = os.path.join(cfg.out_dir, "p%d" % P)
        os.makedirs(pdir, exist_ok=True)
        arch = arch_for(cfg, P)
        points = arch.points()
        torch.manual_seed(cfg.seed + P)
        model = SepResNeXt(arch).to(dev)
        results = []
        if P == 1:
            secs, ep = fit(model, xtr, ytr, cfg.epochs_p1, cfg.lr, cfg, "train P=1",
                           supernet_policy_fn(len(points), 1), 0.0, cfg.seed, cfg.supernet_budget_s)
            pol = no_exchange(len(points))
            results.append(_result(model, pol, "none", "%s-p1" % cfg.name_prefix, xva, yva, xte, yte, secs,
                                   ep, 0, pdir))
            _save_results(pdir, P, command, dev, cfg, results)
        else:
            if not cfg.only_policy:
                secs, sup_ep = fit(model, xtr, ytr, cfg.epochs, cfg.lr, cfg, "supernet P=%d" % P,
                                   supernet_policy_fn(len(points), P), cfg.branch_dropout, cfg.seed,
                                   cfg.supernet_budget_s)
                torch.save(model.state_dict(), os.path.join(pdir, "supernet.pt"))
                _search(cfg, model, points, P, xva[:sv], yva[:sv], pdir, secs, sup_ep)
                if cfg.skip_finetune:
                    continue
            search = json.load(open(os.path.join(pdir, "search.json")))
            supernet_state = None if cfg.init_from else torch.load(os.path.join(pdir, "supernet.pt"), map_location=dev)
            todo = [(pid, name) for pid, name in search["todo"] if not cfg.only_policy or pid == cfg.only_policy]
            if not todo:
                raise ConfigError("only_policy: %r is not among the searched policies %s" % (
                    cfg.only_policy, [t[0] for t in search["todo"]]))
            for n, (pid, name) in enumerate(todo):
                pol = {"baseline": baseline(len(points)), "none": no_exchange(len(points))}.get(pid) or \
                    parse_policy_id(pid, len(points), P)
                model.load_state_dict(supernet_state if supernet_state is not None else
                                      torch.load(os.path.join(cfg.init_from, "%s.pt" % name), map_location=dev))
                ft, ft_ep = fit(model, xtr, ytr, cfg.finetune_epochs, cfg.finetune_lr, cfg,
                                "fine-tune P=%d %s (%d/%d)" % (P, pid, n + 1, len(todo)), lambda rng, pol=pol: pol,
                                cfg.branch_dropout, cfg.seed + 1 + [t[0] for t in search["todo"]].index(pid),
                                cfg.finetune_budget_s)
                results.append(_result(model, pol, pid, name, xva, yva, xte, yte,
                                       search["supernetSeconds"] + search["seconds"] + ft,
                                       search["supernetEpochs"], ft_ep, pdir))
                _save_results(pdir, P, command, dev, cfg, results,
                              "results-%s.json" % cfg.only_policy if cfg.only_policy else "results.json")
        log("P=%d done: %s" % (P, ", ".join("%s val %.4f test %.4f" % (r["policyId"], r["valAccuracy"],
                                                                        r["testAccuracy"]) for r in results)))


def _search(cfg, model, points, P, xv, yv, pdir, secs, sup_ep) -> None:
    t0 = time.time()
    base, none = baseline(len(points)), no_exchange(len(points))
    seeds = [base, none, tuple(PointPolicy(1, 0.25, "uint8") for _ in points)]
    evaluated = nsga2(lambda pol: evaluate(model, xv, yv, pol), points, P, cfg.population,
                      cfg.generations, cfg.seed, seeds, log)
    base_acc = dict(evaluated)[base][0]
    picks = pick_front(evaluated, base_acc, cfg.front_size, max_drop=0.01)
    todo = [("baseline", "%s-p%d-baseline" % (cfg.name_prefix, P)), ("none", "%s-p%d-none" % (cfg.name_prefix, P))]
    todo += [(policy_id(p), "%s-p%d-%s" % (cfg.name_prefix, P, policy_id(p))) for p, _ in picks
             if p not in (base, none)]
    with open(os.path.join(pdir, "search.json"), "w") as f:
        json.dump({"seconds": time.time() - t0, "supernetSeconds": secs, "supernetEpochs": sup_ep,
                   "evaluated": [{"policyId": policy_id(p), "valAccuracy": s[0], "exchangedBytes": s[1]}
                                 for p, s in evaluated],
                   "front": [policy_id(p) for p, _ in pareto_front(evaluated)],
                   "picked": [policy_id(p) for p, _ in picks], "todo": todo}, f, indent=1)


def _save_results(pdir, P, command, dev, cfg, results, fname="results.json") -> None:
    """Rewritten after every package, so a run cut short still leaves what it finished."""
    with open(os.path.join(pdir, fname), "w") as f:
        json.dump({"partitions": P, "command": command, "commit": git_commit(), "device": str(dev),
                   "config": cfg.__dict__, "packages": results}, f, indent=1)


def _result(model, pol, pid, name, xva, yva, xte, yte, secs, epochs, ft_epochs, pdir) -> dict:
    va, te = evaluate(model, xva, yva, pol), evaluate(model, xte, yte, pol)
    ckpt = os.path.join(pdir, "%s.pt" % name)
    torch.save(model.state_dict(), ckpt)
    log("  %s: val %.4f test %.4f bytes %d" % (name, va, te, exchanged_bytes(pol, model.arch.points(),
                                                                           model.arch.partitions)))
    return {"name": name, "policyId": pid, "policy": policy_id(pol), "valAccuracy": va, "testAccuracy": te,
            "seconds": secs, "epochs": epochs, "finetuneEpochs": ft_epochs, "checkpoint": os.path.basename(ckpt)}


def export_stage(cfg: Config) -> List[dict]:
    from .onnx_check import check_package, run_package
    tex, tey = test_set(cfg)
    sx, sy = tex[:cfg.sample_images], tey[:cfg.sample_images]
    os.makedirs(cfg.models_dir, exist_ok=True)
    write_sample(cfg.models_dir, sx, sy)
    entries = []
    for P in cfg.partitions:
        pdir = os.path.join(cfg.out_dir, "p%d" % P)
        files = sorted(f for f in os.listdir(pdir) if f.startswith("results")) if os.path.isdir(pdir) else []
        if not files:
            raise ConfigError("out_dir: no results in %s; run the train stage for P=%d first" % (pdir, P))
        arch = arch_for(cfg, P)
        runs = [json.load(open(os.path.join(pdir, f))) for f in files]
        order = {"baseline": 0, "none": 1}
        for res, r in sorted(((res, r) for res in runs for r in res["packages"]),
                             key=lambda t: (order.get(t[1]["policyId"], 2), -t[1]["valAccuracy"])):
            model = SepResNeXt(arch)
            model.load_state_dict(torch.load(os.path.join(pdir, r["checkpoint"]), map_location="cpu"))
            pol = parse_policy_id(r["policy"], len(arch.points()), P)
            out = os.path.join(cfg.models_dir, r["name"])
            training = {"epochs": r["epochs"], "finetuneEpochs": r["finetuneEpochs"], "seed": cfg.seed,
                        "commit": res["commit"], "command": res["command"], "seconds": round(r["seconds"], 1),
                        "device": res["device"]}
            man = export_package(model, pol, r["policyId"], out, r["name"],
                                 {"valAccuracy": r["valAccuracy"], "testAccuracy": r["testAccuracy"]},
                                 training, sx, sy, cfg.test_vectors)
            # the sample accuracy the runtime must reproduce, computed through the exported ONNX units
            _, logits = run_package(out, sx)
            man["metrics"]["sampleAccuracy"] = float((logits.argmax(1) == sy).mean())
            man["metrics"]["sampleImages"] = int(len(sx))
            parity = check_package(out)
            man["metrics"]["onnxParity"] = parity
            json.dump(man, open(os.path.join(out, "manifest.json"), "w"), indent=2)
            log("exported %s: test %.4f sample %.4f bytes %d parity %s" % (
                r["name"], r["testAccuracy"], man["metrics"]["sampleAccuracy"], man["metrics"]["exchangedBytes"],
                parity))
            entries.append(catalog_entry(man, r["name"]))
    with open(os.path.join(cfg.models_dir, "catalog.json"), "w") as f:
        json.dump({"dataset": "fashion-mnist", "packages": entries}, f, indent=2)
    return entries


def main(argv: List[str]) -> int:
    stage = "all"
    if argv and not argv[0].startswith("--"):
        stage, argv = argv[0], argv[1:]
    try:
        if stage not in ("all", "train", "export", "report"):
            raise ConfigError("stage: unknown %r (all, train, export, report)" % stage)
        cfg = parse_args(argv)
    except ConfigError as e:
        print("edgesplit-train: error: %s" % e, file=sys.stderr)
        return 2
    command = "python3 training/pipeline.py %s %s" % (stage, " ".join(argv))
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    t0 = time.time()
    try:
        if stage in ("all", "train"):
            train_stage(cfg, command.strip())
        if stage in ("all", "export"):
            export_stage(cfg)
        if stage in ("all", "export", "report"):
            from .report import write_report
            write_report(cfg)
    except ConfigError as e:
        print("edgesplit-train: error: %s" % e, file=sys.stderr)
        return 2
    log("pipeline %s finished in %.1fs" % (stage, time.time() - t0))
    return 0
