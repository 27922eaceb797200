"""Fused segments: where a partition's runs of units end, and that a fused package answers as its units do."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from edgesplit_train.policy import unit_segments

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(os.path.dirname(HERE), "models")


def test_should_cut_after_the_sending_block_and_after_the_merging_block():
    assert unit_segments(9, []) == [(0, 9)]
    assert unit_segments(9, [6]) == [(0, 7), (8, 8), (9, 9)]
    assert unit_segments(9, [0, 1, 3, 4, 6, 7]) == [(0, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 7), (8, 8),
                                                     (9, 9)]
    assert unit_segments(9, [8]) == [(0, 9)]  # the last block's merge lands on the last unit either way
    assert unit_segments(9, [3]) == [(0, 4), (5, 5), (6, 9)]


def test_should_answer_the_test_vectors_through_fused_segments(tmp_path):
    pytest.importorskip("onnxruntime", reason="needs onnxruntime: run under training/.venv/bin/python")
    from edgesplit_train.fuse import fuse_package
    from edgesplit_train.onnx_check import check_package
    pkg = str(tmp_path / "pkg")
    shutil.copytree(os.path.join(MODELS, "fmnist-p4-x-x-x-x-1au-x"), pkg,
                    ignore=shutil.ignore_patterns("fused"))
    man = json.load(open(os.path.join(pkg, "manifest.json")))
    man["onnx"].pop("fused", None)
    json.dump(man, open(os.path.join(pkg, "manifest.json"), "w"))
    entries = fuse_package(pkg)
    assert entries == [{"first": 0, "last": 7, "file": "fused/stem-block6.onnx"}]
    for i in range(4):
        assert os.path.isfile(os.path.join(pkg, "p%d" % i, "fused", "stem-block6.onnx"))
    assert json.load(open(os.path.join(pkg, "manifest.json")))["onnx"]["fused"] == entries
    units, fused = check_package(pkg), check_package(pkg, fused=True)
    # uint8 at the one active point: the tolerance of the shipped packages' own parity check
    assert fused["maxAbsDiffLogits"] <= 1e-3 and fused["maxAbsDiffFeatures"] <= 1e-3, fused
    assert abs(fused["maxAbsDiffLogits"] - units["maxAbsDiffLogits"]) <= 1e-4, (units, fused)


def test_should_refuse_a_directory_without_a_manifest(tmp_path):
    r = subprocess.run([sys.executable, "-m", "edgesplit_train.fuse", str(tmp_path)], capture_output=True, text=True,
                       cwd=HERE, timeout=120)
    assert r.returncode == 2
    assert "no manifest.json" in r.stderr
