"""Pareto local search (Paquete, Chiarandini, Stuetzle; "Pareto local optimum sets in the biobjective traveling
salesman problem", 2004).

An archive holds the told archs no other told arch dominates (constrained domination: see
:mod:`nasbench.strategies._pareto`). Repeatedly an unexplored archive member is picked at random and its whole
neighbourhood (``space.neighbors``: on NB201 the one-edge changes) is evaluated, each result updating the archive;
when every archive member is explored (a Pareto local optimum set), the search restarts from ``num_restart``
random archs, which enter the archive or not like any other result. Archs isomorphic to one proposed before are
never proposed again.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nasbench.spaces.base import Arch
from nasbench.strategies._common import Proposed, as_rows, sample_rows
from nasbench.strategies._pareto import CheapestTwin, constrained_ranks, objective_vector, violation
from nasbench.strategies.base import Feedback, Proposal, Strategy, Trial


class ParetoLocalSearch(Strategy):
    """``num_init`` random archs to start; ``num_restart`` random archs whenever the archive is explored. With
    several workers, a worker waits (ask returns None) only when the archive is explored and results that may
    change it are pending."""

    name = "pareto_local_search"
    ranges: ClassVar[dict[str, str]] = {"num_init": "[1, 10000]", "num_restart": "[1, 10000]"}

    def __init__(self, num_init: int = 10, num_restart: int = 1) -> None:
        self.num_init = num_init
        self.num_restart = num_restart

    def _setup(self) -> None:
        self._proposed = Proposed(self.space)
        self._twin = CheapestTwin(self.context)
        self._archive: list[Arch] = []  # non-dominated told archs, in the order they joined
        self._points: list[tuple[float, ...]] = []
        self._violations: list[float] = []
        self._explored: set[Arch] = set()
        self._pending = 0
        self._queue: list[Arch] = self._random_new(self.num_init)

    def ask(self) -> Proposal | None:
        while not self._queue:
            unexplored = [i for i, a in enumerate(self._archive) if a not in self._explored]
            if unexplored:
                pick = self._archive[unexplored[int(self.rng.integers(len(unexplored)))]]
                self._explored.add(pick)
                neighbors = as_rows(self.space, self.space.neighbors(pick))
                neighbors = neighbors[self.rng.permutation(len(neighbors))]
                self._queue = [tuple(r) for r in neighbors[self._proposed.new_mask(neighbors)].tolist()]
            elif self._pending:
                return None  # the pending results may enter the archive and give it members to explore
            else:
                self._queue = self._random_new(self.num_restart)
        arch = self._twin(self._queue.pop(0))
        self._proposed.add([arch])
        self._pending += 1
        return Proposal(arch)

    def tell(self, trial: Trial, feedback: Feedback) -> None:
        super().tell(trial, feedback)
        self._pending -= 1
        archs = [*self._archive, trial.arch]
        points = [*self._points, objective_vector(feedback)]
        violations = [*self._violations, violation(self.context, trial.arch, feedback)]
        keep = np.flatnonzero(constrained_ranks(np.asarray(points), np.asarray(violations)) == 0).tolist()
        self._archive = [archs[i] for i in keep]
        self._points = [points[i] for i in keep]
        self._violations = [violations[i] for i in keep]

    def _random_new(self, count: int) -> list[Arch]:
        """``count`` random archs not isomorphic to a proposed one or to each other (fewer when none are left)."""
        rows = sample_rows(self.space, self.rng, 16 * count)
        fresh = rows[self._proposed.new_mask(rows)][:count]
        if not len(fresh):
            fresh = rows[:1]  # nearly every arch proposed: any arch keeps the run going
        return [tuple(r) for r in fresh.tolist()]

    @property
    def archive(self) -> list[Arch]:
        """The told archs no other told arch dominates (the incumbent set as this strategy sees it)."""
        return list(self._archive)
