"""nasbench: honest, fast evaluation of neural architecture search.

Importing this package is cheap: numpy only. h5py, pandas, torch and xgboost are imported by the functions that
need them, never at import time.
"""

from __future__ import annotations

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


def open_benchmark(path: str) -> TabularBenchmark:
    """Open a benchmark store file for queries."""
    return TabularBenchmark.open(path)


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
