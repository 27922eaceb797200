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
