"""nasbench validate: retrains finalists under the store's recipe and reports measured vs stored values."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from nasbench.cli import main
from nasbench.errors import NasbenchError, RecipeError
from nasbench.store import read_store, write_store
from nasbench.train.builder import BuildConfig, build
from nasbench.train.recipe import DIGITS_TINY
from nasbench.train.selection import select_archs
from nasbench.train.validate import validate

TINY = DIGITS_TINY.replace(epochs=2, train_size=200, channels=2)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("validate")
    archs = tuple(select_archs("stratified", n=3, seed=0))
    config = BuildConfig(out=tmp / "store.h5", dataset="digits", recipe=TINY, archs=archs, seeds=(0, 1))
    build(config)
    return config.out, archs


def test_validation_reports_noise_ranking_and_writes_files(built, tmp_path):
    store, archs = built
    report = validate(store, archs, tmp_path / "v", seeds=(10, 11))
    assert report["finalists"] == 3 and report["recipe_matches_store"]
    for row in report["rows"]:
        assert row["measured_seeds"] == 2 and 0 <= row["measured_mean"] <= 1 and row["benchmark_seeds"] == 2
    assert report["kendall_tau"] is None or -1 <= report["kendall_tau"] <= 1
    assert {p.name for p in (tmp_path / "v").iterdir()} >= {"report.json", "report.md", "validation.png"}
    assert json.loads((tmp_path / "v" / "report.json").read_text())["metric"] == "test_acc"


def test_a_store_value_far_from_the_measurement_is_flagged(built, tmp_path):
    store, archs = built
    data = read_store(store)
    data.metrics["test_acc"][0] = 0.999  # a benchmark that lies about its first arch
    fake = write_store(tmp_path / "fake.h5", data)
    report = validate(fake, archs, tmp_path / "v", seeds=(10, 11), plot=False)
    first = next(r for r in report["rows"] if tuple(r["arch"]) == tuple(data.archs[0].tolist()))
    assert not first["within_noise"]


def test_a_cell_the_table_lacks_is_compared_with_the_surrogates_prediction(built, tmp_path):
    from conftest import make_store_data

    from nasbench.surrogates.benchmarks import SurrogateBenchmark

    store, archs = built
    synthetic = write_store(tmp_path / "syn.h5", make_store_data(n_archs=60))
    SurrogateBenchmark.from_store(synthetic, metrics=("test_acc",), epochs=(2,), model="ridge").save(tmp_path / "s")
    outside = (3, 3, 3, 3, 3, 3)
    assert outside not in archs
    report = validate(store, [archs[0], outside], tmp_path / "v", seeds=(10, 11), plot=False, surrogate=tmp_path / "s")
    rows = {tuple(r["arch"]): r for r in report["rows"]}
    predicted = SurrogateBenchmark.load(tmp_path / "s", space="nb201").query(outside, epoch=2).test_acc
    assert rows[outside]["benchmark_source"] == "surrogate"
    assert rows[outside]["benchmark_mean"] == pytest.approx(predicted)
    assert rows[archs[0]]["benchmark_source"] == "table" and rows[archs[0]]["benchmark_seeds"] == 2
    assert "| surrogate |" in (tmp_path / "v" / "report.md").read_text()


def test_unlike_recipes_and_bad_requests_are_refused(built, tmp_path):
    store, archs = built
    with pytest.raises(RecipeError, match="differs"):
        validate(store, archs[:1], tmp_path / "v", seeds=(10, 11), recipe=TINY.replace(epochs=3))
    with pytest.raises(NasbenchError, match="used to build the store"):
        validate(store, archs[:1], tmp_path / "v", seeds=(0, 5))
    with pytest.raises(NasbenchError, match="not in the store"):
        validate(store, [(3, 3, 3, 3, 3, 3)], tmp_path / "v", seeds=(10, 11))
    with pytest.raises(NasbenchError, match="at least 2"):
        validate(store, archs[:1], tmp_path / "v", seeds=(10,))


def test_validate_refuses_a_store_without_a_recipe(small_store, tmp_path, capsys):
    code = main(["validate", str(small_store), "--arch", "0,0,0,0,0,0", "--out", str(tmp_path / "v")])
    assert code == 2
    assert "cannot be trained here" in capsys.readouterr().err  # a synthetic dataset, no recipe: refused
