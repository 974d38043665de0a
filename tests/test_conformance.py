"""The conformance kit (nasbench.testing) run over everything registered: every space, a synthetic benchmark per
space and real tables, every strategy on every space its ``requires`` allows (and a clear refusal elsewhere); and
the kit itself, which must catch what it promises to catch."""

from __future__ import annotations

import time

import numpy as np
import pytest

from nasbench import TabularBenchmark
from nasbench.errors import InvalidQuery, MissingCapability
from nasbench.runner.simulate import Protocol
from nasbench.spaces import SPACES, NB201Space, get_space
from nasbench.spaces.base import SearchSpace, has
from nasbench.strategies import Proposal, make_strategy, registry
from nasbench.strategies import strategy_class as strategy_cls
from nasbench.strategies.random_search import RandomSearch
from nasbench.testing import SyntheticBenchmark, check_benchmark, check_search_space, check_strategy, synthetic_table

SPACE_NAMES = sorted(SPACES)
STRATEGIES = sorted(registry())
#: Cheaper hyperparameters for the model-based strategies: the same code paths, smaller models.
FAST = {
    "bananas": {"num_init": 5, "num_candidates": 20, "num_members": 2, "num_layers": 2, "width": 8, "epochs": 20},
    "gp_bo": {"num_init": 5, "num_random": 100, "num_mutations": 20, "refit_every": 5},
    "smac": {"num_init": 5, "num_trees": 3, "num_local_starts": 2, "num_random": 100, "refit_every": 5},
    "pnas": {"num_members": 2, "width": 16, "epochs": 20},
    "bohb": {"num_samples": 16},
    "optuna_gp": {"n_startup_trials": 18},  # about a second per GP step: two per run here
}
FAST.update(parego_gp=FAST["gp_bo"], ehvi_gp=FAST["gp_bo"], parego_smac=FAST["smac"], parego_bananas=FAST["bananas"])
#: The strategies that search several objectives (nasbench's own, then the optuna adapters that do).
MULTI_OBJECTIVE = ("nsga2", "pareto_local_search", "parego_gp", "parego_smac", "parego_bananas", "ehvi_gp")
MULTI_OBJECTIVE_ADAPTERS = ("optuna_nsga2", "optuna_tpe", "optuna_random")
#: About 70 % of the synthetic table's archs meet it.
CONSTRAINT = "latency_ms<=1.2"
#: Checked with their default configuration in a fresh process on every run of the suite; the rest are slow.
FRESH_ALWAYS = ("random_search", "regularized_evolution")


def space_or_skip(name: str) -> SearchSpace:
    """The registered space, or a skip naming it while its module is still being written."""
    try:
        return get_space(name)
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"space {name!r} ({SPACES[name]}) does not import yet: {type(exc).__name__}: {exc}")


def fast(name: str):
    allowed = make_strategy(name).get_params()
    return make_strategy(name, **{k: v for k, v in FAST.get(name, {}).items() if k in allowed})


# ---- everything registered ----------------------------------------------------------------------------------


@pytest.mark.parametrize("space_name", SPACE_NAMES)
def test_every_registered_space_conforms(space_name):
    check_search_space(space_or_skip(space_name))


@pytest.mark.parametrize("space_name", SPACE_NAMES)
def test_a_synthetic_benchmark_of_every_space_conforms(space_name):
    check_benchmark(SyntheticBenchmark(space_or_skip(space_name)))


def test_a_small_table_conforms(small_store):
    check_benchmark(TabularBenchmark.open(small_store))


def test_the_nb201_table_conforms(nb201_store):
    check_benchmark(TabularBenchmark.open(nb201_store), n=100)


@pytest.mark.parametrize(("space_name", "name"), [(s, n) for s in SPACE_NAMES for n in STRATEGIES])
def test_every_strategy_conforms_on_every_space_it_accepts(space_name, name):
    space = space_or_skip(space_name)
    strategy = fast(name)
    missing = [c for c in strategy.requires if not has(space, c)]
    if missing:
        with pytest.raises(MissingCapability, match=f"{name}.*{missing[0]}"):
            check_strategy(strategy, SyntheticBenchmark(space), evaluations=20, seeds=(0,), fresh_process=False)
    else:
        check_strategy(strategy, SyntheticBenchmark(space), evaluations=20, seeds=(0,), fresh_process=False)


