"""The whole pipeline: supernet training, search, fine-tuning (stage `train`), then packages,
catalog, sample, parity checks and the results page (stage `export`)."""
from __future__ import annotations

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
from .data import DataInfo, load as load_data, to_device
from .export import catalog_entry, export_package, write_sample
from .model import Arch, SepResNeXt, extract_replica, load_replica
from .policy import baseline, exchanged_bytes, no_exchange, parse_policy_id, policy_id, PointPolicy
from .search import nsga2, pareto_front, pick_front
from .train import (auto_epochs, configure, evaluate, fit, fixed_policy_fn, recalibrate_bn, seconds_per_epoch,
                    supernet_policy_fn)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def device_of(cfg: Config) -> torch.device:
    if cfg.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(cfg.device)


def arch_for(cfg: Config, P: int, mult: float = None, inp: dict = None) -> Arch:
    """The architecture of a config; `inp` (DataInfo.input_json() plus classes, as results.json records it)
    gives the input shape, normalisation and class count (default: Fashion-MNIST's)."""
    stem, widths = cfg.scaled_widths(mult)
    extra = {}
    if inp:
        extra = dict(channels=inp["channels"], height=inp["height"], width=inp["width"], mean=tuple(inp["mean"]),
                     std=tuple(inp["std"]), classes=inp["classes"])
    return Arch(partitions=P, stem=stem, widths=tuple(widths), blocks_per_stage=cfg.blocks_per_stage,
                cardinality=cfg.cardinality, **extra)


def input_record(info: DataInfo) -> dict:
    """What results.json records of the data a network was trained on (and arch_for reads back)."""
    return dict(info.input_json(), classes=len(info.classes), classNames=list(info.classes), dataset=info.dataset)


def git_commit() -> str:
    if os.environ.get("EDGESPLIT_COMMIT"):
        return os.environ["EDGESPLIT_COMMIT"]
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], stderr=subprocess.DEVNULL,
                                       text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_state(model) -> dict:
    """A state dict that loads anywhere (CPU, contiguous; channels_last weights are re-laid out)."""
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}


def width_tag(mult: float) -> str:
    return "w%d" % round(100 * mult)


class Data:
    def __init__(self, cfg: Config, dev: torch.device):
        ds = load_data(cfg)
        (trx, try_), (vax, vay), (tex, tey) = ds.train, ds.val, ds.test
        self.info = ds.info
        self.inp = input_record(ds.info)
        self.xtr, self.ytr = to_device(trx, dev), torch.from_numpy(try_).to(dev)  # [N,C,H,W] uint8, [N]
        self.xva, self.yva = to_device(vax, dev), torch.from_numpy(vay).to(dev)
        self.xte, self.yte = to_device(tex, dev), torch.from_numpy(tey).to(dev)
        i = ds.info
        log("data: %s (%s), %d classes, %dx%dx%d (CxHxW), mean %s std %s; %d train, %d validation, %d test images "
            "on %s" % (i.dataset, i.kind, len(i.classes), i.channels, i.height, i.width, i.mean, i.std,
                       len(self.xtr), len(self.xva), len(self.xte), dev))


class Clock:
    """Wall clock of a stage, for the one-time choice of epoch counts (epochs = 0) and progress lines."""

    def __init__(self, budget_s: float):
        self.t0, self.budget = time.time(), budget_s

    def left(self) -> float:
        return self.budget - (time.time() - self.t0)


def _pick_epochs(fixed: int, what: str, sec_fn, budget_s: float, cfg: Config) -> tuple:
    """(epochs, how): the configured count, or (0 = auto) the most whole epochs that fit budget_s at the
    measured seconds per epoch, capped at max_auto_epochs. Chosen once, before training; recorded."""
    if fixed > 0:
        return fixed, {"epochs": fixed, "chosenBy": "config"}
    sec = sec_fn()
    ep = auto_epochs(sec, budget_s, cfg.max_auto_epochs)
    log("[%s] measured %.2f s/epoch; budget %.0f s -> %d epochs (cap %d)" % (what, sec, budget_s, ep, cfg.max_auto_epochs))
    return ep, {"epochs": ep, "chosenBy": "measured %.3f s/epoch against a %.0f s budget, cap %d" % (
        sec, budget_s, cfg.max_auto_epochs)}


