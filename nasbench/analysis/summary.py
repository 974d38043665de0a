"""Everything a comparison report states, computed from a results directory's config and runs (no I/O, no plots).

Seeds pair runs across strategies (same seed, same benchmark), so ranks and tests use the seeds every strategy
has finished; per-strategy curves and the final table use all of a strategy's runs.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasbench.analysis.curves import Curve, evaluation_grid, mean_se, run_matrix, time_grid
from nasbench.analysis.stats import (
    FriedmanResult,
    PairTest,
    cd_cliques,
    friedman,
    nemenyi_critical_difference,
    pairwise_wilcoxon,
    rank_rows,
)
from nasbench.runner.simulate import Trajectory

log = logging.getLogger(__name__)

ALPHA = 0.05


@dataclass(frozen=True)
class Row:
    """One strategy's line of the final table; scores in percent (as the NB201 paper reports them)."""

    place: int
    label: str
    runs: int
    mean_pct: float
    std_pct: float  # sample standard deviation over seeds (0 with one run)
    median_pct: float
    regret_pct: float  # mean of optimum - final incumbent score, percentage points (NaN: optimum unknown)
    evaluations: float  # mean number of results per run
    overhead_ms_per_eval: float  # real time spent in the strategy per evaluation
    wall_s: float  # mean real seconds per run
    avg_rank: float  # mean final rank over paired seeds (NaN when not ranked)


@dataclass
class Analysis:
    config: dict[str, Any]
    labels: list[str]  # strategies with runs, in config order
    missing: list[str]  # strategies of the config without any run yet
    table: list[Row]  # ranked by mean final score
    paired_seeds: list[int]
    optimum: float | None
    eval_curves: dict[str, Curve]
    time_curves: dict[str, Curve] | None  # None when simulated time is just the evaluation count
    rank_curves: dict[str, Curve]  # average rank over paired seeds vs evaluations (se over seeds)
    rank_checkpoints: list[int]  # evaluation counts shown in the rank table
    friedman: FriedmanResult | None
    critical_difference: float | None
    cliques: list[tuple[int, int]]  # positions in avg-rank order that Nemenyi cannot tell apart
    pairs: list[PairTest]
    notes: list[str] = field(default_factory=list)
    conclusion: str = ""

    @property
    def tested_labels(self) -> list[str]:
        """Strategies in the paired tests (and the column order of ``pairs`` indices)."""
        return self.labels if self.friedman is not None else []


def group_runs(config: dict[str, Any], runs: Sequence[Trajectory]) -> dict[str, dict[int, Trajectory]]:
    """Runs by strategy label (config order) then seed; a repeated (label, seed) keeps its first run."""
    grouped: dict[str, dict[int, Trajectory]] = {s["label"]: {} for s in config["strategies"]}
    for t in runs:
        by_seed = grouped.setdefault(t.strategy, {})
        if t.seed in by_seed:
            log.warning("run %s seed %d appears twice; keeping the first", t.strategy, t.seed)
            continue
        by_seed[t.seed] = t
    return grouped


def _final(t: Trajectory) -> float:
    return float(t.incumbent_score[-1]) if t.incumbent_score else math.nan


