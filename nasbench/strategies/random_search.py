"""Random search: the baseline every NAS method must beat (Li & Talwalkar 2019; NAS-Bench-201's RS)."""

from __future__ import annotations

from nasbench.spaces.base import Arch, has
from nasbench.strategies.base import Proposal, Strategy

#: Draws ``unique=True`` makes for an unseen arch in a space it cannot count, before it accepts a repeat.
MAX_RETRIES = 1000


class RandomSearch(Strategy):
    """Uniform samples from the space. ``unique=True`` never proposes an arch twice while unseen ones remain (on a
    space too large to list, it gives up after :data:`MAX_RETRIES` repeats in a row); the NB201 protocol samples
    with replacement, so the default is False."""

    name = "random_search"

    def __init__(self, unique: bool = False) -> None:
        self.unique = unique

    def _setup(self) -> None:
        self._seen: set[Arch] = set()
        self._size: int | None = self.space.size if has(self.space, "enumerable") else None  # type: ignore[attr-defined]

    def ask(self) -> Proposal:
        arch = self.space.sample(self.rng)
        if self.unique:
            if self._size is not None:
                while arch in self._seen and len(self._seen) < self._size:
                    arch = self.space.sample(self.rng)
            else:
                for _ in range(MAX_RETRIES):
                    if arch not in self._seen:
                        break
                    arch = self.space.sample(self.rng)
            self._seen.add(arch)
        return Proposal(arch)
