"""Local search (White, Nolen, Savani; "Local search is state of the art for NAS benchmarks", 2020).

Start from the best of ``num_init`` random archs; evaluate its neighbours (``space.neighbors``: on NB201 the
one-edge changes) in random order; move to the best neighbour if it improves on the current arch, else restart
from a fresh random arch. Archs already evaluated are not evaluated again (their score is remembered).
"""

from __future__ import annotations

from typing import ClassVar

from nasbench.spaces.base import Arch
from nasbench.strategies.base import Feedback, Proposal, Strategy, Trial


class LocalSearch(Strategy):
    """``first_improvement=True`` moves as soon as a better neighbour is found instead of after the whole
    neighbourhood (White et al. evaluate the whole neighbourhood: default False)."""

    name = "local_search"
    ranges: ClassVar[dict[str, str]] = {"num_init": "[1, 10000]"}  # the first batch is drawn up front: bounded

    def __init__(self, num_init: int = 10, first_improvement: bool = False) -> None:
        self.num_init = num_init
        self.first_improvement = first_improvement

    def _setup(self) -> None:
        if self.num_init < 1:
            raise ValueError(f"num_init must be >= 1, got {self.num_init}")
        self._scores: dict[Arch, float] = {}
        self._pending: set[Arch] = set()
        self._current: Arch | None = None
        self._batch: list[Arch] = []  # the archs whose scores decide the next move
        self._queue: list[Arch] = []  # archs of the batch not proposed yet
        for _ in range(self.num_init):
            arch = self._fresh()
            self._batch.append(arch)
            self._queue.append(arch)

    def _fresh(self) -> Arch:
        """A random arch neither evaluated nor pending nor queued (any arch once nearly all are known)."""
        for _ in range(1000):
            arch = self.space.sample(self.rng)
            if arch not in self._scores and arch not in self._pending and arch not in self._queue:
                return arch
        return self.space.sample(self.rng)

    def ask(self) -> Proposal | None:
        while not self._queue:
            if self._pending:
                return None  # the next move depends on pending results
            self._decide()
        arch = self._queue.pop(0)
        self._pending.add(arch)
        return Proposal(arch)

    def tell(self, trial: Trial, feedback: Feedback) -> None:
        super().tell(trial, feedback)
        self._pending.discard(trial.arch)
        self._scores[trial.arch] = feedback.score
        current = self._current
        if self.first_improvement and current is not None and feedback.score > self._scores[current]:
            self._queue.clear()  # move as soon as the pending proposals are back

    def _decide(self) -> None:
        """Every proposal of the batch is back: move to its best arch, or restart at a local optimum."""
        scored = [a for a in self._batch if a in self._scores]
        best = max(scored, key=self._scores.__getitem__, default=None)
        if best is not None and (self._current is None or self._scores[best] > self._scores[self._current]):
            self._move_to(best)
        else:
            self._current = None
            self._batch = [self._fresh()]
            self._queue = list(self._batch)

    def _move_to(self, arch: Arch) -> None:
        self._current = arch
        neighbors = self.space.neighbors(arch)
        self._batch = [neighbors[i] for i in self.rng.permutation(len(neighbors))]
        self._queue = [n for n in self._batch if n not in self._scores and n not in self._pending]
