"""The decisive study (issue 14): does exchanging buy accuracy? For every width multiplier and P, `none`
(no exchange) and `baseline` (exchange everywhere, fp32) trained from scratch with several seeds, plus the
dense P = 1 network of the same total width; a JSON, a markdown table of mean +- std and the regime(s)
where the baseline beats `none` by at least `study_gap`.

Each (width, P) is one stacked network (model.SepResNeXt with replicas): the seeds (and, for P > 1,
none and baseline) train side by side as independent replicas; none and baseline of one seed start
from the same initial weights (a paired comparison), each replica draws its own image order."""
from __future__ import annotations

import json
import os
import statistics
import time

import torch

from .config import Config
from .model import SepResNeXt, extract_replica, load_replica
from .policy import baseline, no_exchange
from .train import auto_epochs, configure, evaluate, fit, fixed_policy_fn, log, seconds_per_epoch


def _runs(cfg: Config) -> list:
    """(width, P, replica kinds) of every stacked run; the dense P = 1 runs first for each width."""
    out = []
    for w in cfg.study_widths:
        out.append((w, 1, [("dense", s) for s in range(cfg.study_seeds)]))
        for P in cfg.study_partitions:
            out.append((w, P, [(k, s) for s in range(cfg.study_seeds) for k in ("none", "baseline")]))
    return out


def _ms(v: list) -> tuple:
    return (statistics.mean(v), statistics.stdev(v) if len(v) > 1 else 0.0)


def study_stage(cfg: Config, command: str) -> dict:
    # late imports: pipeline imports this module's caller
    from .pipeline import Data, arch_for, cpu_state, device_of, git_commit, width_tag
    dev = device_of(cfg)
    rt = configure(cfg, dev)
    d = Data(cfg, dev)
    os.makedirs(os.path.join(cfg.out_dir, "ckpt"), exist_ok=True)
    t_start = time.time()
    plan = []
    for i, (w, P, kinds) in enumerate(_runs(cfg)):
        arch = arch_for(cfg, P, w, inp=d.inp)
        n_pts = len(arch.points())
        pols = [no_exchange(n_pts) if k in ("none", "dense") else baseline(n_pts) for k, _ in kinds]
        plan.append((i, w, P, kinds, arch, pols))

    def build(i, arch, kinds):
        torch.manual_seed(cfg.seed + 1000 * i)
        model = SepResNeXt(arch, len(kinds)).to(dev)
        # none and baseline of one seed start from the same weights
        for r, (k, s) in enumerate(kinds):
            if k == "baseline":
                src = kinds.index(("none", s))
                load_replica(model, r, extract_replica(model, src).state_dict())
        return model

    if cfg.study_epochs > 0:
        epochs, how = cfg.study_epochs, "config"
    else:
        t0 = time.time()
        secs = []
        for i, w, P, kinds, arch, pols in plan:
            sec = seconds_per_epoch(build(i, arch, kinds), d.xtr, d.ytr, cfg, fixed_policy_fn(pols), 0.0)
            secs.append(sec)
            log("[study calibration] width %g P=%d (%d stacked): %.2f s/epoch" % (w, P, len(kinds), sec))
        spent = time.time() - t0
        # evaluation and model building take a little beside the epochs: plan on 92% of what is left
        budget = 0.92 * (cfg.study_budget_s - spent)
        epochs = auto_epochs(sum(secs), budget, cfg.max_auto_epochs)
        how = "measured %.2f s per epoch of all %d runs together against %.0f s left of a %.0f s budget, cap %d" % (
            sum(secs), len(plan), budget, cfg.study_budget_s, cfg.max_auto_epochs)
        log("[study] %s -> %d epochs for every run" % (how, epochs))
    result = {"command": command, "commit": git_commit(), "device": str(dev), "precision": rt["amp"],
              "channelsLast": rt["channelsLast"], "epochs": epochs, "epochsChosenBy": how,
              "batchSize": min(cfg.batch_size, len(d.xtr)), "lr": cfg.lr, "branchDropout": cfg.branch_dropout,
              "trainImages": int(len(d.xtr)), "valImages": int(len(d.xva)), "testImages": int(len(d.xte)),
              "seeds": cfg.study_seeds, "config": cfg.__dict__, "runs": [], "replicas": []}
    for n, (i, w, P, kinds, arch, pols) in enumerate(plan):
        model = build(i, arch, kinds)
        label = "study %d/%d: width %g P=%d, %d stacked" % (n + 1, len(plan), w, P, len(kinds))
        tr = fit(model, d.xtr, d.ytr, epochs, cfg.lr, cfg, label, fixed_policy_fn(pols), cfg.branch_dropout,
                 cfg.seed + 7 * i)
        va = evaluate(model, d.xva, d.yva, pols)
        te = evaluate(model, d.xte, d.yte, pols)
        va, te = (va, te) if isinstance(va, list) else ([va], [te])
        training = {"epochs": tr["epochs"], "epochsChosenBy": how, "batchSize": tr["batchSize"],
                    "stepsPerEpoch": tr["stepsPerEpoch"], "seconds": round(tr["seconds"], 1),
                    "precision": rt["amp"], "channelsLast": rt["channelsLast"], "device": rt["device"],
                    "stackedReplicas": len(kinds)}
        result["runs"].append({"widthMult": w, "partitions": P, "stem": arch.stem, "widths": list(arch.widths),
                               "replicas": len(kinds), "training": training,
                               "history": [{"epoch": h["epoch"], "loss": h["loss"]} for h in tr["history"]]})
        for r, (k, s) in enumerate(kinds):
            result["replicas"].append({"widthMult": w, "partitions": P, "kind": k, "seed": s,
                                       "valAccuracy": va[r], "testAccuracy": te[r],
                                       "finalTrainAcc": tr["history"][-1]["trainAcc"][r]})
        if P == 1:  # the seed-0 dense network is the shipped P = 1 reference of this width (train --reference_from)
            torch.save(cpu_state(extract_replica(model, 0)),
                       os.path.join(cfg.out_dir, "ckpt", "%s-p1-s0.pt" % width_tag(w)))
        log("[study] width %g P=%d: %s" % (w, P, ", ".join("%s/s%d val %.4f test %.4f" % (k, s, va[r], te[r])
                                                             for r, (k, s) in enumerate(kinds))))
        result["seconds"] = round(time.time() - t_start, 1)
        _summarise(result, cfg)
        _write(result, cfg.out_dir)  # after every run: a study cut short still leaves what it finished
        del model
    log("[study] done in %.0fs; chosen: %s" % (time.time() - t_start, json.dumps(result["chosen"])))
    return result


