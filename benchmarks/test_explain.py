"""Performance of `nasbench explain`: the whole command on the complete NB201 CIFAR-10 table (goal: seconds), and
(slow) the accuracy of the surrogate-estimated landscape against the exact one, 100 and 1,000 cells x 5."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.explain_study import study
from nasbench.benchmark import TabularBenchmark
from nasbench.explain.run import explain_store


def test_explain_complete_nb201(benchmark, nb201_store, tmp_path):
    result = benchmark.pedantic(
        explain_store, args=(nb201_store,), kwargs={"out": tmp_path / "why", "epoch": 200}, rounds=3, iterations=1
    )
    assert result.landscape.exact and len(result.files) == 6
    benchmark.extra_info["landscape_s"] = result.landscape.seconds


@pytest.mark.slow
def test_estimated_importances_rank_like_the_exact_ones(benchmark, nb201_store):
    table = TabularBenchmark.open(nb201_store)
    _, rows = benchmark.pedantic(study, args=(table, "test_acc", 200), rounds=1, iterations=1)
    for size in (100, 1000):
        tau = [r["tau_terms"] for r in rows if r["size"] == size]
        benchmark.extra_info[f"tau_{size}"] = float(np.mean(tau))
    assert benchmark.extra_info["tau_1000"] >= 0.8  # the goal
    assert benchmark.extra_info["tau_1000"] > benchmark.extra_info["tau_100"]
