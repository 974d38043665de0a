"""Successive halving (Jamieson & Talwalkar 2016) and Hyperband (Li et al., JMLR 2018) over training epochs.

Rungs are epochs ``max_epoch * eta**-k`` snapped up to epochs the benchmark holds. A promoted arch continues the
training of its trial at the rung below (``resume_from`` = that trial's id): the runner charges only the extra
epochs.
"""

from __future__ import annotations

import math
from typing import ClassVar

from nasbench.spaces.base import Arch
from nasbench.strategies.base import Feedback, Proposal, Strategy, Trial


def rung_epochs(epochs: tuple[int, ...], eta: float, min_epoch: int | None, max_epoch: int | None) -> list[int]:
    """Increasing epochs of the rungs, from ``min_epoch`` (default: the first epoch) to ``max_epoch`` (the last)."""
    top = max_epoch if max_epoch is not None else epochs[-1]
    bottom = min_epoch if min_epoch is not None else epochs[0]
    for name, value in (("min_epoch", bottom), ("max_epoch", top)):
        if value not in epochs:
            raise ValueError(f"{name}={value} is not an epoch of the benchmark; available: {list(epochs)}")
    if bottom >= top:
        raise ValueError(f"min_epoch ({bottom}) must be below max_epoch ({top})")
    if eta <= 1:
        raise ValueError(f"eta must be > 1, got {eta}")
    levels = math.floor(math.log(top / bottom, eta) + 1e-9)
    rungs: list[int] = []
    for k in range(levels, -1, -1):
        target = top / eta**k
        snapped = min(e for e in epochs if e >= target - 1e-9 and e >= bottom)
        if not rungs or snapped > rungs[-1]:
            rungs.append(snapped)
    return rungs


class _Bracket:
    """One successive-halving bracket: fresh archs at ``rungs[0]``, the best 1/eta promoted at each rung."""

    def __init__(self, archs: list[Arch], rungs: list[int], eta: float) -> None:
        self.rungs = rungs
        self.eta = eta
        self.rung = 0
        self.to_launch: list[tuple[Arch, int | None]] = [(arch, None) for arch in archs]  # (arch, trial it resumes)
        self.pending = 0
        self.results: list[tuple[float, int, Trial]] = []  # (score, order told, trial) at the current rung

    @property
    def done(self) -> bool:
        return self.rung >= len(self.rungs)

    def ask(self) -> Proposal | None:
        if not self.to_launch:
            return None
        self.pending += 1
        arch, resume_from = self.to_launch.pop(0)
        return Proposal(arch, epoch=self.rungs[self.rung], resume_from=resume_from)

    def tell(self, trial: Trial, score: float) -> None:
        self.pending -= 1
        self.results.append((score, len(self.results), trial))
        if not self.pending and not self.to_launch:
            self._promote()

    def _promote(self) -> None:
        keep = max(1, int(len(self.results) / self.eta))
        ranked = sorted(self.results, key=lambda r: (-r[0], r[1]))  # ties: told earlier first
        self.rung += 1
        self.results = []
        if not self.done:
            self.to_launch = [(trial.arch, trial.trial_id) for _, _, trial in ranked[:keep]]


class _Brackets(Strategy):
    """Runs brackets one after another; when every open bracket waits for results and a worker is free, it opens
    the next bracket (as parallel Hyperband/BOHB do), so workers never idle."""

    multi_fidelity = True
    eta: float
    min_epoch: int | None
    max_epoch: int | None

    def _setup(self) -> None:
        self.rungs_ = rung_epochs(self.context.epochs, self.eta, self.min_epoch, self.max_epoch)
        self._open: list[_Bracket] = []
        self._waiting: dict[tuple[Arch, int | None], list[_Bracket]] = {}
        self._opened = 0

    def _bracket_shape(self, index: int) -> tuple[int, int]:
        """(number of archs, first rung) of the ``index``-th bracket."""
        raise NotImplementedError

    def ask(self) -> Proposal | None:
        for bracket in self._open:
            proposal = bracket.ask()
            if proposal is not None:
                return self._track(proposal, bracket)
        n, first_rung = self._bracket_shape(self._opened)
        self._opened += 1
        bracket = _Bracket([self.space.sample(self.rng) for _ in range(n)], self.rungs_[first_rung:], self.eta)
        self._open.append(bracket)
        return self._track(bracket.ask(), bracket)  # type: ignore[arg-type]

    def _track(self, proposal: Proposal, bracket: _Bracket) -> Proposal:
        self._waiting.setdefault((proposal.arch, proposal.epoch), []).append(bracket)
        return proposal

    def tell(self, trial: Trial, feedback: Feedback) -> None:
        super().tell(trial, feedback)
        key = (trial.arch, trial.epoch)
        brackets = self._waiting[key]
        bracket = brackets.pop(0)
        if not brackets:
            del self._waiting[key]
        bracket.tell(trial, feedback.score)
        if bracket.done:
            self._open.remove(bracket)


class SuccessiveHalving(_Brackets):
    """Brackets of ``num_configs`` archs (default eta**(rungs - 1)) from ``min_epoch`` to ``max_epoch``, repeated
    until the budget ends."""

    name = "successive_halving"
    ranges: ClassVar[dict[str, str]] = {"eta": "(1, 1000]"}

    def __init__(
        self, eta: float = 3, min_epoch: int | None = None, max_epoch: int | None = None, num_configs: int | None = None
    ) -> None:
        self.eta = eta
        self.min_epoch = min_epoch
        self.max_epoch = max_epoch
        self.num_configs = num_configs

    def _bracket_shape(self, index: int) -> tuple[int, int]:
        return self.num_configs or round(self.eta ** (len(self.rungs_) - 1)), 0


class Hyperband(_Brackets):
    """Cycles through the brackets s = s_max..0 of Hyperband: bracket s starts ceil((s_max+1)/(s+1) * eta**s)
    archs at rung s_max - s."""

    name = "hyperband"
    ranges: ClassVar[dict[str, str]] = {"eta": "(1, 1000]"}

    def __init__(self, eta: float = 3, min_epoch: int | None = None, max_epoch: int | None = None) -> None:
        self.eta = eta
        self.min_epoch = min_epoch
        self.max_epoch = max_epoch

    def _bracket_shape(self, index: int) -> tuple[int, int]:
        s_max = len(self.rungs_) - 1
        s = s_max - index % (s_max + 1)
        return math.ceil((s_max + 1) / (s + 1) * self.eta**s), s_max - s
