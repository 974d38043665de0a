"""Cost of the model-based strategies on the NB201 CIFAR-10 reference store (skips when the reference is absent).

Per strategy: one run of 150 evaluations, with the strategy's own overhead per ask/tell (model fitting included)
in ``extra_info``; and the whole comparison of the model-based strategies, 100 seeds x 150 evaluations, on two
processes (the size of this machine).
"""

from __future__ import annotations

import pytest

from nasbench import TabularBenchmark
from nasbench.runner.experiment import Experiment, StrategySpec, run_experiment
from nasbench.runner.simulate import Budget, Protocol, run_search
from nasbench.strategies import make_strategy

PROTOCOL = Protocol(search_epoch=12, score_epoch=200)
MODEL_BASED = ("bananas", "gp_bo", "smac", "pnas")


@pytest.fixture(scope="module")
def bench(nb201_store):
    return TabularBenchmark.open(nb201_store)


@pytest.mark.parametrize("name", MODEL_BASED)
def test_one_run_of_150_evaluations(benchmark, bench, name):
    seeds = iter(range(10**6))
    overheads = []

    def one_run():
        traj = run_search(
            bench, make_strategy(name), protocol=PROTOCOL, budget=Budget(evaluations=150), seed=next(seeds)
        )
        overheads.append(traj.overhead_s / len(traj.arch))
        return traj

    traj = benchmark.pedantic(one_run, rounds=3, iterations=1)
    benchmark.extra_info["overhead_ms_per_evaluation"] = 1000 * sum(overheads) / len(overheads)
    assert len(traj.arch) == 150


def test_bohb_one_run_under_a_time_budget(benchmark, full_store):
    bench = TabularBenchmark.open(full_store)
    seeds = iter(range(10**6))

    def one_run():
        return run_search(
            bench, make_strategy("bohb"), protocol=Protocol(), budget=Budget(time_s=20_000), seed=next(seeds)
        )

    traj = benchmark.pedantic(one_run, rounds=3, iterations=1)
    benchmark.extra_info["overhead_ms_per_evaluation"] = 1000 * traj.overhead_s / len(traj.arch)
    assert traj.arch


@pytest.mark.slow
def test_model_based_comparison_100_seeds(benchmark, nb201_store, tmp_path):
    experiment = Experiment(
        store=str(nb201_store),
        strategies=tuple(StrategySpec(n) for n in MODEL_BASED),
        seeds=tuple(range(100)),
        protocol=PROTOCOL,
        budget=Budget(evaluations=150),
    )
    benchmark.pedantic(lambda: run_experiment(experiment, tmp_path / "run", processes=2), rounds=1, iterations=1)
