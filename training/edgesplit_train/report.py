"""Results table and Pareto-front picture for training/README.md (between the results markers)."""
from __future__ import annotations

import json
import os

START, END = "<!-- results:start -->", "<!-- results:end -->"


def _table(entries, seconds) -> str:
    rows = ["| package | P | policy | bytes/image | reduction vs baseline | val acc | test acc | FLOPs/partition | training time |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for e in entries:
        rows.append("| %s | %d | `%s` | %d | %.1f%% | %.2f%% | %.2f%% | %.2f M | %.0f s |" % (
            e["name"], e["partitions"], e["policyId"], e["exchangedBytes"], 100 * e["reductionVsBaseline"],
            100 * e["valAccuracy"], 100 * e["testAccuracy"], e["flopsPerPartition"] / 1e6, seconds.get(e["name"], 0)))
    return "\n".join(rows)


def _plot(cfg, entries, png: str) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5))
    colors = {2: "tab:blue", 4: "tab:red", 8: "tab:green"}
    for P, color in colors.items():
        sp = os.path.join(cfg.out_dir, "p%d" % P, "search.json")
        if os.path.isfile(sp):
            s = json.load(open(sp))
            # new layout: one search per mode (fp32-only, mixed precision); old: one list
            modes = s["modes"] if "modes" in s else {"": {"evaluated": s["evaluated"]}}
            for mode, m in modes.items():
                ev = m["evaluated"]
                ax.scatter([max(e["exchangedBytes"], 1) for e in ev], [100 * e["valAccuracy"] for e in ev], s=6,
                           color=color, alpha=0.25, marker="o" if mode != "fp32" else "^",
                           label="P=%d supernet, searched%s (val)" % (P, " " + mode if mode else ""))
        pk = [e for e in entries if e["partitions"] == P]
        if pk:
            ax.scatter([max(e["exchangedBytes"], 1) for e in pk], [100 * e["testAccuracy"] for e in pk], s=40,
                       marker="*", color=color, edgecolor="black", label="P=%d fine-tuned (test)" % P)
    for e in entries:
        if e["partitions"] == 1:
            ax.axhline(100 * e["testAccuracy"], color="gray", ls="--", label="P=1 reference (test)")
    ax.set_xscale("log")
    ax.set_xlabel("exchanged bytes per image (log; no exchange drawn at 1)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Transmission policies: accuracy vs bytes exchanged")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    return True


def write_report(cfg) -> None:
    cat = json.load(open(os.path.join(cfg.models_dir, "catalog.json")))
    entries = cat["packages"]
    seconds = {}
    for e in entries:
        m = json.load(open(os.path.join(cfg.models_dir, e["path"], "manifest.json")))
        seconds[e["name"]] = m["training"]["seconds"]
    # training/README.md holds the Fashion-MNIST results only; a quick run or another data set writes out_dir/report.md
    own = cfg.quick or cat.get("dataset", "fashion-mnist") != "fashion-mnist"
    target = os.path.join(cfg.out_dir, "report.md") if own else os.path.join("training", "README.md")
    png_rel = "pareto.png"
    png = os.path.join(os.path.dirname(target), png_rel)
    have_png = _plot(cfg, entries, png)
    body = _table(entries, seconds)
    if have_png:
        body += "\n\n![accuracy vs exchanged bytes](%s)\n" % png_rel
    section = "%s\n%s\n%s" % (START, body, END)
    text = open(target).read() if os.path.isfile(target) else "# Results\n\n%s\n" % section
    if START in text and END in text:
        text = text[:text.index(START)] + section + text[text.index(END) + len(END):]
    else:
        text += "\n" + section + "\n"
    with open(target, "w") as f:
        f.write(text)
