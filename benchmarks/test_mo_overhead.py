"""Cost of the multi-objective strategies beside optuna's multi-objective samplers (NSGA-II and MOTPE).

On the NB201 CIFAR-10 reference table joined with HW-NAS-Bench's edge-GPU latency (skips when either reference is
absent), the paper's protocol (val_acc@12 searched, test_acc@200 scored, means over seeds) with the latency as a
second objective, 150 evaluations: a strategy's own time per evaluation (its ``ask`` and ``tell``, model fitting
included, the runner's and the table's time excluded) beside that of ``optuna_nsga2`` and ``optuna_tpe`` (the
adapters, multi-objective studies) in the same process, seed by seed alternately, each warmed up once first.
``extra_info`` holds the three medians in ms per evaluation. Needs optuna: ``pip install 'nasbench[bench]'``.
"""

from __future__ import annotations

import statistics

import pytest

from nasbench import TabularBenchmark
from nasbench.runner.simulate import Budget, Protocol, run_search
from nasbench.strategies import make_strategy
from tests.conftest import REFERENCE, require

PROTOCOL = Protocol(search_epoch=12, score_epoch=200, noise="mean", objectives=("edgegpu_latency_ms",))
BUDGET = Budget(evaluations=150)
STRATEGIES = ("nsga2", "pareto_local_search", "parego_gp", "parego_smac", "parego_bananas", "ehvi_gp")
REFERENCES = ("optuna_nsga2", "optuna_tpe")
SEEDS = tuple(range(3))
WARM_UP_SEED = 10**6


@pytest.fixture(scope="module")
def nb201hw(nb201_store, tmp_path_factory):
    from nasbench.store import read_store, write_store
    from nasbench.store.join import join_table

    hw = require(REFERENCE / "hw-nas-bench" / "hw_cifar10.csv")
    data, _ = join_table(read_store(nb201_store), hw, key="index", columns={"edgegpu_latency": "edgegpu_latency_ms"})
    return TabularBenchmark.open(write_store(tmp_path_factory.mktemp("hw") / "nb201hw.h5", data))


def overhead(bench: TabularBenchmark, name: str, seed: int) -> float:
    """Seconds per evaluation inside the strategy's ask and tell, for one run."""
    traj = run_search(bench, make_strategy(name), protocol=PROTOCOL, budget=BUDGET, seed=seed)
    assert len(traj.arch) == BUDGET.evaluations
    return traj.overhead_s / len(traj.arch)


@pytest.mark.parametrize("name", STRATEGIES)
def test_mo_overhead_per_evaluation_beside_optuna(benchmark, nb201hw, name):
    pytest.importorskip("optuna", reason="optuna's samplers are the reference: pip install 'nasbench[bench]'")
    names = (name, *REFERENCES)
    for each in names:
        overhead(nb201hw, each, WARM_UP_SEED)
    spent: dict[str, list[float]] = {each: [] for each in names}

    def measure() -> None:
        for seed in SEEDS:
            for each in names:
                spent[each].append(overhead(nb201hw, each, seed))

    benchmark.pedantic(measure, rounds=1, iterations=1)
    for each in names:
        key = "overhead" if each == name else each
        benchmark.extra_info[f"{key}_ms_per_evaluation"] = round(1000 * statistics.median(spent[each]), 3)
    benchmark.extra_info["runs"] = len(SEEDS)
    print("\n" + ", ".join(f"{each} {1000 * statistics.median(spent[each]):.2f} ms/eval" for each in names))
