"""Performance of surrogates on the NB201 CIFAR-10 reference (skips when it is absent):
the default model's fit on 1,000 architectures, and predicting all 15,625 cells."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.benchmark import TabularBenchmark
from nasbench.surrogates.benchmarks import SurrogateBenchmark
from nasbench.surrogates.surrogate import Surrogate


@pytest.fixture(scope="module")
def nb201(nb201_store) -> TabularBenchmark:
    return TabularBenchmark.open(nb201_store)


@pytest.fixture(scope="module")
def train_1000(nb201) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    rows = rng.choice(len(nb201), size=1000, replace=False)
    return np.asarray(nb201.archs(), dtype=np.int64)[rows], nb201.table("test_acc", epoch=200)[rows]


def test_fit_default_model_on_1000_archs(benchmark, train_1000):
    archs, y = train_1000
    surrogate = benchmark.pedantic(lambda: Surrogate().fit(archs, y), rounds=3, iterations=1)
    assert surrogate.n_train_ == 1000


def test_predict_all_15625_cells(benchmark, nb201, train_1000):
    surrogate = Surrogate().fit(*train_1000)
    everything = np.asarray(nb201.space.all_archs(), dtype=np.int64)
    surrogate.predict(everything)  # builds the per-space feature table once, as any long-lived user would
    pred = benchmark(surrogate.predict, everything)
    assert pred.shape == (15625,)
    # The target is 0.1 s; the minimum is the cost without interference from other jobs on shared cores.
    assert benchmark.stats["min"] < 0.1


def test_surrogate_benchmark_query(benchmark, nb201, train_1000):
    sb = SurrogateBenchmark.from_store(nb201, metrics=("test_acc",), epochs=(200,), archs=train_1000[0])
    arch = nb201.archs()[123]
    sb.query(arch, epoch=200)  # first query predicts the whole space once
    result = benchmark(sb.query, arch, epoch=200)
    assert result.source == "surrogate"
