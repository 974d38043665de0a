"""TabularBenchmark: queries by any arch form, seeds and epochs made explicit, vectorized queries, typed errors."""

from __future__ import annotations

import math
from dataclasses import astuple

import numpy as np
import pytest

from nasbench.benchmark import Benchmark, Result, TabularBenchmark
from nasbench.errors import InvalidArchitecture, InvalidQuery, MissingResult, UnknownMetric
from nasbench.spaces import get_space
from nasbench.store import write_store
from tests.conftest import make_store_data

SPACE = get_space("nb201")


def same(a: Result, b: Result) -> bool:
    """Equal results; NaN (a metric the store lacks) equals NaN."""
    np.testing.assert_equal(astuple(a), astuple(b))
    return True


@pytest.fixture
def data():
    d = make_store_data(n_archs=20, seeds=(0, 1, 2), epochs=(1, 2, 3, 4))
    d.metrics["val_acc"][0, 1, :] = np.nan  # arch 0 lacks seed 1 for val_acc
    d.metrics["test_acc"][0, 1, :] = np.nan
    d.metrics["train_acc"][0, 1, :] = np.nan
    d.metrics["val_loss"][0, 1, :] = np.nan
    d.metrics["train_time_s"][0, 1, :] = np.nan  # so seed 1 has no result at all for arch 0
    for name in d.metrics:
        d.metrics[name][1, :, 3] = np.nan  # arch 1 has no epoch-4 result from any seed
    return d


@pytest.fixture
def bench(tmp_path, data):
    return TabularBenchmark.open(write_store(tmp_path / "b.h5", data))


def test_is_a_benchmark_and_describes_itself(bench, data):
    assert isinstance(bench, Benchmark)
    assert bench.epochs == (1, 2, 3, 4) and bench.seeds == (0, 1, 2) and len(bench) == 20
    assert bench.metrics == ("train_acc", "val_acc", "test_acc", "val_loss", "train_time_s")
    assert bench.archs() == [tuple(a) for a in data.archs.tolist()]
    assert bench.space == SPACE
    assert "archs=20" in repr(bench)


def test_query_by_tuple_string_list_and_array_agree(bench, data):
    arch = tuple(int(x) for x in data.archs[5])
    forms = [arch, SPACE.to_str(arch), list(arch), np.asarray(arch), np.asarray(arch, dtype=np.int8)]
    results = [bench.query(a, epoch=3, seed=2) for a in forms]
    assert all(same(r, results[0]) for r in results)
    r = results[0]
    assert isinstance(r, Result) and r.epoch == 3 and r.seed == 2 and r.source == "table"
    assert r.val_acc == pytest.approx(float(data.metrics["val_acc"][5, 2, 2]), abs=0)
    assert r.test_acc == float(data.metrics["test_acc"][5, 2, 2])
    assert r.train_time_s == float(data.metrics["train_time_s"][5, 2, 2])
    assert math.isnan(r.test_loss) and math.isnan(r.train_loss)  # not in the store: NaN, not 0
    assert arch in bench and SPACE.to_str(arch) in bench and "garbage" not in bench


def test_seed_none_is_the_mean_over_the_seeds_that_exist(bench, data):
    arch = tuple(data.archs[0])
    r = bench.query(arch, epoch=2)
    assert r.seed is None
    expected = np.mean(data.metrics["val_acc"][0, [0, 2], 1].astype(np.float64))
    assert r.val_acc == pytest.approx(expected, rel=1e-6)
    assert not math.isnan(r.val_acc)
    other = tuple(data.archs[4])
    assert bench.query(other, epoch=2).val_acc == pytest.approx(
        np.mean(data.metrics["val_acc"][4, :, 1].astype(np.float64)), rel=1e-6
    )


def test_absent_seed_epoch_or_arch_raise_missing_result_naming_what_exists(bench, data):
    arch = tuple(data.archs[0])
    with pytest.raises(MissingResult, match=r"seed 7 is not in this store; available: \[0, 1, 2\]"):
        bench.query(arch, epoch=2, seed=7)
    with pytest.raises(MissingResult, match=r"epoch 200 is not in this store; available: \[1, 2, 3, 4\]"):
        bench.query(arch, epoch=200)
    with pytest.raises(MissingResult, match="seed 1"):
        bench.query(arch, epoch=2, seed=1)  # the seed exists in the store but this run is missing
    with pytest.raises(MissingResult, match="epoch 4 for any seed"):
        bench.query(tuple(data.archs[1]), epoch=4)
    absent = next(a for a in SPACE.all_archs() if a not in bench)
    with pytest.raises(MissingResult, match=r"not in this store \(20 of 15,625"):
        bench.query(absent, epoch=1)
    with pytest.raises(InvalidArchitecture):
        bench.query("|bad~0|", epoch=1)


