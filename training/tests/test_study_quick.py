"""The study entry point on tiny data: JSON, markdown table, choice, seed-0 P = 1 checkpoint."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_should_run_quick_study_and_pick_a_regime(tmp_path):
    out = tmp_path / "study"
    r = subprocess.run([sys.executable, os.path.join(HERE, "pipeline.py"), "study", "--quick", "--train_limit=96",
                        "--batch_size=32", "--val_size=64", "--test_limit=64", "--study_widths=0.25",
                        "--study_partitions=4", "--study_seeds=2", "--out_dir=%s" % out],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    st = json.load(open(out / "study.json"))
    assert st["epochs"] == 1 and st["precision"] == "fp32"
    kinds = sorted((x["partitions"], x["kind"], x["seed"]) for x in st["replicas"])
    assert kinds == [(1, "dense", 0), (1, "dense", 1), (4, "baseline", 0), (4, "baseline", 1),
                     (4, "none", 0), (4, "none", 1)]
    row = st["table"][0]
    assert row["widthMult"] == 0.25 and row["partitions"] == 4 and len(row["test"]["gap"]) == 2
    chosen = json.load(open(out / "chosen.json"))
    assert chosen["widthMult"] == 0.25 and chosen["partitions"] == 4
    assert chosen["meetsCriterion"] == (row["val"]["gap"][0] >= 0.015)
    md = open(out / "study.md").read()
    assert "| 0.25 | 4 | 2 |" in md and "Chosen regime" in md
    assert (out / "ckpt" / "w25-p1-s0.pt").is_file()
