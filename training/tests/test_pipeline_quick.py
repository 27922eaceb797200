"""The whole pipeline in --quick mode end to end; checks export parity and the catalog, not accuracy."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_should_run_quick_pipeline_and_export_matching_onnx(tmp_path):
    out, models = tmp_path / "out", tmp_path / "models"
    r = subprocess.run([sys.executable, os.path.join(HERE, "pipeline.py"), "all", "--quick",
                        "--out_dir=%s" % out, "--models_dir=%s" % models], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    cat = json.load(open(models / "catalog.json"))
    names = {e["name"] for e in cat["packages"]}
    assert {"fmnist-p1", "fmnist-p2-baseline", "fmnist-p2-none"} <= names
    for e in cat["packages"]:
        man = json.load(open(models / e["path"] / "manifest.json"))
        par = man["metrics"]["onnxParity"]
        fp32_only = all(p["shift"] == 0 or p["precision"] == "fp32" for p in man["policy"]["points"])
        assert par["maxAbsDiffLogits"] <= (1e-4 if fp32_only else 1e-3), (e["name"], par)
        fused = man["metrics"]["onnxParityFused"]  # the same check through the fused runs of units
        assert fused["maxAbsDiffLogits"] <= (1e-4 if fp32_only else 1e-3), (e["name"], fused)
        for seg in man["onnx"]["fused"]:
            assert seg["first"] < seg["last"] and (models / e["path"] / "p0" / seg["file"]).is_file()
        if man["partitions"] == 1:
            assert man["onnx"]["fused"] == [{"first": 0, "last": 9, "file": "fused/stem-block8.onnx"}]
        for i in range(man["partitions"]):
            assert (models / e["path"] / ("p%d" % i) / "stem.onnx").is_file()
        assert man["training"]["commit"] and man["training"]["command"].startswith("python3 training/pipeline.py")
        sched = man["training"]["schedule"]  # epochs, never seconds, decide a schedule; recorded per package
        assert sched["epochs"] == 1 and sched["epochsChosenBy"] == "config" and sched["precision"] == "fp32"
        assert man["architecture"]["widths"] == [16, 32, 64]  # the quick preset's quarter width
    search = json.load(open(out / "p2" / "search.json"))
    assert set(search["modes"]) == {"fp32", "mixed"} and search["recalImages"] == 128
    assert all(p["policyId"].count("h") + p["policyId"].count("u") == 0 for p in search["modes"]["fp32"]["evaluated"])
    assert (models / "data" / "images.bin").stat().st_size == 64 * 784
    assert (out / "report.md").is_file()
