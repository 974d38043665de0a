"""Comparison directories: resume without redoing finished runs, refuse another experiment, parallel = serial."""

from __future__ import annotations

import json

import pytest

from nasbench.errors import UnsafePath
from nasbench.runner.experiment import (
    RUNS_FILE,
    Experiment,
    ResultsError,
    StrategySpec,
    load_results,
    read_runs,
    run_experiment,
)
from nasbench.runner.simulate import Budget, Protocol
from nasbench.strategies import UnknownStrategy


def _experiment(store, seeds=4, strategies=("random_search", "regularized_evolution"), evaluations=30):
    return Experiment(
        store=str(store),
        strategies=tuple(StrategySpec.parse(s) for s in strategies),
        seeds=tuple(range(seeds)),
        protocol=Protocol(search_epoch=9, score_epoch=9),
        budget=Budget(evaluations=evaluations),
    )


def _key(runs):
    return sorted((t.strategy, t.seed, tuple(t.arch)) for t in runs)


def test_runs_every_strategy_and_seed_once(full_store, tmp_path):
    out = run_experiment(_experiment(full_store), tmp_path / "exp", processes=1)
    config, runs = load_results(out)
    assert {(t.strategy, t.seed) for t in runs} == {(s, k) for s in ("random_search", "regularized_evolution")
                                                      for k in range(4)}  # fmt: skip
    assert len(runs) == 8
    assert config["optimum"]["score"] >= max(t.incumbent_score[-1] for t in runs)


def test_parallel_processes_give_the_same_runs(full_store, tmp_path):
    serial = run_experiment(_experiment(full_store), tmp_path / "serial", processes=1)
    parallel = run_experiment(_experiment(full_store), tmp_path / "parallel", processes=2)
    assert _key(read_runs(serial)) == _key(read_runs(parallel))


def test_interrupted_comparison_resumes_without_redoing_finished_runs(full_store, tmp_path):
    out = run_experiment(_experiment(full_store), tmp_path / "exp", processes=1)
    lines = (out / RUNS_FILE).read_text().splitlines()
    # as if killed: three runs finished, the fourth torn mid-line
    (out / RUNS_FILE).write_text("\n".join(lines[:3]) + "\n" + lines[3][: len(lines[3]) // 2])
    kept = {(json.loads(line)["strategy"], json.loads(line)["seed"]): json.loads(line)["wall_s"] for line in lines[:3]}
    run_experiment(_experiment(full_store), out, processes=1)
    runs = read_runs(out)
    assert len(runs) == 8 and len({(t.strategy, t.seed) for t in runs}) == 8
    for t in runs:  # finished runs were not redone: their recorded wall time is the original one
        if (t.strategy, t.seed) in kept:
            assert t.wall_s == kept[(t.strategy, t.seed)]
    assert _key(runs) == _key(read_runs(run_experiment(_experiment(full_store), tmp_path / "fresh", processes=1)))


def test_directory_with_another_experiment_is_refused_unless_overwrite(full_store, tmp_path):
    out = run_experiment(_experiment(full_store), tmp_path / "exp", processes=1)
    before = (out / RUNS_FILE).read_text()
    with pytest.raises(ResultsError, match="another experiment"):
        run_experiment(_experiment(full_store, seeds=5), out, processes=1)
    assert (out / RUNS_FILE).read_text() == before
    run_experiment(_experiment(full_store, seeds=2), out, processes=1, overwrite=True)
    assert len(read_runs(out)) == 4


def test_non_empty_foreign_directory_is_refused(full_store, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UnsafePath, match="not empty"):
        run_experiment(_experiment(full_store), tmp_path, processes=1)
    with pytest.raises(UnsafePath, match="not empty"):
        run_experiment(_experiment(full_store), tmp_path, processes=1, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_damaged_runs_file_is_an_error(full_store, tmp_path):
    out = run_experiment(_experiment(full_store), tmp_path / "exp", processes=1)
    lines = (out / RUNS_FILE).read_text().splitlines()
    lines[1] = "{not json"
    (out / RUNS_FILE).write_text("\n".join(lines) + "\n")
    with pytest.raises(ResultsError, match="line 2"):
        load_results(out)


def test_missing_config_is_an_error(tmp_path):
    with pytest.raises(ResultsError, match=r"experiment\.json"):
        load_results(tmp_path)


def test_strategy_spec_parsing():
    spec = StrategySpec.parse("regularized_evolution:population_size=20:sample_size=5")
    assert spec.params == {"population_size": 20, "sample_size": 5}
    assert spec.label == "regularized_evolution:population_size=20:sample_size=5"
    with pytest.raises(UnknownStrategy):
        StrategySpec.parse("evolution")
    with pytest.raises(ResultsError, match="key=value"):
        StrategySpec.parse("regularized_evolution:20")


@pytest.mark.ray
def test_ray_backend_gives_the_same_runs(full_store, tmp_path):
    ray = pytest.importorskip("ray", reason="ray is optional: pip install 'nasbench[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        out = run_experiment(_experiment(full_store), tmp_path / "ray", backend="ray")
    finally:
        ray.shutdown()
    serial = run_experiment(_experiment(full_store), tmp_path / "serial", processes=1)
    assert _key(read_runs(out)) == _key(read_runs(serial))


def _tnb_macro_store(path):
    """A small single-epoch store of the tnb_macro space (which has no notion of "simpler": no PNAS)."""
    import numpy as np

    from nasbench.spaces import get_space
    from nasbench.store import StoreData, write_store

    archs = np.asarray(get_space("tnb_macro").all_archs()[:50])
    values = np.linspace(0.3, 0.6, 50, dtype=np.float32).reshape(50, 1, 1)
    data = StoreData(space="tnb_macro", dataset="synthetic", protocol={}, seeds=(None,), epochs=(25,), archs=archs,
                     metrics={"val_acc": values}, defaults={"score_metric": "val_acc"})  # fmt: skip
    write_store(path, data)
    return path


@pytest.mark.parametrize(
    ("strategy", "error", "match"),
    [
        ("pnas", "MissingCapability", "strategy 'pnas' needs a search space with the 'progressive' capability"),
        ("hyperband", "InvalidQuery", "'hyperband' is multi-fidelity: it needs a store with several epochs"),
    ],
)
def test_a_strategy_the_store_cannot_serve_is_refused_before_any_run(tmp_path, strategy, error, match):
    import nasbench.errors

    store = _tnb_macro_store(tmp_path / "tnb.h5")
    experiment = Experiment(
        store=str(store),
        strategies=(StrategySpec.parse("random_search"), StrategySpec.parse(strategy)),
        seeds=(0,),
        protocol=Protocol(),
        budget=Budget(evaluations=5),
    )
    with pytest.raises(getattr(nasbench.errors, error), match=match):
        run_experiment(experiment, tmp_path / "out", processes=1)
    assert not (tmp_path / "out").exists()  # nothing written
