"""optuna's samplers and syne-tune's searchers run as nasbench strategies, in the same comparison and report as
the built-in ones."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from nasbench import TabularBenchmark
from nasbench.cli import main
from nasbench.runner.simulate import Budget, Protocol, run_search
from nasbench.strategies import make_strategy

pytest.importorskip("optuna", reason="the adapters are an optional extra: pip install 'nasbench[optuna]'")


def test_optuna_and_builtin_strategies_share_one_report(full_store, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", str(full_store), "--out", str(out), "--seeds", "3", "--budget", "30", "--processes", "2",
                 "--strategies", "optuna_tpe,optuna_nsga2:population_size=10,random_search"]) == 0  # fmt: skip
    report = (out / "report.md").read_text()
    assert all(label in report for label in ("optuna_tpe", "optuna_nsga2:population_size=10", "random_search"))


def test_tpe_learns_on_the_table(full_store):
    """On the synthetic table (accuracy grows with the number of conv edges) TPE beats random sampling."""
    bench = TabularBenchmark.open(full_store)

    def mean_final(name):
        runs = [run_search(bench, name, protocol=Protocol(noise="mean"), budget=Budget(evaluations=40), seed=s)
                for s in range(8)]  # fmt: skip
        return sum(r.incumbent_score[-1] for r in runs) / len(runs)

    assert mean_final("optuna_tpe") > mean_final("optuna_random")


def test_without_optuna_the_error_says_how_to_install_it(full_store, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # as if it were not installed
    bench = TabularBenchmark.open(full_store)
    with pytest.raises(ImportError, match=r"pip install 'nasbench\[optuna\]'"):
        run_search(bench, make_strategy("optuna_tpe"), protocol=Protocol(), budget=Budget(evaluations=2), seed=0)


@pytest.fixture
def synetune():
    return pytest.importorskip("syne_tune", reason="an optional extra: pip install 'nasbench[synetune]'")


def test_syne_tune_runs_are_reproducible_and_leave_the_global_generators_alone(full_store, synetune):
    bench = TabularBenchmark.open(full_store)
    np.random.seed(7)
    expected = np.random.random()
    np.random.seed(7)
    runs = [run_search(bench, "synetune_rea:population_size=10:sample_size=3", protocol=Protocol(),
                       budget=Budget(evaluations=30), seed=3) for _ in range(2)]  # fmt: skip
    assert runs[0].arch == runs[1].arch and runs[0].score == runs[1].score
    assert np.random.random() == expected  # syne-tune drew from the strategy's own generator states


def test_syne_tune_and_optuna_share_one_report(full_store, tmp_path, synetune):
    out = tmp_path / "cmp"
    assert main(["compare", str(full_store), "--out", str(out), "--seeds", "3", "--budget", "20", "--processes", "1",
                 "--strategies", "synetune_random,synetune_tpe,optuna_random"]) == 0  # fmt: skip
    report = (out / "report.md").read_text()
    assert all(label in report for label in ("synetune_random", "synetune_tpe", "optuna_random"))


def test_without_syne_tune_the_error_says_how_to_install_it(full_store, monkeypatch):
    monkeypatch.setitem(sys.modules, "syne_tune", None)
    monkeypatch.setitem(sys.modules, "syne_tune.optimizer.baselines", None)
    bench = TabularBenchmark.open(full_store)
    with pytest.raises(ImportError, match=r"pip install 'nasbench\[synetune\]'"):
        run_search(bench, "synetune_random", protocol=Protocol(), budget=Budget(evaluations=2), seed=0)
