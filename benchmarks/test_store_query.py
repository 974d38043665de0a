"""Store and query performance on the imported NB201 CIFAR-10 reference store (skips when the reference is absent).

Targets (issue 2): open well under 0.1 s; a single query p50 < 5 us; query_many over all 15,625 cells < 5 ms;
resident memory of the open store < 100 MB. Run: ``pytest benchmarks/test_store_query.py --benchmark-only``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from nasbench import TabularBenchmark

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


@pytest.fixture(scope="module")
def bench(nb201_store):
    return TabularBenchmark.open(nb201_store)


def test_open(benchmark, nb201_store):
    bench = benchmark(TabularBenchmark.open, nb201_store)
    assert len(bench) == 15_625


def test_query_tuple(benchmark, bench):
    arch = bench.space.from_str(BEST)
    result = benchmark.pedantic(bench.query, args=(arch,), kwargs={"epoch": 200}, rounds=20_000, iterations=10)
    assert result.test_acc == pytest.approx(0.943733, abs=1e-7)


def test_query_random_cells(benchmark, bench):
    """Different cells each call (no cache can help), as a strategy asks them."""
    archs = bench.archs()
    order = np.random.default_rng(0).permutation(len(archs)).tolist()
    cells = [archs[i] for i in order]
    it = iter(cells * 1000)

    def one():
        return bench.query(next(it), epoch=12)

    benchmark.pedantic(one, rounds=20_000, iterations=10)


def test_query_string(benchmark, bench):
    benchmark.pedantic(bench.query, args=(BEST,), kwargs={"epoch": 200}, rounds=5_000, iterations=10)


def test_query_many_all_cells_list(benchmark, bench):
    archs = bench.archs()
    out = benchmark(bench.query_many, archs, epoch=200)
    assert len(out["test_acc"]) == 15_625


def test_query_many_all_cells_array(benchmark, bench):
    archs = np.asarray(bench.archs(), dtype=np.int8)
    out = benchmark(bench.query_many, archs, epoch=200)
    assert len(out["test_acc"]) == 15_625


_RSS = """
import gc, json, resource, sys

def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024

import numpy, h5py, nasbench, nasbench.benchmark  # the imports are not the store
before = rss_mb()
bench = nasbench.TabularBenchmark.open(sys.argv[1])
bench.query(bench.archs()[0], epoch=200)
gc.collect()
print(json.dumps({"before_mb": before, "after_mb": rss_mb()}))
"""


def test_resident_memory_of_the_open_store(benchmark, nb201_store):
    """RSS of a fresh process before and after opening the store (imports excluded); target < 100 MB."""

    def measure():
        out = subprocess.run([sys.executable, "-c", _RSS, str(nb201_store)], capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    figures = benchmark.pedantic(measure, rounds=3, iterations=1)
    delta = figures["after_mb"] - figures["before_mb"]
    benchmark.extra_info.update(rss_delta_mb=round(delta, 1), rss_total_mb=round(figures["after_mb"], 1))
    assert delta < 100
