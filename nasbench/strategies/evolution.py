"""Regularized evolution (Real et al., AAAI 2019): tournament selection, mutation, and ageing (the oldest
member dies, not the worst)."""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from nasbench.spaces.base import Arch
from nasbench.strategies.base import Feedback, Proposal, Strategy, Trial


class RegularizedEvolution(Strategy):
    """Population of ``population_size``; each child mutates the best of ``sample_size`` members drawn at
    random. Defaults are the NAS-Bench-201 paper's (10 and 3). Until the population is full, proposals are
    uniform samples; with several workers, children are bred from the population as it stands."""

    name = "regularized_evolution"
    ranges: ClassVar[dict[str, str]] = {"population_size": "[2, 100000]", "sample_size": "[1, 100000]"}

    def __init__(self, population_size: int = 10, sample_size: int = 3) -> None:
        self.population_size = population_size
        self.sample_size = sample_size

    def _setup(self) -> None:
        if not 1 <= self.sample_size <= self.population_size:
            raise ValueError(
                f"sample_size must be in 1..population_size ({self.population_size}), got {self.sample_size}"
            )
        self._population: deque[tuple[Arch, float]] = deque()
        self._initial_asked = 0

    def ask(self) -> Proposal:
        if self._initial_asked < self.population_size:
            self._initial_asked += 1
            return Proposal(self.space.sample(self.rng))
        if not self._population:  # every initial proposal still pending: keep exploring
            return Proposal(self.space.sample(self.rng))
        picks = self.rng.choice(len(self._population), size=min(self.sample_size, len(self._population)), replace=False)
        parent = max((self._population[i] for i in picks), key=lambda member: member[1])[0]
        return Proposal(self.space.mutate(parent, self.rng))

    def tell(self, trial: Trial, feedback: Feedback) -> None:
        super().tell(trial, feedback)
        self._population.append((trial.arch, feedback.score))
        if len(self._population) > self.population_size:
            self._population.popleft()