def train_stage(cfg: Config, command: str) -> None:
    dev = device_of(cfg)
    rt = configure(cfg, dev)
    torch.manual_seed(cfg.seed)
    d = Data(cfg, dev)
    clock = Clock(cfg.time_budget_s)
    sv = min(cfg.search_val_images, len(d.xva))
    weights = {P: (0 if P == 1 and cfg.reference_from else 1 if P == 1 else 3) for P in cfg.partitions}
    for n_done, P in enumerate(cfg.partitions):
        share = clock.left() * weights[P] / max(1, sum(weights[q] for q in cfg.partitions[n_done:]))
        pclock = Clock(share)
        pdir = os.path.join(cfg.out_dir, "p%d" % P)
        os.makedirs(pdir, exist_ok=True)
        arch = arch_for(cfg, P, inp=d.inp)
        points = arch.points()
        torch.manual_seed(cfg.seed + P)
        results = []
        base, none = baseline(len(points)), no_exchange(len(points))
        if P == 1:
            name = "%s-p1" % cfg.name_prefix
            model = SepResNeXt(arch).to(dev)
            if cfg.reference_from:
                src, info = _study_reference(cfg, model)
                log("P=1: reference taken from the study (%s)" % src)
                results.append(_result(model, none, "none", name, d, info, pdir))
            else:
                pf = fixed_policy_fn(none)
                ep, how = _pick_epochs(cfg.epochs_p1, "P=1", lambda: seconds_per_epoch(
                    model, d.xtr, d.ytr, cfg, pf, 0.0), pclock.left(), cfg)
                tr = fit(model, d.xtr, d.ytr, ep, cfg.lr, cfg, "train P=1", pf, 0.0, cfg.seed)
                results.append(_result(model, none, "none", name, d, _training(tr, how, None, rt, cfg), pdir))
            _save_results(pdir, P, command, dev, cfg, results, d.inp)
        else:
            model = SepResNeXt(arch).to(dev)
            pf = supernet_policy_fn(len(points), P, cfg.sandwich_random)
            ep, how = _pick_epochs(cfg.epochs, "supernet P=%d" % P, lambda: seconds_per_epoch(
                model, d.xtr, d.ytr, cfg, pf, cfg.branch_dropout), 0.5 * pclock.left(), cfg)
            sup = fit(model, d.xtr, d.ytr, ep, cfg.lr, cfg, "supernet P=%d" % P, pf, cfg.branch_dropout, cfg.seed)
            sup_state = cpu_state(model)
            torch.save(sup_state, os.path.join(pdir, "supernet.pt"))
            sup_info = dict(_training(sup, how, None, rt, cfg), sandwichRandom=cfg.sandwich_random)
            todo = _search(cfg, model, points, P, d, sv, pdir, sup_info)
            if cfg.skip_finetune:
                continue
            # every fine-tune of this P as one stacked network: replica r starts from the supernet
            R = len(todo)
            stacked = SepResNeXt(arch, R).to(dev)
            for r in range(R):
                load_replica(stacked, r, sup_state)
            pols = [_policy_of(t["policyId"], len(points), P) for t in todo]
            bds = [t["branchDropout"] for t in todo]
            pf = fixed_policy_fn(pols)
            ep, how = _pick_epochs(cfg.finetune_epochs, "fine-tune P=%d (%d stacked)" % (P, R), lambda: seconds_per_epoch(
                stacked, d.xtr, d.ytr, cfg, pf, bds), 0.9 * pclock.left(), cfg)
            ft = fit(stacked, d.xtr, d.ytr, ep, cfg.finetune_lr, cfg,
                     "fine-tune P=%d: %d policies stacked" % (P, R), pf, bds, cfg.seed + 1)
            for r, t in enumerate(todo):
                single = extract_replica(stacked, r)
                info = dict(_training(ft, how, r, rt, cfg), supernet=sup_info, branchDropout=bds[r],
                            search=t.get("modes", []))
                results.append(_result(single, pols[r], t["policyId"], t["name"], d, info, pdir))
            _save_results(pdir, P, command, dev, cfg, results, d.inp)
        log("P=%d done: %s" % (P, ", ".join("%s val %.4f test %.4f" % (r["name"], r["valAccuracy"],
                                                                        r["testAccuracy"]) for r in results)))


