"""Store and query performance on the imported NB201 CIFAR-10 reference store (skips when the reference is absent).

Targets: open an NB201-size store in < 0.1 s; a single query p50 <= 2.5 us; query_many over all 15,625 cells
< 5 ms; resident memory of the open store < 100 MB. The same open and query figures for a store of every space
(``test_*_every_store``), including a synthetic full-size NB101 store of 423,624 rows.
Run: ``pytest benchmarks/test_store_query.py --benchmark-only``.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest

from nasbench import TabularBenchmark
from tests.conftest import REFERENCE

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


# ---- every space ------------------------------------------------------------------------------------------------

NB101_CLASSES = 423_624  # NAS-Bench-101's isomorphism classes: a full-size store of the space


def _nb101_synthetic(path):
    """A store of 423,624 distinct in-range NB101 rows with random metrics: the real data here is 500 cells, so the
    lookup cost at full scale is measured on synthetic rows (queries use rows of the table)."""
    from nasbench.spaces import get_space
    from nasbench.spaces.base import arch_keys
    from nasbench.store import StoreData, write_store

    space = get_space("nb101")
    rng = np.random.default_rng(0)
    rows = np.unique(rng.integers(0, np.asarray(space.choices), size=(int(NB101_CLASSES * 1.2), len(space.choices))),
                     axis=0)[:NB101_CLASSES]  # fmt: skip
    rows = rows[np.argsort(arch_keys(space, rows))]
    values = rng.uniform(0.7, 0.95, size=(len(rows), 3, 1)).astype(np.float32)
    data = StoreData(space="nb101", dataset="synthetic", protocol={}, seeds=(0, 1, 2), epochs=(108,), archs=rows,
                     metrics={"val_acc": values, "test_acc": values - 0.01})  # fmt: skip
    write_store(path, data)
    return path


@pytest.fixture(scope="module")
def every_store(tmp_path_factory):
    """One store per space: NB201 CIFAR-10, NAS-Bench-Macro, TransNAS micro and macro (class_scene) from the
    reference data through nasbench's importers, and the synthetic full-size NB101 store."""
    from nasbench.cli import main

    out = tmp_path_factory.mktemp("stores")
    ref = REFERENCE
    stores = {"nb101": _nb101_synthetic(out / "nb101-synthetic.h5")}
    if (ref / "nb201" / "cifar10.csv").is_file():
        stores["nb201"] = out / "nb201.h5"
        main(["import", "table", str(ref / "nb201" / "cifar10.csv"), "--out", str(stores["nb201"]), "--percent",
              "--map", "val_acc_12ep=val_acc@12", "--map", "test_acc_200ep=test_acc@200"])  # fmt: skip
    if (ref / "nas-bench-macro").is_dir():
        stores["nb_macro"] = out / "nb_macro.h5"
        main(["import", "macro", str(ref / "nas-bench-macro" / "nas-bench-macro_cifar10.json"), "--out",
              str(stores["nb_macro"])])  # fmt: skip
    for space, name in (("tnb_micro", "micro.csv"), ("tnb_macro", "macro.csv")):
        if (ref / "transnas-bench-101" / name).is_file():
            main(["import", "transnas", str(ref / "transnas-bench-101" / name), "--space", space, "--out", str(out),
                  "--tasks", "class_scene"])  # fmt: skip
            stores[space] = out / f"{space}-class_scene.h5"
    return stores


SPACE_NAMES = ("nb201", "nb101", "nb_macro", "tnb_micro", "tnb_macro")


@pytest.mark.parametrize("space", SPACE_NAMES)
def test_open_every_store(benchmark, every_store, space):
    if space not in every_store:
        pytest.skip(f"no reference data for {space}")
    bench = benchmark.pedantic(TabularBenchmark.open, args=(every_store[space],), rounds=5, iterations=1)
    benchmark.extra_info["archs"] = len(bench)


@pytest.mark.parametrize("space", SPACE_NAMES)
def test_query_every_store(benchmark, every_store, space):
    """A single query of a different stored arch each call (p50 is the figure: target <= 2.5 us)."""
    if space not in every_store:
        pytest.skip(f"no reference data for {space}")
    bench = TabularBenchmark.open(every_store[space])
    archs = bench.archs()
    order = np.random.default_rng(0).permutation(len(archs))[:20_000].tolist()
    it = itertools.cycle([archs[i] for i in order])
    epoch = bench.epochs[-1]

    def one():
        return bench.query(next(it), epoch=epoch)

    benchmark.pedantic(one, rounds=20_000, iterations=10)
    benchmark.extra_info["archs"] = len(bench)
