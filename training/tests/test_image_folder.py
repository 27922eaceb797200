"""Image folders at any resolution and channel count (issue 17): the quick pipeline end to end on a tiny RGB
folder made by scripts/make-image-folder.py, the one-line data errors, the stem stride rule."""
import base64
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from edgesplit_train.model import Arch, SepResNeXt, stem_stride
from edgesplit_train.policy import baseline

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAKER = os.path.join(os.path.dirname(HERE), "scripts", "make-image-folder.py")
IDX = "/usr/share/datasets/fashion-mnist"


def _make_folder(path, per_class=40, size=32, classes=3, extra=()):
    r = subprocess.run([sys.executable, MAKER, "--out", str(path), "--classes", str(classes), "--per_class",
                        str(per_class), "--size", str(size), "--seed", "1"] + list(extra),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "wrote %d images" % (classes * per_class) in r.stdout
    return path


def _pipeline(*args, timeout=300):
    return subprocess.run([sys.executable, os.path.join(HERE, "pipeline.py")] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=timeout)


def test_should_pick_the_stem_stride_by_the_rule():
    assert [stem_stride(n, n) for n in (28, 32, 33, 64, 96, 224)] == [1, 1, 2, 2, 4, 8]
    assert stem_stride(40, 100) == 4  # the larger side decides


@torch.no_grad()
def test_should_give_the_manifest_shapes_at_96x96x3():
    from edgesplit_train.export import arch_json, input_json
    from edgesplit_train.model import flops_per_partition, partition_block, partition_stem
    arch = Arch(partitions=4, stem=16, widths=(16, 32, 64), cardinality=4, channels=3, height=96, width=96,
                mean=(0.5, 0.4, 0.3), std=(0.2, 0.2, 0.2), classes=5)
    assert arch.stem_stride == 4 and arch_json(arch)["stemStride"] == 4 and arch.stem_hw() == (24, 24)
    assert input_json(arch)["shape"] == [3, 96, 96] and input_json(arch)["mean"] == [0.5, 0.4, 0.3]
    assert [(p.height, p.width) for p in arch.points()] == [(24, 24), (24, 24), (12, 12), (12, 12), (6, 6), (6, 6)]
    torch.manual_seed(0)
    m = SepResNeXt(arch).eval()
    img = torch.randint(0, 256, (2, 3, 96, 96)).float()
    assert m(img, baseline(6), train_quant=False).shape == (2, 5)
    x = partition_stem(m, 1)(img)
    assert list(x.shape[1:]) == [16 // 4, 24, 24]
    for (b, _, cin, cout, stride, (h, w)) in arch.block_specs():
        assert list(x.shape[1:]) == [cin // 4, h, w]
        x = partition_block(m, b, 1)(x)
        assert list(x.shape[1:]) == [cout // 4, -(-h // stride), -(-w // stride)]
    assert list(x.shape[1:]) == [16, 6, 6]
    assert flops_per_partition(arch)["stem"] == 2 * 9 * 9 * 3 * 4 * 24 * 24  # 9x9 kernel at stride 4


@pytest.mark.skipif(not os.path.isdir(IDX), reason="needs Debian's dataset-fashion-mnist")
def test_should_run_quick_pipeline_on_an_rgb_image_folder(tmp_path):
    data = _make_folder(tmp_path / "tiny-rgb", per_class=40, size=32)
    out, models = tmp_path / "out", tmp_path / "models"
    r = _pipeline("all", "--quick", "--data", data, "--out_dir", out, "--models_dir", models)
    assert r.returncode == 0, r.stderr[-3000:]
    cat = json.load(open(models / "catalog.json"))
    assert cat["dataset"] == "tiny-rgb"
    names = {e["name"] for e in cat["packages"]}
    assert {"tiny-rgb-p1", "tiny-rgb-p2-baseline", "tiny-rgb-p2-none"} <= names
    sample = json.load(open(models / "data" / "sample.json"))
    H = W = 32
    assert sample["imageShape"] == [H, W, 3] and sample["classes"] == ["pullover", "t-shirt_top", "trouser"]
    assert (models / "data" / "images.bin").stat().st_size == sample["count"] * H * W * 3
    assert (models / "data" / "labels.bin").stat().st_size == sample["count"]
    for e in cat["packages"]:
        man = json.load(open(models / e["path"] / "manifest.json"))
        inp = man["input"]
        assert inp["shape"] == [3, H, W] and inp["channels"] == 3 and (inp["height"], inp["width"]) == (H, W)
        assert inp["layout"] == "NHWC" and inp["dtype"] == "uint8"
        assert len(inp["mean"]) == 3 and len(inp["std"]) == 3 and all(0 < s < 1 for s in inp["std"])
        assert inp["unitInput"].startswith("float32 [N,3,32,32]")
        assert man["classes"] == sample["classes"] and man["head"]["classes"] == 3 and man["dataset"] == "tiny-rgb"
        assert man["architecture"]["stemStride"] == 1 and man["stem"]["outShape"][1:] == [32, 32]
        par = man["metrics"]["onnxParity"]
        fp32_only = all(p["shift"] == 0 or p["precision"] == "fp32" for p in man["policy"]["points"])
        assert par["maxAbsDiffLogits"] <= (1e-4 if fp32_only else 1e-3), (e["name"], par)
        tv = json.load(open(models / e["path"] / "testvectors.json"))
        assert tv["imageShape"] == [H, W, 3] and all(len(row) == 3 for row in tv["logits"])
        assert len(base64.b64decode(tv["imagesBase64"])) == tv["count"] * H * W * 3
    # the test vectors' images are the first sample images, byte for byte (HWC order)
    raw = np.fromfile(models / "data" / "images.bin", dtype=np.uint8)
    assert base64.b64decode(tv["imagesBase64"]) == raw[:tv["count"] * H * W * 3].tobytes()
    assert (out / "report.md").is_file()


def test_should_exit_2_with_one_line_for_bad_image_folders(tmp_path):
    src = _make_folder(tmp_path / "src", per_class=3, size=16, classes=2)
    (tmp_path / "empty").mkdir()
    one = tmp_path / "one"
    (one / "a").mkdir(parents=True)
    os.link(src / "trouser" / "trouser_0000.png", one / "a" / "x.png")
    corrupt = tmp_path / "corrupt"
    for c in ("t-shirt_top", "trouser"):
        (corrupt / c).mkdir(parents=True)
        os.link(src / c / ("%s_0000.png" % c), corrupt / c / "ok.png")
    (corrupt / "trouser" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    mixed = tmp_path / "mixed"
    for c in ("t-shirt_top", "trouser"):
        (mixed / c).mkdir(parents=True)
        os.link(src / c / ("%s_0000.png" % c), mixed / c / "a.png")
    from PIL import Image
    Image.new("RGB", (20, 24)).save(mixed / "trouser" / "b.png")
    cases = [(tmp_path / "empty", "holds no images"), (one, "only one class"),
             (corrupt, "cannot read image %s" % (corrupt / "trouser" / "broken.png")),
             (mixed, "images differ in size (HxW 16x16 in")]
    for d, want in cases:
        r = _pipeline("train", "--quick", "--data", d, "--out_dir", tmp_path / "o", timeout=120)
        assert r.returncode == 2, (d, r.stderr[-2000:])
        assert r.stderr.strip().count("\n") == 0, r.stderr
        assert want in r.stderr, r.stderr
    assert "24x20 in %s" % (mixed / "trouser" / "b.png") in r.stderr and "--image_size" in r.stderr


def test_should_resize_and_convert_an_image_folder_by_the_flags(tmp_path):
    from edgesplit_train.config import parse_args
    from edgesplit_train.data import load
    src = _make_folder(tmp_path / "My Data!", per_class=12, size=16, classes=2)
    from PIL import Image
    Image.new("RGB", (20, 24), (200, 10, 10)).save(src / "trouser" / "odd.jpg")
    cfg = parse_args(["--quick", "--data=%s" % src, "--image_size", "20x24", "--channels", "1"])
    assert cfg.name_prefix == "my-data" and cfg.data_dir == str(src)
    ds = load(cfg)
    assert ds.info.image_shape() == [20, 24] and ds.info.channels == 1 and len(ds.info.mean) == 1
    n = sum(len(s[0]) for s in (ds.train, ds.val, ds.test))
    assert n == 25 and ds.train[0].shape[1:] == (20, 24) and len(ds.test[0]) > 0
    # the split is a function of the relative paths only: the same test images whatever the seed
    again = load(parse_args(["--quick", "--data=%s" % src, "--image_size=20x24", "--channels=1", "--seed=5"]))
    assert np.array_equal(again.test[0], ds.test[0])
    grey = _make_folder(tmp_path / "grey", per_class=4, size=16, classes=2, extra=["--grey"])
    assert load(parse_args(["--data", str(grey)])).info.channels == 1  # all grey: one channel by default


@torch.no_grad()
def test_should_compute_each_stacked_replica_like_its_own_network_with_rgb_input():
    from edgesplit_train.data import augment
    from edgesplit_train.model import extract_replica
    from edgesplit_train.policy import no_exchange
    torch.manual_seed(2)
    arch = Arch(partitions=2, stem=8, widths=(16, 16, 32), cardinality=8, channels=3, height=40, width=40,
                mean=(0.4, 0.5, 0.6), std=(0.2, 0.3, 0.25), classes=4)
    m = SepResNeXt(arch, replicas=2).eval()
    gen = torch.Generator().manual_seed(0)
    img = augment(torch.randint(0, 256, (3, 2, 3, 40, 40), dtype=torch.uint8), gen)  # [3,R*C,40,40]
    assert img.shape == (3, 6, 40, 40)
    pols = [no_exchange(6), baseline(6)]
    out = m(img, pols, train_quant=False)  # [3,R,4]
    for r in range(2):
        want = extract_replica(m, r).eval()(img[:, 3 * r:3 * r + 3], pols[r], train_quant=False)
        torch.testing.assert_close(out[:, r], want, atol=1e-5, rtol=1e-5)