def _policy_of(pid: str, n_points: int, P: int):
    return {"baseline": baseline(n_points), "none": no_exchange(n_points)}.get(pid) or \
        parse_policy_id(pid, n_points, P)


def _training(tr: dict, how: dict, replica, rt: dict, cfg: Config) -> dict:
    """The schedule record of a result (into results.json and the manifest's training block)."""
    hist = [{"epoch": h["epoch"], "loss": h["loss"],
             "trainAcc": h["trainAcc"][replica if replica is not None else 0]} for h in tr["history"]]
    return {"epochs": tr["epochs"], "epochsChosenBy": how["chosenBy"], "batchSize": tr["batchSize"],
            "stepsPerEpoch": tr["stepsPerEpoch"], "seconds": round(tr["seconds"], 1), "precision": rt["amp"],
            "channelsLast": rt["channelsLast"], "device": rt["device"], "history": hist}


def _study_reference(cfg: Config, model: SepResNeXt) -> tuple:
    """Loads the study's seed-0 dense P = 1 network of this width into `model` (re-evaluated by the caller)."""
    path = os.path.join(cfg.reference_from, "ckpt", "%s-p1-s0.pt" % width_tag(cfg.width_mult))
    meta = os.path.join(cfg.reference_from, "study.json")
    if not os.path.isfile(path) or not os.path.isfile(meta):
        raise ConfigError("reference_from: no %s (run `pipeline.py study` with this width first)" % path)
    model.load_state_dict(torch.load(path, map_location=next(model.parameters()).device))
    study = json.load(open(meta))
    run = next(r for r in study["runs"] if r["partitions"] == 1 and abs(r["widthMult"] - cfg.width_mult) < 1e-9)
    return path, dict(run["training"], source="study seed 0 (%s)" % path)


def _search(cfg, model, points, P, d: Data, sv: int, pdir: str, sup_info: dict) -> list:
    """One NSGA-II search per mode (fp32 only; all precisions) on the held-out validation split, every
    candidate scored after BatchNorm recalibration on training images. Returns the fine-tune list."""
    t0 = time.time()
    base, none = baseline(len(points)), no_exchange(len(points))
    xv, yv = d.xva[:sv], d.yva[:sv]

    def score(pol):
        recalibrate_bn(model, d.xtr, pol, cfg.recal_images)
        return evaluate(model, xv, yv, pol)

    todo = [{"policyId": "baseline", "name": "%s-p%d-baseline" % (cfg.name_prefix, P), "branchDropout": cfg.branch_dropout},
            {"policyId": "none", "name": "%s-p%d-none" % (cfg.name_prefix, P), "branchDropout": cfg.branch_dropout}]
    searches = {}
    for mode in cfg.search_modes:
        precs = ("fp32",) if mode == "fp32" else ("fp32", "fp16", "uint8")
        seeds = [base, none] + [tuple(PointPolicy(1, f, q) for _ in points) for f in (0.25, 0.5) for q in precs]
        evaluated = nsga2(score, points, P, cfg.population, cfg.generations, cfg.seed, seeds, log,
                          precisions=precs, label=" %s" % mode)
        base_acc = dict(evaluated)[base][0]
        picks = pick_front(evaluated, base_acc, cfg.front_size, max_drop=cfg.front_max_drop)
        searches[mode] = {"baselineAccuracy": base_acc,
                          "noneAccuracy": dict(evaluated).get(none, (None,))[0],
                          "evaluated": [{"policyId": policy_id(p), "valAccuracy": s[0], "exchangedBytes": s[1]}
                                        for p, s in evaluated],
                          "front": [policy_id(p) for p, _ in pareto_front(evaluated)],
                          "picked": [policy_id(p) for p, _ in picks]}
        for p, _ in picks:
            if p in (base, none):
                continue
            pid = policy_id(p)
            hit = next((t for t in todo if t["policyId"] == pid), None)
            if hit:
                hit["modes"].append(mode)
                continue
            todo.append({"policyId": pid, "name": "%s-p%d-%s" % (cfg.name_prefix, P, pid),
                         "branchDropout": cfg.branch_dropout, "modes": [mode]})
    if cfg.bd_variant > 0:  # labelled degradation variants: the baseline and each search's first pick,
        # fine-tuned with branch dropout (kept few: every variant is one more stacked replica)
        firsts = {"baseline"} | {next((t["policyId"] for t in todo if mode in t.get("modes", [])), None)
                                 for mode in cfg.search_modes}
        todo += [dict(t, name=t["name"] + "-bd", branchDropout=cfg.bd_variant) for t in list(todo)
                 if t["policyId"] in firsts]
    with open(os.path.join(pdir, "search.json"), "w") as f:
        json.dump({"seconds": time.time() - t0, "supernet": sup_info, "recalImages": cfg.recal_images,
                   "searchImages": int(len(xv)), "modes": searches, "todo": todo}, f, indent=1)
    log("[search P=%d] %.0fs; fine-tune list: %s" % (P, time.time() - t0, ", ".join(t["name"] for t in todo)))
    return todo


