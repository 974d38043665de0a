"""The ask/tell interface every search strategy implements.

The runner owns the budget, the simulated clock and every benchmark call. A strategy proposes architectures
(``ask``), hears back the :class:`Trial` the runner made of the proposal and its validation score (``tell``), and
never sees test metrics: :class:`Feedback` has none. Scores are oriented once, by the runner: a strategy always
maximises ``Feedback.score`` (a metric whose direction is "min" arrives negated).
Constructors only store hyperparameters (scikit-learn style); all state is created in :meth:`Strategy.setup`, so a
strategy object can be configured once and run under many seeds. Strategies must be picklable at any point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nasbench.spaces.base import Arch, SearchSpace, require


@dataclass(frozen=True, slots=True)
class Proposal:
    """An architecture to evaluate after ``epoch`` epochs (None: the protocol's search epoch).

    ``resume_from`` names an earlier trial (its ``trial_id``) of the same arch at a lower epoch that this one
    continues (multi-fidelity promotion): the runner then reads the same training seed and charges only the
    training time from that trial's epoch to this one.
    """

    arch: Arch
    epoch: int | None = None
    resume_from: int | None = None


@dataclass(frozen=True, slots=True)
class Trial:
    """One evaluation as the runner ran it (as SMAC3's TrialInfo): ids are 0, 1, 2, ... in launch order."""

    trial_id: int
    arch: Arch  # as validated by the space
    epoch: int  # the epoch it was read at (the proposal's, or the protocol's search epoch)
    seed: int | None  # the table seed it was read at (None: the mean over seeds)
    resume_from: int | None  # the trial it continues, if any
    started_s: float  # simulated time at launch


@dataclass(frozen=True, slots=True)
class Feedback:
    """What a strategy learns from an evaluation: the validation score, never a test metric."""

    score: float  # the protocol's search metric, oriented so that higher is better
    epoch: int  # the epoch the score was read at
    cost_s: float  # simulated seconds the evaluation was charged
    finished_at_s: float  # simulated time at which the result arrived
    # With objectives or constraints (nasbench.runner.objectives): the trial's objective vector, every entry
    # oriented so that higher is better (the search metric's score first, then the costs), and whether it meets
    # the constraints. An infeasible trial's ``score`` is below every feasible one (single-objective strategies
    # rank it last as they are); ``objectives`` still holds its true values.
    objectives: tuple[float, ...] = ()
    feasible: bool = True


@dataclass(frozen=True, slots=True)
class SearchContext:
    """What a strategy may know about the benchmark: the space and the fidelities it can ask for."""

    space: SearchSpace
    epochs: tuple[int, ...]  # the epochs a proposal may name
    search_epoch: int  # the epoch of a proposal that names none (the protocol's fidelity)
    workers: int = 1
    evaluations: int | None = None  # the run's evaluation budget, when it has one (strategies that size steps by it)
    # With several objectives: their names (the search metric first) and the costs of any archs, known before
    # training and free to read: ``costs(rows)`` of an (n, width) int array gives one row per arch, each cost
    # oriented so that higher is better, and a last column: minus the constraint violation (0 where feasible).
    objectives: tuple[str, ...] = ()
    costs: Callable[[np.ndarray], np.ndarray] | None = None


class Strategy:
    """Base class: subclasses set ``name`` and implement ``_setup``, ``ask``, ``tell``."""

    name: ClassVar[str] = ""
    multi_fidelity: ClassVar[bool] = False  # True when it proposes several epochs and needs a multi-epoch store
    #: capabilities of nasbench.spaces.base the strategy needs from the space (e.g. ("progressive",))
    requires: ClassVar[tuple[str, ...]] = ()
    #: hyperparameter ranges and allowed strings beyond what the constructor's annotations say (see hyperparameters)
    ranges: ClassVar[dict[str, str]] = {}
    options: ClassVar[dict[str, tuple[str, ...]]] = {}

    def setup(self, context: SearchContext, rng: np.random.Generator) -> None:
        for capability in self.requires:
            require(context.space, capability, f"strategy {self.name!r}")
        self.context = context
        self.space = context.space
        self.rng = rng
        self.best_: tuple[float, int, Arch] | None = None  # (score, epoch, arch) of the best told result
        self._setup()

    def _setup(self) -> None:
        """Create the run's state (called by :meth:`setup`)."""

    def ask(self) -> Proposal | None:
        """The next proposal, or None when the strategy must wait for pending results."""
        raise NotImplementedError

    def tell(self, trial: Trial, feedback: Feedback) -> None:
        """Receive the result of an earlier proposal. Subclasses call ``super().tell`` to track the best."""
        if not feedback.feasible:
            return
        key = (feedback.epoch, feedback.score)
        if self.best_ is None or key > (self.best_[1], self.best_[0]):
            self.best_ = (feedback.score, feedback.epoch, trial.arch)

    def recommend(self) -> Arch:
        """The architecture the strategy would return now: the best feasible score at the highest epoch told."""
        if self.best_ is None:
            raise RuntimeError(f"{self.name}: nothing evaluated yet, no recommendation")
        return self.best_[2]

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters (the constructor's arguments)."""
        return {f: getattr(self, f) for f in self._param_names()}

    @classmethod
    def _param_names(cls) -> list[str]:
        import inspect

        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
        return [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"
