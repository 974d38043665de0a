"""Random search: the baseline every NAS method must beat (Li & Talwalkar 2019; NAS-Bench-201's RS)."""

from __future__ import annotations

from nasbench.strategies.base import Feedback, Proposal, Strategy


class RandomSearch(Strategy):
    """Uniform samples from the space. ``unique=True`` never proposes a cell twice (the NB201 protocol samples
    with replacement, so the default is False)."""

    name = "random_search"

    def __init__(self, unique: bool = False) -> None:
        self.unique = unique

    def _setup(self) -> None:
        self._seen: set[tuple[int, ...]] = set()

    def ask(self) -> Proposal:
        arch = self.space.sample(self.rng)
        if self.unique:
            while arch in self._seen and len(self._seen) < self.space.size:
                arch = self.space.sample(self.rng)
            self._seen.add(arch)
        return Proposal(arch)

    def tell(self, proposal: Proposal, feedback: Feedback) -> None:
        super().tell(proposal, feedback)
