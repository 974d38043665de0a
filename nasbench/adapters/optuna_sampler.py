"""optuna samplers as nasbench strategies (``pip install 'nasbench[optuna]'``).

Each decision of the space becomes a categorical parameter ``d0, d1, ...`` over its choice indices; the study
maximises the (oriented) search score. Proposals the space refuses (a constrained space such as NB101) are told to
optuna as failed trials and asked again; after ``MAX_RETRIES`` refusals a uniform sample of the space is enqueued.
The sampler's seed is drawn from the run's generator, so a run is reproducible, and the study pickles mid-run.

With several objectives (``SearchContext.objectives``) the study is multi-objective (every objective maximised,
told the oriented vector): NSGA-II is then optuna's multi-objective NSGA-II and TPE is MOTPE. With objectives or
constraints, each trial carries its constraint violation as an optuna constraint (``Trial.set_constraint``: > 0
is infeasible), which the samplers that handle constraints (TPE, NSGA-II, GP) use, and a single-objective study is
told the trial's true score (the sampler sees feasibility itself). A run without objectives or constraints is what
it always was.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any, ClassVar

import numpy as np

from nasbench.errors import InvalidArchitecture, MissingExtra
from nasbench.spaces.base import Arch
from nasbench.strategies.base import Feedback, Proposal, Strategy, Trial

MAX_RETRIES = 100

#: Lock types a sampler may hold (optuna 5's NSGA-II keeps a ``threading.Lock``).
_LOCKS = (type(threading.Lock()), type(threading.RLock()))


class _PicklableLock:
    """A sampler's lock that pickles as a new lock, so that the study pickles (a killed run resumes from it): a
    lock guards nothing across processes, and optuna's storage drops its own the same way."""

    def __init__(self, reentrant: bool) -> None:
        self.reentrant = reentrant
        self._lock = threading.RLock() if reentrant else threading.Lock()

    def __enter__(self) -> bool:
        return self._lock.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._lock.__exit__(*exc)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        self._lock.release()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_PicklableLock, (self.reentrant,))


def _picklable_locks(sampler: Any) -> Any:
    """``sampler`` with each lock it holds replaced by a :class:`_PicklableLock`."""
    for name, value in list(vars(sampler).items()):
        if isinstance(value, _LOCKS):
            setattr(sampler, name, _PicklableLock(isinstance(value, _LOCKS[1])))
    return sampler


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise MissingExtra("the optuna strategies need optuna: pip install 'nasbench[optuna]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial otherwise
    return optuna


class OptunaStrategy(Strategy):
    """A study of one optuna sampler; subclasses say which (``_sampler``)."""

    def _sampler(self, optuna: Any, seed: int) -> Any:
        raise NotImplementedError

    def _setup(self) -> None:
        optuna = _optuna()
        seed = int(self.rng.integers(2**31))
        self._objectives = len(self.context.objectives)
        # the runner hands out costs only with objectives or constraints
        self._constrained = self.context.costs is not None
        sampler = _picklable_locks(self._sampler(optuna, seed))
        if self._objectives > 1:
            directions = ["maximize"] * self._objectives
            self._study = optuna.create_study(directions=directions, sampler=sampler)
        else:
            self._study = optuna.create_study(direction="maximize", sampler=sampler)
        self._dists = {
            f"d{i}": optuna.distributions.CategoricalDistribution(list(range(n)))
            for i, n in enumerate(self.space.choices)
        }
        self._asked: dict[Arch, list[Any]] = defaultdict(list)  # arch -> its open optuna trials, oldest first

    def ask(self) -> Proposal:
        for _ in range(MAX_RETRIES):
            trial = self._study.ask(self._dists)
            try:
                arch = self.space.validate(tuple(trial.params[f"d{i}"] for i in range(len(self._dists))))
            except InvalidArchitecture:
                self._study.tell(trial, state=_optuna().trial.TrialState.FAIL)
                continue
            self._asked[arch].append(trial)
            return Proposal(arch)
        arch = self.space.sample(self.rng)
        self._study.enqueue_trial({f"d{i}": v for i, v in enumerate(arch)})
        self._asked[arch].append(self._study.ask(self._dists))
        return Proposal(arch)

    def tell(self, trial: Trial, feedback: Feedback) -> None:
        super().tell(trial, feedback)
        study_trial = self._asked[trial.arch].pop(0)
        if self._constrained:
            assert self.context.costs is not None
            violation = float(-self.context.costs(np.asarray([trial.arch], dtype=np.int64))[0, -1])
            study_trial.set_constraint("violation", violation)
        if self._objectives > 1:
            self._study.tell(study_trial, list(feedback.objectives))
        elif self._constrained:
            self._study.tell(study_trial, feedback.objectives[0])  # the true score: feasibility is the constraint's
        else:
            self._study.tell(study_trial, feedback.score)


class OptunaTPE(OptunaStrategy):
    """optuna's TPESampler (Bergstra et al. 2011; multivariate by default since optuna 5, as here)."""

    name = "optuna_tpe"
    ranges: ClassVar[dict[str, str]] = {"n_startup_trials": "[1, 10000]"}

    def __init__(self, n_startup_trials: int = 10, multivariate: bool = True) -> None:
        self.n_startup_trials = n_startup_trials
        self.multivariate = multivariate

    def _sampler(self, optuna: Any, seed: int) -> Any:
        return optuna.samplers.TPESampler(
            n_startup_trials=self.n_startup_trials, multivariate=self.multivariate, seed=seed
        )


class OptunaRandom(OptunaStrategy):
    """optuna's RandomSampler."""

    name = "optuna_random"

    def _sampler(self, optuna: Any, seed: int) -> Any:
        return optuna.samplers.RandomSampler(seed=seed)


class OptunaNSGA2(OptunaStrategy):
    """optuna's NSGAIISampler (a genetic algorithm; with one objective, elitist selection by score)."""

    name = "optuna_nsga2"
    ranges: ClassVar[dict[str, str]] = {"population_size": "[2, 10000]", "mutation_prob": "[0, 1]"}

    def __init__(self, population_size: int = 20, mutation_prob: float | None = None) -> None:
        self.population_size = population_size
        self.mutation_prob = mutation_prob

    def _sampler(self, optuna: Any, seed: int) -> Any:
        return optuna.samplers.NSGAIISampler(
            population_size=self.population_size, mutation_prob=self.mutation_prob, seed=seed
        )


class OptunaGP(OptunaStrategy):
    """optuna's GPSampler (Gaussian-process BO; needs torch and scipy, and costs about a second per evaluation)."""

    name = "optuna_gp"
    ranges: ClassVar[dict[str, str]] = {"n_startup_trials": "[1, 10000]"}

    def __init__(self, n_startup_trials: int = 10) -> None:
        self.n_startup_trials = n_startup_trials

    def _sampler(self, optuna: Any, seed: int) -> Any:
        return optuna.samplers.GPSampler(n_startup_trials=self.n_startup_trials, seed=seed)
