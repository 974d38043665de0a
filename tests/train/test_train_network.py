"""The NB201 network against the official NAS-Bench-201 records, and its behaviour on other shapes."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import numpy as np  # noqa: E402

from nasbench.errors import InvalidArchitecture  # noqa: E402
from nasbench.train.network import NB201Network, count_flops, count_params  # noqa: E402

# Official NAS-Bench-201 records (NATS-tss files, arch_config channel=16, num_cells=5, 10 classes, 32x32):
# index -> (arch string, params in M, FLOPs in M).
OFFICIAL = {
    0: (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
        0.129306,
        15.64737,
    ),
    11: (
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|",
        0.802426,
        113.95137,
    ),
    284: ("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|none~0|nor_conv_1x1~1|none~2|", 0.101306, 11.71521),
}


@pytest.mark.parametrize("index", sorted(OFFICIAL))
def test_params_and_flops_equal_the_official_records(index):
    arch, params_m, flops_m = OFFICIAL[index]
    net = NB201Network(arch, channels=16, cells_per_stage=5, in_channels=3, num_classes=10)
    assert count_params(net) / 1e6 == pytest.approx(params_m, abs=1e-9)
    assert round(count_flops(net, (3, 32, 32)) / 1e6, 5) == pytest.approx(flops_m, abs=1e-9)


def test_forward_shapes_for_other_inputs_widths_and_depths():
    net = NB201Network((3, 2, 4, 1, 3, 0), channels=4, cells_per_stage=1, in_channels=1, num_classes=7)
    for size in (8, 14, 16, 28, 32):  # odd stage resolutions (7x7) included
        assert net(torch.randn(2, 1, size, size)).shape == (2, 7)
    # no cells at all is still a valid network (stem + reductions)
    assert NB201Network((0,) * 6, channels=4, cells_per_stage=0)(torch.randn(1, 3, 8, 8)).shape == (1, 10)


def test_all_none_cell_outputs_zero_and_disconnected_cells_still_train():
    net = NB201Network((0, 0, 0, 0, 0, 0), channels=4, cells_per_stage=1, in_channels=1, num_classes=3)
    cell = net.cells[0]
    x = torch.randn(2, 4, 8, 8)
    assert torch.equal(cell(x), torch.zeros_like(x))
    loss = net(torch.randn(4, 1, 8, 8)).sum()
    loss.backward()  # the classifier still gets gradients; nothing raises


def test_invalid_architecture_is_a_typed_error():
    with pytest.raises(InvalidArchitecture):
        NB201Network((0, 1, 2))
    with pytest.raises(InvalidArchitecture):
        NB201Network("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|")


def test_flop_count_restores_training_mode():
    net = NB201Network((3,) * 6, channels=4, cells_per_stage=1)
    net.train()
    count_flops(net, (3, 8, 8))
    assert net.training


def test_params_of_every_cell_are_the_networks_own_and_nats_benchs():
    from nasbench.spaces import get_space
    from nasbench.train.network import params_of_every_cell

    space = get_space("nb201")
    counts = params_of_every_cell()
    archs = space.all_archs()
    for i in np.random.default_rng(0).integers(space.size, size=4):
        assert counts[i] == count_params(NB201Network(archs[i]))
    published = {  # NATS-Bench's params (M) of three cells (../shared/reference/README.md)
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|": 0.129306,
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|": 0.802426,
        "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|none~0|nor_conv_1x1~1|none~2|": 0.101306,
    }
    for text, millions in published.items():
        assert counts[space.index(space.from_str(text))] / 1e6 == pytest.approx(millions, abs=5e-7)
    small = params_of_every_cell(channels=8, cells_per_stage=1, num_classes=100)
    assert small[7] == count_params(NB201Network(archs[7], channels=8, cells_per_stage=1, num_classes=100))
