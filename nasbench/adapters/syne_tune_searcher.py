"""syne-tune's searchers as nasbench strategies (``pip install 'nasbench[synetune]'``).

Each decision of the space becomes ``choice`` over its choice indices; the scheduler maximises the (oriented)
search score. syne-tune 0.16 draws its random configurations from numpy's and Python's global generators, not
from its ``random_seed``; so that a run is reproducible (and leaves the caller's global generators untouched),
every call into syne-tune runs with generator states of the strategy's own, seeded from the run's generator and
swapped in and out around the call. Proposals the space refuses are reported as errors and suggested again.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import random
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

from nasbench.adapters.optuna_sampler import MAX_RETRIES
from nasbench.errors import InvalidArchitecture, MissingExtra
from nasbench.spaces.base import Arch
from nasbench.strategies.base import Feedback, Proposal, Strategy, Trial

_EPOCH = datetime.datetime(2020, 1, 1)  # syne-tune's trials carry a creation time: a fixed one keeps runs equal
METRIC = "score"


def _syne_tune() -> Any:
    try:
        import syne_tune.optimizer.baselines as baselines
    except ImportError:
        raise MissingExtra("the syne-tune strategies need syne-tune: pip install 'nasbench[synetune]'") from None
    logging.getLogger("syne_tune").setLevel(logging.ERROR)
    return baselines


class SyneTuneStrategy(Strategy):
    """A syne-tune scheduler over one searcher; subclasses say which (``_scheduler``)."""

    def _scheduler(self, baselines: Any, config_space: dict[str, Any], seed: int) -> Any:
        raise NotImplementedError

    def _setup(self) -> None:
        baselines = _syne_tune()
        from syne_tune.config_space import choice

        seed = int(self.rng.integers(2**31))
        self._np_state = np.random.RandomState(seed).get_state()
        self._py_state = random.Random(seed).getstate()
        space = {f"d{i}": choice(list(range(n))) for i, n in enumerate(self.space.choices)}
        with self._own_generators():
            self._scheduler_ = self._scheduler(baselines, space, seed)
        self._asked: dict[Arch, list[Any]] = defaultdict(list)  # arch -> its open syne-tune trials, oldest first
        self._next_id = 0

    @contextlib.contextmanager
    def _own_generators(self) -> Iterator[None]:
        saved_np, saved_py = np.random.get_state(), random.getstate()
        np.random.set_state(self._np_state)
        random.setstate(self._py_state)
        try:
            yield
        finally:
            self._np_state, self._py_state = np.random.get_state(), random.getstate()
            np.random.set_state(saved_np)
            random.setstate(saved_py)

    def _new_trial(self) -> Any:
        from syne_tune.backend.trial_status import Trial as SyneTrial

        suggestion = self._scheduler_.suggest()
        trial = SyneTrial(self._next_id, suggestion.config, _EPOCH)
        self._next_id += 1
        self._scheduler_.on_trial_add(trial)
        return trial

    def ask(self) -> Proposal:
        with self._own_generators():
            for _ in range(MAX_RETRIES):
                trial = self._new_trial()
                try:
                    arch = self.space.validate(
                        tuple(int(trial.config[f"d{i}"]) for i in range(len(self.space.choices)))
                    )
                except InvalidArchitecture:
                    self._scheduler_.on_trial_error(trial)
                    continue
                self._asked[arch].append(trial)
                return Proposal(arch)
        arch = self.space.sample(self.rng)  # the searcher kept proposing refused cells: a uniform one
        with self._own_generators():
            trial = self._new_trial()
        self._asked[arch].append(trial)
        return Proposal(arch)

    def tell(self, trial: Trial, feedback: Feedback) -> None:
        super().tell(trial, feedback)
        theirs = self._asked[trial.arch].pop(0)
        with self._own_generators():
            self._scheduler_.on_trial_result(theirs, {METRIC: feedback.score})
            self._scheduler_.on_trial_complete(theirs, {METRIC: feedback.score})


class SyneTuneRandom(SyneTuneStrategy):
    """syne-tune's RandomSearch."""

    name = "synetune_random"

    def _scheduler(self, baselines: Any, config_space: dict[str, Any], seed: int) -> Any:
        return baselines.RandomSearch(config_space, metrics=[METRIC], do_minimize=False, random_seed=seed)


class SyneTuneREA(SyneTuneStrategy):
    """syne-tune's REA (regularized evolution; its defaults: population 100, sample 10)."""

    name = "synetune_rea"
    ranges: ClassVar[dict[str, str]] = {"population_size": "[2, 100000]", "sample_size": "[1, 100000]"}

    def __init__(self, population_size: int = 100, sample_size: int = 10) -> None:
        self.population_size = population_size
        self.sample_size = sample_size

    def _scheduler(self, baselines: Any, config_space: dict[str, Any], seed: int) -> Any:
        return baselines.REA(
            config_space,
            metric=METRIC,
            do_minimize=False,
            random_seed=seed,
            population_size=self.population_size,
            sample_size=self.sample_size,
        )


class SyneTuneTPE(SyneTuneStrategy):
    """syne-tune's TPE (a kernel-density estimator, as in BOHB)."""

    name = "synetune_tpe"

    def _scheduler(self, baselines: Any, config_space: dict[str, Any], seed: int) -> Any:
        return baselines.TPE(config_space, metric=METRIC, do_minimize=False, random_seed=seed)