def analyze(config: dict[str, Any], runs: Sequence[Trajectory], alpha: float = ALPHA) -> Analysis:
    grouped = group_runs(config, runs)
    labels = [label for label, by_seed in grouped.items() if by_seed]
    missing = [label for label, by_seed in grouped.items() if not by_seed]
    notes: list[str] = []
    if missing:
        notes.append(f"no runs yet for: {', '.join(missing)}")
    opt = config.get("optimum")
    optimum = float(opt["score"]) if isinstance(opt, dict) and opt.get("score") is not None else None
    paired = sorted(set.intersection(*(set(grouped[label]) for label in labels))) if labels else []

    # Curves over evaluations (every run) and over simulated time.
    max_evals = max((len(t.incumbent_score) for by in grouped.values() for t in by.values()), default=1)
    egrid = evaluation_grid(max_evals)
    eval_curves = {
        label: mean_se(run_matrix(list(grouped[label].values()), egrid, "evaluations"), egrid) for label in labels
    }
    time_curves = None
    if config.get("time_unit") == "s" or int(config.get("workers", 1)) > 1:
        finished = [t.finished_s for by in grouped.values() for t in by.values() if t.finished_s]
        if finished:
            start = min(f[0] for f in finished if f[0] > 0) if any(f[0] > 0 for f in finished) else 1e-3
            budget_s = (config.get("budget") or {}).get("time_s")
            stop = float(budget_s) if budget_s else max(f[-1] for f in finished)
            tgrid = time_grid(start, stop)
            time_curves = {}
            for label in labels:
                curve = mean_se(run_matrix(list(grouped[label].values()), tgrid, "time"), tgrid)
                # A mean over only the runs that already have a result jumps as slower runs join; start the
                # curve once every run of the strategy has its first result.
                partial = curve.n < sum(1 for t in grouped[label].values() if t.finished_s)
                curve.mean[partial] = np.nan
                curve.se[partial] = np.nan
                time_curves[label] = curve

    # Ranks over evaluations on the paired seeds: one (seeds, grid) matrix per strategy -> ranks per seed.
    rank_curves: dict[str, Curve] = {}
    if len(labels) >= 2 and paired:
        stack = np.stack(
            [run_matrix([grouped[label][s] for s in paired], egrid, "evaluations") for label in labels], axis=-1
        )  # (seeds, grid, k)
        ranks = np.stack([rank_rows(stack[:, g, :]) for g in range(len(egrid))], axis=1)
        rank_curves = {label: mean_se(ranks[:, :, j], egrid) for j, label in enumerate(labels)}
    checkpoints = sorted({max(1, round(max_evals * f)) for f in (0.1, 0.25, 0.5, 1.0)})
    checkpoints = [c for c in checkpoints if c in set(egrid.astype(int))] or [int(egrid[-1])]

    # Final scores: significance over paired seeds.
    fr: FriedmanResult | None = None
    cd: float | None = None
    cliques: list[tuple[int, int]] = []
    pairs: list[PairTest] = []
    avg_rank = {label: math.nan for label in labels}
    if len(labels) < 2:
        notes.append("fewer than 2 strategies with runs: no ranks or significance tests")
    elif not paired:
        notes.append("no seed has finished for every strategy: no paired ranks or significance tests")
    else:
        finals = np.array([[_final(grouped[label][s]) for label in labels] for s in paired])
        fr = friedman(finals)
        cd = nemenyi_critical_difference(len(labels), len(paired), alpha)
        cliques = cd_cliques(fr.avg_ranks, cd)
        pairs = pairwise_wilcoxon(finals)
        avg_rank = {label: float(fr.avg_ranks[j]) for j, label in enumerate(labels)}
        unpaired = sum(len(grouped[label]) for label in labels) - len(paired) * len(labels)
        if unpaired:
            notes.append(f"{unpaired} runs whose seed is not finished for every strategy are left out of the tests")

    rows = []
    for label in labels:
        by = list(grouped[label].values())
        finals_l = np.array([_final(t) for t in by]) * 100.0
        ok = finals_l[~np.isnan(finals_l)]
        evals = np.array([len(t.incumbent_score) for t in by], dtype=float)
        rows.append(
            Row(
                place=0,
                label=label,
                runs=len(by),
                mean_pct=float(ok.mean()) if len(ok) else math.nan,
                std_pct=float(ok.std(ddof=1)) if len(ok) > 1 else 0.0,
                median_pct=float(np.median(ok)) if len(ok) else math.nan,
                regret_pct=float(optimum * 100.0 - ok.mean()) if optimum is not None and len(ok) else math.nan,
                evaluations=float(evals.mean()),
                overhead_ms_per_eval=1000.0 * sum(t.overhead_s for t in by) / max(float(evals.sum()), 1.0),
                wall_s=float(np.mean([t.wall_s for t in by])),
                avg_rank=avg_rank[label],
            )
        )
        if len(ok) < len(by):
            notes.append(f"{label}: {len(by) - len(ok)} runs ended without any result (budget too small)")
    rows.sort(key=lambda r: (-r.mean_pct if not math.isnan(r.mean_pct) else math.inf, r.label))
    rows = [dataclasses.replace(r, place=i + 1) for i, r in enumerate(rows)]

    analysis = Analysis(
        config=config,
        labels=labels,
        missing=missing,
        table=rows,
        paired_seeds=paired,
        optimum=optimum,
        eval_curves=eval_curves,
        time_curves=time_curves,
        rank_curves=rank_curves,
        rank_checkpoints=checkpoints,
        friedman=fr,
        critical_difference=cd,
        cliques=cliques,
        pairs=pairs,
        notes=notes,
    )
    analysis.conclusion = conclude(analysis, alpha)
    return analysis


def pair_between(analysis: Analysis, a: str, b: str) -> PairTest | None:
    """The Wilcoxon test of a against b (mean_diff, wins and losses oriented as a - b)."""
    idx = {label: i for i, label in enumerate(analysis.tested_labels)}
    if a not in idx or b not in idx:
        return None
    i, j = idx[a], idx[b]
    for p in analysis.pairs:
        if (p.a, p.b) == (i, j):
            return p
        if (p.a, p.b) == (j, i):
            return PairTest(j, i, p.n, -p.mean_diff, p.losses, p.ties, p.wins, p.statistic, p.pvalue, p.p_holm)
    return None


def _lead(analysis: Analysis, best: str, other: str, alpha: float) -> str:
    test = pair_between(analysis, best, other)
    if test is None:
        return f"its lead over {other} was not tested"
    verdict = "significant" if test.p_holm < alpha else "not significant"
    return f"its lead over {other} is {verdict} (Holm-adjusted Wilcoxon p={format_p(test.p_holm)}, n={test.n} seeds)"


def conclude(analysis: Analysis, alpha: float = ALPHA) -> str:
    """One plain-English sentence: who is best and whether that is significant."""
    table = analysis.table
    if not table:
        return "No runs to compare."
    best = table[0]
    head = f"{best.label} is best ({best.mean_pct:.2f} ± {best.std_pct:.2f} % over {best.runs} seeds)"
    if len(table) == 1:
        return f"{head}; it is the only strategy with runs, so nothing is compared."
    if analysis.friedman is None:
        return f"{head}; no seeds are paired across strategies, so nothing is tested."
    parts = [_lead(analysis, best.label, table[1].label, alpha)]
    baseline = "random_search"
    if baseline in analysis.labels and baseline not in (best.label, table[1].label):
        parts.append(_lead(analysis, best.label, baseline, alpha))
    return f"{head}; {'; '.join(parts)}."


def format_p(p: float) -> str:
    if math.isnan(p):
        return "n/a"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"