def _save_results(pdir, P, command, dev, cfg, results, inp: dict, fname="results.json") -> None:
    """Rewritten after every P, so a run cut short still leaves what it finished."""
    with open(os.path.join(pdir, fname), "w") as f:
        json.dump({"partitions": P, "command": command, "commit": git_commit(), "device": str(dev),
                   "config": cfg.__dict__, "input": inp, "packages": results}, f, indent=1)


def _result(model, pol, pid, name, d: Data, training: dict, pdir) -> dict:
    va, te = evaluate(model, d.xva, d.yva, pol), evaluate(model, d.xte, d.yte, pol)
    ckpt = os.path.join(pdir, "%s.pt" % name)
    torch.save(cpu_state(model), ckpt)
    log("  %s: val %.4f test %.4f bytes %d" % (name, va, te, exchanged_bytes(pol, model.arch.points(),
                                                                           model.arch.partitions)))
    sup = training.get("supernet", {})
    return {"name": name, "policyId": pid, "policy": policy_id(pol), "valAccuracy": va, "testAccuracy": te,
            "seconds": training["seconds"] + sup.get("seconds", 0), "epochs": sup.get("epochs", training["epochs"]),
            "finetuneEpochs": training["epochs"] if sup else 0, "schedule": training,
            "checkpoint": os.path.basename(ckpt)}


def arch_from_results(res: dict, cfg: Config, P: int, inp: dict = None) -> Arch:
    """The architecture a results file was trained with (its recorded config and input), so an export needs
    no architecture flags; older results without width_mult fall back to the current config, those without
    an input record (all Fashion-MNIST) to `inp`."""
    c = res.get("config") or {}
    base = Config(**{k: v for k, v in c.items() if k in Config.__dataclass_fields__}) if c else cfg
    return arch_for(base, P, inp=res.get("input") or inp)


