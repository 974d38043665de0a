"""Conformance checks for third-party search spaces, benchmarks and strategies (as scikit-learn's
``check_estimator``): each check raises AssertionError naming what failed, so it is one line in a pytest file::

    from nasbench.testing import SyntheticBenchmark, check_benchmark, check_search_space, check_strategy

    def test_my_space():
        check_search_space(MySpace())

    def test_my_strategy_on_my_space():
        check_strategy(MyStrategy(), SyntheticBenchmark(MySpace()))

:class:`SyntheticBenchmark` answers every valid arch of any space, so a strategy can be checked on a space that
has no table yet; :func:`synthetic_table` is a complete table with static costs, to check a strategy under
objectives and constraints (``check_strategy(..., protocol=Protocol(objectives=("latency_ms",)))``). Importing
this package does not import torch.
"""

from __future__ import annotations

from nasbench.testing.benchmark_checks import check_benchmark
from nasbench.testing.space_checks import check_search_space
from nasbench.testing.strategy_checks import BareSpace, check_strategy
from nasbench.testing.synthetic import SyntheticBenchmark, synthetic_table

__all__ = [
    "BareSpace",
    "SyntheticBenchmark",
    "check_benchmark",
    "check_search_space",
    "check_strategy",
    "synthetic_table",
]