@pytest.mark.parametrize(
    "name", [n if n in FRESH_ALWAYS else pytest.param(n, marks=pytest.mark.slow) for n in STRATEGIES]
)
def test_same_seed_same_trajectory_in_a_fresh_process(name):
    if name in FRESH_ALWAYS:
        check_strategy(name)  # the defaults: 30 evaluations, seeds 0 and 1, NB201 synthetic, a fresh process
    else:
        check_strategy(fast(name), evaluations=20)


def test_a_strategy_is_checked_on_a_real_table_in_a_fresh_process(nb201_store):
    bench = TabularBenchmark.open(nb201_store)  # val_acc after 12 epochs only, means over seeds
    check_strategy("regularized_evolution", bench, seeds=(0,), protocol=Protocol(search_epoch=12, score_epoch=200))


def test_a_multi_fidelity_strategy_is_checked_on_several_epochs_only():
    names = [n for n in STRATEGIES if strategy_cls(n).multi_fidelity]
    assert {"successive_halving", "hyperband", "bohb"} <= set(names)
    for name in names:
        with pytest.raises(InvalidQuery, match=f"{name} is multi-fidelity.*several epochs"):
            check_strategy(name, SyntheticBenchmark("nb201", epochs=(9,)))


@pytest.fixture(scope="module")
def table():
    return synthetic_table()  # every NB201 cell, with static costs: objectives and constraints need a table


@pytest.mark.parametrize(
    ("objectives", "constraints"),
    [(("latency_ms",), ()), (("latency_ms", "energy_mj"), (CONSTRAINT,))],
    ids=["2 objectives", "3 objectives, constrained"],
)
@pytest.mark.parametrize("name", MULTI_OBJECTIVE + MULTI_OBJECTIVE_ADAPTERS)
def test_every_multi_objective_strategy_conforms_under_objectives_and_constraints(table, name, objectives, constraints):
    protocol = Protocol(objectives=objectives, constraints=constraints)
    fresh = name in MULTI_OBJECTIVE and bool(constraints)  # one fresh-process run each
    check_strategy(fast(name), table, protocol=protocol, evaluations=20, seeds=(0,), fresh_process=fresh)


@pytest.mark.parametrize("name", [n for n in STRATEGIES if n != "optuna_gp"])  # optuna_gp: a second per GP step
def test_every_strategy_conforms_under_a_constraint(table, name):
    check_strategy(fast(name), table, protocol=Protocol(constraints=(CONSTRAINT,)), evaluations=20, seeds=(0,),
                   fresh_process=False)  # fmt: skip


def test_objectives_need_a_table_with_static_costs():
    with pytest.raises(InvalidQuery, match="need a table"):
        check_strategy("nsga2", SyntheticBenchmark("nb201"), protocol=Protocol(objectives=("latency_ms",)))


# ---- the synthetic benchmark --------------------------------------------------------------------------------


def test_synthetic_values_depend_only_on_seed_training_seed_and_arch():
    space = get_space("nb201")
    arch = space.from_index(1234)
    a = SyntheticBenchmark(space, epochs=(1, 3, 9), seeds=(0, 1))
    b = SyntheticBenchmark(space, epochs=(9, 27), seeds=(5, 1))
    assert a.query(arch, epoch=9, seed=1).values == b.query(arch, epoch=9, seed=1).values
    assert a.query(arch, epoch=9, seed=0).values != a.query(arch, epoch=9, seed=1).values  # seed noise
    other = SyntheticBenchmark(space, seed=1)
    assert a.query(arch, epoch=9, seed=0).val_acc != other.query(arch, epoch=9, seed=0).val_acc


def test_synthetic_accuracy_rises_with_epoch_is_correlated_and_training_time_accumulates():
    space = get_space("nb101")  # too large to list: the benchmark never enumerates
    bench = SyntheticBenchmark(space, epochs=(1, 2, 4, 12, 108))
    archs = [space.sample(np.random.default_rng(i)) for i in range(200)]
    curves = np.stack([bench.query_many(archs, epoch=e, seed=0)["val_acc"] for e in bench.epochs])
    times = np.stack([bench.query_many(archs, epoch=e, seed=0)["train_time_s"] for e in bench.epochs])
    assert (np.diff(curves, axis=0) >= 0).all() and (np.diff(times, axis=0) > 0).all()
    final = bench.query_many(archs, epoch=108)
    assert final["val_acc"].min() > 0.1 and final["val_acc"].max() < 1
    ranks = [np.argsort(np.argsort(final[m])) for m in ("val_acc", "test_acc")]
    assert np.corrcoef(*ranks)[0, 1] > 0.5  # test follows validation, not exactly
    assert bench.directions == {"val_acc": "max", "test_acc": "max", "val_loss": "min", "train_time_s": "min"}


