"""Every strategy on spaces that are not NB201: ragged choices, a validity constraint, an isomorphism, a
single-choice decision; capabilities a strategy needs are asked for by name."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import nasbench.spaces as spaces
from nasbench import TabularBenchmark
from nasbench.errors import InvalidArchitecture, MissingCapability
from nasbench.runner.simulate import Budget, Protocol, run_search
from nasbench.spaces.base import Arch, DiscreteSpace, EnumerableSpace, has
from nasbench.store import StoreData
from nasbench.strategies import SearchContext, make_strategy, registry
from nasbench.strategies._common import Proposed, mutations

# optuna_gp costs about a second per GP step: test_conformance runs it with fewer GP steps instead.
STRATEGIES = sorted(n for n in registry() if n != "optuna_gp")
EPOCHS = (1, 3, 9)
PROTOCOL = Protocol(search_epoch=9, score_epoch=9)


class _Toy:
    """Shared rules: decision 0 = 1 with decision 1 = 2 is not allowed; decision 2 is dead (any value computes the
    same) when decision 1 is 0, so the canonical form sets it to 0. Strings are the values joined by '-'."""

    choices: tuple[int, ...]

    def invalid_reason(self, arch: Arch) -> str | None:
        return "decision 0 = 1 excludes decision 1 = 2" if arch[0] == 1 and arch[1] == 2 else None

    def canonical(self, arch: Arch) -> Arch:
        arch = self.validate(arch)  # type: ignore[attr-defined]
        return (arch[0], 0, 0, *arch[3:]) if arch[1] == 0 else arch

    def to_str(self, arch: Arch) -> str:
        return "-".join(str(v) for v in self.validate(arch))  # type: ignore[attr-defined]

    def from_str(self, text: str) -> Arch:
        try:
            values = tuple(int(v) for v in text.split("-"))
        except ValueError:
            raise InvalidArchitecture(f"a toy arch is values joined by '-', e.g. 0-1-2-0, got {text!r}") from None
        return self.validate(values)  # type: ignore[attr-defined,no-any-return]


class RaggedSpace(_Toy, DiscreteSpace):
    """Too large to list, as far as strategies know (no ``size``): 2 x 3 x 4 x 3, 60 of them valid."""

    name = "toy_ragged"
    choices = (2, 3, 4, 3)
    decisions = ("a", "b", "c", "d")
    options = tuple(tuple(f"{d}{v}" for v in range(n)) for d, n in zip(decisions, choices, strict=True))


class ProgressiveSpace(_Toy, EnumerableSpace):
    """Enumerable, with a single-choice decision (index 3) and a notion of "simpler": complexity is the number of
    non-zero decisions, the simplest archs have one."""

    name = "toy_progressive"
    choices = (2, 3, 4, 1, 3)
    decisions = ("a", "b", "c", "fixed", "e")
    options = tuple(tuple(f"{d}{v}" for v in range(n)) for d, n in zip(decisions, choices, strict=True))

    def complexity(self, arch: Arch) -> int:
        return sum(v != 0 for v in self.canonical(arch))

    def simplest(self) -> list[Arch]:
        return [a for a in self.all_archs() if self.complexity(a) == 1]

    def grow(self, arch: Arch) -> list[Arch]:
        level = self.complexity(arch)
        up = [n for n in self.neighbors(arch) if self.complexity(n) > level]
        return up or [n for n in self.neighbors(arch) if self.complexity(n) == level]


SPACES = {"toy_ragged": RaggedSpace, "toy_progressive": ProgressiveSpace}


@pytest.fixture(autouse=True)
def toy_spaces(monkeypatch):
    """Register the toy spaces for the store and the benchmark, which find spaces by name."""
    for name, cls in SPACES.items():
        monkeypatch.setitem(spaces.SPACES, name, f"{cls.__module__}:{cls.__qualname__}")
    spaces._load.cache_clear()
    yield
    spaces._load.cache_clear()


def toy_bench(name: str) -> TabularBenchmark:
    """Every valid arch, 2 seeds, epochs 1, 3, 9: accuracy grows with the normalised value of each decision."""
    space = spaces.get_space(name)
    archs = [a for a in itertools.product(*(range(n) for n in space.choices)) if space.invalid_reason(a) is None]
    arr = np.asarray(archs, dtype=np.int64)
    span = np.maximum(np.asarray(space.choices) - 1, 1)
    quality = (arr / span).mean(axis=1)
    rng = np.random.default_rng(0)
    ep = np.asarray(EPOCHS, dtype=float)
    shape = (len(arr), 2, len(EPOCHS))
    val = np.clip(0.2 + 0.7 * quality[:, None, None] * (ep / ep.max()) + rng.normal(0, 0.005, shape), 0, 1)
    data = StoreData(
        space=name,
        dataset="synthetic",
        protocol={"recipe": "tests/test_strategies_generic.py"},
        seeds=(0, 1),
        epochs=EPOCHS,
        archs=arr,
        metrics={
            "val_acc": val.astype(np.float32),
            "test_acc": np.clip(val - 0.01, 0, 1).astype(np.float32),
            "train_time_s": np.broadcast_to(5.0 * ep * (1 + quality[:, None, None]), shape).astype(np.float32),
        },
        directions={"val_acc": "max", "test_acc": "max", "train_time_s": "min"},
    )
    return TabularBenchmark(data.validate())


def recorded_run(bench: TabularBenchmark, name: str, workers: int = 2, evaluations: int = 40):
    """run_search, keeping every proposal and every trial the strategy was told of."""
    strategy = make_strategy(name)
    proposals, trials = [], []
    ask, tell = strategy.ask, strategy.tell

    def recording_ask():
        proposal = ask()
        if proposal is not None:
            proposals.append(proposal)
        return proposal

    def recording_tell(trial, feedback):
        trials.append(trial)
        tell(trial, feedback)

    strategy.ask, strategy.tell = recording_ask, recording_tell  # type: ignore[method-assign]
    traj = run_search(bench, strategy, protocol=PROTOCOL, budget=Budget(evaluations=evaluations), seed=0,
                      workers=workers)  # fmt: skip
    return traj, proposals, trials


def runnable(space_name: str) -> list[str]:
    needs = {n: make_strategy(n).requires for n in STRATEGIES}
    space = SPACES[space_name]()
    return [n for n in STRATEGIES if all(has(space, c) for c in needs[n])]


@pytest.mark.parametrize(
    ("space_name", "name"), [(s, n) for s in SPACES for n in STRATEGIES if n in runnable(s)], ids=lambda v: v
)
@pytest.mark.filterwarnings("error::RuntimeWarning")  # no 0/0 or log(0) on single-choice decisions
def test_every_proposal_is_a_valid_arch_of_the_space(space_name, name):
    bench = toy_bench(space_name)
    space = bench.space
    traj, proposals, _ = recorded_run(bench, name)
    assert len(traj.arch) == 40
    for proposal in proposals:
        assert space.validate(proposal.arch) == proposal.arch  # in range, allowed, plain ints
        assert all(type(v) is int for v in proposal.arch)
    if space_name == "toy_progressive":
        assert all(p.arch[3] == 0 for p in proposals)  # the single-choice decision never moves


def test_every_strategy_runs_on_some_toy_space():
    assert set(runnable("toy_ragged")) | set(runnable("toy_progressive")) == set(STRATEGIES)


@pytest.mark.parametrize("name", ["successive_halving", "hyperband", "bohb"])
def test_promotions_continue_the_promoted_trial(name):
    _, proposals, trials = recorded_run(toy_bench("toy_ragged"), name, workers=3, evaluations=60)
    by_id = {t.trial_id: t for t in trials}
    promoted = [p for p in proposals if p.resume_from is not None]
    assert promoted, "no promotion in 60 evaluations"
    for proposal in promoted:
        parent = by_id[proposal.resume_from]  # a trial the strategy was told of
        assert parent.arch == proposal.arch and parent.epoch < proposal.epoch


def test_pnas_asks_for_the_progressive_capability():
    strategy = make_strategy("pnas")
    with pytest.raises(MissingCapability, match="pnas") as error:
        strategy.setup(SearchContext(RaggedSpace(), EPOCHS, 9), np.random.default_rng(0))
    assert "progressive" in str(error.value)


def test_pnas_starts_from_the_simplest_archs_and_sizes_its_beam_by_the_complexity_range():
    space = ProgressiveSpace()
    strategy = make_strategy("pnas")
    strategy.setup(SearchContext(space, EPOCHS, 9, evaluations=40), np.random.default_rng(0))
    first = Proposed(space).new(space.simplest())
    assert [strategy.ask().arch for _ in range(len(first))] == first
    # complexities 1 .. 4 (decision 3 is fixed): (40 - first level) / 3 further levels
    assert strategy.beam_size_ == round((40 - len(first)) / 3)


def test_random_search_unique_covers_a_space_it_cannot_count():
    space = RaggedSpace()
    strategy = make_strategy("random_search", unique=True)
    strategy.setup(SearchContext(space, EPOCHS, 9), np.random.default_rng(0))
    assert len({strategy.ask().arch for _ in range(60)}) == 60  # all 60 valid archs, none twice


def test_mutations_change_only_decisions_with_a_choice_and_stay_in_the_space():
    space = ProgressiveSpace()
    parent = (1, 1, 3, 0, 2)
    children = mutations(space, parent, 300, 0.5, np.random.default_rng(0))
    assert len(children) > 250  # a few of the 300 draws hit the constraint and are redrawn or dropped
    for child in children:
        assert child != parent and space.validate(child) == child and child[3] == 0


def test_reinforce_policy_gives_no_mass_beyond_each_decisions_choices():
    bench = toy_bench("toy_progressive")
    strategy = make_strategy("reinforce")
    run_search(bench, strategy, protocol=PROTOCOL, budget=Budget(evaluations=30), seed=1)
    probs = strategy.probabilities()
    assert probs.shape == (5, 4)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    for d, n in enumerate(bench.space.choices):
        assert (probs[d, n:] == 0).all() and (probs[d, :n] > 0).all()
