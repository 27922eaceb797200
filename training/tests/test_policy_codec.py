import torch

from edgesplit_train.codec import decode_roundtrip
from edgesplit_train.model import Arch
from edgesplit_train.policy import (PointPolicy, baseline, exchanged_bytes, no_exchange, parse_policy_id, policy_id)


def test_should_count_baseline_bytes_from_the_design_formula():
    arch = Arch(partitions=4)
    pts = arch.points()
    assert [p.after_block for p in pts] == [0, 1, 3, 4, 6, 7]
    # stage widths 64/128/256 at 28/14/7, fp32, all partitions together
    want = 2 * (64 * 28 * 28 + 128 * 14 * 14 + 256 * 7 * 7) * 4
    assert exchanged_bytes(baseline(6), pts, 4) == want == 702464
    assert exchanged_bytes(no_exchange(6), pts, 4) == 0


def test_should_add_four_bytes_per_uint8_tensor():
    pts = Arch(partitions=4).points()
    pol = tuple(PointPolicy(0) for _ in range(4)) + (PointPolicy(1, 0.25, "uint8"), PointPolicy(0))
    assert exchanged_bytes(pol, pts, 4) == 4 * (16 * 7 * 7 * 1 + 4)


def test_should_round_trip_policy_ids():
    pol = (PointPolicy(0), PointPolicy(1, 0.25, "uint8"), PointPolicy(3, 1.0, "fp16"), PointPolicy(0),
           PointPolicy(2, 0.75, "fp32"), PointPolicy(0))
    pid = policy_id(pol)
    assert pid == "x-1au-3dh-x-2cf-x"
    assert parse_policy_id(pid, 6, 4) == pol


def test_should_quantise_uint8_with_half_even_ties_per_image():
    # scale = 255/255 = 1 for image 0, so 0.5 -> 0 and 1.5 -> 2 (ties to even); image 1 has its own scale
    t = torch.tensor([[[[0.5, 1.5, 2.5, 255.0]]], [[[0.0, 0.0, 0.0, 0.0]]]])  # [2,1,1,4]
    out = decode_roundtrip(t, "uint8")
    assert out[0].flatten().tolist() == [0.0, 2.0, 2.0, 255.0]
    assert out[1].flatten().tolist() == [0.0, 0.0, 0.0, 0.0]


def test_should_round_fp16_to_nearest_even():
    t = torch.tensor([1.0 + 2 ** -11, 1.0 + 3 * 2 ** -11])
    assert decode_roundtrip(t, "fp16").tolist() == [1.0, 1.0 + 2 ** -9]
