"""Throughput vs p99 latency of a batching.json: one line per package and batching mode, a point per client count."""
import json
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

data = json.load(open(sys.argv[1]))
rows = data["rows"]
fig, ax = plt.subplots(figsize=(7.5, 5))
styles = {("P=4", True): ("tab:blue", "-"), ("P=4", False): ("tab:blue", "--"),
          ("P=1", True): ("tab:orange", "-"), ("P=1", False): ("tab:orange", "--")}
for (config, batching), (color, ls) in styles.items():
    pts = sorted((r["clients"], r["throughputPerS"], r["p99Ms"]) for r in rows if r["config"] == config and r["batching"] == batching)
    if not pts:
        continue
    name = data["packages"][config]
    ax.plot([p[1] for p in pts], [p[2] for p in pts], color=color, linestyle=ls, marker="o",
            label="%s %s, batching %s" % (config, name, "on" if batching else "off"))
    for c, x, y in pts:
        ax.annotate(str(c), (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7, color=color)
ax.set_yscale("log")
ax.set_xlabel("throughput (requests/s, batch-1 requests)")
ax.set_ylabel("p99 latency (ms)")
ax.grid(True, which="both", alpha=0.3)
ax.legend(fontsize=8)
ax.set_title("Dynamic batching on %d emulated devices (%s core each, %s Mbit/s)\npoint labels: concurrent clients"
             % (data["devices"], data["cpuPerDevice"], data["mbps"]), fontsize=10)
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
print(sys.argv[2])
