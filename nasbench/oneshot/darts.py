"""DARTS (Liu, Simonyan & Yang, ICLR 2019): a softmax over each edge's ops makes the cell continuous; weights
``w`` descend the train loss and architecture parameters ``alpha`` the val loss, alternating per batch.

``order=1`` treats ``w`` as fixed when differentiating the val loss (DARTS-V1). ``order=2`` differentiates through
one virtual SGD step ``w' = w - xi * grad_w L_train(w, alpha)`` (xi = the current weight lr, momentum and weight
decay included as in the paper's code); the second-order term is a finite-difference Hessian-vector product with
``eps = 0.01 / ||grad_w' L_val||`` (DARTS-V2). Architecture optimizer: Adam lr 3e-4, betas (0.5, 0.999), weight
decay 1e-3 (the paper's and NAS-Bench-201's setup). The returned cell is the argmax of every edge's alpha over all
five ops, "none" included, as NAS-Bench-201 derives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, cast

import torch
from torch.func import functional_call

from nasbench.errors import TrainingError
from nasbench.oneshot.search import OneShotMethod, alpha_record, edge_entropy
from nasbench.oneshot.supernet import Arch
from nasbench.spaces.nb201 import NUM_EDGES, NUM_OPS


@dataclass(kw_only=True)
class DARTS(OneShotMethod):
    name: ClassVar[str] = "darts"

    order: int = 1
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    alpha_init_std: float = 1e-3

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.order not in (1, 2):
            raise TrainingError(f"darts order must be 1 or 2, got {self.order!r}")
        self.arch_betas = (float(self.arch_betas[0]), float(self.arch_betas[1]))

    @property
    def label(self) -> str:
        return "darts" if self.order == 1 else "darts:order=2"

    def _setup(self) -> None:
        init = self.alpha_init_std * torch.randn(NUM_EDGES, NUM_OPS, generator=self.gen_)
        self.alphas_ = init.to(self.data_.device).requires_grad_(True)
        self.a_optimizer_ = torch.optim.Adam(
            [self.alphas_], lr=self.arch_lr, betas=self.arch_betas, weight_decay=self.arch_weight_decay
        )

    def _weights(self) -> torch.Tensor:
        return torch.softmax(self.alphas_, dim=-1)

    def _step(self, x, y, xv, yv):
        self.a_optimizer_.zero_grad(set_to_none=True)
        if self.order == 1:
            loss = self.criterion_(self.supernet_(xv, weights=self._weights()), yv)
            self.alphas_.grad = torch.autograd.grad(loss, self.alphas_)[0]
        else:
            self.alphas_.grad = self._second_order_grad(x, y, xv, yv)
        self.a_optimizer_.step()
        return self._train_weights(x, y, weights=self._weights().detach())

    def _second_order_grad(self, x, y, xv, yv) -> torch.Tensor:
        net = self.supernet_
        names = [n for n, p in net.named_parameters()]
        params = [p for _, p in net.named_parameters()]
        xi = self.lr_
        # the virtual step w' = w - xi * (momentum * buf + grad + wd * w)
        loss = self.criterion_(net(x, weights=self._weights()), y)
        grads = torch.autograd.grad(loss, params)
        unrolled = {}
        for n, p, g in zip(names, params, grads, strict=True):
            step = g + self.w_weight_decay * p.detach()
            buf = self.w_optimizer_.state.get(p, {}).get("momentum_buffer")
            if buf is not None:
                step = step + self.w_momentum * buf
            unrolled[n] = (p.detach() - xi * step).requires_grad_(True)
        val_loss = self.criterion_(functional_call(net, unrolled, (xv,), {"weights": self._weights()}), yv)
        d_alpha, *d_w = torch.autograd.grad(val_loss, [self.alphas_, *unrolled.values()])
        # Hessian-vector product (d^2 L_train / d alpha d w) . d_w by central differences around w
        # cast: the network has parameters, so d_w is not empty and the sum is a tensor, not the start value 0
        norm = torch.sqrt(cast(torch.Tensor, sum((g * g).sum() for g in d_w)))
        eps = 0.01 / float(norm.clamp_min(1e-12))
        grads_at = []
        for sign in (1.0, -1.0):
            shifted = {n: p.detach() + sign * eps * g for n, p, g in zip(names, params, d_w, strict=True)}
            loss = self.criterion_(functional_call(net, shifted, (x,), {"weights": self._weights()}), y)
            grads_at.append(torch.autograd.grad(loss, self.alphas_)[0])
        hvp = (grads_at[0] - grads_at[1]) / (2 * eps)
        return d_alpha - xi * hvp

    def _end_epoch(self, epoch: int) -> dict[str, float]:
        return {"alpha_entropy": edge_entropy(self.alphas_)}

    def _derive(self) -> tuple[Arch, dict[str, Any]]:
        arch = tuple(int(i) for i in self.alphas_.detach().argmax(dim=-1).tolist())
        return arch, alpha_record(self.alphas_)
