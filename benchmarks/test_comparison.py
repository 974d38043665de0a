"""Performance of the comparison on the NB201 CIFAR-10 reference store (skips when the reference is absent).

Per strategy: one run of 150 evaluations (evaluations per second = 150 / mean), and the runner's own cost per
evaluation; and the whole model-free comparison, 100 seeds x 150 evaluations, on all cores.
"""

from __future__ import annotations

import pytest

from nasbench import TabularBenchmark
from nasbench.runner.experiment import Experiment, StrategySpec, run_experiment
from nasbench.runner.simulate import Budget, Protocol, run_search
from nasbench.strategies import make_strategy

PROTOCOL = Protocol(search_epoch=12, score_epoch=200)
MODEL_FREE = ("random_search", "regularized_evolution", "local_search", "reinforce")


@pytest.fixture(scope="module")
def bench(nb201_store):
    return TabularBenchmark.open(nb201_store)


@pytest.mark.parametrize("name", MODEL_FREE)
def test_one_run_of_150_evaluations(benchmark, bench, name):
    seeds = iter(range(10**6))

    def one_run():
        return run_search(
            bench, make_strategy(name), protocol=PROTOCOL, budget=Budget(evaluations=150), seed=next(seeds)
        )

    traj = benchmark(one_run)
    benchmark.extra_info["evaluations_per_second"] = 150 / benchmark.stats.stats.mean
    assert len(traj.arch) == 150


def test_model_free_comparison_100_seeds(benchmark, nb201_store, tmp_path):
    experiment = Experiment(
        store=str(nb201_store),
        strategies=tuple(StrategySpec(n) for n in MODEL_FREE),
        seeds=tuple(range(100)),
        protocol=PROTOCOL,
        budget=Budget(evaluations=150),
    )
    counter = iter(range(10**6))
    benchmark.pedantic(lambda: run_experiment(experiment, tmp_path / f"run{next(counter)}"), rounds=3, iterations=1)
