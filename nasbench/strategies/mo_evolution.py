"""NSGA-II (Deb, Pratap, Agarwal, Meyarivan; IEEE TEC 2002) as a steady-state ask/tell strategy.

The generational algorithm breeds a whole population and then halves parents plus children; under ask/tell with
asynchronous workers there are no generations, so this is its steady-state form (one child per ask, one survivor
decision per tell), which keeps the same two orders: binary tournaments on (non-domination rank, crowding
distance) choose parents, and survival drops the member of the worst rank with the smallest crowding distance.
Constraints are Deb's constrained domination (:mod:`nasbench.strategies._pareto`). With a single objective the
ranks are the score's order, so it is an elitist (mu + 1) evolution.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nasbench.spaces.base import Arch
from nasbench.strategies._common import Proposed, mutation_rows, sample_rows
from nasbench.strategies._pareto import CheapestTwin, objective_vector, rank_and_crowding, violation
from nasbench.strategies.base import Feedback, Proposal, Strategy, Trial

#: Tournaments tried for a child not proposed before, before a random new arch is taken instead.
CHILD_ATTEMPTS = 10
#: Children drawn per tournament winner (the first one not proposed before is taken: extra draws only skip
#: duplicates, they are not a choice among children).
DRAWS = 4


class NSGA2(Strategy):
    """Population of ``population_size`` told archs (the first ``population_size`` proposals are uniform random);
    each child mutates the winner of a tournament of ``tournament_size`` members (2: Deb's binary tournament),
    each decision changed with probability ``mutation_prob`` (None: one over the number of decisions; at least
    one always changes). Never proposes an arch isomorphic to one proposed before. The default population (10)
    was chosen on NB201 x Raspberry Pi 4 latency (seeds 100-105, 150 evaluations: mean hypervolume 0.957 with 10,
    0.953 with 20, 0.951 with 50), not on the edge GPU's latency that comparisons report."""

    name = "nsga2"
    ranges: ClassVar[dict[str, str]] = {
        "population_size": "[2, 100000]",
        "tournament_size": "[1, 100]",
        "mutation_prob": "(0, 1]",
    }

    def __init__(self, population_size: int = 10, tournament_size: int = 2, mutation_prob: float | None = None) -> None:
        self.population_size = population_size
        self.tournament_size = tournament_size
        self.mutation_prob = mutation_prob

    def _setup(self) -> None:
        if not 1 <= self.tournament_size <= self.population_size:
            raise ValueError(
                f"nsga2: tournament_size must be in 1..population_size ({self.population_size}), got "
                f"{self.tournament_size}"
            )
        self._prob = self.mutation_prob if self.mutation_prob is not None else 1.0 / len(self.space.choices)
        self._proposed = Proposed(self.space)
        self._twin = CheapestTwin(self.context)
        self._archs: list[Arch] = []  # the population, oldest first
        self._points: list[tuple[float, ...]] = []
        self._violations: list[float] = []
        self._order: tuple[np.ndarray, np.ndarray] | None = None  # (ranks, crowding) of the population as it is
        self._initial = 0

    def ask(self) -> Proposal:
        if self._initial < self.population_size or not self._archs:
            self._initial += 1
            return self._propose(self._random_new())
        for _ in range(CHILD_ATTEMPTS):
            children = mutation_rows(self.space, self._tournament(), DRAWS, self._prob, self.rng)
            fresh = np.flatnonzero(self._proposed.new_mask(children))
            if len(fresh):
                return self._propose(tuple(children[fresh[0]].tolist()))
        return self._propose(self._random_new())  # the winners' neighbourhoods are used up

    def tell(self, trial: Trial, feedback: Feedback) -> None:
        super().tell(trial, feedback)
        self._archs.append(trial.arch)
        self._points.append(objective_vector(feedback))
        self._violations.append(violation(self.context, trial.arch, feedback))
        self._order = None
        if len(self._archs) > self.population_size:
            ranks, crowding = self._ranked()
            worst = np.flatnonzero(ranks == ranks.max())
            # the most crowded of the worst front dies; among equals the oldest (argmin takes the first)
            victim = int(worst[np.argmin(crowding[worst])])
            for members in (self._archs, self._points, self._violations):
                del members[victim]
            self._order = None

    def _ranked(self) -> tuple[np.ndarray, np.ndarray]:
        if self._order is None:
            self._order = rank_and_crowding(np.asarray(self._points), np.asarray(self._violations))
        return self._order

    def _tournament(self) -> Arch:
        """The best of ``tournament_size`` members drawn without replacement: lower rank, then larger crowding
        distance, then the first drawn."""
        ranks, crowding = self._ranked()
        picks = self.rng.choice(len(self._archs), size=min(self.tournament_size, len(self._archs)), replace=False)
        best = min(picks.tolist(), key=lambda i: (ranks[i], -crowding[i]))
        return self._archs[best]

    def _random_new(self) -> Arch:
        rows = sample_rows(self.space, self.rng, 16)
        fresh = np.flatnonzero(self._proposed.new_mask(rows))
        return tuple(rows[fresh[0] if len(fresh) else 0].tolist())

    def _propose(self, arch: Arch) -> Proposal:
        arch = self._twin(arch)
        self._proposed.add([arch])
        return Proposal(arch)
