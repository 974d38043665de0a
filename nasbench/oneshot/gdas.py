"""GDAS (Dong & Yang, CVPR 2019): every forward pass samples ONE op per edge with the Gumbel-softmax trick and
computes only that op; the straight-through one-hot (``hard - soft.detach() + soft``) lets the val loss reach every
architecture parameter. Weights and architecture parameters alternate per batch as in DARTS (first order). The
temperature ``tau`` falls linearly from ``tau_max`` = 10 to ``tau_min`` = 0.1 over the epochs. Architecture
optimizer as DARTS (Adam lr 3e-4, betas (0.5, 0.999), weight decay 1e-3); the cell is the argmax of alpha.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from nasbench.errors import TrainingError
from nasbench.oneshot.search import OneShotMethod, alpha_record, edge_entropy
from nasbench.oneshot.supernet import Arch
from nasbench.spaces.nb201 import NUM_EDGES, NUM_OPS


@dataclass(kw_only=True)
class GDAS(OneShotMethod):
    name: ClassVar[str] = "gdas"

    epochs: int = 250
    tau_max: float = 10.0
    tau_min: float = 0.1
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    alpha_init_std: float = 1e-3

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.tau_min <= self.tau_max:
            raise TrainingError(f"gdas needs 0 < tau_min <= tau_max, got {self.tau_min}, {self.tau_max}")
        self.arch_betas = (float(self.arch_betas[0]), float(self.arch_betas[1]))

    def _setup(self) -> None:
        init = self.alpha_init_std * torch.randn(NUM_EDGES, NUM_OPS, generator=self.gen_)
        self.alphas_ = init.to(self.data_.device).requires_grad_(True)
        self.a_optimizer_ = torch.optim.Adam(
            [self.alphas_], lr=self.arch_lr, betas=self.arch_betas, weight_decay=self.arch_weight_decay
        )
        self.tau_ = self.tau_max
        self.last_index_: list[int] = []

    def _start_epoch(self, epoch: int) -> None:
        span = max(1, self.epochs - 1)
        self.tau_ = self.tau_max - (self.tau_max - self.tau_min) * epoch / span

    def sample(self) -> tuple[torch.Tensor, list[int]]:
        """Straight-through hard weights (6, 5) and the sampled op of each edge."""
        while True:  # as the paper's code: redraw the rare sample whose softmax overflows
            u = torch.rand(NUM_EDGES, NUM_OPS, generator=self.gen_).clamp_(1e-10, 1 - 1e-7)
            gumbel = (-torch.log(-torch.log(u))).to(self.alphas_.device)
            logits = (torch.log_softmax(self.alphas_, dim=-1) + gumbel) / self.tau_
            soft = torch.softmax(logits, dim=-1)
            if torch.isfinite(soft).all():
                break
        index = soft.argmax(dim=-1)
        one_hot = torch.zeros_like(soft).scatter_(-1, index[:, None], 1.0)
        self.last_index_ = [int(i) for i in index.tolist()]
        return one_hot - soft.detach() + soft, self.last_index_

    def _step(self, x, y, xv, yv):
        hard, index = self.sample()
        out = self._train_weights(x, y, weights=hard.detach(), index=index)
        hard, index = self.sample()
        self.a_optimizer_.zero_grad(set_to_none=True)
        loss = self.criterion_(self.supernet_(xv, weights=hard, index=index), yv)
        loss.backward()
        self.a_optimizer_.step()
        return out

    def _end_epoch(self, epoch: int) -> dict[str, float]:
        return {"tau": self.tau_, "alpha_entropy": edge_entropy(self.alphas_)}

    def _derive(self) -> tuple[Arch, dict[str, Any]]:
        arch = tuple(int(i) for i in self.alphas_.detach().argmax(dim=-1).tolist())
        return arch, alpha_record(self.alphas_)
