"""Weight-sharing methods in a comparison: runs written where `nasbench report` ranks them, scored by the store,
baselines at the same simulated cost, the store's own data rebuilt, and clear errors for unusable stores."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from conftest import make_store_data

from nasbench.benchmark import TabularBenchmark
from nasbench.cli import main
from nasbench.errors import DatasetError, RecipeError
from nasbench.oneshot.experiment import (
    DETAILS_FILE,
    OneShotConfig,
    read_details,
    run_oneshot_experiment,
    store_splits,
)
from nasbench.runner.experiment import RUNS_FILE, load_results
from nasbench.store import write_store
from nasbench.train.data import load_splits
from nasbench.train.recipe import DIGITS_TINY

RECIPE = DIGITS_TINY.replace(train_size=128, val_size=64)
TINY_METHODS = ("darts:epochs=1:batch_size=32", "rsws:epochs=1:batch_size=32:candidates=4:top_k=2")


def _digits_store(path: Path, *, n_archs: int = 15625, dataset: str = "digits", data: dict | None = None) -> Path:
    """Synthetic results over the digits recipe's protocol; training times small enough for baselines to run."""
    info = load_splits("digits", train_size=RECIPE.train_size, val_size=RECIPE.val_size).info
    store = make_store_data(n_archs=n_archs)
    metrics = dict(store.metrics)
    metrics["train_time_s"] = (metrics["train_time_s"] * 1e-3).astype(np.float32)
    protocol = {"recipe": RECIPE.to_dict(), "data": info if data is None else data}
    return write_store(path, replace(store, dataset=dataset, protocol=protocol, metrics=metrics))


@pytest.fixture(scope="module")
def full_digits_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _digits_store(tmp_path_factory.mktemp("oneshot") / "digits.h5")


def test_runs_are_scored_by_the_store_and_ranked_beside_baselines_up_to_their_cost(full_digits_store, tmp_path):
    out = tmp_path / "res"
    config = OneShotConfig(methods=TINY_METHODS, seeds=(0, 1), rank_sample=12)
    run_oneshot_experiment(full_digits_store, out, config)
    exp, runs = load_results(out)
    bench = TabularBenchmark.open(full_digits_store)
    details = {(d["label"], d["seed"]): d for d in read_details(out)}
    labels = [s["label"] for s in exp["strategies"]]
    assert labels[:2] == ["darts:batch_size=32:epochs=1", "rsws:batch_size=32:candidates=4:epochs=1:top_k=2"]
    assert exp["oneshot"]["device"] == "cpu" and exp["oneshot"]["torch_threads"] == 1
    oneshot = [t for t in runs if t.strategy in labels[:2]]
    assert len(oneshot) == 4
    for t in oneshot:
        d = details[(t.strategy, t.seed)]
        arch = bench.space.from_str(t.arch[0])
        assert len(t.arch) == 1 and t.incumbent == t.arch
        assert t.cost_s == t.finished_s == [d["search_time_s"]] and d["search_time_s"] > 0
        assert t.incumbent_score[0] == pytest.approx(bench.query(arch, epoch=4).test_acc)
        assert t.score[0] == pytest.approx(bench.query(arch, epoch=4).val_acc)
        assert d["source"] == "table" and d["arch"] == bench.space.to_str(arch)
        assert d["ranking"]["cells"] == 12 and -1 <= d["ranking"]["kendall_tau_val"] <= 1
    budget = exp["budget"]["time_s"]
    assert budget == pytest.approx(max(t.cost_s[0] for t in oneshot))
    baselines = [t for t in runs if t.strategy in ("random_search", "regularized_evolution")]
    assert len(baselines) == 4 and all(t.finished_s and t.finished_s[-1] <= budget for t in baselines)
    from nasbench.analysis.report import write_report

    analysis, _ = write_report(out, plots=False)
    assert {row.label for row in analysis.table} == set(labels)
    summary = (out / "oneshot.md").read_text()
    assert "| darts:batch_size=32:epochs=1 | 0 |" in summary and "random_search at this cost (%)" in summary
    # a rerun of the same experiment resumes: nothing is trained again
    size = (out / RUNS_FILE).stat().st_size, (out / DETAILS_FILE).stat().st_size
    run_oneshot_experiment(full_digits_store, out, config)
    assert ((out / RUNS_FILE).stat().st_size, (out / DETAILS_FILE).stat().st_size) == size


def test_the_same_seed_returns_the_same_cell_in_a_fresh_experiment(full_digits_store, tmp_path):
    config = OneShotConfig(methods=TINY_METHODS[:1], seeds=(5,), baselines=(), rank_sample=0)
    a = read_details(run_oneshot_experiment(full_digits_store, tmp_path / "a", config))
    b = read_details(run_oneshot_experiment(full_digits_store, tmp_path / "b", config))
    assert a[0]["arch"] == b[0]["arch"] and a[0]["extra"]["alphas"] == b[0]["extra"]["alphas"]


def test_another_experiment_in_the_directory_is_refused(full_digits_store, tmp_path):
    from nasbench.runner.experiment import ResultsError

    config = OneShotConfig(methods=TINY_METHODS[:1], seeds=(0,), baselines=(), rank_sample=0)
    run_oneshot_experiment(full_digits_store, tmp_path / "r", config)
    with pytest.raises(ResultsError, match="another experiment"):
        run_oneshot_experiment(full_digits_store, tmp_path / "r", replace(config, seeds=(1,)))


