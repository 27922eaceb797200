import torch

from edgesplit_train.model import Arch, SepResNeXt, partition_block, partition_stem
from edgesplit_train.policy import no_exchange, PointPolicy


def _model(P):
    torch.manual_seed(0)
    m = SepResNeXt(Arch(partitions=P, stem=16, widths=(16, 32, 64), cardinality=4)).eval()
    for mod in m.modules():  # non-trivial BN statistics so slicing errors would show
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.1, 0.1)
            mod.running_var.uniform_(0.5, 1.5)
    return m


def test_should_be_an_ordinary_network_at_p1():
    m = _model(1)
    assert all(b.conv1.groups == 1 and b.conv3.groups == 1 for b in m.blocks)


@torch.no_grad()
def test_should_split_into_independent_partitions_without_exchange():
    P = 4
    m = _model(P)
    img = torch.randint(0, 256, (3, 1, 28, 28)).float()  # [3,1,28,28]
    full = m.features(img, no_exchange(6), train_quant=False)  # [3,64]
    for i in range(P):
        x = partition_stem(m, i)(img)
        for b in range(len(m.blocks)):
            x = partition_block(m, b, i)(x)
        torch.testing.assert_close(x.mean(dim=(2, 3)), full[:, i * 16:(i + 1) * 16], atol=1e-5, rtol=1e-5)


@torch.no_grad()
def test_should_change_only_receivers_merge_channels_at_a_point():
    m = _model(2)
    img = torch.randint(0, 256, (2, 1, 28, 28)).float()
    pol = tuple(PointPolicy(0) for _ in range(6))
    pol_ex = tuple(PointPolicy(1, 0.5, "fp32") if j == 5 else PointPolicy(0) for j in range(6))
    a = m.features(img, pol, train_quant=False)
    b = m.features(img, pol_ex, train_quant=False)
    assert not torch.allclose(a, b)


@torch.no_grad()
def test_should_compute_each_stacked_replica_exactly_like_its_own_network():
    from edgesplit_train.model import extract_replica, load_replica
    from edgesplit_train.policy import baseline
    torch.manual_seed(1)
    arch = Arch(partitions=4, stem=16, widths=(16, 32, 64), cardinality=4)
    m = SepResNeXt(arch, replicas=3)
    pols = [no_exchange(6), baseline(6),
            tuple(PointPolicy(1, 0.5, "uint8") if j % 2 else PointPolicy(2, 0.25, "fp16") for j in range(6))]
    img = torch.randint(0, 256, (4, 3, 28, 28)).float()  # [4,R,28,28]: one image per replica
    keep = torch.tensor([[[1., 0, 1, 1], [1, 1, 1, 1], [0, 0, 1, 0]]]).expand(4, -1, -1)  # [4,R,P]
    for mode in ("train", "eval"):  # batch statistics are per channel, so training mode matches too
        getattr(m, mode)()
        out = m(img, pols, keep, train_quant=False)  # [4,R,10]
        for r in range(3):
            single = getattr(extract_replica(m, r), mode)()
            want = single(img[:, r:r + 1], pols[r], keep[:, r], train_quant=False)  # [4,10]
            torch.testing.assert_close(out[:, r], want, atol=1e-5, rtol=1e-5)
    state = extract_replica(m, 1).state_dict()
    other = SepResNeXt(arch, replicas=2)
    load_replica(other, 0, state)
    for k, v in extract_replica(other, 0).state_dict().items():
        assert torch.equal(v, state[k]), k


def test_should_keep_channels_last_layout_through_the_merge():
    from edgesplit_train.model import merge
    y = torch.randn(2, 16, 7, 7).contiguous(memory_format=torch.channels_last)
    a = torch.randn(2, 1, 4, 2, 7, 7)  # [N,R,P,k,H,W]
    out = merge(y, [(2, a, None)], 4)
    assert out.is_contiguous(memory_format=torch.channels_last)
    ref = y.view(2, 4, 4, 7, 7).clone()
    ref[:, :, :2] = (ref[:, :, :2] + a[:, 0]) / 2
    torch.testing.assert_close(out, ref.view(2, 16, 7, 7))
