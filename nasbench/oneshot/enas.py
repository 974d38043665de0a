"""ENAS (Pham et al., ICML 2018): an LSTM controller samples a cell edge by edge; shared weights train on the
sampled cells; the controller learns by REINFORCE from their validation accuracy.

Each epoch alternates the two phases of the paper: (1) one pass over the train split, every batch training the
shared weights of a cell the controller samples; (2) ``controller_steps`` Adam steps of the controller, each on the
gradient summed over ``controller_aggregate`` sampled cells, with reward = val accuracy of the cell on one val batch
(shared weights) + ``entropy_weight`` x the sample's entropy, minus a moving-average baseline (decay
``baseline_decay``). Controller settings follow NAS-Bench-201's ENAS: 2-layer LSTM of 32 units, logits
``tanh_constant * tanh(logits / temperature)`` with 2.5 and 5, Adam lr 1e-3 (the ENAS paper: 3.5e-4), entropy
weight 1e-4, baseline decay 0.95, 50 steps x 20 samples. The returned cell is, as in the paper, the best of
``derive_samples`` sampled cells by shared-weight accuracy on one val batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from nasbench.errors import TrainingError
from nasbench.oneshot.search import OneShotMethod, shared_accuracy
from nasbench.oneshot.supernet import Arch
from nasbench.spaces.nb201 import NUM_EDGES, NUM_OPS


class Controller(nn.Module):
    """An LSTM that emits one op per edge; the embedding of each choice is the next step's input."""

    def __init__(
        self, *, lstm_size: int = 32, lstm_layers: int = 2, tanh_constant: float = 2.5, temperature: float = 5.0
    ) -> None:
        super().__init__()
        self.tanh_constant = tanh_constant
        self.temperature = temperature
        self.start = nn.Parameter(torch.zeros(1, 1, lstm_size))
        self.lstm = nn.LSTM(lstm_size, lstm_size, lstm_layers)
        self.embed = nn.Embedding(NUM_OPS, lstm_size)
        self.head = nn.Linear(lstm_size, NUM_OPS)
        for p in self.parameters():  # the paper's uniform(-0.1, 0.1) initialization
            nn.init.uniform_(p, -0.1, 0.1)

    def forward(self, generator: torch.Generator) -> tuple[Arch, torch.Tensor, torch.Tensor]:
        """A sampled cell, the sum of its log-probabilities and the sum of the per-edge entropies."""
        inputs: torch.Tensor  # the start parameter, then each sampled op's embedding
        inputs, state = self.start, None
        ops, log_probs, entropies = [], [], []
        for _ in range(NUM_EDGES):
            out, state = self.lstm(inputs, state)
            logits = self.head(out[0, 0]) / self.temperature
            logits = self.tanh_constant * torch.tanh(logits)
            log_p = torch.log_softmax(logits, dim=-1)
            op = int(torch.multinomial(log_p.exp().detach(), 1, generator=generator))
            ops.append(op)
            log_probs.append(log_p[op])
            entropies.append(-(log_p * log_p.exp()).sum())
            inputs = self.embed.weight[op].view(1, 1, -1)
        return tuple(ops), torch.stack(log_probs).sum(), torch.stack(entropies).sum()


@dataclass(kw_only=True)
class ENAS(OneShotMethod):
    name: ClassVar[str] = "enas"

    epochs: int = 250
    lstm_size: int = 32
    lstm_layers: int = 2
    tanh_constant: float = 2.5
    temperature: float = 5.0
    controller_lr: float = 1e-3
    entropy_weight: float = 1e-4
    baseline_decay: float = 0.95
    controller_steps: int = 50
    controller_aggregate: int = 20
    derive_samples: int = 100

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("controller_steps", "controller_aggregate", "derive_samples", "lstm_size", "lstm_layers"):
            if getattr(self, name) < 1:
                raise TrainingError(f"enas {name} must be >= 1, got {getattr(self, name)}")

    def _setup(self) -> None:
        # the controller is tiny and stays on the CPU, where the run's generator draws its samples
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=self.gen_)))
            self.controller_ = Controller(
                lstm_size=self.lstm_size,
                lstm_layers=self.lstm_layers,
                tanh_constant=self.tanh_constant,
                temperature=self.temperature,
            )
        self.c_optimizer_ = torch.optim.Adam(self.controller_.parameters(), lr=self.controller_lr)
        self.baseline_: float | None = None
        self.rewards_: list[float] = []

    def _sample(self) -> Arch:
        with torch.no_grad():
            arch, _, _ = self.controller_(self.gen_)
        return arch

    def _val_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        n = len(self.data_.val_y)
        idx = torch.randperm(n, generator=self.gen_)[: self.batch_size].to(self.data_.device)
        return self.data_.val_x[idx], self.data_.val_y[idx]

    def _step(self, x, y, xv, yv):
        return self._train_weights(x, y, arch=self._sample())

    def _end_epoch(self, epoch: int) -> dict[str, float]:
        self.controller_.train()
        rewards = []
        entropies = []
        for _ in range(self.controller_steps):
            self.c_optimizer_.zero_grad(set_to_none=True)
            for _ in range(self.controller_aggregate):
                arch, log_prob, entropy = self.controller_(self.gen_)
                reward = shared_accuracy(self.supernet_, arch, *self._val_batch(), batch_size=self.batch_size)
                reward += self.entropy_weight * float(entropy.detach())
                self.baseline_ = (
                    reward
                    if self.baseline_ is None
                    else self.baseline_decay * self.baseline_ + (1 - self.baseline_decay) * reward
                )
                loss = -log_prob * (reward - self.baseline_) / self.controller_aggregate
                loss.backward()
                rewards.append(reward)
                entropies.append(float(entropy.detach()))
            self.c_optimizer_.step()
        return {
            "reward": sum(rewards) / len(rewards),
            "baseline": float(self.baseline_ or 0.0),
            "controller_entropy": sum(entropies) / len(entropies),
        }

    def _derive(self) -> tuple[Arch, dict[str, Any]]:
        best: tuple[float, Arch] | None = None
        seen: dict[Arch, float] = {}
        for _ in range(self.derive_samples):
            arch = self._sample()
            acc = shared_accuracy(self.supernet_, arch, *self._val_batch(), batch_size=self.batch_size)
            seen[arch] = max(acc, seen.get(arch, 0.0))
            if best is None or acc > best[0]:
                best = (acc, arch)
        assert best is not None
        return best[1], {"derive_val_batch_acc": best[0], "distinct_samples": len(seen)}
