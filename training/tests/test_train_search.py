"""Sandwich sampling, BatchNorm recalibration, the device-side training loop, NSGA-II tournament."""
import random

import torch

from edgesplit_train.model import Arch, SepResNeXt
from edgesplit_train.policy import PointPolicy, baseline, exchanged_bytes, no_exchange
from edgesplit_train.search import nsga2, rank_and_crowding, tournament
from edgesplit_train.train import auto_epochs, evaluate, fit, fixed_policy_fn, recalibrate_bn, supernet_policy_fn


class _Cfg:
    batch_size, weight_decay, label_smoothing, lr = 16, 5e-4, 0.1, 0.05


def _arch(P=4):
    return Arch(partitions=P, stem=8, widths=(16, 16, 32), cardinality=8)


def test_should_train_densest_and_sparsest_policy_every_supernet_step():
    fn = supernet_policy_fn(6, 4, random_per_step=2)
    rng = random.Random(0)
    dens = []
    for _ in range(50):
        specs = fn(rng)
        assert len(specs) == 4 and specs[0] == baseline(6) and specs[1] == no_exchange(6)
        dens += [sum(p.active() for p in s) for s in specs[2:]]
    assert min(dens) <= 1 and max(dens) >= 5  # the random ones span sparse to dense
    fp32 = supernet_policy_fn(6, 4, 3, precisions=("fp32",))
    assert all(p.precision == "fp32" for s in fp32(rng) for p in s if p.active())


@torch.no_grad()
def test_should_recalibrate_batchnorm_to_the_policy_statistics():
    torch.manual_seed(0)
    m = SepResNeXt(_arch())
    x = torch.randint(0, 256, (64, 28, 28), dtype=torch.uint8)
    before = m.blocks[4].bn3.running_mean.clone()  # fresh: zeros
    recalibrate_bn(m, x, baseline(6), images=64, batch=32)
    after_base = m.blocks[4].bn3.running_mean.clone()
    assert not torch.allclose(before, after_base)
    assert m.blocks[4].bn3.momentum == 0.1 and not m.training  # restored
    # stem statistics are the exact mean of the stem conv over the images (cumulative average, equal batches)
    conv = m.stem.conv(((x[:, None].float() / 255) - m.stem.mean) / m.stem.std)  # [64,8,28,28]
    torch.testing.assert_close(m.stem.bn.running_mean, conv.mean(dim=(0, 2, 3)), atol=1e-5, rtol=1e-4)
    recalibrate_bn(m, x, no_exchange(6), images=64, batch=32)
    assert not torch.allclose(after_base, m.blocks[4].bn3.running_mean)  # other policy, other statistics


def test_should_fit_stacked_replicas_on_device_tensors_and_record_the_schedule():
    torch.manual_seed(0)
    m = SepResNeXt(_arch(2), replicas=2)
    x = torch.randint(0, 256, (48, 28, 28), dtype=torch.uint8)
    y = torch.randint(0, 10, (48,))
    pols = [no_exchange(6), baseline(6)]
    w0 = m.blocks[0].conv1.weight.clone()
    tr = fit(m, x, y, 2, 0.05, _Cfg, "t", fixed_policy_fn(pols), [0.0, 0.2], seed=1)
    assert tr["epochs"] == 2 and tr["stepsPerEpoch"] == 3 and len(tr["history"]) == 2
    assert len(tr["history"][0]["trainAcc"]) == 2
    assert not torch.equal(w0, m.blocks[0].conv1.weight)
    acc = evaluate(m, x, y, pols)
    assert isinstance(acc, list) and len(acc) == 2
    assert auto_epochs(2.0, 61, 40) == 30 and auto_epochs(2.0, 1000, 40) == 40 and auto_epochs(5, 1, 40) == 1


def test_should_prefer_lower_rank_then_larger_crowding_in_tournament():
    scores = [(0.9, 100), (0.8, 50), (0.7, 200), (0.85, 75)]  # 0, 1, 3 on the front; 2 dominated
    rank, crowd = rank_and_crowding(scores)
    assert rank == [0, 0, 1, 0]
    rng = random.Random(0)
    wins = [tournament(rng, rank, crowd) for _ in range(400)]
    assert 2 not in wins or wins.count(2) < 40  # only wins against itself
    # among equal rank the larger crowding distance wins: 3 (interior) has a finite distance, 0 and 1 infinite
    assert wins.count(0) > wins.count(3) and wins.count(1) > wins.count(3)


def test_should_search_fp32_only_when_asked():
    pts = _arch().points()

    def acc(pol):  # a toy accuracy: more exchanged channels, more accuracy
        return sum(p.fraction for p in pol if p.active()) / 6

    ev = nsga2(acc, pts, 4, population=8, generations=3, seed=0, seeds=[baseline(6)], log=lambda *_: None,
               precisions=("fp32",))
    assert len(ev) > 8
    assert all(p.precision == "fp32" for pol, _ in ev for p in pol if p.active())
    assert all(s[1] == exchanged_bytes(pol, pts, 4) for pol, s in ev)
