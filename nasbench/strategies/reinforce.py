"""REINFORCE (Williams 1992) with a per-edge categorical policy and a moving-average baseline, the RL baseline of
the NAS-Bench-201 paper. The policy's logits are trained with Adam (scale-free in the reward, as NB201 did)."""

from __future__ import annotations

import numpy as np

from nasbench.strategies.base import Feedback, Proposal, Strategy


class Reinforce(Strategy):
    """Each edge's op is drawn from softmax(logits[edge]); after each result the logits move along
    (reward - baseline) * grad log-prob; the baseline is an exponential moving average of the reward."""

    name = "reinforce"

    def __init__(self, learning_rate: float = 0.05, baseline_decay: float = 0.9) -> None:
        self.learning_rate = learning_rate
        self.baseline_decay = baseline_decay

    def _setup(self) -> None:
        if not 0 <= self.baseline_decay < 1:
            raise ValueError(f"baseline_decay must be in [0, 1), got {self.baseline_decay}")
        shape = (self.space.num_edges, self.space.num_ops)
        self.logits_ = np.zeros(shape)
        self._adam_m = np.zeros(shape)
        self._adam_v = np.zeros(shape)
        self._steps = 0
        self._baseline: float | None = None

    def probabilities(self) -> np.ndarray:
        z = np.exp(self.logits_ - self.logits_.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def ask(self) -> Proposal:
        probs = self.probabilities()
        u = self.rng.random(self.space.num_edges)[:, None]
        ops = (u > np.cumsum(probs, axis=1)).sum(axis=1)  # inverse-CDF draw per edge
        return Proposal(tuple(int(min(op, self.space.num_ops - 1)) for op in ops))

    def tell(self, proposal: Proposal, feedback: Feedback) -> None:
        super().tell(proposal, feedback)
        reward = feedback.score
        if self._baseline is None:
            self._baseline = reward
        advantage = reward - self._baseline
        self._baseline = self.baseline_decay * self._baseline + (1 - self.baseline_decay) * reward
        grad = -self.probabilities()
        grad[np.arange(self.space.num_edges), list(proposal.arch)] += 1.0
        self._adam_ascent(advantage * grad)

    def _adam_ascent(self, grad: np.ndarray, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        self._steps += 1
        self._adam_m = beta1 * self._adam_m + (1 - beta1) * grad
        self._adam_v = beta2 * self._adam_v + (1 - beta2) * grad**2
        m_hat = self._adam_m / (1 - beta1**self._steps)
        v_hat = self._adam_v / (1 - beta2**self._steps)
        self.logits_ += self.learning_rate * m_hat / (np.sqrt(v_hat) + eps)
