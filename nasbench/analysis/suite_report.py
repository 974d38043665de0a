"""The report of a suite: a table per benchmark, and the strategies ranked across the benchmarks.

Across benchmarks the unit of evidence is a benchmark, as in Demšar (2006), where data sets play that part: each
strategy's mean final score per benchmark is ranked within the benchmark (1 = best, ties share their average
rank), the ranks are averaged, and Friedman's test with Nemenyi's critical difference says which differences the
benchmarks support. Wins/ties/losses against random search count, per benchmark, a Holm-adjusted Wilcoxon test
over that benchmark's paired seeds at alpha. The normalised regret curve of a benchmark divides each strategy's
regret by random search's final regret there (1 = random search's final answer, 0 = the optimum), over the
fraction of the budget spent, and is averaged over the benchmarks that know their optimum.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench import owned
from nasbench.analysis.report import load_analysis
from nasbench.analysis.stats import cd_cliques, friedman, nemenyi_critical_difference, rank_rows
from nasbench.analysis.summary import ALPHA, Analysis, format_p, pair_between
from nasbench.atomic import atomic_write_text

REPORT_FILE = "report.md"
SUMMARY_FILE = "suite.json"
BASELINE = "random_search"


@dataclass
class SuiteAnalysis:
    names: list[str]  # benchmarks
    labels: list[str]  # strategies
    analyses: dict[str, Analysis]
    scores: np.ndarray  # (benchmarks, strategies) mean final score, oriented: higher is better
    avg_ranks: np.ndarray
    friedman_statistic: float
    friedman_p: float
    critical_difference: float
    cliques: list[tuple[int, int]]
    versus_baseline: dict[str, tuple[int, int, int]]  # label -> wins, ties, losses against random search
    regret_grid: np.ndarray  # fraction of the budget
    regret_curves: dict[str, np.ndarray]  # label -> mean normalised regret over benchmarks


def analyse_suite(out: Path, names: list[str], alpha: float = ALPHA) -> SuiteAnalysis:
    analyses = {name: load_analysis(out / name, alpha) for name in names}
    labels = list(analyses[names[0]].labels)
    scores = np.full((len(names), len(labels)), np.nan)
    for i, name in enumerate(names):
        a = analyses[name]
        by_label = {r.label: r for r in a.table}
        for j, label in enumerate(labels):
            if label in by_label:
                scores[i, j] = a.score.sign * by_label[label].mean
    complete = ~np.isnan(scores).any(axis=1)
    ranks = rank_rows(scores[complete], "max") if complete.any() else np.full((0, len(labels)), np.nan)
    avg = ranks.mean(axis=0) if len(ranks) else np.full(len(labels), np.nan)
    if complete.sum() >= 2 and len(labels) >= 2:
        fr = friedman(scores[complete], "max")
        statistic, p = fr.statistic, fr.pvalue
        cd = nemenyi_critical_difference(len(labels), int(complete.sum()), alpha)
        cliques = cd_cliques(avg, cd)
    else:
        statistic, p, cd, cliques = math.nan, math.nan, math.nan, []
    versus = {}
    if BASELINE in labels:
        for label in labels:
            if label == BASELINE:
                continue
            w = t = lo = 0
            for name in names:
                pair = pair_between(analyses[name], label, BASELINE)
                if pair is None or pair.p_holm >= alpha:
                    t += 1
                elif pair.mean_lead > 0:
                    w += 1
                else:
                    lo += 1
            versus[label] = (w, t, lo)
    grid = np.linspace(0.0, 1.0, 51)[1:]
    curves = _normalised_regret(analyses, labels, grid)
    return SuiteAnalysis(names, labels, analyses, scores, avg, statistic, p, cd, cliques, versus, grid, curves)


def _normalised_regret(analyses: dict[str, Analysis], labels: list[str], grid: np.ndarray) -> dict[str, np.ndarray]:
    per_label: dict[str, list[np.ndarray]] = {label: [] for label in labels}
    for a in analyses.values():
        if a.optimum is None or BASELINE not in a.eval_curves:
            continue
        sign = a.score.sign
        base = a.eval_curves[BASELINE]
        scale = sign * (a.optimum - base.mean[-1])
        if not scale > 0:
            continue
        for label in labels:
            curve = a.eval_curves.get(label)
            if curve is None:
                continue
            at = np.interp(grid * curve.grid[-1], curve.grid, curve.mean)
            per_label[label].append(sign * (a.optimum - at) / scale)
    return {label: np.mean(v, axis=0) for label, v in per_label.items() if v}


def write_suite_report(out: Path, names: list[str], alpha: float = ALPHA) -> tuple[SuiteAnalysis, Path]:
    sa = analyse_suite(out, names, alpha)
    figures = _figures(sa, out)
    atomic_write_text(out / REPORT_FILE, render(sa, figures, alpha))
    atomic_write_text(out / SUMMARY_FILE, json.dumps(_summary(sa, alpha), indent=2, allow_nan=False) + "\n")
    owned.record(out, REPORT_FILE, SUMMARY_FILE, *(p.name for p in figures.values()))
    return sa, out / REPORT_FILE


def _figures(sa: SuiteAnalysis, out: Path) -> dict[str, Path]:
    from nasbench.analysis import plots

    figs: dict[str, Path] = {}
    if not math.isnan(sa.critical_difference):
        figs["cd"] = plots.plot_cd_diagram(
            sa.labels, list(sa.avg_ranks), sa.critical_difference, sa.cliques, out / "suite_cd_diagram.png",
            title=f"Average rank over {len(sa.names)} benchmarks; Nemenyi CD at alpha={ALPHA}",
        )  # fmt: skip
    if sa.regret_curves:
        figs["regret"] = plots.plot_lines(
            sa.regret_grid, sa.regret_curves, out / "suite_regret.png",
            xlabel="fraction of the budget", ylabel="regret / random search's final regret",
            title="Normalised regret, mean over benchmarks", palette=plots.colors(sa.labels),
        )  # fmt: skip
    return figs


def _num(x: float, digits: int = 2) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def render(sa: SuiteAnalysis, figures: dict[str, Path], alpha: float) -> str:
    lines = [f"# Strategy suite: {len(sa.labels)} strategies on {len(sa.names)} benchmarks", ""]
    order = np.argsort(sa.avg_ranks, kind="stable")
    best = sa.labels[int(order[0])] if len(order) else "?"
    verdict = (
        f"Friedman over benchmarks: χ² = {sa.friedman_statistic:.2f}, p = {format_p(sa.friedman_p)}"
        if not math.isnan(sa.friedman_p)
        else "Friedman's test needs at least two benchmarks"
    )
    lines += [
        f"**Conclusion:** {best} has the best average rank ({_num(float(sa.avg_ranks[order[0]]))}); {verdict}.",
        "",
    ]
    lines += ["## Across benchmarks", "", "| # | strategy | average rank | wins/ties/losses vs random search |",
              "| ---: | :--- | ---: | ---: |"]  # fmt: skip
    for place, j in enumerate(order, start=1):
        label = sa.labels[int(j)]
        wtl = sa.versus_baseline.get(label)
        lines.append(
            f"| {place} | {label} | {_num(float(sa.avg_ranks[j]))} | {'/'.join(map(str, wtl)) if wtl else '–'} |"
        )
    lines += [""]
    if not math.isnan(sa.critical_difference):
        groups = [", ".join(sa.labels[int(order[i])] for i in range(s, e + 1)) for s, e in sa.cliques]
        lines += [
            f"Nemenyi critical difference (α = {alpha}): {sa.critical_difference:.3f} in average rank. "
            + ("Groups not told apart: " + "; ".join(f"{{{g}}}" for g in groups) + "." if groups else
               "Every pair is told apart."),
            "",
        ]  # fmt: skip
    lines += [
        "Ranks are of each strategy's mean final score within each benchmark (the benchmarks are the samples, as in "
        "Demšar 2006); a win or loss against random search is a Holm-adjusted Wilcoxon test over that benchmark's "
        f"paired seeds at α = {alpha}.",
        "",
    ]
    if "cd" in figures:
        lines += [f"![critical difference diagram]({figures['cd'].name})", ""]
    if "regret" in figures:
        lines += [f"![normalised regret]({figures['regret'].name})", ""]
    lines += ["## Each benchmark", ""]
    for name in sa.names:
        a = sa.analyses[name]
        sc = a.score
        bench = a.config.get("benchmark") or {}
        head = f"| # | strategy | mean ± std ({sc.unit}) | regret ({sc.diff_unit}) |"
        where = f"`{bench.get('space', '?')}` / `{bench.get('dataset', '?')}`"
        lines += [f"### {name}", "", f"{where}; `{sc.metric}` ({sc.better}); [full report]({name}/report.md)", ""]
        lines += [head, "| ---: | :--- | ---: | ---: |"]
        for r in a.table:
            lines.append(f"| {r.place} | {r.label} | {sc.fmt(r.mean)} ± {sc.fmt(r.std)} | {sc.fmt(r.regret)} |")
        lines += [""]
    return "\n".join(lines).rstrip() + "\n"


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _summary(sa: SuiteAnalysis, alpha: float) -> dict[str, Any]:
    return _clean(
        {
            "benchmarks": sa.names,
            "strategies": sa.labels,
            "alpha": alpha,
            "mean_scores_oriented": sa.scores.tolist(),
            "average_ranks": [float(v) for v in sa.avg_ranks],
            "friedman": {"statistic": float(sa.friedman_statistic), "pvalue": float(sa.friedman_p)},
            "nemenyi_critical_difference": float(sa.critical_difference),
            "versus_random_search": {k: list(v) for k, v in sa.versus_baseline.items()},
        }
    )
