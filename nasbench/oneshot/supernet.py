"""The NB201 supernet: the macro network of :mod:`nasbench.train.network` whose every cell edge holds all five
operations with shared weights.

A cell runs through it in one of three ways:

- ``arch`` (6 op indices): each edge runs only its chosen op (the path of one standalone network). With the
  same weights copied in, the output equals :class:`NB201Network` of that cell (``to_network`` makes it).
- ``weights`` (6, 5): each edge is the weighted sum of all its ops (DARTS' continuous relaxation).
- ``weights`` + ``index``: each edge runs only ``index[e]`` and scales it by ``weights[e, index[e]]``; the other
  weights enter with a zero output so their gradients flow (GDAS' straight-through hard sample).

The op modules are those of the standalone network (``ReLUConvBN``, ``ReductionBlock`` and the op factory), so a
one-hot supernet computes exactly what the standalone network computes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch import nn

from nasbench.spaces.nb201 import EDGES, NONE, NUM_EDGES, NUM_OPS, NB201Space
from nasbench.train.network import Cell, NB201Network, ReductionBlock, make_op

Arch = tuple[int, ...]


class MixedEdge(nn.Module):
    """One edge holding every op; ``ops[k - 1]`` is op ``k`` (op 0, "none", has no module: its output is zero)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        # cast: make_op returns None only for op 0 ("none"), which is not in this range
        self.ops = nn.ModuleList([cast(nn.Module, make_op(op, channels)) for op in range(1, NUM_OPS)])

    def run(self, x: torch.Tensor, op: int) -> torch.Tensor | None:
        """The output of op ``op`` alone; None for "none"."""
        return None if op == NONE else self.ops[op - 1](x)

    def mixed(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Sum of every op weighted by ``weights`` (5,); "none" adds nothing."""
        total = weights[1] * self.ops[0](x)
        for k in range(2, NUM_OPS):
            total = total + weights[k] * self.ops[k - 1](x)
        return total

    def hard(self, x: torch.Tensor, weights: torch.Tensor, index: int) -> torch.Tensor:
        """Only op ``index`` is computed; the other (numerically zero) weights are added so they get gradients."""
        chosen = self.run(x, index)
        rest = sum(weights[k] for k in range(NUM_OPS) if k != index)
        if chosen is None:
            return torch.zeros_like(x) + weights[index] * 0.0 + rest
        return weights[index] * chosen + rest


class SuperCell(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList([MixedEdge(channels) for _ in EDGES])

    def forward(
        self,
        x: torch.Tensor,
        arch: Arch | None = None,
        weights: torch.Tensor | None = None,
        index: Sequence[int] | None = None,
    ) -> torch.Tensor:
        nodes: list[torch.Tensor] = [x]
        for node in (1, 2, 3):
            total: torch.Tensor | None = None
            for e, (dst, src) in enumerate(EDGES):
                if dst != node:
                    continue
                edge = cast(MixedEdge, self.edges[e])  # a ModuleList's items are typed Module; these are MixedEdges
                if arch is not None:
                    out = edge.run(nodes[src], arch[e])
                else:
                    assert weights is not None  # NB201Supernet.forward gives exactly one of arch and weights
                    if index is not None:
                        out = edge.hard(nodes[src], weights[e], int(index[e]))
                    else:
                        out = edge.mixed(nodes[src], weights[e])
                if out is not None:
                    total = out if total is None else total + out
            # as the standalone cell: a node whose every input edge is "none" is zero
            nodes.append(torch.zeros_like(x) if total is None else total)
        return nodes[3]


class NB201Supernet(nn.Module):
    """The NB201 macro network with a :class:`SuperCell` in every cell position (the same cell in all of them)."""

    def __init__(
        self, *, channels: int = 16, cells_per_stage: int = 5, in_channels: int = 3, num_classes: int = 10
    ) -> None:
        super().__init__()
        self.channels = channels
        self.cells_per_stage = cells_per_stage
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.stem = nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
        layers: list[nn.Module] = []
        width = channels
        for stage in range(3):
            if stage > 0:
                layers.append(ReductionBlock(width, width * 2))
                width *= 2
            layers.extend(SuperCell(width) for _ in range(cells_per_stage))
        self.cells = nn.ModuleList(layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(width, num_classes)

    def forward(
        self,
        x: torch.Tensor,
        arch: Sequence[int] | None = None,
        weights: torch.Tensor | None = None,
        index: Sequence[int] | None = None,
    ) -> torch.Tensor:
        """Exactly one of ``arch`` (op indices) or ``weights`` ((6, 5), optionally with ``index``) must be given."""
        if (arch is None) == (weights is None):
            raise ValueError("give either arch (op indices) or weights (a (6, 5) tensor), not both or neither")
        if arch is not None:
            arch = NB201Space().validate(tuple(int(a) for a in arch))
        else:
            assert weights is not None  # checked above: exactly one of arch and weights is given
            if tuple(weights.shape) != (NUM_EDGES, NUM_OPS):
                raise ValueError(f"weights must have shape ({NUM_EDGES}, {NUM_OPS}), got {tuple(weights.shape)}")
        x = self.stem(x)
        for layer in self.cells:
            x = layer(x) if isinstance(layer, ReductionBlock) else layer(x, arch, weights, index)
        x = self.lastact(x)
        return self.classifier(torch.flatten(self.pool(x), 1))

    def to_network(self, arch: Sequence[int]) -> NB201Network:
        """The standalone network of ``arch`` holding this supernet's weights (and BN statistics) for its path."""
        arch = NB201Space().validate(tuple(int(a) for a in arch))
        net = NB201Network(
            arch,
            channels=self.channels,
            cells_per_stage=self.cells_per_stage,
            in_channels=self.in_channels,
            num_classes=self.num_classes,
        )
        device = next(self.parameters()).device
        net.to(device)
        for name in ("stem", "lastact", "classifier"):
            getattr(net, name).load_state_dict(getattr(self, name).state_dict())
        for mine, theirs in zip(self.cells, net.cells, strict=True):
            if isinstance(mine, ReductionBlock):
                theirs.load_state_dict(mine.state_dict())
                continue
            # the standalone cell keeps modules only for its non-"none" edges, in edge order
            cell = cast(SuperCell, mine)  # the supernet's cells are ReductionBlocks and SuperCells
            chosen = [cast(MixedEdge, cell.edges[e]).ops[op - 1] for e, op in enumerate(arch) if op != NONE]
            for src, dst in zip(chosen, cast(Cell, theirs).edges, strict=True):
                dst.load_state_dict(src.state_dict())
        net.train(self.training)
        return net