def export_stage(cfg: Config) -> List[dict]:
    from .onnx_check import check_package, run_package
    ds = load_data(cfg)
    info, inp = ds.info, input_record(ds.info)
    tex, tey = ds.test
    sx, sy = tex[:cfg.sample_images], tey[:cfg.sample_images]
    os.makedirs(cfg.models_dir, exist_ok=True)
    write_sample(cfg.models_dir, sx, sy, info.classes, info.source.format(n=len(sx)))
    entries = []
    for P in cfg.partitions:
        pdir = os.path.join(cfg.out_dir, "p%d" % P)
        files = sorted(f for f in os.listdir(pdir) if f.startswith("results")) if os.path.isdir(pdir) else []
        if not files:
            raise ConfigError("out_dir: no results in %s; run the train stage for P=%d first" % (pdir, P))
        runs = [json.load(open(os.path.join(pdir, f))) for f in files]
        order = {"baseline": 0, "none": 1}
        for res, r in sorted(((res, r) for res in runs for r in res["packages"]),
                             key=lambda t: (order.get(t[1]["policyId"], 2), -t[1]["valAccuracy"])):
            arch = arch_from_results(res, cfg, P, inp)
            if (arch.channels, arch.height, arch.width, arch.classes) != (info.channels, info.height, info.width,
                                                                          len(info.classes)):
                raise ConfigError("out_dir: %s was trained on %dx%dx%d images of %d classes, the data gives %dx%dx%d "
                                  "of %d (export with the same --data, --image_size and --channels)" % (
                                      r["name"], arch.channels, arch.height, arch.width, arch.classes,
                                      info.channels, info.height, info.width, len(info.classes)))
            model = SepResNeXt(arch)
            model.load_state_dict(torch.load(os.path.join(pdir, r["checkpoint"]), map_location="cpu"))
            pol = parse_policy_id(r["policy"], len(arch.points()), P)
            out = os.path.join(cfg.models_dir, r["name"])
            sched = dict(r.get("schedule") or {})
            sched.pop("history", None)  # the per-epoch curve stays in results.json
            training = {"epochs": r["epochs"], "finetuneEpochs": r["finetuneEpochs"], "seed": res["config"].get("seed", cfg.seed),
                        "commit": res["commit"], "command": res["command"], "seconds": round(r["seconds"], 1),
                        "device": res["device"]}
            if sched:
                training["schedule"] = sched
            man = export_package(model, pol, r["policyId"], out, r["name"],
                                 {"valAccuracy": r["valAccuracy"], "testAccuracy": r["testAccuracy"]},
                                 training, sx, sy, cfg.test_vectors, classes=info.classes, dataset=info.dataset)
            # the sample accuracy the runtime must reproduce, computed through the exported ONNX units
            _, logits = run_package(out, sx)
            man["metrics"]["sampleAccuracy"] = float((logits.argmax(1) == sy).mean())
            man["metrics"]["sampleImages"] = int(len(sx))
            # export_package fused each partition's runs of units (fuse.py): checked like the units
            parity = check_package(out)
            man["metrics"]["onnxParity"] = parity
            man["metrics"]["onnxParityFused"] = check_package(out, fused=True)
            json.dump(man, open(os.path.join(out, "manifest.json"), "w"), indent=2)
            log("exported %s: test %.4f sample %.4f bytes %d parity %s" % (
                r["name"], r["testAccuracy"], man["metrics"]["sampleAccuracy"], man["metrics"]["exchangedBytes"],
                parity))
            entries.append(catalog_entry(man, r["name"]))
    cat_path = os.path.join(cfg.models_dir, "catalog.json")
    if cfg.catalog_merge and os.path.isfile(cat_path):
        names = {e["name"] for e in entries}
        kept = [e for e in json.load(open(cat_path))["packages"]
                if e["name"] not in names and os.path.isfile(os.path.join(cfg.models_dir, e["path"], "manifest.json"))]
        entries = kept + entries
    with open(cat_path, "w") as f:
        json.dump({"dataset": info.dataset, "packages": entries}, f, indent=2)
    return entries


def main(argv: List[str]) -> int:
    stage = "all"
    if argv and not argv[0].startswith("--"):
        stage, argv = argv[0], argv[1:]
    try:
        if stage not in ("all", "train", "export", "report", "study"):
            raise ConfigError("stage: unknown %r (all, train, export, report, study)" % stage)
        cfg = parse_args(argv)
        if stage in ("all", "train", "export", "study"):
            load_data(cfg)  # data errors (an empty or one-class folder, a corrupt image...) before any work
    except ConfigError as e:
        print("edgesplit-train: error: %s" % e, file=sys.stderr)
        return 2
    command = "python3 training/pipeline.py %s %s" % (stage, " ".join(argv))
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    t0 = time.time()
    try:
        if stage == "study":
            from .study import study_stage
            study_stage(cfg, command.strip())
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
