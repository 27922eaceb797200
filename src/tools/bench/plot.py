"""Latency-vs-bandwidth picture of a bench.json: one line per configuration (p50 at batch 1), model families side by side."""
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

data = json.load(open(sys.argv[1]))
rows = [r for r in data["rows"] if not r["config"].startswith("planner")]
fams = [f for f in ("fmnist", "wide4x") if any(r["model"] == f for r in rows)]
fig, axes = plt.subplots(1, len(fams), figsize=(6.5 * len(fams), 4.6), squeeze=False)
titles = {"fmnist": "trained Fashion-MNIST model", "wide4x": "4x width (random weights, latency only)"}
for ax, fam in zip(axes[0], fams):
    for cfg in dict.fromkeys(r["config"] for r in rows if r["model"] == fam):
        pts = sorted((r["bandwidthMbps"], r["p50Ms"], r["predictedMs"]) for r in rows if r["config"] == cfg)
        line, = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=cfg.replace("4x ", ""))
        ax.plot([p[0] for p in pts], [p[2] for p in pts], linestyle=":", color=line.get_color(), alpha=0.7)
    ax.set_xscale("log"); ax.set_yscale("log")
    ax.set_xlabel("link bandwidth (Mbit/s)"); ax.set_ylabel("p50 latency, batch 1 (ms)")
    ax.set_title(titles[fam]); ax.grid(True, which="both", alpha=0.3); ax.legend(fontsize=8)
fig.suptitle("edgesplit on 4 emulated devices (%s core each); solid: measured, dotted: planner prediction" % data.get("cpuPerDevice"))
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
print(sys.argv[2])
