"""`nasbench report` end to end: a tiny comparison run for real, then its report, figures and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nasbench.analysis.report import write_report
from nasbench.cli import main
from nasbench.runner.experiment import CONFIG_FILE, RUNS_FILE, Experiment, StrategySpec, run_experiment
from nasbench.runner.simulate import Budget, Protocol

STRATEGIES = ("random_search", "regularized_evolution:population_size=5:sample_size=2", "local_search")


def _compare(store: Path, out: Path, budget: Budget, seeds: int = 4) -> Path:
    experiment = Experiment(
        store=str(store),
        strategies=tuple(StrategySpec.parse(s) for s in STRATEGIES),
        seeds=tuple(range(seeds)),
        protocol=Protocol(search_epoch=4, score_epoch=9),
        budget=budget,
    )
    return run_experiment(experiment, out, processes=1)


@pytest.fixture(scope="module")
def results(full_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _compare(full_store, tmp_path_factory.mktemp("cmp") / "exp", Budget(evaluations=25))


def test_report_prints_the_table_and_writes_report_summary_and_figures(results, capsys):
    assert main(["report", str(results)]) == 0
    out = capsys.readouterr().out
    labels = [StrategySpec.parse(s).label for s in STRATEGIES]
    table = out.split("\n\n")[0]
    assert all(label in table for label in labels)
    assert " is best (" in out
    summary = json.loads((results / "summary.json").read_text())
    assert sorted(r["label"] for r in summary["table"]) == sorted(labels)
    assert [r["place"] for r in summary["table"]] == [1, 2, 3]
    means = [r["mean"] for r in summary["table"]]
    assert means == sorted(means, reverse=True)
    assert summary["friedman"]["seeds"] == 4 and len(summary["wilcoxon_holm"]) == 3
    report = (results / "report.md").read_text()
    assert all(f"| {label} |" in report for label in labels)
    for name in (
        "score_vs_evaluations",
        "regret_vs_evaluations",
        "regret_vs_time",
        "rank_vs_evaluations",
        "cd_diagram",
    ):
        png = results / f"{name}.png"
        assert f"]({name}.png)" in report
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(results.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_no_plots_writes_no_figures_and_references_none(full_store, tmp_path):
    out = _compare(full_store, tmp_path / "exp", Budget(evaluations=8), seeds=2)
    analysis, files = write_report(out, plots=False)
    assert files.figures == {} and not list(out.glob("*.png"))
    assert ".png" not in files.report.read_text()
    assert len(analysis.table) == 3


def test_time_budget_report(full_store, tmp_path):
    out = _compare(full_store, tmp_path / "exp", Budget(time_s=600.0), seeds=2)
    analysis, _ = write_report(out, plots=False)
    assert analysis.time_curves is not None
    assert analysis.time_curves[analysis.labels[0]].grid[-1] == pytest.approx(600.0)


def _error(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    return err


def test_errors_are_one_line(results, tmp_path, capsys):
    assert "holds no experiment.json" in _error(["report", str(tmp_path)], capsys)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / CONFIG_FILE).write_text((results / CONFIG_FILE).read_text())
    (empty / RUNS_FILE).write_text("")
    assert "no finished runs" in _error(["report", str(empty)], capsys)
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / CONFIG_FILE).write_text((results / CONFIG_FILE).read_text())
    lines = (results / RUNS_FILE).read_text().splitlines()
    (damaged / RUNS_FILE).write_text(lines[0] + "\n{not json\n" + lines[1] + "\n")
    assert "line 2 is damaged" in _error(["report", str(damaged)], capsys)
    assert not (damaged / "report.md").exists()
