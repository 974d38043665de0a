"""The comparison analysis and report are oriented by the score metric's direction and shown in its units: a loss
("min") ranks its lowest strategy first with the smallest regret; an accuracy keeps its percent report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from nasbench.analysis import plots
from nasbench.analysis.report import draw_figures, format_table, render_markdown, summary_dict
from nasbench.analysis.summary import analyze, pair_between
from nasbench.runner.experiment import ResultsError
from nasbench.runner.simulate import Trajectory

EVALS = 20
OPTIMUM_ARCH = "arch-best"


def _config(score_metric, optimum, directions=None, search_metric=None):
    labels = ("random_search", "lowest", "highest")
    config = {
        "strategies": [{"label": s, "name": s, "params": {}} for s in labels],
        "seeds": list(range(12)),
        "protocol": {
            "search_metric": search_metric or score_metric,
            "search_epoch": 12,
            "score_metric": score_metric,
            "score_epoch": 200,
            "noise": "mean",
        },
        "budget": {"evaluations": EVALS, "time_s": None},
        "workers": 1,
        "optimum": {"score": optimum, "arch": OPTIMUM_ARCH},
        "time_unit": "s",
        "benchmark": {"space": "toy", "dataset": "synthetic"},
    }
    if directions is not None:
        config["directions"] = directions
    return config


def _run(label, seed, start, final):
    """A run whose incumbent moves linearly from ``start`` to ``final`` (up for accuracy, down for a loss)."""
    inc = list(np.linspace(start, final, EVALS))
    archs = [f"arch-{label}-{i}" for i in range(EVALS)]
    return Trajectory(
        strategy=label, seed=seed, trial_id=list(range(EVALS)), arch=archs, epoch=[12] * EVALS,
        table_seed=[None] * EVALS, resume_from=[None] * EVALS, score=inc, cost_s=[10.0] * EVALS,
        finished_s=list(10.0 * np.arange(1, EVALS + 1)), incumbent=archs, incumbent_score=inc,
        overhead_s=0.001, wall_s=0.01,
    )  # fmt: skip


def _runs(finals, start):
    return [_run(label, seed, start, f) for label, values in finals.items() for seed, f in enumerate(values)]


def _loss_finals():
    """Per-seed losses with a shared difficulty (seeds are paired): ``lowest`` is always lowest."""
    rng = np.random.default_rng(3)
    base = 0.02 + 0.005 * rng.random(12)
    return {"random_search": base + 0.002, "lowest": base, "highest": base + 0.004 + 0.001 * rng.random(12)}


@pytest.fixture
def loss_analysis():
    config = _config("val_l2_loss", optimum=0.015, directions={"val_l2_loss": "min"})
    return analyze(config, _runs(_loss_finals(), start=0.5))


def test_min_metric_ranks_the_lowest_loss_first_with_the_smallest_regret(loss_analysis):
    a, finals = loss_analysis, _loss_finals()
    assert [r.label for r in a.table] == ["lowest", "random_search", "highest"]
    assert a.table[0].avg_rank == 1.0 and a.table[-1].avg_rank == 3.0
    np.testing.assert_allclose(a.friedman.avg_ranks, [2.0, 1.0, 3.0])  # config order
    assert a.rank_curves["lowest"].mean[-1] == 1.0 and a.rank_curves["highest"].mean[-1] == 3.0
    # Shown in the metric's own units, regret = score - optimum >= 0, smallest for the best.
    assert a.unit == "val_l2_loss" and a.score.direction == "min"
    best = a.table[0]
    assert best.mean == pytest.approx(finals["lowest"].mean())
    assert best.std == pytest.approx(finals["lowest"].std(ddof=1))
    assert best.regret == pytest.approx(finals["lowest"].mean() - 0.015)
    regrets = [r.regret for r in a.table]
    assert min(regrets) > 0 and regrets == sorted(regrets)


def test_min_metric_tests_and_conclusion_favour_the_lowest_loss(loss_analysis):
    a = loss_analysis
    lead = pair_between(a, "lowest", "random_search")
    assert lead is not None and lead.wins == 12 and lead.losses == 0
    assert lead.mean_lead == pytest.approx(0.002)  # positive = better: lowest is 0.002 below
    assert all(p.p_holm < 0.05 for p in a.pairs)
    assert a.conclusion.startswith("lowest is best (")
    assert "val_l2_loss over 12 seeds" in a.conclusion and "%" not in a.conclusion
    assert "its lead over random_search is significant" in a.conclusion


def test_min_metric_report_names_the_metric_and_shows_no_percent(loss_analysis, tmp_path):
    a = loss_analysis
    text = format_table(a)
    head = text.splitlines()[0]
    assert "mean ± std (val_l2_loss)" in head and "regret (val_l2_loss)" in head and "%" not in head
    assert text.splitlines()[2].split()[1] == "lowest"
    md = render_markdown(a, {})
    assert "regret = score - optimum" in md and "(lower is better)" in md
    assert f"(`{OPTIMUM_ARCH}`)" in md  # the optimum's official string, as the config holds it
    assert "lowest vs random_search" in md and "mean lead (val_l2_loss)" in md
    table = md.split("## Final incumbent score")[1].split("## Curves")[0]
    assert "%" not in table and "(pp)" not in table
    summary = json.loads(json.dumps(summary_dict(a, {})))
    assert summary["score"] == {
        "metric": "val_l2_loss",
        "direction": "min",
        "unit": "val_l2_loss",
        "diff_unit": "val_l2_loss",
    }
    assert summary["table"][0]["label"] == "lowest"
    assert summary["table"][0]["regret"] == pytest.approx(a.table[0].regret)
    first = next(p for p in summary["wilcoxon_holm"] if {p["a"], p["b"]} == {"lowest", "random_search"})
    assert first["mean_lead"] * (1 if first["a"] == "lowest" else -1) == pytest.approx(0.002)


def test_min_metric_regret_plot_is_positive_on_its_log_axis(loss_analysis, tmp_path, monkeypatch):
    drawn = {}
    real_save = plots._save

    def keep(fig, path):
        drawn[Path(path).stem] = fig.axes[0]
        return real_save(fig, path)

    monkeypatch.setattr(plots, "_save", keep)
    figures = draw_figures(loss_analysis, tmp_path)
    assert {"score_vs_evaluations", "regret_vs_evaluations", "regret_vs_time", "rank_vs_evaluations"} <= set(figures)
    ax = drawn["regret_vs_evaluations"]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "regret (val_l2_loss, log)"
    assert "incumbent score - optimum" in ax.get_title()
    for line in ax.get_lines():
        y = np.asarray(line.get_ydata(), dtype=float)
        assert np.isfinite(y).all() and (y > 0).all()  # nothing dropped from the log axis
        assert y[-1] < y[0]  # the regret of a falling loss falls
    score_ax = drawn["score_vs_evaluations"]
    assert "%" not in score_ax.get_ylabel() and "val_l2_loss" in score_ax.get_ylabel()
    lo, hi = score_ax.get_ylim()
    final_losses = [line.get_ydata()[-1] for line in score_ax.get_lines()]
    assert lo <= min(final_losses) and max(final_losses) <= hi  # the best (lowest) values stay in view


def test_max_metric_in_own_units_keeps_higher_is_better():
    loss = _loss_finals()  # an SSIM-like score, 1 - loss: "highest" gets the lowest loss and is best
    finals = {"random_search": 1 - loss["random_search"], "lowest": 1 - loss["highest"], "highest": 1 - loss["lowest"]}
    a = analyze(_config("val_ssim", optimum=0.99, directions={"val_ssim": "max"}), _runs(finals, start=0.5))
    assert [r.label for r in a.table] == ["highest", "random_search", "lowest"]
    assert a.unit == "val_ssim" and a.table[0].mean == pytest.approx(finals["highest"].mean())
    assert a.table[0].regret == pytest.approx(0.99 - finals["highest"].mean())
    assert "mean ± std (val_ssim)" in format_table(a)


def _acc_finals():
    rng = np.random.default_rng(0)
    base = 0.9 + 0.01 * rng.random(12)
    return {"random_search": base, "lowest": base - 0.003, "highest": base + 0.002 + 0.001 * rng.random(12)}


def test_accuracy_report_is_unchanged_in_percent_with_or_without_directions():
    runs = _runs(_acc_finals(), start=0.5)
    legacy = _config("test_acc", optimum=0.95, search_metric="val_acc")  # written before directions existed
    legacy["optimum"]["arch"] = 1234  # and before official strings: an NB201 index
    new = _config("test_acc", 0.95, directions={"val_acc": "max", "test_acc": "max"}, search_metric="val_acc")
    a, b = analyze(legacy, runs), analyze(new, runs)
    assert a.table == b.table and a.conclusion == b.conclusion
    assert a.unit == "%" and a.score.diff_unit == "pp"
    best = a.table[0]
    assert best.label == "highest" and best.mean == pytest.approx(100 * _acc_finals()["highest"].mean())
    assert best.regret == pytest.approx(95.0 - best.mean)
    assert re.match(r"highest is best \(\d+\.\d\d ± \d\.\d\d % over 12 seeds\)", a.conclusion)
    head = format_table(a).splitlines()[0].split("  ")
    assert [h.strip() for h in head if h.strip()][:6] == [
        "#",
        "strategy",
        "runs",
        "mean ± std (%)",
        "median (%)",
        "regret (pp)",
    ]
    md = render_markdown(a, {})
    assert "- optimum of the benchmark: 95.00 % (`1234`); regret = optimum - score" in md
    assert "mean lead (pp)" in md
    lead = pair_between(a, "highest", "lowest")
    assert lead is not None and lead.mean_lead > 0 and lead.wins == 12


def test_an_unknown_direction_is_refused_with_the_allowed_ones():
    config = _config("val_l2_loss", optimum=0.015, directions={"val_l2_loss": "down"})
    with pytest.raises(ResultsError, match=r"'down'.*allowed: 'max' or 'min'"):
        analyze(config, _runs(_loss_finals(), start=0.5))
