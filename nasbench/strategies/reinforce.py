"""REINFORCE (Williams 1992) with a per-decision categorical policy and a moving-average baseline, the RL baseline
of the NAS-Bench-201 paper. The policy's logits are trained with Adam (scale-free in the reward, as NB201 did)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nasbench.strategies._common import is_valid
from nasbench.strategies.base import Feedback, Proposal, Strategy, Trial


class Reinforce(Strategy):
    """Each decision's value is drawn from softmax(logits[decision]); after each result the logits move along
    (reward - baseline) * grad log-prob; the baseline is an exponential moving average of the reward.

    Decisions may have different numbers of choices: ``logits_`` is (decisions, most choices), padded with -inf,
    whose probability is 0 and whose gradient stays 0. Archs the space rejects (a constrained space) are drawn
    again, so every proposal is valid."""

    name = "reinforce"
    ranges: ClassVar[dict[str, str]] = {"learning_rate": "(0, 100]", "baseline_decay": "[0, 1)"}

    def __init__(self, learning_rate: float = 0.05, baseline_decay: float = 0.9) -> None:
        self.learning_rate = learning_rate
        self.baseline_decay = baseline_decay

    def _setup(self) -> None:
        if not 0 <= self.baseline_decay < 1:
            raise ValueError(f"baseline_decay must be in [0, 1), got {self.baseline_decay}")
        self._choices = np.asarray(self.space.choices, dtype=np.int64)
        shape = (len(self._choices), int(self._choices.max()))
        self.logits_ = np.where(np.arange(shape[1]) < self._choices[:, None], 0.0, -np.inf)
        self._adam_m = np.zeros(shape)
        self._adam_v = np.zeros(shape)
        self._steps = 0
        self._baseline: float | None = None

    def probabilities(self) -> np.ndarray:
        """(decisions, most choices): row d is decision d's distribution (0 beyond its choices)."""
        z = np.exp(self.logits_ - self.logits_.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def ask(self) -> Proposal:
        probs = self.probabilities()
        for _ in range(10_000):
            u = self.rng.random(len(self._choices))[:, None]
            values = (u > np.cumsum(probs, axis=1)).sum(axis=1)  # inverse-CDF draw per decision
            arch = tuple(int(v) for v in np.minimum(values, self._choices - 1))
            if is_valid(self.space, arch):
                return Proposal(arch)
        return Proposal(self.space.sample(self.rng))  # the policy has (nearly) all its mass on invalid archs

    def tell(self, trial: Trial, feedback: Feedback) -> None:
        super().tell(trial, feedback)
        reward = feedback.score
        if self._baseline is None:
            self._baseline = reward
        advantage = reward - self._baseline
        self._baseline = self.baseline_decay * self._baseline + (1 - self.baseline_decay) * reward
        grad = -self.probabilities()
        grad[np.arange(len(self._choices)), list(trial.arch)] += 1.0
        self._adam_ascent(advantage * grad)

    def _adam_ascent(self, grad: np.ndarray, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        self._steps += 1
        self._adam_m = beta1 * self._adam_m + (1 - beta1) * grad
        self._adam_v = beta2 * self._adam_v + (1 - beta2) * grad**2
        m_hat = self._adam_m / (1 - beta1**self._steps)
        v_hat = self._adam_v / (1 - beta2**self._steps)
        self.logits_ += self.learning_rate * m_hat / (np.sqrt(v_hat) + eps)