def test_epoch_is_required_when_the_store_has_several(bench, data):
    with pytest.raises(InvalidQuery, match=r"epoch is required.*\[1, 2, 3, 4\]"):
        bench.query(tuple(data.archs[0]))
    with pytest.raises(InvalidQuery):
        bench.query_many(data.archs)
    with pytest.raises(InvalidQuery):
        bench.table("val_acc")


def test_single_epoch_store_defaults_to_that_epoch(tmp_path):
    d = make_store_data(seeds=(None,), epochs=(200,))
    b = TabularBenchmark.open(write_store(tmp_path / "s.h5", d))
    arch = tuple(d.archs[3])
    assert same(b.query(arch), b.query(arch, epoch=200))
    assert b.query(arch).epoch == 200 and b.query(arch).val_acc == float(d.metrics["val_acc"][3, 0, 0])
    with pytest.raises(MissingResult, match="none by name"):
        b.query(arch, seed=0)


@pytest.mark.parametrize("seed", [None, 0, 2])
def test_query_many_equals_query_for_every_arch(bench, data, seed):
    archs = [tuple(int(x) for x in a) for a in data.archs]
    for many_input in (archs, np.asarray(data.archs), [SPACE.to_str(a) for a in archs]):
        many = bench.query_many(many_input, epoch=3, seed=seed)
        assert set(many) == set(bench.metrics)
        for i, arch in enumerate(archs):
            try:
                one = bench.query(arch, epoch=3, seed=seed)
            except MissingResult:
                assert all(np.isnan(many[m][i]) for m in many)
                continue
            for metric, values in many.items():
                np.testing.assert_equal(values[i], getattr(one, metric))
    subset = bench.query_many(archs[::-3], epoch=1, metrics=["val_acc"])
    assert list(subset) == ["val_acc"] and len(subset["val_acc"]) == len(archs[::-3])


def test_query_many_refuses_bad_and_absent_archs(bench, data):
    with pytest.raises(InvalidArchitecture):
        bench.query_many(np.full((2, 6), 5), epoch=1)
    with pytest.raises(InvalidArchitecture):
        bench.query_many(np.zeros((2, 5), dtype=int), epoch=1)
    absent = next(a for a in SPACE.all_archs() if a not in bench)
    with pytest.raises(MissingResult):
        bench.query_many(np.asarray([data.archs[0], absent]), epoch=1)
    with pytest.raises(MissingResult):
        bench.query_many([tuple(data.archs[0]), absent], epoch=1)


def test_unknown_metric(bench):
    with pytest.raises(UnknownMetric, match=r"unknown metric 'accuracy'.*val_acc"):
        bench.table("accuracy", epoch=1)
    with pytest.raises(UnknownMetric):
        bench.query_many(bench.archs(), epoch=1, metrics=["test_loss"])  # a METRICS name the store lacks
    with pytest.raises(UnknownMetric, match="params_m"):
        bench.static("flops")


def test_table_best_and_static(bench, data):
    table = bench.table("val_acc", epoch=4, seed=0)
    np.testing.assert_array_equal(table, data.metrics["val_acc"][:, 0, 3])
    arch, value = bench.best("val_acc", epoch=4)
    means = bench.table("val_acc", epoch=4)
    assert value == np.nanmax(means) and bench.query(arch, epoch=4).val_acc == value
    assert np.isnan(means[1])  # arch 1 has no epoch 4: NaN in the table, skipped by best
    np.testing.assert_array_equal(bench.static("params_m"), data.static["params_m"])


def test_iso_shared_store_answers_for_isomorphic_cells(tmp_path):
    reps = sorted({SPACE.canonical(a) for a in SPACE.all_archs()[:400]}, key=SPACE.index)
    d = make_store_data(n_archs=len(reps), seeds=(None,), epochs=(12,))
    d.archs = np.asarray(reps, dtype=np.int8)
    d.iso_shared = True
    b = TabularBenchmark.open(write_store(tmp_path / "iso.h5", d))
    members = [a for a in SPACE.all_archs()[:400] if SPACE.canonical(a) != a]
    assert members
    for arch in members:
        assert same(b.query(arch), b.query(SPACE.canonical(arch)))
    many = b.query_many(members)
    np.testing.assert_array_equal(many["val_acc"], [b.query(a).val_acc for a in members])
    np.testing.assert_array_equal(many["val_acc"], b.query_many(np.asarray(members))["val_acc"])
