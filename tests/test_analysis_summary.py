"""The comparison analysis on synthetic runs whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.analysis.summary import analyze, pair_between
from nasbench.runner.simulate import Trajectory

OPTIMUM_ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def _config(labels, optimum=0.95, time_unit="evaluation", workers=1):
    return {
        "strategies": [{"label": s, "name": s, "params": {}} for s in labels],
        "seeds": list(range(100)),
        "protocol": {"search_metric": "val_acc", "search_epoch": 12, "score_metric": "test_acc", "score_epoch": 200},
        "budget": {"evaluations": 20, "time_s": None},
        "workers": workers,
        "optimum": {"score": optimum, "arch": OPTIMUM_ARCH} if optimum is not None else None,
        "time_unit": time_unit,
        "benchmark": {"space": "nb201", "dataset": "synthetic"},
    }


def _run(label, seed, finals, evals=20, step=1.0):
    """A run whose incumbent climbs linearly to ``finals`` over ``evals`` results, one every ``step`` s."""
    inc = list(np.linspace(0.5, finals, evals))
    archs = [f"arch{i}" for i in range(evals)]
    return Trajectory(
        strategy=label, seed=seed, trial_id=list(range(evals)), arch=archs, epoch=[12] * evals,
        table_seed=[None] * evals, resume_from=[None] * evals, score=inc, cost_s=[step] * evals,
        finished_s=list(step * np.arange(1, evals + 1)), incumbent=archs, incumbent_score=inc,
        overhead_s=0.002 * evals, wall_s=0.01,
    )  # fmt: skip


def _runs(strategy_finals: dict[str, np.ndarray]) -> list[Trajectory]:
    return [_run(label, seed, f) for label, finals in strategy_finals.items() for seed, f in enumerate(finals)]


def test_dominating_strategy_ranks_first_and_is_significant():
    rng = np.random.default_rng(0)
    base = 0.9 + 0.01 * rng.random(20)  # per-seed difficulty, shared: seeds are paired
    finals = {"random_search": base, "better": base + 0.002 + 0.001 * rng.random(20), "worse": base - 0.003}
    a = analyze(_config(list(finals)), _runs(finals))
    assert [r.label for r in a.table] == ["better", "random_search", "worse"]
    assert a.table[0].avg_rank == 1.0 and a.table[-1].avg_rank == 3.0
    assert a.friedman is not None and a.friedman.pvalue < 1e-6
    assert all(p.p_holm < 0.05 for p in a.pairs)
    assert a.cliques == []  # 20 seeds, perfectly consistent: Nemenyi separates all three
    assert a.conclusion.startswith("better is best")
    assert "its lead over random_search is significant" in a.conclusion
    row = a.table[0]
    assert row.mean == pytest.approx(100 * finals["better"].mean())
    assert row.std == pytest.approx(100 * finals["better"].std(ddof=1))
    assert row.regret == pytest.approx(95.0 - row.mean)
    assert row.evaluations == 20 and row.overhead_ms_per_eval == pytest.approx(2.0)
    # the final rank curve agrees with the Friedman ranks
    assert a.rank_curves["better"].mean[-1] == 1.0 and a.rank_curves["worse"].mean[-1] == 3.0


def test_identical_strategies_are_not_significant():
    finals = np.linspace(0.90, 0.94, 30)
    a = analyze(_config(["a", "b"]), _runs({"a": finals, "b": finals.copy()}))
    assert a.friedman is not None and a.friedman.pvalue == 1.0
    assert a.pairs[0].p_holm == 1.0 and a.pairs[0].ties == 30
    assert a.table[0].avg_rank == a.table[1].avg_rank == 1.5
    assert a.cliques == [(0, 1)]
    assert "not significant" in a.conclusion


def test_single_strategy_is_reported_without_tests():
    a = analyze(_config(["only", "pending"]), _runs({"only": np.full(5, 0.92)}))
    assert [r.label for r in a.table] == ["only"] and a.missing == ["pending"]
    assert a.friedman is None and a.pairs == [] and a.rank_curves == {}
    assert "only strategy" in a.conclusion
    assert any("fewer than 2" in n for n in a.notes)


def test_tests_use_only_seeds_every_strategy_finished():
    runs = _runs({"a": np.full(5, 0.93), "b": np.full(3, 0.91)})
    a = analyze(_config(["a", "b"]), runs)
    assert a.paired_seeds == [0, 1, 2]
    assert a.friedman is not None and a.friedman.n == 3
    assert {r.label: r.runs for r in a.table} == {"a": 5, "b": 3}  # the table uses every run
    assert any("left out of the tests" in n for n in a.notes)
    lead = pair_between(a, "a", "b")
    assert lead is not None and lead.wins == 3 and lead.mean_lead > 0
    back = pair_between(a, "b", "a")
    assert back is not None and back.losses == 3 and back.mean_lead < 0


def test_time_curves_only_when_time_is_not_the_evaluation_count():
    finals = {"a": np.full(3, 0.93), "b": np.full(3, 0.92)}
    assert analyze(_config(list(finals)), _runs(finals)).time_curves is None
    timed = analyze(_config(list(finals), time_unit="s"), _runs(finals))
    assert timed.time_curves is not None
    curve = timed.time_curves["a"]
    assert curve.grid[0] == 1.0 and curve.grid[-1] == 20.0 and np.all(np.diff(np.log(curve.grid)) > 0)
    assert curve.mean[-1] == pytest.approx(0.93)


def test_unknown_optimum_leaves_regret_out():
    finals = {"a": np.full(3, 0.93), "b": np.full(3, 0.92)}
    a = analyze(_config(list(finals), optimum=None), _runs(finals))
    assert a.optimum is None and np.isnan(a.table[0].regret)


def test_time_curve_starts_once_every_run_has_a_result():
    runs = [_run("a", 0, 0.93, step=1.0), _run("a", 1, 0.91, step=5.0), _run("b", 0, 0.9), _run("b", 1, 0.9)]
    a = analyze(_config(["a", "b"], time_unit="s"), runs)
    assert a.time_curves is not None
    curve = a.time_curves["a"]
    early = curve.grid < 5.0
    assert early.any() and np.isnan(curve.mean[early]).all()  # seed 1's first result arrives at 5 s
    assert curve.mean[-1] == pytest.approx((0.93 + 0.91) / 2)


def test_runs_without_any_result_do_not_break_the_analysis():
    empty = Trajectory(strategy="b", seed=2)  # a time budget smaller than any evaluation
    runs = [*_runs({"a": np.full(3, 0.93), "b": np.full(2, 0.92)}), empty]
    a = analyze(_config(["a", "b"], time_unit="s"), runs)
    b = next(r for r in a.table if r.label == "b")
    assert b.runs == 3 and b.mean == pytest.approx(92.0)
    assert any("without any result" in n for n in a.notes)
    assert a.friedman is not None and a.friedman.n == 3  # seed 2: b has no result and ranks last
    assert a.table[0].avg_rank == 1.0
    assert a.time_curves is not None and a.time_curves["b"].mean[-1] == pytest.approx(0.92)
