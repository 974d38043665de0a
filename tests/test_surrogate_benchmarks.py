"""Surrogate and hybrid benchmarks: the Benchmark protocol, sources, seeded noise, persistence, bad input."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from nasbench.benchmark import Benchmark, Result, TabularBenchmark
from nasbench.errors import InvalidArchitecture, InvalidQuery, MissingResult, StoreError, UnknownMetric
from nasbench.surrogates.benchmarks import HybridBenchmark, SurrogateBenchmark
from nasbench.surrogates.noise import standard_normal
from nasbench.surrogates.surrogate import Surrogate, SurrogateMismatch, fit_from_store
from tests.conftest import make_store_data

FAST = {"n_estimators": 30}


def _same(a: Result, b: Result) -> bool:
    """Results equal field by field, NaN equal to NaN (a run without that metric)."""
    same_values = a.values.keys() == b.values.keys() and all(
        a[m] == b[m] or (math.isnan(a[m]) and math.isnan(b[m])) for m in a.values
    )
    return same_values and (a.epoch, a.seed, a.source) == (b.epoch, b.seed, b.source)


@pytest.fixture(scope="module")
def table() -> TabularBenchmark:
    return TabularBenchmark(make_store_data(n_archs=60, seeds=(0, 1, 2)).validate(), name="synthetic")


@pytest.fixture(scope="module")
def surrogate(table) -> SurrogateBenchmark:
    return SurrogateBenchmark.from_store(table, metrics=("val_acc", "test_acc"), epochs=(2, 4), params=FAST)


def test_surrogate_benchmark_follows_the_protocol(surrogate, table):
    assert isinstance(surrogate, Benchmark)
    assert surrogate.epochs == (2, 4) and surrogate.metrics == ("val_acc", "test_acc")
    assert surrogate.directions == {"val_acc": "max", "test_acc": "max"}
    assert surrogate.seeds == (0, 1, 2)  # several seeds -> a noise model -> seeded samples
    arch = table.archs()[5]
    r = surrogate.query(arch, epoch=4)
    assert r.source == "surrogate" and r.seed is None and r.epoch == 4
    assert 0 <= r.test_acc <= 1 and np.isnan(r.train_time_s)  # no surrogate for it: NaN, not invented
    many = surrogate.query_many([arch, table.archs()[6]], epoch=4)
    assert many["test_acc"][0] == pytest.approx(r.test_acc)
    assert set(many) == {"val_acc", "test_acc"}


def test_surrogate_answers_unseen_archs_and_the_whole_space(surrogate, table):
    unseen = next(a for a in surrogate.space.all_archs() if a not in table)
    assert surrogate.query(unseen, epoch=2).source == "surrogate"
    values = surrogate.table("test_acc", epoch=4)
    assert values.shape == (surrogate.space.size,) and np.isfinite(values).all()
    arch, best = surrogate.best("test_acc", epoch=4)
    assert best == values.max() and surrogate.query(arch, epoch=4).test_acc == best


def test_seeded_queries_are_reproducible_noisy_samples(surrogate, table):
    arch = table.archs()[3]
    mean = surrogate.query(arch, epoch=4)
    a, b = surrogate.query(arch, epoch=4, seed=7), surrogate.query(arch, epoch=4, seed=7)
    assert _same(a, b)
    assert a.seed == 7 and a.test_acc != mean.test_acc
    others = [surrogate.query(arch, epoch=4, seed=s).test_acc for s in range(40)]
    assert len(set(others)) == 40
    # The spread is the noise model's seed-to-seed std (the fixture's noise is N(0, 0.01)).
    assert 0.002 < np.std(others) < 0.05
    # Vectorized and single queries agree, whatever the batch around the arch.
    batch = surrogate.query_many(table.archs()[:10], epoch=4, seed=7)["test_acc"]
    assert batch[3] == pytest.approx(a.test_acc)


def test_seeded_draws_hash_the_arch_key_which_on_nb201_is_its_index(surrogate, table):
    arch = table.archs()[3]
    mean = surrogate.query(arch, epoch=4).test_acc
    std = surrogate.surrogates[("test_acc", 4)].noise_std([arch])[0]
    z = standard_normal(7, np.asarray([surrogate.space.index(arch)]))[0]
    assert surrogate.query(arch, epoch=4, seed=7).test_acc == pytest.approx(min(max(mean + std * z, 0.0), 1.0))


def test_standard_normal_is_a_pure_function_of_seed_and_index():
    idx = np.arange(5000)
    z = standard_normal(11, idx)
    np.testing.assert_array_equal(z[[7, 3]], standard_normal(11, np.array([7, 3])))
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05
    assert np.corrcoef(z, standard_normal(12, idx))[0, 1] < 0.05


def test_same_seed_same_sample_in_a_fresh_process(tmp_path, surrogate, table):
    surrogate.save(tmp_path / "sb")
    arch = table.archs()[4]
    code = (
        "import sys; from nasbench.surrogates.benchmarks import SurrogateBenchmark\n"
        f"b = SurrogateBenchmark.load({str(tmp_path / 'sb')!r})\n"
        f"print(repr(b.query({arch!r}, epoch=4, seed=5).test_acc))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) == surrogate.query(arch, epoch=4, seed=5).test_acc


def test_saved_benchmark_loads_identically(tmp_path, surrogate):
    surrogate.save(tmp_path / "sb")
    loaded = SurrogateBenchmark.load(tmp_path / "sb")
    np.testing.assert_array_equal(loaded.table("val_acc", epoch=2), surrogate.table("val_acc", epoch=2))
    assert loaded.seeds == surrogate.seeds
    with pytest.raises(StoreError, match="already holds"):
        surrogate.save(tmp_path / "sb")


def test_hybrid_takes_the_table_where_it_has_a_result(table, surrogate):
    hybrid = HybridBenchmark(table, surrogate)
    assert isinstance(hybrid, Benchmark)
    known = table.archs()[2]
    unseen = next(a for a in surrogate.space.all_archs() if a not in table)
    assert _same(hybrid.query(known, epoch=4), table.query(known, epoch=4))
    assert hybrid.query(unseen, epoch=4).source == "surrogate"
    assert hybrid.query(known, epoch=4, seed=1).source == "table"
    assert hybrid.query(known, epoch=4, seed=99).source == "surrogate"  # the table has no seed 99
    src = hybrid.sources([known, unseen], epoch=4)
    assert src.tolist() == ["table", "surrogate"]
    many = hybrid.query_many([known, unseen], epoch=4, metrics=["test_acc"])
    assert many["test_acc"][0] == table.query(known, epoch=4).test_acc
    assert many["test_acc"][1] == surrogate.query(unseen, epoch=4).test_acc
    full = hybrid.table("test_acc", epoch=4)
    rows = surrogate.space.indices(table.archs())
    np.testing.assert_allclose(full[rows], table.table("test_acc", epoch=4))
    # An epoch only the table has: table archs answer, the others cannot.
    assert hybrid.query(known, epoch=1).source == "table"
    with pytest.raises(MissingResult, match="surrogate has no epoch 1"):
        hybrid.query(unseen, epoch=1)


def test_bad_queries_raise_typed_errors(surrogate):
    with pytest.raises(InvalidArchitecture):
        surrogate.query((0, 1, 2))
    with pytest.raises(InvalidArchitecture):
        surrogate.query("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", epoch=2)
    with pytest.raises(InvalidQuery, match="epoch is required"):
        surrogate.query((0,) * 6)
    with pytest.raises(MissingResult, match="no epoch 3"):
        surrogate.query((0,) * 6, epoch=3)
    with pytest.raises(UnknownMetric):
        surrogate.query_many([(0,) * 6], epoch=2, metrics=["accuracy"])
    with pytest.raises(UnknownMetric):
        surrogate.table("train_time_s", epoch=2)


def test_fit_from_store_rejects_absent_targets(table):
    with pytest.raises(MissingResult, match="no 'test_loss'"):
        fit_from_store(table, "test_loss", 4)
    with pytest.raises(MissingResult, match="no epoch 200"):
        fit_from_store(table, "test_acc", 200)
    with pytest.raises(InvalidQuery, match="give the target epoch"):
        fit_from_store(table, "test_acc", None)


def test_nan_targets_are_dropped_with_a_count(caplog):
    data = make_store_data(n_archs=40)
    archs = np.asarray(data.archs, dtype=np.int64)
    y = data.metrics["test_acc"][:, 0, -1].astype(np.float64)
    y[:7] = np.nan
    with caplog.at_level("WARNING"):
        s = Surrogate("xgboost", space="nb201", params=FAST).fit(archs, y)
    assert s.n_dropped_ == 7 and s.n_train_ == 33
    assert "dropped 7 of 40" in caplog.text
    y[:] = np.nan
    with pytest.raises(InvalidQuery, match="40 NaN targets dropped"):
        Surrogate("xgboost", space="nb201", params=FAST).fit(archs, y)


def test_loading_for_another_target_or_a_damaged_folder_fails_clearly(tmp_path, table):
    s = fit_from_store(table, "test_acc", 4, params=FAST)
    s.save(tmp_path / "m")
    with pytest.raises(SurrogateMismatch, match="predicts metric 'test_acc'"):
        Surrogate.load(tmp_path / "m", metric="val_acc")
    with pytest.raises(SurrogateMismatch, match="epoch"):
        Surrogate.load(tmp_path / "m", epoch=200)
    with pytest.raises(SurrogateMismatch, match="space"):
        Surrogate.load(tmp_path / "m", space="nb101")
    with pytest.raises(StoreError, match="not a saved surrogate"):
        Surrogate.load(tmp_path / "nowhere")
    np.savez(tmp_path / "m" / "train.npz", archs=np.zeros((3, 6), np.int8), y=np.zeros(3))
    with pytest.raises(StoreError, match="hash"):
        Surrogate.load(tmp_path / "m")


def test_single_seed_store_has_no_noise_and_seeded_queries_return_the_mean():
    table = TabularBenchmark(make_store_data(n_archs=40, seeds=(None,)).validate())
    sb = SurrogateBenchmark.from_store(table, metrics=("test_acc",), epochs=(4,), params=FAST)
    arch = table.archs()[0]
    assert sb.seeds == (None,)
    assert sb.query(arch, seed=3).test_acc == sb.query(arch).test_acc


@pytest.mark.parametrize("kind", ["surrogate", "hybrid"])
def test_the_runner_uses_surrogate_and_hybrid_benchmarks_unchanged(kind, table, surrogate):
    from nasbench.runner.simulate import Budget, Protocol, run_search
    from nasbench.strategies import make_strategy

    if kind == "hybrid":  # the table has training times: the cells it lacks need predicted ones too
        timed = SurrogateBenchmark.from_store(table, metrics=("val_acc", "test_acc", "train_time_s"), epochs=(2, 4),
                                              params=FAST)  # fmt: skip
        bench = HybridBenchmark(table, timed)
    else:
        bench = surrogate
    protocol = Protocol(search_epoch=2, score_epoch=4, noise="sample")
    runs = [
        run_search(bench, make_strategy("random_search"), protocol=protocol, budget=Budget(evaluations=15), seed=s)
        for s in (0, 0, 1)
    ]
    assert len(runs[0].arch) == 15
    assert runs[0].arch == runs[1].arch and runs[0].arch != runs[2].arch
    assert (0,) * 6 in surrogate and (0, 1, 2) not in surrogate and "|x~0|" not in surrogate


def test_hybrid_falls_back_to_the_surrogate_where_the_table_row_is_empty(surrogate):
    data = make_store_data(n_archs=60, seeds=(0, 1, 2))
    for values in data.metrics.values():
        values[0, :, -1] = np.nan  # arch 0 never finished its last epoch
    table = TabularBenchmark(data.validate())
    hybrid = HybridBenchmark(table, surrogate)
    first, second = table.archs()[:2]
    assert hybrid.query(first, epoch=4).source == "surrogate"
    assert hybrid.query(first, epoch=2).source == "table"
    assert hybrid.sources([first, second], epoch=4).tolist() == ["surrogate", "table"]
    assert np.isfinite(hybrid.table("test_acc", epoch=4)).all()


def test_open_benchmark_gives_the_hybrid_benchmark_that_compare_uses(small_store, tmp_path):
    import nasbench
    from nasbench.cli import main
    from nasbench.surrogates import HybridBenchmark

    table = nasbench.open_benchmark(small_store)
    absent = next(a for a in table.space.all_archs() if a not in set(table.archs()))
    with pytest.raises(nasbench.MissingResult):
        table.query(absent, epoch=4)
    fitted = nasbench.open_benchmark(small_store, surrogate=True)
    assert isinstance(fitted, HybridBenchmark) and 0 <= fitted.query(absent, epoch=4).val_acc <= 1
    out = tmp_path / "cmp"
    assert main(["compare", str(small_store), "--out", str(out), "--seeds", "1", "--budget", "5", "--processes", "1",
                 "--strategies", "random_search", "--no-report"]) == 0  # fmt: skip
    saved = nasbench.open_benchmark(small_store, surrogate=out / "surrogate")
    assert saved.query(absent, epoch=4).val_acc == pytest.approx(fitted.query(absent, epoch=4).val_acc)