def _summarise(result: dict, cfg: Config) -> None:
    reps = result["replicas"]
    table = []
    for w in cfg.study_widths:
        dense = [r for r in reps if r["widthMult"] == w and r["partitions"] == 1]
        for P in cfg.study_partitions:
            sel = [r for r in reps if r["widthMult"] == w and r["partitions"] == P]
            if not sel:
                continue
            row = {"widthMult": w, "partitions": P, "seeds": len(sel) // 2}
            for split in ("val", "test"):
                key = split + "Accuracy"
                by = {k: {r["seed"]: r[key] for r in sel if r["kind"] == k} for k in ("none", "baseline")}
                gaps = [by["baseline"][s] - by["none"][s] for s in by["none"] if s in by["baseline"]]
                row[split] = {"none": _ms(list(by["none"].values())), "baseline": _ms(list(by["baseline"].values())),
                              "gap": _ms(gaps), "dense": _ms([r[key] for r in dense]) if dense else None}
            row["qualifies"] = row["val"]["gap"][0] >= cfg.study_gap  # chosen on the held-out validation split
            row["testGapMeets"] = row["test"]["gap"][0] >= cfg.study_gap
            table.append(row)
    result["table"] = table
    good = [r for r in table if r["qualifies"]]
    if good:  # the most accurate qualifying regime (by validation baseline accuracy)
        best = max(good, key=lambda r: (r["val"]["baseline"][0], r["val"]["gap"][0]))
    elif table:  # none qualifies: the largest gap, flagged
        best = max(table, key=lambda r: r["val"]["gap"][0])
    else:
        best = None
    result["qualifying"] = [{"widthMult": r["widthMult"], "partitions": r["partitions"]} for r in good]
    result["chosen"] = None if best is None else {
        "widthMult": best["widthMult"], "partitions": best["partitions"], "meetsCriterion": bool(best["qualifies"]),
        "valGap": best["val"]["gap"][0], "testGap": best["test"]["gap"][0], "criterion": cfg.study_gap}


def _pct(ms) -> str:
    return "—" if ms is None else "%.2f ± %.2f" % (100 * ms[0], 100 * ms[1])


def markdown(result: dict) -> str:
    lines = ["# none vs baseline vs dense P = 1 (test accuracy %, mean ± std over seeds)", "",
             "%d epochs per run (%s), batch %d, lr %g, branch dropout %g, %s%s on %s; %d train / %d val / %d test "
             "images; commit %s." % (result["epochs"], result["epochsChosenBy"], result["batchSize"], result["lr"],
                                     result["branchDropout"], result["precision"],
                                     ", channels_last" if result["channelsLast"] else "", result["device"],
                                     result["trainImages"], result["valImages"], result["testImages"],
                                     result["commit"]), "",
             "| width | P | seeds | dense P=1 | none | baseline | baseline − none (test) | baseline − none (val) | qualifies |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|"]
    for r in result["table"]:
        t, v = r["test"], r["val"]
        lines.append("| %g | %d | %d | %s | %s | %s | %s | %s | %s |" % (
            r["widthMult"], r["partitions"], r["seeds"], _pct(t["dense"]), _pct(t["none"]), _pct(t["baseline"]),
            _pct(t["gap"]), _pct(v["gap"]), "yes" if r["qualifies"] else "no"))
    c = result.get("chosen")
    lines += ["", "Qualifies: baseline − none on the validation split >= %.1f points (mean over seeds)." % (
        100 * result["config"]["study_gap"])]
    if c:
        lines.append("Chosen regime: width %g, P = %d (%s; val gap %.2f, test gap %.2f points)." % (
            c["widthMult"], c["partitions"], "meets the criterion" if c["meetsCriterion"] else
            "NO regime meets the criterion; this is the largest gap", 100 * c["valGap"], 100 * c["testGap"]))
    return "\n".join(lines) + "\n"


def _write(result: dict, out_dir: str) -> None:
    with open(os.path.join(out_dir, "study.json"), "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(out_dir, "study.md"), "w") as f:
        f.write(markdown(result))
    if result.get("chosen"):
        with open(os.path.join(out_dir, "chosen.json"), "w") as f:
            json.dump(result["chosen"], f, indent=1)
