"""Objectives and constraints: parsing, refusals, the runner's incumbent set and hypervolume, the report's fronts."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from nasbench import TabularBenchmark
from nasbench.analysis.fronts import attainment, final_front
from nasbench.analysis.pareto import hypervolume, non_dominated
from nasbench.errors import InvalidQuery, UnknownMetric
from nasbench.runner.experiment import Experiment, run_experiment, runs_frame
from nasbench.runner.objectives import Constraint, Objective
from nasbench.runner.simulate import Budget, Protocol, objectives_of, run_search
from nasbench.strategies.base import Proposal, Strategy

MO = Protocol(objectives=("params_m",), noise="mean")


@pytest.fixture(scope="module")
def full(full_store):
    return TabularBenchmark.open(full_store)


def test_objective_directions_come_from_the_name_or_are_given():
    assert Objective.parse("edgegpu_latency_ms") == Objective("edgegpu_latency_ms", "min")
    assert Objective.parse("params_m:min") == Objective("params_m", "min")
    assert Objective.parse("params_m") == Objective("params_m", "min")  # a cost's name implies it
    assert Objective.parse("throughput:max").direction == "max"
    with pytest.raises(InvalidQuery, match="throughput:min or throughput:max"):
        Objective.parse("throughput")
    with pytest.raises(InvalidQuery, match="has no direction"):
        Objective.parse("params_m:up")


@pytest.mark.parametrize("text", ["params_m<1", "params_m<=abc", "<=3", "params_m<=nan", ""])
def test_a_malformed_constraint_says_what_a_constraint_is(text):
    with pytest.raises(InvalidQuery, match="NAME<=NUMBER"):
        Constraint.parse(text)


def test_constraint_violation_is_relative_and_zero_when_met():
    c = Constraint.parse("params_m<=0.5")
    assert c.violation(np.array([0.4, 0.5, 0.75])).tolist() == [0.0, 0.0, 0.5]
    assert Constraint.parse("x>=2").violation(np.array([1.0, 3.0])).tolist() == [0.5, 0.0]


@pytest.mark.parametrize(
    ("protocol", "error", "match"),
    [
        (Protocol(objectives=("latency_ms",)), UnknownMetric, "this store holds: params_m"),
        (Protocol(objectives=("val_loss",)), InvalidQuery, "trained metric"),
        (Protocol(constraints=("flops_m<=3",)), UnknownMetric, "flops_m"),
        (Protocol(objectives=("params_m:min", "params_m:min")), InvalidQuery, "repeat"),
    ],
)
def test_bad_objectives_are_refused_when_the_protocol_is_resolved(full, protocol, error, match):
    with pytest.raises(error, match=match):
        protocol.resolved(full)


def test_the_optimum_is_the_hypervolume_of_the_tables_true_front(full):
    goals = objectives_of(full, MO.resolved(full))
    scored = np.column_stack([full.table("test_acc", epoch=full.epochs[-1]), full.static("params_m")])
    true = scored[non_dominated(scored, ["max", "min"])]
    assert goals.describe()["true_front_size"] == len(goals.true_front) == len(np.unique(true, axis=0))
    span = goals.nadir - goals.ideal
    expected = hypervolume((true - goals.ideal) / span, [1.0, 1.0], ["min", "min"])
    assert goals.hypervolume(goals.true_front) == pytest.approx(expected)
    assert 0 < expected < 1


def test_a_multi_objective_run_scores_its_non_dominated_feasible_set_by_hypervolume(full):
    protocol = Protocol(objectives=("params_m",), constraints=("params_m<=0.9",), noise="mean")
    goals = objectives_of(full, protocol.resolved(full))
    run = run_search(full, "random_search", protocol=protocol, budget=Budget(60), seed=3)
    assert len(run.costs) == len(run.violation) == len(run.scored) == 60
    for t in (5, 30, 59):  # recompute the incumbent set of the first t+1 trials by brute force
        ok = [i for i in range(t + 1) if run.violation[i] == 0]
        search = np.array([[run.score[i], run.costs[i][0]] for i in ok])
        members = [ok[j] for j in np.flatnonzero(non_dominated(search, ["max", "min"]))]
        points = np.array([[run.scored[i], run.costs[i][0]] for i in members])
        assert run.incumbent_score[t] == pytest.approx(goals.hypervolume(points))
    assert all(v == 0 for v, c in zip(run.violation, run.costs, strict=True) if c[0] <= 0.9)
    again = run_search(full, "random_search", protocol=protocol, budget=Budget(60), seed=3)
    assert again.incumbent_score == run.incumbent_score


class _Recorder(Strategy):
    """Proposes uniformly at random and keeps every feedback it is told."""

    name = "recorder"

    def _setup(self) -> None:
        self.told: list = []

    def ask(self) -> Proposal:
        return Proposal(self.space.sample(self.rng))

    def tell(self, trial, feedback) -> None:
        super().tell(trial, feedback)
        self.told.append((trial.arch, feedback))


def test_infeasible_trials_are_told_as_such_and_never_become_the_incumbent(full):
    protocol = Protocol(constraints=("params_m<=0.6",), noise="mean")
    strategy = _Recorder()
    run = run_search(full, strategy, protocol=protocol, budget=Budget(80), seed=0)
    feasible = [fb for _, fb in strategy.told if fb.feasible]
    infeasible = [fb for _, fb in strategy.told if not fb.feasible]
    assert feasible and infeasible
    assert max(fb.score for fb in infeasible) < full.table("val_acc", epoch=full.epochs[-1]).min()
    assert all(fb.objectives and fb.objectives[0] > 0 for fb in infeasible)  # the true score is still told
    best = full.space.to_str(strategy.recommend())
    assert run.incumbent[-1] == best and run.violation[run.arch.index(best)] == 0
    params = dict(zip(map(full.space.to_str, full.archs()), full.static("params_m"), strict=True))
    assert all(params[a] <= 0.6 for a in run.incumbent if a)


def test_the_final_front_and_attainment_of_recorded_runs(full):
    run = run_search(full, "random_search", protocol=MO, budget=Budget(40), seed=1)
    front = final_front(run, [Objective("params_m", "min")], "max")
    assert len(front) and non_dominated(front, ["max", "min"]).all()
    goals = objectives_of(full, MO.resolved(full))
    assert goals.hypervolume(front) == pytest.approx(run.incumbent_score[-1])
    fronts = [np.array([[0.9, 2.0], [0.5, 1.0]]), np.array([[0.8, 1.5]])]
    grid = np.array([0.5, 1.0, 1.5, 2.0])
    assert np.array_equal(attainment(fronts, grid, 1.0, ["max", "min"]), [np.nan, np.nan, 0.5, 0.8], equal_nan=True)
    assert np.array_equal(attainment(fronts, grid, 0.5, ["max", "min"]), [np.nan, 0.5, 0.8, 0.9], equal_nan=True)


def test_a_multi_objective_comparison_reports_hypervolume_fronts_and_igd(full_store, tmp_path):
    from nasbench.analysis.report import write_report

    experiment = Experiment(str(full_store), ("random_search", "regularized_evolution"), range(4), MO, Budget(40))
    out = run_experiment(experiment, tmp_path / "mo", processes=1)
    analysis, files = write_report(out)
    assert analysis.score.metric == "hypervolume" and analysis.optimum is not None
    assert all(0 < r.mean <= analysis.optimum + 1e-12 for r in analysis.table)
    text = files.report.read_text()
    assert "## Objectives and constraints" in text and "IGD to the true front" in text
    assert "pareto_fronts" in files.figures
    summary = json.loads(files.summary.read_text())
    assert summary["score"]["metric"] == "hypervolume"
    frame = runs_frame(out)
    bench = TabularBenchmark.open(full_store)
    params = dict(zip(map(bench.space.to_str, bench.archs()), bench.static("params_m"), strict=True))
    assert np.allclose(frame["params_m"], frame["arch"].map(params)) and (frame["violation"] == 0).all()


def test_the_cli_refuses_a_cost_the_store_lacks_before_writing_anything(full_store, tmp_path):
    out = tmp_path / "never"
    result = subprocess.run(
        [sys.executable, "-m", "nasbench", "compare", str(full_store), "--out", str(out), "--seeds", "2",
         "--objective", "edgegpu_latency_ms"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0
    assert "edgegpu_latency_ms" in result.stderr and "params_m" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_a_constrained_comparison_reports_the_feasible_share(full_store, tmp_path):
    from nasbench.analysis.report import write_report

    protocol = Protocol(constraints=("params_m<=0.6",), noise="mean")
    experiment = Experiment(str(full_store), ("random_search", "local_search"), range(3), protocol, Budget(30))
    analysis, files = write_report(run_experiment(experiment, tmp_path / "c", processes=1))
    assert analysis.score.metric == "test_acc" and analysis.fronts is not None and not analysis.fronts.multi
    assert 0 < analysis.fronts.feasible_share["random_search"] < 1
    text = files.report.read_text()
    assert "the incumbent is the best feasible arch" in text and "`params_m<=0.6`" in text
    assert "pareto_fronts" not in files.figures


def test_objectives_on_a_store_answered_by_a_surrogate_are_refused_before_any_folder(small_store, tmp_path):
    experiment = Experiment(str(small_store), ("random_search",), range(2), Protocol(objectives=("params_m",)))
    with pytest.raises(InvalidQuery, match="surrogate"):
        run_experiment(experiment, tmp_path / "never")
    assert not (tmp_path / "never").exists()
