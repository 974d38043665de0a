"""Everything a comparison report states, computed from a results directory's config and runs (no I/O, no plots).

Seeds pair runs across strategies (same seed, same benchmark), so ranks and tests use the seeds every strategy
has finished; per-strategy curves and the final table use all of a strategy's runs. Everything is oriented by the
score metric's direction (``config["directions"]``, "max" when absent: results written before directions existed
scored accuracy): best first, rank 1 = best, regret >= 0. Accuracies (``*_acc``, fractions) are shown in percent,
every other metric in its own units.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasbench.analysis.curves import Curve, evaluation_grid, mean_se, run_matrix, time_grid
from nasbench.analysis.fronts import Fronts, summarise_fronts
from nasbench.analysis.stats import (
    DIRECTIONS,
    Direction,
    FriedmanResult,
    PairTest,
    cd_cliques,
    friedman,
    nemenyi_critical_difference,
    pairwise_wilcoxon,
    rank_rows,
)
from nasbench.runner.experiment import ResultsError
from nasbench.runner.objectives import HYPERVOLUME
from nasbench.runner.simulate import Trajectory

log = logging.getLogger(__name__)

ALPHA = 0.05


@dataclass(frozen=True)
class ScoreScale:
    """How the score metric reads: which way is better, and the units it is shown in. ``display = scale * raw``:
    accuracies (fractions) in percent with differences in percentage points, as the NB201 paper reports them;
    any other metric as it is, its name standing for its unit."""

    metric: str
    direction: Direction
    scale: float  # display units per raw unit
    unit: str  # "%" or the metric's name
    diff_unit: str  # unit of a difference of two scores (regret, leads): "pp" or the metric's name
    digits: int  # decimals that show the scores' precision

    @property
    def sign(self) -> float:
        """+1 when higher is better, -1 when lower is: ``sign * score`` is higher-is-better."""
        return 1.0 if self.direction == "max" else -1.0

    @property
    def better(self) -> str:
        return "higher is better" if self.direction == "max" else "lower is better"

    @property
    def percent(self) -> bool:
        return self.unit == "%"

    def fmt(self, value: float, extra_digits: int = 0) -> str:
        """A score (or difference) already in display units, at the scores' precision."""
        return "n/a" if value is None or math.isnan(value) else f"{value:.{self.digits + extra_digits}f}"

    @classmethod
    def of(cls, config: dict[str, Any], raw_values: Sequence[float] = ()) -> ScoreScale:
        """The score metric of a comparison config; ``raw_values`` (final scores, the optimum) set the decimals
        of a metric shown in its own units."""
        if (config.get("objectives") or {}).get("objectives"):  # several objectives: the score is a hypervolume
            return cls(HYPERVOLUME, "max", 1.0, HYPERVOLUME, HYPERVOLUME, 4)
        metric = str((config.get("protocol") or {}).get("score_metric") or "test_acc")
        direction = direction_of(config, metric)
        if metric.endswith("_acc"):
            return cls(metric, direction, 100.0, "%", "pp", 2)
        return cls(metric, direction, 1.0, metric, metric, _decimals(raw_values))


def direction_of(config: dict[str, Any], metric: str) -> Direction:
    """The config's direction for ``metric``; "max" for results written before configs recorded directions."""
    direction = (config.get("directions") or {}).get(metric, "max")
    if direction not in DIRECTIONS:
        raise ResultsError(
            f"experiment.json gives metric {metric!r} the direction {direction!r}; allowed: 'max' or 'min'"
        )
    return direction


def _decimals(values: Sequence[float], significant: int = 4) -> int:
    """Fixed decimals that show ``significant`` digits of the largest finite value (2 when there is none)."""
    finite = [abs(float(v)) for v in values if v is not None and math.isfinite(v) and v != 0]
    if not finite:
        return 2
    return int(min(10, max(0, significant - 1 - math.floor(math.log10(max(finite))))))


@dataclass(frozen=True)
class Row:
    """One strategy's line of the final table; scores in display units (``Analysis.score``)."""

    place: int
    label: str
    runs: int
    mean: float
    std: float  # sample standard deviation over seeds (0 with one run)
    median: float
    regret: float  # mean distance of the final incumbent score to the optimum, >= 0 (NaN: optimum unknown)
    evaluations: float  # mean number of results per run
    overhead_ms_per_eval: float  # real time spent in the strategy per evaluation
    wall_s: float  # mean real seconds per run
    avg_rank: float  # mean final rank over paired seeds (NaN when not ranked)


