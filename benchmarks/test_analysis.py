"""Performance of the analysis: 4 strategies x 100 seeds x 150 evaluations (the size of the NB201 comparison),
analyzed (curves, ranks over time, tests) and reported (with and without the five figures)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nasbench.analysis import analyze, write_report
from nasbench.runner.experiment import CONFIG_FILE, RUNS_FILE
from nasbench.runner.simulate import Trajectory

LABELS = ("random_search", "regularized_evolution", "local_search", "reinforce")
SEEDS, EVALS = 100, 150


def _config() -> dict:
    return {
        "strategies": [{"label": s, "name": s, "params": {}} for s in LABELS],
        "seeds": list(range(SEEDS)),
        "protocol": {"search_metric": "val_acc", "search_epoch": 12, "score_metric": "test_acc", "score_epoch": 200},
        "budget": {"evaluations": EVALS, "time_s": None},
        "workers": 1,
        "optimum": {"score": 0.9437, "arch": 0},
        "time_unit": "s",
        "benchmark": {"space": "nb201", "dataset": "cifar10"},
    }


def _runs() -> list[Trajectory]:
    rng = np.random.default_rng(0)
    runs = []
    for j, label in enumerate(LABELS):
        for seed in range(SEEDS):
            inc = np.maximum.accumulate(rng.uniform(0.85, 0.94 + 0.001 * j, EVALS))
            finished = np.cumsum(rng.uniform(100, 2000, EVALS))
            traj = Trajectory(strategy=label, seed=seed, overhead_s=0.01, wall_s=0.01)
            traj.arch, traj.incumbent, traj.epoch = list(range(EVALS)), list(range(EVALS)), [12] * EVALS
            traj.score = traj.incumbent_score = inc.tolist()
            traj.cost_s, traj.finished_s = [1.0] * EVALS, finished.tolist()
            runs.append(traj)
    return runs


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("analysis")
    (out / CONFIG_FILE).write_text(json.dumps(_config()))
    (out / RUNS_FILE).write_text("".join(json.dumps(t.to_dict()) + "\n" for t in _runs()))
    return out


def test_analyze(benchmark):
    config, runs = _config(), _runs()
    analysis = benchmark(analyze, config, runs)
    assert len(analysis.table) == len(LABELS) and analysis.friedman is not None


def test_report_without_figures(benchmark, results):
    _, files = benchmark(write_report, results, plots=False)
    assert files.report.exists()


def test_report_with_figures(benchmark, results):
    _, files = benchmark.pedantic(write_report, args=(results,), rounds=2, iterations=1)
    assert len(files.figures) == 5