def test_the_synthetic_table_is_the_synthetic_benchmark_with_costs_that_conflict_with_accuracy(table):
    bench = SyntheticBenchmark("nb201")
    archs = table.archs()[::997]
    assert table.query_many(archs, epoch=9)["val_acc"] == pytest.approx(bench.query_many(archs, epoch=9)["val_acc"])
    accuracy = table.table("val_acc", epoch=9)
    for name in ("latency_ms", "energy_mj"):
        cost = table.static(name)
        assert (cost > 0).all() and 0.4 < np.corrcoef(cost, accuracy)[0, 1] < 0.9  # a trade-off, not one objective
    assert 0.5 < (table.static("latency_ms") <= 1.2).mean() < 0.9  # CONSTRAINT cuts, but leaves most archs


def test_a_synthetic_query_takes_microseconds():
    bench = SyntheticBenchmark(get_space("nb_macro"))
    archs = get_space("nb_macro").all_archs()[:500]
    for arch in archs:
        bench.query(arch, epoch=9)
    start = time.perf_counter()
    for arch in archs * 4:
        bench.query(arch, epoch=9, seed=1)
    assert (time.perf_counter() - start) / 2000 < 100e-6  # ~5 us when the machine is idle


# ---- the kit catches what it promises to catch --------------------------------------------------------------


class StuckMutation(NB201Space):
    def mutate(self, arch, rng):
        return self.validate(arch)


class MeanIsSeedZero(SyntheticBenchmark):
    def _compute(self, arch):
        full, _ = super()._compute(arch)
        return full, full[0]


class Unseeded(RandomSearch):
    name = "unseeded"

    def ask(self):
        return Proposal(self.space.sample(np.random.default_rng()))


class AssumesEnumerable(RandomSearch):
    name = "assumes_enumerable"

    def ask(self):
        return Proposal(self.space.from_index(int(self.rng.integers(self.space.size))))


class HoldsAGenerator(RandomSearch):
    name = "holds_a_generator"

    def _setup(self):
        super()._setup()
        self._stream = (i for i in range(10**9))  # a generator: not picklable


class PromotesAnotherArch(RandomSearch):
    name = "promotes_another_arch"
    multi_fidelity = True

    def _setup(self):
        super()._setup()
        self._asked = 0

    def ask(self):
        self._asked += 1
        if self._asked == 1:
            return Proposal(self.space.sample(self.rng), epoch=1)
        return Proposal(self.space.sample(self.rng), epoch=3, resume_from=0)  # another arch than trial 0's


def test_check_search_space_names_the_space_the_check_and_the_arch():
    with pytest.raises(AssertionError, match=r"check_search_space\('nb201'\): mutate: returned its parent.*arch \("):
        check_search_space(StuckMutation(), n=20)


def test_check_benchmark_catches_a_mean_that_is_not_the_mean():
    with pytest.raises(AssertionError, match="seed=None: val_acc"):
        check_benchmark(MeanIsSeedZero(get_space("nb201")), n=10)


BROKEN = [
    (Unseeded(), "determinism: seed 0 run twice"),
    (AssumesEnumerable(), "requires: declares no capability but fails on a space with only the SearchSpace"),
    (HoldsAGenerator(), "pickle: the strategy after 5 tells cannot be pickled"),
    (PromotesAnotherArch(), "proposal 1: resume_from=0 is .* at epoch 1, not this arch"),
]


@pytest.mark.parametrize(("strategy", "message"), BROKEN, ids=[s.name for s, _ in BROKEN])
def test_check_strategy_catches_a_broken_strategy(strategy, message):
    with pytest.raises(AssertionError, match=message):
        check_strategy(strategy, evaluations=10, seeds=(0,), fresh_process=False)