@dataclass
class Analysis:
    config: dict[str, Any]
    score: ScoreScale  # the score metric, its direction and display units
    labels: list[str]  # strategies with runs, in config order
    missing: list[str]  # strategies of the config without any run yet
    table: list[Row]  # ranked by mean final score, best first
    paired_seeds: list[int]
    optimum: float | None  # the benchmark's best score, raw (the metric's own units, as the curves)
    eval_curves: dict[str, Curve]  # raw incumbent scores
    time_curves: dict[str, Curve] | None  # None when simulated time is just the evaluation count
    rank_curves: dict[str, Curve]  # average rank over paired seeds vs evaluations (se over seeds)
    rank_checkpoints: list[int]  # evaluation counts shown in the rank table
    friedman: FriedmanResult | None
    critical_difference: float | None
    cliques: list[tuple[int, int]]  # positions in avg-rank order that Nemenyi cannot tell apart
    pairs: list[PairTest]
    notes: list[str] = field(default_factory=list)
    conclusion: str = ""
    fronts: Fronts | None = None  # comparisons with objectives or constraints

    @property
    def unit(self) -> str:
        """Unit of the table's scores: "%" for an accuracy, else the metric's name."""
        return self.score.unit

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
    notes: list[str] = []
    if runs and not any(t.incumbent_score for t in runs):  # some empty runs are fine (they rank last); all are not
        from nasbench.runner.experiment import ResultsError

        counts = ", ".join(f"{label}: {n}" for label, n in Counter(t.strategy for t in runs).items())
        raise ResultsError(
            f"no run finished an evaluation ({counts}): the budget {config.get('budget')} ends before the first "
            "result arrives; give a larger budget"
        )
    grouped = group_runs(config, runs)
    labels = [label for label, by_seed in grouped.items() if by_seed]
    missing = [label for label, by_seed in grouped.items() if not by_seed]
    if missing:
        notes.append(f"no runs yet for: {', '.join(missing)}")
    opt = config.get("optimum")
    optimum = float(opt["score"]) if isinstance(opt, dict) and opt.get("score") is not None else None
    finals_by_label = {label: np.array([_final(t) for t in grouped[label].values()]) for label in labels}
    score = ScoreScale.of(
        config, [*(v for f in finals_by_label.values() for v in f), *([optimum] if optimum is not None else [])]
    )
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
        ranks = np.stack([rank_rows(stack[:, g, :], score.direction) for g in range(len(egrid))], axis=1)
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
        fr = friedman(finals, score.direction)
        cd = nemenyi_critical_difference(len(labels), len(paired), alpha)
        cliques = cd_cliques(fr.avg_ranks, cd)
        pairs = pairwise_wilcoxon(finals, score.direction)
        avg_rank = {label: float(fr.avg_ranks[j]) for j, label in enumerate(labels)}
        unpaired = sum(len(grouped[label]) for label in labels) - len(paired) * len(labels)
        if unpaired:
            notes.append(f"{unpaired} runs whose seed is not finished for every strategy are left out of the tests")

    rows = []
    for label in labels:
        by = list(grouped[label].values())
        shown = finals_by_label[label] * score.scale
        ok = shown[~np.isnan(shown)]
        evals = np.array([len(t.incumbent_score) for t in by], dtype=float)
        mean = float(ok.mean()) if len(ok) else math.nan
        rows.append(
            Row(
                place=0,
                label=label,
                runs=len(by),
                mean=mean,
                std=float(ok.std(ddof=1)) if len(ok) > 1 else 0.0,
                median=float(np.median(ok)) if len(ok) else math.nan,
                regret=score.sign * (optimum * score.scale - mean) if optimum is not None else math.nan,
                evaluations=float(evals.mean()),
                overhead_ms_per_eval=1000.0 * sum(t.overhead_s for t in by) / max(float(evals.sum()), 1.0),
                wall_s=float(np.mean([t.wall_s for t in by])),
                avg_rank=avg_rank[label],
            )
        )
        if len(ok) < len(by):
            notes.append(f"{label}: {len(by) - len(ok)} runs ended without any result (budget too small)")
    rows.sort(key=lambda r: (-score.sign * r.mean if not math.isnan(r.mean) else math.inf, r.label))
    rows = [dataclasses.replace(r, place=i + 1) for i, r in enumerate(rows)]

    analysis = Analysis(
        config=config,
        score=score,
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
        fronts=summarise_fronts(config, grouped),
    )
    analysis.conclusion = conclude(analysis, alpha)
    return analysis


def pair_between(analysis: Analysis, a: str, b: str) -> PairTest | None:
    """The Wilcoxon test of a against b (mean_lead, wins and losses: positive / wins when a is better)."""
    idx = {label: i for i, label in enumerate(analysis.tested_labels)}
    if a not in idx or b not in idx:
        return None
    i, j = idx[a], idx[b]
    for p in analysis.pairs:
        if (p.a, p.b) == (i, j):
            return p
        if (p.a, p.b) == (j, i):
            return PairTest(j, i, p.n, -p.mean_lead, p.losses, p.ties, p.wins, p.statistic, p.pvalue, p.p_holm)
    return None


def _lead(analysis: Analysis, best: str, other: str, alpha: float) -> str:
    test = pair_between(analysis, best, other)
    if test is None:
        return f"its lead over {other} was not tested"
    verdict = "significant" if test.p_holm < alpha else "not significant"
    return f"its lead over {other} is {verdict} (Holm-adjusted Wilcoxon p={format_p(test.p_holm)}, n={test.n} seeds)"


#: Fewer paired seeds than this and the conclusion warns that its tests say little.
SMALL_N = 10


def conclude(analysis: Analysis, alpha: float = ALPHA) -> str:
    """One plain-English sentence: who is best and whether that is significant."""
    table = analysis.table
    if not table:
        return "No runs to compare."
    best = table[0]
    sc = analysis.score
    head = f"{best.label} is best ({sc.fmt(best.mean)} ± {sc.fmt(best.std)} {sc.unit} over {best.runs} seeds)"
    if len(table) == 1:
        return f"{head}; it is the only strategy with runs, so nothing is compared."
    if analysis.friedman is None:
        return f"{head}; no seeds are paired across strategies, so nothing is tested."
    parts = [_lead(analysis, best.label, table[1].label, alpha)]
    baseline = "random_search"
    if baseline in analysis.labels and baseline not in (best.label, table[1].label):
        parts.append(_lead(analysis, best.label, baseline, alpha))
    n = analysis.friedman.n
    warning = (
        f" Caution: with {n} paired seeds these tests say little (a two-sided Wilcoxon test cannot reach p < 0.05 "
        f"below 6 seeds, and Friedman's chi-square approximation wants about 10 or more); run more seeds."
        if n < SMALL_N
        else ""
    )
    return f"{head}; {'; '.join(parts)}.{warning}"


def format_p(p: float) -> str:
    if math.isnan(p):
        return "n/a"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"