@pytest.mark.slow
def test_cells_the_table_lacks_are_scored_by_a_surrogate(tmp_path):
    store = _digits_store(tmp_path / "partial.h5", n_archs=300)
    config = OneShotConfig(methods=("gdas:epochs=1:batch_size=32",), seeds=(0, 1, 2), rank_sample=10)
    out = run_oneshot_experiment(store, tmp_path / "res", config)
    bench = TabularBenchmark.open(store)
    for d in read_details(out):
        assert d["source"] == ("table" if bench.space.from_str(d["arch"]) in bench else "surrogate")
        assert 0 <= d["bench_score"] <= 1
    _, runs = load_results(out)
    assert any(len(t.arch) > 0 for t in runs if t.strategy == "random_search")


def test_store_splits_rebuild_the_stores_data(full_digits_store):
    splits, recipe = store_splits(TabularBenchmark.open(full_digits_store))
    assert recipe == RECIPE and len(splits.train_y) == 128 and len(splits.val_y) == 64


def test_a_store_without_a_recipe_is_a_clear_error(tmp_path):
    store = write_store(tmp_path / "imported.h5", make_store_data())
    with pytest.raises(RecipeError, match="records no training recipe"):
        store_splits(TabularBenchmark.open(store))


def test_missing_dataset_files_say_how_to_get_them(tmp_path, monkeypatch):
    import nasbench.train.data as data_module

    monkeypatch.delenv("NASBENCH_CIFAR10", raising=False)
    store = _digits_store(tmp_path / "cifar.h5", n_archs=20, dataset="cifar10")
    with pytest.raises(DatasetError, match=r"built on cifar10.*cifar-10-python\.tar\.gz"):
        store_splits(TabularBenchmark.open(store))
    monkeypatch.delenv("NASBENCH_FASHION_MNIST", raising=False)
    monkeypatch.setattr(data_module, "DEBIAN_FASHION_MNIST", tmp_path / "absent")
    monkeypatch.setattr(data_module, "default_cache_dir", lambda: tmp_path / "absent-cache")
    store = _digits_store(tmp_path / "fmnist.h5", n_archs=20, dataset="fashion_mnist")
    with pytest.raises(DatasetError, match="apt-get install dataset-fashion-mnist"):
        store_splits(TabularBenchmark.open(store))
    assert main(["oneshot", str(store), "--out", str(tmp_path / "o")]) == 2


def test_dataset_files_unlike_the_stores_are_refused(tmp_path):
    info = load_splits("digits", train_size=RECIPE.train_size, val_size=RECIPE.val_size).info
    store = _digits_store(tmp_path / "other.h5", n_archs=20, data={**info, "normalize_mean": [0.123]})
    with pytest.raises(DatasetError, match="not those the store was built on"):
        store_splits(TabularBenchmark.open(store))


def test_cli_runs_methods_and_writes_the_report(full_digits_store, tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["oneshot", str(full_digits_store), "--out", str(out), "--methods", "gdas", "--epochs", "1",
                 "--batch-size", "32", "--seeds", "1", "--rank-sample", "5", "--no-plots"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "Weight-sharing methods" in printed and "gdas" in printed
    assert json.loads((out / "experiment.json").read_text())["oneshot"]["methods"][0]["params"]["epochs"] == 1
    assert (out / "report.md").is_file()


def test_compare_trains_weight_sharing_methods_beside_the_other_strategies(full_digits_store, tmp_path, capsys):
    out = tmp_path / "cmp"
    strategies = "gdas:epochs=1:batch_size=32,random_search"
    code = main(["compare", str(full_digits_store), "--out", str(out), "--strategies", strategies,
                 "--seeds", "2", "--oneshot-seeds", "1", "--no-report"])  # fmt: skip
    assert code == 0
    exp, runs = load_results(out)
    assert exp["oneshot"]["device"] == "cpu"
    assert sorted((t.strategy, t.seed) for t in runs) == [("gdas:batch_size=32:epochs=1", 0), ("random_search", 0),
                                                          ("random_search", 1)]  # fmt: skip
    args = ["compare", str(full_digits_store), "--out", str(tmp_path / "b"), "--strategies", "darts,random_search"]
    assert main([*args, "--budget", "10"]) == 2
    assert "--budget does not apply beside weight-sharing methods" in capsys.readouterr().err


def test_cli_errors_are_one_line(full_digits_store, tmp_path, capsys):
    import torch

    if not torch.cuda.is_available():
        assert main(["oneshot", str(full_digits_store), "--out", str(tmp_path / "g"), "--device", "cuda"]) == 2
        assert "no CUDA device" in capsys.readouterr().err
    assert main(["oneshot", str(full_digits_store), "--out", str(tmp_path / "m"), "--methods", "bogus"]) == 2
    assert "unknown weight-sharing method" in capsys.readouterr().err
    args = ["oneshot", str(full_digits_store), "--out", str(tmp_path / "b"), "--methods", "darts", "--time-budget"]
    assert main([*args, "1e-9", "--seeds", "1", "--baselines", ""]) == 2
    assert "does not fit one supernet epoch" in capsys.readouterr().err


@pytest.mark.slow
def test_same_seed_same_cell_in_a_fresh_process(full_digits_store, tmp_path):
    import subprocess
    import sys

    def run(name: str) -> list[dict]:
        out = tmp_path / name
        methods = "enas:controller_steps=2:controller_aggregate=2:derive_samples=3,gdas"
        args = ["oneshot", str(full_digits_store), "--out", str(out), "--methods", methods, "--epochs", "1"]
        args += ["--batch-size", "32", "--seeds", "1", "--baselines", "", "--rank-sample", "5", "--no-report"]
        code = f"import sys; from nasbench.cli import main; sys.exit(main({args!r}))"
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        return [{k: d[k] for k in ("arch", "extra", "ranking")} for d in read_details(out)]

    assert run("a") == run("b")
