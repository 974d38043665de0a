"""The NAS-Bench-201 macro network (Dong & Yang, ICLR 2020) for any cell, width, depth, input and class count.

Layout: stem (conv3x3 + BN) -> N cells at C -> reduction block -> N cells at 2C -> reduction block -> N cells
at 4C -> BN + ReLU -> global average pool -> linear. The reduction block is a ResNet basic block with stride 2
(ReLU-conv3x3-BN, ReLU-conv3x3-BN, shortcut avg-pool 2x2 + conv1x1). At C=16, N=5, 10 classes and 32x32 input
its parameter count and FLOPs equal the official NAS-Bench-201 records (tests/train/test_train_network.py).

``dims=1`` builds the same network for sequences (N, C, L): every convolution, pool and batch norm is its 1-D
counterpart (``nor_conv_3x3`` is a width-3 convolution along the sequence), so the NB201 space, its isomorphism
classes and every strategy carry over unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from nasbench.spaces.nb201 import CONV1, CONV3, EDGES, NONE, POOL, SKIP, NB201Space

# the layer types of each input rank: 2 = images (N, C, H, W), 1 = sequences (N, C, L)
CONV: dict[int, type[nn.Conv1d] | type[nn.Conv2d]] = {1: nn.Conv1d, 2: nn.Conv2d}
NORM: dict[int, type[nn.BatchNorm1d] | type[nn.BatchNorm2d]] = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d}
POOL_LAYER: dict[int, type[nn.AvgPool1d] | type[nn.AvgPool2d]] = {1: nn.AvgPool1d, 2: nn.AvgPool2d}
GLOBAL_POOL: dict[int, type[nn.AdaptiveAvgPool1d] | type[nn.AdaptiveAvgPool2d]] = {
    1: nn.AdaptiveAvgPool1d,
    2: nn.AdaptiveAvgPool2d,
}
#: positions the final feature map of a sequence network is pooled to before the classifier
SEQUENCE_BINS = 8


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, dims: int = 2) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            CONV[dims](c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            NORM[dims](c_out),
        )


class ReductionBlock(nn.Module):
    """The ResNet basic block that halves resolution and changes width between stages."""

    def __init__(self, c_in: int, c_out: int, dims: int = 2) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2, dims=dims)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, dims=dims)
        # ceil_mode keeps the shortcut's size equal to conv_a's (stride 2, pad 1) for odd inputs (e.g. 7x7 of a
        # 28 or 14 pixel image); for even inputs, which is all NB201 ever used, it changes nothing
        self.shortcut = nn.Sequential(
            POOL_LAYER[dims](kernel_size=2, stride=2, padding=0, ceil_mode=True),
            CONV[dims](c_in, c_out, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


def make_op(op: int, channels: int, dims: int = 2) -> nn.Module | None:
    """The module of one cell edge; ``None`` for the zero op, which contributes nothing to the sum."""
    if op == NONE:
        return None
    if op == SKIP:
        return nn.Identity()
    if op == CONV1:
        return ReLUConvBN(channels, channels, 1, dims=dims)
    if op == CONV3:
        return ReLUConvBN(channels, channels, 3, dims=dims)
    if op == POOL:
        return POOL_LAYER[dims](3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown nb201 op index {op}")


class Cell(nn.Module):
    """One NB201 cell: node j = sum over edges i -> j of op(node i); the output is node 3."""

    def __init__(self, arch: Sequence[int], channels: int, dims: int = 2) -> None:
        super().__init__()
        self.edges = nn.ModuleList()
        self._wiring: list[tuple[int, int, int]] = []  # (to, from, index into self.edges)
        for op, (dst, src) in zip(arch, EDGES, strict=True):
            module = make_op(op, channels, dims)
            if module is not None:
                self._wiring.append((dst, src, len(self.edges)))
                self.edges.append(module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes: list[torch.Tensor] = [x]
        for node in (1, 2, 3):
            total: torch.Tensor | None = None
            for dst, src, k in self._wiring:
                if dst == node:
                    out = self.edges[k](nodes[src])
                    total = out if total is None else total + out
            # a node whose every input edge is "none" is zero (same shape: cells keep width and resolution)
            nodes.append(torch.zeros_like(x) if total is None else total)
        return nodes[3]


class NB201Network(nn.Module):
    """The NB201 macro network around one cell ``arch`` (6 op indices or an official string)."""

    def __init__(
        self,
        arch: Sequence[int] | str,
        *,
        channels: int = 16,
        cells_per_stage: int = 5,
        in_channels: int = 3,
        num_classes: int = 10,
        dims: int = 2,
    ) -> None:
        super().__init__()
        arch = NB201Space().validate(arch)
        if dims not in CONV:
            raise ValueError(f"dims must be 1 (sequences) or 2 (images), got {dims}")
        for name, value in (("channels", channels), ("in_channels", in_channels), ("num_classes", num_classes)):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if cells_per_stage < 0:
            raise ValueError(f"cells_per_stage must be >= 0, got {cells_per_stage}")
        self.arch = arch
        self.stem = nn.Sequential(CONV[dims](in_channels, channels, 3, padding=1, bias=False), NORM[dims](channels))
        layers: list[nn.Module] = []
        width = channels
        for stage in range(3):
            if stage > 0:
                layers.append(ReductionBlock(width, width * 2, dims))
                width *= 2
            layers.extend(Cell(arch, width, dims) for _ in range(cells_per_stage))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(NORM[dims](width), nn.ReLU(inplace=True))
        # images: global average pool; sequences keep where a feature is (a splice site is read relative to the
        # centre), pooled to SEQUENCE_BINS positions, whatever the length
        bins = 1 if dims == 2 else SEQUENCE_BINS
        self.pool = GLOBAL_POOL[dims](bins)
        self.classifier = nn.Linear(width * bins, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.lastact(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.pool(x), 1))


def params_of_every_cell(
    *, channels: int = 16, cells_per_stage: int = 5, in_channels: int = 3, num_classes: int = 10, dims: int = 2
) -> np.ndarray:
    """The parameter count of :class:`NB201Network` for every cell, in ``NB201Space().all_archs()`` order, exactly
    (a cell's count is the sum of its edges' operations, so the whole space is counted from one empty network and
    one of each operation per stage width: milliseconds instead of building 15,625 networks)."""
    space = NB201Space()
    kwargs = {"channels": channels, "cells_per_stage": cells_per_stage, "in_channels": in_channels, "dims": dims}
    total = np.full(space.size, count_params(NB201Network((0,) * 6, num_classes=num_classes, **kwargs)), np.int64)
    archs = np.asarray(space.all_archs())
    for width in (channels, 2 * channels, 4 * channels):
        ops = [make_op(o, width, dims) for o in range(len(space.options[0]))]
        per_op = [0 if op is None else count_params(op) for op in ops]
        total += cells_per_stage * np.take(per_op, archs).sum(axis=1)
    return total


def count_params(model: nn.Module) -> int:
    """All trainable parameters (weights, biases, BN affine), as the official ``count_parameters_in_MB``."""
    return sum(p.numel() for p in model.parameters())


def count_flops(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of one forward pass of a single input, counted as NB201's published FLOPs.

    Counted: convolutions (output pixels x kernel area x in/groups x out, + out pixels if biased) and linear
    layers (in x out, + out if biased, so the classifier's bias counts). Not counted: pooling, BN, ReLU and
    element-wise sums. This is the one rule that reproduces the official figures of all three reference cells
    (indices 0, 11, 284) to their published precision: counting the 3x3 average pools would add 1.29 M per
    pooling edge, counting the reduction blocks' 2x2 pools 0.0246 M, and dropping the classifier bias 1e-5 M.
    """
    total = 0

    def conv_hook(module: nn.Conv1d | nn.Conv2d, _inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        area = math.prod(module.kernel_size)
        pixels = output.numel() // module.out_channels  # batch x output positions, for 1-D and 2-D alike
        total += pixels * area * (module.in_channels // module.groups) * module.out_channels
        if module.bias is not None:
            total += pixels * module.out_channels

    def linear_hook(module: nn.Linear, inputs: tuple[torch.Tensor, ...], _output: torch.Tensor) -> None:
        nonlocal total
        rows = inputs[0].numel() // module.in_features
        total += rows * module.in_features * module.out_features
        if module.bias is not None:
            total += rows * module.out_features

    handles = []
    for m in model.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d)):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return total
