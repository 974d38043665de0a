"""nasbench: honest, fast evaluation of neural architecture search.

Importing this package is cheap: numpy only. h5py, pandas, torch and xgboost are imported by the functions that
need them, never at import time.
"""

from __future__ import annotations

import os

__version__ = "0.1.0"

from nasbench.benchmark import Benchmark, Result, TabularBenchmark
from nasbench.errors import (
    InvalidArchitecture,
    InvalidQuery,
    MissingCapability,
    MissingResult,
    NasbenchError,
    StoreError,
    UnknownMetric,
)
from nasbench.spaces import SPACES, NB201Space, SearchSpace, get_space


def open_benchmark(path: str | os.PathLike[str], *, surrogate: bool | str | os.PathLike[str] = False) -> Benchmark:
    """Open a benchmark store for queries: its table (``surrogate=False``, the default); or the table backed by a
    surrogate for the cells it lacks, the hybrid benchmark ``nasbench compare`` uses for a partial store:
    fitted now on the table (``surrogate=True``: its default search and score metrics and train time, at their
    epochs) or loaded from a saved folder (``surrogate="results/x/surrogate"``)."""
    table = TabularBenchmark.open(path)
    if surrogate is False:
        return table
    from nasbench.surrogates.benchmarks import HybridBenchmark, SurrogateBenchmark

    if surrogate is True:
        return HybridBenchmark.fit(table)
    return HybridBenchmark(table, SurrogateBenchmark.load(surrogate, space=table.space.name))


__all__ = [
    "SPACES",
    "Benchmark",
    "InvalidArchitecture",
    "InvalidQuery",
    "MissingCapability",
    "MissingResult",
    "NB201Space",
    "NasbenchError",
    "Result",
    "SearchSpace",
    "StoreError",
    "TabularBenchmark",
    "UnknownMetric",
    "__version__",
    "get_space",
    "open_benchmark",
]
